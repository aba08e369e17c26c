use std::process::Command;

use crate::helpers::spawn_app;

const BIN: &str = env!("CARGO_BIN_EXE_zhuqi");

/// Runs the command on the database at `url`: whether it succeeded, and what it printed.
fn run_on(url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("runs");
    let printed = if output.status.success() {
        &output.stdout
    } else {
        &output.stderr
    };
    (
        output.status.success(),
        String::from_utf8_lossy(printed).into_owned(),
    )
}

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
    for command in [
        "serve",
        "migrate",
        "seed-demo",
        "reconcile-stats",
        "partitions",
        "roll-officer-days",
        "create-admin",
    ] {
        assert!(help.contains(command), "{help}");
    }
}

#[tokio::test]
async fn create_admin_bootstraps_a_region_and_an_admin_who_can_log_in() {
    let app = spawn_app().await;
    let url = crate::helpers::database_url(&app.db_name);
    // The password on standard input, never on the command line.
    let mut child = Command::new(BIN)
        .args([
            "create-admin",
            "--username",
            "cs.admin",
            "--region-code",
            "430100",
            "--region-name",
            "长沙市",
        ])
        .env("DATABASE_URL", &url)
        .env_remove("ZHUQI_ADMIN_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all("长沙管理员密码123\n".as_bytes()).expect("write");
    }
    let output = child.wait_with_output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let session = app.login("cs.admin", "长沙管理员密码123").await;
    assert_eq!(session["user"]["roles"], serde_json::json!(["admin"]));
    assert_eq!(session["user"]["region_code"], "430100");

    let without_name = Command::new(BIN)
        .args(["create-admin", "--username", "x.admin", "--region-code", "430300"])
        .env("DATABASE_URL", &url)
        .env("ZHUQI_ADMIN_PASSWORD", "password123")
        .output()
        .expect("runs");
    assert!(!without_name.status.success());
    assert!(String::from_utf8_lossy(&without_name.stderr).contains("--region-name"));
    let on_argv = Command::new(BIN)
        .args([
            "create-admin",
            "--username",
            "y.admin",
            "--password",
            "password123",
            "--region-code",
            "430100",
        ])
        .env("DATABASE_URL", &url)
        .output()
        .expect("runs");
    assert!(
        !on_argv.status.success(),
        "a password on the command line is refused"
    );
}

#[test]
fn two_instances_migrating_one_empty_database_at_once_both_succeed() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let name = format!("zhuqi_test_{}", uuid::Uuid::new_v4().simple());
    let mut server = PgConnection::establish(&crate::helpers::database_url("postgres")).expect("server");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut server)
        .expect("create");
    let url = crate::helpers::database_url(&name);
    let both: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).expect("connect");
                zhuqi::db::migrate(&mut conn).map_err(|e| format!("{e:#}"))
            })
        })
        .collect();
    let results: Vec<_> = both.into_iter().map(|t| t.join().expect("thread")).collect();
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut server)
        .expect("drop");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let applied: Vec<usize> = results
        .into_iter()
        .map(|r| r.map(|v| v.len()).unwrap_or(0))
        .collect();
    assert!(
        applied.contains(&0),
        "the second found nothing to do: {applied:?}"
    );
}

#[tokio::test]
async fn one_instance_at_a_time_holds_a_leader_lock() {
    let app = spawn_app().await;
    let url = crate::helpers::database_url(&app.db_name);
    let first = zhuqi::db::leader::LeaderLock::try_acquire(&url, 42).expect("lock");
    assert!(first.is_some());
    let second = zhuqi::db::leader::LeaderLock::try_acquire(&url, 42).expect("lock");
    assert!(second.is_none(), "held by the first");
    drop(first);
    let third = zhuqi::db::leader::LeaderLock::try_acquire(&url, 42).expect("lock");
    assert!(third.is_some(), "released with the first");
}

#[tokio::test]
async fn the_demo_city_comes_with_a_week_of_history() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
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
    app.seed_demo_with(zhuqi::demo::History::Week);
    let client = redis::Client::open(crate::helpers::redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    // The command runs on the real clock: yesterday's counters are settled.
    let yesterday = zhuqi::clock::local_day(chrono::Utc::now()) - chrono::Duration::days(1);
    let counter = format!("{}{{stats}}:430200:{yesterday}:sign_ins", app.redis_prefix);
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

/// What an operator runs: the coming months' partitions now, then an old month detached.
#[tokio::test]
async fn partitions_are_made_and_detached_from_the_command_line() {
    let app = spawn_app().await;
    let url = crate::helpers::database_url(&app.db_name);
    let run = |args: &[&str]| run_on(&url, args);
    let (ok, ensured) = run(&["partitions", "ensure"]);
    assert!(ok, "{ensured}");
    // This month's and the next three months' partitions of six tables, made or already there.
    assert_eq!(ensured.lines().count(), 24, "{ensured}");
    assert!(
        ensured
            .lines()
            .all(|l| l.ends_with(" created") || l.ends_with(" exists")),
        "{ensured}"
    );
    app.exec("SELECT create_month_partition('sign_ins', DATE '2024-03-01')");
    let (ok, detached) = run(&["partitions", "detach", "2024-03"]);
    assert_eq!((ok, detached.as_str()), (true, "sign_ins_p2024_03 detached\n"));
    let (ok, nothing) = run(&["partitions", "detach", "2024-03"]);
    assert_eq!(
        (ok, nothing.as_str()),
        (true, "no partition of 2024-03 is attached\n")
    );
    let (ok, refused) = run(&["partitions", "detach", "March"]);
    assert!(!ok);
    assert!(refused.contains("YYYY-MM"), "{refused}");
}

/// What an operator runs after a backfill, or to roll a history at once: every settled day rolled,
/// a month a line, and nothing left for a second run.
#[tokio::test]
async fn the_officers_days_are_rolled_up_from_the_command_line() {
    let app = spawn_app().await;
    app.seed_demo();
    let url = crate::helpers::database_url(&app.db_name);
    let run = || {
        let (ok, printed) = run_on(&url, &["roll-officer-days"]);
        assert!(ok, "{printed}");
        printed
    };
    let rolled = run();
    // The command reads the real clock, not the tests'.
    let now = chrono::Utc::now();
    let settled = zhuqi::domain::rollup::last_settled_day(zhuqi::clock::local_day(now), now);
    assert!(rolled.lines().all(|l| l.starts_with("rolled ")), "{rolled}");
    assert!(rolled.trim_end().ends_with(&format!(" to {settled}")), "{rolled}");
    assert_eq!(run(), "");
}
