//! `refresh_tokens`: hashed, rotating, revocable as a family.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::refresh_tokens;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg))]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub token_hash: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the session's first token was issued (its sign-in).
    pub family_started_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub token_hash: &'a str,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub family_started_at: DateTime<Utc>,
}

impl RefreshToken {
    /// Finds a token by its digest and locks the row, so two concurrent refreshes with the
    /// same token cannot both rotate it.
    pub fn find_for_update(conn: &mut PgConnection, token_hash: &str) -> QueryResult<Option<RefreshToken>> {
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .select(RefreshToken::as_select())
            .for_update()
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut PgConnection, new: &NewRefreshToken) -> QueryResult<usize> {
        diesel::insert_into(refresh_tokens::table)
            .values(new)
            .execute(conn)
    }

    pub fn mark_used(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> QueryResult<usize> {
        diesel::update(refresh_tokens::table.find(id))
            .set(refresh_tokens::used_at.eq(at))
            .execute(conn)
    }

    pub fn revoke_family(conn: &mut PgConnection, family_id: Uuid, at: DateTime<Utc>) -> QueryResult<usize> {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(family_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(at))
        .execute(conn)
    }

    /// Ends every session of a user (password change, deactivation).
    pub fn revoke_all_of_user(
        conn: &mut PgConnection,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::user_id.eq(user_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(at))
        .execute(conn)
    }
}
