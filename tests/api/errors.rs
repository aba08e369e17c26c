use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::json;

use crate::helpers::{database_url, spawn_app, spawn_app_with, Options};

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.code(), "route.not_found");
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let app = spawn_app().await;
    let reply = app.send(app.client.delete(app.url("/api/v1/auth/login"))).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.code(), "request.method_not_allowed");
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body("{\"username\": "),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), "request.malformed_json");
}

/// JSON can carry U+0000, PostgreSQL text cannot: a clear 422, and nothing written.
#[tokio::test]
async fn a_nul_character_in_text_is_a_422_and_nothing_is_written() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let written =
        || app.count("SELECT (SELECT count(*) FROM problems) + (SELECT count(*) FROM sign_ins) AS n");
    let before = written();
    let problem = app
        .post(
            "/api/v1/problems",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "description": "园区\u{0}道路"}),
        )
        .await;
    assert_eq!(
        (problem.status, problem.code()),
        (422, "validation.failed"),
        "{}",
        problem.text
    );
    let sign_in = app
        .post(
            "/api/v1/sign-ins",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "lat": crate::helpers::CRRC.0, "lng": crate::helpers::CRRC.1,
                   "remark": "车间\u{0}"}),
        )
        .await;
    assert_eq!(
        (sign_in.status, sign_in.code()),
        (422, "validation.failed"),
        "{}",
        sign_in.text
    );
    let device = app
        .post(
            "/api/v1/sign-ins",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "lat": crate::helpers::CRRC.0, "lng": crate::helpers::CRRC.1,
                   "device_id": "iPhone\u{0}"}),
        )
        .await;
    assert_eq!((device.status, device.code()), (422, "validation.failed"));
    assert_eq!(written(), before);
    // Refused before the queue: no batch of the sign-in writer ever held them.
    let metrics = app.get("/metrics", None).await;
    assert!(
        metrics.text.contains("zhuqi_sign_in_batch_size_count 0"),
        "{}",
        metrics.text
    );
}

#[tokio::test]
async fn a_wrong_type_or_a_missing_field_is_a_400_invalid_body() {
    let app = spawn_app().await;
    let wrong_type = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": 5, "password": "x"}),
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.code(), "request.invalid_body");
    let missing = app
        .post("/api/v1/auth/login", None, json!({"username": "a"}))
        .await;
    assert_eq!(missing.code(), "request.invalid_body");
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "a", "password": "b", "x": 1}),
        )
        .await;
    assert_eq!(unknown.code(), "request.invalid_body");
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(100 * 1024);
    let reply = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": huge, "password": "p"}),
        )
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.code(), "request.too_large");
}

#[tokio::test]
async fn a_non_json_body_is_a_415() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "text/plain")
                .body("hi"),
        )
        .await;
    assert_eq!(reply.status, 415);
    assert_eq!(reply.code(), "request.unsupported_media_type");
}

#[tokio::test]
async fn with_postgres_down_readiness_fails_and_requests_get_503_not_a_hang() {
    let app = spawn_app_with(Options {
        database_url: Some("postgres://zhuqi@127.0.0.1:1/nowhere".to_owned()),
        ..Options::default()
    })
    .await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.body["postgres"], "down");
    assert_eq!(
        app.get("/healthz", None).await.status,
        200,
        "the process itself is alive"
    );
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "a", "password": "b"}),
        )
        .await;
    assert_eq!((login.status, login.code()), (503, "database.unavailable"));
    assert_eq!(login.headers["retry-after"], "2", "a 503 says when to try again");
    // A sign-in goes through the sign-in writer, which answers the same way.
    let keys = zhuqi::auth::jwt::JwtKeys::new(&zhuqi::config::Secret::new(
        "test-secret-test-secret-test-secret!".to_owned(),
    ));
    let officer = keys.issue_access(
        &app.clock,
        zhuqi::auth::jwt::AccessClaims::for_subject(
            uuid::Uuid::new_v4(),
            vec![zhuqi::domain::role::Role::Officer],
            "430200".into(),
            None,
            None,
        ),
    );
    let sign_in = app
        .post(
            "/api/v1/sign-ins",
            Some(&officer),
            json!({"enterprise_id": uuid::Uuid::new_v4(), "lat": 27.8885, "lng": 113.1655}),
        )
        .await;
    assert_eq!(
        (sign_in.status, sign_in.code()),
        (503, "database.unavailable"),
        "{}",
        sign_in.text
    );
    assert_eq!(sign_in.headers["retry-after"], "2");
}

