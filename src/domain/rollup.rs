//! The officers' days rolled up (汇总): which settled days are kept per officer and day and per
//! officer and month (migration 000029), and how a period's figures are read from them: whole
//! months from the month rows, the rest of the rolled span from the day rows, and the days
//! outside it from the raw sign-ins, reports and assignments.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::daily_report;
use super::metrics::Month;

/// The days rolled so far, `from..=through`; every day in it has its rows, none outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolledSpan {
    pub from: NaiveDate,
    pub through: NaiveDate,
}

/// The last day whose figures can no longer change by ordinary use: its sign-ins closed with
/// the day, and its reports at 10:00 the next morning (`daily_report::closes_at`). Only such
/// days are rolled.
pub fn last_settled_day(today: NaiveDate, now: DateTime<Utc>) -> NaiveDate {
    let yesterday = today - Duration::days(1);
    if daily_report::closes_at(yesterday) <= now {
        yesterday
    } else {
        yesterday - Duration::days(1)
    }
}

/// The next days to roll after `span` (from the first assignment's day when nothing is rolled
/// yet), up to `settled`: at most to the end of their month, so that each roll is one month's
/// work in one transaction and leaves whole months behind it.
pub fn next_roll(
    span: Option<RolledSpan>,
    first_day: NaiveDate,
    settled: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let from = span.map_or(first_day, |s| s.through + Duration::days(1));
    let to = settled.min(Month::containing(from).last_day());
    (from <= to).then_some((from, to))
}

/// Where the figures of the local days `from..=to` are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeriodPlan {
    /// The first days of the first and the last month whose month rows count whole.
    pub months: Option<(NaiveDate, NaiveDate)>,
    /// Day rows (at most a partial month at each end of the rolled part).
    pub days: [Option<(NaiveDate, NaiveDate)>; 2],
    /// Raw rows: the period's days before the rolled span and after it.
    pub raw: [Option<(NaiveDate, NaiveDate)>; 2],
}

