//! The admin console: roster CRUD and imports, all inside the admin's region subtree.

mod assignments;
mod categories;
mod crud;
mod enterprises;
pub(crate) mod import;
mod notifications;
mod regions;
mod units;
pub(crate) mod users;

use serde_json::{Map, Value};

use super::Endpoint;
use crate::domain::roster::Fields;
use crate::error::{AppError, ErrorCode};

pub fn endpoints() -> Vec<Endpoint> {
    let mut all = Vec::new();
    all.extend(import::endpoints());
    all.extend(regions::endpoints());
    all.extend(units::endpoints());
    all.extend(enterprises::endpoints());
    all.extend(users::endpoints());
    all.extend(assignments::endpoints());
    all.extend(categories::endpoints());
    all.extend(notifications::endpoints());
    all
}

/// Columns whose JSON value is a number.
const NUMBER_COLUMNS: &[&str] = &["lat", "lng", "geofence_m"];

/// A JSON object as the column → text map that the roster rules read, so the API and the
/// import files share one validation. `null` clears a field; unknown fields are refused.
fn json_fields(body: Map<String, Value>, allowed: &[&str]) -> Result<Fields, AppError> {
    let mut fields = Fields::new();
    for (key, value) in body {
        if !allowed.contains(&key.as_str()) {
            return Err(AppError::new(
                ErrorCode::RequestInvalidBody,
                format!("未知字段 `{key}`"),
            ));
        }
        // The roster's columns are text, as the import files have them; the JSON types are the
        // spec's: numbers for coordinates and the geofence, a list for roles, text elsewhere.
        let wrong =
            |expected: &str| AppError::new(ErrorCode::RequestInvalidBody, format!("`{key}` 应为{expected}"));
        let text = match (value, NUMBER_COLUMNS.contains(&key.as_str()), key == "roles") {
            (Value::Null, _, _) => String::new(),
            (Value::Number(n), true, _) => n.to_string(),
            (Value::String(s), false, false) => s,
            (Value::Array(items), _, true) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(wrong("字符串数组")),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(";"),
            (_, true, _) => return Err(wrong("数字")),
            (_, _, true) => return Err(wrong("字符串数组")),
            _ => return Err(wrong("字符串")),
        };
        fields.insert(key, text);
    }
    Ok(fields)
}

/// `current` with the fields of a PATCH body laid over it.
fn patched(mut current: Fields, patch: Fields) -> Fields {
    current.extend(patch);
    current
}

fn text_fields<const N: usize>(pairs: [(&str, String); N]) -> Fields {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
