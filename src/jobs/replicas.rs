//! Checks the read replicas every second (`db::replicas`): each instance judges its own, so a
//! replica that stops or falls behind leaves the reads within a second.

use std::time::Duration;

use super::Shutdown;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(1);

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    if state.replicas.is_empty() {
        return;
    }
    super::every("replicas", EVERY, shutdown, || {
        let state = state.clone();
        async move { state.replicas.check(&state.bulk_pool).await }
    })
    .await;
}
