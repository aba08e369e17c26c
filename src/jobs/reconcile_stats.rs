//! Every five minutes, repairs drift between the Redis copies of the figures and PostgreSQL
//! (`stats::reconcile`). One instance does it (a leader lock); the others skip the pass.

use std::time::Duration;

use actix_web::web;

use super::Shutdown;
use crate::db::leader::LeaderLock;
use crate::state::AppState;
use crate::stats::reconcile;

const EVERY: Duration = Duration::from_secs(5 * 60);
/// The advisory lock key of this job ("zhuqi rec" in ASCII).
const LOCK_KEY: i64 = 0x7a68_7571_6972_6563;

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("reconcile_stats", EVERY, shutdown, || {
        let state = state.clone();
        async move {
            let url = state.settings.database_url.expose().clone();
            let leader = web::block(move || LeaderLock::try_acquire(&url, LOCK_KEY)).await;
            let Ok(Ok(Some(lock))) = leader else {
                tracing::debug!("another instance reconciles the stats (or the database is away)");
                return;
            };
            let outcome = reconcile::run(&state.bulk_pool, &state.cache, state.clock.now()).await;
            // Closing the lock's connection is a blocking call, like opening it.
            let _ = web::block(move || drop(lock)).await;
            match outcome {
                Ok(outcome) if outcome.counters_repaired + outcome.answers_repaired > 0 => {
                    tracing::warn!(?outcome, "stats reconciled: Redis had drifted");
                }
                Ok(outcome) => tracing::debug!(?outcome, "stats reconciled"),
                Err(e) => tracing::warn!(error = %e, "stats reconciliation failed; will retry"),
            }
        }
    })
    .await;
}