impl PeriodPlan {
    pub fn of(from: NaiveDate, to: NaiveDate, span: Option<RolledSpan>) -> PeriodPlan {
        let raw_only = PeriodPlan {
            raw: [Some((from, to)), None],
            ..PeriodPlan::default()
        };
        let Some(span) = span else { return raw_only };
        let (a, b) = (from.max(span.from), to.min(span.through));
        if a > b {
            return raw_only;
        }
        // A month row holds the month's days within the span: it counts when all of those are
        // in the period.
        let whole = |m: Month| from <= m.first_day().max(span.from) && m.last_day().min(span.through) <= to;
        let (first, last) = (Month::containing(a), Month::containing(b));
        let mut plan = PeriodPlan {
            raw: [
                (from < a).then(|| (from, a - Duration::days(1))),
                (b < to).then(|| (b + Duration::days(1), to)),
            ],
            ..PeriodPlan::default()
        };
        if first == last {
            if whole(first) {
                plan.months = Some((first.first_day(), first.first_day()));
            } else {
                plan.days[0] = Some((a, b));
            }
            return plan;
        }
        let mut months = (first, last);
        if !whole(first) {
            plan.days[0] = Some((a, first.last_day()));
            months.0 = first.next();
        }
        if !whole(last) {
            plan.days[1] = Some((last.first_day(), b));
            months.1 = last.previous();
        }
        plan.months = (months.0 <= months.1).then(|| (months.0.first_day(), months.1.first_day()));
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn span(from: &str, through: &str) -> Option<RolledSpan> {
        Some(RolledSpan {
            from: d(from),
            through: d(through),
        })
    }

    fn range(a: &str, b: &str) -> Option<(NaiveDate, NaiveDate)> {
        Some((d(a), d(b)))
    }

    /// Every day of the period is read exactly once, from one of the plan's sources.
    fn days_read(plan: &PeriodPlan, span: RolledSpan) -> Vec<NaiveDate> {
        let mut days = Vec::new();
        let mut push = |(a, b): (NaiveDate, NaiveDate)| days.extend(a.iter_days().take_while(|x| *x <= b));
        if let Some((m1, m2)) = plan.months {
            let mut m = Month::containing(m1);
            while m.first_day() <= m2 {
                push((m.first_day().max(span.from), m.last_day().min(span.through)));
                m = m.next();
            }
        }
        plan.days
            .iter()
            .chain(plan.raw.iter())
            .flatten()
            .for_each(|r| push(*r));
        days.sort();
        days
    }

    #[test]
    fn this_month_so_far_is_its_month_row_and_the_unsettled_days_raw() {
        let plan = PeriodPlan::of(d("2026-11-01"), d("2026-11-29"), span("2025-12-01", "2026-11-27"));
        assert_eq!(plan.months, range("2026-11-01", "2026-11-01"));
        assert_eq!(plan.days, [None, None]);
        assert_eq!(plan.raw, [None, range("2026-11-28", "2026-11-29")]);
    }

    #[test]
    fn a_month_rolled_past_the_period_is_read_by_its_days() {
        let plan = PeriodPlan::of(d("2026-11-01"), d("2026-11-20"), span("2025-12-01", "2026-11-27"));
        assert_eq!(plan.months, None);
        assert_eq!(plan.days, [range("2026-11-01", "2026-11-20"), None]);
        assert_eq!(plan.raw, [None, None]);
    }

    #[test]
    fn a_long_period_takes_whole_months_and_partial_ends_by_day() {
        let plan = PeriodPlan::of(d("2026-02-10"), d("2026-06-05"), span("2025-12-01", "2026-11-27"));
        assert_eq!(plan.months, range("2026-03-01", "2026-05-01"));
        assert_eq!(
            plan.days,
            [
                range("2026-02-10", "2026-02-28"),
                range("2026-06-01", "2026-06-05")
            ]
        );
        assert_eq!(plan.raw, [None, None]);
    }

    #[test]
    fn days_before_and_after_the_span_are_raw() {
        let s = span("2026-03-15", "2026-11-27");
        let plan = PeriodPlan::of(d("2026-01-01"), d("2026-12-31"), s);
        assert_eq!(
            plan.raw,
            [
                range("2026-01-01", "2026-03-14"),
                range("2026-11-28", "2026-12-31")
            ]
        );
        // March's row holds only the span's part of March, all in the period: it counts whole.
        assert_eq!(plan.months, range("2026-03-01", "2026-11-01"));
        assert_eq!(plan.days, [None, None]);
    }

    #[test]
    fn nothing_rolled_or_a_period_outside_the_span_is_all_raw() {
        let all_raw = [range("2026-11-01", "2026-11-29"), None];
        assert_eq!(
            PeriodPlan::of(d("2026-11-01"), d("2026-11-29"), None).raw,
            all_raw
        );
        let outside = PeriodPlan::of(d("2026-11-01"), d("2026-11-29"), span("2026-01-01", "2026-10-31"));
        assert_eq!(outside.raw, all_raw);
        assert_eq!(outside.months, None);
    }

    #[test]
    fn every_day_of_any_period_is_read_once() {
        let s = RolledSpan {
            from: d("2026-01-20"),
            through: d("2026-05-10"),
        };
        let first = d("2025-12-25");
        for start in 0..160 {
            for len in [0, 1, 9, 30, 31, 45, 100, 150] {
                let from = first + Duration::days(start);
                let to = from + Duration::days(len);
                let plan = PeriodPlan::of(from, to, Some(s));
                let expected: Vec<_> = from.iter_days().take_while(|x| *x <= to).collect();
                assert_eq!(days_read(&plan, s), expected, "{from}..={to}");
            }
        }
    }

    #[test]
    fn a_day_settles_when_its_reports_close_at_ten_the_next_morning() {
        let today = d("2026-11-20");
        let before_ten = chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 11, 20, 9, 59, 0)
            .unwrap();
        let at_ten = chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
            .unwrap();
        assert_eq!(
            last_settled_day(today, before_ten.with_timezone(&Utc)),
            d("2026-11-18")
        );
        assert_eq!(
            last_settled_day(today, at_ten.with_timezone(&Utc)),
            d("2026-11-19")
        );
    }

    #[test]
    fn rolls_go_a_month_at_a_time_up_to_the_settled_day() {
        let settled = d("2026-11-19");
        assert_eq!(
            next_roll(None, d("2026-09-15"), settled),
            range("2026-09-15", "2026-09-30")
        );
        assert_eq!(
            next_roll(span("2026-09-15", "2026-10-31"), d("2026-09-15"), settled),
            range("2026-11-01", "2026-11-19")
        );
        assert_eq!(
            next_roll(span("2026-09-15", "2026-11-19"), d("2026-09-15"), settled),
            None
        );
    }
}
