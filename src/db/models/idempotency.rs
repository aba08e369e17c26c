//! `idempotency_records`: the first response to each (user, Idempotency-Key), replayed on
//! retries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::idempotency_records;

/// Seed of the key hash, so these locks do not collide with other advisory locks.
const LOCK_SEED: i64 = 7411;

diesel::define_sql_function! {
    /// A transaction-scoped advisory lock that is released at commit or rollback.
    fn pg_try_advisory_xact_lock(key: diesel::sql_types::BigInt) -> diesel::sql_types::Bool;
}

diesel::define_sql_function! {
    /// PostgreSQL's 64-bit text hash.
    fn hashtextextended(value: diesel::sql_types::Text, seed: diesel::sql_types::BigInt) -> diesel::sql_types::BigInt;
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_records, check_for_backend(diesel::pg::Pg))]
pub struct IdempotencyRecord {
    pub user_id: Uuid,
    pub key: String,
    pub request_hash: String,
    pub status_code: Option<i16>,
    pub response_body: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
}

impl IdempotencyRecord {
    /// Takes the transaction-scoped lock of a key; `false` while another transaction holds it
    /// (the same request is still running).
    pub fn try_lock(conn: &mut PgConnection, user_id: Uuid, key: &str) -> QueryResult<bool> {
        // Built with the DSL (not raw SQL) so the prepared statement is cached per connection.
        diesel::select(pg_try_advisory_xact_lock(hashtextextended(
            format!("idempotency:{user_id}:{key}"),
            LOCK_SEED,
        )))
        .get_result(conn)
    }

    pub fn find(conn: &mut PgConnection, user_id: Uuid, key: &str) -> QueryResult<Option<IdempotencyRecord>> {
        idempotency_records::table
            .find((user_id, key))
            .select(IdempotencyRecord::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(
        conn: &mut PgConnection,
        user_id: Uuid,
        key: &str,
        request_hash: &str,
        status: u16,
        body: &[u8],
        at: DateTime<Utc>,
    ) -> QueryResult<()> {
        diesel::insert_into(idempotency_records::table)
            .values((
                idempotency_records::user_id.eq(user_id),
                idempotency_records::key.eq(key),
                idempotency_records::request_hash.eq(request_hash),
                idempotency_records::status_code.eq(status as i16),
                idempotency_records::response_body.eq(body),
                idempotency_records::created_at.eq(at),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Deletes records created before `cutoff`; returns how many.
    pub fn prune(conn: &mut PgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
        diesel::delete(idempotency_records::table.filter(idempotency_records::created_at.lt(cutoff)))
            .execute(conn)
    }
}
