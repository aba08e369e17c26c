//! Frozen months (月报): a month's officer figures, computed once after the month is over and
//! read from here ever after.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::stats::{OfficerFigures, StatsScope};
use crate::schema::{monthly_freezes, monthly_officer_figures};

/// A frozen month's row as stored: written from an officer's figures, read back into them.
#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = monthly_officer_figures)]
struct FrozenRow {
    month: NaiveDate,
    officer_id: Uuid,
    officer_name: String,
    unit_id: Option<Uuid>,
    unit_name: Option<String>,
    region_code: String,
    region_path: String,
    working_days: i32,
    days_on_site: i32,
    signed_in_days: i32,
    reported_days: i32,
    sign_ins: i32,
    reports: i32,
    problems_raised: i32,
    problems_solved: i32,
    problems_overdue: i32,
    rated_satisfied: i32,
    rated_basically_satisfied: i32,
    rated_dissatisfied: i32,
    benefit_problems: i32,
    benefit_loan_yuan: i64,
    benefit_fees_reduced_yuan: i64,
    benefit_subsidies_yuan: i64,
    benefit_positions_filled: i64,
    benefit_with_other: i32,
    enterprise_ratings: i32,
    enterprise_presence_sum: i32,
    enterprise_responsiveness_sum: i32,
    enterprise_help_sum: i32,
}

fn small(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl FrozenRow {
    fn of(month: NaiveDate, f: &OfficerFigures) -> Self {
        Self {
            month,
            officer_id: f.officer_id,
            officer_name: f.officer_name.clone(),
            unit_id: f.unit_id,
            unit_name: f.unit_name.clone(),
            region_code: f.region_code.clone(),
            region_path: f.region_path.clone(),
            working_days: small(f.working_days),
            days_on_site: small(f.days_on_site),
            signed_in_days: small(f.signed_in_days),
            reported_days: small(f.reported_days),
            sign_ins: small(f.sign_ins),
            reports: small(f.reports),
            problems_raised: small(f.problems_raised),
            problems_solved: small(f.problems_solved),
            problems_overdue: small(f.problems_overdue),
            rated_satisfied: small(f.rated_satisfied),
            rated_basically_satisfied: small(f.rated_basically_satisfied),
            rated_dissatisfied: small(f.rated_dissatisfied),
            benefit_problems: small(f.benefit_problems),
            benefit_loan_yuan: f.benefit_loan_yuan,
            benefit_fees_reduced_yuan: f.benefit_fees_reduced_yuan,
            benefit_subsidies_yuan: f.benefit_subsidies_yuan,
            benefit_positions_filled: f.benefit_positions_filled,
            benefit_with_other: small(f.benefit_with_other),
            enterprise_ratings: small(f.enterprise_ratings),
            enterprise_presence_sum: small(f.enterprise_presence_sum),
            enterprise_responsiveness_sum: small(f.enterprise_responsiveness_sum),
            enterprise_help_sum: small(f.enterprise_help_sum),
        }
    }

    fn into_figures(self) -> OfficerFigures {
        OfficerFigures {
            officer_id: self.officer_id,
            officer_name: self.officer_name,
            unit_id: self.unit_id,
            unit_name: self.unit_name,
            region_code: self.region_code,
            region_path: self.region_path,
            working_days: self.working_days.into(),
            days_on_site: self.days_on_site.into(),
            signed_in_days: self.signed_in_days.into(),
            reported_days: self.reported_days.into(),
            sign_ins: self.sign_ins.into(),
            reports: self.reports.into(),
            problems_raised: self.problems_raised.into(),
            problems_solved: self.problems_solved.into(),
            problems_overdue: self.problems_overdue.into(),
            rated_satisfied: self.rated_satisfied.into(),
            rated_basically_satisfied: self.rated_basically_satisfied.into(),
            rated_dissatisfied: self.rated_dissatisfied.into(),
            benefit_problems: self.benefit_problems.into(),
            benefit_loan_yuan: self.benefit_loan_yuan,
            benefit_fees_reduced_yuan: self.benefit_fees_reduced_yuan,
            benefit_subsidies_yuan: self.benefit_subsidies_yuan,
            benefit_positions_filled: self.benefit_positions_filled,
            benefit_with_other: self.benefit_with_other.into(),
            enterprise_ratings: self.enterprise_ratings.into(),
            enterprise_presence_sum: self.enterprise_presence_sum.into(),
            enterprise_responsiveness_sum: self.enterprise_responsiveness_sum.into(),
            enterprise_help_sum: self.enterprise_help_sum.into(),
        }
    }
}

/// Rows per INSERT: 29 columns stay well under PostgreSQL's 65,535 parameters.
const CHUNK: usize = 1000;

pub struct MonthlyFreeze;

impl MonthlyFreeze {
    /// When the month was frozen, if it was.
    pub fn frozen_at(conn: &mut PgConnection, month: NaiveDate) -> QueryResult<Option<DateTime<Utc>>> {
        monthly_freezes::table
            .find(month)
            .select(monthly_freezes::frozen_at)
            .first(conn)
            .optional()
    }

    /// Claims the month for freezing; `false` when it is frozen already (or another instance
    /// is freezing it right now: the primary key makes the second one wait, then see it).
    pub fn claim(conn: &mut PgConnection, month: NaiveDate, at: DateTime<Utc>) -> QueryResult<bool> {
        diesel::insert_into(monthly_freezes::table)
            .values((
                monthly_freezes::month.eq(month),
                monthly_freezes::frozen_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .map(|n| n == 1)
    }

    /// Stores a claimed month's figures (call in the claim's transaction).
    pub fn store(conn: &mut PgConnection, month: NaiveDate, figures: &[OfficerFigures]) -> QueryResult<()> {
        for chunk in figures.chunks(CHUNK) {
            let rows: Vec<FrozenRow> = chunk.iter().map(|f| FrozenRow::of(month, f)).collect();
            diesel::insert_into(monthly_officer_figures::table)
                .values(&rows)
                .execute(conn)?;
        }
        Ok(())
    }

    /// A frozen month's figures within a scope (optionally one officer), ordered by officer.
    pub fn figures(
        conn: &mut PgConnection,
        month: NaiveDate,
        scope: &StatsScope,
        officer_id: Option<Uuid>,
    ) -> QueryResult<Vec<OfficerFigures>> {
        use monthly_officer_figures as m;
        let mut query = m::table
            .filter(m::month.eq(month))
            .filter(m::region_path.like(format!("{}%", scope.region_path)))
            .into_boxed();
        if let Some(unit) = scope.unit_id {
            query = query.filter(m::unit_id.eq(unit));
        }
        if let Some(officer) = officer_id {
            query = query.filter(m::officer_id.eq(officer));
        }
        let rows: Vec<FrozenRow> = query
            .select(FrozenRow::as_select())
            .order(m::officer_id)
            .load(conn)?;
        Ok(rows.into_iter().map(FrozenRow::into_figures).collect())
    }
}
