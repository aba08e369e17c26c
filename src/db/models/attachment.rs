//! `attachments` (附件): what each stored photo or document is, who uploaded it and what it
//! belongs to. The bytes are in the object store (`attachments::store`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::attachment::MediaType;
use crate::domain::role::Role;
use crate::schema::{attachments, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments, check_for_backend(diesel::pg::Pg))]
pub struct Attachment {
    pub id: Uuid,
    pub uploaded_by: Uuid,
    pub media_type: MediaType,
    pub file_name: String,
    pub byte_size: i32,
    pub sha256: String,
    pub object_key: String,
    pub thumbnail_key: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub uploaded_at: DateTime<Utc>,
    pub problem_id: Option<Uuid>,
    pub report_id: Option<Uuid>,
    pub attached_role: Option<Role>,
    pub attached_at: Option<DateTime<Utc>>,
}

/// What attachments are attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Problem(Uuid),
    Report(Uuid),
}

impl Attachment {
    pub fn target(&self) -> Option<Target> {
        match (self.problem_id, self.report_id) {
            (Some(problem), _) => Some(Target::Problem(problem)),
            (None, Some(report)) => Some(Target::Report(report)),
            (None, None) => None,
        }
    }

    pub fn insert(&self, conn: &mut PgConnection) -> QueryResult<()> {
        diesel::insert_into(attachments::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Self>> {
        attachments::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// How many uploads the user holds unattached.
    pub fn pending_of(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<i64> {
        attachments::table
            .filter(attachments::uploaded_by.eq(user_id))
            .filter(attachments::attached_at.is_null())
            .count()
            .get_result(conn)
    }

    /// The rows of these ids, locked for attaching (in id order, so two requests naming the same
    /// uploads queue instead of deadlocking).
    pub fn lock_all(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Self>> {
        attachments::table
            .filter(attachments::id.eq_any(ids))
            .select(Self::as_select())
            .order(attachments::id)
            .for_update()
            .load(conn)
    }

    /// How many attachments the target carries.
    pub fn count_on(conn: &mut PgConnection, target: Target) -> QueryResult<i64> {
        let query = attachments::table.count().into_boxed();
        match target {
            Target::Problem(id) => query.filter(attachments::problem_id.eq(id)),
            Target::Report(id) => query.filter(attachments::report_id.eq(id)),
        }
        .get_result(conn)
    }

    /// Attaches the uploads to the target, as `role`.
    pub fn attach(
        conn: &mut PgConnection,
        ids: &[Uuid],
        target: Target,
        role: Role,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        let (problem_id, report_id) = match target {
            Target::Problem(id) => (Some(id), None),
            Target::Report(id) => (None, Some(id)),
        };
        diesel::update(attachments::table.filter(attachments::id.eq_any(ids)))
            .set((
                attachments::problem_id.eq(problem_id),
                attachments::report_id.eq(report_id),
                attachments::attached_role.eq(Some(role)),
                attachments::attached_at.eq(Some(now)),
            ))
            .execute(conn)
    }

    /// The target's attachments with their uploaders' names, in the order they were attached.
    pub fn on(conn: &mut PgConnection, target: Target) -> QueryResult<Vec<(Self, String)>> {
        let query = attachments::table
            .inner_join(users::table)
            .select((Self::as_select(), users::name))
            .order((attachments::attached_at, attachments::id))
            .into_boxed();
        match target {
            Target::Problem(id) => query.filter(attachments::problem_id.eq(id)),
            Target::Report(id) => query.filter(attachments::report_id.eq(id)),
        }
        .load(conn)
    }

    /// Uploads never attached that were uploaded before `before`, oldest first, at most `limit`.
    pub fn unattached_before(
        conn: &mut PgConnection,
        before: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        attachments::table
            .filter(attachments::attached_at.is_null())
            .filter(attachments::uploaded_at.lt(before))
            .select(Self::as_select())
            .order(attachments::uploaded_at)
            .limit(limit)
            .load(conn)
    }

    /// Deletes these rows if they are still unattached; returns the ones deleted.
    pub fn delete_unattached(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Self>> {
        diesel::delete(
            attachments::table
                .filter(attachments::id.eq_any(ids))
                .filter(attachments::attached_at.is_null()),
        )
        .returning(Self::as_returning())
        .get_results(conn)
    }
}
