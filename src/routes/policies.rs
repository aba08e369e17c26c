//! 惠企政策: the policy library. Admins write it (one by one, or a file at a time, all or
//! nothing); everyone signed in searches it; an enterprise's readers see the policies that
//! apply to it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::admin::import::{read_file, read_upload};
use super::policy_checkoffs::CheckoffDto;
use super::{get, large_json, post, put, Endpoint, PageParams};
use crate::auth::extractors::AuthAdmin;
use crate::auth::scope::{self, RegionScope};
use crate::auth::{AuthUser, Caller};
use crate::clock::wire_time;
use crate::db;
use crate::db::models::policy::{Policy, PolicyFilter};
use crate::db::models::policy_checkoff::Checkoff;
use crate::db::models::region::Region;
use crate::domain::field_error::FieldError;
use crate::domain::policy::{self, EnterpriseSize, PolicyBenefit, PolicyInput, PolicyLevel};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/admin/policies", web::post().to(policy_create)),
        post("/api/v1/admin/policies/import", web::post().to(policy_import)),
        put("/api/v1/admin/policies/{id}", web::put().to(policy_replace)),
        get("/api/v1/policies", web::get().to(policy_search)),
        get("/api/v1/policies/{id}", web::get().to(policy_get)),
        get(
            "/api/v1/enterprises/{id}/policies",
            web::get().to(enterprise_policies),
        ),
    ]
}

/// A policy in lists: everything but its full text.
#[derive(Serialize)]
struct PolicySummaryDto {
    id: Uuid,
    region_code: String,
    title: String,
    issuer: String,
    doc_number: Option<String>,
    level: PolicyLevel,
    effective_from: NaiveDate,
    effective_to: Option<NaiveDate>,
    industries: Vec<String>,
    sizes: Vec<EnterpriseSize>,
    regions: Vec<String>,
    benefit_kind: PolicyBenefit,
    summary: String,
    updated_at: DateTime<FixedOffset>,
}

/// One policy with its text.
#[derive(Serialize)]
struct PolicyDto {
    #[serde(flatten)]
    summary: PolicySummaryDto,
    full_text: Option<String>,
}

impl From<Policy> for PolicySummaryDto {
    fn from(p: Policy) -> Self {
        PolicySummaryDto {
            id: p.id,
            region_code: p.region_code,
            title: p.title,
            issuer: p.issuer,
            doc_number: p.doc_number,
            level: p.level,
            effective_from: p.effective_from,
            effective_to: p.effective_to,
            industries: p.industries,
            sizes: p.sizes,
            regions: p.regions,
            benefit_kind: p.benefit_kind,
            summary: p.summary,
            updated_at: wire_time(p.updated_at),
        }
    }
}

impl From<Policy> for PolicyDto {
    fn from(mut p: Policy) -> Self {
        let full_text = p.full_text.take();
        PolicyDto {
            summary: p.into(),
            full_text,
        }
    }
}

/// What a duplicate means here: the region has a policy with that number.
const DUPLICATE: &str = "本地区已有相同文号的政策";

