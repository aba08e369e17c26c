//! Every five minutes, repairs drift between the Redis copies of the figures and PostgreSQL
//! (`stats::reconcile`). Harmless to run on several instances at once.

use std::time::Duration;

use crate::state::AppState;
use crate::stats::reconcile;

const EVERY: Duration = Duration::from_secs(5 * 60);

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>) {
    let mut interval = tokio::time::interval(EVERY);
    loop {
        interval.tick().await;
        match reconcile::run(&state.bulk_pool, &state.cache, state.clock.now()).await {
            Ok(outcome) if outcome.counters_repaired + outcome.answers_repaired > 0 => {
                tracing::warn!(?outcome, "stats reconciled: Redis had drifted");
            }
            Ok(outcome) => tracing::debug!(?outcome, "stats reconciled"),
            Err(e) => tracing::warn!(error = %e, "stats reconciliation failed; will retry"),
        }
    }
}
