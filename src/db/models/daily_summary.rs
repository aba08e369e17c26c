//! 日总结 in the database: the facts a region's day is summed up from, taken as of one instant
//! (the day at the region's figures time), and the frozen summaries themselves.
//!
//! Every facts query reads rows as they stood at `as_of` as far as the rows say: sign-ins and
//! reports made before it, problems created before it, closed, answered or overdue by then.
//! A summary computed late (by the first reader the next morning) so says the same as one
//! computed on time.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::benefit::Benefits;
use crate::domain::lifecycle::{Outcome, Status};
use crate::domain::problem::Urgency;
use crate::schema::daily_summaries;

/// The region subtree's officers on the day: expected (on assignment), signed in and reported
/// before `as_of`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, QueryableByName)]
pub struct OfficerCounts {
    #[diesel(sql_type = Int8)]
    pub expected: i64,
    #[diesel(sql_type = Int8)]
    pub signed_in: i64,
    #[diesel(sql_type = Int8)]
    pub reported: i64,
}

impl OfficerCounts {
    pub fn of_day(
        conn: &mut PgConnection,
        region_path: &str,
        day: NaiveDate,
        as_of: DateTime<Utc>,
    ) -> QueryResult<OfficerCounts> {
        diesel::sql_query(
            "WITH scope_regions AS MATERIALIZED (SELECT code FROM regions WHERE path LIKE $1)
             SELECT
               (SELECT count(DISTINCT a.officer_id) FROM assignments a
                  JOIN enterprises e ON e.id = a.enterprise_id
                  JOIN users u ON u.id = a.officer_id
                 WHERE e.region_code IN (SELECT code FROM scope_regions)
                   AND a.start_day <= $2 AND (a.end_day IS NULL OR a.end_day >= $2)
                   AND u.active AND 'officer' = ANY (u.roles)) AS expected,
               (SELECT count(DISTINCT s.officer_id) FROM sign_ins s
                 WHERE s.day = $2 AND s.signed_at < $3
                   AND s.region_code IN (SELECT code FROM scope_regions)) AS signed_in,
               (SELECT count(DISTINCT r.officer_id) FROM daily_reports r
                 WHERE r.day = $2 AND r.submitted_at < $3
                   AND r.region_code IN (SELECT code FROM scope_regions)) AS reported",
        )
        .bind::<Text, _>(format!("{region_path}%"))
        .bind::<Date, _>(day)
        .bind::<Timestamptz, _>(as_of)
        .get_result(conn)
    }
}

/// A problem the day's summary names: raised that day, closed that day, or overdue at its end.
#[derive(Debug, Clone, QueryableByName)]
pub struct SummaryProblemRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub number: Option<String>,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub enterprise: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub category: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub category_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub urgency: Urgency,
    #[diesel(sql_type = Text)]
    pub status: Status,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub department_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub department: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub due_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub responded_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub closed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<Outcome>,
    #[diesel(sql_type = Nullable<Int8>)]
    pub benefit_loan_yuan: Option<i64>,
    #[diesel(sql_type = Nullable<Int8>)]
    pub benefit_fees_reduced_yuan: Option<i64>,
    #[diesel(sql_type = Nullable<Int8>)]
    pub benefit_subsidies_yuan: Option<i64>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub benefit_positions_filled: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub benefit_other: Option<String>,
}

