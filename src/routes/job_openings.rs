//! 用工需求: an enterprise's job openings, kept by the officer stationed there today or by the
//! enterprise's contact; read by whoever may read the enterprise; summed and exported for the
//! human-resources bureau.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::exports::xlsx_response;
use super::{get, post, put, Endpoint, PageParams};
use crate::auth::scope;
use crate::auth::{AuthUser, Caller};
use crate::clock::wire_time;
use crate::db;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::job_opening::{EnterpriseLine, JobOpening};
use crate::domain::job_opening::{JobOpeningInput, JobStatus, JobType};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::exports;
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;
use crate::stats::jobs::{self, JobStats};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get(
            "/api/v1/enterprises/{id}/job-openings",
            web::get().to(job_opening_list),
        ),
        post(
            "/api/v1/enterprises/{id}/job-openings",
            web::post().to(job_opening_create),
        ),
        put("/api/v1/job-openings/{id}", web::put().to(job_opening_replace)),
        get("/api/v1/stats/jobs", web::get().to(stats_jobs)),
        get(
            "/api/v1/exports/job-openings.xlsx",
            web::get().to(job_opening_export),
        ),
    ]
}

#[derive(Serialize)]
struct JobOpeningDto {
    id: Uuid,
    enterprise_id: Uuid,
    region_code: String,
    job_type: JobType,
    job_type_label: &'static str,
    title: Option<String>,
    positions: i32,
    filled: i32,
    to_fill: i32,
    status: JobStatus,
    wage_min: Option<i32>,
    wage_max: Option<i32>,
    deadline: Option<NaiveDate>,
    withdrawn: bool,
    note: Option<String>,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
}

impl From<JobOpening> for JobOpeningDto {
    fn from(o: JobOpening) -> Self {
        JobOpeningDto {
            job_type_label: o.job_type.label(),
            to_fill: o.positions - o.filled,
            status: JobStatus::of(o.positions, o.filled, o.withdrawn),
            id: o.id,
            enterprise_id: o.enterprise_id,
            region_code: o.region_code,
            job_type: o.job_type,
            title: o.title,
            positions: o.positions,
            filled: o.filled,
            wage_min: o.wage_min,
            wage_max: o.wage_max,
            deadline: o.deadline,
            withdrawn: o.withdrawn,
            note: o.note,
            created_at: wire_time(o.created_at),
            updated_at: wire_time(o.updated_at),
        }
    }
}

/// The enterprise whose openings the caller keeps: its officer today or its contact. One the
/// caller may read but not keep is 403; one they may not read is absent.
fn kept_enterprise(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    today: NaiveDate,
) -> Result<Enterprise, AppError> {
    let enterprise = scope::visible_enterprise(conn, caller, id)?;
    let contact = caller.has(Role::Enterprise) && caller.enterprise_id == Some(id);
    let officer = caller.has(Role::Officer) && scope::assigned_on(conn, caller.user_id, id, today)?;
    if contact || officer {
        Ok(enterprise)
    } else {
        Err(AppError::new(
            ErrorCode::AuthRoleRequired,
            "用工需求由当日包联该企业的联络员或企业联系人维护",
        ))
    }
}

fn validated(body: &JobOpeningInput) -> Result<JobOpeningInput, AppError> {
    body.validate().map_err(AppError::invalid)
}

/// The enterprise's openings, newest first (withdrawn ones too).
async fn job_opening_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let openings = db::run(&state.pool, move |conn| {
        scope::visible_enterprise(conn, &caller, id)?;
        Ok(JobOpening::of_enterprise(conn, id)?)
    })
    .await?;
    let items: Vec<JobOpeningDto> = openings.into_iter().map(JobOpeningDto::from).collect();
    Ok(HttpResponse::Ok().json(page.slice(items)?))
}

/// A new opening of the enterprise (201).
async fn job_opening_create(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<JobOpeningInput>,
) -> Result<HttpResponse, AppError> {
    let (id, body, now, today) = (
        id.into_inner(),
        body.into_inner(),
        state.clock.now(),
        state.clock.today(),
    );
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let enterprise = kept_enterprise(conn, &caller, id, today)?;
            let input = validated(&body)?;
            let opening = JobOpening::insert(conn, id, &enterprise.region_code, &input, caller.user_id, now)?;
            Stored::json(StatusCode::CREATED, &JobOpeningDto::from(opening))
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// The opening replaced whole: its counts kept current, withdrawn, or corrected.
async fn job_opening_replace(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<JobOpeningInput>,
) -> Result<HttpResponse, AppError> {
    let (id, body, now, today) = (
        id.into_inner(),
        body.into_inner(),
        state.clock.now(),
        state.clock.today(),
    );
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let opening = JobOpening::lock(conn, id)?.ok_or(AppError::NotFound)?;
            kept_enterprise(conn, &caller, opening.enterprise_id, today)?;
            let input = validated(&body)?;
            let opening = JobOpening::replace(conn, id, &input, caller.user_id, now)?;
            Stored::json(StatusCode::OK, &JobOpeningDto::from(opening))
        })
    })
    .await?;
    Ok(stored.into_response())
}

#[derive(Deserialize)]
struct JobsQuery {
    #[serde(default, deserialize_with = "crate::routes::params::region_code")]
    region_code: Option<String>,
}

/// The openings of the region asked for (the caller's own by default, or one inside it).
fn region_openings(
    conn: &mut PgConnection,
    caller: &Caller,
    query: &JobsQuery,
) -> Result<(String, Vec<(JobOpening, EnterpriseLine)>), AppError> {
    let region = scope::services_region(conn, caller, query.region_code.as_deref())?;
    let openings = JobOpening::in_region(conn, &region.path)?;
    Ok((region.code, openings))
}

/// 用工需求 summed by job type, industry and region, as they stand.
async fn stats_jobs(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<JobsQuery>,
) -> Result<HttpResponse, AppError> {
    let (code, openings) = db::run(&state.bulk_pool, move |conn| {
        region_openings(conn, &caller, &query)
    })
    .await?;
    let stats: JobStats = jobs::job_stats(&code, &openings);
    Ok(HttpResponse::Ok().json(stats))
}

/// 用工需求台账.
async fn job_opening_export(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<JobsQuery>,
) -> Result<HttpResponse, AppError> {
    let (code, openings) = db::run(&state.bulk_pool, move |conn| {
        region_openings(conn, &caller, &query)
    })
    .await?;
    let workbook = web::block(move || exports::job_openings::export(&openings))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    Ok(xlsx_response(&format!("job-openings-{code}.xlsx"), workbook))
}
