//! The five-minute daily report (日报告): what it must contain and when it may be filed.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

use super::field_error::checked_text;
use super::vocabulary::vocabulary;

use super::problem::NewProblemInput;
use super::roster::{FieldCode, FieldError};

/// Yesterday's report may still be filed or revised until this time of the morning.
pub const LATE_FILING_UNTIL: NaiveTime = match NaiveTime::from_hms_opt(10, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};
pub const MAX_TEXT: usize = 2000;
pub const MAX_PROBLEMS: usize = 20;
const MAX_STAFF: i32 = 1_000_000;

/// Whether a report for `day` may be filed or revised at `now`: today's always, yesterday's
/// until 10:00 China time, nothing else.
pub fn is_open(now: DateTime<Utc>, day: NaiveDate) -> bool {
    let local = now.with_timezone(&Shanghai);
    let today = local.date_naive();
    day == today || (day + Duration::days(1) == today && local.time() < LATE_FILING_UNTIL)
}

/// The last instant a report for `day` may be filed or revised: 10:00 China time the next
/// morning (`is_open` is true before it).
pub fn closes_at(day: NaiveDate) -> DateTime<Utc> {
    let local = (day + Duration::days(1)).and_time(LATE_FILING_UNTIL);
    use chrono::TimeZone;
    Shanghai
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        // China has no daylight saving: every local time exists once.
        .unwrap_or_else(|| local.and_utc() - Duration::hours(8))
}

vocabulary! {
    /// How the enterprise is producing today (`daily_reports.production_status`).
    pub enum ProductionStatus {
        Normal = "normal",
        Partial = "partial",
        Suspended = "suspended",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Production {
    pub status: ProductionStatus,
    pub capacity_pct: i64,
    pub staff_on_duty: i64,
    pub staff_total: i64,
    #[serde(default)]
    pub staff_shortage: i64,
}

/// The body of `PUT /daily-reports/{enterprise_id}/{day}` as the phone sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub work_done: String,
    pub production: Production,
    #[serde(default)]
    pub difficulties: Option<String>,
    #[serde(default)]
    pub problems: Vec<NewProblemInput>,
}

/// A report that passed every rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidReport {
    pub work_done: String,
    pub production_status: ProductionStatus,
    pub capacity_pct: i16,
    pub staff_on_duty: i32,
    pub staff_total: i32,
    pub staff_shortage: i32,
    pub difficulties: Option<String>,
}

fn count(errors: &mut Vec<FieldError>, field: &str, value: i64) -> i32 {
    if !(0..=i64::from(MAX_STAFF)).contains(&value) {
        errors.push(FieldError::new(
            field,
            FieldCode::OutOfRange,
            format!("应为 0 到 {MAX_STAFF} 之间的整数"),
        ));
        return 0;
    }
    value as i32
}

