//! The hub's work on a problem, one function per action of the lifecycle. Each runs inside
//! the caller's transaction: it locks the problem, asks `domain::lifecycle` whether the
//! caller may take the action from the problem's state, then writes the row, its timeline
//! event(s) and any outbox message together.

use chrono::{DateTime, Datelike, Utc};
use diesel::PgConnection;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::scope::{self, RegionScope};
use crate::auth::Caller;
use crate::clock::{local_day, wire_time};
use crate::db::models::calendar::CalendarYear;
use crate::db::models::category::Category;
use crate::db::models::co_handler::{CoChange, CoHandler, NewCoHandler};
use crate::db::models::extension::{Extension, NewExtension};
use crate::db::models::problem::{NewEvent, Problem, ProblemChange, ProblemEvent};
use crate::db::models::region::Region;
use crate::db::models::unit::Unit;
use crate::domain::benefit::Benefits;
use crate::domain::calendar::Calendar;
use crate::domain::co_handling::{co_transition, CoAction, CoStatus};
use crate::domain::deadline::{self, Deadlines, CONTACT_WORKING_DAYS, MAX_DUE_WORKING_DAYS};
use crate::domain::field_error::FieldCode;
use crate::domain::field_error::FieldError;
use crate::domain::lifecycle::{
    transition, Action, EventKind, Outcome, Rating, Refusal, ResponseOutcome, Status,
};
use crate::domain::problem::Urgency;
use crate::domain::role::Role;
use crate::domain::unit_kind::UnitKind;
use crate::error::{AppError, ErrorCode};
use crate::notify::events;

/// Longest free text of a transition (a resolution, a reason, a comment).
pub const MAX_NOTE: usize = 2000;

/// What an action writes besides the new status.
#[derive(Default)]
struct Effect<'a> {
    change: ProblemChange<'a>,
    /// The event type, when it is not the action's default.
    event: Option<EventKind>,
    note: Option<String>,
    details: Option<Value>,
    /// Further events after the action's own (a reopening after a dissatisfied rating).
    then: Vec<(EventKind, Option<String>, Option<Value>)>,
}

/// The caller taking an action at `now`.
#[derive(Clone, Copy)]
pub struct Acting<'a> {
    pub caller: &'a Caller,
    pub now: DateTime<Utc>,
}

fn refused(refusal: Refusal, from: Status) -> AppError {
    match refusal {
        Refusal::Forbidden => AppError::new(ErrorCode::ProblemNotAllowed, "您无权对该问题执行此操作"),
        Refusal::InvalidTransition => AppError::new(
            ErrorCode::ProblemInvalidTransition,
            format!("问题当前状态为“{from}”，不能执行此操作 (invalid transition)"),
        ),
    }
}

/// Locks the problem and checks the action: 404 when the caller cannot see it, 403 when none
/// of their roles toward it may take the action, 409 from the wrong state or while another
/// dispatcher holds its lease. Returns the problem, its next status and the acting role.
fn check(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    action: Action,
) -> Result<(Problem, Status, Role), AppError> {
    let problem = Problem::lock(conn, id)?.ok_or(AppError::NotFound)?;
    let roles = scope::roles_toward_problem(conn, acting.caller, &problem, local_day(acting.now))?;
    if roles.is_empty() && !scope::can_see_problem(conn, acting.caller, &problem)? {
        return Err(AppError::NotFound);
    }
    let from = problem.status;
    let to = transition(from, action, &roles).map_err(|r| refused(r, from))?;
    let role = action
        .roles()
        .iter()
        .copied()
        .find(|r| roles.contains(r))
        .unwrap_or(Role::Dispatcher);
    if matches!(action, Action::Triage | Action::Assign | Action::Merge) {
        if let (Some(holder), Some(until)) = (problem.lease_holder_id, problem.lease_expires_at) {
            if holder != acting.caller.user_id && until > acting.now {
                return Err(AppError::new(
                    ErrorCode::ProblemLeased,
                    "该问题正由其他调度员处理中，请稍后再试 (leased by another dispatcher)",
                ));
            }
        }
    }
    Ok((problem, to, role))
}

