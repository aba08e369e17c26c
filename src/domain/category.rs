//! Problem categories (问题类别) as an admin edits them: the code the classifier and the
//! ledgers use, the Chinese name, the department that usually handles it and its deadline
//! policy in working days.

use std::collections::HashSet;

use serde::Deserialize;
use uuid::Uuid;

use super::deadline::MAX_DUE_WORKING_DAYS;
use super::roster::{FieldCode, FieldError};

/// The category every unclassifiable problem falls back to; it cannot be retired.
pub const FALLBACK: &str = "other";
const MAX_NAME: usize = 20;
const MAX_KEYWORDS: usize = 50;
const MAX_KEYWORD: usize = 20;
const MAX_CATEGORIES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub default_department_id: Option<Uuid>,
    pub due_working_days: i32,
    pub urgent_due_working_days: i32,
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

fn valid_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && (2..=32).contains(&code.len())
        && chars.all(|c| c.is_ascii_lowercase() || c == '_')
}

/// Checks the full list an admin sends: codes well-formed and unique, names present, deadline
/// policies within range (urgent no longer than normal), and the fallback category kept.
/// Returns the list trimmed, with blank and repeated keywords dropped.
pub fn validate_all(items: Vec<CategoryInput>) -> Result<Vec<CategoryInput>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if items.is_empty() || items.len() > MAX_CATEGORIES {
        errors.push(FieldError::new(
            "items",
            FieldCode::TooMany,
            "类别列表不能为空，且不超过100个",
        ));
    }
    let mut codes = HashSet::new();
    let max_due = MAX_DUE_WORKING_DAYS as i32;
    let mut clean = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        let code = item.code.trim().to_owned();
        if !valid_code(&code) {
            errors.push(FieldError::new(
                &field("code"),
                FieldCode::Invalid,
                "编码应为2–32位小写字母或下划线",
            ));
        } else if !codes.insert(code.clone()) {
            errors.push(FieldError::new(&field("code"), FieldCode::Duplicate, "编码重复"));
        }
        let name = item.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            errors.push(FieldError::new(
                &field("name"),
                FieldCode::TooLong,
                "名称不能为空，且不超过20字",
            ));
        }
        if !(1..=max_due).contains(&item.due_working_days) {
            errors.push(FieldError::new(
                &field("due_working_days"),
                FieldCode::OutOfRange,
                "办理时限应为1–250个工作日",
            ));
        }
        if !(1..=item.due_working_days.max(1)).contains(&item.urgent_due_working_days) {
            errors.push(FieldError::new(
                &field("urgent_due_working_days"),
                FieldCode::OutOfRange,
                "紧急时限应为1个工作日以上，且不长于普通时限",
            ));
        }
        let mut keywords: Vec<String> = Vec::new();
        for keyword in item.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
            if keyword.chars().count() > MAX_KEYWORD {
                errors.push(FieldError::new(
                    &field("keywords"),
                    FieldCode::TooLong,
                    "关键词不超过20字",
                ));
            } else if !keywords.iter().any(|k| k == keyword) {
                keywords.push(keyword.to_owned());
            }
        }
        if keywords.len() > MAX_KEYWORDS {
            errors.push(FieldError::new(
                &field("keywords"),
                FieldCode::TooMany,
                "关键词不超过50个",
            ));
        }
        if code == FALLBACK && !item.active {
            errors.push(FieldError::new(
                &field("active"),
                FieldCode::Invalid,
                "“其他”类别不能停用",
            ));
        }
        clean.push(CategoryInput {
            code,
            name,
            keywords,
            ..item
        });
    }
    if !codes.contains(FALLBACK) {
        errors.push(FieldError::new(
            "items",
            FieldCode::Invalid,
            "必须保留“其他”(other) 类别",
        ));
    }
    if errors.is_empty() {
        Ok(clean)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(code: &str, due: i32, urgent: i32) -> CategoryInput {
        CategoryInput {
            code: code.to_owned(),
            name: "融资贷款".to_owned(),
            keywords: vec![" 贷款 ".to_owned(), "贷款".to_owned(), "".to_owned()],
            default_department_id: None,
            due_working_days: due,
            urgent_due_working_days: urgent,
            active: true,
        }
    }

    #[test]
    fn a_good_list_is_cleaned() {
        let list = validate_all(vec![category("financing", 15, 5), category("other", 15, 5)]).expect("valid");
        assert_eq!(list[0].keywords, vec!["贷款".to_owned()]);
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let mut retired_other = category("other", 15, 5);
        retired_other.active = false;
        let errors = validate_all(vec![
            category("Financing", 15, 5),
            category("labor", 0, 1),
            category("labor", 10, 11),
            retired_other,
        ])
        .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "items[0].code",
                "items[1].due_working_days",
                "items[2].code",
                "items[2].urgent_due_working_days",
                "items[3].active"
            ]
        );
        let errors = validate_all(vec![category("financing", 15, 5)]).expect_err("no fallback");
        assert_eq!(errors[0].field, "items");
    }
}
