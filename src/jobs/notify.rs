//! The notification worker: every second, expands the outbox's new events and sends the due
//! pushes, going on while a full claim shows more are waiting (no faster than
//! `NOTIFY_MAX_PER_MINUTE`, and for at most half a minute, so a shutdown never waits long).

use std::time::{Duration, Instant};

use super::Shutdown;
use crate::db;
use crate::db::models::delivery::Delivery;
use crate::notify::deliver::CLAIM;
use crate::notify::expand;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(1);
const LONGEST_PASS: Duration = Duration::from_secs(30);
/// How often the backlog gauges are read.
const BACKLOG_EVERY: Duration = Duration::from_secs(10);

/// One pass: expand, then send until nothing due is left (or the pass is long enough).
pub async fn pass(state: &AppState) {
    let started = Instant::now();
    let now = state.clock.now();
    match db::run(&state.notify_pool, move |conn| Ok(expand::tick(conn, now)?)).await {
        Ok(expanded) if expanded.events > 0 => tracing::info!(?expanded, "notifications expanded"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "expanding notifications failed; next pass tries again"),
    }
    let spacing = state.deliverer.claim_spacing();
    while started.elapsed() < LONGEST_PASS {
        let claim_started = Instant::now();
        match state.deliverer.pass(&state.notify_pool, state.clock.now()).await {
            Ok(done) if done.claimed as i64 == CLAIM => {
                // More are waiting: go on, no faster than the rate limit allows.
                tokio::time::sleep(spacing.saturating_sub(claim_started.elapsed())).await;
            }
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "sending notifications failed; next pass tries again");
                break;
            }
        }
    }
}

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    let mut backlog_read: Option<Instant> = None;
    super::every("notify", EVERY, shutdown, || {
        let state = state.clone();
        let read_backlog = backlog_read.is_none_or(|at| at.elapsed() >= BACKLOG_EVERY);
        if read_backlog {
            backlog_read = Some(Instant::now());
        }
        async move {
            pass(&state).await;
            if read_backlog {
                let now = state.clock.now();
                if let Ok(backlog) =
                    db::run(&state.notify_pool, move |conn| Ok(Delivery::backlog(conn, now)?)).await
                {
                    let age = backlog.oldest_due_at.map_or(0, |at| (now - at).num_seconds());
                    state.deliverer.metrics.backlog(backlog.pending, age);
                }
            }
        }
    })
    .await;
}