#[tokio::test]
async fn connections_killed_under_the_server_are_replaced_and_meanwhile_answered_503() {
    let app = spawn_app().await;
    app.seed_demo();
    let token = app.token("hub.dispatcher").await;
    // Every pooled connection in use once, so the pool holds several live ones.
    let warm = futures_util::future::join_all((0..8).map(|_| app.get("/api/v1/me", Some(&token)))).await;
    assert!(warm.iter().all(|r| r.status == 200));

    // What a PostgreSQL restart does to the pool: every backend goes away.
    let mut killer = PgConnection::establish(&database_url("postgres")).expect("server");
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
        app.db_name
    ))
    .execute(&mut killer)
    .expect("terminate");

    let mut answers = Vec::new();
    for _ in 0..16 {
        answers.push(app.get("/api/v1/me", Some(&token)).await);
    }
    for reply in &answers {
        assert!(
            reply.status == 200 || (reply.status == 503 && reply.code() == "database.unavailable"),
            "{} {}",
            reply.status,
            reply.text
        );
        if reply.status == 503 {
            assert_eq!(reply.headers["retry-after"], "2");
        }
    }
    assert!(
        answers[8..].iter().all(|r| r.status == 200),
        "dead connections are dropped, not handed out again: {:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn empty_filters_and_days_outside_2020_to_2099_are_refused_at_the_edge() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    for path in [
        "/api/v1/stats/overview?region_code=",
        "/api/v1/admin/regions?parent_code=",
        "/api/v1/admin/users?username=",
        "/api/v1/problems?region_code=",
        "/api/v1/stats/overview?day=%2B262142-12-31",
        "/api/v1/stats/problems?from=1900-01-01&to=1900-01-31",
        "/api/v1/sign-ins?day=2100-01-01",
        "/api/v1/reports/monthly?month=1900-01",
        "/api/v1/admin/enterprises?region_code=abc",
        "/api/v1/admin/enterprises?credit_code=91430200MA4L",
        "/api/v1/admin/users?username=%E5%BC%A0%20%E4%B8%89",
        "/api/v1/admin/units?region_code=043020",
        "/api/v1/stats/overview?region_code=4302%00",
        "/api/v1/problems?category=%00",
    ] {
        let reply = app.get(path, Some(&admin)).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "request.invalid_query"),
            "{path}: {}",
            reply.text
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM monthly_freezes"),
        0,
        "nothing frozen on the way"
    );
    let officer = app.token("officer.zhang").await;
    let enterprise = app.crrc().await;
    let absurd = app
        .get(
            &format!("/api/v1/daily-reports/{enterprise}/+262142-12-31"),
            Some(&officer),
        )
        .await;
    assert_eq!(absurd.status, 404, "{}", absurd.text);
    let nul_path = app.get("/api/v1/admin/regions/4302%00", Some(&admin)).await;
    assert_eq!(nul_path.status, 404, "{}", nul_path.text);
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

#[tokio::test]
async fn an_oversized_optional_body_is_the_same_json_413_as_any_other() {
    let app = spawn_app().await;
    app.seed_demo();
    let clerk = app.token("gdgs.clerk").await;
    let id = uuid::Uuid::new_v4();
    let big = json!({"note": "很".repeat(30_000)});
    let reply = app
        .post(&format!("/api/v1/problems/{id}/accept"), Some(&clerk), big)
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (413, "request.too_large"),
        "{}",
        reply.text
    );
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("application/json"));
}
