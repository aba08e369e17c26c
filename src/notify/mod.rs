//! Notifications that leave the server. Three stages, each its own table and module:
//! - `events`: what happened, written into `notification_outbox` in the transaction of the
//!   change (reminder jobs write theirs under a key, so a second run adds nothing);
//! - `expand`: each event becomes one inbox entry per recipient and one push per channel
//!   (`notification_deliveries`), in one transaction, once;
//! - `deliver`: pushes are claimed, sent (WeChat subscribe messages, group robots), and
//!   recorded as sent, retried later, or dead.

pub mod deliver;
pub mod events;
pub mod expand;
pub mod robot;
pub mod seal;
