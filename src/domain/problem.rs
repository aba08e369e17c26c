//! A problem (问题/诉求) as it enters the hub's queue.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::daily_report::MAX_TEXT;
use super::field_error::checked_text;
use super::roster::{FieldCode, FieldError};
use super::vocabulary::vocabulary;

pub const MAX_TITLE: usize = 100;
/// Titles derived from the description keep this many characters.
const DERIVED_TITLE: usize = 30;
const MAX_DEPARTMENTS: usize = 10;

vocabulary! {
    /// How urgent a problem is (`problems.urgency`).
    #[derive(Default)]
    pub enum Urgency {
        #[default]
        Normal = "normal",
        Urgent = "urgent",
    }
}

impl Urgency {
    /// The place in the hub's queue: urgent problems first (the lower rank goes first). The
    /// database orders by the same rank (`problems.queue_rank`, a column generated from this
    /// mapping; a test compares the two).
    pub const fn queue_rank(self) -> i16 {
        match self {
            Urgency::Urgent => 0,
            Urgency::Normal => 1,
        }
    }
}

/// A problem as an officer or an enterprise contact writes it (also an entry of a report's
/// `problems[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProblemInput {
    pub description: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub urgency: Urgency,
    #[serde(default)]
    pub departments_requested: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidProblem {
    pub title: String,
    pub description: String,
    pub description_hash: String,
    pub category: Option<String>,
    pub urgency: Urgency,
    pub departments_requested: Vec<Uuid>,
}

/// The digest that recognises the same problem written again: whitespace and case do not count.
pub fn description_hash(description: &str) -> String {
    let normalised: String = description
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

impl NewProblemInput {
    pub fn validate(&self) -> Result<ValidProblem, Vec<FieldError>> {
        let mut errors = Vec::new();
        let description = checked_text(
            &mut errors,
            "description",
            Some(&self.description),
            MAX_TEXT,
            true,
        )
        .unwrap_or_default();
        let title = checked_text(&mut errors, "title", self.title.as_deref(), MAX_TITLE, false)
            .unwrap_or_else(|| description.chars().take(DERIVED_TITLE).collect());
        let category = checked_text(&mut errors, "category", self.category.as_deref(), 32, false);
        if let Some(c) = &category {
            if !c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                errors.push(FieldError::new(
                    "category",
                    FieldCode::Invalid,
                    "类别代码应为小写字母和下划线，如 financing",
                ));
            }
        }
        let mut departments = self.departments_requested.clone();
        departments.sort();
        departments.dedup();
        if departments.len() > MAX_DEPARTMENTS {
            errors.push(FieldError::new(
                "departments_requested",
                FieldCode::TooMany,
                format!("最多{MAX_DEPARTMENTS}个部门"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidProblem {
            title,
            description_hash: description_hash(&description),
            description,
            category,
            urgency: self.urgency,
            departments_requested: departments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(description: &str) -> NewProblemInput {
        NewProblemInput {
            description: description.into(),
            title: None,
            category: None,
            urgency: Urgency::Normal,
            departments_requested: vec![],
        }
    }

    #[test]
    fn the_title_defaults_to_the_start_of_the_description() {
        let valid = input("企业急需招聘熟练焊工三十名，目前订单排到明年三月，人社部门能否组织专场招聘会")
            .validate()
            .expect("valid");
        assert_eq!(valid.title.chars().count(), 30);
    }

    #[test]
    fn the_same_words_with_other_spacing_hash_alike() {
        assert_eq!(
            description_hash("缺少 熟练焊工"),
            description_hash(" 缺少熟练焊工\n")
        );
        assert_ne!(description_hash("缺少熟练焊工"), description_hash("缺少电工"));
    }

    #[test]
    fn a_blank_description_is_refused() {
        let errors = input("  ").validate().expect_err("invalid");
        assert_eq!(errors[0].field, "description");
    }
}

/// A problem's 交办编号: its region, the year of its first assignment and its place in that
/// year's assignments of the region (`430211-2026-000123`).
pub fn number(region_code: &str, year: i32, sequence: i32) -> String {
    format!("{region_code}-{year}-{sequence:06}")
}

#[cfg(test)]
mod number_tests {
    #[test]
    fn numbers_are_region_year_and_six_digits() {
        assert_eq!(super::number("430211", 2026, 123), "430211-2026-000123");
        assert_eq!(super::number("430200", 2027, 1_234_567), "430200-2027-1234567");
    }
}
