//! Deletes idempotency records once they are older than the retention (48 h, so every key is
//! honoured for at least the 24 h the API promises). The records have no index on their age:
//! every POST would pay for it at the peak, while this pass, a sequential scan of two days of
//! records every 15 minutes, does not need one. The same pass deletes console sessions that
//! have ended (idle or too old), which no request would read again, and roster files the
//! console checked but nobody imported within the hour.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use super::Shutdown;
use crate::console::session as console;
use crate::db;
use crate::db::models::console_session::ConsoleSession;
use crate::db::models::console_upload::ConsoleUpload;
use crate::db::models::idempotency::IdempotencyRecord;
use crate::state::AppState;

pub const RETENTION: chrono::Duration = chrono::Duration::hours(48);
const EVERY: Duration = Duration::from_secs(15 * 60);

/// One pass; returns how many records were deleted. Running it twice deletes nothing more.
pub fn tick(conn: &mut PgConnection, now: DateTime<Utc>) -> diesel::QueryResult<usize> {
    ConsoleSession::prune(conn, now - console::IDLE, now - console::LONGEST)?;
    ConsoleUpload::prune(conn, now - console::UPLOAD_KEPT)?;
    IdempotencyRecord::prune(conn, now - RETENTION)
}

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("prune_idempotency", EVERY, shutdown, || {
        let state = state.clone();
        async move {
            let now = state.clock.now();
            match db::run(&state.pool, move |conn| Ok(tick(conn, now)?)).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "pruned idempotency records"),
                Err(e) => tracing::warn!(error = %e, "pruning idempotency records failed; will retry"),
            }
        }
    })
    .await;
}
