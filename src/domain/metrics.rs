//! The dashboard and monthly-report figures' pure rules: how a rate is rounded, the instant a
//! day's figures are taken at, and when a month is over and may be frozen. The definitions
//! themselves are written out in `docs/metrics.md`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, DurationRound, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

use super::daily_report::LATE_FILING_UNTIL;

/// `numerator ÷ denominator` rounded to four decimals, or `None` when nothing was counted
/// (an empty region has no rate, not a rate of 0).
pub fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    if denominator <= 0 {
        return None;
    }
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
    let exact = numerator as f64 / denominator as f64;
    Some((exact * 10_000.0).round() / 10_000.0)
}

/// A mean rounded to two decimals, `None` over nothing.
pub fn mean(total: i64, count: i64) -> Option<f64> {
    if count <= 0 {
        return None;
    }
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
    let exact = total as f64 / count as f64;
    Some((exact * 100.0).round() / 100.0)
}

/// The first instant of a China-local day.
pub fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    // China has no daylight saving time: midnight always exists and is unique.
    Shanghai
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// The instant a day's state-of-the-problems figures are taken at: the end of the day once it
/// is over, else the current minute. Whole minutes make a cached answer and a fresh one taken
/// in the same minute identical.
pub fn cutoff(day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    let end = start_of_day(day + Duration::days(1));
    let minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    end.min(minute)
}

/// A calendar month (月), written `2026-10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(NaiveDate);

impl Month {
    pub fn containing(day: NaiveDate) -> Month {
        Month(day.with_day(1).unwrap_or(day))
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().0 - Duration::days(1)
    }

    pub fn next(self) -> Month {
        Month(self.0 + Months::new(1))
    }

    pub fn previous(self) -> Month {
        Month(self.0 - Months::new(1))
    }

    /// When the month's figures can no longer change by ordinary use: its last daily report may
    /// be revised until 10:00 on the next month's first day.
    pub fn over_at(self) -> DateTime<Utc> {
        let first = self.next().0;
        Shanghai
            .from_local_datetime(&first.and_time(LATE_FILING_UNTIL))
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| first.and_time(LATE_FILING_UNTIL).and_utc())
    }

    pub fn is_over(self, now: DateTime<Utc>) -> bool {
        now >= self.over_at()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m"))
    }
}

impl FromStr for Month {
    type Err = ();

    /// `YYYY-MM`, nothing else.
    fn from_str(s: &str) -> Result<Month, ()> {
        if s.len() != 7 {
            return Err(());
        }
        NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
            .map(Month)
            .map_err(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_rate_is_rounded_to_four_decimals_and_absent_over_nothing() {
        assert_eq!(rate(2, 3), Some(0.6667));
        assert_eq!(rate(0, 5), Some(0.0));
        assert_eq!(rate(5, 5), Some(1.0));
        assert_eq!(rate(0, 0), None);
        assert_eq!(mean(7, 3), Some(2.33));
        assert_eq!(mean(1, 0), None);
    }

    #[test]
    fn a_day_starts_at_china_midnight() {
        assert_eq!(start_of_day(day("2026-11-21")), at("2026-11-20T16:00:00Z"));
    }

    #[test]
    fn the_cutoff_is_the_current_minute_today_and_the_end_of_a_past_day() {
        let now = at("2026-11-21T10:15:42+08:00");
        assert_eq!(cutoff(day("2026-11-21"), now), at("2026-11-21T10:15:00+08:00"));
        assert_eq!(cutoff(day("2026-11-20"), now), at("2026-11-21T00:00:00+08:00"));
    }

    #[test]
    fn a_month_parses_only_as_year_and_month() {
        let month: Month = "2026-02".parse().unwrap_or(Month(NaiveDate::MIN));
        assert_eq!(month.first_day(), day("2026-02-01"));
        assert_eq!(month.last_day(), day("2026-02-28"));
        assert_eq!(month.to_string(), "2026-02");
        assert_eq!(month.previous().to_string(), "2026-01");
        for bad in ["2026-2", "2026-13", "2026-02-01", "", "二〇二六"] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_month_is_over_when_its_last_report_can_no_longer_be_revised() {
        let october: Month = "2026-10".parse().unwrap_or(Month(NaiveDate::MIN));
        assert_eq!(october.over_at(), at("2026-11-01T10:00:00+08:00"));
        assert!(!october.is_over(at("2026-11-01T09:59:59+08:00")));
        assert!(october.is_over(at("2026-11-01T10:00:00+08:00")));
        assert_eq!(Month::containing(day("2026-12-31")).next().to_string(), "2027-01");
    }
}
