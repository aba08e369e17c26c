//! `problems` (问题/诉求) and their append-only `problem_events` timeline.

use chrono::{DateTime, Utc};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::pg::Pg;
use diesel::prelude::*;
use uuid::Uuid;

use super::scoped::RecordScope;
use crate::domain::benefit::Benefits;
use crate::domain::classifier::Suggestion;
use crate::domain::lifecycle::{ActorRole, EventKind, Outcome, Rating, Status};
use crate::domain::problem::{Urgency, ValidProblem};
use crate::domain::role::Role;
use crate::schema::{assignments, problem_co_handlers, problem_events, problems};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = problems, check_for_backend(diesel::pg::Pg))]
pub struct Problem {
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub region_code: String,
    pub reporter_id: Uuid,
    pub reporter_role: Role,
    pub source_report_id: Option<Uuid>,
    pub description_hash: String,
    pub title: String,
    pub description: String,
    pub category: Option<String>,
    pub urgency: Urgency,
    pub departments_requested: Vec<Uuid>,
    pub status: Status,
    pub suggested_category: Option<String>,
    pub confidence: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub lease_holder_id: Option<Uuid>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub department_id: Option<Uuid>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub instructions: Option<String>,
    pub due_working_days: Option<i32>,
    pub contact_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub calendar_version: Option<i64>,
    pub calendar_provisional: bool,
    pub contacted_at: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub resolution: Option<String>,
    pub rating: Option<Rating>,
    pub rating_comment: Option<String>,
    pub evaluated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub merged_into_id: Option<Uuid>,
    pub reopen_count: i32,
    pub deadline_round: i32,
    pub escalation_level: i16,
    /// 交办编号 (`430211-2026-000123`), given at the first assignment.
    pub number: Option<String>,
    pub benefit_loan_yuan: Option<i64>,
    pub benefit_fees_reduced_yuan: Option<i64>,
    pub benefit_subsidies_yuan: Option<i64>,
    pub benefit_positions_filled: Option<i32>,
    pub benefit_other: Option<String>,
}

impl Problem {
    /// The benefits its response stated (惠企成效), if any.
    pub fn benefits(&self) -> Option<Benefits> {
        let b = Benefits {
            loan_yuan: self.benefit_loan_yuan,
            fees_reduced_yuan: self.benefit_fees_reduced_yuan,
            subsidies_yuan: self.benefit_subsidies_yuan,
            positions_filled: self.benefit_positions_filled.map(i64::from),
            other: self.benefit_other.clone(),
        };
        (b != Benefits::default()).then_some(b)
    }
}

/// The columns a transition changes; `None` leaves a column alone, `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = problems)]
pub struct ProblemChange<'a> {
    pub status: Option<Status>,
    pub updated_at: Option<DateTime<Utc>>,
    pub category: Option<Option<&'a str>>,
    pub urgency: Option<Urgency>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub lease_holder_id: Option<Option<Uuid>>,
    pub lease_expires_at: Option<Option<DateTime<Utc>>>,
    pub department_id: Option<Uuid>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub instructions: Option<Option<&'a str>>,
    pub due_working_days: Option<i32>,
    pub contact_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub calendar_version: Option<i64>,
    pub calendar_provisional: Option<bool>,
    pub contacted_at: Option<Option<DateTime<Utc>>>,
    pub responded_at: Option<Option<DateTime<Utc>>>,
    pub outcome: Option<Option<Outcome>>,
    pub resolution: Option<Option<&'a str>>,
    pub rating: Option<Option<Rating>>,
    pub rating_comment: Option<Option<&'a str>>,
    pub evaluated_at: Option<Option<DateTime<Utc>>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub merged_into_id: Option<Uuid>,
    pub reopen_count: Option<i32>,
    pub deadline_round: Option<i32>,
    pub escalation_level: Option<i16>,
    pub number: Option<&'a str>,
    pub benefit_loan_yuan: Option<Option<i64>>,
    pub benefit_fees_reduced_yuan: Option<Option<i64>>,
    pub benefit_subsidies_yuan: Option<Option<i64>>,
    pub benefit_positions_filled: Option<Option<i32>>,
    pub benefit_other: Option<Option<&'a str>>,
}

