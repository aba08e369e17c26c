use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Options, PASSWORD};

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
