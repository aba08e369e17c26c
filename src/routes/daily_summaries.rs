//! 日总结: a region's working day for its leaders, as JSON or as a printable workbook. Frozen at
//! the region's figures time (`stats::daily`); frozen summaries are served from Redis when it
//! has them.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;

use super::exports::xlsx_response;
use super::{get, Endpoint};
use crate::auth::{scope, AuthUser, Caller};
use crate::db;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::region::Region;
use crate::error::{AppError, ErrorCode};
use crate::exports;
use crate::state::AppState;
use crate::stats::daily::{self, DailySummary};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/reports/daily", web::get().to(daily_summary_get)),
        get(
            "/api/v1/reports/daily.xlsx",
            web::get().to(daily_summary_xlsx_get),
        ),
    ]
}

#[derive(Deserialize)]
pub(crate) struct DailyQuery {
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    day: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::routes::params::region_code")]
    region_code: Option<String>,
}

/// The region and day asked for, once the caller may read them and the day has a summary:
/// dispatchers and admins, their region subtree; an official working day that has begun.
fn region_and_day(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    query: &DailyQuery,
    today: NaiveDate,
) -> Result<(Region, NaiveDate), AppError> {
    let scope = scope::stats_scope(conn, caller, query.region_code.as_deref())?;
    if scope.unit_id.is_some() {
        return Err(AppError::new(
            ErrorCode::StatsForbidden,
            "日总结仅对驻企办和管理员开放",
        ));
    }
    let calendar = CalendarYear::load(conn)?;
    let day = query.day.unwrap_or_else(|| daily::default_day(&calendar, today));
    if day > today {
        let details = serde_json::json!({ "day": day });
        return Err(AppError::with_details(
            ErrorCode::ReportDayNotStarted,
            "该日尚未开始",
            details,
        ));
    }
    if !calendar.is_working_day(day) {
        let details = serde_json::json!({ "day": day });
        return Err(AppError::with_details(
            ErrorCode::ReportNotWorkingDay,
            "该日不是工作日，没有日总结",
            details,
        ));
    }
    let region = Region::find(conn, &scope.region_code)?.ok_or(AppError::NotFound)?;
    Ok((region, day))
}

/// The summary: Redis's copy of a frozen one, else from PostgreSQL (frozen now if its time has
/// passed, and then copied to Redis).
async fn build(state: &AppState, caller: Caller, query: DailyQuery) -> Result<DailySummary, AppError> {
    let today = state.clock.today();
    let (region, day) = db::run(&state.pool, move |conn| {
        region_and_day(conn, &caller, &query, today)
    })
    .await?;
    if let Some(summary) = daily::cached(&state.cache, &region.code, day).await {
        return Ok(summary);
    }
    let now = state.clock.now();
    let summary = db::run(&state.bulk_pool, move |conn| {
        daily::summary(conn, &region, day, now)
    })
    .await?;
    daily::keep(&state.cache, &summary).await;
    Ok(summary)
}

async fn daily_xlsx(state: &AppState, caller: Caller, query: DailyQuery) -> Result<HttpResponse, AppError> {
    let summary = build(state, caller, query).await?;
    let name = format!("daily-{}-{}.xlsx", summary.region_code, summary.day);
    let workbook = web::block(move || exports::daily_summary::export(&summary))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    Ok(xlsx_response(&name, workbook))
}

/// 日总结 as JSON, or as the workbook when the client accepts only Excel.
async fn daily_summary_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    req: HttpRequest,
    query: web::Query<DailyQuery>,
) -> Result<HttpResponse, AppError> {
    if exports::wants_only_xlsx(req.headers().get(header::ACCEPT)) {
        return daily_xlsx(&state, caller, query.into_inner()).await;
    }
    let summary = build(&state, caller, query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// 日总结 as a workbook laid out for A4.
async fn daily_summary_xlsx_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<DailyQuery>,
) -> Result<HttpResponse, AppError> {
    daily_xlsx(&state, caller, query.into_inner()).await
}
