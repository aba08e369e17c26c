//! `notification_deliveries`: pushes waiting, sent, or given up. A sender claims due rows for
//! a lease (`FOR UPDATE SKIP LOCKED`, so two instances never take the same row), sends them
//! all at once, and records their outcomes together. A crash between the sends and the record
//! repeats each push of that claim once when the lease runs out (receivers can tell by the
//! push id), and loses none.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz};
use uuid::Uuid;

use crate::domain::notification::{Channel, DeliveryStatus, NotificationKind};
use crate::schema::notification_deliveries;

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = notification_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub notification_id: Option<Uuid>,
    pub channel: Channel,
    pub user_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub message: serde_json::Value,
    pub urgent: bool,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub leased_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notification_deliveries)]
pub struct NewDelivery {
    pub event_id: i64,
    pub notification_id: Option<Uuid>,
    pub channel: Channel,
    pub user_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub message: serde_json::Value,
    pub urgent: bool,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempted {
    Sent,
    /// Try again at the given time (the error kept for the operator).
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Never again: dead (with why) or unsubscribed.
    Final {
        status: DeliveryStatus,
        error: String,
    },
}

/// The backlog for the metrics: pending pushes and the age of the oldest due one.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Backlog {
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub oldest_due_at: Option<DateTime<Utc>>,
}

impl Delivery {
    pub fn insert_all(conn: &mut PgConnection, rows: &[NewDelivery]) -> QueryResult<usize> {
        let mut written = 0;
        for chunk in rows.chunks(1000) {
            written += diesel::insert_into(notification_deliveries::table)
                .values(chunk)
                .execute(conn)?;
        }
        Ok(written)
    }

    /// Claims up to `limit` due pushes for `lease` (each attempt counted now, so a sender that
    /// dies mid-send still uses one up). In quiet hours only urgent ones are due.
    pub fn claim(
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        quiet: bool,
        lease: chrono::Duration,
        limit: i64,
    ) -> QueryResult<Vec<Delivery>> {
        relaxed(conn, |conn| {
            diesel::sql_query(
                "UPDATE notification_deliveries d
                SET attempts = d.attempts + 1, leased_until = $1
              WHERE d.id IN (
                    SELECT id FROM notification_deliveries
                     WHERE status = 'pending' AND next_attempt_at <= $2
                       AND (leased_until IS NULL OR leased_until <= $2)
                       AND (urgent OR NOT $3)
                     ORDER BY next_attempt_at, id
                     LIMIT $4
                       FOR UPDATE SKIP LOCKED)
             RETURNING d.*",
            )
            .bind::<Timestamptz, _>(now + lease)
            .bind::<Timestamptz, _>(now)
            .bind::<Bool, _>(quiet)
            .bind::<BigInt, _>(limit)
            .load(conn)
        })
    }

    /// Records the outcomes of the attempts a claim started, in one statement.
    pub fn record_all(
        conn: &mut PgConnection,
        outcomes: &[(i64, Attempted)],
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        let mut ids = Vec::new();
        let mut statuses = Vec::new();
        let mut next_attempts = Vec::new();
        let mut sent = Vec::new();
        let mut errors = Vec::new();
        for (id, attempted) in outcomes {
            let (status, next, sent_at, error) = match attempted {
                Attempted::Sent => (DeliveryStatus::Sent, None, Some(now), None),
                Attempted::Retry { at, error } => {
                    (DeliveryStatus::Pending, Some(*at), None, Some(error.clone()))
                }
                Attempted::Final { status, error } => (*status, None, None, Some(error.clone())),
            };
            ids.push(*id);
            statuses.push(status.as_str());
            next_attempts.push(next);
            sent.push(sent_at);
            errors.push(error);
        }
        relaxed(conn, |conn| {
            diesel::sql_query(
                "UPDATE notification_deliveries d
                    SET status = v.status, next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at),
                        sent_at = v.sent_at, last_error = v.last_error, leased_until = NULL
                   FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[])
                        AS v(id, status, next_attempt_at, sent_at, last_error)
                  WHERE d.id = v.id",
            )
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Array<Text>, _>(&statuses)
            .bind::<Array<Nullable<Timestamptz>>, _>(&next_attempts)
            .bind::<Array<Nullable<Timestamptz>>, _>(&sent)
            .bind::<Array<Nullable<Text>>, _>(&errors)
            .execute(conn)
        })
    }

    pub fn backlog(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Backlog> {
        diesel::sql_query(
            "SELECT count(*) AS pending, min(next_attempt_at) FILTER (WHERE next_attempt_at <= $1) AS oldest_due_at
               FROM notification_deliveries WHERE status = 'pending'",
        )
        .bind::<Timestamptz, _>(now)
        .get_result(conn)
    }
}

/// Runs `work` in a transaction whose commit does not wait for the WAL to reach the disk. The
/// notification tables take that: a commit lost in a database crash only repeats work (a lost
/// claim is claimed again, a lost record sends its push again, a lost expansion expands again),
/// and nothing is lost, while the sign-ins, which do wait for their flushes, no longer queue
/// behind the worker's.
pub fn relaxed<T>(
    conn: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    conn.transaction(|conn| {
        diesel::sql_query("SET LOCAL synchronous_commit TO off").execute(conn)?;
        work(conn)
    })
}
