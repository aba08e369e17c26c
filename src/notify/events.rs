//! The events of the problem lifecycle as outbox rows, written in the transaction of the
//! change they announce: who hears of each, and the named values each carries (see
//! `domain::notification`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::clock::wire_time;
use crate::db::models::co_handler::CoHandler;
use crate::db::models::outbox::{NewEvent, OutboxEvent};
use crate::db::models::problem::Problem;
use crate::db::models::unit::Unit;
use crate::domain::deadline::EscalationReason;
use crate::domain::lifecycle::Outcome;
use crate::domain::notification::{Audience, NotificationKind};
use crate::schema::{enterprises, units};

/// What every event about a problem carries: its id, title, enterprise and department.
fn about(conn: &mut PgConnection, problem: &Problem) -> QueryResult<Value> {
    let enterprise: String = enterprises::table
        .find(problem.enterprise_id)
        .select(enterprises::name)
        .first(conn)?;
    let department: Option<String> = match problem.department_id {
        Some(id) => units::table.find(id).select(units::name).first(conn).optional()?,
        None => None,
    };
    Ok(json!({
        "problem_id": problem.id,
        "title": problem.title,
        "enterprise": enterprise,
        "department": department,
        "contact_due_at": problem.contact_due_at.map(wire_time),
        "due_at": problem.due_at.map(wire_time),
    }))
}

fn with(mut payload: Value, more: Value) -> Value {
    if let (Some(base), Value::Object(more)) = (payload.as_object_mut(), more) {
        base.extend(more);
    }
    payload
}

/// An event of `kind` to the problem's department (its clerks and robot), with `more` values.
fn to_department(
    conn: &mut PgConnection,
    problem: &Problem,
    kind: NotificationKind,
    more: Value,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let Some(department) = problem.department_id else {
        return Ok(());
    };
    let payload = with(about(conn, problem)?, more);
    let event = NewEvent::to_unit(
        kind,
        department,
        Audience::Department,
        &problem.region_code,
        payload,
        at,
    );
    OutboxEvent::enqueue(conn, &[event.about(problem.id)]).map(drop)
}

/// 交办: the department. `problem` is the row after the assignment.
pub fn assigned(conn: &mut PgConnection, problem: &Problem, at: DateTime<Utc>) -> QueryResult<()> {
    to_department(conn, problem, NotificationKind::ProblemAssigned, json!({}), at)
}

/// 协办: a co-handling department hears of the problem as the lead does, with its own
/// contact deadline and `"role": "co_handler"` (the same message kind and template).
pub fn co_assigned(
    conn: &mut PgConnection,
    problem: &Problem,
    co: &CoHandler,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let payload = with(
        about(conn, problem)?,
        json!({ "role": "co_handler", "contact_due_at": wire_time(co.contact_due_at) }),
    );
    let event = NewEvent::to_unit(
        NotificationKind::ProblemAssigned,
        co.department_id,
        Audience::Department,
        &problem.region_code,
        payload,
        at,
    );
    OutboxEvent::enqueue(conn, &[event.about(problem.id)]).map(drop)
}

/// A co-handler returned its part: the hub hears of it (the lead carries on without it).
pub fn co_returned(
    conn: &mut PgConnection,
    problem: &Problem,
    co: &CoHandler,
    reason: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let more = json!({ "reason": reason, "role": "co_handler", "co_handler_id": co.department_id });
    to_hub(conn, problem, NotificationKind::Returned, more, at)
}

/// 督办 of a co-handler to `level`: its department (level 1), then its leadership.
pub fn co_escalated(
    conn: &mut PgConnection,
    problem: &Problem,
    co: &CoHandler,
    level: i16,
    reason: EscalationReason,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let payload = with(
        about(conn, problem)?,
        json!({ "level": level, "reason": reason.as_str(), "role": "co_handler", "contact_due_at": wire_time(co.contact_due_at) }),
    );
    let audience = if level == 1 {
        Audience::Department
    } else {
        Audience::DepartmentLeadership
    };
    let event = NewEvent::to_unit(
        NotificationKind::Escalated,
        co.department_id,
        audience,
        &problem.region_code,
        payload,
        at,
    );
    OutboxEvent::enqueue(conn, &[event.about(problem.id)]).map(drop)
}

