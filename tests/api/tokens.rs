use chrono::Duration;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Options, TestApp, PASSWORD};
use zhuqi::auth::jwt::{AccessClaims, JwtKeys};
use zhuqi::config::Secret;
use zhuqi::domain::role::Role;

#[tokio::test]
async fn a_request_without_a_token_is_401() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/me", None).await;
    assert_eq!((reply.status, reply.code()), (401, "auth.token_missing"));
    assert_eq!(reply.headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn an_alg_none_token_is_401() {
    let app = spawn_app().await;
    app.seed_demo();
    let token = app.token("demo.admin").await;
    let payload = token.split('.').nth(1).expect("payload");
    let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let reply = app.get("/api/v1/me", Some(&forged)).await;
    assert_eq!((reply.status, reply.code()), (401, "auth.token_invalid"));
}

#[tokio::test]
async fn a_token_signed_with_a_foreign_key_is_401() {
    let app = spawn_app().await;
    app.seed_demo();
    let session = app.login("demo.admin", PASSWORD).await;
    let foreign = JwtKeys::new(&Secret::new("someone-else's-secret-of-32-bytes!!".to_owned()));
    let forged = foreign.issue_access(
        &app.clock,
        AccessClaims::for_subject(
            session["user"]["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("id"),
            vec![Role::Admin],
            "430200".into(),
            None,
            None,
        ),
    );
    let reply = app.get("/api/v1/me", Some(&forged)).await;
    assert_eq!((reply.status, reply.code()), (401, "auth.token_invalid"));
}

#[tokio::test]
async fn an_access_token_expires_after_two_hours() {
    let app = spawn_app().await;
    app.seed_demo();
    let token = app.token("demo.admin").await;
    app.clock.advance(Duration::minutes(119));
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    app.clock.advance(Duration::minutes(1));
    let reply = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!((reply.status, reply.code()), (401, "auth.token_expired"));
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_dies() {
    let app = spawn_app().await;
    app.seed_demo();
    let first = app.login("demo.admin", PASSWORD).await;
    let rotated = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    assert_ne!(rotated.body["refresh_token"], first["refresh_token"]);
    let access = rotated.body["access_token"].as_str().expect("token");
    assert_eq!(app.get("/api/v1/me", Some(access)).await.status, 200);
    // The new pair keeps working.
    let again = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": rotated.body["refresh_token"]}),
        )
        .await;
    assert_eq!(again.status, 200);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    app.seed_demo();
    let first = app.login("demo.admin", PASSWORD).await;
    let second = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    // Past the grace a racing duplicate gets: a copy held by someone else.
    app.clock.advance(Duration::seconds(31));
    let reuse = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!((reuse.status, reuse.code()), (401, "auth.refresh_reused"));
    // The thief's or the owner's newer token is dead too.
    let newer = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": second.body["refresh_token"]}),
        )
        .await;
    assert_eq!((newer.status, newer.code()), (401, "auth.refresh_invalid"));
    // Another session of the same user is untouched.
    let other = app.login("demo.admin", PASSWORD).await;
    let ok = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": other["refresh_token"]}),
        )
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn a_refresh_token_expires_after_thirty_days() {
    let app = spawn_app().await;
    app.seed_demo();
    let first = app.login("demo.admin", PASSWORD).await;
    app.clock.advance(Duration::days(30));
    let reply = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!((reply.status, reply.code()), (401, "auth.refresh_invalid"));
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_and_is_idempotent() {
    let app = spawn_app().await;
    app.seed_demo();
    let session = app.login("demo.admin", PASSWORD).await;
    let body = json!({"refresh_token": session["refresh_token"]});
    assert_eq!(
        app.post("/api/v1/auth/logout", None, body.clone()).await.status,
        204
    );
    assert_eq!(
        app.post("/api/v1/auth/logout", None, body.clone()).await.status,
        204
    );
    let refresh = app.post("/api/v1/auth/refresh", None, body).await;
    assert_eq!(refresh.status, 401);
}

#[tokio::test]
async fn a_deactivated_user_cannot_refresh_or_log_in() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let session = app.login("officer.li", PASSWORD).await;
    let id = session["user"]["id"].as_str().expect("id");
    let reply = app
        .patch(
            &format!("/api/v1/admin/users/{id}"),
            Some(&admin),
            json!({"active": false}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["active"], false);
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": session["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, 401);
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "officer.li", "password": PASSWORD}),
        )
        .await;
    assert_eq!((login.status, login.code()), (403, "auth.user_disabled"));
}

/// The user id and a session (access and refresh token) of `username`.
async fn session(app: &TestApp, username: &str) -> (String, String, String) {
    let login = app.login(username, PASSWORD).await;
    let text = |v: &serde_json::Value| v.as_str().expect("string").to_owned();
    (
        text(&login["user"]["id"]),
        text(&login["access_token"]),
        text(&login["refresh_token"]),
    )
}

