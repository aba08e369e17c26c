//! Background jobs, one file each; every job has a `tick` that tests call directly.

pub mod escalate;
pub mod prune_idempotency;
