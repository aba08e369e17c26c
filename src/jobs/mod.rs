//! Background jobs, one file each; every job has a `tick` that tests call directly, and a
//! `run_until_stopped` that repeats it on [`every`] until the server shuts down.

pub mod escalate;
pub mod freeze_months;
pub mod notify;
pub mod partitions;
pub mod prune_attachments;
pub mod prune_idempotency;
pub mod reconcile_stats;
pub mod reminders;
pub mod replicas;
pub mod roll_officer_days;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Tells the jobs the server is shutting down; each finishes the pass it is in and returns.
pub fn shutdown_signal() -> (watch::Sender<bool>, Shutdown) {
    let (stop, stopping) = watch::channel(false);
    (stop, Shutdown(stopping))
}

#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Whether the server has begun to shut down: a job whose pass can be long (the first roll
    /// of years of days) looks at it between the steps of its pass, so that a restart does not
    /// wait for the whole pass.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }
}

/// Runs `pass` at once and then every `period` until shutdown, each pass in a `job` span
/// named `name` (so every line it logs says which job). A pass in progress is never cut short:
/// shutdown is looked at between passes.
pub async fn every<F, Fut>(name: &'static str, period: Duration, mut shutdown: Shutdown, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    use tracing::Instrument;
    let mut interval = tokio::time::interval(period);
    loop {
        if shutdown.requested() {
            return;
        }
        tokio::select! {
            _ = interval.tick() => pass().instrument(tracing::info_span!("job", job = name)).await,
            _ = shutdown.0.changed() => return,
        }
    }
}
