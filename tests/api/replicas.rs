//! Read replicas (`DATABASE_READ_URL`) against a real streaming standby: a PostgreSQL primary of
//! the test's own and a standby made from it with `pg_basebackup -R`. Dashboards and ledgers
//! are read from the standby and say as of when (`X-Data-As-Of`); a standby that lags beyond
//! the bound, or stops mid-run, is skipped and the primary answers.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use zhuqi::db::replicas::{Health, Replicas, Source};

use crate::helpers::{spawn_app_with, Options, TestApp};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// PostgreSQL's programs, from the newest installed version (as scripts/services.sh finds them).
fn pg_bin(program: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL installed (make test installs it)")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort_by_key(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.last().expect("a version").join("bin").join(program)
}

/// Runs a PostgreSQL program as the `postgres` user when we are root (PostgreSQL refuses root).
fn as_postgres(program: &str, args: &[&str]) {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let bin = pg_bin(program);
    let mut command = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    let output = command.args(args).current_dir("/").output().expect("runs");
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A primary and its streaming standby, each a server of its own under a temporary directory;
/// stopped and removed when dropped.
struct StandbyPair {
    dir: PathBuf,
    primary_port: u16,
    standby_port: u16,
}

impl StandbyPair {
    fn start() -> Self {
        let primary_port = free_port();
        let standby_port = free_port();
        let dir = std::env::temp_dir().join(format!("zhuqi-replica-{primary_port}"));
        std::fs::create_dir_all(&dir).expect("dir");
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
        let pair = Self {
            dir,
            primary_port,
            standby_port,
        };
        let primary = pair.data("primary");
        as_postgres(
            "initdb",
            &[
                "-D",
                &primary,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        pair.start_server("primary", primary_port);
        let url = format!("postgres://postgres@127.0.0.1:{primary_port}/postgres");
        let mut conn = PgConnection::establish(&url).expect("primary");
        diesel::sql_query("CREATE ROLE zhuqi SUPERUSER LOGIN")
            .execute(&mut conn)
            .expect("role");
        diesel::sql_query("CREATE DATABASE zhuqi OWNER zhuqi")
            .execute(&mut conn)
            .expect("db");
        let port = primary_port.to_string();
        let standby = pair.data("standby");
        as_postgres(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &standby,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        );
        pair.start_server("standby", standby_port);
        pair
    }

    fn data(&self, which: &str) -> String {
        self.dir.join(which).display().to_string()
    }

    fn start_server(&self, which: &str, port: u16) {
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off \
             -c max_connections=60",
            self.dir.display()
        );
        let log = self.dir.join(format!("{which}.log")).display().to_string();
        as_postgres(
            "pg_ctl",
            &["-D", &self.data(which), "-l", &log, "-w", "-o", &options, "start"],
        );
    }

    fn stop(&self, which: &str) {
        as_postgres(
            "pg_ctl",
            &["-D", &self.data(which), "-m", "immediate", "-w", "stop"],
        );
    }

    fn primary_url(&self) -> String {
        format!("postgres://zhuqi@127.0.0.1:{}/zhuqi", self.primary_port)
    }

    fn standby_url(&self) -> String {
        format!("postgres://zhuqi@127.0.0.1:{}/zhuqi", self.standby_port)
    }

    fn on_standby(&self, sql: &str) {
        let mut conn = PgConnection::establish(&self.standby_url()).expect("standby");
        diesel::sql_query(sql).execute(&mut conn).expect("standby sql");
    }
}

impl Drop for StandbyPair {
    fn drop(&mut self) {
        for which in ["standby", "primary"] {
            if Path::new(&self.data(which)).join("postmaster.pid").exists() {
                let _ = std::panic::catch_unwind(|| self.stop(which));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The demo city on the pair's primary, with the standby as its read replica; the standby has
/// caught up with the seeding and is checked usable.
async fn demo_on(pair: &StandbyPair, max_lag_seconds: u64) -> TestApp {
    {
        let mut conn = PgConnection::establish(&pair.primary_url()).expect("primary");
        zhuqi::db::migrate(&mut conn).expect("migrations");
    }
    let app = spawn_app_with(Options {
        database_url: Some(pair.primary_url()),
        env: vec![
            ("DATABASE_READ_URL", pair.standby_url()),
            ("DATABASE_READ_MAX_LAG_SECONDS", max_lag_seconds.to_string()),
        ],
        ..Options::default()
    })
    .await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    assert!(caught_up(&app).await, "the standby replays the seeding");
    app
}

/// Checks the replicas until the standby is usable, for at most ten seconds.
async fn caught_up(app: &TestApp) -> bool {
    for _ in 0..100 {
        app.state.replicas.check(&app.state.bulk_pool).await;
        if matches!(app.state.replicas.health()[0].1, Health::Usable { lag } if lag.is_zero()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn as_of(reply: &crate::helpers::Reply) -> Option<DateTime<Utc>> {
    reply
        .headers
        .get("x-data-as-of")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        .map(|t| t.with_timezone(&Utc))
}

async fn sign_in(app: &TestApp) {
    let (_, signed) = app.sign_in_at("中车株洲电力机车有限公司").await;
    assert_eq!(signed.status, 201, "{}", signed.body);
}

#[tokio::test]
async fn dashboards_and_ledgers_are_read_from_the_standby_and_say_as_of_when() {
    let pair = StandbyPair::start();
    let app = demo_on(&pair, 2).await;
    let dispatcher = app.token("hub.dispatcher").await;
    let started = Utc::now();

    let overview = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    let at = as_of(&overview).expect("served by the standby, with its as-of");
    assert!(
        at >= started - chrono::Duration::seconds(1),
        "caught up: as of now ({at})"
    );
    let ledger = app.get("/api/v1/exports/problems.xlsx", Some(&dispatcher)).await;
    assert_eq!(ledger.status, 200);
    assert!(as_of(&ledger).is_some(), "the ledger too");
    // Reads that must see the caller's own writes stay on the primary.
    let queue = app.get("/api/v1/hub/queue", Some(&dispatcher)).await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(as_of(&queue).is_none());

    // The standby stops replaying; a sign-in lands on the primary. Past the bound (2 s) the
    // standby is skipped and the figures, from the primary, count the sign-in.
    pair.on_standby("SELECT pg_wal_replay_pause()");
    sign_in(&app).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.state.replicas.check(&app.state.bulk_pool).await;
    assert!(
        matches!(app.state.replicas.health()[0].1, Health::Lagging { .. }),
        "{:?}",
        app.state.replicas.health()
    );
    let fresh = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(fresh.status, 200);
    assert!(as_of(&fresh).is_none(), "from the primary");
    assert_eq!(
        fresh.body["officers_signed_in"].as_i64(),
        overview.body["officers_signed_in"].as_i64().map(|n| n + 1)
    );

    // Within a wider bound the lagging standby still answers, as of its last replayed write,
    // and an answer from behind the primary is not what a later reader gets from the cache.
    let lenient = Replicas::new(&[pair.standby_url()], 1, Duration::from_secs(3600));
    lenient.check(&app.state.bulk_pool).await;
    let (signed_in, source) = lenient
        .read(&app.state.bulk_pool, |conn| {
            Ok(diesel::sql_query("SELECT count(*) AS n FROM sign_ins")
                .get_result::<Count>(conn)?
                .n)
        })
        .await
        .expect("read");
    let Source::Replica { current, as_of: then } = source else {
        panic!("read from the standby: {source:?}");
    };
    assert!(!current, "behind the primary");
    assert!(
        then < Utc::now() - chrono::Duration::seconds(2),
        "as of its last replayed write"
    );
    assert_eq!(signed_in, app.count("SELECT count(*) AS n FROM sign_ins") - 1);

    // Through the API: an instance with the wide bound serves the lagging standby's figures
    // (as of then, without the sign-in) and does not cache them: the next read goes to the
    // standby again instead of being answered from Redis.
    let lenient_app = spawn_app_with(Options {
        database_url: Some(pair.primary_url()),
        env: vec![
            ("DATABASE_READ_URL", pair.standby_url()),
            ("DATABASE_READ_MAX_LAG_SECONDS", "3600".to_owned()),
        ],
        ..Options::default()
    })
    .await;
    lenient_app
        .state
        .replicas
        .check(&lenient_app.state.bulk_pool)
        .await;
    let dispatcher_too = lenient_app.token("hub.dispatcher").await;
    for _ in 0..2 {
        let behind = lenient_app
            .get("/api/v1/stats/overview", Some(&dispatcher_too))
            .await;
        assert_eq!(
            behind.body["officers_signed_in"],
            overview.body["officers_signed_in"]
        );
        assert!(as_of(&behind).is_some_and(|t| t < Utc::now() - chrono::Duration::seconds(2)));
    }

    pair.on_standby("SELECT pg_wal_replay_resume()");
    assert!(caught_up(&app).await, "back in use once it has caught up");
    let again = app.get("/api/v1/stats/officers", Some(&dispatcher)).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(as_of(&again).is_some());
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn a_standby_stopping_mid_run_leaves_the_reads_on_the_primary() {
    let pair = StandbyPair::start();
    let app = demo_on(&pair, 30).await;
    let dispatcher = app.token("hub.dispatcher").await;
    let before = app
        .get("/api/v1/stats/overview?day=2026-11-19", Some(&dispatcher))
        .await;
    assert!(as_of(&before).is_some(), "from the standby");

    pair.stop("standby");
    // Before any check notices: the read fails on the standby and is made on the primary.
    let during = app.get("/api/v1/stats/departments", Some(&dispatcher)).await;
    assert_eq!(during.status, 200, "{}", during.body);
    assert!(as_of(&during).is_none(), "from the primary");
    assert_eq!(app.state.replicas.health()[0].1, Health::Down);
    let ledger = app
        .get("/api/v1/exports/daily-reports.xlsx", Some(&dispatcher))
        .await;
    assert_eq!(ledger.status, 200);
    assert!(as_of(&ledger).is_none());

    pair.start_server("standby", pair.standby_port);
    assert!(caught_up(&app).await, "in use again once it is back");
    // (The departments' answer computed on the primary is cached: another question.)
    let after = app.get("/api/v1/stats/problems", Some(&dispatcher)).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert!(as_of(&after).is_some());
}
