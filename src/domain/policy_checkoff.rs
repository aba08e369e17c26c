//! 逐条对照: where a policy stands with an enterprise, as its officer records it — not
//! applicable, explained to the enterprise, applied for, granted (with the amount) or refused.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::day;
use super::field_error::{checked_text, FieldCode, FieldError};
use super::vocabulary::vocabulary;

vocabulary! {
    /// A policy's standing with an enterprise.
    pub enum CheckoffStatus {
        /// 不适用
        NotApplicable = "not_applicable",
        /// 已宣讲
        Explained = "explained",
        /// 申报中
        Applying = "applying",
        /// 已兑现
        Granted = "granted",
        /// 未获批
        Refused = "refused",
    }
}

impl CheckoffStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckoffStatus::NotApplicable => "不适用",
            CheckoffStatus::Explained => "已宣讲",
            CheckoffStatus::Applying => "申报中",
            CheckoffStatus::Granted => "已兑现",
            CheckoffStatus::Refused => "未获批",
        }
    }

    /// An amount goes with an application (sought) and a grant (obtained) only.
    fn takes_amount(self) -> bool {
        matches!(self, CheckoffStatus::Applying | CheckoffStatus::Granted)
    }
}

/// The largest amount in yuan a check-off may state.
pub const MAX_YUAN: i64 = 10_000_000_000_000;
const MAX_NOTE: usize = 500;

/// A check-off as the officer sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoffInput {
    pub status: CheckoffStatus,
    /// The day it happened (explained, applied, granted …).
    pub day: NaiveDate,
    #[serde(default)]
    pub amount_yuan: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

impl CheckoffInput {
    /// Checks it against `today` (every fault listed) and trims the note.
    pub fn validate(&self, today: NaiveDate) -> Result<CheckoffInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !day::known(self.day) || self.day > today {
            errors.push(FieldError::new(
                "day",
                FieldCode::OutOfRange,
                "日期应在2020年之后且不晚于今天",
            ));
        }
        match self.amount_yuan {
            Some(_) if !self.status.takes_amount() => errors.push(FieldError::new(
                "amount_yuan",
                FieldCode::Invalid,
                "只有申报中和已兑现可以填写金额",
            )),
            Some(amount) if !(0..=MAX_YUAN).contains(&amount) => errors.push(FieldError::new(
                "amount_yuan",
                FieldCode::OutOfRange,
                format!("应为0到{MAX_YUAN}之间的整数"),
            )),
            _ => {}
        }
        let note = checked_text(&mut errors, "note", self.note.as_deref(), MAX_NOTE, false);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CheckoffInput { note, ..self.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).expect("date")
    }

    #[test]
    fn an_amount_goes_with_an_application_or_a_grant_only() {
        let granted = CheckoffInput {
            status: CheckoffStatus::Granted,
            day: today(),
            amount_yuan: Some(1_200_000),
            note: Some("  已到账 ".to_owned()),
        };
        assert_eq!(
            granted.validate(today()).expect("valid").note.as_deref(),
            Some("已到账")
        );
        let explained = CheckoffInput {
            status: CheckoffStatus::Explained,
            ..granted.clone()
        };
        assert!(explained.validate(today()).is_err());
    }

    #[test]
    fn every_fault_is_listed() {
        let bad = CheckoffInput {
            status: CheckoffStatus::Granted,
            day: NaiveDate::from_ymd_opt(2026, 11, 21).expect("date"),
            amount_yuan: Some(-1),
            note: Some("字".repeat(501)),
        };
        let fields: Vec<String> = bad
            .validate(today())
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["day", "amount_yuan", "note"]);
    }
}
