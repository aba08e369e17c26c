//! The tables that grow with use are partitioned by month (migration 000028, `db::partitions`):
//! rows land in their China-local month's partition, the unique keys hold across partitions,
//! the coming months are made ahead, a month whose rows already sit in the default partition
//! is left for an operator, an old month detaches whole while the service goes on, and the
//! migration keeps every row (both ways).

use chrono::{NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::result::Error::DatabaseError;
use diesel_migrations::MigrationHarness;
use serde_json::json;
use zhuqi::db::partitions::{self, Outcome};
use zhuqi::demo;

use crate::helpers::{spawn_app, TestApp};

const TABLES: [&str; 6] = partitions::TABLES;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// The test clock's months have their partitions whatever the real date is (the template's
/// were made for the real one).
fn ensure(app: &TestApp, today: NaiveDate) -> Vec<partitions::Ensured> {
    let mut conn = app.pool.get().expect("conn");
    partitions::ensure(&mut conn, today).expect("ensure")
}

/// How many of the table's rows are in the named partition.
fn rows_in(app: &TestApp, table: &str, partition: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM {table} WHERE tableoid = '{partition}'::regclass"
    ))
}

#[tokio::test]
async fn the_day_s_rows_land_in_their_month_s_partition() {
    let app = spawn_app().await;
    ensure(&app, app.clock.today());
    app.seed_demo_with(demo::History::Week);
    let (_, signed) = app.sign_in_at("中车株洲电力机车有限公司").await;
    assert_eq!(signed.status, 201, "{}", signed.body);
    for table in TABLES {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) AS n FROM pg_partitioned_table WHERE partrelid = '{table}'::regclass"
            )),
            1,
            "{table} is partitioned"
        );
    }
    // The demo's week and today's sign-in are all of November 2026: nothing in the defaults.
    for table in [
        "sign_ins",
        "daily_reports",
        "daily_report_revisions",
        "problem_events",
        "audit_log",
    ] {
        let all = app.count(&format!("SELECT count(*) AS n FROM {table}"));
        assert!(all > 0, "{table} has rows");
        assert_eq!(rows_in(&app, table, &format!("{table}_p2026_11")), all, "{table}");
    }
    // A revision carries its report's day.
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM daily_report_revisions r JOIN daily_reports d \
               ON d.id = r.report_id AND d.day = r.day"
        ),
        app.count("SELECT count(*) AS n FROM daily_report_revisions")
    );
}

#[tokio::test]
async fn one_sign_in_per_officer_enterprise_and_day_still_holds() {
    let app = spawn_app().await;
    ensure(&app, app.clock.today());
    app.seed_demo_with(demo::History::Week);
    let copy = "INSERT INTO sign_ins (officer_id, enterprise_id, region_code, day, signed_at, lat, lng, \
                distance_m, within_geofence) \
                SELECT officer_id, enterprise_id, region_code, day, signed_at, lat, lng, distance_m, within_geofence \
                  FROM sign_ins ORDER BY signed_at LIMIT 1";
    let mut conn = app.pool.get().expect("conn");
    let refused = diesel::sql_query(copy)
        .execute(&mut conn)
        .expect_err("a second sign-in of the day");
    assert!(
        matches!(refused, DatabaseError(DatabaseErrorKind::UniqueViolation, _)),
        "{refused}"
    );
    // And a report's revision cannot name a report of another day.
    let orphan = diesel::sql_query(
        "INSERT INTO daily_report_revisions (report_id, day, revision, author_id, at, body, changed_fields) \
         SELECT id, day + 1, 9, officer_id, updated_at, '{}', '{}' FROM daily_reports LIMIT 1",
    )
    .execute(&mut conn)
    .expect_err("a revision of a report that is not there");
    assert!(
        matches!(orphan, DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)),
        "{orphan}"
    );
}

