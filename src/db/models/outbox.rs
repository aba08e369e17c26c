//! `notification_outbox`: events written in the transaction of the change they announce (or
//! by a reminder job, under a key that makes a second run add nothing), for `notify::expand`
//! to turn into inbox entries and pushes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::notification::{Audience, NotificationKind};
use crate::schema::notification_outbox;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notification_outbox, check_for_backend(diesel::pg::Pg))]
pub struct OutboxEvent {
    pub id: i64,
    pub kind: NotificationKind,
    pub problem_id: Option<Uuid>,
    pub recipient_unit_id: Option<Uuid>,
    pub recipient_user_id: Option<Uuid>,
    pub audience: Audience,
    pub region_code: Option<String>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub expanded_at: Option<DateTime<Utc>>,
}

/// An event to write. Address it with [`NewEvent::to_unit`], [`NewEvent::to_user`] or
/// [`NewEvent::to_hub`].
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: NotificationKind,
    pub problem_id: Option<Uuid>,
    pub recipient_unit_id: Option<Uuid>,
    pub recipient_user_id: Option<Uuid>,
    pub audience: Audience,
    /// The region whose switches apply (the problem's, the officer's, the unit's).
    pub region_code: String,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
    /// What the event announces, for events a job may write twice (`None`: always new).
    pub dedupe_key: Option<String>,
}

impl NewEvent {
    fn new(
        kind: NotificationKind,
        audience: Audience,
        region_code: &str,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind,
            problem_id: None,
            recipient_unit_id: None,
            recipient_user_id: None,
            audience,
            region_code: region_code.to_owned(),
            payload,
            at,
            dedupe_key: None,
        }
    }

    /// To `audience` of a unit.
    pub fn to_unit(
        kind: NotificationKind,
        unit: Uuid,
        audience: Audience,
        region_code: &str,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            recipient_unit_id: Some(unit),
            ..Self::new(kind, audience, region_code, payload, at)
        }
    }

    /// To one user.
    pub fn to_user(
        kind: NotificationKind,
        user: Uuid,
        region_code: &str,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            recipient_user_id: Some(user),
            ..Self::new(kind, Audience::User, region_code, payload, at)
        }
    }

    /// To the dispatchers over `region_code` (the hub), or to those of one hub unit.
    pub fn to_hub(
        kind: NotificationKind,
        hub: Option<Uuid>,
        audience: Audience,
        region_code: &str,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            recipient_unit_id: hub,
            ..Self::new(kind, audience, region_code, payload, at)
        }
    }

    /// To the problem's enterprise contacts and officers.
    pub fn to_enterprise_side(
        kind: NotificationKind,
        region_code: &str,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self::new(kind, Audience::EnterpriseSide, region_code, payload, at)
    }

    pub fn about(mut self, problem: Uuid) -> Self {
        self.problem_id = Some(problem);
        self
    }

    pub fn keyed(mut self, key: String) -> Self {
        self.dedupe_key = Some(key);
        self
    }
}

impl OutboxEvent {
    /// Writes the events; those whose key is already there are skipped. Returns how many
    /// were written.
    pub fn enqueue(conn: &mut PgConnection, events: &[NewEvent]) -> QueryResult<usize> {
        let rows: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    notification_outbox::kind.eq(e.kind),
                    notification_outbox::problem_id.eq(e.problem_id),
                    notification_outbox::recipient_unit_id.eq(e.recipient_unit_id),
                    notification_outbox::recipient_user_id.eq(e.recipient_user_id),
                    notification_outbox::audience.eq(e.audience),
                    notification_outbox::region_code.eq(&e.region_code),
                    notification_outbox::payload.eq(&e.payload),
                    notification_outbox::created_at.eq(e.at),
                    notification_outbox::dedupe_key.eq(e.dedupe_key.as_deref()),
                )
            })
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        diesel::insert_into(notification_outbox::table)
            .values(&rows)
            .on_conflict(notification_outbox::dedupe_key)
            .do_nothing()
            .execute(conn)
    }

    /// Locks up to `limit` events not yet expanded, oldest first, skipping those another
    /// instance holds.
    pub fn claim_pending(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<OutboxEvent>> {
        notification_outbox::table
            .filter(notification_outbox::expanded_at.is_null())
            .order(notification_outbox::id)
            .limit(limit)
            .for_update()
            .skip_locked()
            .select(OutboxEvent::as_select())
            .load(conn)
    }

    pub fn mark_expanded(conn: &mut PgConnection, ids: &[i64], at: DateTime<Utc>) -> QueryResult<usize> {
        diesel::update(notification_outbox::table.filter(notification_outbox::id.eq_any(ids)))
            .set(notification_outbox::expanded_at.eq(at))
            .execute(conn)
    }
}
