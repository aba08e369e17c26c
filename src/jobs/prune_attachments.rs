//! Removes the uploads nobody attached within 24 hours (附件): a photo taken for a report that
//! was never sent, a document chosen by mistake. Rows go first, each only if it is still
//! unattached (one attached meanwhile stays), then their files; a file that cannot be deleted
//! is logged and left (its row is gone, so nothing reads it).

use std::time::Duration;

use super::Shutdown;
use crate::db;
use crate::db::models::attachment::Attachment;
use crate::domain::attachment::UNATTACHED_KEPT;
use crate::error::AppError;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(60 * 60);
/// Rows per transaction, so a backlog never holds one long.
const BATCH: i64 = 200;

/// One pass; returns how many uploads were removed. Running it twice removes nothing more.
pub async fn pass(state: &AppState) -> Result<usize, AppError> {
    let before = state.clock.now() - UNATTACHED_KEPT;
    let mut removed = 0;
    loop {
        let deleted = db::run(&state.pool, move |conn| {
            let stale = Attachment::unattached_before(conn, before, BATCH)?;
            let ids: Vec<_> = stale.iter().map(|row| row.id).collect();
            Ok((stale.len(), Attachment::delete_unattached(conn, &ids)?))
        })
        .await?;
        let (found, deleted) = deleted;
        for row in &deleted {
            state.attachments.forget(row).await;
        }
        removed += deleted.len();
        if found < BATCH as usize {
            return Ok(removed);
        }
    }
}

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("prune_attachments", EVERY, shutdown, || {
        let state = state.clone();
        async move {
            match pass(&state).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed uploads never attached"),
                Err(e) => tracing::warn!(error = %e, "removing unattached uploads failed; will retry"),
            }
        }
    })
    .await;
}
