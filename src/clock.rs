//! The one source of "now". Business days are Asia/Shanghai dates, never UTC dates.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset, Utc};
use chrono_tz::Asia::Shanghai;

/// Wall-clock time, or a time that tests set and move instead of sleeping.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<RwLock<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that stands still at `at` until moved with [`Clock::set`] or [`Clock::advance`].
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self {
            fixed: Some(Arc::new(RwLock::new(at))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            // A poisoned lock still holds a valid time; reading it is safe.
            Some(at) => *at.read().unwrap_or_else(|e| e.into_inner()),
            None => Utc::now(),
        }
    }

    /// Today's date in China, the calendar every business rule uses.
    pub fn today(&self) -> NaiveDate {
        local_day(self.now())
    }

    /// Moves a fixed clock; a system clock ignores this.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(fixed) = &self.fixed {
            *fixed.write().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

/// An instant as it goes on the wire: RFC 3339 with China's fixed +08:00 offset (China has
/// no daylight saving, so the offset never changes).
pub fn wire_time(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    const CHINA: i32 = 8 * 3600;
    at.with_timezone(&FixedOffset::east_opt(CHINA).unwrap_or_else(|| Utc.fix()))
}

/// The Asia/Shanghai calendar date of an instant.
pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Shanghai).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn wire_times_carry_the_china_offset() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 21, 0, 5, 0)
            .single()
            .expect("valid");
        assert_eq!(wire_time(at).to_rfc3339(), "2026-11-21T08:05:00+08:00");
    }

    #[test]
    fn half_past_seven_in_china_is_the_next_day_of_the_utc_evening_before() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 20, 23, 30, 0)
            .single()
            .expect("valid");
        assert_eq!(
            local_day(at),
            NaiveDate::from_ymd_opt(2026, 11, 21).expect("valid")
        );
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("valid");
        let clock = Clock::fixed(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::hours(3));
        assert_eq!(clock.now(), start + Duration::hours(3));
    }
}