/// Writes the transition: the row, then its events.
fn commit(
    conn: &mut PgConnection,
    acting: Acting,
    problem: &Problem,
    action: Action,
    to: Status,
    role: Role,
    effect: Effect,
) -> Result<Problem, AppError> {
    let change = ProblemChange {
        status: Some(to),
        updated_at: Some(acting.now),
        ..effect.change
    };
    let updated = Problem::apply(conn, problem.id, &change)?;
    let first = (
        effect.event.unwrap_or(action.event()),
        effect.note,
        effect.details,
    );
    for (event_type, note, details) in std::iter::once(first).chain(effect.then) {
        ProblemEvent::append(
            conn,
            &NewEvent {
                problem_id: problem.id,
                event_type,
                actor_id: Some(acting.caller.user_id),
                actor_role: Some(role.into()),
                at: acting.now,
                note: note.as_deref(),
                details,
            },
        )?;
    }
    Ok(updated)
}

/// Trims a free-text field and checks it is present (when `required`) and not too long.
pub fn note_text(
    field: &'static str,
    text: Option<&str>,
    required: bool,
) -> Result<Option<String>, AppError> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match text {
        None if required => Err(AppError::invalid_field(field, FieldCode::Required, "不能为空")),
        // PostgreSQL cannot store U+0000 (in text nor in the notification's JSON).
        Some(t) if t.contains('\0') => Err(AppError::invalid_field(
            field,
            FieldCode::Invalid,
            "不能包含空字符 (U+0000)",
        )),
        Some(t) if t.chars().count() > MAX_NOTE => Err(AppError::invalid_field(
            field,
            FieldCode::TooLong,
            "不能超过2000字",
        )),
        _ => Ok(text.map(str::to_owned)),
    }
}

/// 分类: the dispatcher confirms the category (and urgency); the lease ends.
pub fn triage(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    category: &str,
    urgency: Option<Urgency>,
) -> Result<Problem, AppError> {
    let (problem, to, role) = check(conn, acting, id, Action::Triage)?;
    let category = Category::find_active(conn, category)?.ok_or_else(|| {
        AppError::new(
            ErrorCode::ProblemUnknownCategory,
            format!("类别 {category} 不存在或已停用"),
        )
    })?;
    let urgency = urgency.unwrap_or(problem.urgency);
    let effect = Effect {
        change: ProblemChange {
            category: Some(Some(&category.code)),
            urgency: Some(urgency),
            triaged_at: Some(acting.now),
            ..ProblemChange::default()
        }
        .release(),
        note: Some(format!("类别：{}", category.name)),
        details: Some(json!({
            "category": category.code,
            "urgency": urgency,
            "suggested_category": problem.suggested_category,
        })),
        ..Effect::default()
    };
    commit(conn, acting, &problem, Action::Triage, to, role, effect)
}

/// Whether a department may be given problems of `region_code`: it sits in that region or
/// above it (a city department serves its counties), or in the dispatcher's own subtree.
fn department_serves(
    conn: &mut PgConnection,
    acting: Acting,
    department: &Unit,
    region_code: &str,
) -> Result<bool, AppError> {
    let above = Region::find(conn, region_code)?
        .is_some_and(|r| r.path.split('/').any(|code| code == department.region_code));
    Ok(above || RegionScope::of(conn, acting.caller)?.contains(conn, &department.region_code)?)
}

fn deadline_details(deadlines: &Deadlines, days: u32) -> Value {
    json!({
        "due_working_days": days,
        "contact_due_at": wire_time(deadlines.contact_due_at),
        "due_at": wire_time(deadlines.due_at),
        "calendar_version": deadlines.calendar_version,
        "calendar_provisional": deadlines.provisional,
    })
}

/// The columns of a new round of deadlines: contact and due dates counted on the stored
/// calendar, escalation starting over.
fn new_round<'a>(
    problem: &Problem,
    deadlines: &Deadlines,
    days: u32,
    now: DateTime<Utc>,
) -> ProblemChange<'a> {
    ProblemChange {
        assigned_at: Some(now),
        due_working_days: Some(days as i32),
        contact_due_at: Some(deadlines.contact_due_at),
        due_at: Some(deadlines.due_at),
        calendar_version: Some(deadlines.calendar_version),
        calendar_provisional: Some(deadlines.provisional),
        contacted_at: Some(None),
        responded_at: Some(None),
        deadline_round: Some(problem.deadline_round + 1),
        escalation_level: Some(0),
        ..ProblemChange::default()
    }
}

