//! Rolls the officers' settled days up (`domain::rollup`) every ten minutes: whatever days have
//! settled since the last roll, a month per transaction, so the officers' ranking and the
//! monthly report read a row per officer and month instead of every sign-in and report. The
//! first pass on an existing database rolls its whole history. Instances take turns through
//! the span row's lock.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;

use super::Shutdown;
use crate::clock::local_day;
use crate::db;
use crate::db::models::officer_day;
use crate::domain::rollup::last_settled_day;
use crate::error::AppError;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(10 * 60);

/// One pass: rolls every settled day not rolled yet, unless `stopping` says to stop between
/// two months (each month is its own transaction: what was rolled stays rolled, and the next
/// pass goes on from there). Answers the ranges rolled, in order.
pub fn tick(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    stopping: impl Fn() -> bool,
) -> Result<Vec<(NaiveDate, NaiveDate)>, AppError> {
    let settled = last_settled_day(local_day(now), now);
    let mut rolled = Vec::new();
    loop {
        if stopping() {
            tracing::info!(
                rolled = rolled.len(),
                "stopping the roll between two months for the shutdown"
            );
            return Ok(rolled);
        }
        let started = Instant::now();
        let Some((from, to)) = officer_day::roll_next(conn, settled, now)? else {
            return Ok(rolled);
        };
        tracing::info!(%from, %to, elapsed_ms = started.elapsed().as_millis() as u64, "rolled up the officers' days");
        rolled.push((from, to));
    }
}

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("roll_officer_days", EVERY, shutdown.clone(), || {
        let (state, shutdown) = (state.clone(), shutdown.clone());
        async move {
            let now = state.clock.now();
            let pass = move |conn: &mut PgConnection| tick(conn, now, || shutdown.requested());
            if let Err(e) = db::run(&state.bulk_pool, pass).await {
                tracing::warn!(error = %e, "rolling up the officers' days failed; will retry");
            }
        }
    })
    .await;
}
