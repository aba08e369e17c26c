//! 问题/诉求: filing a problem into the hub's queue and reading problems within one's scope.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{get, post, Endpoint, ListResponse, PageParams};
use crate::auth::scope;
use crate::auth::AuthUser;
use crate::cache::counters::{self, Metric};
use crate::clock::{local_day, wire_time};
use crate::db;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::problem::{Filing, Problem, ProblemEvent, ProblemFilter};
use crate::db::models::region::Region;
use crate::db::models::Page;
use crate::domain::problem::NewProblemInput;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::idempotency::{self, Idempotency, Stored};
use crate::roster::save::invalid_fields;
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/problems", web::post().to(create_problem)),
        get("/api/v1/problems", web::get().to(list_problems)),
        get("/api/v1/problems/{id}", web::get().to(get_problem)),
    ]
}

#[derive(Debug, Serialize)]
struct EventDto {
    #[serde(rename = "type")]
    event_type: String,
    actor_id: Option<Uuid>,
    actor_role: Option<String>,
    at: DateTime<FixedOffset>,
    note: Option<String>,
}

#[derive(Debug, Serialize)]
struct ProblemDto {
    id: Uuid,
    enterprise_id: Uuid,
    region_code: String,
    title: String,
    description: String,
    /// The category the reporter chose, if any; the hub confirms one at triage.
    category: Option<String>,
    /// The classifier's guess and its confidence (filled in by the hub's classifier).
    suggested_category: Option<String>,
    confidence: Option<f64>,
    urgency: String,
    departments_requested: Vec<Uuid>,
    status: String,
    reporter_id: Uuid,
    reporter_role: String,
    source_report_id: Option<Uuid>,
    /// Set when the hub assigns the problem to a department.
    department_id: Option<Uuid>,
    contact_due_at: Option<DateTime<FixedOffset>>,
    due_at: Option<DateTime<FixedOffset>>,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
    /// Every event, oldest first (only on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<Vec<EventDto>>,
}

fn dto(p: Problem, timeline: Option<Vec<ProblemEvent>>) -> ProblemDto {
    ProblemDto {
        id: p.id,
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
        department_id: None,
        contact_due_at: None,
        due_at: None,
        created_at: wire_time(p.created_at),
        updated_at: wire_time(p.updated_at),
        timeline: timeline.map(|events| {
            events
                .into_iter()
                .map(|e| EventDto {
                    event_type: e.event_type,
                    actor_id: e.actor_id,
                    actor_role: e.actor_role,
                    at: wire_time(e.at),
                    note: e.note,
                })
                .collect()
        }),
    }
}

/// Files a problem for an enterprise: officers for the enterprises they look after today,
/// enterprise contacts for their own. 201 with the problem in state `submitted`.
async fn create_problem(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    if !caller.has(Role::Officer) && !caller.has(Role::Enterprise) {
        return Err(AppError::forbidden(
            "auth.role_required",
            "只有联络员和企业联系人可以提交问题",
        ));
    }
    // `deny_unknown_fields` does not combine with `flatten`, so the two parts are read apart.
    let mut object = body.into_inner();
    let enterprise_id = object
        .as_object_mut()
        .and_then(|o| o.remove("enterprise_id"))
        .ok_or_else(|| AppError::bad_request("request.invalid_body", "缺少 enterprise_id"))?;
    let enterprise_id: Uuid = serde_json::from_value(enterprise_id)
        .map_err(|e| AppError::bad_request("request.invalid_body", format!("enterprise_id：{e}")))?;
    let input: NewProblemInput = serde_json::from_value(object)
        .map_err(|e| AppError::bad_request("request.invalid_body", format!("请求内容字段有误：{e}")))?;
    let problem = input.validate().map_err(invalid_fields)?;
    let now = state.clock.now();
    let (stored, region_path) = db::run(&state.pool, move |conn| {
        let mut region_path = None;
        let stored = idempotency::within(conn, &idempotency, now, |conn| {
            let (enterprise, path, assigned) =
                Enterprise::for_officer(conn, enterprise_id, caller.user_id, local_day(now))?
                    .ok_or(AppError::NotFound)?;
            let own_enterprise = caller.has(Role::Enterprise) && caller.enterprise_id == Some(enterprise_id);
            let assigned = assigned && caller.has(Role::Officer);
            if !own_enterprise && !assigned {
                return Err(AppError::forbidden(
                    "problem.not_your_enterprise",
                    "只能为您包联或所属的企业提交问题",
                ));
            }
            let reporter_role = if assigned { Role::Officer } else { Role::Enterprise };
            let filing = Filing {
                enterprise_id,
                region_code: &enterprise.region_code,
                reporter_id: caller.user_id,
                reporter_role: reporter_role.as_str(),
                source_report_id: None,
                at: now,
            };
            let filed = Problem::file(conn, &filing, &problem)?.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("a problem without a report cannot conflict"))
            })?;
            region_path = Some(path);
            let timeline = ProblemEvent::timeline(conn, filed.id)?;
            Stored::json(StatusCode::CREATED, &dto(filed, Some(timeline)))
        })?;
        Ok((stored, region_path))
    })
    .await?;
    if let Some(path) = region_path.filter(|_| !stored.replayed) {
        counters::bump_after_commit(&state.cache, path, local_day(now), vec![(Metric::Problems, 1)]);
    }
    Ok(stored.into_response())
}

#[derive(Deserialize)]
struct ProblemQuery {
    status: Option<String>,
    category: Option<String>,
    enterprise_id: Option<Uuid>,
    region_code: Option<String>,
}

/// Problems the caller may see, newest first.
async fn list_problems(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ProblemQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let ProblemQuery {
        status,
        category,
        enterprise_id,
        region_code,
    } = query.into_inner();
    let (limit, after) = (page.limit()?, page.time_cursor()?);
    let page = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        let region_path = match region_code {
            // A region outside the caller's own is simply empty for them.
            Some(code) => Some(
                Region::find(conn, &code)?
                    .map(|r| r.path)
                    .unwrap_or_else(|| "-".to_owned()),
            ),
            None => None,
        };
        let filter = ProblemFilter {
            status,
            category,
            enterprise_id,
            region_path,
        };
        let rows = Problem::list(conn, &scope, &filter, after, limit)?;
        Ok(Page::from_rows(rows, limit, |p| {
            super::time_cursor(p.created_at, p.id)
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page.map(|p| dto(p, None)))))
}

/// One problem with its timeline, if the caller's scope reaches it.
async fn get_problem(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let problem = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        let problem = Problem::find(conn, id)?.ok_or(AppError::NotFound)?;
        if !problem.visible_in(conn, &scope)? {
            return Err(AppError::NotFound);
        }
        let timeline = ProblemEvent::timeline(conn, problem.id)?;
        Ok(dto(problem, Some(timeline)))
    })
    .await?;
    Ok(HttpResponse::Ok().json(problem))
}
