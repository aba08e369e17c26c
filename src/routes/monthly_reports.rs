//! 月报: the monthly report of officers and units, as JSON or as an Excel workbook. Frozen
//! once the month is over (`stats::monthly`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::exports::xlsx_response;
use super::{get, Endpoint};
use crate::auth::{scope, AuthUser, Caller};
use crate::clock::local_day;
use crate::db;
use crate::db::models::stats::StatsScope;
use crate::domain::day;
use crate::domain::metrics::Month;
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::exports;
use crate::state::AppState;
use crate::stats::monthly::{self, MonthlyReport};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/reports/monthly", web::get().to(monthly_report_get)),
        get(
            "/api/v1/reports/monthly.xlsx",
            web::get().to(monthly_report_xlsx_get),
        ),
    ]
}

#[derive(Deserialize)]
pub(crate) struct MonthlyQuery {
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    month: Option<String>,
    officer_id: Option<Uuid>,
    unit_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    region_code: Option<String>,
}

/// Whose month the caller asked for and may read: an officer only their own; a unit admin their
/// unit's officers; dispatchers and admins their region's, narrowed to a unit or an officer.
fn monthly_scope(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    query: &MonthlyQuery,
) -> Result<(StatsScope, Option<Uuid>), AppError> {
    let manages = caller.has(Role::Admin) || caller.has(Role::Dispatcher) || caller.has(Role::UnitAdmin);
    if !manages && caller.has(Role::Officer) {
        if query.officer_id.is_some_and(|id| id != caller.user_id) || query.unit_id.is_some() {
            return Err(AppError::NotFound);
        }
        let scope = StatsScope {
            region_code: caller.region_code.clone(),
            region_path: String::new(),
            unit_id: None,
        };
        return Ok((scope, Some(caller.user_id)));
    }
    let mut scope = scope::stats_scope(conn, caller, query.region_code.as_deref())?;
    match (scope.unit_id, query.unit_id) {
        (Some(own), Some(asked)) if own != asked => return Err(AppError::NotFound),
        (None, Some(asked)) => scope.unit_id = Some(asked),
        _ => {}
    }
    Ok((scope, query.officer_id))
}

/// The month asked for (this month by default); a month not begun yet has no report.
fn month_of(query: &MonthlyQuery, state: &AppState) -> Result<Month, AppError> {
    let this_month = Month::containing(local_day(state.clock.now()));
    let month = match query.month.as_deref() {
        None => this_month,
        Some(text) => text.parse::<Month>().map_err(|()| {
            AppError::new(ErrorCode::RequestInvalidQuery, "month 应为 YYYY-MM，例如 2026-10")
        })?,
    };
    if month > this_month {
        return Err(AppError::new(ErrorCode::ReportMonthNotStarted, "该月尚未开始"));
    }
    // Reading an ended month freezes it: not for months before the service's first day.
    if !day::known(month.first_day()) {
        return Err(AppError::new(
            ErrorCode::RequestInvalidQuery,
            "month 应在 2020-01 之后",
        ));
    }
    Ok(month)
}

/// Builds the report; `all_officers` lists every officer (the workbook) rather than only a
/// narrowed report's.
async fn build(
    state: &AppState,
    caller: Caller,
    query: MonthlyQuery,
    all_officers: bool,
) -> Result<MonthlyReport, AppError> {
    let month = month_of(&query, state)?;
    let now = state.clock.now();
    db::run(&state.bulk_pool, move |conn| {
        let (scope, officer_id) = monthly_scope(conn, &caller, &query)?;
        let (figures, frozen_at) = monthly::officer_figures(conn, month, &scope, officer_id, now)?;
        if officer_id.is_some() && figures.is_empty() {
            return Err(AppError::NotFound);
        }
        let list = all_officers || scope.unit_id.is_some() || officer_id.is_some();
        Ok(MonthlyReport::build(
            month, &scope, officer_id, figures, frozen_at, list,
        ))
    })
    .await
}

/// The monthly report as a workbook (also the officers' monthly ledger export).
pub(crate) async fn monthly_xlsx(
    state: &AppState,
    caller: Caller,
    query: MonthlyQuery,
) -> Result<HttpResponse, AppError> {
    let report = build(state, caller, query, true).await?;
    let name = format!("monthly-{}.xlsx", report.month);
    let workbook = web::block(move || exports::officers_monthly::export(&report))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    Ok(xlsx_response(&name, workbook))
}

/// 月报 as JSON, or as a workbook when the client accepts only Excel.
async fn monthly_report_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    req: HttpRequest,
    query: web::Query<MonthlyQuery>,
) -> Result<HttpResponse, AppError> {
    if exports::wants_only_xlsx(req.headers().get(header::ACCEPT)) {
        return monthly_xlsx(&state, caller, query.into_inner()).await;
    }
    let report = build(&state, caller, query.into_inner(), false).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// 月报 as a workbook: a sheet of units and a sheet of officers.
async fn monthly_report_xlsx_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<MonthlyQuery>,
) -> Result<HttpResponse, AppError> {
    monthly_xlsx(&state, caller, query.into_inner()).await
}
