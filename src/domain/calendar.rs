//! The official working-day calendar (工作日/调休): public holidays and the make-up workdays
//! that the State Council announces each year, so deadlines and "who has not reported" count
//! the days people actually work.
//!
//! The schedules below are transcribed from the State Council General Office notices (国办发明电)
//! for each year; tests cross-check them against an independent copy. A year without a
//! published schedule falls back to Monday–Friday and is reported as provisional.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::roster::{FieldCode, FieldError};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (法定节假日), on whatever weekday it falls.
    Holiday,
    /// A weekend day that is worked to make up for a holiday (调休上班).
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        match s {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// One day of a year's schedule that differs from the Monday–Friday rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// The holiday it belongs to (春节, 国庆节 …).
    pub name: String,
}

/// A year's official schedule as the State Council publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSchedule {
    pub year: i32,
    pub notice: String,
    pub days: Vec<SpecialDay>,
}

/// Longest holiday name accepted in an uploaded schedule.
const MAX_NAME: usize = 20;
/// More entries than any real year (2020 had 14 holidays and make-up days together).
const MAX_DAYS: usize = 60;
const MAX_NOTICE: usize = 200;

impl YearSchedule {
    /// Checks an uploaded schedule: every date within the year or its first/last week (a
    /// holiday may straddle New Year), no date twice, make-up workdays only on weekends (a
    /// weekday is a working day anyway), names present and short.
    pub fn validate(year: i32, notice: &str, days: Vec<SpecialDay>) -> Result<YearSchedule, Vec<FieldError>> {
        let mut errors = Vec::new();
        let notice = notice.trim();
        if notice.is_empty() || notice.chars().count() > MAX_NOTICE {
            errors.push(FieldError::new(
                "notice",
                FieldCode::TooLong,
                "请填写发布通知的文号（不超过200字）",
            ));
        }
        if days.len() > MAX_DAYS {
            errors.push(FieldError::new(
                "days",
                FieldCode::TooMany,
                "节假日和调休日期过多",
            ));
        }
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return Err(vec![FieldError::new("year", FieldCode::Invalid, "年份无效")]);
        };
        let mut seen = std::collections::HashSet::new();
        let mut clean = Vec::with_capacity(days.len());
        for (i, day) in days.into_iter().enumerate() {
            if day.date < first - Duration::days(7) || day.date > last + Duration::days(7) {
                errors.push(FieldError::new(
                    &format!("days[{i}].date"),
                    FieldCode::OutOfRange,
                    "日期不在该年度内",
                ));
            }
            if !seen.insert(day.date) {
                errors.push(FieldError::new(
                    &format!("days[{i}].date"),
                    FieldCode::Duplicate,
                    "日期重复",
                ));
            }
            if day.kind == DayKind::Workday && !is_weekend(day.date) {
                errors.push(FieldError::new(
                    &format!("days[{i}].kind"),
                    FieldCode::Invalid,
                    "调休上班日应为周末",
                ));
            }
            let name = day.name.trim().to_owned();
            if name.is_empty() || name.chars().count() > MAX_NAME {
                errors.push(FieldError::new(
                    &format!("days[{i}].name"),
                    FieldCode::TooLong,
                    "节日名称不能为空，且不超过20字",
                ));
            }
            clean.push(SpecialDay { name, ..day });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        clean.sort_by_key(|d| d.date);
        Ok(YearSchedule {
            year,
            notice: notice.to_owned(),
            days: clean,
        })
    }
}

