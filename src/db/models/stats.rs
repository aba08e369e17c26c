//! The dashboards' figures computed from the truth, in SQL: the day's overview, the problems of
//! a period (aggregated in Rust by `domain::metrics`, where working days are counted) and every
//! officer's figures over a period (the basis of rankings and of the monthly report). The
//! definitions are in `docs/metrics.md`; the Redis copies in `cache::stats` only ever hold
//! what these return.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::officer_day::rolled_span;
use super::region::Region;
use crate::domain::lifecycle::{Outcome, Rating, Status};
use crate::domain::metrics::{cutoff, start_of_day};
use crate::domain::rollup::PeriodPlan;
use crate::domain::vocabulary::sql_list;

/// Whose figures: a region subtree, optionally only one unit's officers (a unit admin's view).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatsScope {
    pub region_code: String,
    pub region_path: String,
    pub unit_id: Option<Uuid>,
}

impl StatsScope {
    /// Looks up the region's path when the scope was built without it.
    pub fn resolve(&mut self, conn: &mut PgConnection) -> QueryResult<()> {
        if self.region_path.is_empty() {
            let region = Region::find(conn, &self.region_code)?.ok_or(diesel::result::Error::NotFound)?;
            self.region_path = region.path;
        }
        Ok(())
    }

    fn path_pattern(&self) -> String {
        format!("{}%", self.region_path)
    }
}

/// The instants a day's or a period's figures are taken at: rows created or changed before
/// `rows_before` count (the start of the day after the period), and a deadline has passed when
/// it lies before `deadlines_before` (the same, or the current minute while the period lasts).
#[derive(Debug, Clone, Copy)]
pub struct AsOf {
    pub rows_before: DateTime<Utc>,
    pub deadlines_before: DateTime<Utc>,
}

impl AsOf {
    /// The figures of a period ending on local day `to`, taken at `at`.
    pub fn end_of(to: NaiveDate, at: DateTime<Utc>) -> AsOf {
        AsOf {
            rows_before: start_of_day(to + chrono::Duration::days(1)),
            deadlines_before: cutoff(to, at),
        }
    }
}

/// The day's raw counts; rates are derived from them (`stats::Overview`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, QueryableByName, Serialize, Deserialize)]
pub struct OverviewCounts {
    #[diesel(sql_type = Int8)]
    pub officers_total: i64,
    #[diesel(sql_type = Int8)]
    pub officers_signed_in: i64,
    #[diesel(sql_type = Int8)]
    pub officers_reported: i64,
    #[diesel(sql_type = Int8)]
    pub problems_new: i64,
    #[diesel(sql_type = Int8)]
    pub problems_total: i64,
    #[diesel(sql_type = Int8)]
    pub problems_open: i64,
    #[diesel(sql_type = Int8)]
    pub problems_overdue: i64,
    #[diesel(sql_type = Int8)]
    pub problems_resolved: i64,
    #[diesel(sql_type = Int8)]
    pub problems_responded: i64,
    #[diesel(sql_type = Int8)]
    pub problems_responded_on_time: i64,
}

/// `Outcome::SOLVED` as an SQL list, for the hand-written statements below.
fn solved_outcomes() -> String {
    sql_list(Outcome::SOLVED, Outcome::as_str)
}