impl SummaryProblemRow {
    /// The problems of the region subtree (merged duplicates left out) raised in
    /// [`day_start`, `as_of`), closed in it, or overdue at `as_of`: open then, past their due
    /// date and not yet answered. Oldest deadline first, then oldest problem.
    pub fn of_day(
        conn: &mut PgConnection,
        region_path: &str,
        day_start: DateTime<Utc>,
        as_of: DateTime<Utc>,
    ) -> QueryResult<Vec<SummaryProblemRow>> {
        diesel::sql_query(
            "SELECT p.id, p.number, p.title, e.name AS enterprise, p.category, c.name AS category_name,
                    p.urgency, p.status, p.department_id, un.name AS department, p.created_at,
                    p.due_at, p.responded_at, p.closed_at, p.outcome,
                    p.benefit_loan_yuan, p.benefit_fees_reduced_yuan, p.benefit_subsidies_yuan,
                    p.benefit_positions_filled, p.benefit_other
               FROM problems p
               JOIN enterprises e ON e.id = p.enterprise_id
               LEFT JOIN categories c ON c.code = p.category
               LEFT JOIN units un ON un.id = p.department_id
              WHERE p.region_code IN (SELECT code FROM regions WHERE path LIKE $1)
                AND p.merged_into_id IS NULL AND p.created_at < $3
                AND (p.created_at >= $2
                     OR (p.closed_at >= $2 AND p.closed_at < $3)
                     OR ((p.closed_at IS NULL OR p.closed_at >= $3) AND p.due_at < $3
                         AND (p.responded_at IS NULL OR p.responded_at >= $3)))
              ORDER BY p.due_at NULLS LAST, p.created_at, p.id",
        )
        .bind::<Text, _>(format!("{region_path}%"))
        .bind::<Timestamptz, _>(day_start)
        .bind::<Timestamptz, _>(as_of)
        .load(conn)
    }

    /// The benefits its answer stated, if any.
    pub fn benefits(&self) -> Option<Benefits> {
        let benefits = Benefits {
            loan_yuan: self.benefit_loan_yuan,
            fees_reduced_yuan: self.benefit_fees_reduced_yuan,
            subsidies_yuan: self.benefit_subsidies_yuan,
            positions_filled: self.benefit_positions_filled.map(i64::from),
            other: self.benefit_other.clone(),
        };
        (benefits != Benefits::default()).then_some(benefits)
    }
}

/// Problems open at `as_of` per lead department (`None`: not assigned to one).
#[derive(Debug, Clone, QueryableByName)]
pub struct OpenByDepartment {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub department_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub department: Option<String>,
    #[diesel(sql_type = Int8)]
    pub open: i64,
}

impl OpenByDepartment {
    pub fn at(
        conn: &mut PgConnection,
        region_path: &str,
        as_of: DateTime<Utc>,
    ) -> QueryResult<Vec<OpenByDepartment>> {
        diesel::sql_query(
            "SELECT p.department_id, min(un.name) AS department, count(*) AS open
               FROM problems p
               LEFT JOIN units un ON un.id = p.department_id
              WHERE p.region_code IN (SELECT code FROM regions WHERE path LIKE $1)
                AND p.merged_into_id IS NULL AND p.created_at < $2
                AND (p.closed_at IS NULL OR p.closed_at >= $2)
              GROUP BY p.department_id",
        )
        .bind::<Text, _>(format!("{region_path}%"))
        .bind::<Timestamptz, _>(as_of)
        .load(conn)
    }
}

/// A frozen summary as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = daily_summaries, check_for_backend(diesel::pg::Pg))]
pub struct StoredSummary {
    pub region_code: String,
    pub day: NaiveDate,
    pub as_of: DateTime<Utc>,
    pub frozen_at: DateTime<Utc>,
    pub body: Value,
}

impl StoredSummary {
    pub fn find(
        conn: &mut PgConnection,
        region_code: &str,
        day: NaiveDate,
    ) -> QueryResult<Option<StoredSummary>> {
        daily_summaries::table
            .find((region_code, day))
            .select(StoredSummary::as_select())
            .first(conn)
            .optional()
    }

    /// Stores the summary unless one is stored already (another instance or reader froze it
    /// first); `true` when this call stored it.
    pub fn store(&self, conn: &mut PgConnection) -> QueryResult<bool> {
        diesel::insert_into(daily_summaries::table)
            .values(self)
            .on_conflict_do_nothing()
            .execute(conn)
            .map(|n| n == 1)
    }
}