/// A co-handling department (协办部门) named at assignment, with its own contact deadline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoHandlerInput {
    pub department_id: Uuid,
    /// Working days to contact the enterprise (default 3, never past the lead's due date).
    pub contact_working_days: Option<u32>,
}

/// Most co-handlers one problem may have.
pub const MAX_CO_HANDLERS: usize = 10;

/// Checks the co-handlers against the lead and each other: known departments that serve the
/// problem's region, none twice, not the lead, contact days in range. Every fault is listed.
fn co_handler_rows(
    conn: &mut PgConnection,
    acting: Acting,
    problem: &Problem,
    lead: Uuid,
    co_handlers: &[CoHandlerInput],
    calendar: &Calendar,
    deadlines: &Deadlines,
) -> Result<Vec<NewCoHandler>, AppError> {
    if co_handlers.len() > MAX_CO_HANDLERS {
        return Err(AppError::invalid_field(
            "co_handlers",
            FieldCode::TooMany,
            "协办部门最多10个",
        ));
    }
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for (i, input) in co_handlers.iter().enumerate() {
        let field = format!("co_handlers[{i}].department_id");
        let department = Unit::find(conn, input.department_id)?.filter(|u| u.kind == UnitKind::Department);
        match department {
            None => errors.push(FieldError::new(
                &field,
                FieldCode::Unknown,
                "协办部门不存在或不是职能部门",
            )),
            Some(d) if !department_serves(conn, acting, &d, &problem.region_code)? => errors.push(
                FieldError::new(&field, FieldCode::Unknown, "协办部门不在您的管辖范围内"),
            ),
            Some(d) if d.id == lead => errors.push(FieldError::new(
                &field,
                FieldCode::Invalid,
                "协办部门不能是牵头部门",
            )),
            Some(d) if rows.iter().any(|r: &NewCoHandler| r.department_id == d.id) => {
                errors.push(FieldError::new(&field, FieldCode::Duplicate, "协办部门重复"))
            }
            Some(d) => {
                let days = input.contact_working_days.unwrap_or(CONTACT_WORKING_DAYS);
                if !(1..=MAX_DUE_WORKING_DAYS).contains(&days) {
                    errors.push(FieldError::new(
                        &format!("co_handlers[{i}].contact_working_days"),
                        FieldCode::OutOfRange,
                        "联系时限应为1–250个工作日",
                    ));
                    continue;
                }
                rows.push(NewCoHandler {
                    department_id: d.id,
                    contact_working_days: days as i32,
                    contact_due_at: deadline::contact_due(calendar, acting.now, days, deadlines.due_at),
                    due_at: deadlines.due_at,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(AppError::invalid(errors))
    }
}

/// 交办: to a lead department (牵头) with deadlines in working days (the dispatcher's, or the
/// category's policy for the problem's urgency), and any co-handling departments (协办), each
/// with its own contact deadline; every one hears of it through the outbox.
pub fn assign(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    department_id: Uuid,
    due_working_days: Option<u32>,
    instructions: Option<&str>,
    co_handlers: &[CoHandlerInput],
) -> Result<Problem, AppError> {
    let (problem, to, role) = check(conn, acting, id, Action::Assign)?;
    let instructions = note_text("instructions", instructions, false)?;
    let department = Unit::find(conn, department_id)?
        .filter(|u| u.kind == UnitKind::Department)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::ProblemUnknownDepartment,
                "承办部门不存在或不是职能部门",
            )
        })?;
    if !department_serves(conn, acting, &department, &problem.region_code)? {
        return Err(AppError::new(
            ErrorCode::ProblemUnknownDepartment,
            "承办部门不存在或不在您的管辖范围内",
        ));
    }
    let code = problem.category.clone().unwrap_or_default();
    let category = Category::find(conn, &code)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("triaged problem {id} has no category")))?;
    let urgency = problem.urgency;
    let days = match due_working_days {
        Some(days) if !(1..=MAX_DUE_WORKING_DAYS).contains(&days) => {
            return Err(AppError::invalid_field(
                "due_working_days",
                FieldCode::OutOfRange,
                "办理时限应为1–250个工作日",
            ))
        }
        Some(days) => days,
        None => category.due_working_days(urgency),
    };
    let calendar = CalendarYear::load(conn)?;
    let deadlines = deadline::on_assignment(&calendar, acting.now, days);
    let co_rows = co_handler_rows(
        conn,
        acting,
        &problem,
        department.id,
        co_handlers,
        &calendar,
        &deadlines,
    )?;
    // Numbered last, after every check: a refused assignment takes no number.
    let number = match &problem.number {
        Some(_) => None,
        None => Some(Problem::next_number(
            conn,
            &problem.region_code,
            local_day(acting.now).year(),
        )?),
    };
    let co_handlers = CoHandler::insert_all(conn, problem.id, acting.now, &co_rows)?;
    let mut details = deadline_details(&deadlines, days);
    details["department_id"] = json!(department.id);
    details["co_handlers"] = co_handlers
        .iter()
        .map(|c| json!({ "department_id": c.department_id, "contact_due_at": wire_time(c.contact_due_at) }))
        .collect();
    let effect = Effect {
        change: ProblemChange {
            department_id: Some(department.id),
            instructions: Some(instructions.as_deref()),
            number: number.as_deref(),
            ..new_round(&problem, &deadlines, days, acting.now)
        }
        .release(),
        note: Some(match &instructions {
            Some(text) => format!("交办{}：{}", department.name, text),
            None => format!("交办{}", department.name),
        }),
        details: Some(details.clone()),
        ..Effect::default()
    };
    let assigned = commit(conn, acting, &problem, Action::Assign, to, role, effect)?;
    events::assigned(conn, &assigned, acting.now)?;
    for co in &co_handlers {
        events::co_assigned(conn, &assigned, co, acting.now)?;
    }
    Ok(assigned)
}

