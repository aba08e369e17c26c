use chrono::Duration;
use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};
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
