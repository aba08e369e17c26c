use serde_json::json;
use sha2::Digest;
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_app_with, Options, CRRC, PASSWORD};

#[tokio::test]
async fn an_admin_logs_in_with_a_password_and_reads_me() {
    let app = spawn_app().await;
    app.seed_demo();
    let session = app.login("demo.admin", PASSWORD).await;
    assert_eq!(session["bind_required"], false);
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 7200);
    let token = session["access_token"].as_str().expect("token");
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["username"], "demo.admin");
    assert_eq!(me.body["region"]["name"], "株洲市");
    assert_eq!(me.body["has_password"], true);
}

#[tokio::test]
async fn an_officer_sees_today_s_enterprises_in_me() {
    let app = spawn_app().await;
    app.seed_demo();
    let token = app.token("officer.zhang").await;
    let me = app.get("/api/v1/me", Some(&token)).await;
    let names: Vec<&str> = me.body["assigned_enterprises"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names.contains(&"中车株洲电力机车有限公司"));
    assert_eq!(me.body["unit"]["code"], "ZZ-CZJ");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let app = spawn_app().await;
    app.seed_demo();
    let wrong = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "demo.admin", "password": "nope-nope"}),
        )
        .await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "ghost", "password": "nope-nope"}),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "auth.invalid_credentials"));
    assert_eq!(
        (unknown.status, unknown.code()),
        (401, "auth.invalid_credentials")
    );
}

async fn ten_failures_then_locked(app: &crate::helpers::TestApp) {
    for _ in 0..10 {
        let reply = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": "demo.admin", "password": "wrong-guess"}),
            )
            .await;
        assert_eq!(reply.status, 401);
    }
    // Even the right password is refused while the lock lasts.
    let locked = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "demo.admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(locked.status, 429, "{}", locked.text);
    assert_eq!(locked.code(), "auth.too_many_attempts");
    let retry_after: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    assert!(retry_after > 0 && retry_after <= 900);
    // Another username from the same address is not affected.
    app.login("hub.dispatcher", PASSWORD).await;
}

#[tokio::test]
async fn ten_failures_in_fifteen_minutes_lock_the_username_from_that_address() {
    let app = spawn_app().await;
    app.seed_demo();
    ten_failures_then_locked(&app).await;
}

#[tokio::test]
async fn the_lock_still_works_and_logins_still_work_without_redis() {
    let app = spawn_app_with(Options {
        redis_url: "redis://127.0.0.1:1/0".to_owned(),
        ..Options::default()
    })
    .await;
    app.seed_demo();
    app.login("demo.admin", PASSWORD).await;
    ten_failures_then_locked(&app).await;
}

