//! Keeps the coming months' partitions made ahead of time (`db::partitions::ensure`): four times a
//! day, so that a pass failing (a lock not granted within its timeout) is made again long
//! before the month begins. Instances take turns through the function's advisory lock. The same
//! pass drops the idempotency records' partitions whose keys are long spent.

use std::time::Duration;

use super::Shutdown;
use crate::clock::local_day;
use crate::db;
use crate::db::partitions;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(6 * 3600);

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("partitions", EVERY, shutdown, || {
        let state = state.clone();
        async move {
            let today = local_day(state.clock.now());
            let pass = move |conn: &mut diesel::PgConnection| {
                Ok((
                    partitions::ensure(conn, today)?,
                    partitions::drop_spent_idempotency(conn, today)?,
                ))
            };
            match db::run(&state.bulk_pool, pass).await {
                Ok((ensured, dropped)) => {
                    partitions::log(&ensured);
                    for partition in dropped {
                        tracing::info!(%partition, "dropped a spent partition of idempotency records");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "creating the coming months' partitions failed; will retry")
                }
            }
        }
    })
    .await;
}