impl OverviewCounts {
    /// One query; every sub-count reads by an index on (day, region) or (region, created_at).
    pub fn compute(
        conn: &mut PgConnection,
        scope: &StatsScope,
        day: NaiveDate,
        day_start: DateTime<Utc>,
        as_of: AsOf,
    ) -> QueryResult<OverviewCounts> {
        let solved = solved_outcomes();
        diesel::sql_query(format!(
            "WITH scope_regions AS MATERIALIZED (SELECT code FROM regions WHERE path LIKE $1),
                  unit_officers AS MATERIALIZED (SELECT id FROM users WHERE $2::uuid IS NOT NULL AND unit_id = $2),
                  problem_rows AS MATERIALIZED (
                      SELECT p.created_at, p.closed_at, p.outcome, p.due_at, p.responded_at
                        FROM problems p
                       WHERE p.region_code IN (SELECT code FROM scope_regions)
                         AND p.created_at < $5 AND p.merged_into_id IS NULL
                         AND ($2::uuid IS NULL OR p.reporter_id IN (SELECT id FROM unit_officers)))
             SELECT
               (SELECT count(DISTINCT a.officer_id) FROM assignments a
                  JOIN enterprises e ON e.id = a.enterprise_id
                  JOIN users u ON u.id = a.officer_id
                 WHERE e.region_code IN (SELECT code FROM scope_regions)
                   AND a.start_day <= $3 AND (a.end_day IS NULL OR a.end_day >= $3)
                   AND u.active AND 'officer' = ANY (u.roles)
                   AND ($2::uuid IS NULL OR u.unit_id = $2)) AS officers_total,
               (SELECT count(DISTINCT s.officer_id) FROM sign_ins s
                 WHERE s.day = $3 AND s.region_code IN (SELECT code FROM scope_regions)
                   AND ($2::uuid IS NULL OR s.officer_id IN (SELECT id FROM unit_officers))) AS officers_signed_in,
               (SELECT count(DISTINCT r.officer_id) FROM daily_reports r
                 WHERE r.day = $3 AND r.region_code IN (SELECT code FROM scope_regions)
                   AND ($2::uuid IS NULL OR r.officer_id IN (SELECT id FROM unit_officers))) AS officers_reported,
               count(*) FILTER (WHERE created_at >= $4) AS problems_new,
               count(*) AS problems_total,
               count(*) FILTER (WHERE closed_at IS NULL OR closed_at >= $5) AS problems_open,
               count(*) FILTER (WHERE (closed_at IS NULL OR closed_at >= $5) AND due_at < $6
                                  AND (responded_at IS NULL OR responded_at >= $5)) AS problems_overdue,
               count(*) FILTER (WHERE closed_at < $5 AND outcome IN {solved}) AS problems_resolved,
               count(*) FILTER (WHERE responded_at < $5 AND due_at IS NOT NULL) AS problems_responded,
               count(*) FILTER (WHERE responded_at < $5 AND responded_at <= due_at) AS problems_responded_on_time
             FROM problem_rows"
        ))
        .bind::<Text, _>(scope.path_pattern())
        .bind::<Nullable<SqlUuid>, _>(scope.unit_id)
        .bind::<Date, _>(day)
        .bind::<Timestamptz, _>(day_start)
        .bind::<Timestamptz, _>(as_of.rows_before)
        .bind::<Timestamptz, _>(as_of.deadlines_before)
        .get_result(conn)
    }
}

/// What the period aggregates need of one problem.
#[derive(Debug, Clone, QueryableByName)]
pub struct ProblemFacts {
    #[diesel(sql_type = Nullable<Text>)]
    pub category: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: Status,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub department_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub assigned_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub due_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub responded_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub outcome: Option<Outcome>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub closed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub rating: Option<Rating>,
}

/// The problems `p` of a scope (`$1`: its path pattern, `$2`: a unit admin's unit), merged
/// duplicates left out: where every facts query below starts.
const IN_SCOPE: &str = "p.region_code IN (SELECT code FROM regions WHERE path LIKE $1)
    AND ($2::uuid IS NULL OR p.reporter_id IN (SELECT id FROM users WHERE unit_id = $2))
    AND p.merged_into_id IS NULL";

/// Runs a facts query over `IN_SCOPE` with the period's bounds as `$3` and `$4`.
fn scoped_in_period<T: QueryableByName<diesel::pg::Pg> + 'static>(
    conn: &mut PgConnection,
    sql: &str,
    scope: &StatsScope,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<Vec<T>> {
    diesel::sql_query(sql)
        .bind::<Text, _>(scope.path_pattern())
        .bind::<Nullable<SqlUuid>, _>(scope.unit_id)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(until)
        .load(conn)
}

