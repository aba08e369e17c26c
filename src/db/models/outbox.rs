//! `notification_outbox`: messages written in the transaction of the change they announce,
//! for a sender to deliver later.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::notification_outbox;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notification_outbox, check_for_backend(diesel::pg::Pg))]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: String,
    pub problem_id: Option<Uuid>,
    pub recipient_unit_id: Option<Uuid>,
    pub audience: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

pub struct NewMessage<'a> {
    pub kind: &'a str,
    pub problem_id: Option<Uuid>,
    pub recipient_unit_id: Option<Uuid>,
    pub audience: &'a str,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl OutboxMessage {
    pub fn enqueue(conn: &mut PgConnection, messages: &[NewMessage]) -> QueryResult<usize> {
        let rows: Vec<_> = messages
            .iter()
            .map(|m| {
                (
                    notification_outbox::kind.eq(m.kind),
                    notification_outbox::problem_id.eq(m.problem_id),
                    notification_outbox::recipient_unit_id.eq(m.recipient_unit_id),
                    notification_outbox::audience.eq(m.audience),
                    notification_outbox::payload.eq(&m.payload),
                    notification_outbox::created_at.eq(m.at),
                )
            })
            .collect();
        diesel::insert_into(notification_outbox::table)
            .values(&rows)
            .execute(conn)
    }

    pub fn for_problem(conn: &mut PgConnection, problem_id: Uuid) -> QueryResult<Vec<OutboxMessage>> {
        notification_outbox::table
            .filter(notification_outbox::problem_id.eq(problem_id))
            .order(notification_outbox::id)
            .select(OutboxMessage::as_select())
            .load(conn)
    }
}