/// 督办 to `level`: the people of that level, as the escalation rules name them.
pub fn escalated(
    conn: &mut PgConnection,
    problem: &Problem,
    level: i16,
    reason: EscalationReason,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let payload = with(
        about(conn, problem)?,
        json!({ "level": level, "reason": reason.as_str(), "round": problem.deadline_round }),
    );
    let kind = NotificationKind::Escalated;
    let region = problem.region_code.as_str();
    let department = problem.department_id;
    let mut events = Vec::new();
    match level {
        1 => events.extend(
            department.map(|d| NewEvent::to_unit(kind, d, Audience::Department, region, payload.clone(), at)),
        ),
        2 => {
            events.extend(department.map(|d| {
                NewEvent::to_unit(
                    kind,
                    d,
                    Audience::DepartmentLeadership,
                    region,
                    payload.clone(),
                    at,
                )
            }));
            for unit in Unit::dispatching_units_of_enterprise(conn, problem.enterprise_id)? {
                events.push(NewEvent::to_unit(
                    kind,
                    unit,
                    Audience::DispatchingUnit,
                    region,
                    payload.clone(),
                    at,
                ));
            }
        }
        _ => {
            let hubs = Unit::hubs_over(conn, region)?;
            if hubs.is_empty() {
                // No hub unit: the dispatchers over the region hear of it.
                events.push(NewEvent::to_hub(
                    kind,
                    None,
                    Audience::HubLeadership,
                    region,
                    payload.clone(),
                    at,
                ));
            }
            for hub in hubs {
                events.push(NewEvent::to_hub(
                    kind,
                    Some(hub),
                    Audience::HubLeadership,
                    region,
                    payload.clone(),
                    at,
                ));
            }
        }
    }
    let events: Vec<_> = events.into_iter().map(|e| e.about(problem.id)).collect();
    OutboxEvent::enqueue(conn, &events).map(drop)
}

/// 反馈: the enterprise's contacts and its officers, asked to rate the response.
pub fn responded(
    conn: &mut PgConnection,
    problem: &Problem,
    outcome: Outcome,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let payload = with(
        about(conn, problem)?,
        json!({ "outcome": outcome.as_str(), "responded_at": wire_time(at) }),
    );
    let event = NewEvent::to_enterprise_side(NotificationKind::Responded, &problem.region_code, payload, at);
    OutboxEvent::enqueue(conn, &[event.about(problem.id)]).map(drop)
}

/// An event of `kind` to the dispatchers over the problem's region, with `more` values.
fn to_hub(
    conn: &mut PgConnection,
    problem: &Problem,
    kind: NotificationKind,
    more: Value,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let payload = with(about(conn, problem)?, more);
    let event = NewEvent::to_hub(kind, None, Audience::Hub, &problem.region_code, payload, at);
    OutboxEvent::enqueue(conn, &[event.about(problem.id)]).map(drop)
}

/// 退回: the hub over the problem's region. `problem` is the row before the return, so its
/// department is the one that gave it back.
pub fn returned(
    conn: &mut PgConnection,
    problem: &Problem,
    reason: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    to_hub(
        conn,
        problem,
        NotificationKind::Returned,
        json!({ "reason": reason }),
        at,
    )
}

/// 延期申请: the hub over the problem's region.
pub fn extension_requested(
    conn: &mut PgConnection,
    problem: &Problem,
    requested_due_at: DateTime<Utc>,
    reason: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let more = json!({ "requested_due_at": wire_time(requested_due_at), "reason": reason });
    to_hub(conn, problem, NotificationKind::ExtensionRequested, more, at)
}

/// 延期审批: the department. `problem` is the row after the decision.
pub fn extension_decided(
    conn: &mut PgConnection,
    problem: &Problem,
    approved: bool,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let decision = if approved { "approved" } else { "refused" };
    to_department(
        conn,
        problem,
        NotificationKind::ExtensionDecided,
        json!({ "decision": decision }),
        at,
    )
}
