//! Deadlines in working days (限期办理) and when a late problem escalates (督办).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

use super::calendar::Calendar;

/// The department must contact the enterprise within this many working days of assignment.
pub const CONTACT_WORKING_DAYS: u32 = 3;
/// A response nobody rated may be closed by the hub after this many working days.
pub const UNRATED_CLOSE_WORKING_DAYS: u32 = 5;
/// Still without a response this many working days after the due date: the last level.
pub const STILL_OVERDUE_WORKING_DAYS: u32 = 5;
/// The longest deadline a dispatcher may set (a year of working days).
pub const MAX_DUE_WORKING_DAYS: u32 = 250;
pub const TOP_ESCALATION_LEVEL: i16 = 3;

/// The China-local date of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Shanghai).date_naive()
}

/// The last second of a China-local day: a deadline "on" a day lasts the whole day.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    let last = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default();
    // China has no daylight saving time, so the local time is never ambiguous or skipped.
    Shanghai
        .from_local_datetime(&day.and_time(last))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(last).and_utc())
}

/// The deadlines an assignment sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub contact_due_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Some day counted lies in a year without a published schedule (weekdays assumed).
    pub provisional: bool,
    pub calendar_version: i64,
}

/// Deadlines of a problem assigned at `at`: contact by the end of the third working day,
/// response by the end of the `due_working_days`-th (the day of assignment does not count).
pub fn on_assignment(calendar: &Calendar, at: DateTime<Utc>, due_working_days: u32) -> Deadlines {
    let day = local_date(at);
    let (contact_day, contact_provisional) = calendar.add_working_days(day, CONTACT_WORKING_DAYS);
    let (due_day, due_provisional) = calendar.add_working_days(day, due_working_days);
    Deadlines {
        // A deadline shorter than the contact window makes the contact window that short too.
        contact_due_at: end_of_day(contact_day.min(due_day)),
        due_at: end_of_day(due_day),
        provisional: contact_provisional || due_provisional,
        calendar_version: calendar.version,
    }
}

/// A co-handler's contact deadline: the end of the `working_days`-th working day after `at`,
/// never later than the lead's due date.
pub fn contact_due(
    calendar: &Calendar,
    at: DateTime<Utc>,
    working_days: u32,
    due_at: DateTime<Utc>,
) -> DateTime<Utc> {
    let (day, _) = calendar.add_working_days(local_date(at), working_days);
    end_of_day(day).min(due_at)
}

/// The first instant of a China-local day.
pub fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    Shanghai
        .from_local_datetime(&midnight)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}

/// Whether a response given at `responded_at` has waited long enough without a rating for
/// the hub to close the problem.
pub fn unrated_window_over(calendar: &Calendar, responded_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let (last_day, _) = calendar.add_working_days(local_date(responded_at), UNRATED_CLOSE_WORKING_DAYS);
    now > end_of_day(last_day)
}

/// When to remind of a deadline "one working day before it falls due": 09:00 China time on
/// the last working day before the deadline's day.
pub fn reminder_at(calendar: &Calendar, deadline: DateTime<Utc>) -> DateTime<Utc> {
    start_of_day(previous_working_day(calendar, local_date(deadline))) + Duration::hours(9)
}

/// The last working day before `day`.
pub fn previous_working_day(calendar: &Calendar, day: NaiveDate) -> NaiveDate {
    let mut before = day - Duration::days(1);
    for _ in 0..60 {
        if calendar.is_working_day(before) {
            break;
        }
        before -= Duration::days(1);
    }
    before
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationReason {
    /// No contact by `contact_due_at` (or contact made only after it).
    ContactOverdue,
    /// No response by `due_at`.
    ResponseOverdue,
    /// Still no response `STILL_OVERDUE_WORKING_DAYS` working days after `due_at`.
    StillOverdue,
}

impl EscalationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::ContactOverdue => "contact_overdue",
            EscalationReason::ResponseOverdue => "response_overdue",
            EscalationReason::StillOverdue => "still_overdue",
        }
    }
}

/// What escalation needs to know of a problem waiting on its department.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    pub contact_due_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub contacted_at: Option<DateTime<Utc>>,
}

/// The deadline windows a waiting problem has missed by `now`, in order: the first missed
/// window is level 1, the second level 2, the third level 3. A problem that was contacted in
/// time but answered late therefore escalates first for the answer.
pub fn missed_windows(calendar: &Calendar, waiting: &Waiting, now: DateTime<Utc>) -> Vec<EscalationReason> {
    let mut missed = Vec::new();
    let contact_missed = match waiting.contacted_at {
        Some(contacted) => contacted > waiting.contact_due_at,
        None => now > waiting.contact_due_at,
    };
    if contact_missed {
        missed.push(EscalationReason::ContactOverdue);
    }
    if now > waiting.due_at {
        missed.push(EscalationReason::ResponseOverdue);
        let (still_day, _) =
            calendar.add_working_days(local_date(waiting.due_at), STILL_OVERDUE_WORKING_DAYS);
        if now > end_of_day(still_day) {
            missed.push(EscalationReason::StillOverdue);
        }
    }
    missed
}

