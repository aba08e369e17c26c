//! `problem_escalations` (督办): one row per problem, round and level.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::deadline::EscalationReason;
use crate::schema::problem_escalations;

pub struct Escalation;

impl Escalation {
    /// Records that the problem reached `level` in this round; `false` when it already had
    /// (a second run, or a second instance, changes nothing).
    pub fn record(
        conn: &mut PgConnection,
        problem_id: Uuid,
        round: i32,
        level: i16,
        reason: EscalationReason,
        at: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let inserted = diesel::insert_into(problem_escalations::table)
            .values((
                problem_escalations::problem_id.eq(problem_id),
                problem_escalations::round.eq(round),
                problem_escalations::level.eq(level),
                problem_escalations::reason.eq(reason.as_str()),
                problem_escalations::escalated_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        Ok(inserted == 1)
    }
}
