//! The shipped calendar against an independent copy of the official schedules
//! (../shared/data/holiday-cn, MIT-licensed), every day of every year.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde_json::Value;

use zhuqi::domain::calendar::Calendar;

fn reference(year: i32) -> Vec<(NaiveDate, bool)> {
    let path = format!(
        "{}/../shared/data/holiday-cn/{year}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reference schedule {path}: {e}"));
    let json: Value = serde_json::from_str(&text).expect("reference is JSON");
    json["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            let day = NaiveDate::parse_from_str(d["date"].as_str().expect("date"), "%Y-%m-%d").expect("date");
            (day, d["isOffDay"].as_bool().expect("isOffDay"))
        })
        .collect()
}

#[test]
fn every_day_from_2020_to_2026_agrees_with_the_reference_schedules() {
    let calendar = Calendar::shipped();
    for year in 2020..=2026 {
        let listed = reference(year);
        let mut day = NaiveDate::from_ymd_opt(year, 1, 1).expect("valid");
        while day.year() == year {
            let expected = match listed.iter().find(|(d, _)| *d == day) {
                Some((_, off)) => !off,
                None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
            };
            assert_eq!(calendar.is_working_day(day), expected, "{day}");
            day += Duration::days(1);
        }
        // Days a schedule lists outside its own year (元旦 2023 began on 2022-12-31).
        for (day, off) in listed.iter().filter(|(d, _)| d.year() != year) {
            assert_eq!(calendar.is_working_day(*day), !off, "{day}");
        }
    }
}

mod endpoints {
    use serde_json::json;

    use crate::helpers::spawn_app;

    #[tokio::test]
    async fn add_working_days_skips_national_day_and_counts_the_make_up_saturday() {
        let app = spawn_app().await;
        app.seed_demo();
        let zhang = app.token("officer.zhang").await;
        let added = app
            .get(
                "/api/v1/calendar/add-working-days?from=2026-09-30&days=3",
                Some(&zhang),
            )
            .await;
        assert_eq!(added.status, 200, "{}", added.text);
        assert_eq!(added.body["date"], "2026-10-10");
        assert_eq!(added.body["provisional"], false);
        let beyond = app
            .get(
                "/api/v1/calendar/add-working-days?from=2026-12-30&days=3",
                Some(&zhang),
            )
            .await;
        assert_eq!(
            (beyond.body["date"].as_str(), beyond.body["provisional"].as_bool()),
            (Some("2027-01-04"), Some(true))
        );
        assert_eq!(
            app.get(
                "/api/v1/calendar/add-working-days?from=2026-13-01&days=3",
                Some(&zhang)
            )
            .await
            .status,
            400
        );
        assert_eq!(
            app.get(
                "/api/v1/calendar/add-working-days?from=2026-09-30&days=-1",
                Some(&zhang)
            )
            .await
            .status,
            400
        );
        assert_eq!(
            app.get("/api/v1/calendar/add-working-days?from=2026-09-30&days=3", None)
                .await
                .status,
            401
        );
    }

    #[tokio::test]
    async fn a_year_is_read_and_an_admin_publishes_the_next_one() {
        let app = spawn_app().await;
        app.seed_demo();
        let dispatcher = app.token("hub.dispatcher").await;
        let year = app.get("/api/v1/calendar/2026", Some(&dispatcher)).await;
        assert_eq!(year.status, 200, "{}", year.text);
        assert_eq!(year.body["published"], true);
        assert_eq!(year.body["source"], "shipped");
        let national_day: Vec<&str> = year.body["days"]
            .as_array()
            .expect("days")
            .iter()
            .filter(|d| d["name"] == "国庆节")
            .map(|d| d["date"].as_str().expect("date"))
            .collect();
        assert!(
            national_day.contains(&"2026-10-01") && national_day.contains(&"2026-10-10"),
            "{national_day:?}"
        );
        let unpublished = app.get("/api/v1/calendar/2027", Some(&dispatcher)).await;
        assert_eq!(
            (
                unpublished.body["published"].as_bool(),
                unpublished.body["days"].as_array().map(Vec::len)
            ),
            (Some(false), Some(0))
        );
        assert_eq!(
            app.get("/api/v1/calendar/1900", Some(&dispatcher)).await.status,
            404
        );

        let schedule = json!({
            "notice": "国办发明电〔2026〕测试号",
            "days": [
                {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
                {"date": "2027-01-02", "kind": "holiday", "name": "元旦"},
                {"date": "2027-01-03", "kind": "holiday", "name": "元旦"},
                {"date": "2027-02-20", "kind": "workday", "name": "春节"}
            ]
        });
        assert_eq!(
            app.put("/api/v1/calendar/2027", Some(&dispatcher), schedule.clone())
                .await
                .status,
            403
        );
        let admin = app.token("demo.admin").await;
        let invalid = app
            .put(
                "/api/v1/calendar/2027",
                Some(&admin),
                json!({"notice": "x", "days": [{"date": "2027-03-03", "kind": "workday", "name": "春节"}]}),
            )
            .await;
        assert_eq!((invalid.status, invalid.code()), (422, "validation.failed"));
        assert_eq!(
            invalid.body["error"]["details"]["errors"][0]["field"],
            "days[0].kind"
        );
        let before = app
            .get(
                "/api/v1/calendar/add-working-days?from=2026-12-30&days=3",
                Some(&admin),
            )
            .await;
        let published = app.put("/api/v1/calendar/2027", Some(&admin), schedule).await;
        assert_eq!(published.status, 200, "{}", published.text);
        assert_eq!(published.body["source"], "uploaded");
        assert_eq!(published.body["days"].as_array().map(Vec::len), Some(4));
        // Counted with the new schedule: 1 January is now a holiday, and no longer provisional.
        let after = app
            .get(
                "/api/v1/calendar/add-working-days?from=2026-12-30&days=3",
                Some(&admin),
            )
            .await;
        assert_eq!(after.body["date"], "2027-01-05");
        assert_eq!(after.body["provisional"], false);
        assert!(after.body["calendar_version"].as_i64() > before.body["calendar_version"].as_i64());
        assert_eq!(
            app.count("SELECT count(*) AS n FROM audit_log WHERE action = 'calendar.replace'"),
            1
        );
    }
}