/// Which instant places a problem in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodBy {
    /// Problems raised in the period (the problems view).
    Created,
    /// Problems handed to a department in the period (the departments view).
    Assigned,
}

impl ProblemFacts {
    /// The problems of the scope that entered the period (`from` ≤ instant < `until`), merged
    /// duplicates left out.
    pub fn in_period(
        conn: &mut PgConnection,
        scope: &StatsScope,
        by: PeriodBy,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> QueryResult<Vec<ProblemFacts>> {
        let column = match by {
            PeriodBy::Created => "p.created_at",
            PeriodBy::Assigned => "p.assigned_at",
        };
        let sql = format!(
            "SELECT {PROBLEM_FACTS}
               FROM problems p
              WHERE {IN_SCOPE} AND {column} >= $3 AND {column} < $4"
        );
        scoped_in_period(conn, &sql, scope, from, until)
    }
}

/// The columns of [`ProblemFacts`].
const PROBLEM_FACTS: &str = "p.category, p.status, p.department_id, p.assigned_at, p.due_at, p.responded_at,
    p.outcome, p.closed_at, p.rating";

/// A problem of a task force's enterprise (专班), as the task forces view counts it.
#[derive(Debug, Clone, QueryableByName)]
pub struct TaskForceFacts {
    #[diesel(sql_type = SqlUuid)]
    pub task_force_id: Uuid,
    #[diesel(embed)]
    pub problem: ProblemFacts,
}

impl TaskForceFacts {
    /// The problems of the scope raised in the period (`from` ≤ created < `until`) at
    /// enterprises some task force owns, merged duplicates left out.
    pub fn in_period(
        conn: &mut PgConnection,
        scope: &StatsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> QueryResult<Vec<TaskForceFacts>> {
        let sql = format!(
            "SELECT t.task_force_id, {PROBLEM_FACTS}
               FROM problems p
               JOIN task_force_enterprises t ON t.enterprise_id = p.enterprise_id
              WHERE {IN_SCOPE} AND p.created_at >= $3 AND p.created_at < $4"
        );
        scoped_in_period(conn, &sql, scope, from, until)
    }
}

/// A co-handling department's part (协办) in a problem, as the departments view counts it.
#[derive(Debug, Clone, QueryableByName)]
pub struct CoHandlingFacts {
    #[diesel(sql_type = SqlUuid)]
    pub department_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub contact_due_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub due_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub contacted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub opined_at: Option<DateTime<Utc>>,
}

impl CoHandlingFacts {
    /// The co-handling parts given in the period (`from` ≤ assigned < `until`) on problems of
    /// the scope; parts returned by their department (not its remit) left out.
    pub fn in_period(
        conn: &mut PgConnection,
        scope: &StatsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> QueryResult<Vec<CoHandlingFacts>> {
        let sql = format!(
            "SELECT c.department_id, c.contact_due_at, c.due_at, c.contacted_at, c.opined_at
               FROM problem_co_handlers c
               JOIN problems p ON p.id = c.problem_id
              WHERE {IN_SCOPE} AND c.assigned_at >= $3 AND c.assigned_at < $4 AND c.status <> 'returned'"
        );
        scoped_in_period(conn, &sql, scope, from, until)
    }
}

/// A problem whose answer stated benefits (惠企成效), as the benefits view sums them.
#[derive(Debug, Clone, QueryableByName)]
pub struct BenefitFacts {
    #[diesel(sql_type = Nullable<Text>)]
    pub category: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub department_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Nullable<Int8>)]
    pub loan_yuan: Option<i64>,
    #[diesel(sql_type = Nullable<Int8>)]
    pub fees_reduced_yuan: Option<i64>,
    #[diesel(sql_type = Nullable<Int8>)]
    pub subsidies_yuan: Option<i64>,
    #[diesel(sql_type = Nullable<Int4>)]
    pub positions_filled: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub other: bool,
}

impl BenefitFacts {
    /// The problems of the scope answered in the period (`from` ≤ responded_at < `until`) with
    /// benefits stated, merged duplicates left out.
    pub fn in_period(
        conn: &mut PgConnection,
        scope: &StatsScope,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> QueryResult<Vec<BenefitFacts>> {
        let sql = format!(
            "SELECT p.category, p.department_id, p.region_code, p.benefit_loan_yuan AS loan_yuan,
                    p.benefit_fees_reduced_yuan AS fees_reduced_yuan,
                    p.benefit_subsidies_yuan AS subsidies_yuan,
                    p.benefit_positions_filled AS positions_filled,
                    p.benefit_other IS NOT NULL AS other
               FROM problems p
              WHERE {IN_SCOPE} AND p.responded_at >= $3 AND p.responded_at < $4
                AND (p.benefit_loan_yuan IS NOT NULL OR p.benefit_fees_reduced_yuan IS NOT NULL
                     OR p.benefit_subsidies_yuan IS NOT NULL OR p.benefit_positions_filled IS NOT NULL
                     OR p.benefit_other IS NOT NULL)"
        );
        scoped_in_period(conn, &sql, scope, from, until)
    }
}

/// One officer's figures over a period (also a frozen month's row).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, Serialize, Deserialize)]
pub struct OfficerFigures {
    #[diesel(sql_type = SqlUuid)]
    pub officer_id: Uuid,
    #[diesel(sql_type = Text)]
    pub officer_name: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub unit_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub unit_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Text)]
    pub region_path: String,
    /// Working days of the period on which the officer was on assignment.
    #[diesel(sql_type = Int8)]
    pub working_days: i64,
    /// Distinct days with a sign-in (驻企天数), weekends included.
    #[diesel(sql_type = Int8)]
    pub days_on_site: i64,
    /// Of `working_days`, those with a sign-in / with a report.
    #[diesel(sql_type = Int8)]
    pub signed_in_days: i64,
    #[diesel(sql_type = Int8)]
    pub reported_days: i64,
    #[diesel(sql_type = Int8)]
    pub sign_ins: i64,
    #[diesel(sql_type = Int8)]
    pub reports: i64,
    #[diesel(sql_type = Int8)]
    pub problems_raised: i64,
    #[diesel(sql_type = Int8)]
    pub problems_solved: i64,
    #[diesel(sql_type = Int8)]
    pub problems_overdue: i64,
    #[diesel(sql_type = Int8)]
    pub rated_satisfied: i64,
    #[diesel(sql_type = Int8)]
    pub rated_basically_satisfied: i64,
    #[diesel(sql_type = Int8)]
    pub rated_dissatisfied: i64,
    /// 惠企成效 of the officer's problems answered in the period (`stats::benefits`' sums).
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub benefit_problems: i64,
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub benefit_loan_yuan: i64,
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub benefit_fees_reduced_yuan: i64,
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub benefit_subsidies_yuan: i64,
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub benefit_positions_filled: i64,
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub benefit_with_other: i64,
    /// The enterprises' ratings of the officer (企业评价) for the months of the period: how
    /// many, and the sum of each score.
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub enterprise_ratings: i64,
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub enterprise_presence_sum: i64,
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub enterprise_responsiveness_sum: i64,
    #[diesel(sql_type = Int8)]
    #[serde(default)]
    pub enterprise_help_sum: i64,
}

