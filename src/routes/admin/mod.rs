//! The admin console: roster CRUD and imports, all inside the admin's region subtree.

mod assignments;
mod categories;
mod enterprises;
mod import;
mod regions;
mod units;
mod users;

use serde_json::{Map, Value};

use super::Endpoint;
use crate::domain::roster::Fields;
use crate::error::AppError;

pub fn endpoints() -> Vec<Endpoint> {
    let mut all = Vec::new();
    all.extend(import::endpoints());
    all.extend(regions::endpoints());
    all.extend(units::endpoints());
    all.extend(enterprises::endpoints());
    all.extend(users::endpoints());
    all.extend(assignments::endpoints());
    all.extend(categories::endpoints());
    all
}

/// A JSON object as the column → text map that the roster rules read, so the API and the
/// import files share one validation. `null` clears a field; unknown fields are refused.
fn json_fields(body: Map<String, Value>, allowed: &[&str]) -> Result<Fields, AppError> {
    let mut fields = Fields::new();
    for (key, value) in body {
        if !allowed.contains(&key.as_str()) {
            return Err(AppError::bad_request(
                "request.invalid_body",
                format!("未知字段 `{key}`"),
            ));
        }
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(AppError::bad_request(
                        "request.invalid_body",
                        format!("`{key}` 应为字符串数组"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(";"),
            Value::Object(_) => {
                return Err(AppError::bad_request(
                    "request.invalid_body",
                    format!("`{key}` 不应为对象"),
                ))
            }
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
