//! 逐条对照: the officer stationed with an enterprise records where each policy stands with it;
//! the enterprise's readers see it; the hub and the bureaus get the figures and the ledger
//! (政策落实台账).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::exports::xlsx_response;
use super::{get, put, Endpoint};
use crate::auth::{scope, AuthUser, Caller};
use crate::clock::wire_time;
use crate::db;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::policy::Policy;
use crate::db::models::policy_checkoff::{Checkoff, CheckoffCount};
use crate::db::models::region::Region;
use crate::domain::policy_checkoff::{CheckoffInput, CheckoffStatus};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::exports;
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        put(
            "/api/v1/enterprises/{id}/policies/{policy_id}/check-off",
            web::put().to(policy_checkoff_put),
        ),
        get(
            "/api/v1/enterprises/{id}/policies/{policy_id}/check-offs",
            web::get().to(policy_checkoff_history),
        ),
        get("/api/v1/stats/policies", web::get().to(stats_policies)),
        get(
            "/api/v1/exports/policy-checkoffs.xlsx",
            web::get().to(policy_checkoff_export),
        ),
    ]
}

#[derive(Serialize)]
pub(crate) struct CheckoffDto {
    status: CheckoffStatus,
    day: NaiveDate,
    amount_yuan: Option<i64>,
    note: Option<String>,
    recorded_by: Uuid,
    recorded_at: DateTime<FixedOffset>,
}

impl From<Checkoff> for CheckoffDto {
    fn from(c: Checkoff) -> Self {
        CheckoffDto {
            status: c.status,
            day: c.day,
            amount_yuan: c.amount_yuan,
            note: c.note,
            recorded_by: c.recorded_by,
            recorded_at: wire_time(c.recorded_at),
        }
    }
}

/// The enterprise and a policy issued at or above its region, if the caller may read them.
fn enterprise_and_policy(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    policy_id: Uuid,
) -> Result<(Enterprise, Policy), AppError> {
    let enterprise = scope::visible_enterprise(conn, caller, id)?;
    let policy = Policy::find(conn, policy_id)?.ok_or(AppError::NotFound)?;
    let path = |code: &str, conn: &mut PgConnection| -> Result<String, AppError> {
        Ok(Region::find(conn, code)?.ok_or(AppError::NotFound)?.path)
    };
    if path(&enterprise.region_code, conn)?.starts_with(&path(&policy.region_code, conn)?) {
        Ok((enterprise, policy))
    } else {
        Err(AppError::NotFound)
    }
}

/// Records where a policy stands with the enterprise: the officer stationed there today.
async fn policy_checkoff_put(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<CheckoffInput>,
) -> Result<HttpResponse, AppError> {
    let ((id, policy_id), body) = (path.into_inner(), body.into_inner());
    let (now, today) = (state.clock.now(), state.clock.today());
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let (enterprise, policy) = enterprise_and_policy(conn, &caller, id, policy_id)?;
            if !(caller.has(Role::Officer) && scope::assigned_on(conn, caller.user_id, id, today)?) {
                return Err(AppError::new(
                    ErrorCode::AuthRoleRequired,
                    "政策对照由当日包联该企业的联络员填写",
                ));
            }
            let input = body.validate(today).map_err(AppError::invalid)?;
            let checkoff = Checkoff::record(
                conn,
                id,
                policy.id,
                &enterprise.region_code,
                &input,
                caller.user_id,
                now,
            )?;
            Stored::json(StatusCode::OK, &CheckoffDto::from(checkoff))
        })
    })
    .await?;
    Ok(stored.into_response())
}

#[derive(Serialize)]
struct HistoryDto {
    items: Vec<CheckoffDto>,
}

