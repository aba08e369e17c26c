//! Stage three: pushes are claimed for a lease, sent all at once, and their outcomes recorded
//! together (sent; retried later with backoff and jitter; dead after too many attempts or a
//! refusal no retry can fix; unsubscribed). In quiet hours only urgent pushes are claimed.
//! The worker uses a pool of its own, so it never takes a request's connection, and commits
//! without waiting for the WAL flush (`delivery::relaxed`), so it never delays a sign-in's.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use uuid::Uuid;

use super::robot::{self, Opened};
use super::seal::Sealer;
use crate::config::Secret;
use crate::db::models::delivery::{Attempted, Delivery};
use crate::db::models::robot::Robot;
use crate::db::{self, PgPool};
use crate::domain::notification::{retry_after, Channel, DeliveryStatus, QuietHours, MAX_ATTEMPTS};
use crate::error::AppError;
use crate::telemetry::NotifyMetrics;
use crate::wechat::subscribe::{Sent, SubscribeSender};

/// Pushes claimed at a time, all sent at once: every push of a claim starts at once, so the
/// lease only has to outlast one push.
pub const CLAIM: i64 = 16;

pub struct Deliverer {
    pub wechat: SubscribeSender,
    pub http: reqwest::Client,
    pub sealer: Sealer,
    pub quiet: Option<QuietHours>,
    pub metrics: NotifyMetrics,
    /// How long a claim holds its pushes: longer than one push can take (a token refresh and
    /// two sends, each within the HTTP timeout), so no other sender takes it meanwhile.
    pub lease: Duration,
    /// The most pushes a minute (0: no limit).
    pub per_minute: u32,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub unsubscribed: usize,
}

impl Deliverer {
    /// The shortest time a claim of [`CLAIM`] pushes may take under the rate limit.
    pub fn claim_spacing(&self) -> Duration {
        match self.per_minute {
            0 => Duration::ZERO,
            n => Duration::from_secs_f64(60.0 * CLAIM as f64 / f64::from(n)),
        }
    }

    /// Claims the due pushes and sends them; `now` decides what is due and quiet.
    pub async fn pass(&self, pool: &PgPool, now: DateTime<Utc>) -> Result<Delivered, AppError> {
        let quiet = self.quiet.is_some_and(|q| q.contains(now));
        let lease = chrono::Duration::from_std(self.lease).unwrap_or_default();
        let (claimed, robots) = db::run(pool, move |conn| {
            let claimed = Delivery::claim(conn, now, quiet, lease, CLAIM)?;
            let units: Vec<Uuid> = claimed.iter().filter_map(|d| d.unit_id).collect();
            let robots = Robot::enabled_of(conn, &units)?;
            Ok((claimed, robots))
        })
        .await?;
        let robots: HashMap<Uuid, Robot> = robots.into_iter().map(|r| (r.unit_id, r)).collect();
        let mut done = Delivered {
            claimed: claimed.len(),
            ..Delivered::default()
        };
        let outcomes: Vec<(i64, Attempted)> = stream::iter(claimed)
            .map(|push| {
                let robots = &robots;
                async move { (push.id, self.attempt(&push, robots, now).await) }
            })
            .buffer_unordered(CLAIM as usize)
            .collect()
            .await;
        for (_, attempted) in &outcomes {
            match attempted {
                Attempted::Sent => done.sent += 1,
                Attempted::Retry { .. } => done.retried += 1,
                Attempted::Final {
                    status: DeliveryStatus::Unsubscribed,
                    ..
                } => done.unsubscribed += 1,
                Attempted::Final { .. } => done.dead += 1,
            }
        }
        if !outcomes.is_empty() {
            db::run(pool, move |conn| Ok(Delivery::record_all(conn, &outcomes, now)?)).await?;
        }
        Ok(done)
    }

    /// One attempt at one push, as what to record.
    async fn attempt(&self, push: &Delivery, robots: &HashMap<Uuid, Robot>, now: DateTime<Utc>) -> Attempted {
        let channel = push.channel.as_str();
        let outcome = match push.channel {
            Channel::Wechat => self.wechat.send(&push.message, push.id).await,
            Channel::Robot => self.post_to_robot(push, robots, now).await,
        };
        let attempted = match outcome {
            Sent::Sent => Attempted::Sent,
            Sent::Unsubscribed => Attempted::Final {
                status: DeliveryStatus::Unsubscribed,
                error: "43101: the user has no subscription for this template".to_owned(),
            },
            Sent::Refused(why) => {
                tracing::error!(push = push.id, kind = %push.kind, channel, error = %why,
                    "push refused for good (check the template's fields and id); dead");
                Attempted::Final {
                    status: DeliveryStatus::Dead,
                    error: why,
                }
            }
            Sent::Retry(why) if push.attempts >= MAX_ATTEMPTS => {
                tracing::error!(push = push.id, kind = %push.kind, channel, attempts = push.attempts, error = %why,
                    "push failed too often; dead");
                Attempted::Final {
                    status: DeliveryStatus::Dead,
                    error: why,
                }
            }
            Sent::Retry(why) => {
                tracing::warn!(push = push.id, kind = %push.kind, channel, attempts = push.attempts, error = %why,
                    "push failed; will retry");
                Attempted::Retry {
                    at: now + retry_after(push.attempts, rand::random()),
                    error: why,
                }
            }
        };
        self.metrics.observe(channel, &attempted);
        attempted
    }

    async fn post_to_robot(
        &self,
        push: &Delivery,
        robots: &HashMap<Uuid, Robot>,
        now: DateTime<Utc>,
    ) -> Sent {
        let Some(robot) = push.unit_id.and_then(|u| robots.get(&u)) else {
            return Sent::Refused("the unit's robot was removed or switched off".to_owned());
        };
        let Some(webhook) = self.sealer.open(&robot.webhook_sealed) else {
            return Sent::Refused("the robot's webhook cannot be unsealed (JWT_SECRET changed?)".to_owned());
        };
        let secret = match &robot.secret_sealed {
            Some(sealed) => match self.sealer.open(sealed) {
                Some(secret) => Some(Secret::new(secret)),
                None => return Sent::Refused("the robot's secret cannot be unsealed".to_owned()),
            },
            None => None,
        };
        let opened = Opened {
            platform: robot.platform,
            webhook: Secret::new(webhook),
            secret,
        };
        let text = |name: &str| {
            push.message
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
        };
        match robot::post(
            &self.http,
            &opened,
            text("title"),
            text("markdown"),
            now.timestamp_millis(),
            push.id,
        )
        .await
        {
            Ok(()) => Sent::Sent,
            Err(why) => Sent::Retry(why),
        }
    }
}
