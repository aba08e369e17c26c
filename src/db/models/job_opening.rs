//! `job_openings` (用工需求): an enterprise's openings, and every opening of a region subtree
//! with its enterprise for the human-resources bureau's figures and ledger.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::job_opening::{JobOpeningInput, JobType};
use crate::schema::{enterprises, job_openings, regions};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_openings, check_for_backend(diesel::pg::Pg))]
pub struct JobOpening {
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub region_code: String,
    pub job_type: JobType,
    pub title: Option<String>,
    pub positions: i32,
    pub filled: i32,
    pub wage_min: Option<i32>,
    pub wage_max: Option<i32>,
    pub deadline: Option<NaiveDate>,
    pub withdrawn: bool,
    pub note: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
}

/// The columns an input sets, on creation and on replacement alike.
#[derive(AsChangeset, Insertable)]
#[diesel(table_name = job_openings, treat_none_as_null = true)]
struct Content<'a> {
    job_type: JobType,
    title: Option<&'a str>,
    positions: i32,
    filled: i32,
    wage_min: Option<i32>,
    wage_max: Option<i32>,
    deadline: Option<NaiveDate>,
    withdrawn: bool,
    note: Option<&'a str>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
}

impl<'a> Content<'a> {
    fn of(input: &'a JobOpeningInput, by: Uuid, at: DateTime<Utc>) -> Self {
        Content {
            job_type: input.job_type,
            title: input.title.as_deref(),
            positions: input.positions,
            filled: input.filled,
            wage_min: input.wage_min,
            wage_max: input.wage_max,
            deadline: input.deadline,
            withdrawn: input.withdrawn,
            note: input.note.as_deref(),
            updated_by: by,
            updated_at: at,
        }
    }
}

impl JobOpening {
    pub fn insert(
        conn: &mut PgConnection,
        enterprise_id: Uuid,
        region_code: &str,
        input: &JobOpeningInput,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<JobOpening> {
        diesel::insert_into(job_openings::table)
            .values((
                job_openings::enterprise_id.eq(enterprise_id),
                job_openings::region_code.eq(region_code),
                job_openings::created_by.eq(by),
                job_openings::created_at.eq(at),
                Content::of(input, by, at),
            ))
            .returning(JobOpening::as_returning())
            .get_result(conn)
    }

    /// The opening, locked until the transaction ends (a replacement reads, checks, writes).
    pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<JobOpening>> {
        job_openings::table
            .find(id)
            .select(JobOpening::as_select())
            .for_update()
            .first(conn)
            .optional()
    }

    pub fn replace(
        conn: &mut PgConnection,
        id: Uuid,
        input: &JobOpeningInput,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<JobOpening> {
        diesel::update(job_openings::table.find(id))
            .set(Content::of(input, by, at))
            .returning(JobOpening::as_returning())
            .get_result(conn)
    }

    /// An enterprise's openings, newest first.
    /// The enterprise's openings still recruiting on `day` (not withdrawn, not filled, their
    /// deadline not passed) and the positions they still have to fill.
    pub fn recruiting(
        conn: &mut PgConnection,
        enterprise_id: Uuid,
        day: NaiveDate,
    ) -> QueryResult<(i64, i64)> {
        let (openings, to_fill): (i64, Option<i64>) = job_openings::table
            .filter(job_openings::enterprise_id.eq(enterprise_id))
            .filter(job_openings::withdrawn.eq(false))
            .filter(job_openings::filled.lt(job_openings::positions))
            .filter(
                job_openings::deadline
                    .is_null()
                    .or(job_openings::deadline.ge(day)),
            )
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::sum(job_openings::positions - job_openings::filled),
            ))
            .first(conn)?;
        Ok((openings, to_fill.unwrap_or(0)))
    }

    pub fn of_enterprise(conn: &mut PgConnection, enterprise_id: Uuid) -> QueryResult<Vec<JobOpening>> {
        job_openings::table
            .filter(job_openings::enterprise_id.eq(enterprise_id))
            .order((job_openings::created_at.desc(), job_openings::id.desc()))
            .select(JobOpening::as_select())
            .load(conn)
    }

    /// Every opening of the region subtree under `path` with its enterprise's name, credit code
    /// and industry, by enterprise name then newest first: the figures and the ledger.
    pub fn in_region(conn: &mut PgConnection, path: &str) -> QueryResult<Vec<(JobOpening, EnterpriseLine)>> {
        job_openings::table
            .inner_join(enterprises::table)
            .filter(
                job_openings::region_code.eq_any(
                    regions::table
                        .filter(regions::path.like(format!("{path}%")))
                        .select(regions::code),
                ),
            )
            .order((
                enterprises::name,
                job_openings::created_at.desc(),
                job_openings::id,
            ))
            .select((JobOpening::as_select(), EnterpriseLine::as_select()))
            .load(conn)
    }
}

/// What the figures and the ledger show of an opening's enterprise.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enterprises, check_for_backend(diesel::pg::Pg))]
pub struct EnterpriseLine {
    pub name: String,
    pub credit_code: String,
    pub industry: String,
}