impl<'a> ProblemChange<'a> {
    /// States the benefits of a response (all of them: a part left out is cleared).
    pub fn with_benefits(mut self, benefits: Option<&'a Benefits>) -> Self {
        self.benefit_loan_yuan = Some(benefits.and_then(|b| b.loan_yuan));
        self.benefit_fees_reduced_yuan = Some(benefits.and_then(|b| b.fees_reduced_yuan));
        self.benefit_subsidies_yuan = Some(benefits.and_then(|b| b.subsidies_yuan));
        self.benefit_positions_filled = Some(
            benefits
                .and_then(|b| b.positions_filled)
                .and_then(|n| i32::try_from(n).ok()),
        );
        self.benefit_other = Some(benefits.and_then(|b| b.other.as_deref()));
        self
    }
}

impl ProblemChange<'_> {
    /// Ends any lease: the holder's work on the item is done.
    pub fn release(mut self) -> Self {
        self.lease_holder_id = Some(None);
        self.lease_expires_at = Some(None);
        self
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = problem_events, check_for_backend(diesel::pg::Pg))]
pub struct ProblemEvent {
    pub id: i64,
    pub problem_id: Uuid,
    pub event_type: EventKind,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<ActorRole>,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    pub details: Option<serde_json::Value>,
}

/// A timeline event to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub problem_id: Uuid,
    pub event_type: EventKind,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<ActorRole>,
    pub at: DateTime<Utc>,
    pub note: Option<&'a str>,
    pub details: Option<serde_json::Value>,
}

/// Who files a problem, for which enterprise, from which report.
pub struct Filing<'a> {
    pub enterprise_id: Uuid,
    pub region_code: &'a str,
    pub reporter_id: Uuid,
    pub reporter_role: Role,
    pub source_report_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct ProblemFilter {
    pub status: Option<Status>,
    pub category: Option<String>,
    pub enterprise_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    /// `(true, now)`: only problems with a department past their due date at `now`;
    /// `(false, now)`: only the others.
    pub overdue_at: Option<(bool, DateTime<Utc>)>,
    /// Only problems in this region's subtree (within the caller's scope).
    pub region_path: Option<String>,
}

impl Problem {
    /// Files a problem in state `submitted` with its first timeline event and the
    /// classifier's suggestion. `None` when the same report already filed the same description
    /// (a revision repeating it).
    pub fn file(
        conn: &mut PgConnection,
        filing: &Filing,
        problem: &ValidProblem,
        suggestion: Option<&Suggestion>,
    ) -> QueryResult<Option<Problem>> {
        let inserted = diesel::insert_into(problems::table)
            .values((
                problems::enterprise_id.eq(filing.enterprise_id),
                problems::region_code.eq(filing.region_code),
                problems::reporter_id.eq(filing.reporter_id),
                problems::reporter_role.eq(filing.reporter_role),
                problems::source_report_id.eq(filing.source_report_id),
                problems::description_hash.eq(&problem.description_hash),
                problems::title.eq(&problem.title),
                problems::description.eq(&problem.description),
                problems::category.eq(&problem.category),
                problems::urgency.eq(problem.urgency),
                problems::departments_requested.eq(&problem.departments_requested),
                problems::status.eq(Status::Submitted),
                problems::suggested_category.eq(suggestion.map(|s| s.category.as_str())),
                problems::confidence.eq(suggestion.map(|s| s.confidence)),
                problems::created_at.eq(filing.at),
                problems::updated_at.eq(filing.at),
            ))
            .on_conflict_do_nothing()
            .returning(Problem::as_returning())
            .get_result(conn)
            .optional()?;
        if let Some(problem) = &inserted {
            ProblemEvent::append(
                conn,
                &NewEvent {
                    problem_id: problem.id,
                    event_type: EventKind::Submitted,
                    actor_id: Some(filing.reporter_id),
                    actor_role: Some(filing.reporter_role.into()),
                    at: filing.at,
                    note: None,
                    details: None,
                },
            )?;
        }
        Ok(inserted)
    }

