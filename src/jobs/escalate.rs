//! 督办: once a minute, problems whose department missed a deadline escalate one level per
//! missed window (1: the department; 2: its leadership and the officer's dispatching unit;
//! 3: the hub's leadership), each level once, on the timeline and into the outbox.
//!
//! Several instances run this job. A transaction-scoped advisory lock lets one of them work
//! at a time: it is released at commit or rollback, so it cannot outlive its work the way a
//! session lock held on a pooled connection can. The unique key of `problem_escalations` makes
//! even an overlapping run harmless.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::json;

use super::Shutdown;
use crate::db;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::co_handler::CoHandler;
use crate::db::models::escalation::Escalation;
use crate::db::models::problem::{NewEvent, Problem, ProblemChange, ProblemEvent};
use crate::domain::calendar::Calendar;
use crate::domain::deadline::{missed_windows, still_overdue_before, Waiting, TOP_ESCALATION_LEVEL};
use crate::domain::lifecycle::{ActorRole, EventKind};
use crate::notify::events;
use crate::state::AppState;

/// The advisory lock key of this job ("zhuqi esc" in ASCII).
const LOCK_KEY: i64 = 0x7a68_7571_6965_7363;
const EVERY: Duration = Duration::from_secs(60);
/// Problems read and locked at a time; a pass goes on until none is left.
const BATCH: i64 = 500;

diesel::define_sql_function! {
    fn pg_try_advisory_xact_lock(key: BigInt) -> Bool;
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Another instance held the lock; this one did nothing.
    pub skipped: bool,
    /// Levels reached in this pass.
    pub escalations: usize,
}

/// One pass over the problems waiting on a department.
pub fn tick(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Pass> {
    conn.transaction(|conn| {
        if !diesel::select(pg_try_advisory_xact_lock(LOCK_KEY)).get_result::<bool>(conn)? {
            return Ok(Pass {
                skipped: true,
                escalations: 0,
            });
        }
        let calendar = CalendarYear::load(conn)?;
        let still_before = still_overdue_before(&calendar, now);
        let mut escalations = 0;
        loop {
            let batch = Problem::due_for_escalation(conn, now, still_before, BATCH)?;
            let mut raised = 0;
            for problem in &batch {
                let Some(levels) = escalate(conn, &calendar, problem, now)? else {
                    continue;
                };
                raised += 1;
                escalations += levels;
            }
            // Each raised problem leaves the candidates, so the next batch is new work; a
            // batch that raised nothing (the query and the rules disagree) must not spin.
            if batch.len() < BATCH as usize || raised == 0 {
                break;
            }
        }
        escalations += escalate_co_handlers(conn, &calendar, now)?;
        Ok(Pass {
            skipped: false,
            escalations,
        })
    })
}

/// The same rules for each co-handling department (协办), on its own deadlines: contact by its
/// contact date, the opinion by the lead's due date. Its level is its own; the lead's is
/// untouched.
fn escalate_co_handlers(
    conn: &mut PgConnection,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut escalations = 0;
    loop {
        let batch = CoHandler::overdue(conn, now, BATCH)?;
        let mut raised = 0;
        for co in &batch {
            let waiting = Waiting {
                contact_due_at: co.contact_due_at,
                due_at: co.due_at,
                contacted_at: co.contacted_at,
            };
            let missed = missed_windows(calendar, &waiting, now);
            let target = (missed.len() as i16).min(TOP_ESCALATION_LEVEL);
            if target <= co.escalation_level || !CoHandler::raise(conn, co.id, target)? {
                continue;
            }
            raised += 1;
            let Some(problem) = Problem::find(conn, co.problem_id)? else {
                continue;
            };
            for level in co.escalation_level + 1..=target {
                let reason = missed[level as usize - 1];
                let details = json!({
                    "level": level,
                    "reason": reason.as_str(),
                    "round": problem.deadline_round,
                    "role": "co_handler",
                    "department_id": co.department_id,
                });
                escalated_event(conn, problem.id, co_note(level), details, now)?;
                events::co_escalated(conn, &problem, co, level, reason, now)?;
                escalations += 1;
            }
        }
        if batch.len() < BATCH as usize || raised == 0 {
            return Ok(escalations);
        }
    }
}

/// The `escalated` event on the problem's timeline, written by the server itself.
fn escalated_event(
    conn: &mut PgConnection,
    problem_id: uuid::Uuid,
    note: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    ProblemEvent::append(
        conn,
        &NewEvent {
            problem_id,
            event_type: EventKind::Escalated,
            actor_id: None,
            actor_role: Some(ActorRole::System),
            at: now,
            note: Some(note),
            details: Some(details),
        },
    )
}

fn co_note(level: i16) -> &'static str {
    match level {
        1 => "协办逾期督办（一级）：提醒协办部门",
        2 => "协办逾期督办（二级）：通报协办部门负责人",
        _ => "协办逾期督办（三级）：报驻企办领导",
    }
}

/// Raises one problem to the level its missed windows call for: the levels reached (each on
/// the timeline and in the outbox), or `None` when it is already there.
fn escalate(
    conn: &mut PgConnection,
    calendar: &Calendar,
    problem: &Problem,
    now: DateTime<Utc>,
) -> QueryResult<Option<usize>> {
    let (Some(contact_due_at), Some(due_at)) = (problem.contact_due_at, problem.due_at) else {
        return Ok(None);
    };
    let waiting = Waiting {
        contact_due_at,
        due_at,
        contacted_at: problem.contacted_at,
    };
    let missed = missed_windows(calendar, &waiting, now);
    let target = (missed.len() as i16).min(TOP_ESCALATION_LEVEL);
    if target <= problem.escalation_level {
        return Ok(None);
    }
    let mut escalations = 0;
    for level in problem.escalation_level + 1..=target {
        let reason = missed[level as usize - 1];
        if !Escalation::record(conn, problem.id, problem.deadline_round, level, reason, now)? {
            continue;
        }
        let details = json!({ "level": level, "reason": reason.as_str(), "round": problem.deadline_round });
        escalated_event(conn, problem.id, note(level), details, now)?;
        events::escalated(conn, problem, level, reason, now)?;
        escalations += 1;
    }
    Problem::apply(
        conn,
        problem.id,
        &ProblemChange {
            escalation_level: Some(target),
            ..ProblemChange::default()
        },
    )?;
    Ok(Some(escalations))
}

fn note(level: i16) -> &'static str {
    match level {
        1 => "逾期督办（一级）：提醒承办部门",
        2 => "逾期督办（二级）：通报部门负责人及派出单位",
        _ => "逾期督办（三级）：报驻企办领导",
    }
}

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("escalate", EVERY, shutdown, || {
        let state = state.clone();
        async move {
            let now = state.clock.now();
            match db::run(&state.pool, move |conn| Ok(tick(conn, now)?)).await {
                Ok(Pass { escalations: 0, .. }) => {}
                Ok(pass) => tracing::info!(escalations = pass.escalations, "escalated overdue problems"),
                Err(e) => tracing::warn!(error = %e, "escalation pass failed; will retry"),
            }
        }
    })
    .await;
}
