use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{spawn_app, spawn_app_with, Options, TestApp, PASSWORD};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn start_redis(port: u16) -> Child {
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH (make test installs it)")
}

/// Polls `/readyz` until Redis is reported as `want`, for at most five seconds.
async fn redis_reported(app: &TestApp, want: &str) -> bool {
    for _ in 0..50 {
        let reply = app.get("/readyz", None).await;
        assert_eq!(reply.status, 200, "PostgreSQL is up, so the service is ready");
        if reply.body["redis"] == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// The demo city on a Redis of its own (which the test may stop), connected; its port too.
async fn demo_on_own_redis() -> (TestApp, u16, Child) {
    let port = free_port();
    let redis = start_redis(port);
    let app = spawn_app_with(Options {
        redis_url: format!("redis://127.0.0.1:{port}/0"),
        ..Options::default()
    })
    .await;
    app.seed_demo();
    assert!(redis_reported(&app, "up").await, "connects at start");
    (app, port, redis)
}

#[tokio::test]
async fn the_service_starts_and_serves_while_redis_is_down() {
    let app = spawn_app_with(Options {
        redis_url: "redis://127.0.0.1:1/0".to_owned(),
        ..Options::default()
    })
    .await;
    app.seed_demo();
    assert!(redis_reported(&app, "down").await);
    let session = app.login("demo.admin", PASSWORD).await;
    let me = app.get("/api/v1/me", session["access_token"].as_str()).await;
    assert_eq!(me.status, 200);
}

#[tokio::test]
async fn redis_is_used_again_when_it_comes_back() {
    let (app, port, mut redis) = demo_on_own_redis().await;

    redis.kill().expect("stop redis");
    redis.wait().expect("stopped");
    assert!(redis_reported(&app, "down").await, "notices the outage");
    app.login("demo.admin", PASSWORD).await;

    let mut redis = start_redis(port);
    assert!(redis_reported(&app, "up").await, "reconnects without a restart");
    app.login("demo.admin", PASSWORD).await;
    redis.kill().ok();
    redis.wait().ok();
}

#[tokio::test]
async fn failure_counts_live_in_redis_under_the_tests_prefix() {
    let app = spawn_app().await;
    app.seed_demo();
    assert!(redis_reported(&app, "up").await);
    let reply = app
        .post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"username": "demo.admin", "password": "wrong-guess"}),
        )
        .await;
    assert_eq!(reply.status, 401);
    let client = redis::Client::open(crate::helpers::redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}login_failures:*", app.redis_prefix))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert_eq!(
        keys,
        vec![format!("{}login_failures:demo.admin|127.0.0.1", app.redis_prefix)]
    );
}

#[tokio::test]
async fn failures_counted_in_redis_still_count_when_redis_goes_away() {
    let (app, _, mut redis) = demo_on_own_redis().await;
    let wrong = || {
        app.post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"username": "demo.admin", "password": "wrong-guess"}),
        )
    };
    for _ in 0..6 {
        assert_eq!(wrong().await.status, 401);
    }

    redis.kill().expect("stop redis");
    redis.wait().expect("stopped");
    assert!(redis_reported(&app, "down").await, "notices the outage");
    for _ in 0..4 {
        assert_eq!(wrong().await.status, 401);
    }
    let right = app
        .post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"username": "demo.admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (right.status, right.code()),
        (429, "auth.too_many_attempts"),
        "six failures in Redis and four in memory spend the budget of ten"
    );
}