/// 合并: a duplicate folds into another open problem of the dispatcher's region (共性问题).
pub fn merge(conn: &mut PgConnection, acting: Acting, id: Uuid, into_id: Uuid) -> Result<Problem, AppError> {
    let (problem, to, role) = check(conn, acting, id, Action::Merge)?;
    let target_invalid = || {
        AppError::new(
            ErrorCode::ProblemMergeTargetInvalid,
            "只能合并到本辖区内另一个未办结的问题",
        )
    };
    if into_id == id {
        return Err(target_invalid());
    }
    let target = Problem::lock(conn, into_id)?.ok_or_else(target_invalid)?;
    if !target.status.is_open()
        || !RegionScope::of(conn, acting.caller)?.contains(conn, &target.region_code)?
    {
        return Err(target_invalid());
    }
    let effect = Effect {
        change: ProblemChange {
            merged_into_id: Some(target.id),
            ..ProblemChange::default()
        }
        .release(),
        // Each timeline is read by its own enterprise: neither names the other's problem.
        note: Some("与同类问题合并，由驻企办统一交办".to_owned()),
        details: Some(json!({ "into_id": target.id })),
        ..Effect::default()
    };
    let merged = commit(conn, acting, &problem, Action::Merge, to, role, effect)?;
    ProblemEvent::append(
        conn,
        &NewEvent {
            problem_id: target.id,
            event_type: EventKind::MergedIn,
            actor_id: Some(acting.caller.user_id),
            actor_role: Some(role.into()),
            at: acting.now,
            note: Some("合并了一个同类问题"),
            details: Some(json!({ "from_id": problem.id })),
        },
    )?;
    Ok(merged)
}

/// 签收: the department takes the problem; signing for it counts as contacting the enterprise.
pub fn accept(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    note: Option<&str>,
) -> Result<Problem, AppError> {
    let (problem, to, role) = check(conn, acting, id, Action::Accept)?;
    let note = note_text("note", note, false)?;
    let effect = Effect {
        change: ProblemChange {
            contacted_at: Some(Some(problem.contacted_at.unwrap_or(acting.now))),
            ..ProblemChange::default()
        },
        note,
        ..Effect::default()
    };
    commit(conn, acting, &problem, Action::Accept, to, role, effect)
}

