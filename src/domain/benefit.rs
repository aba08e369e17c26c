//! 惠企成效: what help was worth — a loan obtained or renewed, fees or taxes reduced, subsidies
//! obtained (whole yuan), positions filled, and anything else in words. Stated with a
//! department's response or an officer's on-site resolution.

use serde::{Deserialize, Serialize};

use super::field_error::{FieldCode, FieldError};

/// The largest amount in yuan one problem may state (ten trillion: far above any real loan,
/// low enough that a city's sum stays exact in a 64-bit integer).
pub const MAX_YUAN: i64 = 10_000_000_000_000;
pub const MAX_POSITIONS: i64 = 1_000_000;
pub const MAX_OTHER: usize = 500;

/// Benefits as sent and as shown; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benefits {
    /// 贷款 (new or renewed), yuan.
    pub loan_yuan: Option<i64>,
    /// 减免税费, yuan.
    pub fees_reduced_yuan: Option<i64>,
    /// 争取补贴/奖补资金, yuan.
    pub subsidies_yuan: Option<i64>,
    /// 解决用工, positions filled.
    pub positions_filled: Option<i64>,
    /// 其他成效, in words.
    pub other: Option<String>,
}

impl Benefits {
    /// Checks each part (every fault listed, fields named under `prefix`) and trims `other`;
    /// `None` when nothing is stated.
    pub fn validate(&self, prefix: &str) -> Result<Option<Benefits>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let amounts = [
            ("loan_yuan", self.loan_yuan, MAX_YUAN),
            ("fees_reduced_yuan", self.fees_reduced_yuan, MAX_YUAN),
            ("subsidies_yuan", self.subsidies_yuan, MAX_YUAN),
            ("positions_filled", self.positions_filled, MAX_POSITIONS),
        ];
        for (name, value, max) in amounts {
            if value.is_some_and(|v| !(0..=max).contains(&v)) {
                errors.push(FieldError::new(
                    &format!("{prefix}.{name}"),
                    FieldCode::OutOfRange,
                    format!("应为0到{max}之间的整数"),
                ));
            }
        }
        let other = self.other.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if let Some(text) = other {
            if text.chars().count() > MAX_OTHER {
                errors.push(FieldError::new(
                    &format!("{prefix}.other"),
                    FieldCode::TooLong,
                    "不能超过500字",
                ));
            } else if text.contains('\0') {
                errors.push(FieldError::new(
                    &format!("{prefix}.other"),
                    FieldCode::Invalid,
                    "不能包含空字符 (U+0000)",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let valid = Benefits {
            other: other.map(str::to_owned),
            ..self.clone()
        };
        Ok((valid != Benefits::default()).then_some(valid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_ranged_and_other_is_trimmed() {
        let given = Benefits {
            loan_yuan: Some(20_000_000),
            positions_filled: Some(30),
            other: Some("  协调解决用电增容  ".to_owned()),
            ..Benefits::default()
        };
        let valid = given.validate("benefits").expect("valid").expect("stated");
        assert_eq!(valid.other.as_deref(), Some("协调解决用电增容"));
        let bad = Benefits {
            loan_yuan: Some(-1),
            subsidies_yuan: Some(MAX_YUAN + 1),
            positions_filled: Some(MAX_POSITIONS + 1),
            other: Some("字".repeat(501)),
            ..Benefits::default()
        };
        let fields: Vec<String> = bad
            .validate("benefits")
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "benefits.loan_yuan",
                "benefits.subsidies_yuan",
                "benefits.positions_filled",
                "benefits.other"
            ]
        );
    }

    #[test]
    fn nothing_stated_is_none() {
        let blank = Benefits {
            other: Some("   ".to_owned()),
            ..Benefits::default()
        };
        assert_eq!(blank.validate("benefits"), Ok(None));
    }
}