/// Officers' figures to compute: a scope, optionally one officer, over local days
/// `from..=to`.
pub struct OfficerPeriod<'a> {
    pub scope: &'a StatsScope,
    pub officer_id: Option<Uuid>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub from_start: DateTime<Utc>,
    pub as_of: AsOf,
}

/// Every officer of the scope with an assignment overlapping the period, in one query. The days
/// they were due on site (the period's working days, by the official calendar, within their
/// assignments), signed in and reported come from the rolled-up days and months where the
/// days are rolled (`domain::rollup`), else from the raw rows by `officer_days_between`.
/// The officers' figures of a period; `{solved}` stands for `Outcome::SOLVED`.
const OFFICER_FIGURES_TEMPLATE: &str = "
WITH officers AS MATERIALIZED (
    SELECT u.id, u.name, u.unit_id, un.name AS unit_name, u.region_code, r.path AS region_path
      FROM users u
      JOIN regions r ON r.code = u.region_code
      LEFT JOIN units un ON un.id = u.unit_id
     WHERE 'officer' = ANY (u.roles) AND r.path LIKE $1
       AND ($2::uuid IS NULL OR u.unit_id = $2)
       AND ($8::uuid IS NULL OR u.id = $8)
       AND EXISTS (SELECT 1 FROM assignments a WHERE a.officer_id = u.id
                    AND a.start_day <= $4 AND (a.end_day IS NULL OR a.end_day >= $3))),
