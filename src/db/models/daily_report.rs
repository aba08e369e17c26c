//! `daily_reports` (日报告) and their `daily_report_revisions`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::pg::Pg;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::scoped::RecordScope;
use crate::domain::daily_report::{ProductionStatus, ValidReport};
use crate::schema::{daily_report_revisions, daily_reports};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = daily_reports, check_for_backend(diesel::pg::Pg))]
pub struct DailyReport {
    pub id: Uuid,
    pub officer_id: Uuid,
    pub enterprise_id: Uuid,
    pub region_code: String,
    pub day: NaiveDate,
    pub revision: i32,
    pub work_done: String,
    pub production_status: ProductionStatus,
    pub capacity_pct: i16,
    pub staff_on_duty: i32,
    pub staff_total: i32,
    pub staff_shortage: i32,
    pub difficulties: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct ReportFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub enterprise_id: Option<Uuid>,
    pub officer_id: Option<Uuid>,
}

impl DailyReport {
    /// The stored content as the domain sees it (the columns are CHECK-constrained).
    pub fn content(&self) -> ValidReport {
        ValidReport {
            work_done: self.work_done.clone(),
            production_status: self.production_status,
            capacity_pct: self.capacity_pct,
            staff_on_duty: self.staff_on_duty,
            staff_total: self.staff_total,
            staff_shortage: self.staff_shortage,
            difficulties: self.difficulties.clone(),
        }
    }

    /// The officer's report for the enterprise and day (the phone's home screen, the draft). Read
    /// by its unique key, which PostgreSQL keeps one generic plan for; reading every officer's
    /// report by enterprise and day was planned again at every call, pruned to the day's
    /// partition at planning (issue 18's morning on partitions).
    pub fn find(
        conn: &mut PgConnection,
        officer_id: Uuid,
        enterprise_id: Uuid,
        day: NaiveDate,
    ) -> QueryResult<Option<DailyReport>> {
        officers_report(officer_id, enterprise_id, day)
            .select(DailyReport::as_select())
            .first(conn)
            .optional()
    }

    /// The officer's report for the enterprise and day, locked for a revision.
    pub fn find_for_update(
        conn: &mut PgConnection,
        officer_id: Uuid,
        enterprise_id: Uuid,
        day: NaiveDate,
    ) -> QueryResult<Option<DailyReport>> {
        officers_report(officer_id, enterprise_id, day)
            .select(DailyReport::as_select())
            .for_update()
            .first(conn)
            .optional()
    }

    /// The officer's latest report on the enterprise before `day`, to prefill a draft.
    pub fn latest_before(
        conn: &mut PgConnection,
        officer_id: Uuid,
        enterprise_id: Uuid,
        day: NaiveDate,
    ) -> QueryResult<Option<DailyReport>> {
        daily_reports::table
            .filter(daily_reports::officer_id.eq(officer_id))
            .filter(daily_reports::enterprise_id.eq(enterprise_id))
            .filter(daily_reports::day.lt(day))
            .order(daily_reports::day.desc())
            .select(DailyReport::as_select())
            .first(conn)
            .optional()
    }