/// An Idempotency-Key stored in one month's partition is honoured from the next: a resend
/// after midnight on the 1st replays the first answer and files nothing twice.
#[tokio::test]
async fn a_key_used_at_the_end_of_a_month_is_replayed_in_the_next() {
    let app = spawn_app().await;
    ensure(&app, app.clock.today());
    app.seed_demo_with(demo::History::Week);
    // 23:59 on 30 November in China.
    app.clock.set(
        Utc.with_ymd_and_hms(2026, 11, 30, 15, 59, 0)
            .single()
            .expect("instant"),
    );
    let (token, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let body = json!({"enterprise_id": enterprise, "description": "园区道路破损，货车进出困难"});
    let first = app
        .keyed(
            reqwest::Method::POST,
            "/api/v1/problems",
            &token,
            "month-end",
            &body,
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    app.clock.advance(chrono::Duration::minutes(2));
    let again = app
        .keyed(
            reqwest::Method::POST,
            "/api/v1/problems",
            &token,
            "month-end",
            &body,
        )
        .await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM problems WHERE description LIKE '园区道路破损%'"),
        1
    );
    assert_eq!(
        rows_in(&app, "idempotency_records", "idempotency_records_p2026_11"),
        1
    );
}

#[tokio::test]
async fn the_coming_months_are_made_once_and_bounded_by_china_s_midnight() {
    let app = spawn_app().await;
    let first = ensure(&app, day("2031-05-10"));
    assert_eq!(first.len(), 6 * 4);
    assert!(first.iter().all(|e| e.outcome == Outcome::Created), "{first:?}");
    let months: Vec<String> = first.iter().map(|e| e.month.to_string()).collect();
    assert!(months.contains(&"2031-05".to_owned()) && months.contains(&"2031-08".to_owned()));
    let again = ensure(&app, day("2031-05-11"));
    assert!(again.iter().all(|e| e.outcome == Outcome::Exists), "{again:?}");
    // 00:30 on 1 June in China is 16:30 on 31 May in UTC: June's row.
    app.exec(
        "INSERT INTO audit_log (action, object_type, object_id, at) \
         VALUES ('drill', 'test', 'june', '2031-05-31 16:30:00+00')",
    );
    assert_eq!(rows_in(&app, "audit_log", "audit_log_p2031_06"), 1);
}

#[tokio::test]
async fn a_month_whose_rows_wait_in_the_default_partition_is_left_for_an_operator() {
    let app = spawn_app().await;
    app.seed_demo_with(demo::History::Week);
    // A sign-in of a month that has no partition yet goes to the default one.
    app.exec(
        "INSERT INTO sign_ins (officer_id, enterprise_id, region_code, day, signed_at, lat, lng, \
         distance_m, within_geofence) \
         SELECT officer_id, enterprise_id, region_code, DATE '2033-01-05', '2033-01-05 01:00:00+00', lat, lng, \
                distance_m, within_geofence FROM sign_ins LIMIT 1",
    );
    assert_eq!(rows_in(&app, "sign_ins", "sign_ins_default"), 1);
    let ensured = ensure(&app, day("2033-01-02"));
    let of = |table: &str, month: &str| {
        ensured
            .iter()
            .find(|e| e.table == table && e.month.to_string() == month)
            .map(|e| e.outcome)
    };
    assert_eq!(of("sign_ins", "2033-01"), Some(Outcome::Crowded));
    assert_eq!(of("sign_ins", "2033-02"), Some(Outcome::Created));
    assert_eq!(of("daily_reports", "2033-01"), Some(Outcome::Created));
    // The row is where it was, and found as before.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM sign_ins WHERE day = DATE '2033-01-05'"),
        1
    );
}