async fn me_code(app: &TestApp, token: &str) -> (u16, String) {
    let reply = app.get("/api/v1/me", Some(token)).await;
    (reply.status, reply.code().to_owned())
}

fn ended() -> (u16, String) {
    (401, "auth.session_ended".to_owned())
}

#[tokio::test]
async fn deactivation_and_new_roles_end_access_tokens_at_once() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let (li, li_token, _) = session(&app, "officer.li").await;
    let (wang, wang_token, wang_refresh) = session(&app, "officer.wang").await;
    assert_eq!(me_code(&app, &li_token).await.0, 200);

    let off = app
        .patch(
            &format!("/api/v1/admin/users/{li}"),
            Some(&admin),
            json!({"active": false}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(me_code(&app, &li_token).await, ended());

    let promoted = app
        .patch(
            &format!("/api/v1/admin/users/{wang}"),
            Some(&admin),
            json!({"roles": ["officer", "unit_admin"]}),
        )
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    assert_eq!(
        me_code(&app, &wang_token).await,
        ended(),
        "the old token names the old roles"
    );
    // The session itself goes on: a refresh gives a token with the new roles.
    let refreshed = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": wang_refresh}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let me = app
        .get("/api/v1/me", refreshed.body["access_token"].as_str())
        .await;
    assert_eq!(me.status, 200);
    assert!(me.text.contains("unit_admin"), "{}", me.text);
}

#[tokio::test]
async fn logout_a_password_change_and_a_new_invite_end_access_tokens_at_once() {
    let app = spawn_app().await;
    app.seed_demo();
    let (_, phone, _) = session(&app, "hub.dispatcher").await;
    let (_, laptop, laptop_refresh) = session(&app, "hub.dispatcher").await;
    let logout = app
        .post(
            "/api/v1/auth/logout",
            None,
            json!({"refresh_token": laptop_refresh}),
        )
        .await;
    assert_eq!(logout.status, 204);
    assert_eq!(me_code(&app, &laptop).await, ended());
    assert_eq!(
        me_code(&app, &phone).await,
        ended(),
        "the phone refreshes to go on"
    );

    let (_, old, _) = session(&app, "gdgs.clerk").await;
    let (_, current, _) = session(&app, "gdgs.clerk").await;
    let changed = app
        .put(
            "/api/v1/me/password",
            Some(&current),
            json!({"old_password": PASSWORD, "new_password": "供电公司新密码2026"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(me_code(&app, &old).await, ended());
    let fresh = changed.body["access_token"].as_str().expect("token");
    assert_eq!(me_code(&app, fresh).await.0, 200, "the answer's own token works");

    let admin = app.token("demo.admin").await;
    let (liu, liu_token, liu_refresh) = session(&app, "officer.liu").await;
    let invite = app
        .post(
            &format!("/api/v1/admin/users/{liu}/invite"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(invite.status, 200, "{}", invite.text);
    assert_eq!(me_code(&app, &liu_token).await, ended());
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": liu_refresh}),
        )
        .await;
    assert_eq!(refresh.status, 401, "a new invite ends the old sessions for good");
}

#[tokio::test]
async fn sessions_end_at_once_without_redis_too() {
    let app = spawn_app_with(Options {
        redis_url: "redis://127.0.0.1:1/0".to_owned(),
        ..Options::default()
    })
    .await;
    app.seed_demo();
    let (_, token, refresh) = session(&app, "hub.dispatcher").await;
    assert_eq!(me_code(&app, &token).await.0, 200);
    app.post("/api/v1/auth/logout", None, json!({"refresh_token": refresh}))
        .await;
    assert_eq!(me_code(&app, &token).await, ended());
}

#[tokio::test]
async fn two_refreshes_racing_with_one_token_both_get_the_new_pair() {
    let app = spawn_app().await;
    app.seed_demo();
    let (_, _, refresh) = session(&app, "demo.admin").await;
    let body = json!({"refresh_token": refresh});
    let (a, b) = tokio::join!(
        app.post("/api/v1/auth/refresh", None, body.clone()),
        app.post("/api/v1/auth/refresh", None, body.clone())
    );
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.text, b.text);
    assert_eq!(a.body["refresh_token"], b.body["refresh_token"]);
    let next = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": a.body["refresh_token"]}),
        )
        .await;
    assert_eq!(next.status, 200, "the family lives on: {}", next.text);
}

#[tokio::test]
async fn a_session_ends_ninety_days_after_its_sign_in_however_often_it_is_refreshed() {
    let app = spawn_app().await;
    app.seed_demo();
    let (_, _, mut refresh) = session(&app, "demo.admin").await;
    for _ in 0..4 {
        app.clock.advance(Duration::days(25));
        let reply = app
            .post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh}))
            .await;
        if reply.status != 200 {
            assert_eq!((reply.status, reply.code()), (401, "auth.refresh_invalid"));
            return;
        }
        refresh = reply.body["refresh_token"].as_str().expect("token").to_owned();
    }
    panic!("a session refreshed every 25 days outlived 90 days");
}