    /// Inserts a first revision; `None` if another request created it a moment ago.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        conn: &mut PgConnection,
        officer_id: Uuid,
        enterprise_id: Uuid,
        region_code: &str,
        day: NaiveDate,
        content: &ValidReport,
        at: DateTime<Utc>,
    ) -> QueryResult<Option<DailyReport>> {
        diesel::insert_into(daily_reports::table)
            .values((
                daily_reports::officer_id.eq(officer_id),
                daily_reports::enterprise_id.eq(enterprise_id),
                daily_reports::region_code.eq(region_code),
                daily_reports::day.eq(day),
                daily_reports::revision.eq(1),
                daily_reports::work_done.eq(&content.work_done),
                daily_reports::production_status.eq(content.production_status),
                daily_reports::capacity_pct.eq(content.capacity_pct),
                daily_reports::staff_on_duty.eq(content.staff_on_duty),
                daily_reports::staff_total.eq(content.staff_total),
                daily_reports::staff_shortage.eq(content.staff_shortage),
                daily_reports::difficulties.eq(&content.difficulties),
                daily_reports::submitted_at.eq(at),
                daily_reports::updated_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .returning(DailyReport::as_returning())
            .get_result(conn)
            .optional()
    }

    /// Replaces the content and bumps the revision number.
    pub fn revise(
        conn: &mut PgConnection,
        id: Uuid,
        content: &ValidReport,
        at: DateTime<Utc>,
    ) -> QueryResult<DailyReport> {
        diesel::update(daily_reports::table.find(id))
            .set((
                daily_reports::revision.eq(daily_reports::revision + 1),
                daily_reports::work_done.eq(&content.work_done),
                daily_reports::production_status.eq(content.production_status),
                daily_reports::capacity_pct.eq(content.capacity_pct),
                daily_reports::staff_on_duty.eq(content.staff_on_duty),
                daily_reports::staff_total.eq(content.staff_total),
                daily_reports::staff_shortage.eq(content.staff_shortage),
                daily_reports::difficulties.eq(&content.difficulties),
                daily_reports::updated_at.eq(at),
            ))
            .returning(DailyReport::as_returning())
            .get_result(conn)
    }

    pub fn record_revision(
        conn: &mut PgConnection,
        report: &DailyReport,
        author_id: Uuid,
        body: Value,
        changed_fields: Vec<String>,
    ) -> QueryResult<()> {
        diesel::insert_into(daily_report_revisions::table)
            .values((
                daily_report_revisions::report_id.eq(report.id),
                daily_report_revisions::day.eq(report.day),
                daily_report_revisions::revision.eq(report.revision),
                daily_report_revisions::author_id.eq(author_id),
                daily_report_revisions::at.eq(report.updated_at),
                daily_report_revisions::body.eq(body),
                daily_report_revisions::changed_fields.eq(changed_fields),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Newest day first; the cursor is the last row's (day, id).
    /// The reports `scope` reaches: the one scoped query that lists, exports and single reads
    /// all start from.
    pub fn visible(
        scope: &RecordScope,
    ) -> daily_reports::BoxedQuery<'static, Pg, SqlTypeOf<AsSelect<DailyReport, Pg>>> {
        let query = daily_reports::table.select(DailyReport::as_select()).into_boxed();
        match scope {
            RecordScope::Officer(id) => query.filter(daily_reports::officer_id.eq(*id)),
            RecordScope::Unit(unit) => {
                query.filter(daily_reports::officer_id.eq_any(RecordScope::unit_officers(*unit)))
            }
            RecordScope::Region(path) => {
                query.filter(daily_reports::region_code.eq_any(RecordScope::subtree(path)))
            }
            RecordScope::Enterprise(_) | RecordScope::Department(_) | RecordScope::Nothing => {
                query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("false"))
            }
        }
    }

    /// Whether `scope` reaches the report.
    pub fn is_visible(conn: &mut PgConnection, scope: &RecordScope, id: Uuid) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            Self::visible(scope).filter(daily_reports::id.eq(id)),
        ))
        .get_result(conn)
    }

    /// The first report filed on the enterprise that day that `scope` reaches (of `officer_id`
    /// when given), in one query.
    pub fn first_visible_on_day(
        conn: &mut PgConnection,
        scope: &RecordScope,
        enterprise_id: Uuid,
        day: NaiveDate,
        officer_id: Option<Uuid>,
    ) -> QueryResult<Option<DailyReport>> {
        let mut query = Self::visible(scope)
            .filter(daily_reports::enterprise_id.eq(enterprise_id))
            .filter(daily_reports::day.eq(day))
            .order((daily_reports::submitted_at, daily_reports::id));
        if let Some(officer) = officer_id {
            query = query.filter(daily_reports::officer_id.eq(officer));
        }
        query.first(conn).optional()
    }

    pub fn list(
        conn: &mut PgConnection,
        scope: &RecordScope,
        filter: &ReportFilter,
        after: Option<(NaiveDate, Uuid)>,
        limit: i64,
    ) -> QueryResult<Vec<DailyReport>> {
        let mut query = Self::visible(scope)
            .order((daily_reports::day.desc(), daily_reports::id.desc()))
            .limit(limit + 1);
        if let Some(from) = filter.from {
            query = query.filter(daily_reports::day.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(daily_reports::day.le(to));
        }
        if let Some(enterprise) = filter.enterprise_id {
            query = query.filter(daily_reports::enterprise_id.eq(enterprise));
        }
        if let Some(officer) = filter.officer_id {
            query = query.filter(daily_reports::officer_id.eq(officer));
        }
        if let Some((day, id)) = after {
            query = query.filter(
                daily_reports::day
                    .lt(day)
                    .or(daily_reports::day.eq(day).and(daily_reports::id.lt(id))),
            );
        }
        query.load(conn)
    }
}

/// The officer's report for the enterprise and day, by its unique key (one a day).
#[diesel::dsl::auto_type]
fn officers_report(officer_id: Uuid, enterprise_id: Uuid, day: NaiveDate) -> _ {
    daily_reports::table
        .filter(daily_reports::officer_id.eq(officer_id))
        .filter(daily_reports::enterprise_id.eq(enterprise_id))
        .filter(daily_reports::day.eq(day))
}
