//! Query parameters read strictly: a filter given empty (`?region_code=`), holding U+0000, not
//! in the shape of what it filters by, or a day the service does not know
//! (`?day=+262142-12-31`) is a 400 `request.invalid_query`, not an empty list, a database
//! error or an overflow further down. Used as `#[serde(default, deserialize_with = "…")]`.

use chrono::NaiveDate;
use serde::{de::Error, Deserialize, Deserializer};

use crate::domain::day;
use crate::domain::region_code::RegionCode;

/// An optional text filter: absent is none, present must not be blank.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = String::deserialize(d)?;
    if value.trim().is_empty() {
        return Err(D::Error::custom("must not be empty"));
    }
    // PostgreSQL text cannot hold U+0000: refused here rather than by the database.
    if value.contains('\0') {
        return Err(D::Error::custom("must not contain U+0000"));
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

/// A text filter that must also have the shape the spec gives it: a value that cannot name
/// anything is refused, not answered with an empty list.
fn shaped<'de, D: Deserializer<'de>>(
    d: D,
    fits: impl Fn(&str) -> bool,
    shape: &str,
) -> Result<Option<String>, D::Error> {
    let value = String::deserialize(d)?;
    if !fits(&value) {
        return Err(D::Error::custom(format!("must be {shape}")));
    }
    Ok(Some(value))
}

/// A GB/T 2260 region code: six digits, the first not 0.
pub fn region_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    shaped(
        d,
        |v| RegionCode::parse(v).is_some_and(|code| code.as_str() == v),
        "a six-digit region code",
    )
}

/// An 18-character unified social credit code, in its alphabet (the check digit is the
/// domain's business, `CreditCode::parse`).
pub fn credit_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use crate::domain::credit_code::ALPHABET;
    shaped(
        d,
        |v| v.len() == 18 && v.bytes().all(|b| ALPHABET.contains(&b)),
        "an 18-character credit code",
    )
}

/// A username: 2 to 64 of letters, digits and `_ . @ -`.
pub fn username<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    shaped(
        d,
        |v| (2..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c)),
        "a username (2-64 of A-Z a-z 0-9 _ . @ -)",
    )
}
