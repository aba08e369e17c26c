//! 问题/诉求: filing a problem into the hub's queue and reading problems within one's scope.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{get, post, Endpoint, ListResponse, PageParams};
use crate::auth::extractors::AuthReporter;
use crate::auth::scope;
use crate::auth::{AnyRole, AuthUser};
use crate::cache::counters::{self, Metric};
use crate::clock::{local_day, wire_time};
use crate::db;
use crate::db::models::co_handler::CoHandler;
use crate::db::models::extension::Extension;
use crate::db::models::problem::{Problem, ProblemEvent, ProblemFilter};
use crate::db::models::region::Region;
use crate::db::models::task_force::TaskForce;
use crate::db::models::Page;
use crate::domain::benefit::Benefits;
use crate::domain::co_handling::CoStatus;
use crate::domain::lifecycle::{ActorRole, EventKind, ExtensionStatus, Outcome, Rating, Status};
use crate::domain::problem::{NewProblemInput, Urgency};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::hub::queue::Similar;
use crate::idempotency::{self, Idempotency, Stored};
use crate::problems::{self, ProblemFiling};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/problems", web::post().to(problem_create)),
        get("/api/v1/problems", web::get().to(problem_list)),
        get("/api/v1/problems/{id}", web::get().to(problem_get)),
    ]
}

#[derive(Debug, Serialize)]
pub struct EventDto {
    #[serde(rename = "type")]
    event_type: EventKind,
    actor_id: Option<Uuid>,
    actor_role: Option<ActorRole>,
    at: DateTime<FixedOffset>,
    note: Option<String>,
    details: Option<serde_json::Value>,
}

/// A task force as a problem names it.
#[derive(Debug, Serialize)]
pub struct TaskForceRef {
    id: Uuid,
    name: String,
}

/// A co-handling department's part (协办), as single reads show it.
#[derive(Debug, Serialize)]
pub struct CoHandlerDto {
    department_id: Uuid,
    department_name: String,
    status: CoStatus,
    assigned_at: DateTime<FixedOffset>,
    contact_working_days: i32,
    contact_due_at: DateTime<FixedOffset>,
    /// The opinion is due with the lead's response.
    due_at: DateTime<FixedOffset>,
    contacted_at: Option<DateTime<FixedOffset>>,
    opinion: Option<String>,
    opined_at: Option<DateTime<FixedOffset>>,
    return_reason: Option<String>,
    returned_at: Option<DateTime<FixedOffset>>,
    escalation_level: i16,
}