/// The instant such that, at `now`, a problem due at `due_at` has also missed the "still
/// overdue" window exactly when `due_at` lies before it. Lets the escalation job ask the
/// database for the problems that need it, and nothing else.
pub fn still_overdue_before(calendar: &Calendar, now: DateTime<Utc>) -> DateTime<Utc> {
    // `add_working_days` never moves back when its start does, so the due days whose window has
    // closed are every day up to a last one. Four days before today the window (five working
    // days, each a later date) cannot have closed yet; walk back from there to the last one.
    let mut day = local_date(now) - Duration::days(4);
    for _ in 0..366 {
        let (last, _) = calendar.add_working_days(day, STILL_OVERDUE_WORKING_DAYS);
        if now > end_of_day(last) {
            break;
        }
        day -= Duration::days(1);
    }
    start_of_day(day + Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
    }

    #[test]
    fn a_deadline_is_reminded_at_nine_on_the_working_day_before_it() {
        let calendar = Calendar::shipped();
        // Monday's deadline: Friday morning.
        assert_eq!(
            reminder_at(calendar, at("2026-11-23T23:59:59+08:00")),
            at("2026-11-20T09:00:00+08:00")
        );
        // Across the National Day holiday (1–7 October 2026) and its make-up Saturday (10
        // October): the last working day before, as the State Council's notice has them.
        assert_eq!(previous_working_day(calendar, d("2026-10-08")), d("2026-09-30"));
        assert_eq!(previous_working_day(calendar, d("2026-10-12")), d("2026-10-10"));
    }

    #[test]
    fn a_deadline_lasts_until_the_end_of_the_china_day() {
        assert_eq!(end_of_day(d("2026-11-20")), at("2026-11-20T23:59:59+08:00"));
    }

    #[test]
    fn deadlines_skip_the_national_day_holiday() {
        // Assigned on the eve of National Day 2026, 16:30 China time (08:30 UTC).
        let deadlines = on_assignment(Calendar::shipped(), at("2026-09-30T16:30:00+08:00"), 5);
        assert_eq!(deadlines.contact_due_at, at("2026-10-10T23:59:59+08:00"));
        assert_eq!(deadlines.due_at, at("2026-10-13T23:59:59+08:00"));
        assert!(!deadlines.provisional);
    }

    #[test]
    fn assignment_at_07_30_china_time_counts_from_that_china_date() {
        // 2026-11-19T23:30Z is Friday 07:30 in China: Friday is day 0, not Thursday.
        let deadlines = on_assignment(Calendar::shipped(), at("2026-11-19T23:30:00Z"), 1);
        assert_eq!(deadlines.due_at, at("2026-11-23T23:59:59+08:00"));
        assert_eq!(
            deadlines.contact_due_at, deadlines.due_at,
            "never later than the due date"
        );
    }

    #[test]
    fn a_deadline_in_an_unpublished_year_is_provisional() {
        let deadlines = on_assignment(Calendar::shipped(), at("2026-12-28T10:00:00+08:00"), 10);
        assert!(deadlines.provisional);
        assert_eq!(deadlines.due_at, at("2027-01-11T23:59:59+08:00"));
    }

    #[test]
    fn missed_windows_count_up_one_level_per_deadline() {
        let calendar = Calendar::shipped();
        let waiting = Waiting {
            contact_due_at: at("2026-11-25T23:59:59+08:00"),
            due_at: at("2026-12-04T23:59:59+08:00"),
            contacted_at: None,
        };
        assert!(missed_windows(calendar, &waiting, at("2026-11-25T23:59:59+08:00")).is_empty());
        use EscalationReason::*;
        assert_eq!(
            missed_windows(calendar, &waiting, at("2026-11-26T00:00:00+08:00")),
            vec![ContactOverdue]
        );
        assert_eq!(
            missed_windows(calendar, &waiting, at("2026-12-05T09:00:00+08:00")),
            vec![ContactOverdue, ResponseOverdue]
        );
        // Five working days after Friday 4 December: Friday 11 December.
        assert_eq!(
            missed_windows(calendar, &waiting, at("2026-12-11T20:00:00+08:00")).len(),
            2
        );
        assert_eq!(
            missed_windows(calendar, &waiting, at("2026-12-12T00:00:01+08:00")),
            vec![ContactOverdue, ResponseOverdue, StillOverdue]
        );
        let contacted_in_time = Waiting {
            contacted_at: Some(at("2026-11-24T10:00:00+08:00")),
            ..waiting
        };
        assert_eq!(
            missed_windows(calendar, &contacted_in_time, at("2026-12-05T09:00:00+08:00")),
            vec![ResponseOverdue]
        );
    }

    #[test]
    fn still_overdue_before_agrees_with_missed_windows_for_every_due_day() {
        let calendar = Calendar::shipped();
        // Around National Day and the Spring Festival, where five working days span the most.
        for now in [
            at("2026-10-12T09:00:00+08:00"),
            at("2026-10-09T23:59:59.500+08:00"),
            at("2026-02-24T00:00:00+08:00"),
            at("2026-11-28T16:00:00+08:00"),
        ] {
            let before = still_overdue_before(calendar, now);
            for back in 0..40 {
                let due_at = end_of_day(local_date(now) - Duration::days(back));
                let waiting = Waiting {
                    contact_due_at: due_at,
                    due_at,
                    contacted_at: Some(due_at),
                };
                let missed = missed_windows(calendar, &waiting, now);
                assert_eq!(
                    due_at < before,
                    missed.contains(&EscalationReason::StillOverdue),
                    "due {due_at} at {now}"
                );
            }
        }
    }

    #[test]
    fn an_unrated_response_may_be_closed_after_five_working_days() {
        let calendar = Calendar::shipped();
        let responded = at("2026-11-20T10:00:00+08:00");
        assert!(!unrated_window_over(
            calendar,
            responded,
            at("2026-11-27T23:00:00+08:00")
        ));
        assert!(unrated_window_over(
            calendar,
            responded,
            at("2026-11-28T00:00:01+08:00")
        ));
    }
}
