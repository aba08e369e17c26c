use std::sync::atomic::Ordering;

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Options, TestApp};

/// Creates an officer through the admin API and returns (phone, invite code).
async fn rostered_officer(app: &TestApp, username: &str, phone: &str) -> String {
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let reply = app
        .post(
            "/api/v1/admin/users",
            Some(&admin),
            json!({"username": username, "name": "孙丽", "phone": phone, "roles": ["officer"],
                   "unit_code": "ZZ-CZJ", "region_code": "430200"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["invite_code"]
        .as_str()
        .expect("invite code")
        .to_owned()
}

async fn wechat_login(app: &TestApp, code: &str) -> crate::helpers::Reply {
    app.post("/api/v1/auth/wechat/login", None, json!({"code": code}))
        .await
}

async fn bind(app: &TestApp, bind_token: &Value, phone: &str, invite: &str) -> crate::helpers::Reply {
    app.post(
        "/api/v1/auth/wechat/bind",
        None,
        json!({"bind_token": bind_token, "phone": phone, "invite_code": invite}),
    )
    .await
}

#[tokio::test]
async fn a_new_officer_binds_once_and_then_logs_in_with_one_tap() {
    let app = spawn_app().await;
    let invite = rostered_officer(&app, "officer.sun", "13907331234").await;

    let first = wechat_login(&app, "code-openid-sun").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["bind_required"], true);
    assert!(
        !first.text.contains("SESSION-KEY"),
        "the session key must never leave the server"
    );

    // Typed as people type it: lower case, with a dash.
    let typed = format!("{}-{}", &invite[..5].to_lowercase(), &invite[5..]);
    let bound = bind(&app, &first.body["bind_token"], "+86 139-0733-1234", &typed).await;
    assert_eq!(bound.status, 200, "{}", bound.text);
    assert_eq!(bound.body["user"]["username"], "officer.sun");
    assert!(bound.body["access_token"].is_string());

    let again = wechat_login(&app, "code-openid-sun").await;
    assert_eq!(again.body["bind_required"], false);
    assert_eq!(again.body["user"]["username"], "officer.sun");
    assert_eq!(app.wechat.state.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_wrong_invite_code_is_refused_and_nothing_is_bound() {
    let app = spawn_app().await;
    rostered_officer(&app, "officer.sun", "13907331234").await;
    let login = wechat_login(&app, "code-openid-sun").await;
    let reply = bind(&app, &login.body["bind_token"], "13907331234", "WRONGCODE2").await;
    assert_eq!((reply.status, reply.code()), (422, "bind.invite_invalid"));
    let unknown_phone = bind(&app, &login.body["bind_token"], "13907339999", "WRONGCODE2").await;
    assert_eq!(unknown_phone.code(), "bind.invite_invalid");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE wechat_openid IS NOT NULL"),
        0
    );
}

#[tokio::test]
async fn an_invite_code_works_once_and_expires_after_fourteen_days() {
    let app = spawn_app().await;
    let invite = rostered_officer(&app, "officer.sun", "13907331234").await;
    app.clock.advance(Duration::days(14));
    let login = wechat_login(&app, "code-openid-sun").await;
    let expired = bind(&app, &login.body["bind_token"], "13907331234", &invite).await;
    assert_eq!((expired.status, expired.code()), (422, "bind.invite_expired"));

    // A fresh code from the admin works, once.
    let admin = app.token("demo.admin").await;
    let user = app
        .get("/api/v1/admin/users?username=officer.sun", Some(&admin))
        .await;
    let id = user.body["items"][0]["id"].as_str().expect("id").to_owned();
    let reissued = app
        .post(
            &format!("/api/v1/admin/users/{id}/invite"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(reissued.status, 200, "{}", reissued.text);
    let fresh = reissued.body["invite_code"].as_str().expect("code");
    let bound = bind(&app, &login.body["bind_token"], "13907331234", fresh).await;
    assert_eq!(bound.status, 200, "{}", bound.text);

    let other = wechat_login(&app, "code-openid-intruder").await;
    let reused = bind(&app, &other.body["bind_token"], "13907331234", fresh).await;
    assert_eq!(reused.code(), "bind.invite_invalid");
}

#[tokio::test]
async fn retrying_a_successful_bind_signs_in_again() {
    let app = spawn_app().await;
    let invite = rostered_officer(&app, "officer.sun", "13907331234").await;
    let login = wechat_login(&app, "code-openid-sun").await;
    let first = bind(&app, &login.body["bind_token"], "13907331234", &invite).await;
    let retry = bind(&app, &login.body["bind_token"], "13907331234", &invite).await;
    assert_eq!(first.status, 200);
    assert_eq!(retry.status, 200, "{}", retry.text);
    assert_eq!(retry.body["user"]["id"], first.body["user"]["id"]);
}

#[tokio::test]
async fn a_forged_or_expired_bind_token_is_refused() {
    let app = spawn_app().await;
    let invite = rostered_officer(&app, "officer.sun", "13907331234").await;
    let forged = bind(
        &app,
        &json!("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
        "13907331234",
        &invite,
    )
    .await;
    assert_eq!((forged.status, forged.code()), (401, "auth.bind_token_invalid"));
    let login = wechat_login(&app, "code-openid-sun").await;
    app.clock.advance(Duration::minutes(11));
    let late = bind(&app, &login.body["bind_token"], "13907331234", &invite).await;
    assert_eq!((late.status, late.code()), (401, "auth.bind_token_expired"));
}

#[tokio::test]
async fn ten_wrong_invite_codes_lock_the_phone() {
    let app = spawn_app().await;
    let invite = rostered_officer(&app, "officer.sun", "13907331234").await;
    let login = wechat_login(&app, "code-openid-sun").await;
    for _ in 0..10 {
        bind(&app, &login.body["bind_token"], "13907331234", "AAAAAAAAAA").await;
    }
    let locked = bind(&app, &login.body["bind_token"], "13907331234", &invite).await;
    assert_eq!((locked.status, locked.code()), (429, "auth.too_many_attempts"));
}

#[tokio::test]
async fn wechat_errors_map_to_clear_codes() {
    let app = spawn_app().await;
    for (code, status, expected) in [
        ("invalid", 401, "wechat.code_invalid"),
        ("used", 401, "wechat.code_invalid"),
        ("limited", 429, "wechat.rate_limited"),
        ("risky", 403, "wechat.user_blocked"),
        ("busy", 503, "wechat.unavailable"),
        ("garbage", 503, "wechat.unavailable"),
        ("http500", 503, "wechat.unavailable"),
    ] {
        let reply = wechat_login(&app, code).await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, expected),
            "{code}: {}",
            reply.text
        );
    }
    let limited = wechat_login(&app, "limited").await;
    assert_eq!(limited.headers["retry-after"], "60");
    let empty = wechat_login(&app, "  ").await;
    assert_eq!((empty.status, empty.code()), (422, "request.field_invalid"));
}

#[tokio::test]
async fn an_unreachable_wechat_is_a_503() {
    let app = spawn_app_with(Options {
        wechat_base: Some("http://127.0.0.1:1".to_owned()),
        ..Options::default()
    })
    .await;
    let reply = wechat_login(&app, "code-anyone").await;
    assert_eq!((reply.status, reply.code()), (503, "wechat.unavailable"));
}
