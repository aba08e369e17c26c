//! The officers' days rolled up (`domain::rollup`, migration 000029): figures read through the
//! rolled days and months equal the raw rows' over any period, before and after the changes
//! that reach back into rolled days (assignments, the calendar, deleted rows).

use chrono::NaiveDate;
use diesel::prelude::*;
use zhuqi::db::models::stats::{AsOf, StatsScope};
use zhuqi::jobs::roll_officer_days;
use zhuqi::stats::figures::{officers, OfficerStats};

use crate::helpers::{spawn_app, TestApp};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// Periods around the demo's week (to 2026-11-20): whole and partial months, a week, a day,
/// across a month's end, and a stretch running past the rolled span into today.
const PERIODS: [(&str, &str); 7] = [
    ("2026-11-01", "2026-11-20"),
    ("2026-11-01", "2026-11-19"),
    ("2026-11-13", "2026-11-19"),
    ("2026-11-18", "2026-11-18"),
    ("2026-10-01", "2026-10-31"),
    ("2026-10-20", "2026-11-20"),
    ("2026-08-01", "2026-11-30"),
];

fn city() -> StatsScope {
    StatsScope {
        region_code: "430200".into(),
        region_path: String::new(),
        unit_id: None,
    }
}

/// Every period's figures, as the server computes them now.
fn figures(app: &TestApp) -> Vec<Vec<OfficerStats>> {
    let mut conn = app.pool.get().expect("conn");
    let mut scope = city();
    scope.resolve(&mut conn).expect("scope");
    let now = app.clock.now();
    PERIODS
        .iter()
        .map(|(from, to)| {
            let (from, to) = (d(from), d(to));
            officers(&mut conn, &scope, from, to, AsOf::end_of(to, now)).expect("figures")
        })
        .collect()
}

/// The figures from the raw rows alone: computed with the rolled span forgotten, in a
/// transaction that is then rolled back.
fn raw_figures(app: &TestApp) -> Vec<Vec<OfficerStats>> {
    let mut conn = app.pool.get().expect("conn");
    let mut scope = city();
    scope.resolve(&mut conn).expect("scope");
    let now = app.clock.now();
    conn.test_transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::sql_query("UPDATE officer_rollup SET rolled_from = NULL, rolled_through = NULL")
            .execute(conn)?;
        Ok(PERIODS
            .iter()
            .map(|(from, to)| {
                let (from, to) = (d(from), d(to));
                officers(conn, &scope, from, to, AsOf::end_of(to, now)).expect("figures")
            })
            .collect())
    })
}

fn roll(app: &TestApp) -> Vec<(NaiveDate, NaiveDate)> {
    let mut conn = app.pool.get().expect("conn");
    roll_officer_days::tick(&mut conn, app.clock.now(), || false).expect("roll")
}

fn assert_same(rolled: &[Vec<OfficerStats>], raw: &[Vec<OfficerStats>], when: &str) {
    for ((period, rolled), raw) in PERIODS.iter().zip(rolled).zip(raw) {
        assert_eq!(rolled, raw, "{when}: {period:?}");
    }
}