/// Whether `day` is worked, given the official schedule's word on it (`None`: an ordinary day,
/// worked on weekdays).
pub fn working_day(day: NaiveDate, exception: Option<DayKind>) -> bool {
    match exception {
        Some(DayKind::Holiday) => false,
        Some(DayKind::Workday) => true,
        None => !is_weekend(day),
    }
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The working-day calendar: the days that differ from the Monday–Friday rule, by date, and
/// the years whose schedule is known. Built from the `calendar_*` tables at run time; the
/// shipped schedules seed those tables.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    exceptions: HashMap<NaiveDate, DayKind>,
    years: BTreeSet<i32>,
    /// The version of the stored calendar this was built from (0 for the shipped one).
    pub version: i64,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

impl Calendar {
    /// Builds a calendar from year schedules; a later year's entry wins for a day that two
    /// schedules list.
    pub fn from_schedules<'a>(
        version: i64,
        schedules: impl IntoIterator<Item = &'a YearSchedule>,
    ) -> Calendar {
        let mut calendar = Calendar {
            version,
            ..Calendar::default()
        };
        let mut schedules: Vec<&YearSchedule> = schedules.into_iter().collect();
        schedules.sort_by_key(|s| s.year);
        for schedule in schedules {
            calendar.years.insert(schedule.year);
            for day in &schedule.days {
                calendar.exceptions.insert(day.date, day.kind);
            }
        }
        calendar
    }

    /// The schedules shipped with the service (2020–2026), transcribed from the notices.
    pub fn shipped_schedules() -> &'static [YearSchedule] {
        static SHIPPED: OnceLock<Vec<YearSchedule>> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            SCHEDULES
                .iter()
                .map(|schedule| {
                    let mut days = Vec::new();
                    for (name, from, to) in schedule.holidays {
                        let (Some(mut day), Some(to)) = (date(from), date(to)) else {
                            continue;
                        };
                        while day <= to {
                            days.push(SpecialDay {
                                date: day,
                                kind: DayKind::Holiday,
                                name: (*name).to_owned(),
                            });
                            day += Duration::days(1);
                        }
                    }
                    for (name, day) in schedule.workdays {
                        if let Some(day) = date(day) {
                            days.push(SpecialDay {
                                date: day,
                                kind: DayKind::Workday,
                                name: (*name).to_owned(),
                            });
                        }
                    }
                    days.sort_by_key(|d| d.date);
                    YearSchedule {
                        year: schedule.year,
                        notice: schedule.notice.to_owned(),
                        days,
                    }
                })
                .collect()
        })
    }

    /// The calendar of the shipped schedules alone (what a fresh database starts with).
    pub fn shipped() -> &'static Calendar {
        static SHIPPED: OnceLock<Calendar> = OnceLock::new();
        SHIPPED.get_or_init(|| Calendar::from_schedules(0, Calendar::shipped_schedules()))
    }

    /// Whether the year's official schedule is known (otherwise weekdays are assumed).
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        working_day(day, self.exceptions.get(&day).copied())
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

    /// Working days strictly after `from` up to and including `to` (0 when `to` ≤ `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut day = from;
        let mut counted = 0;
        while day < to {
            day += Duration::days(1);
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        counted
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
            Calendar::shipped().add_working_days(d("2026-09-30"), 3),
            (d("2026-10-10"), false)
        );
    }

    #[test]
    fn holidays_are_off_and_make_up_weekends_are_worked() {
        let calendar = Calendar::shipped();
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
        let (day, provisional) = Calendar::shipped().add_working_days(d("2026-12-30"), 3);
        assert_eq!(day, d("2027-01-04"));
        assert!(provisional);
    }

    #[test]
    fn an_upload_is_checked_day_by_day() {
        let day = |date: &str, kind, name: &str| SpecialDay {
            date: d(date),
            kind,
            name: name.to_owned(),
        };
        let errors = YearSchedule::validate(
            2027,
            "国办发明电〔2026〕x号",
            vec![
                day("2027-01-01", DayKind::Holiday, "元旦"),
                day("2027-01-01", DayKind::Holiday, "元旦"),
                day("2027-02-03", DayKind::Workday, "春节"),
                day("2028-03-01", DayKind::Holiday, "清明节"),
                day("2027-05-01", DayKind::Holiday, " "),
            ],
        )
        .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["days[1].date", "days[2].kind", "days[3].date", "days[4].name"]
        );

        let ok = YearSchedule::validate(
            2027,
            " 通知 ",
            vec![
                day("2027-02-06", DayKind::Workday, "春节"),
                day("2027-01-01", DayKind::Holiday, "元旦"),
            ],
        )
        .expect("valid");
        assert_eq!(ok.notice, "通知");
        assert_eq!(ok.days[0].date, d("2027-01-01"), "sorted by date");
        let calendar = Calendar::from_schedules(7, [&ok]);
        assert!(calendar.covers(2027) && !calendar.covers(2026));
        assert!(!calendar.is_working_day(d("2027-01-01")));
        assert!(calendar.is_working_day(d("2027-02-06")), "a make-up Saturday");
        assert_eq!(calendar.version, 7);
    }

    #[test]
    fn working_days_between_counts_the_end_not_the_start() {
        let calendar = Calendar::shipped();
        assert_eq!(calendar.working_days_between(d("2026-09-30"), d("2026-10-10")), 3);
        assert_eq!(calendar.working_days_between(d("2026-11-20"), d("2026-11-20")), 0);
        assert_eq!(calendar.working_days_between(d("2026-11-20"), d("2026-11-23")), 1);
    }

    #[test]
    fn every_year_from_2020_to_2026_is_covered() {
        for year in 2020..=2026 {
            assert!(Calendar::shipped().covers(year), "{year}");
            let schedule = Calendar::shipped_schedules().iter().find(|s| s.year == year);
            assert!(schedule.is_some_and(|s| !s.notice.is_empty() && !s.days.is_empty()));
        }
    }
}
