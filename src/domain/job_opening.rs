//! 用工需求: an enterprise's job openings — how many of a job type it seeks, at what wage, by
//! when, and how many it has filled — kept current by its officer (or its contact) so that the
//! human-resources bureau can run its "employment through-trains" (就业直通车).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::day;
use super::field_error::{checked_text, FieldCode, FieldError};
use super::vocabulary::vocabulary;

vocabulary! {
    /// 工种: the small code list openings are counted by.
    pub enum JobType {
        Welder = "welder",
        GeneralWorker = "general_worker",
        Technician = "technician",
        Electrician = "electrician",
        Mechanic = "mechanic",
        CncOperator = "cnc_operator",
        Inspector = "inspector",
        Driver = "driver",
        Engineer = "engineer",
        Sales = "sales",
        Management = "management",
        Other = "other",
    }
}

impl JobType {
    /// Its name in ledgers and the mini-program.
    pub fn label(self) -> &'static str {
        match self {
            JobType::Welder => "电焊工",
            JobType::GeneralWorker => "普工",
            JobType::Technician => "技术员",
            JobType::Electrician => "电工",
            JobType::Mechanic => "机修工",
            JobType::CncOperator => "数控操作工",
            JobType::Inspector => "质检员",
            JobType::Driver => "驾驶员",
            JobType::Engineer => "工程师",
            JobType::Sales => "销售",
            JobType::Management => "管理人员",
            JobType::Other => "其他",
        }
    }
}

vocabulary! {
    /// Where an opening stands; derived from its counts, never stored.
    pub enum JobStatus {
        Open = "open",
        PartlyFilled = "partly_filled",
        Filled = "filled",
        Withdrawn = "withdrawn",
    }
}

impl JobStatus {
    /// An opening withdrawn by the enterprise is withdrawn whatever its counts; otherwise its
    /// counts say.
    pub fn of(positions: i32, filled: i32, withdrawn: bool) -> JobStatus {
        if withdrawn {
            JobStatus::Withdrawn
        } else if filled >= positions {
            JobStatus::Filled
        } else if filled > 0 {
            JobStatus::PartlyFilled
        } else {
            JobStatus::Open
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Open => "招聘中",
            JobStatus::PartlyFilled => "部分到岗",
            JobStatus::Filled => "已招满",
            JobStatus::Withdrawn => "已撤销",
        }
    }
}

pub const MAX_POSITIONS: i32 = 100_000;
/// The highest monthly wage in yuan an opening may state.
pub const MAX_WAGE: i32 = 1_000_000;
const MAX_TITLE: usize = 50;
const MAX_NOTE: usize = 500;

/// An opening as sent (created or replaced whole).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobOpeningInput {
    pub job_type: JobType,
    /// The post's own name (e.g. 二氧化碳保护焊焊工), when the job type says too little.
    #[serde(default)]
    pub title: Option<String>,
    pub positions: i32,
    #[serde(default)]
    pub filled: i32,
    /// Monthly wage range, yuan.
    #[serde(default)]
    pub wage_min: Option<i32>,
    #[serde(default)]
    pub wage_max: Option<i32>,
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    #[serde(default)]
    pub withdrawn: bool,
    #[serde(default)]
    pub note: Option<String>,
}

impl JobOpeningInput {
    /// Checks every field (every fault listed) and trims the texts.
    pub fn validate(&self) -> Result<JobOpeningInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = checked_text(&mut errors, "title", self.title.as_deref(), MAX_TITLE, false);
        let note = checked_text(&mut errors, "note", self.note.as_deref(), MAX_NOTE, false);
        if !(1..=MAX_POSITIONS).contains(&self.positions) {
            errors.push(FieldError::new(
                "positions",
                FieldCode::OutOfRange,
                format!("应为1到{MAX_POSITIONS}之间的整数"),
            ));
        }
        if self.filled < 0 || self.filled > self.positions.max(0) {
            errors.push(FieldError::new(
                "filled",
                FieldCode::OutOfRange,
                "已到岗人数应在0到需求人数之间",
            ));
        }
        for (field, wage) in [("wage_min", self.wage_min), ("wage_max", self.wage_max)] {
            if wage.is_some_and(|w| !(0..=MAX_WAGE).contains(&w)) {
                errors.push(FieldError::new(
                    field,
                    FieldCode::OutOfRange,
                    format!("月薪应为0到{MAX_WAGE}元之间的整数"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.wage_min, self.wage_max) {
            if min > max {
                errors.push(FieldError::new(
                    "wage_max",
                    FieldCode::OutOfRange,
                    "月薪上限不能低于下限",
                ));
            }
        }
        if self.deadline.is_some_and(|d| !day::known(d)) {
            errors.push(FieldError::new(
                "deadline",
                FieldCode::OutOfRange,
                "截止日期应在2020至2099年之间",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(JobOpeningInput {
            title,
            note,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welders(positions: i32, filled: i32) -> JobOpeningInput {
        JobOpeningInput {
            job_type: JobType::Welder,
            title: Some("  二保焊焊工 ".to_owned()),
            positions,
            filled,
            wage_min: Some(6000),
            wage_max: Some(9000),
            deadline: NaiveDate::from_ymd_opt(2026, 12, 31),
            withdrawn: false,
            note: Some(" ".to_owned()),
        }
    }

    #[test]
    fn status_follows_the_counts_unless_withdrawn() {
        assert_eq!(JobStatus::of(30, 0, false), JobStatus::Open);
        assert_eq!(JobStatus::of(30, 12, false), JobStatus::PartlyFilled);
        assert_eq!(JobStatus::of(30, 30, false), JobStatus::Filled);
        assert_eq!(JobStatus::of(30, 12, true), JobStatus::Withdrawn);
    }

    #[test]
    fn a_valid_opening_is_trimmed() {
        let valid = welders(30, 12).validate().expect("valid");
        assert_eq!(valid.title.as_deref(), Some("二保焊焊工"));
        assert_eq!(valid.note, None, "blank is none");
    }

    #[test]
    fn every_fault_is_listed() {
        let mut bad = welders(0, 5);
        bad.wage_min = Some(9000);
        bad.wage_max = Some(6000);
        bad.deadline = NaiveDate::from_ymd_opt(2101, 1, 1);
        bad.note = Some("字".repeat(501));
        let fields: Vec<(String, FieldCode)> = bad
            .validate()
            .expect_err("invalid")
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            fields,
            [
                ("note".to_owned(), FieldCode::TooLong),
                ("positions".to_owned(), FieldCode::OutOfRange),
                ("filled".to_owned(), FieldCode::OutOfRange),
                ("wage_max".to_owned(), FieldCode::OutOfRange),
                ("deadline".to_owned(), FieldCode::OutOfRange),
            ]
        );
        assert!(welders(30, 31).validate().is_err(), "more filled than sought");
        assert!(welders(30, -1).validate().is_err());
    }
}
