//! Excel ledgers (台账) with the same filters and the same visibility as the lists.

use actix_web::{web, HttpResponse};

use super::daily_reports::ReportListQuery;
use super::monthly_reports::{officers_monthly_xlsx, xlsx_response, MonthlyQuery};
use super::problems::ProblemQuery;
use super::{get, Endpoint};
use crate::auth::{scope, AuthUser};
use crate::db;
use crate::db::models::daily_report::ReportFilter;
use crate::error::AppError;
use crate::exports;
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/exports/problems.xlsx", web::get().to(export_problems)),
        get(
            "/api/v1/exports/daily-reports.xlsx",
            web::get().to(export_daily_reports),
        ),
        get(
            "/api/v1/exports/officers-monthly.xlsx",
            web::get().to(export_officers_monthly),
        ),
    ]
}

/// 问题台账: an 全部 sheet and one sheet per category.
async fn export_problems(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ProblemQuery>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let bytes = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        let filter = query.into_inner().into_filter(conn, now)?;
        exports::problems::export(conn, &scope, &filter, now)
    })
    .await?;
    Ok(xlsx_response(
        &format!("problems-{}.xlsx", state.clock.today()),
        bytes,
    ))
}

/// 日报台账.
async fn export_daily_reports(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ReportListQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = ReportFilter::from(query.into_inner());
    let bytes = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        exports::daily_reports::export(conn, &scope, &filter)
    })
    .await?;
    Ok(xlsx_response(
        &format!("daily-reports-{}.xlsx", state.clock.today()),
        bytes,
    ))
}

/// 联络员月报表: the monthly report's workbook.
async fn export_officers_monthly(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<MonthlyQuery>,
) -> Result<HttpResponse, AppError> {
    officers_monthly_xlsx(&state, caller, query.into_inner()).await
}