impl ReportInput {
    /// Checks every field, reporting all problems at once.
    pub fn validate(&self) -> Result<ValidReport, Vec<FieldError>> {
        let mut errors = Vec::new();
        let work_done =
            checked_text(&mut errors, "work_done", Some(&self.work_done), MAX_TEXT, true).unwrap_or_default();
        let difficulties = checked_text(
            &mut errors,
            "difficulties",
            self.difficulties.as_deref(),
            MAX_TEXT,
            false,
        );
        let p = &self.production;
        if !(0..=100).contains(&p.capacity_pct) {
            errors.push(FieldError::new(
                "production.capacity_pct",
                FieldCode::OutOfRange,
                "应为 0 到 100 之间的整数",
            ));
        }
        let staff_on_duty = count(&mut errors, "production.staff_on_duty", p.staff_on_duty);
        let staff_total = count(&mut errors, "production.staff_total", p.staff_total);
        let staff_shortage = count(&mut errors, "production.staff_shortage", p.staff_shortage);
        if staff_on_duty > staff_total {
            errors.push(FieldError::new(
                "production.staff_on_duty",
                FieldCode::OutOfRange,
                "在岗人数不能超过职工总数",
            ));
        }
        if self.problems.len() > MAX_PROBLEMS {
            errors.push(FieldError::new(
                "problems",
                FieldCode::TooMany,
                format!("一份日报最多反映{MAX_PROBLEMS}个问题"),
            ));
        }
        for (i, problem) in self.problems.iter().enumerate() {
            if let Err(problem_errors) = problem.validate() {
                errors.extend(problem_errors.into_iter().map(|e| FieldError {
                    field: format!("problems[{i}].{}", e.field),
                    ..e
                }));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidReport {
            work_done,
            production_status: p.status,
            capacity_pct: p.capacity_pct as i16,
            staff_on_duty,
            staff_total,
            staff_shortage,
            difficulties,
        })
    }
}

impl ValidReport {
    /// The names of the fields that differ from `before`, for the revision history.
    pub fn changed_fields(&self, before: &ValidReport) -> Vec<String> {
        let mut changed = Vec::new();
        let mut check = |name: &str, differs: bool| {
            if differs {
                changed.push(name.to_owned());
            }
        };
        check("work_done", self.work_done != before.work_done);
        check(
            "production.status",
            self.production_status != before.production_status,
        );
        check(
            "production.capacity_pct",
            self.capacity_pct != before.capacity_pct,
        );
        check(
            "production.staff_on_duty",
            self.staff_on_duty != before.staff_on_duty,
        );
        check("production.staff_total", self.staff_total != before.staff_total);
        check(
            "production.staff_shortage",
            self.staff_shortage != before.staff_shortage,
        );
        check("difficulties", self.difficulties != before.difficulties);
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_closes_at_ten_the_next_morning_china_time() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).expect("day");
        let closes = closes_at(day);
        assert_eq!(closes.to_rfc3339(), "2026-11-21T02:00:00+00:00");
        assert!(is_open(closes - Duration::seconds(1), day));
        assert!(!is_open(closes, day));
    }
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("valid")
    }

    #[test]
    fn today_is_open_and_yesterday_until_ten_in_the_morning() {
        assert!(is_open(at(2026, 11, 21, 23, 59), day(21)));
        assert!(is_open(at(2026, 11, 22, 9, 59), day(21)));
        assert!(!is_open(at(2026, 11, 22, 10, 0), day(21)));
        assert!(!is_open(at(2026, 11, 22, 8, 0), day(20)));
        assert!(
            !is_open(at(2026, 11, 22, 8, 0), day(23)),
            "no reports for tomorrow"
        );
    }

    fn input() -> ReportInput {
        ReportInput {
            work_done: "走访车间，了解用工情况".into(),
            production: Production {
                status: ProductionStatus::Partial,
                capacity_pct: 80,
                staff_on_duty: 90,
                staff_total: 100,
                staff_shortage: 10,
            },
            difficulties: None,
            problems: vec![],
        }
    }

    #[test]
    fn a_sound_report_validates() {
        let valid = input().validate().expect("valid");
        assert_eq!(valid.capacity_pct, 80);
    }

    #[test]
    fn numbers_are_range_checked_together() {
        let mut bad = input();
        bad.production.capacity_pct = 101;
        bad.production.staff_on_duty = 120;
        bad.production.staff_shortage = -1;
        bad.work_done = "   ".into();
        let fields: Vec<String> = bad
            .validate()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "work_done",
                "production.capacity_pct",
                "production.staff_shortage",
                "production.staff_on_duty"
            ]
        );
    }

    #[test]
    fn changed_fields_name_what_moved() {
        let before = input().validate().expect("valid");
        let mut after = input();
        after.production.capacity_pct = 100;
        after.difficulties = Some("缺电".into());
        let after = after.validate().expect("valid");
        assert_eq!(
            after.changed_fields(&before),
            ["production.capacity_pct", "difficulties"]
        );
    }
}
