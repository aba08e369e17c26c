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
    let calendar = Calendar::official();
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
