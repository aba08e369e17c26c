//! `idempotency_records`: the first response to each (user, Idempotency-Key), replayed on
//! retries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::idempotency_records;

diesel::define_sql_function! {
    /// See src/db/sql/idempotency_claim.sql.
    fn idempotency_claim(
        user_id: diesel::sql_types::Uuid,
        key: diesel::sql_types::Text,
    ) -> diesel::sql_types::Record<(
        diesel::sql_types::Bool,
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
        diesel::sql_types::Nullable<diesel::sql_types::SmallInt>,
        diesel::sql_types::Nullable<diesel::sql_types::Binary>,
        diesel::sql_types::Nullable<diesel::sql_types::Uuid>,
    )>;
}

/// What is stored under a key: the request's fingerprint and its first response.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub status_code: Option<i16>,
    pub response_body: Option<Vec<u8>>,
    /// Instead of a body: the row whose rendering is the response (a sign-in written by
    /// `sign_ins_at_once`), rendered again by the endpoint that stored it.
    pub response_row: Option<Uuid>,
}

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// Never used: this request does the work and stores its response.
    New,
    /// Used before: replay (or refuse, if the request differs).
    Stored(IdempotencyRecord),
    /// Held by a request that is still running.
    Busy,
}

type ClaimRow = (bool, Option<String>, Option<i16>, Option<Vec<u8>>, Option<Uuid>);

impl IdempotencyRecord {
    /// Claims the key for this transaction and returns its stored record, if any, in one
    /// round trip (`idempotency_claim`, src/db/sql/idempotency_claim.sql). `Claim::Busy` while another
    /// transaction holds the key: the same request is still running.
    pub fn claim(conn: &mut PgConnection, user_id: Uuid, key: &str) -> QueryResult<Claim> {
        let row: ClaimRow = diesel::select(idempotency_claim(user_id, key)).get_result(conn)?;
        Ok(match row {
            (false, ..) => Claim::Busy,
            (true, Some(request_hash), status_code, response_body, response_row) => {
                Claim::Stored(IdempotencyRecord {
                    request_hash,
                    status_code,
                    response_body,
                    response_row,
                })
            }
            (true, None, ..) => Claim::New,
        })
    }

    pub fn insert(
        conn: &mut PgConnection,
        user_id: Uuid,
        key: &str,
        request_hash: &str,
        status: u16,
        body: Option<&[u8]>,
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

    /// The record under a key, read without claiming it.
    pub fn find(conn: &mut PgConnection, user_id: Uuid, key: &str) -> QueryResult<Option<IdempotencyRecord>> {
        idempotency_records::table
            .find((user_id, key))
            .select((
                idempotency_records::request_hash,
                idempotency_records::status_code,
                idempotency_records::response_body,
                idempotency_records::response_row,
            ))
            .first::<(String, Option<i16>, Option<Vec<u8>>, Option<Uuid>)>(conn)
            .optional()
            .map(|row| {
                row.map(
                    |(request_hash, status_code, response_body, response_row)| IdempotencyRecord {
                        request_hash,
                        status_code,
                        response_body,
                        response_row,
                    },
                )
            })
    }

    /// Deletes records created before `cutoff`; returns how many.
    pub fn prune(conn: &mut PgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
        diesel::delete(idempotency_records::table.filter(idempotency_records::created_at.lt(cutoff)))
            .execute(conn)
    }
}