#[tokio::test]
async fn figures_through_the_rolled_days_equal_the_raw_rows_after_every_change() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let before = figures(&app);
    assert!(
        before[0].iter().any(|o| o.sign_ins > 0 && o.working_days > 0),
        "the demo's week has sign-ins"
    );

    // At 10:00 on the 20th the 19th's reports have closed: everything up to it is rolled, a
    // month per transaction, and a second pass finds nothing left.
    let rolled = roll(&app);
    assert!(rolled.len() >= 2, "{rolled:?}");
    assert_eq!(rolled.last().map(|r| r.1), Some(d("2026-11-19")));
    assert!(rolled
        .windows(2)
        .all(|w| w[1].0 == w[0].1.succ_opt().expect("day")));
    assert_eq!(roll(&app), vec![]);
    assert!(app.count("SELECT count(*) AS n FROM officer_months WHERE month = '2026-11-01'") > 0);
    assert_same(&figures(&app), &before, "rolled");

    // The month so far is read from November's month row: a change there shows.
    app.exec("UPDATE officer_months SET sign_ins = sign_ins + 1000 WHERE month = '2026-11-01'");
    assert_ne!(figures(&app)[0], before[0], "the month row is what is read");
    app.exec("SELECT roll_officer_months('2026-11-01', '2026-11-19')");
    assert_same(&figures(&app), &before, "rolled again");

    // Changes reaching back into rolled days cut the rolled span back before them, in the same
    // transaction; those days are read raw until rolled again. Officer
    // 张伟 leaves all his enterprises after the 16th, comes back on the 18th, then on the 19th
    // only, then not at all.
    let zhang = "(SELECT id FROM users WHERE username = 'officer.zhang')";
    app.exec(&format!(
        "UPDATE assignments SET end_day = '2026-11-16' WHERE officer_id = {zhang}
            AND (end_day IS NULL OR end_day > '2026-11-16')"
    ));
    let left = figures(&app);
    assert_ne!(left[2], before[2], "fewer duty days");
    assert_same(&left, &raw_figures(&app), "assignments ended in the past");
    app.exec(&format!(
        "INSERT INTO assignments (officer_id, enterprise_id, start_day)
         SELECT officer_id, enterprise_id, '2026-11-18' FROM assignments WHERE officer_id = {zhang} LIMIT 1"
    ));
    assert_same(&figures(&app), &raw_figures(&app), "a past assignment added");
    app.exec(&format!(
        "UPDATE assignments SET start_day = '2026-11-19' WHERE officer_id = {zhang} AND start_day = '2026-11-18'"
    ));
    assert_same(&figures(&app), &raw_figures(&app), "an assignment started later");
    app.exec(&format!(
        "DELETE FROM assignments WHERE officer_id = {zhang} AND start_day = '2026-11-19'"
    ));
    assert_same(&figures(&app), &raw_figures(&app), "an assignment removed");
    app.exec("INSERT INTO calendar_days (year, day, kind, name) VALUES (2026, '2026-11-17', 'holiday', '测试假日')");
    let holiday = figures(&app);
    assert_ne!(holiday[2], before[2], "a working day fewer");
    assert_same(&holiday, &raw_figures(&app), "a holiday declared");
    app.exec("DELETE FROM sign_ins WHERE day = '2026-11-18' AND officer_id = (SELECT officer_id FROM sign_ins WHERE day = '2026-11-18' LIMIT 1)");
    app.exec("DELETE FROM daily_report_revisions WHERE day BETWEEN '2026-11-13' AND '2026-11-14'");
    app.exec("DELETE FROM daily_reports WHERE day BETWEEN '2026-11-13' AND '2026-11-14'");
    assert_same(&figures(&app), &raw_figures(&app), "rows deleted");
    // The changes cut the rolled span back; the next roll rolls those days again.
    assert!(!roll(&app).is_empty());
    assert_same(&figures(&app), &raw_figures(&app), "rolled again");
}

#[tokio::test]
async fn only_settled_days_are_rolled() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    // 09:00 on the 20th: the 19th's reports may still be filed, so the 18th is the last rolled.
    app.clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono_tz::Asia::Shanghai, 2026, 11, 20, 9, 0, 0)
            .single()
            .expect("t")
            .with_timezone(&chrono::Utc),
    );
    assert_eq!(roll(&app).last().map(|r| r.1), Some(d("2026-11-18")));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM officer_days WHERE day > '2026-11-18'"),
        0
    );
    let before = figures(&app);
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(roll(&app), vec![(d("2026-11-19"), d("2026-11-19"))]);
    assert_same(&figures(&app), &before, "a day more rolled");
}

#[tokio::test]
async fn a_pass_stops_between_two_months_when_the_server_shuts_down() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    // The shutdown comes while the first month rolls: that month is kept, the rest is left for
    // the next pass, which goes on from the day after it.
    let looked = std::cell::Cell::new(0);
    let stopping = || {
        looked.set(looked.get() + 1);
        looked.get() > 1
    };
    let mut conn = app.pool.get().expect("conn");
    let first = roll_officer_days::tick(&mut conn, app.clock.now(), stopping).expect("roll");
    assert_eq!(first.len(), 1, "{first:?}");
    let rest = roll(&app);
    assert_eq!(rest.first().map(|r| r.0), first[0].1.succ_opt());
    assert_eq!(rest.last().map(|r| r.1), Some(d("2026-11-19")));
}
