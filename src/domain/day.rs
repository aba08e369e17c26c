//! The days the service deals in: from the first year of the official calendar it ships (2020)
//! to the end of the century. A date outside is refused where it enters, so no date arithmetic
//! downstream can overflow (chrono's dates end in the year 262142) and no one can make the
//! server compute, cache or freeze the figures of the year 1900.

use chrono::NaiveDate;

/// The first day the service knows.
pub fn first() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// The last day the service knows.
pub fn last() -> NaiveDate {
    NaiveDate::from_ymd_opt(2099, 12, 31).unwrap_or(NaiveDate::MAX)
}

pub fn known(day: NaiveDate) -> bool {
    (first()..=last()).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_knows_2020_to_2099() {
        assert!(known(NaiveDate::from_ymd_opt(2026, 11, 28).expect("date")));
        assert!(!known(NaiveDate::from_ymd_opt(1900, 1, 1).expect("date")));
        assert!(!known(NaiveDate::MAX));
        assert!(!known(NaiveDate::from_ymd_opt(2100, 1, 1).expect("date")));
    }
}