/// Every word recorded for the policy and the enterprise, newest first.
async fn policy_checkoff_history(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (id, policy_id) = path.into_inner();
    let history = db::run(&state.pool, move |conn| {
        enterprise_and_policy(conn, &caller, id, policy_id)?;
        Ok(Checkoff::history(conn, id, policy_id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(HistoryDto {
        items: history.into_iter().map(CheckoffDto::from).collect(),
    }))
}

#[derive(Deserialize)]
struct PeriodQuery {
    #[serde(default, deserialize_with = "crate::routes::params::region_code")]
    region_code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    to: Option<NaiveDate>,
}

/// Pairs per status, and the amounts granted.
#[derive(Debug, Default, Clone, Copy, Serialize)]
struct StatusCounts {
    not_applicable: i64,
    explained: i64,
    applying: i64,
    granted: i64,
    refused: i64,
    /// The amounts of the grants (yuan).
    granted_yuan: i64,
    /// The amounts applied for (yuan).
    applying_yuan: i64,
}

impl StatusCounts {
    fn add(&mut self, c: &CheckoffCount) {
        let amount = c.amount_yuan.unwrap_or(0);
        match c.status {
            CheckoffStatus::NotApplicable => self.not_applicable += c.pairs,
            CheckoffStatus::Explained => self.explained += c.pairs,
            CheckoffStatus::Applying => {
                self.applying += c.pairs;
                self.applying_yuan += amount;
            }
            CheckoffStatus::Granted => {
                self.granted += c.pairs;
                self.granted_yuan += amount;
            }
            CheckoffStatus::Refused => self.refused += c.pairs,
        }
    }
}

#[derive(Serialize)]
struct PolicyCounts {
    policy_id: Uuid,
    title: String,
    #[serde(flatten)]
    counts: StatusCounts,
}

#[derive(Serialize)]
struct RegionCounts {
    region_code: String,
    #[serde(flatten)]
    counts: StatusCounts,
}

#[derive(Serialize)]
struct PolicyStats {
    region_code: String,
    from: NaiveDate,
    to: NaiveDate,
    totals: StatusCounts,
    by_policy: Vec<PolicyCounts>,
    by_region: Vec<RegionCounts>,
}

fn policy_stats(region: Region, from: NaiveDate, to: NaiveDate, counts: &[CheckoffCount]) -> PolicyStats {
    let mut totals = StatusCounts::default();
    let mut by_policy: BTreeMap<(String, Uuid), StatusCounts> = BTreeMap::new();
    let mut by_region: BTreeMap<String, StatusCounts> = BTreeMap::new();
    for c in counts {
        totals.add(c);
        by_policy
            .entry((c.policy.clone(), c.policy_id))
            .or_default()
            .add(c);
        by_region.entry(c.region_code.clone()).or_default().add(c);
    }
    PolicyStats {
        region_code: region.code,
        from,
        to,
        totals,
        by_policy: by_policy
            .into_iter()
            .map(|((title, policy_id), counts)| PolicyCounts {
                policy_id,
                title,
                counts,
            })
            .collect(),
        by_region: by_region
            .into_iter()
            .map(|(region_code, counts)| RegionCounts { region_code, counts })
            .collect(),
    }
}

/// 政策落实: how many enterprise–policy pairs were explained, applied for, granted … in the
/// period, with the amounts, in total, by policy and by region.
async fn stats_policies(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let (from, to) = super::period(query.from, query.to, state.clock.today(), 366, "统计区间")?;
    let stats = db::run(&state.bulk_pool, move |conn| {
        let region = scope::services_region(conn, &caller, query.region_code.as_deref())?;
        let counts = Checkoff::counts(conn, &region.path, from, to)?;
        Ok(policy_stats(region, from, to, &counts))
    })
    .await?;
    Ok(HttpResponse::Ok().json(stats))
}

#[derive(Deserialize)]
struct LedgerQuery {
    #[serde(default, deserialize_with = "crate::routes::params::region_code")]
    region_code: Option<String>,
}

/// 政策落实台账: every enterprise–policy pair's current standing in the region.
async fn policy_checkoff_export(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<LedgerQuery>,
) -> Result<HttpResponse, AppError> {
    let (code, lines) = db::run(&state.bulk_pool, move |conn| {
        let region = scope::services_region(conn, &caller, query.region_code.as_deref())?;
        Ok((region.code.clone(), Checkoff::ledger(conn, &region.path)?))
    })
    .await?;
    let workbook = web::block(move || exports::policy_checkoffs::export(&lines))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    Ok(xlsx_response(&format!("policy-checkoffs-{code}.xlsx"), workbook))
}
