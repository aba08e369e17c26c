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
    for command in ["serve", "migrate", "seed-demo", "create-admin"] {
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