#[tokio::test]
async fn an_old_month_detaches_whole_and_the_service_goes_on() {
    let app = spawn_app().await;
    ensure(&app, day("2026-10-01"));
    ensure(&app, app.clock.today());
    app.seed_demo_with(demo::History::Week);
    let reports = app.count("SELECT count(*) AS n FROM daily_reports");
    assert!(reports > 0);
    let mut conn = app.pool.get().expect("conn");
    let month = "2026-11".parse().expect("month");
    let detached = partitions::detach(&mut conn, month).expect("detach");
    assert_eq!(
        detached,
        TABLES.map(|t| format!("{t}_p2026_11")).to_vec(),
        "every table's November, revisions before reports"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_reports"), 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM daily_reports_p2026_11"),
        reports
    );
    // The month's rows are gone from the service, which goes on: today's sign-in waits in the
    // default partition.
    let (token, signed) = app.sign_in_at("中车株洲电力机车有限公司").await;
    assert_eq!(signed.status, 201, "{}", signed.body);
    assert_eq!(rows_in(&app, "sign_ins", "sign_ins_default"), 1);
    let home = app.get("/api/v1/me/today", Some(&token)).await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(partitions::detach(&mut conn, month).expect("again").is_empty());
}

/// The migration converts tables with rows, and its down migration converts them back.
#[tokio::test]
async fn the_partitioning_migration_keeps_every_row_both_ways() {
    let app = spawn_app().await;
    ensure(&app, app.clock.today());
    app.seed_demo_with(demo::History::Week);
    let counts = |app: &TestApp| TABLES.map(|t| app.count(&format!("SELECT count(*) AS n FROM {t}")));
    let before = counts(&app);
    assert!(before[..5].iter().all(|n| *n > 0), "{before:?}");
    let partitioned = |app: &TestApp| app.count("SELECT count(*) AS n FROM pg_partitioned_table");
    let mut conn = app.pool.get().expect("conn");
    // Down to just before the partitioning (later migrations first).
    while !conn
        .revert_last_migration(zhuqi::db::MIGRATIONS)
        .expect("down")
        .to_string()
        .ends_with("000028")
    {}
    assert_eq!(partitioned(&app), 0);
    assert_eq!(counts(&app), before);
    conn.run_pending_migrations(zhuqi::db::MIGRATIONS).expect("up");
    assert_eq!(partitioned(&app), 6);
    assert_eq!(counts(&app), before);
    for table in [
        "sign_ins",
        "daily_reports",
        "daily_report_revisions",
        "problem_events",
        "audit_log",
    ] {
        assert_eq!(
            rows_in(&app, table, &format!("{table}_p2026_11")),
            before[TABLES.iter().position(|t| *t == table).expect("table")]
        );
    }
    // The sequences went with the tables: new events follow the old ones.
    app.exec(
        "INSERT INTO audit_log (action, object_type, object_id, at) VALUES ('drill', 'test', 'after', now())",
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE object_id = 'after' AND id > (SELECT max(id) FROM audit_log WHERE object_id <> 'after')"),
        1
    );
}

/// A starting instance makes the coming months' partitions, but a long read holding a table
/// past the lock's timeout does not stop it from starting: the job makes the month later.
#[tokio::test]
async fn an_instance_starts_while_a_long_read_holds_a_table() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let month = zhuqi::domain::metrics::Month::containing(zhuqi::clock::local_day(Utc::now()))
        .next()
        .next()
        .next();
    let partition = partitions::partition_name("sign_ins", month);
    app.exec(&format!("ALTER TABLE sign_ins DETACH PARTITION {partition}"));
    app.exec(&format!("DROP TABLE {partition}"));
    let missing = |app: &TestApp| {
        app.count(&format!(
            "SELECT count(*) AS n FROM pg_class WHERE relname = '{partition}'"
        )) == 0
    };
    assert!(missing(&app));
    let mut reader = app.pool.get().expect("conn");
    reader
        .batch_execute("BEGIN; SELECT count(*) FROM sign_ins;")
        .expect("a long read");
    let mut starting =
        PgConnection::establish(&crate::helpers::database_url(&app.db_name)).expect("connects");
    zhuqi::db::migrate(&mut starting).expect("starts while the read holds sign_ins");
    assert!(missing(&app), "the month waits for the job");
    reader.batch_execute("COMMIT").expect("the read ends");
    zhuqi::db::migrate(&mut starting).expect("migrates");
    assert!(!missing(&app), "made once the table is free");
}