-- Duty days, sign-ins and reports: whole months and days from the rolled rows, the days outside
-- the rolled span from the raw ones, each range as `PeriodPlan` laid it out (NULL: none).
days AS (
    SELECT d.officer_id, d.on_duty, d.sign_ins, d.reports
      FROM officer_days d
     WHERE d.day BETWEEN $11 AND $12 OR d.day BETWEEN $13 AND $14
    UNION ALL
    SELECT b.officer_id, b.on_duty, b.sign_ins, b.reports FROM officer_days_between($15, $16, $8) b
    UNION ALL
    SELECT b.officer_id, b.on_duty, b.sign_ins, b.reports FROM officer_days_between($17, $18, $8) b),
kept AS (
    SELECT m.officer_id, m.working_days, m.days_on_site, m.signed_in_days, m.reported_days,
           m.sign_ins, m.reports
      FROM officer_months m
     WHERE m.month BETWEEN $9 AND $10
    UNION ALL
    SELECT d.officer_id, count(*) FILTER (WHERE d.on_duty), count(*) FILTER (WHERE d.sign_ins > 0),
           count(*) FILTER (WHERE d.on_duty AND d.sign_ins > 0),
           count(*) FILTER (WHERE d.on_duty AND d.reports > 0), sum(d.sign_ins), sum(d.reports)
      FROM days d GROUP BY d.officer_id),
activity AS (
    SELECT k.officer_id, sum(k.working_days)::int8 AS working_days,
           sum(k.days_on_site)::int8 AS days_on_site, sum(k.signed_in_days)::int8 AS signed_in_days,
           sum(k.reported_days)::int8 AS reported_days, sum(k.sign_ins)::int8 AS sign_ins,
           sum(k.reports)::int8 AS reports
      FROM kept k JOIN officers o ON o.id = k.officer_id
     GROUP BY k.officer_id),
