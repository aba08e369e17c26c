//! `problem_co_handlers` (协办部门): the departments that help a problem's lead.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::co_handling::CoStatus;
use crate::schema::{problem_co_handlers, units};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = problem_co_handlers, check_for_backend(diesel::pg::Pg))]
pub struct CoHandler {
    pub id: Uuid,
    pub problem_id: Uuid,
    pub department_id: Uuid,
    pub position: i16,
    pub status: CoStatus,
    pub active: bool,
    pub assigned_at: DateTime<Utc>,
    pub contact_working_days: i32,
    pub contact_due_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub contacted_at: Option<DateTime<Utc>>,
    pub opinion: Option<String>,
    pub opined_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub returned_at: Option<DateTime<Utc>>,
    pub escalation_level: i16,
}

/// A co-handler named at assignment.
pub struct NewCoHandler {
    pub department_id: Uuid,
    pub contact_working_days: i32,
    pub contact_due_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// What a co-handler's action writes.
#[derive(Default, AsChangeset)]
#[diesel(table_name = problem_co_handlers)]
pub struct CoChange<'a> {
    pub status: Option<CoStatus>,
    pub contacted_at: Option<DateTime<Utc>>,
    pub opinion: Option<&'a str>,
    pub opined_at: Option<DateTime<Utc>>,
    pub return_reason: Option<&'a str>,
    pub returned_at: Option<DateTime<Utc>>,
}

impl CoHandler {
    pub fn insert_all(
        conn: &mut PgConnection,
        problem_id: Uuid,
        at: DateTime<Utc>,
        co_handlers: &[NewCoHandler],
    ) -> QueryResult<Vec<CoHandler>> {
        let rows: Vec<_> = co_handlers
            .iter()
            .zip(0i16..)
            .map(|(c, position)| {
                (
                    problem_co_handlers::problem_id.eq(problem_id),
                    problem_co_handlers::position.eq(position),
                    problem_co_handlers::department_id.eq(c.department_id),
                    problem_co_handlers::assigned_at.eq(at),
                    problem_co_handlers::contact_working_days.eq(c.contact_working_days),
                    problem_co_handlers::contact_due_at.eq(c.contact_due_at),
                    problem_co_handlers::due_at.eq(c.due_at),
                )
            })
            .collect();
        diesel::insert_into(problem_co_handlers::table)
            .values(rows)
            .returning(CoHandler::as_returning())
            .get_results(conn)
    }

    /// The problem's co-handlers in this assignment, in the order they were named, with
    /// their departments' names.
    pub fn of_problem(conn: &mut PgConnection, problem_id: Uuid) -> QueryResult<Vec<(CoHandler, String)>> {
        problem_co_handlers::table
            .inner_join(units::table)
            .filter(problem_co_handlers::problem_id.eq(problem_id))
            .filter(problem_co_handlers::active)
            .order((problem_co_handlers::assigned_at, problem_co_handlers::position))
            .select((CoHandler::as_select(), units::name))
            .load(conn)
    }

    /// The department's active part in the problem, locked for its action.
    pub fn lock(
        conn: &mut PgConnection,
        problem_id: Uuid,
        department_id: Uuid,
    ) -> QueryResult<Option<CoHandler>> {
        problem_co_handlers::table
            .filter(problem_co_handlers::problem_id.eq(problem_id))
            .filter(problem_co_handlers::department_id.eq(department_id))
            .filter(problem_co_handlers::active)
            .select(CoHandler::as_select())
            .for_update()
            .first(conn)
            .optional()
    }

    /// Whether the department co-handles the problem in its current assignment.
    pub fn is_active(conn: &mut PgConnection, problem_id: Uuid, department_id: Uuid) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            problem_co_handlers::table
                .filter(problem_co_handlers::problem_id.eq(problem_id))
                .filter(problem_co_handlers::department_id.eq(department_id))
                .filter(problem_co_handlers::active),
        ))
        .get_result(conn)
    }

    pub fn apply(conn: &mut PgConnection, id: Uuid, change: &CoChange) -> QueryResult<CoHandler> {
        diesel::update(problem_co_handlers::table.find(id))
            .set(change)
            .returning(CoHandler::as_returning())
            .get_result(conn)
    }

    /// Ends the co-handlers' part when the assignment ends (the lead returned the problem to
    /// the hub); the rows stay for the record.
    pub fn end_assignment(conn: &mut PgConnection, problem_id: Uuid) -> QueryResult<usize> {
        diesel::update(
            problem_co_handlers::table
                .filter(problem_co_handlers::problem_id.eq(problem_id))
                .filter(problem_co_handlers::active),
        )
        .set(problem_co_handlers::active.eq(false))
        .execute(conn)
    }

    /// Active co-handlers past a deadline they still owe (contact while `assigned`, the
    /// opinion while `assigned` or `accepted`) below the top level, locked for the escalation pass (rows an action holds are left for the next).
    pub fn overdue(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<CoHandler>> {
        problem_co_handlers::table
            .filter(problem_co_handlers::active)
            .filter(problem_co_handlers::status.eq_any([CoStatus::Assigned, CoStatus::Accepted]))
            .filter(
                problem_co_handlers::status
                    .eq(CoStatus::Assigned)
                    .and(problem_co_handlers::contact_due_at.lt(now))
                    .or(problem_co_handlers::due_at.lt(now)),
            )
            .filter(problem_co_handlers::escalation_level.lt(crate::domain::deadline::TOP_ESCALATION_LEVEL))
            // The lowest levels first: a newly overdue co-handler is never behind a batch of
            // ones already at the level their missed windows call for.
            .order((
                problem_co_handlers::escalation_level,
                problem_co_handlers::contact_due_at,
                problem_co_handlers::id,
            ))
            .limit(limit)
            .select(CoHandler::as_select())
            .for_update()
            .skip_locked()
            .load(conn)
    }

    /// Raises the co-handler's level to `level`; `false` when it was already there.
    pub fn raise(conn: &mut PgConnection, id: Uuid, level: i16) -> QueryResult<bool> {
        let raised = diesel::update(
            problem_co_handlers::table
                .find(id)
                .filter(problem_co_handlers::escalation_level.lt(level)),
        )
        .set(problem_co_handlers::escalation_level.eq(level))
        .execute(conn)?;
        Ok(raised == 1)
    }
}
