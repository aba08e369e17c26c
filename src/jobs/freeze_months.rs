//! Freezes the month just over (月报) soon after 10:00 on the 1st, when its last reports can
//! no longer be revised. Reading a month that is over freezes it too, so this job only saves
//! the first reader the wait. Two instances racing are serialised by the month's primary key.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use super::Shutdown;
use crate::clock::local_day;
use crate::db;
use crate::domain::metrics::Month;
use crate::error::AppError;
use crate::state::AppState;
use crate::stats::monthly;

const EVERY: Duration = Duration::from_secs(10 * 60);

/// One pass: freezes last month if it is over and not frozen yet; `true` when it froze it.
pub fn tick(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<bool, AppError> {
    monthly::freeze(conn, Month::containing(local_day(now)).previous(), now)
}

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("freeze_months", EVERY, shutdown, || {
        let state = state.clone();
        async move {
            let now = state.clock.now();
            if let Err(e) = db::run(&state.bulk_pool, move |conn| tick(conn, now)).await {
                tracing::warn!(error = %e, "freezing last month failed; will retry");
            }
        }
    })
    .await;
}