/// 退回: not this department's remit; back in the hub's queue with the reason.
pub fn give_back(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    reason: Option<&str>,
) -> Result<Problem, AppError> {
    let (problem, to, role) = check(conn, acting, id, Action::Return)?;
    let reason = note_text("reason", reason, true)?;
    events::returned(conn, &problem, reason.as_deref().unwrap_or_default(), acting.now)?;
    // Back in the queue, the problem waits for a new assignment, co-handlers and all.
    CoHandler::end_assignment(conn, problem.id)?;
    let effect = Effect {
        note: reason,
        details: Some(json!({ "department_id": problem.department_id })),
        ..Effect::default()
    };
    commit(conn, acting, &problem, Action::Return, to, role, effect)
}

/// The benefits a response states, checked (422 naming each bad part under `benefits`).
fn stated_benefits(benefits: Option<&Benefits>) -> Result<Option<Benefits>, AppError> {
    match benefits {
        None => Ok(None),
        Some(b) => b.validate("benefits").map_err(AppError::invalid),
    }
}

/// 反馈: the department's result, with what it was worth (惠企成效) when stated.
pub fn respond(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    resolution: Option<&str>,
    outcome: ResponseOutcome,
    benefits: Option<&Benefits>,
) -> Result<Problem, AppError> {
    let outcome = Outcome::from(outcome);
    let (problem, to, role) = check(conn, acting, id, Action::Respond)?;
    let resolution = note_text("resolution", resolution, true)?;
    let benefits = stated_benefits(benefits)?;
    // The lead answers for all: after every co-handler's opinion (or return).
    let co_handlers = CoHandler::of_problem(conn, problem.id)?;
    let pending: Vec<&str> = co_handlers
        .iter()
        .filter(|(c, _)| c.status.pending())
        .map(|(_, name)| name.as_str())
        .collect();
    if !pending.is_empty() {
        return Err(AppError::with_details(
            ErrorCode::ProblemCoOpinionsPending,
            format!("协办部门尚未提交会办意见：{}", pending.join("、")),
            json!({ "departments": co_handlers.iter().filter(|(c, _)| c.status.pending()).map(|(c, _)| c.department_id).collect::<Vec<_>>() }),
        ));
    }
    let effect = Effect {
        change: ProblemChange {
            responded_at: Some(Some(acting.now)),
            outcome: Some(Some(outcome)),
            resolution: Some(resolution.as_deref()),
            ..ProblemChange::default()
        }
        .with_benefits(benefits.as_ref()),
        note: resolution.clone(),
        details: Some(json!({
            "outcome": outcome.as_str(),
            "on_time": problem.due_at.is_none_or(|due| acting.now <= due),
            "co_opinions": co_handlers
                .iter()
                .filter(|(c, _)| c.status == CoStatus::Opined)
                .map(|(c, _)| c.department_id)
                .collect::<Vec<_>>(),
        })),
        ..Effect::default()
    };
    let responded = commit(conn, acting, &problem, Action::Respond, to, role, effect)?;
    events::responded(conn, &responded, outcome, acting.now)?;
    Ok(responded)
}

/// 现场答复: the officer solved it on the spot; closed without the hub.
pub fn resolve_on_site(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    resolution: Option<&str>,
    benefits: Option<&Benefits>,
) -> Result<Problem, AppError> {
    let (problem, to, role) = check(conn, acting, id, Action::ResolveOnSite)?;
    let resolution = note_text("resolution", resolution, true)?;
    let benefits = stated_benefits(benefits)?;
    let effect = Effect {
        change: ProblemChange {
            responded_at: Some(Some(acting.now)),
            closed_at: Some(acting.now),
            outcome: Some(Some(Outcome::ResolvedOnSite)),
            resolution: Some(resolution.as_deref()),
            ..ProblemChange::default()
        }
        .with_benefits(benefits.as_ref())
        .release(),
        note: resolution.clone(),
        ..Effect::default()
    };
    commit(conn, acting, &problem, Action::ResolveOnSite, to, role, effect)
}

