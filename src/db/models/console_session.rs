//! `console_sessions`: who is signed in to the hub console, by the hash of their cookie.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::user::User;
use crate::schema::{console_sessions, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = console_sessions, check_for_backend(diesel::pg::Pg))]
pub struct ConsoleSession {
    pub token_hash: String,
    pub user_id: Uuid,
    pub csrf: String,
    pub generation: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl ConsoleSession {
    pub fn insert(conn: &mut PgConnection, session: &ConsoleSession) -> QueryResult<usize> {
        diesel::insert_into(console_sessions::table)
            .values(session)
            .execute(conn)
    }

    /// The session of a token hash with its user.
    pub fn find(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<(ConsoleSession, User)>> {
        console_sessions::table
            .inner_join(users::table)
            .filter(console_sessions::token_hash.eq(token_hash))
            .select((ConsoleSession::as_select(), User::as_select()))
            .first(conn)
            .optional()
    }

    pub fn touch(conn: &mut PgConnection, token_hash: &str, at: DateTime<Utc>) -> QueryResult<usize> {
        diesel::update(console_sessions::table.find(token_hash))
            .set(console_sessions::last_seen_at.eq(at))
            .execute(conn)
    }

    pub fn end(conn: &mut PgConnection, token_hash: &str) -> QueryResult<usize> {
        diesel::delete(console_sessions::table.find(token_hash)).execute(conn)
    }

    /// Sessions idle or old past `before`: gone, so the table holds only live ones.
    pub fn prune(
        conn: &mut PgConnection,
        idle_before: DateTime<Utc>,
        started_before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(
            console_sessions::table.filter(
                console_sessions::last_seen_at
                    .lt(idle_before)
                    .or(console_sessions::created_at.lt(started_before)),
            ),
        )
        .execute(conn)
    }
}