raised AS (
    SELECT p.reporter_id AS officer_id,
           count(*) FILTER (WHERE p.created_at >= $5 AND p.created_at < $6) AS problems_raised,
           count(*) FILTER (WHERE p.closed_at >= $5 AND p.closed_at < $6
                              AND p.outcome IN {solved}) AS problems_solved,
           count(*) FILTER (WHERE p.created_at < $6 AND (p.closed_at IS NULL OR p.closed_at >= $6)
                              AND p.due_at < $7 AND (p.responded_at IS NULL OR p.responded_at >= $6)) AS problems_overdue,
           count(*) FILTER (WHERE p.evaluated_at >= $5 AND p.evaluated_at < $6 AND p.rating = 'satisfied') AS rated_satisfied,
           count(*) FILTER (WHERE p.evaluated_at >= $5 AND p.evaluated_at < $6 AND p.rating = 'basically_satisfied') AS rated_basically_satisfied,
           count(*) FILTER (WHERE p.evaluated_at >= $5 AND p.evaluated_at < $6 AND p.rating = 'dissatisfied') AS rated_dissatisfied,
           count(*) FILTER (WHERE p.responded_at >= $5 AND p.responded_at < $6
                              AND (p.benefit_loan_yuan IS NOT NULL OR p.benefit_fees_reduced_yuan IS NOT NULL
                                   OR p.benefit_subsidies_yuan IS NOT NULL OR p.benefit_positions_filled IS NOT NULL
                                   OR p.benefit_other IS NOT NULL)) AS benefit_problems,
           sum(p.benefit_loan_yuan) FILTER (WHERE p.responded_at >= $5 AND p.responded_at < $6) AS benefit_loan_yuan,
           sum(p.benefit_fees_reduced_yuan) FILTER (WHERE p.responded_at >= $5 AND p.responded_at < $6) AS benefit_fees_reduced_yuan,
           sum(p.benefit_subsidies_yuan) FILTER (WHERE p.responded_at >= $5 AND p.responded_at < $6) AS benefit_subsidies_yuan,
           sum(p.benefit_positions_filled) FILTER (WHERE p.responded_at >= $5 AND p.responded_at < $6) AS benefit_positions_filled,
           count(*) FILTER (WHERE p.responded_at >= $5 AND p.responded_at < $6 AND p.benefit_other IS NOT NULL) AS benefit_with_other
      FROM problems p JOIN officers o ON o.id = p.reporter_id
     WHERE p.merged_into_id IS NULL
       -- Only the problems the period touched or left open, found by their instants' indexes
       -- (a province's year is 300,000 problems, a month's figures read a tenth of them).
       AND (p.created_at >= $5 AND p.created_at < $6
            OR p.closed_at >= $5 AND p.closed_at < $6
            OR p.evaluated_at >= $5 AND p.evaluated_at < $6
            OR p.responded_at >= $5 AND p.responded_at < $6
            OR p.created_at < $6 AND (p.closed_at IS NULL OR p.closed_at >= $6) AND p.due_at < $7)
     GROUP BY p.reporter_id),
appraised AS (
    SELECT r.officer_id, count(*) AS enterprise_ratings, sum(r.presence) AS presence,
           sum(r.responsiveness) AS responsiveness, sum(r.help) AS help
      FROM officer_ratings r JOIN officers o ON o.id = r.officer_id
     WHERE r.month BETWEEN date_trunc('month', $3::date)::date AND $4
     GROUP BY r.officer_id)
SELECT o.id AS officer_id, o.name AS officer_name, o.unit_id, o.unit_name, o.region_code, o.region_path,
       coalesce(k.working_days, 0) AS working_days,
       coalesce(k.days_on_site, 0) AS days_on_site,
       coalesce(k.signed_in_days, 0) AS signed_in_days,
       coalesce(k.reported_days, 0) AS reported_days,
       coalesce(k.sign_ins, 0) AS sign_ins,
       coalesce(k.reports, 0) AS reports,
       coalesce(p.problems_raised, 0) AS problems_raised,
       coalesce(p.problems_solved, 0) AS problems_solved,
       coalesce(p.problems_overdue, 0) AS problems_overdue,
       coalesce(p.rated_satisfied, 0) AS rated_satisfied,
       coalesce(p.rated_basically_satisfied, 0) AS rated_basically_satisfied,
       coalesce(p.rated_dissatisfied, 0) AS rated_dissatisfied,
       coalesce(p.benefit_problems, 0) AS benefit_problems,
       coalesce(p.benefit_loan_yuan, 0)::int8 AS benefit_loan_yuan,
       coalesce(p.benefit_fees_reduced_yuan, 0)::int8 AS benefit_fees_reduced_yuan,
       coalesce(p.benefit_subsidies_yuan, 0)::int8 AS benefit_subsidies_yuan,
       coalesce(p.benefit_positions_filled, 0)::int8 AS benefit_positions_filled,
       coalesce(p.benefit_with_other, 0) AS benefit_with_other,
       coalesce(a.enterprise_ratings, 0) AS enterprise_ratings,
       coalesce(a.presence, 0)::int8 AS enterprise_presence_sum,
       coalesce(a.responsiveness, 0)::int8 AS enterprise_responsiveness_sum,
       coalesce(a.help, 0)::int8 AS enterprise_help_sum
  FROM officers o
  LEFT JOIN activity k ON k.officer_id = o.id
  LEFT JOIN raised p ON p.officer_id = o.id
  LEFT JOIN appraised a ON a.officer_id = o.id
 ORDER BY o.id";