/// 评价: the enterprise or its officer rates the response. Dissatisfied sends it back to the
/// same department under new deadlines.
pub fn evaluate(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    rating: Rating,
    comment: Option<&str>,
) -> Result<Problem, AppError> {
    let action = Action::Evaluate(rating);
    let (problem, to, role) = check(conn, acting, id, action)?;
    let comment = note_text("comment", comment, false)?;
    let mut effect = Effect {
        change: ProblemChange {
            rating: Some(Some(rating)),
            rating_comment: Some(comment.as_deref()),
            evaluated_at: Some(Some(acting.now)),
            ..ProblemChange::default()
        },
        note: comment.clone(),
        details: Some(json!({ "rating": rating.as_str() })),
        ..Effect::default()
    };
    if rating == Rating::Dissatisfied {
        let days = problem.due_working_days.map_or(1, |d| d.max(1) as u32);
        let calendar = CalendarYear::load(conn)?;
        let deadlines = deadline::on_assignment(&calendar, acting.now, days);
        effect.change = ProblemChange {
            reopen_count: Some(problem.reopen_count + 1),
            ..new_round(&problem, &deadlines, days, acting.now)
        };
        effect.change.rating = Some(Some(rating));
        effect.change.rating_comment = Some(comment.as_deref());
        effect.change.evaluated_at = Some(Some(acting.now));
        effect.then.push((
            EventKind::Reopened,
            Some("企业不满意，退回原承办部门重新办理".to_owned()),
            Some(deadline_details(&deadlines, days)),
        ));
    }
    commit(conn, acting, &problem, action, to, role, effect)
}

/// 销号: the hub closes a rated problem, or one whose response waited five working days
/// without a rating.
pub fn close(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    note: Option<&str>,
) -> Result<Problem, AppError> {
    let current = Problem::find(conn, id)?.ok_or(AppError::NotFound)?;
    let calendar = CalendarYear::load(conn)?;
    let unrated_window_over = current
        .responded_at
        .is_some_and(|at| deadline::unrated_window_over(&calendar, at, acting.now));
    let action = Action::Close { unrated_window_over };
    let (problem, to, role) = check(conn, acting, id, action)?;
    let note = note_text("note", note, false)?;
    let effect = Effect {
        change: ProblemChange {
            closed_at: Some(acting.now),
            ..ProblemChange::default()
        },
        note,
        details: Some(json!({ "rated": problem.rating.is_some() })),
        ..Effect::default()
    };
    commit(conn, acting, &problem, action, to, role, effect)
}

/// 延期申请: the department asks for a later due date; one request may be pending at a time.
pub fn request_extension(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    requested_due_at: DateTime<Utc>,
    reason: Option<&str>,
) -> Result<Problem, AppError> {
    let (problem, to, role) = check(conn, acting, id, Action::RequestExtension)?;
    let reason = note_text("reason", reason, true)?.unwrap_or_default();
    let due_at = problem.due_at.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("problem {id} with a department has no due date"))
    })?;
    if requested_due_at <= due_at {
        return Err(AppError::invalid_field(
            "requested_due_at",
            FieldCode::OutOfRange,
            "申请的新时限应晚于当前办理时限",
        ));
    }
    let extension = Extension::request(
        conn,
        &NewExtension {
            problem_id: id,
            requested_by: acting.caller.user_id,
            at: acting.now,
            previous_due_at: due_at,
            requested_due_at,
            reason: &reason,
        },
    )?
    .ok_or_else(|| AppError::new(ErrorCode::ExtensionPending, "已有待审批的延期申请"))?;
    events::extension_requested(conn, &problem, requested_due_at, &reason, acting.now)?;
    let effect = Effect {
        note: Some(reason),
        details: Some(json!({
            "extension_id": extension.id,
            "requested_due_at": wire_time(requested_due_at),
            "previous_due_at": wire_time(due_at),
        })),
        ..Effect::default()
    };
    commit(conn, acting, &problem, Action::RequestExtension, to, role, effect)
}

