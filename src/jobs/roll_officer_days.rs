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

/// One pass: rolls every settled day not rolled yet. Answers the ranges rolled, in order.
pub fn tick(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Vec<(NaiveDate, NaiveDate)>, AppError> {
    let settled = last_settled_day(local_day(now), now);
    let mut rolled = Vec::new();
    loop {
        let started = Instant::now();
        let Some((from, to)) = officer_day::roll_next(conn, settled, now)? else {
            return Ok(rolled);
        };
        tracing::info!(%from, %to, elapsed_ms = started.elapsed().as_millis() as u64, "rolled up the officers' days");
        rolled.push((from, to));
    }
}

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("roll_officer_days", EVERY, shutdown, || {
        let state = state.clone();
        async move {
            let now = state.clock.now();
            if let Err(e) = db::run(&state.bulk_pool, move |conn| tick(conn, now)).await {
                tracing::warn!(error = %e, "rolling up the officers' days failed; will retry");
            }
        }
    })
    .await;
}
