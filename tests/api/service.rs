use crate::helpers::{spawn_app, spawn_app_with, Options};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let reply = app.get("/healthz", None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_postgres_and_redis() {
    let app = spawn_app().await;
    // Redis connects in the background; give it a moment before asking.
    let mut reply = app.get("/readyz", None).await;
    for _ in 0..20 {
        if reply.body["redis"] == "up" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        reply = app.get("/readyz", None).await;
    }
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["postgres"], "up");
    assert_eq!(reply.body["redis"], "up");
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_show_the_pool() {
    let app = spawn_app().await;
    app.get("/healthz", None).await;
    let reply = app.get("/metrics", None).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .text
            .contains(r#"zhuqi_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("zhuqi_http_request_duration_seconds_bucket"));
    assert!(reply.text.contains("zhuqi_db_pool_max_size 4"));
    assert!(
        reply.text.contains("zhuqi_sign_in_batch_size_count 0"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn metrics_are_for_allowed_networks_or_the_token_even_behind_a_proxy() {
    let token = "metrics-token-0123456789";
    let app = spawn_app_with(Options {
        env: vec![
            ("TRUSTED_PROXIES", "127.0.0.1".to_owned()),
            ("METRICS_ALLOW", "10.0.0.0/8".to_owned()),
            ("METRICS_TOKEN", token.to_owned()),
        ],
        ..Options::default()
    })
    .await;
    let from = |client: &str| {
        app.client
            .get(app.url("/metrics"))
            .header("x-forwarded-for", client.to_owned())
    };
    // Through the proxy every connection is from 127.0.0.1; the client is who counts.
    let public = app.send(from("198.51.100.7")).await;
    assert_eq!((public.status, public.code()), (404, "route.not_found"));
    let wrong = app
        .send(from("198.51.100.7").bearer_auth("metrics-token-wrong-0000"))
        .await;
    assert_eq!(wrong.status, 404);
    assert_eq!(app.send(from("10.1.2.3")).await.status, 200);
    assert_eq!(
        app.send(from("198.51.100.7").bearer_auth(token)).await.status,
        200
    );
}

#[tokio::test]
async fn the_spec_is_served_as_yaml() {
    let app = spawn_app().await;
    let reply = app.get("/api-spec/openapi.yaml", None).await;
    assert_eq!(reply.status, 200);
    assert!(reply.text.lines().any(|l| l.starts_with("openapi: 3.1")));
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap_or("")
        .contains("yaml"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_plain_incoming_one_is_kept() {
    let app = spawn_app().await;
    let generated = app.get("/healthz", None).await;
    assert_eq!(generated.headers["x-request-id"].len(), 36);
    let kept = app
        .send(
            app.client
                .get(app.url("/nowhere"))
                .header("x-request-id", "trace-42"),
        )
        .await;
    assert_eq!(kept.headers["x-request-id"], "trace-42");
    let replaced = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "bad id with spaces"),
        )
        .await;
    assert_ne!(replaced.headers["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn unknown_methods_are_counted_as_other_not_as_new_labels() {
    let app = spawn_app().await;
    let brew = reqwest::Method::from_bytes(b"BREW").expect("method");
    let reply = app.send(app.client.request(brew, app.url("/healthz"))).await;
    assert_eq!(reply.status, 405);
    let metrics = app.get("/metrics", None).await;
    assert!(!metrics.text.contains("BREW"), "{}", metrics.text);
    assert!(metrics.text.contains(r#"method="OTHER""#), "{}", metrics.text);
}

/// The service's connections never JIT-compile: at a province's size the dashboards' queries
/// pass PostgreSQL's cost threshold, and the compiling cost more than it saved
/// (docs/scaling.md).
#[tokio::test]
async fn the_service_s_connections_run_without_jit() {
    use diesel::RunQueryDsl;
    let app = crate::helpers::spawn_app().await;
    for pool in [&app.pool, &app.bulk_pool] {
        let mut conn = pool.get().expect("conn");
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            jit: String,
        }
        let Setting { jit } = diesel::sql_query("SELECT current_setting('jit') AS jit")
            .get_result::<Setting>(&mut *conn)
            .expect("setting");
        assert_eq!(jit, "off");
    }
}
