//! The official working-day calendar (工作日/调休): public holidays and the make-up workdays
//! that the State Council announces each year, so deadlines and "who has not reported" count
//! the days people actually work.
//!
//! The schedules below are transcribed from the State Council General Office notices (国办发明电)
//! for each year; tests cross-check them against an independent copy. A year without a
//! published schedule falls back to Monday–Friday and is reported as provisional.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// One year's notice: holiday ranges (inclusive) and make-up workdays.
struct Schedule {
    year: i32,
    notice: &'static str,
    holidays: &'static [(&'static str, &'static str, &'static str)],
    workdays: &'static [(&'static str, &'static str)],
}

const SCHEDULES: &[Schedule] = &[
    Schedule {
        year: 2020,
        // 国办发明电〔2019〕16号, extended by 国办发明电〔2020〕1号 (Spring Festival to 2 February).
        notice: "国办发明电〔2019〕16号；国办发明电〔2020〕1号",
        holidays: &[
            ("元旦", "2020-01-01", "2020-01-01"),
            ("春节", "2020-01-24", "2020-02-02"),
            ("清明节", "2020-04-04", "2020-04-06"),
            ("劳动节", "2020-05-01", "2020-05-05"),
            ("端午节", "2020-06-25", "2020-06-27"),
            ("国庆节、中秋节", "2020-10-01", "2020-10-08"),
        ],
        workdays: &[
            ("春节", "2020-01-19"),
            ("劳动节", "2020-04-26"),
            ("劳动节", "2020-05-09"),
            ("端午节", "2020-06-28"),
            ("国庆节、中秋节", "2020-09-27"),
            ("国庆节、中秋节", "2020-10-10"),
        ],
    },
    Schedule {
        year: 2021,
        notice: "国办发明电〔2020〕27号",
        holidays: &[
            ("元旦", "2021-01-01", "2021-01-03"),
            ("春节", "2021-02-11", "2021-02-17"),
            ("清明节", "2021-04-03", "2021-04-05"),
            ("劳动节", "2021-05-01", "2021-05-05"),
            ("端午节", "2021-06-12", "2021-06-14"),
            ("中秋节", "2021-09-19", "2021-09-21"),
            ("国庆节", "2021-10-01", "2021-10-07"),
        ],
        workdays: &[
            ("春节", "2021-02-07"),
            ("春节", "2021-02-20"),
            ("劳动节", "2021-04-25"),
            ("劳动节", "2021-05-08"),
            ("中秋节", "2021-09-18"),
            ("国庆节", "2021-09-26"),
            ("国庆节", "2021-10-09"),
        ],
    },
    Schedule {
        year: 2022,
        notice: "国办发明电〔2021〕11号",
        holidays: &[
            ("元旦", "2022-01-01", "2022-01-03"),
            ("春节", "2022-01-31", "2022-02-06"),
            ("清明节", "2022-04-03", "2022-04-05"),
            ("劳动节", "2022-04-30", "2022-05-04"),
            ("端午节", "2022-06-03", "2022-06-05"),
            ("中秋节", "2022-09-10", "2022-09-12"),
            ("国庆节", "2022-10-01", "2022-10-07"),
        ],
        workdays: &[
            ("春节", "2022-01-29"),
            ("春节", "2022-01-30"),
            ("清明节", "2022-04-02"),
            ("劳动节", "2022-04-24"),
            ("劳动节", "2022-05-07"),
            ("国庆节", "2022-10-08"),
            ("国庆节", "2022-10-09"),
        ],
    },
    Schedule {
        year: 2023,
        notice: "国办发明电〔2022〕16号",
        holidays: &[
            ("元旦", "2022-12-31", "2023-01-02"),
            ("春节", "2023-01-21", "2023-01-27"),
            ("清明节", "2023-04-05", "2023-04-05"),
            ("劳动节", "2023-04-29", "2023-05-03"),
            ("端午节", "2023-06-22", "2023-06-24"),
            ("中秋节、国庆节", "2023-09-29", "2023-10-06"),
        ],
        workdays: &[
            ("春节", "2023-01-28"),
            ("春节", "2023-01-29"),
            ("劳动节", "2023-04-23"),
            ("劳动节", "2023-05-06"),
            ("端午节", "2023-06-25"),
            ("中秋节、国庆节", "2023-10-07"),
            ("中秋节、国庆节", "2023-10-08"),
        ],
    },
    Schedule {
        year: 2024,
        notice: "国办发明电〔2023〕7号",
        holidays: &[
            ("元旦", "2024-01-01", "2024-01-01"),
            ("春节", "2024-02-10", "2024-02-17"),
            ("清明节", "2024-04-04", "2024-04-06"),
            ("劳动节", "2024-05-01", "2024-05-05"),
            ("端午节", "2024-06-08", "2024-06-10"),
            ("中秋节", "2024-09-15", "2024-09-17"),
            ("国庆节", "2024-10-01", "2024-10-07"),
        ],
        workdays: &[
            ("春节", "2024-02-04"),
            ("春节", "2024-02-18"),
            ("清明节", "2024-04-07"),
            ("劳动节", "2024-04-28"),
            ("劳动节", "2024-05-11"),
            ("中秋节", "2024-09-14"),
            ("国庆节", "2024-09-29"),
            ("国庆节", "2024-10-12"),
        ],
    },
    Schedule {
        year: 2025,
        notice: "国办发明电〔2024〕12号",
        holidays: &[
            ("元旦", "2025-01-01", "2025-01-01"),
            ("春节", "2025-01-28", "2025-02-04"),
            ("清明节", "2025-04-04", "2025-04-06"),
            ("劳动节", "2025-05-01", "2025-05-05"),
            ("端午节", "2025-05-31", "2025-06-02"),
            ("国庆节、中秋节", "2025-10-01", "2025-10-08"),
        ],
        workdays: &[
            ("春节", "2025-01-26"),
            ("春节", "2025-02-08"),
            ("劳动节", "2025-04-27"),
            ("国庆节、中秋节", "2025-09-28"),
            ("国庆节、中秋节", "2025-10-11"),
        ],
    },
    Schedule {
        year: 2026,
        notice: "国办发明电〔2025〕7号",
        holidays: &[
            ("元旦", "2026-01-01", "2026-01-03"),
            ("春节", "2026-02-15", "2026-02-23"),
            ("清明节", "2026-04-04", "2026-04-06"),
            ("劳动节", "2026-05-01", "2026-05-05"),
            ("端午节", "2026-06-19", "2026-06-21"),
            ("中秋节", "2026-09-25", "2026-09-27"),
            ("国庆节", "2026-10-01", "2026-10-07"),
        ],
        workdays: &[
            ("元旦", "2026-01-04"),
            ("春节", "2026-02-14"),
            ("春节", "2026-02-28"),
            ("劳动节", "2026-05-09"),
            ("国庆节", "2026-09-20"),
            ("国庆节", "2026-10-10"),
        ],
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A public holiday (法定节假日), on whatever weekday it falls.
    Holiday,
    /// A weekend day that is worked to make up for a holiday (调休上班).
    MakeUpWorkday,
}

/// The official calendar: the days that differ from the Monday–Friday rule, by date.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    exceptions: HashMap<NaiveDate, (DayKind, &'static str)>,
    years: Vec<i32>,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

impl Calendar {
    /// The schedules shipped with the service (2020–2026).
    pub fn official() -> &'static Calendar {
        static OFFICIAL: OnceLock<Calendar> = OnceLock::new();
        OFFICIAL.get_or_init(|| {
            let mut calendar = Calendar::default();
            for schedule in SCHEDULES {
                calendar.years.push(schedule.year);
                for (name, from, to) in schedule.holidays {
                    let (Some(mut day), Some(to)) = (date(from), date(to)) else {
                        continue;
                    };
                    while day <= to {
                        calendar.exceptions.insert(day, (DayKind::Holiday, name));
                        day += Duration::days(1);
                    }
                }
                for (name, day) in schedule.workdays {
                    if let Some(day) = date(day) {
                        calendar.exceptions.insert(day, (DayKind::MakeUpWorkday, name));
                    }
                }
            }
            calendar
        })
    }

    /// Whether the year's official schedule is known (otherwise weekdays are assumed).
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The holiday or make-up workday on `day`, with its name, if it is one.
    pub fn exception(&self, day: NaiveDate) -> Option<(DayKind, &'static str)> {
        self.exceptions.get(&day).copied()
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.exception(day) {
            Some((DayKind::Holiday, _)) => false,
            Some((DayKind::MakeUpWorkday, _)) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The day `n` working days after `from` (`from` itself does not count), and whether any
    /// day on the way lies in a year without a published schedule.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> (NaiveDate, bool) {
        let mut day = from;
        let mut counted = 0;
        let mut provisional = false;
        while counted < n {
            day += Duration::days(1);
            provisional |= !self.covers(day.year());
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        (day, provisional)
    }

    /// The notice a year's schedule was transcribed from.
    pub fn notice(year: i32) -> Option<&'static str> {
        SCHEDULES.iter().find(|s| s.year == year).map(|s| s.notice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        date(s).expect("valid date")
    }

    #[test]
    fn three_working_days_after_the_eve_of_national_day_2026_is_the_make_up_saturday() {
        assert_eq!(
            Calendar::official().add_working_days(d("2026-09-30"), 3),
            (d("2026-10-10"), false)
        );
    }

    #[test]
    fn holidays_are_off_and_make_up_weekends_are_worked() {
        let calendar = Calendar::official();
        assert!(
            !calendar.is_working_day(d("2026-10-01")),
            "National Day, a Thursday"
        );
        assert!(calendar.is_working_day(d("2026-09-20")), "make-up Sunday");
        assert!(calendar.is_working_day(d("2026-11-20")), "an ordinary Friday");
        assert!(!calendar.is_working_day(d("2026-11-21")), "an ordinary Saturday");
    }

    #[test]
    fn a_year_without_a_schedule_counts_weekdays_and_says_so() {
        let (day, provisional) = Calendar::official().add_working_days(d("2026-12-30"), 3);
        assert_eq!(day, d("2027-01-04"));
        assert!(provisional);
    }

    #[test]
    fn every_year_from_2020_to_2026_is_covered() {
        for year in 2020..=2026 {
            assert!(Calendar::official().covers(year), "{year}");
            assert!(Calendar::notice(year).is_some());
        }
    }
}
