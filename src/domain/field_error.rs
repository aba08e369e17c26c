//! One broken rule of a body, a form or an import row: the shape of every validation error's
//! `details.errors` (`{field, code, message}`; an import row adds `row`).

use serde::Serialize;

use super::vocabulary::vocabulary;

vocabulary! {
    /// What kind of rule a field broke, for clients that react per kind (highlight a missing
    /// field, show a counter for a long one); the `message` says it to people.
    pub enum FieldCode {
        /// Missing or blank.
        Required = "required",
        /// Text longer than its limit.
        TooLong = "too_long",
        /// A list with more entries than allowed.
        TooMany = "too_many",
        /// A number, date or time outside its range or order.
        OutOfRange = "out_of_range",
        /// Given twice where it must be unique.
        Duplicate = "duplicate",
        /// Names something that does not exist or is outside the caller's scope.
        Unknown = "unknown",
        /// Not in the expected shape (a code, a date, a coordinate), or against a rule that
        /// ties several fields together.
        Invalid = "invalid",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field at fault, as a path into the body (`production.capacity_pct`,
    /// `problems[0].title`) or the column of an import file.
    pub field: String,
    pub code: FieldCode,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }

    pub fn required(field: &str) -> Self {
        Self::new(field, FieldCode::Required, "必填")
    }

    pub fn too_long(field: &str, max: usize) -> Self {
        Self::new(field, FieldCode::TooLong, format!("不能超过{max}个字符"))
    }
}

/// A text field trimmed: blank is `None` (a fault when `required`); longer than `max`
/// characters or holding U+0000 is a fault. Faults are added to `errors`; the trimmed text is
/// returned either way (so that one pass lists every fault of a body).
pub fn checked_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
    required: bool,
) -> Option<String> {
    let Some(value) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        if required {
            errors.push(FieldError::new(field, FieldCode::Required, "不能为空"));
        }
        return None;
    };
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            FieldCode::TooLong,
            format!("不能超过{max}字"),
        ));
    } else if value.contains('\0') {
        errors.push(FieldError::new(
            field,
            FieldCode::Invalid,
            "不能包含空字符 (U+0000)",
        ));
    }
    Some(value.to_owned())
}
