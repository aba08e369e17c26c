//! Background jobs, one file each; every job has a `tick` that tests call directly.

pub mod escalate;
pub mod freeze_months;
pub mod prune_idempotency;
pub mod reconcile_stats;