    /// The next 交办编号 of the region and year: taken under the counter row's lock, which the
    /// caller's transaction holds until it ends, so numbers are given in order and a rolled
    /// back assignment gives its number back (no gaps).
    pub fn next_number(conn: &mut PgConnection, region_code: &str, year: i32) -> QueryResult<String> {
        use crate::schema::problem_number_counters as counters;
        let last: i32 = diesel::insert_into(counters::table)
            .values((
                counters::region_code.eq(region_code),
                counters::year.eq(year),
                counters::last.eq(1),
            ))
            .on_conflict((counters::region_code, counters::year))
            .do_update()
            .set(counters::last.eq(counters::last + 1))
            .returning(counters::last)
            .get_result(conn)?;
        Ok(crate::domain::problem::number(region_code, year, last))
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Problem>> {
        problems::table
            .find(id)
            .select(Problem::as_select())
            .first(conn)
            .optional()
    }

    /// The problem, locked until the transaction ends: transitions read and write it under
    /// this lock, so two of them cannot both start from the same state.
    pub fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Problem>> {
        problems::table
            .find(id)
            .select(Problem::as_select())
            .for_update()
            .first(conn)
            .optional()
    }

    /// Locks many problems at once, always in id order, until the transaction ends: work on
    /// several problems (an assignment meeting) takes them all first, so two such works naming
    /// the same problems in different orders queue instead of deadlocking.
    pub fn lock_all(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<()> {
        problems::table
            .filter(problems::id.eq_any(ids))
            .order(problems::id)
            .select(problems::id)
            .for_update()
            .load::<Uuid>(conn)
            .map(drop)
    }

    /// Problems with a department whose contact or due date has passed and that can still
    /// escalate, locked for this pass; rows a transition holds are left for the next pass.
    /// The waiting problems whose missed deadline windows (see `domain::deadline`) outnumber
    /// their escalation level, oldest contact deadline first, locked. Exactly the problems the
    /// escalation job has work for: one already at its level is never read again, so however
    /// many of those there are, a newly overdue problem is always among the first.
    pub fn due_for_escalation(
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        still_overdue_before: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<Problem>> {
        use diesel::dsl::sql;
        use diesel::sql_types::{Bool, Timestamptz};
        // One term per window, as `missed_windows` counts them.
        let missed_windows_exceed_level =
            sql::<Bool>("(CASE WHEN COALESCE(contacted_at > contact_due_at, contact_due_at < ")
                .bind::<Timestamptz, _>(now)
                .sql(") THEN 1 ELSE 0 END + CASE WHEN due_at < ")
                .bind::<Timestamptz, _>(now)
                .sql(" THEN 1 ELSE 0 END + CASE WHEN due_at < ")
                .bind::<Timestamptz, _>(still_overdue_before)
                .sql(" THEN 1 ELSE 0 END) > escalation_level");
        problems::table
            .filter(problems::status.eq_any(Status::WITH_DEPARTMENT))
            .filter(problems::escalation_level.lt(crate::domain::deadline::TOP_ESCALATION_LEVEL))
            .filter(
                problems::contact_due_at
                    .is_not_null()
                    .and(problems::due_at.is_not_null()),
            )
            .filter(missed_windows_exceed_level)
            .order((problems::contact_due_at, problems::id))
            .limit(limit)
            .select(Problem::as_select())
            .for_update()
            .skip_locked()
            .load(conn)
    }

    pub fn apply(conn: &mut PgConnection, id: Uuid, change: &ProblemChange) -> QueryResult<Problem> {
        diesel::update(problems::table.find(id))
            .set(change)
            .returning(Problem::as_returning())
            .get_result(conn)
    }

    /// Ids of the problems a report filed, oldest first.
    pub fn ids_from_report(conn: &mut PgConnection, report_id: Uuid) -> QueryResult<Vec<Uuid>> {
        problems::table
            .filter(problems::source_report_id.eq(report_id))
            .order((problems::created_at, problems::id))
            .select(problems::id)
            .load(conn)
    }

    /// The ids of the problems each of `report_ids` filed, oldest first, in one query.
    pub fn ids_by_report(
        conn: &mut PgConnection,
        report_ids: &[Uuid],
    ) -> QueryResult<std::collections::HashMap<Uuid, Vec<Uuid>>> {
        let rows: Vec<(Option<Uuid>, Uuid)> = problems::table
            .filter(problems::source_report_id.eq_any(report_ids))
            .order((problems::created_at, problems::id))
            .select((problems::source_report_id, problems::id))
            .load(conn)?;
        let mut by_report: std::collections::HashMap<Uuid, Vec<Uuid>> = std::collections::HashMap::new();
        for (report, id) in rows {
            if let Some(report) = report {
                by_report.entry(report).or_default().push(id);
            }
        }
        Ok(by_report)
    }

    /// Problems of an enterprise that are not closed yet.
    pub fn open_for_enterprise(conn: &mut PgConnection, enterprise_id: Uuid) -> QueryResult<Vec<Problem>> {
        problems::table
            .filter(problems::enterprise_id.eq(enterprise_id))
            .filter(problems::status.ne_all(Status::FINISHED))
            .order(problems::created_at.desc())
            .limit(50)
            .select(Problem::as_select())
            .load(conn)
    }

    /// The problems `scope` reaches: the one scoped query that lists, exports and visibility
    /// checks all start from.
    pub fn visible(
        scope: &RecordScope,
    ) -> problems::BoxedQuery<'static, Pg, SqlTypeOf<AsSelect<Problem, Pg>>> {
        let query = problems::table.select(Problem::as_select()).into_boxed();
        match scope {
            RecordScope::Officer(id) => query.filter(
                problems::reporter_id.eq(*id).or(problems::enterprise_id.eq_any(
                    assignments::table
                        .filter(assignments::officer_id.eq(*id))
                        .select(assignments::enterprise_id),
                )),
            ),
            RecordScope::Unit(unit) => {
                query.filter(problems::reporter_id.eq_any(RecordScope::unit_officers(*unit)))
            }
            RecordScope::Region(path) => {
                query.filter(problems::region_code.eq_any(RecordScope::subtree(path)))
            }
            RecordScope::Enterprise(id) => query.filter(problems::enterprise_id.eq(*id)),
            // The lead's problems and those it co-handles (协办).
            RecordScope::Department(unit) => query.filter(
                problems::department_id.eq(*unit).or(problems::id.eq_any(
                    problem_co_handlers::table
                        .filter(problem_co_handlers::department_id.eq(*unit))
                        .filter(problem_co_handlers::active)
                        .select(problem_co_handlers::problem_id),
                )),
            ),
            RecordScope::Nothing => query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("false")),
        }
    }

    /// Whether `scope` reaches this problem.
    pub fn visible_in(&self, conn: &mut PgConnection, scope: &RecordScope) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            Self::visible(scope).filter(problems::id.eq(self.id)),
        ))
        .get_result(conn)
    }

    /// Newest first; the cursor is the last row's (created_at, id).
    pub fn list(
        conn: &mut PgConnection,
        scope: &RecordScope,
        filter: &ProblemFilter,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> QueryResult<Vec<Problem>> {
        let mut query = Self::visible(scope)
            .order((problems::created_at.desc(), problems::id.desc()))
            .limit(limit + 1);
        if let Some(status) = &filter.status {
            query = query.filter(problems::status.eq(*status));
        }
        if let Some(category) = &filter.category {
            query = query.filter(problems::category.eq(category.clone()));
        }
        if let Some(enterprise) = filter.enterprise_id {
            query = query.filter(problems::enterprise_id.eq(enterprise));
        }
        if let Some(department) = filter.department_id {
            query = query.filter(problems::department_id.eq(department));
        }
        if let Some((overdue, now)) = filter.overdue_at {
            // Never NULL: a problem without a due date is simply not late.
            let late = problems::status
                .eq_any(Status::WITH_DEPARTMENT)
                .and(problems::due_at.is_not_null())
                .and(problems::due_at.lt(now));
            query = if overdue {
                query.filter(late.assume_not_null())
            } else {
                query.filter(diesel::dsl::not(late.assume_not_null()))
            };
        }
        if let Some(path) = &filter.region_path {
            query = query.filter(problems::region_code.eq_any(RecordScope::subtree(path)));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                problems::created_at
                    .lt(at)
                    .or(problems::created_at.eq(at).and(problems::id.lt(id))),
            );
        }
        query.load(conn)
    }
}

impl ProblemEvent {
    pub fn append(conn: &mut PgConnection, event: &NewEvent) -> QueryResult<()> {
        diesel::insert_into(problem_events::table)
            .values((
                problem_events::problem_id.eq(event.problem_id),
                problem_events::event_type.eq(event.event_type),
                problem_events::actor_id.eq(event.actor_id),
                problem_events::actor_role.eq(event.actor_role),
                problem_events::at.eq(event.at),
                problem_events::note.eq(event.note),
                problem_events::details.eq(&event.details),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn timeline(conn: &mut PgConnection, problem_id: Uuid) -> QueryResult<Vec<ProblemEvent>> {
        problem_events::table
            .filter(problem_events::problem_id.eq(problem_id))
            .order(problem_events::id)
            .select(ProblemEvent::as_select())
            .load(conn)
    }
}
