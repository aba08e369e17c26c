//! 企业评价联络员: each month an enterprise's contact may rate each officer stationed with it —
//! presence (驻企在岗), responsiveness (响应速度) and help (帮扶实效), 1 to 5 — and comment.
//! "作用发挥好不好，企业主说了算": the figures feed the officers' evaluations; an officer sees only
//! the count and the means, never who rated what.

use serde::{Deserialize, Serialize};

use super::field_error::{checked_text, FieldCode, FieldError};
use super::metrics::mean;

const MAX_COMMENT: usize = 500;

/// A rating as the contact sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    pub presence: i16,
    pub responsiveness: i16,
    pub help: i16,
    #[serde(default)]
    pub comment: Option<String>,
}

impl RatingInput {
    /// Checks every score (1–5) and the comment; trims it (blank is none).
    pub fn validate(&self) -> Result<RatingInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, score) in [
            ("presence", self.presence),
            ("responsiveness", self.responsiveness),
            ("help", self.help),
        ] {
            if !(1..=5).contains(&score) {
                errors.push(FieldError::new(field, FieldCode::OutOfRange, "评分应为1到5分"));
            }
        }
        let comment = checked_text(
            &mut errors,
            "comment",
            self.comment.as_deref(),
            MAX_COMMENT,
            false,
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(RatingInput {
            comment,
            ..self.clone()
        })
    }
}

/// The enterprises' ratings of an officer (or a unit's officers) over a period: how many, and
/// the mean of each score and of all three (two decimals; `None` without ratings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseRatings {
    pub count: i64,
    pub presence: Option<f64>,
    pub responsiveness: Option<f64>,
    pub help: Option<f64>,
    pub overall: Option<f64>,
}

impl EnterpriseRatings {
    /// From the count and the sums of each score.
    pub fn of(count: i64, presence: i64, responsiveness: i64, help: i64) -> Self {
        EnterpriseRatings {
            count,
            presence: mean(presence, count),
            responsiveness: mean(responsiveness, count),
            help: mean(help, count),
            overall: mean(presence + responsiveness + help, count * 3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_one_to_five_and_every_fault_is_listed() {
        let bad = RatingInput {
            presence: 0,
            responsiveness: 6,
            help: 3,
            comment: Some("字".repeat(501)),
        };
        let fields: Vec<String> = bad
            .validate()
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["presence", "responsiveness", "comment"]);
        let good = RatingInput {
            presence: 5,
            responsiveness: 4,
            help: 5,
            comment: Some("  常驻企业，问题跟得紧  ".to_owned()),
        };
        assert_eq!(
            good.validate().expect("valid").comment.as_deref(),
            Some("常驻企业，问题跟得紧")
        );
    }

    #[test]
    fn means_come_from_the_sums() {
        // Two ratings: (5, 4, 5) and (4, 4, 3).
        let r = EnterpriseRatings::of(2, 9, 8, 8);
        assert_eq!(r.presence, Some(4.5));
        assert_eq!(r.responsiveness, Some(4.0));
        assert_eq!(r.help, Some(4.0));
        assert_eq!(r.overall, Some(4.17));
        assert_eq!(EnterpriseRatings::of(0, 0, 0, 0).overall, None);
    }
}