#[tokio::test]
async fn changing_the_password_needs_the_old_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    app.seed_demo();
    let first = app.login("hub.dispatcher", PASSWORD).await;
    let token = first["access_token"].as_str().expect("token");
    let refused = app
        .put(
            "/api/v1/me/password",
            Some(token),
            json!({"old_password": "wrong-one", "new_password": "新的密码-2026"}),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (403, "password.old_mismatch"));
    let weak = app
        .put(
            "/api/v1/me/password",
            Some(token),
            json!({"old_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!((weak.status, weak.code()), (422, "password.too_weak"));

    let changed = app
        .put(
            "/api/v1/me/password",
            Some(token),
            json!({"old_password": PASSWORD, "new_password": "新的密码-2026"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert!(changed.body["refresh_token"].is_string());
    let old_refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(old_refresh.status, 401);
    app.login("hub.dispatcher", "新的密码-2026").await;
    let old_password = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "hub.dispatcher", "password": PASSWORD}),
        )
        .await;
    assert_eq!(old_password.status, 401);
}

#[tokio::test]
async fn an_admin_sets_a_password_for_a_user_of_the_region() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let user = app
        .get("/api/v1/admin/users?username=rsj.clerk", Some(&admin))
        .await;
    let id = user.body["items"][0]["id"].as_str().expect("id").to_owned();
    let reply = app
        .put(
            &format!("/api/v1/admin/users/{id}/password"),
            Some(&admin),
            json!({"new_password": "人社局新密码2026"}),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    app.login("rsj.clerk", "人社局新密码2026").await;
}

#[tokio::test]
async fn a_flood_of_logins_under_random_usernames_is_cut_off_while_sign_ins_go_on() {
    let app = spawn_app().await;
    app.seed_demo();
    // Every demo officer at each of their enterprises: twelve first sign-ins of the day.
    let mut visits = Vec::new();
    for officer in ["officer.zhang", "officer.li", "officer.wang", "officer.liu"] {
        let token = app.token(officer).await;
        let mine = app.get("/api/v1/me/enterprises", Some(&token)).await;
        for enterprise in mine.body["items"].as_array().expect("items") {
            visits.push((token.clone(), enterprise["id"].as_str().expect("id").to_owned()));
        }
    }
    assert_eq!(visits.len(), 12);

    let storm = futures_util::future::join_all((0..64).map(|i| {
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"username": format!("guess-{i}-{}", Uuid::new_v4()), "password": "123456"}),
        )
    }));
    let sign_ins = futures_util::future::join_all(visits.iter().map(|(token, enterprise)| {
        // A remark makes it a field sign-in (外勤), accepted wherever the phone is.
        app.post(
            "/api/v1/sign-ins",
            Some(token),
            json!({"enterprise_id": enterprise, "lat": CRRC.0, "lng": CRRC.1, "remark": "外出走访"}),
        )
    }));
    let (storm, sign_ins) = tokio::join!(storm, sign_ins);

    let statuses: Vec<u16> = sign_ins.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![201; 12],
        "{:?}",
        sign_ins.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let checked = storm.iter().filter(|r| r.status == 401).count();
    let refused = storm.iter().filter(|r| r.status == 429).count();
    assert_eq!(
        (checked, refused),
        (50, 14),
        "one address gets 50 failed logins per window, whatever the usernames"
    );
    assert!(storm
        .iter()
        .filter(|r| r.status == 429)
        .all(|r| r.code() == "auth.too_many_attempts" && r.headers.contains_key("retry-after")));
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let app = spawn_app_with(Options {
        env: vec![("TRUSTED_PROXIES", "127.0.0.1".to_owned())],
        ..Options::default()
    })
    .await;
    app.seed_demo();
    let login_from = |client: &'static str, password: &'static str| {
        app.send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", client)
                .json(&json!({"username": "demo.admin", "password": password})),
        )
    };
    for _ in 0..10 {
        assert_eq!(login_from("198.51.100.7", "wrong-guess").await.status, 401);
    }
    assert_eq!(login_from("198.51.100.7", PASSWORD).await.status, 429);
    let elsewhere = login_from("203.0.113.20", PASSWORD).await;
    assert_eq!(
        elsewhere.status, 200,
        "the admin at another address is not locked out: {}",
        elsewhere.text
    );
}

#[tokio::test]
async fn a_password_change_is_not_replayed_because_its_answer_holds_tokens() {
    let app = spawn_app().await;
    app.seed_demo();
    let token = app.token("hub.dispatcher").await;
    let body = json!({"old_password": PASSWORD, "new_password": "新的密码-2026"});
    let first = app
        .keyed(
            reqwest::Method::PUT,
            "/api/v1/me/password",
            &token,
            "change-1",
            &body,
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    // The old token ended with the change; the resend comes with the new one.
    let token = first.body["access_token"].as_str().expect("token");
    let again = app
        .keyed(
            reqwest::Method::PUT,
            "/api/v1/me/password",
            token,
            "change-1",
            &body,
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "idempotency.not_replayable"));
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM idempotency_records WHERE key = 'change-1' AND response_body IS NULL"
        ),
        1,
        "the record says the key was used and keeps no tokens"
    );
    // The fingerprint of a body holding passwords is keyed: not the plain SHA-256 anyone could
    // check guesses against.
    let stored = app.text("SELECT request_hash AS t FROM idempotency_records WHERE key = 'change-1'");
    let plain = hex::encode(sha2::Sha256::digest(
        format!("PUT /api/v1/me/password\n{body}").as_bytes(),
    ));
    assert_eq!(stored.len(), 64);
    assert_ne!(stored, plain);
}
