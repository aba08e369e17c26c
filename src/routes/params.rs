//! Query parameters read strictly: a filter given empty (`?region_code=`) or a day the service
//! does not know (`?day=+262142-12-31`) is a 400 `request.invalid_query`, not an empty filter
//! or an overflow further down. Used as `#[serde(default, deserialize_with = "…")]`.

use chrono::NaiveDate;
use serde::{de::Error, Deserialize, Deserializer};

use crate::domain::day;

/// An optional text filter: absent is none, present must not be blank.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = String::deserialize(d)?;
    if value.trim().is_empty() {
        return Err(D::Error::custom("must not be empty"));
    }
    Ok(Some(value))
}

/// A day from 2020 to 2099.
fn known_day<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let value = NaiveDate::deserialize(d)?;
    if !day::known(value) {
        return Err(D::Error::custom(format!(
            "{value} is outside {}..{}",
            day::first(),
            day::last()
        )));
    }
    Ok(value)
}

/// An optional day from 2020 to 2099.
pub fn known_day_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    known_day(d).map(Some)
}
