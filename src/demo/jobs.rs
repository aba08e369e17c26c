//! The demo city's job openings (用工需求): what the officers stationed at a few enterprises
//! recorded — welders and workers at 中车, technicians at 旗滨, inspectors at 千金 (filled).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::models::job_opening::JobOpening;
use crate::domain::job_opening::{JobOpeningInput, JobType};
use crate::schema::{assignments, enterprises};

/// An opening to seed: enterprise credit code, job type, post, positions, filled, wage range.
type Seed = (&'static str, JobType, &'static str, i32, i32, (i32, i32));

const OPENINGS: [Seed; 4] = [
    (
        "91430204MA4L00013Q",
        JobType::Welder,
        "二氧化碳保护焊焊工",
        30,
        12,
        (6500, 9500),
    ),
    (
        "91430204MA4L00013Q",
        JobType::GeneralWorker,
        "装配普工",
        20,
        5,
        (4500, 6000),
    ),
    (
        "91430281MA4L00056N",
        JobType::Technician,
        "浮法玻璃工艺技术员",
        5,
        0,
        (7000, 10000),
    ),
    (
        "91430211MA4L00048F",
        JobType::Inspector,
        "药品质检员",
        3,
        3,
        (5000, 7000),
    ),
];

pub fn seed(conn: &mut PgConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    for (credit_code, job_type, title, positions, filled, (wage_min, wage_max)) in OPENINGS {
        let (enterprise_id, region_code): (Uuid, String) = enterprises::table
            .filter(enterprises::credit_code.eq(credit_code))
            .select((enterprises::id, enterprises::region_code))
            .first(conn)
            .with_context(|| format!("demo enterprise {credit_code}"))?;
        let officer: Uuid = assignments::table
            .filter(assignments::enterprise_id.eq(enterprise_id))
            .filter(assignments::end_day.is_null())
            .select(assignments::officer_id)
            .first(conn)
            .with_context(|| format!("the officer of {credit_code}"))?;
        let input = JobOpeningInput {
            job_type,
            title: Some(title.to_owned()),
            positions,
            filled,
            wage_min: Some(wage_min),
            wage_max: Some(wage_max),
            deadline: NaiveDate::from_ymd_opt(2026, 12, 31),
            withdrawn: false,
            note: None,
        };
        JobOpening::insert(conn, enterprise_id, &region_code, &input, officer, now)?;
    }
    Ok(())
}
