//! Excel ledgers (台账) with the same filters and the same visibility as the lists.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use tokio_util::io::ReaderStream;

use super::daily_reports::ReportListQuery;
use super::monthly_reports::{monthly_xlsx, MonthlyQuery};
use super::problems::ProblemQuery;
use super::{get, Endpoint};
use crate::auth::{scope, AuthUser, Caller};
use crate::db::models::daily_report::ReportFilter;
use crate::error::AppError;
use crate::exports::{self, XlsxFile, XLSX_CONTENT_TYPE};
use crate::state::AppState;

/// Sends a finished workbook from disk in chunks, with its length, as a download.
pub(crate) fn xlsx_response(name: &str, workbook: XlsxFile) -> HttpResponse {
    let body = ReaderStream::new(tokio::fs::File::from_std(workbook.file));
    HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .no_chunking(workbook.len)
        .streaming(body)
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/exports/problems.xlsx", web::get().to(problem_export)),
        get(
            "/api/v1/exports/daily-reports.xlsx",
            web::get().to(daily_report_export),
        ),
        get(
            "/api/v1/exports/officers-monthly.xlsx",
            web::get().to(officer_monthly_export),
        ),
    ]
}

/// 问题台账: an 全部 sheet and one sheet per category.
async fn problem_export(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ProblemQuery>,
) -> Result<HttpResponse, AppError> {
    problems_xlsx(&state, caller, query.into_inner()).await
}

/// The problem ledger of what `caller` may see under `query` (the API's and the console's).
pub(crate) async fn problems_xlsx(
    state: &AppState,
    caller: Caller,
    query: ProblemQuery,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let (workbook, _) = state
        .replicas
        .read(&state.bulk_pool, move |conn| {
            let scope = scope::record_scope(conn, &caller)?;
            let filter = query.clone().into_filter(conn, now)?;
            exports::problems::export(conn, &scope, &filter, now)
        })
        .await?;
    Ok(xlsx_response(
        &format!("problems-{}.xlsx", state.clock.today()),
        workbook,
    ))
}

/// The most days of reports one ledger holds (a city files about 27,000 a day).
const MAX_REPORT_DAYS: i64 = 93;

/// The report ledger covers `from..=to`, by default this month so far, at most a quarter.
fn export_period(mut filter: ReportFilter, today: NaiveDate) -> Result<ReportFilter, AppError> {
    let (from, to) = super::period(filter.from, filter.to, today, MAX_REPORT_DAYS, "一次导出的日报")?;
    filter.from = Some(from);
    filter.to = Some(to);
    Ok(filter)
}

/// 日报台账: this month's reports unless `from`/`to` say otherwise (at most 93 days).
async fn daily_report_export(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ReportListQuery>,
) -> Result<HttpResponse, AppError> {
    daily_reports_xlsx(&state, caller, query.into_inner()).await
}

/// The report ledger of what `caller` may see under `query` (the API's and the console's).
pub(crate) async fn daily_reports_xlsx(
    state: &AppState,
    caller: Caller,
    query: ReportListQuery,
) -> Result<HttpResponse, AppError> {
    let filter = export_period(ReportFilter::from(query), state.clock.today())?;
    let (workbook, _) = state
        .replicas
        .read(&state.bulk_pool, move |conn| {
            let scope = scope::record_scope(conn, &caller)?;
            exports::daily_reports::export(conn, &scope, &filter)
        })
        .await?;
    Ok(xlsx_response(
        &format!("daily-reports-{}.xlsx", state.clock.today()),
        workbook,
    ))
}

/// 联络员月报表: the monthly report's workbook.
async fn officer_monthly_export(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<MonthlyQuery>,
) -> Result<HttpResponse, AppError> {
    monthly_xlsx(&state, caller, query.into_inner()).await
}
