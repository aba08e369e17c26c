//! The demo's 企业评价: 千金药业's contact has rated 李娜, the officer stationed there, this month.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;

use crate::db::models::officer_rating::OfficerRating;
use crate::db::models::user::User;
use crate::domain::metrics::Month;
use crate::domain::officer_rating::RatingInput;

pub fn seed(conn: &mut PgConnection, today: NaiveDate, now: DateTime<Utc>) -> anyhow::Result<()> {
    let contact = User::find_by_username(conn, "qianjin.contact")?.context("qianjin.contact")?;
    let officer = User::find_by_username(conn, "officer.li")?.context("officer.li")?;
    let enterprise = contact.enterprise_id.context("the contact's enterprise")?;
    let rating = RatingInput {
        presence: 5,
        responsiveness: 4,
        help: 5,
        comment: Some("每周都到企业，用工和融资问题跟得紧".to_owned()),
    };
    OfficerRating::put(
        conn,
        contact.id,
        enterprise,
        officer.id,
        Month::containing(today),
        &rating,
        now,
    )?;
    Ok(())
}