impl From<(CoHandler, String)> for CoHandlerDto {
    fn from((c, department_name): (CoHandler, String)) -> Self {
        Self {
            department_id: c.department_id,
            department_name,
            status: c.status,
            assigned_at: wire_time(c.assigned_at),
            contact_working_days: c.contact_working_days,
            contact_due_at: wire_time(c.contact_due_at),
            due_at: wire_time(c.due_at),
            contacted_at: c.contacted_at.map(wire_time),
            opinion: c.opinion,
            opined_at: c.opined_at.map(wire_time),
            return_reason: c.return_reason,
            returned_at: c.returned_at.map(wire_time),
            escalation_level: c.escalation_level,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ExtensionDto {
    id: Uuid,
    requested_by: Uuid,
    requested_at: DateTime<FixedOffset>,
    previous_due_at: DateTime<FixedOffset>,
    requested_due_at: DateTime<FixedOffset>,
    reason: String,
    status: ExtensionStatus,
    decided_by: Option<Uuid>,
    decided_at: Option<DateTime<FixedOffset>>,
    decision_note: Option<String>,
}

impl From<Extension> for ExtensionDto {
    fn from(e: Extension) -> Self {
        Self {
            id: e.id,
            requested_by: e.requested_by,
            requested_at: wire_time(e.requested_at),
            previous_due_at: wire_time(e.previous_due_at),
            requested_due_at: wire_time(e.requested_due_at),
            reason: e.reason,
            status: e.status,
            decided_by: e.decided_by,
            decided_at: e.decided_at.map(wire_time),
            decision_note: e.decision_note,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ProblemDto {
    id: Uuid,
    /// 交办编号, from the first assignment on.
    number: Option<String>,
    enterprise_id: Uuid,
    region_code: String,
    title: String,
    description: String,
    /// The reporter's choice until triage; then the hub's confirmed category.
    category: Option<String>,
    /// The classifier's guess and its confidence (0–1).
    suggested_category: Option<String>,
    confidence: Option<f64>,
    urgency: Urgency,
    departments_requested: Vec<Uuid>,
    status: Status,
    reporter_id: Uuid,
    reporter_role: Role,
    source_report_id: Option<Uuid>,
    triaged_at: Option<DateTime<FixedOffset>>,
    /// A dispatcher's lease on the queue item, while it lasts.
    lease_holder_id: Option<Uuid>,
    lease_expires_at: Option<DateTime<FixedOffset>>,
    department_id: Option<Uuid>,
    assigned_at: Option<DateTime<FixedOffset>>,
    instructions: Option<String>,
    due_working_days: Option<i32>,
    contact_due_at: Option<DateTime<FixedOffset>>,
    due_at: Option<DateTime<FixedOffset>>,
    calendar_version: Option<i64>,
    calendar_provisional: bool,
    contacted_at: Option<DateTime<FixedOffset>>,
    responded_at: Option<DateTime<FixedOffset>>,
    outcome: Option<Outcome>,
    resolution: Option<String>,
    /// What the response was worth (惠企成效), when stated.
    benefits: Option<Benefits>,
    rating: Option<Rating>,
    rating_comment: Option<String>,
    evaluated_at: Option<DateTime<FixedOffset>>,
    closed_at: Option<DateTime<FixedOffset>>,
    merged_into_id: Option<Uuid>,
    reopen_count: i32,
    escalation_level: i16,
    /// With its department and past its due date.
    overdue: bool,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
    /// Every event, oldest first (only on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<Vec<EventDto>>,
    /// Deadline extension requests, oldest first (only on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<Vec<ExtensionDto>>,
    /// The co-handling departments (协办) of the current assignment, in the order named (only
    /// on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    co_handlers: Option<Vec<CoHandlerDto>>,
    /// The task force (专班) owning its enterprise, `null` for none (only on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    task_force: Option<Option<TaskForceRef>>,
    /// Similar open problems of other enterprises (only in the hub's queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    similar: Option<Vec<Similar>>,
}

impl ProblemDto {
    /// The problem as lists show it.
    pub fn summary(p: Problem, now: DateTime<Utc>) -> ProblemDto {
        let with_department = p.status.with_department();
        let leased = p.lease_expires_at.is_some_and(|until| until > now);
        ProblemDto {
            overdue: with_department && p.due_at.is_some_and(|due| due < now),
            benefits: p.benefits(),
            id: p.id,
            number: p.number,
            enterprise_id: p.enterprise_id,
            region_code: p.region_code,
            title: p.title,
            description: p.description,
            category: p.category,
            suggested_category: p.suggested_category,
            confidence: p.confidence,
            urgency: p.urgency,
            departments_requested: p.departments_requested,
            status: p.status,
            reporter_id: p.reporter_id,
            reporter_role: p.reporter_role,
            source_report_id: p.source_report_id,
            triaged_at: p.triaged_at.map(wire_time),
            lease_holder_id: p.lease_holder_id.filter(|_| leased),
            lease_expires_at: p.lease_expires_at.filter(|_| leased).map(wire_time),
            department_id: p.department_id,
            assigned_at: p.assigned_at.map(wire_time),
            instructions: p.instructions,
            due_working_days: p.due_working_days,
            contact_due_at: p.contact_due_at.map(wire_time),
            due_at: p.due_at.map(wire_time),
            calendar_version: p.calendar_version,
            calendar_provisional: p.calendar_provisional,
            contacted_at: p.contacted_at.map(wire_time),
            responded_at: p.responded_at.map(wire_time),
            outcome: p.outcome,
            resolution: p.resolution,
            rating: p.rating,
            rating_comment: p.rating_comment,
            evaluated_at: p.evaluated_at.map(wire_time),
            closed_at: p.closed_at.map(wire_time),
            merged_into_id: p.merged_into_id,
            reopen_count: p.reopen_count,
            escalation_level: p.escalation_level,
            created_at: wire_time(p.created_at),
            updated_at: wire_time(p.updated_at),
            timeline: None,
            extensions: None,
            co_handlers: None,
            task_force: None,
            similar: None,
        }
    }

    /// The problem with its timeline and extension requests, as single reads show it.
    pub fn full(conn: &mut PgConnection, p: Problem, now: DateTime<Utc>) -> Result<ProblemDto, AppError> {
        let timeline = ProblemEvent::timeline(conn, p.id)?;
        let extensions = Extension::of_problem(conn, p.id)?;
        let co_handlers = CoHandler::of_problem(conn, p.id)?;
        let task_force = TaskForce::of_enterprise(conn, p.enterprise_id)?.map(|t| TaskForceRef {
            id: t.id,
            name: t.name,
        });
        Ok(ProblemDto {
            timeline: Some(
                timeline
                    .into_iter()
                    .map(|e| EventDto {
                        event_type: e.event_type,
                        actor_id: e.actor_id,
                        actor_role: e.actor_role,
                        at: wire_time(e.at),
                        note: e.note,
                        details: e.details,
                    })
                    .collect(),
            ),
            extensions: Some(extensions.into_iter().map(ExtensionDto::from).collect()),
            co_handlers: Some(co_handlers.into_iter().map(CoHandlerDto::from).collect()),
            task_force: Some(task_force),
            ..ProblemDto::summary(p, now)
        })
    }

    pub fn with_similar(self, similar: Vec<Similar>) -> ProblemDto {
        ProblemDto {
            similar: Some(similar),
            ..self
        }
    }
}

/// The body of `POST /problems`: `enterprise_id` and a `NewProblemInput`. `deny_unknown_fields`
/// does not combine with `flatten`, so the two parts are read apart.
fn filing_body(mut body: serde_json::Value) -> Result<(Uuid, NewProblemInput), AppError> {
    let enterprise_id = body
        .as_object_mut()
        .and_then(|o| o.remove("enterprise_id"))
        .ok_or_else(|| AppError::new(ErrorCode::RequestInvalidBody, "缺少 enterprise_id"))?;
    let enterprise_id = serde_json::from_value(enterprise_id)
        .map_err(|e| AppError::new(ErrorCode::RequestInvalidBody, format!("enterprise_id：{e}")))?;
    let input = serde_json::from_value(body)
        .map_err(|e| AppError::new(ErrorCode::RequestInvalidBody, format!("请求内容字段有误：{e}")))?;
    Ok((enterprise_id, input))
}

/// Files a problem for an enterprise: officers for the enterprises they look after today,
/// enterprise contacts for their own. 201 with the problem in state `submitted`.
async fn problem_create(
    state: web::Data<AppState>,
    AnyRole { caller, .. }: AuthReporter,
    idempotency: Idempotency,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let (enterprise_id, input) = filing_body(body.into_inner())?;
    let problem = input.validate().map_err(AppError::invalid)?;
    let filing = ProblemFiling {
        enterprise_id,
        suggestion: state.classifier.suggest(&problem.description),
        problem,
        now: state.clock.now(),
    };
    let now = filing.now;
    let done = db::run(&state.pool, move |conn| {
        problems::check_category(conn, &filing.problem)?;
        idempotency::once(conn, &idempotency, now, |conn| {
            let (filed, region_path) = problems::file(conn, &caller, &filing)?;
            Ok((
                Stored::json(StatusCode::CREATED, &ProblemDto::full(conn, filed, now)?)?,
                region_path,
            ))
        })
    })
    .await?;
    if let Some(region_path) = done.fresh {
        counters::after_commit(
            &state.cache,
            &region_path,
            local_day(now),
            &[(Metric::Problems, 1)],
        )
        .await;
    }
    Ok(done.stored.into_response())
}

/// The filters of the problem list (and of the problem ledger export).
#[derive(Deserialize, Clone)]
pub(crate) struct ProblemQuery {
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    pub(crate) status: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    pub(crate) category: Option<String>,
    pub(crate) enterprise_id: Option<Uuid>,
    pub(crate) department_id: Option<Uuid>,
    pub(crate) overdue: Option<bool>,
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    pub(crate) region_code: Option<String>,
}

impl ProblemQuery {
    /// Checks the filters and resolves the region to its subtree.
    pub(crate) fn into_filter(
        self,
        conn: &mut PgConnection,
        now: DateTime<Utc>,
    ) -> Result<ProblemFilter, AppError> {
        let status = match self.status.as_deref().map(str::parse::<Status>).transpose() {
            Ok(status) => status,
            Err(unknown) => {
                return Err(AppError::new(
                    ErrorCode::RequestInvalidQuery,
                    format!("未知的状态 {}", unknown.word),
                ))
            }
        };
        let region_path = match self.region_code {
            // A region outside the caller's own is simply empty for them.
            Some(code) => Some(
                Region::find(conn, &code)?
                    .map(|r| r.path)
                    .unwrap_or_else(|| "-".to_owned()),
            ),
            None => None,
        };
        Ok(ProblemFilter {
            status,
            category: self.category,
            enterprise_id: self.enterprise_id,
            department_id: self.department_id,
            overdue_at: self.overdue.map(|overdue| (overdue, now)),
            region_path,
        })
    }
}

/// Problems the caller may see, newest first.
async fn problem_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ProblemQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, after) = (page.limit()?, page.time_cursor()?);
    let now = state.clock.now();
    let page = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        let filter = query.into_inner().into_filter(conn, now)?;
        let rows = Problem::list(conn, &scope, &filter, after, limit)?;
        Ok(Page::from_rows(rows, limit, |p| {
            super::time_cursor(p.created_at, p.id)
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page.map(|p| ProblemDto::summary(p, now)))))
}

/// One problem with its timeline, if the caller's scope reaches it.
async fn problem_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let problem = db::run(&state.pool, move |conn| {
        let problem = Problem::find(conn, id)?.ok_or(AppError::NotFound)?;
        if !scope::can_see_problem(conn, &caller, &problem)? {
            return Err(AppError::NotFound);
        }
        ProblemDto::full(conn, problem, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(problem))
}