/// 延期审批: the dispatcher approves (the due date moves) or refuses the pending request.
pub fn decide_extension(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    approve: bool,
    note: Option<&str>,
) -> Result<Problem, AppError> {
    let (problem, to, role) = check(conn, acting, id, Action::DecideExtension)?;
    let note = note_text("note", note, false)?;
    let pending = Extension::pending(conn, id)?
        .ok_or_else(|| AppError::new(ErrorCode::ExtensionNonePending, "该问题没有待审批的延期申请"))?;
    let decided = Extension::decide(
        conn,
        pending.id,
        approve,
        acting.caller.user_id,
        acting.now,
        note.as_deref(),
    )?;
    let effect = Effect {
        change: ProblemChange {
            due_at: approve.then_some(decided.requested_due_at),
            ..ProblemChange::default()
        },
        event: Some(if approve {
            EventKind::ExtensionApproved
        } else {
            EventKind::ExtensionRefused
        }),
        note,
        details: Some(json!({
            "extension_id": decided.id,
            "requested_due_at": wire_time(decided.requested_due_at),
            "previous_due_at": wire_time(decided.previous_due_at),
        })),
        ..Effect::default()
    };
    let decided = commit(conn, acting, &problem, Action::DecideExtension, to, role, effect)?;
    events::extension_decided(conn, &decided, approve, acting.now)?;
    Ok(decided)
}

/// A co-handling department's action (签收、会办意见、退回) on its part of a problem: 404 when
/// the caller cannot see the problem, 403 when their department is not one of its
/// co-handlers, 409 from the wrong state (theirs, or the problem no longer with departments).
pub fn co_handle(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    action: CoAction,
    text: Option<&str>,
) -> Result<Problem, AppError> {
    let problem = Problem::lock(conn, id)?.ok_or(AppError::NotFound)?;
    if !scope::can_see_problem(conn, acting.caller, &problem)? {
        return Err(AppError::NotFound);
    }
    let part = match (acting.caller.has(Role::Department), acting.caller.unit_id) {
        (true, Some(unit)) => CoHandler::lock(conn, id, unit)?,
        _ => None,
    };
    let part =
        part.ok_or_else(|| AppError::new(ErrorCode::ProblemNotAllowed, "您所在部门不是该问题的协办部门"))?;
    let to = co_transition(part.status, action)
        .filter(|_| problem.status.with_department())
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::ProblemInvalidTransition,
                format!(
                    "协办状态为“{}”，问题状态为“{}”，不能执行此操作 (invalid transition)",
                    part.status.label(),
                    problem.status
                ),
            )
        })?;
    let text = match action {
        CoAction::Accept => note_text("note", text, false)?,
        CoAction::Opine => note_text("opinion", text, true)?,
        CoAction::Return => note_text("reason", text, true)?,
    };
    let contacted = Some(part.contacted_at.unwrap_or(acting.now));
    let (change, event) = match action {
        CoAction::Accept => (
            CoChange {
                status: Some(to),
                contacted_at: contacted,
                ..CoChange::default()
            },
            EventKind::CoAccepted,
        ),
        CoAction::Opine => (
            CoChange {
                status: Some(to),
                contacted_at: contacted,
                opinion: text.as_deref(),
                opined_at: Some(acting.now),
                ..CoChange::default()
            },
            EventKind::CoOpinion,
        ),
        CoAction::Return => (
            CoChange {
                status: Some(to),
                return_reason: text.as_deref(),
                returned_at: Some(acting.now),
                ..CoChange::default()
            },
            EventKind::CoReturned,
        ),
    };
    let part = CoHandler::apply(conn, part.id, &change)?;
    let on_time = match action {
        CoAction::Accept => Some(acting.now <= part.contact_due_at),
        CoAction::Opine => Some(acting.now <= part.due_at),
        CoAction::Return => None,
    };
    ProblemEvent::append(
        conn,
        &NewEvent {
            problem_id: problem.id,
            event_type: event,
            actor_id: Some(acting.caller.user_id),
            actor_role: Some(Role::Department.into()),
            at: acting.now,
            note: text.as_deref(),
            details: Some(json!({ "department_id": part.department_id, "on_time": on_time })),
        },
    )?;
    if action == CoAction::Return {
        events::co_returned(
            conn,
            &problem,
            &part,
            text.as_deref().unwrap_or_default(),
            acting.now,
        )?;
    }
    Ok(problem)
}