/// A policy's body may carry its whole text: read up to this, past the ordinary JSON limit, so
/// that a body whose texts are within their limits is never refused for its size — 100,000
/// characters escaped in JSON as surrogate pairs (`\ud83d\ude00`, 12 bytes each) are 1.2 MB.
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// Adds a policy to the admin's region (201).
async fn policy_create(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body: PolicyInput = large_json(&req, payload, MAX_BODY).await?;
    let (caller, now) = (admin.caller, state.clock.now());
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let input = body.validate().map_err(AppError::invalid)?;
            let region = RegionScope::of(conn, &caller)?.root_code;
            let policy = Policy::insert(conn, &region, &input, caller.user_id, now)
                .map_err(AppError::duplicate_as(DUPLICATE))?;
            Stored::json(StatusCode::CREATED, &PolicyDto::from(policy))
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// A policy of the admin's region subtree, replaced whole.
async fn policy_replace(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body: PolicyInput = large_json(&req, payload, MAX_BODY).await?;
    let (caller, id, now) = (admin.caller, id.into_inner(), state.clock.now());
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let existing = Policy::find(conn, id)?.ok_or(AppError::NotFound)?;
            RegionScope::of(conn, &caller)?.require(conn, &existing.region_code)?;
            let input = body.validate().map_err(AppError::invalid)?;
            let policy = Policy::replace(conn, id, &input, now).map_err(AppError::duplicate_as(DUPLICATE))?;
            Stored::json(StatusCode::OK, &PolicyDto::from(policy))
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// What an import did.
#[derive(Serialize)]
struct PolicyImportReport {
    rows: usize,
    created: usize,
    updated: usize,
}

/// A broken rule of one row of an import (`details.errors`).
#[derive(Serialize)]
struct RowError {
    row: usize,
    #[serde(flatten)]
    error: FieldError,
}

/// Imports a file of policies into the admin's region, all or nothing: a row whose
/// `doc_number` the region already has updates that policy, any other row adds one.
async fn policy_import(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let bytes = read_upload(&req, payload).await?;
    let rows = read_file(bytes, &policy::IMPORT_COLUMNS, &policy::IMPORT_REQUIRED).await?;
    let (caller, now) = (admin.caller, state.clock.now());
    let report = db::run(&state.bulk_pool, move |conn| {
        let mut errors = Vec::new();
        let mut inputs = Vec::with_capacity(rows.len());
        for row in &rows {
            match PolicyInput::from_row(&row.fields) {
                Ok(input) => inputs.push(input),
                Err(faults) => {
                    errors.extend(faults.into_iter().map(|error| RowError { row: row.line, error }))
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::with_details(
                ErrorCode::ImportInvalidRows,
                format!("{} 处错误，未导入任何数据", errors.len()),
                serde_json::json!({ "errors": errors }),
            ));
        }
        let region = RegionScope::of(conn, &caller)?.root_code;
        conn.transaction(|conn| {
            let mut report = PolicyImportReport {
                rows: inputs.len(),
                created: 0,
                updated: 0,
            };
            for input in &inputs {
                let existing = match &input.doc_number {
                    Some(number) => Policy::by_number(conn, &region, number)?,
                    None => None,
                };
                match existing {
                    Some(policy) => {
                        Policy::replace(conn, policy.id, input, now)?;
                        report.updated += 1;
                    }
                    None => {
                        Policy::insert(conn, &region, input, caller.user_id, now)
                            .map_err(AppError::duplicate_as(DUPLICATE))?;
                        report.created += 1;
                    }
                }
            }
            Ok(report)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize)]
struct PolicyQuery {
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    q: Option<String>,
    level: Option<PolicyLevel>,
    benefit_kind: Option<PolicyBenefit>,
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    industry: Option<String>,
    size: Option<EnterpriseSize>,
    /// Only the policies in force today (the default); `false`: any.
    in_force: Option<bool>,
}

/// The policy library as the caller's region sees it, searched and filtered.
async fn policy_search(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<PolicyQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = PolicyFilter {
        terms: query.q.as_deref().map(policy::query_terms).unwrap_or_default(),
        level: query.level,
        benefit_kind: query.benefit_kind,
        industry: query.industry,
        size: query.size,
        in_force_on: query.in_force.unwrap_or(true).then(|| state.clock.today()),
    };
    let policies = db::run(&state.pool, move |conn| {
        let path = own_path(conn, &caller)?;
        Ok(Policy::search(conn, &path, &filter)?)
    })
    .await?;
    let items: Vec<PolicySummaryDto> = policies.into_iter().map(PolicySummaryDto::from).collect();
    Ok(HttpResponse::Ok().json(page.slice(items)?))
}

fn own_path(conn: &mut PgConnection, caller: &Caller) -> Result<String, AppError> {
    Ok(Region::find(conn, &caller.region_code)?
        .ok_or(AppError::NotFound)?
        .path)
}

/// One policy the caller's region sees, with its text.
async fn policy_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let policy = db::run(&state.pool, move |conn| {
        let policy = Policy::find(conn, id)?.ok_or(AppError::NotFound)?;
        let own = own_path(conn, &caller)?;
        let theirs = Region::find(conn, &policy.region_code)?
            .ok_or(AppError::NotFound)?
            .path;
        if own.starts_with(&theirs) || theirs.starts_with(&own) {
            Ok(policy)
        } else {
            Err(AppError::NotFound)
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(PolicyDto::from(policy)))
}

/// A policy as it stands with an enterprise: the policy and the officer's latest word on it.
#[derive(Serialize)]
struct EnterprisePolicyDto {
    #[serde(flatten)]
    policy: PolicySummaryDto,
    check_off: Option<CheckoffDto>,
}

/// The policies in force today that apply to an enterprise the caller may read, each with
/// where it stands (逐条对照).
async fn enterprise_policies(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (id, today) = (id.into_inner(), state.clock.today());
    let policies = db::run(&state.pool, move |conn| {
        let enterprise = scope::visible_enterprise(conn, &caller, id)?;
        let path = Region::find(conn, &enterprise.region_code)?
            .ok_or(AppError::NotFound)?
            .path;
        let policies = Policy::applicable(conn, &path, &enterprise.industry, enterprise.size, today)?;
        Ok((policies, Checkoff::of_enterprise(conn, id)?))
    })
    .await?;
    let (policies, mut checkoffs) = policies;
    let items: Vec<EnterprisePolicyDto> = policies
        .into_iter()
        .map(|p| {
            let check_off = checkoffs
                .iter()
                .position(|c| c.policy_id == p.id)
                .map(|i| CheckoffDto::from(checkoffs.swap_remove(i)));
            EnterprisePolicyDto {
                policy: p.into(),
                check_off,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(page.slice(items)?))
}
