//! `idempotency_records`: the first response to each (user, Idempotency-Key), replayed on
//! retries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::idempotency_records;

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
        #[derive(QueryableByName)]
        struct Locked {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            locked: bool,
        }
        diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 7411)) AS locked")
            .bind::<diesel::sql_types::Text, _>(format!("idempotency:{user_id}:{key}"))
            .get_result::<Locked>(conn)
            .map(|l| l.locked)
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
