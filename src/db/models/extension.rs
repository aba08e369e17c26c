//! `problem_extensions` (延期): a department's request for a later due date and the hub's
//! decision on it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::lifecycle::ExtensionStatus;
use crate::schema::problem_extensions;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = problem_extensions, check_for_backend(diesel::pg::Pg))]
pub struct Extension {
    pub id: Uuid,
    pub problem_id: Uuid,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub previous_due_at: DateTime<Utc>,
    pub requested_due_at: DateTime<Utc>,
    pub reason: String,
    pub status: ExtensionStatus,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

pub struct NewExtension<'a> {
    pub problem_id: Uuid,
    pub requested_by: Uuid,
    pub at: DateTime<Utc>,
    pub previous_due_at: DateTime<Utc>,
    pub requested_due_at: DateTime<Utc>,
    pub reason: &'a str,
}

impl Extension {
    /// Files a pending request; `None` when one is pending already (the partial unique index).
    pub fn request(conn: &mut PgConnection, new: &NewExtension) -> QueryResult<Option<Extension>> {
        diesel::insert_into(problem_extensions::table)
            .values((
                problem_extensions::problem_id.eq(new.problem_id),
                problem_extensions::requested_by.eq(new.requested_by),
                problem_extensions::requested_at.eq(new.at),
                problem_extensions::previous_due_at.eq(new.previous_due_at),
                problem_extensions::requested_due_at.eq(new.requested_due_at),
                problem_extensions::reason.eq(new.reason),
            ))
            .on_conflict_do_nothing()
            .returning(Extension::as_returning())
            .get_result(conn)
            .optional()
    }

    pub fn pending(conn: &mut PgConnection, problem_id: Uuid) -> QueryResult<Option<Extension>> {
        problem_extensions::table
            .filter(problem_extensions::problem_id.eq(problem_id))
            .filter(problem_extensions::status.eq(ExtensionStatus::Pending))
            .select(Extension::as_select())
            .first(conn)
            .optional()
    }

    pub fn decide(
        conn: &mut PgConnection,
        id: Uuid,
        approved: bool,
        by: Uuid,
        at: DateTime<Utc>,
        note: Option<&str>,
    ) -> QueryResult<Extension> {
        diesel::update(problem_extensions::table.find(id))
            .set((
                problem_extensions::status.eq(if approved {
                    ExtensionStatus::Approved
                } else {
                    ExtensionStatus::Refused
                }),
                problem_extensions::decided_by.eq(by),
                problem_extensions::decided_at.eq(at),
                problem_extensions::decision_note.eq(note),
            ))
            .returning(Extension::as_returning())
            .get_result(conn)
    }

    pub fn of_problem(conn: &mut PgConnection, problem_id: Uuid) -> QueryResult<Vec<Extension>> {
        problem_extensions::table
            .filter(problem_extensions::problem_id.eq(problem_id))
            .order(problem_extensions::requested_at)
            .select(Extension::as_select())
            .load(conn)
    }
}