impl OfficerFigures {
    /// Planned on the rolled span, which a roll committing meanwhile may extend: the span is
    /// read again after the query, and the query made again if it moved (a span only grows, so
    /// the same span before and after is the span the query saw).
    pub fn compute(conn: &mut PgConnection, period: &OfficerPeriod<'_>) -> QueryResult<Vec<OfficerFigures>> {
        let mut span = rolled_span(conn)?;
        loop {
            let figures = Self::compute_on(conn, period, &PeriodPlan::of(period.from, period.to, span))?;
            let after = rolled_span(conn)?;
            if after == span {
                return Ok(figures);
            }
            span = after;
        }
    }

    fn compute_on(
        conn: &mut PgConnection,
        period: &OfficerPeriod<'_>,
        plan: &PeriodPlan,
    ) -> QueryResult<Vec<OfficerFigures>> {
        static OFFICER_FIGURES: LazyLock<String> =
            LazyLock::new(|| OFFICER_FIGURES_TEMPLATE.replace("{solved}", &solved_outcomes()));
        let [head, tail] = plan.days;
        let [before, after] = plan.raw;
        let bounds = |r: Option<(NaiveDate, NaiveDate)>| (r.map(|r| r.0), r.map(|r| r.1));
        let (months, head, tail, before, after) = (
            bounds(plan.months),
            bounds(head),
            bounds(tail),
            bounds(before),
            bounds(after),
        );
        diesel::sql_query(OFFICER_FIGURES.as_str())
            .bind::<Text, _>(period.scope.path_pattern())
            .bind::<Nullable<SqlUuid>, _>(period.scope.unit_id)
            .bind::<Date, _>(period.from)
            .bind::<Date, _>(period.to)
            .bind::<Timestamptz, _>(period.from_start)
            .bind::<Timestamptz, _>(period.as_of.rows_before)
            .bind::<Timestamptz, _>(period.as_of.deadlines_before)
            .bind::<Nullable<SqlUuid>, _>(period.officer_id)
            .bind::<Nullable<Date>, _>(months.0)
            .bind::<Nullable<Date>, _>(months.1)
            .bind::<Nullable<Date>, _>(head.0)
            .bind::<Nullable<Date>, _>(head.1)
            .bind::<Nullable<Date>, _>(tail.0)
            .bind::<Nullable<Date>, _>(tail.1)
            .bind::<Nullable<Date>, _>(before.0)
            .bind::<Nullable<Date>, _>(before.1)
            .bind::<Nullable<Date>, _>(after.0)
            .bind::<Nullable<Date>, _>(after.1)
            .load(conn)
    }
}

/// How many sign-ins, reports and problems one region (not its subtree) had on one day: what
/// the per-day counters in Redis should add up to.
#[derive(Debug, Clone, QueryableByName)]
pub struct DayCount {
    #[diesel(sql_type = Text)]
    pub region_code: String,
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub metric: String,
    #[diesel(sql_type = Int8)]
    pub count: i64,
}

impl DayCount {
    /// The counts of local days `from..=to` (`from_start`..`until` as instants).
    pub fn between(
        conn: &mut PgConnection,
        from: NaiveDate,
        to: NaiveDate,
        from_start: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> QueryResult<Vec<DayCount>> {
        diesel::sql_query(
            "SELECT region_code, day, 'sign_ins' AS metric, count(*) AS count
               FROM sign_ins WHERE day BETWEEN $1 AND $2 GROUP BY 1, 2
             UNION ALL
             SELECT region_code, day, 'reports', count(*)
               FROM daily_reports WHERE day BETWEEN $1 AND $2 GROUP BY 1, 2
             UNION ALL
             SELECT region_code, (created_at AT TIME ZONE 'Asia/Shanghai')::date, 'problems', count(*)
               FROM problems WHERE created_at >= $3 AND created_at < $4 GROUP BY 1, 2",
        )
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Timestamptz, _>(from_start)
        .bind::<Timestamptz, _>(until)
        .load(conn)
    }
}
