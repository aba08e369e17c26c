use std::process::Command;

use crate::helpers::spawn_app;

const BIN: &str = env!("CARGO_BIN_EXE_zhuqi");

#[test]
fn serve_without_jwt_secret_stops_with_one_line_naming_it() {
    let output = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("REDIS_URL", "redis://127.0.0.1:1/0")
        .env("WECHAT_APPID", "wx")
        .env("WECHAT_SECRET", "s")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim(), "zhuqi: configuration error: JWT_SECRET is not set");
}

#[test]
fn help_lists_every_subcommand() {
    let output = Command::new(BIN).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "migrate", "seed-demo", "reconcile-stats", "create-admin"] {
        assert!(help.contains(command), "{help}");
    }
}

#[tokio::test]
async fn create_admin_bootstraps_a_region_and_an_admin_who_can_log_in() {
    let app = spawn_app().await;
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://zhuqi@127.0.0.1:55432/postgres".to_owned());
    let url = format!(
        "{}/{}",
        url.rsplit_once('/').map(|(s, _)| s).unwrap_or(&url),
        app.db_name
    );
    let output = Command::new(BIN)
        .args([
            "create-admin",
            "--username",
            "cs.admin",
            "--password",
            "长沙管理员密码123",
            "--region-code",
            "430100",
            "--region-name",
            "长沙市",
        ])
        .env("DATABASE_URL", &url)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let session = app.login("cs.admin", "长沙管理员密码123").await;
    assert_eq!(session["user"]["roles"], serde_json::json!(["admin"]));
    assert_eq!(session["user"]["region_code"], "430100");

    let without_name = Command::new(BIN)
        .args([
            "create-admin",
            "--username",
            "x.admin",
            "--password",
            "password123",
            "--region-code",
            "430300",
        ])
        .env("DATABASE_URL", &url)
        .output()
        .expect("runs");
    assert!(!without_name.status.success());
    assert!(String::from_utf8_lossy(&without_name.stderr).contains("--region-name"));
}

#[tokio::test]
async fn the_demo_city_comes_with_a_week_of_history() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::bootstrap::History::Week);
    // Five working days back from Friday 2026-11-20 (the 13th to the 19th), 12 assignments,
    // with a few days skipped on purpose.
    let sign_ins = app.count("SELECT count(*) AS n FROM sign_ins");
    assert!((45..=60).contains(&sign_ins), "{sign_ins}");
    assert!(app.count("SELECT count(*) AS n FROM daily_reports") < sign_ins);
    assert!(app.count("SELECT count(*) AS n FROM problems") > 5);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM sign_ins WHERE extract(isodow FROM day) > 5"),
        0,
        "no weekend work"
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let problems = app.get("/api/v1/problems", Some(&dispatcher)).await;
    assert!(!problems.body["items"].as_array().expect("items").is_empty());
}

#[tokio::test]
async fn reconcile_stats_repairs_a_drifted_counter_and_says_so() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::bootstrap::History::Week);
    let client = redis::Client::open(crate::helpers::redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    // The command runs on the real clock: yesterday's counters are settled.
    let yesterday = zhuqi::clock::local_day(chrono::Utc::now()) - chrono::Duration::days(1);
    let counter = format!("{}stats:430200:{yesterday}:sign_ins", app.redis_prefix);
    let _: () = redis::cmd("SET")
        .arg(&counter)
        .arg(9999)
        .query_async(&mut conn)
        .await
        .expect("set");
    let output = Command::new(BIN)
        .arg("reconcile-stats")
        .env("DATABASE_URL", crate::helpers::database_url(&app.db_name))
        .env("REDIS_URL", crate::helpers::redis_url())
        .env("REDIS_KEY_PREFIX", &app.redis_prefix)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    assert_eq!(outcome["redis_available"], true);
    assert!(
        outcome["counters_repaired"].as_i64().unwrap_or(0) >= 1,
        "{outcome}"
    );
    let repaired: i64 = redis::cmd("GET")
        .arg(&counter)
        .query_async(&mut conn)
        .await
        .expect("get");
    assert_eq!(
        repaired,
        app.count(&format!(
            "SELECT count(*) AS n FROM sign_ins WHERE day = '{yesterday}'"
        ))
    );
}
