//! `notifications`: the inbox, one row per recipient of an event. A user reads only their own.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::Page;
use crate::domain::notification::NotificationKind;
use crate::schema::notifications;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications, check_for_backend(diesel::pg::Pg))]
pub struct Notification {
    pub id: Uuid,
    pub user_id: Uuid,
    pub event_id: i64,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub link: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// Writes inbox entries; an entry already made from the same event for the same user is
    /// kept (an expansion repeated after a crash adds nothing).
    pub fn insert_all(conn: &mut PgConnection, rows: &[Notification]) -> QueryResult<usize> {
        let mut written = 0;
        // 9 parameters a row: stay far below PostgreSQL's 65,535 per statement.
        for chunk in rows.chunks(1000) {
            written += diesel::insert_into(notifications::table)
                .values(chunk)
                .on_conflict((notifications::event_id, notifications::user_id))
                .do_nothing()
                .execute(conn)?;
        }
        Ok(written)
    }

    /// A page of the user's inbox, newest first.
    pub fn page(
        conn: &mut PgConnection,
        user_id: Uuid,
        unread_only: bool,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> QueryResult<Page<Notification>> {
        let mut query = notifications::table
            .filter(notifications::user_id.eq(user_id))
            .select(Notification::as_select())
            .into_boxed();
        if unread_only {
            query = query.filter(notifications::read_at.is_null());
        }
        if let Some((at, id)) = after {
            query = query.filter(
                notifications::created_at
                    .lt(at)
                    .or(notifications::created_at.eq(at).and(notifications::id.lt(id))),
            );
        }
        let rows = query
            .order((notifications::created_at.desc(), notifications::id.desc()))
            .limit(limit + 1)
            .load(conn)?;
        Ok(Page::from_rows(rows, limit, |n| {
            crate::routes::time_cursor(n.created_at, n.id)
        }))
    }

    pub fn unread_count(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<i64> {
        notifications::table
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null())
            .count()
            .get_result(conn)
    }

    /// Marks one of the user's entries read (kept as first read); `None` when the user has no
    /// such entry.
    pub fn mark_read(
        conn: &mut PgConnection,
        user_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<Option<Notification>> {
        let mine = notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::user_id.eq(user_id));
        diesel::update(mine.filter(notifications::read_at.is_null()))
            .set(notifications::read_at.eq(at))
            .execute(conn)?;
        mine.select(Notification::as_select()).first(conn).optional()
    }

    /// Marks every unread entry of the user read; returns how many.
    pub fn mark_all_read(conn: &mut PgConnection, user_id: Uuid, at: DateTime<Utc>) -> QueryResult<usize> {
        diesel::update(
            notifications::table
                .filter(notifications::user_id.eq(user_id))
                .filter(notifications::read_at.is_null()),
        )
        .set(notifications::read_at.eq(at))
        .execute(conn)
    }
}
