//! `console_uploads`: roster files the console has checked (dry run) and keeps until the admin
//! who checked them confirms the import.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::console_uploads;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = console_uploads, check_for_backend(diesel::pg::Pg))]
pub struct ConsoleUpload {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl ConsoleUpload {
    pub fn insert(conn: &mut PgConnection, upload: &ConsoleUpload) -> QueryResult<usize> {
        diesel::insert_into(console_uploads::table)
            .values(upload)
            .execute(conn)
    }

    /// The user's upload `id` if it is newer than `since`.
    pub fn find(
        conn: &mut PgConnection,
        id: Uuid,
        user_id: Uuid,
        since: DateTime<Utc>,
    ) -> QueryResult<Option<ConsoleUpload>> {
        console_uploads::table
            .filter(console_uploads::id.eq(id))
            .filter(console_uploads::user_id.eq(user_id))
            .filter(console_uploads::created_at.ge(since))
            .select(ConsoleUpload::as_select())
            .first(conn)
            .optional()
    }

    /// Removes and returns the user's upload `id` if it is newer than `since`: a file is
    /// imported once, by the admin who checked it.
    pub fn take(
        conn: &mut PgConnection,
        id: Uuid,
        user_id: Uuid,
        since: DateTime<Utc>,
    ) -> QueryResult<Option<ConsoleUpload>> {
        diesel::delete(
            console_uploads::table
                .filter(console_uploads::id.eq(id))
                .filter(console_uploads::user_id.eq(user_id))
                .filter(console_uploads::created_at.ge(since)),
        )
        .returning(ConsoleUpload::as_returning())
        .get_result(conn)
        .optional()
    }

    pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
        diesel::delete(console_uploads::table.filter(console_uploads::created_at.lt(before))).execute(conn)
    }
}
