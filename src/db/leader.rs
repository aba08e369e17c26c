//! One instance at a time for work that spans many transactions (the reconciliation of the
//! dashboards): a session-level advisory lock held on a connection of its own, outside the
//! pools, for as long as the guard lives. It is released when the guard is dropped, and by
//! PostgreSQL itself when the process dies, so a crashed leader never blocks the others.

use diesel::sql_types::BigInt;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

use crate::error::{AppError, ErrorCode};

pub struct LeaderLock {
    _conn: PgConnection,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

impl LeaderLock {
    /// Takes the lock `key` if no other session holds it; `None` when one does. Blocking: call
    /// on the blocking pool.
    pub fn try_acquire(database_url: &str, key: i64) -> Result<Option<Self>, AppError> {
        let mut conn = PgConnection::establish(database_url).map_err(|e| {
            tracing::warn!(error = %e, "no connection for a leader lock");
            AppError::Unavailable {
                code: ErrorCode::DatabaseUnavailable,
            }
        })?;
        let Locked { locked } = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind::<BigInt, _>(key)
            .get_result(&mut conn)?;
        Ok(locked.then_some(Self { _conn: conn }))
    }
}
