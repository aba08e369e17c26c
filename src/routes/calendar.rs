//! The working-day calendar (工作日历): each year's holidays and make-up workdays as stored,
//! an admin's upload of a new year's schedule, and date arithmetic in working days.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{get, put, Endpoint};
use crate::auth::scope;
use crate::auth::{AuthAdmin, AuthUser};
use crate::clock::wire_time;
use crate::db;
use crate::db::models::audit;
use crate::db::models::calendar::{CalendarYear, StoredYear};
use crate::domain::calendar::{SpecialDay, YearSchedule};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

/// Years the calendar speaks of.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
const MAX_DAYS: u32 = 1000;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        // Before `{year}`, which would otherwise take "add-working-days" for a year.
        get(
            "/api/v1/calendar/add-working-days",
            web::get().to(calendar_add_working_days),
        ),
        get("/api/v1/calendar/{year}", web::get().to(calendar_year_get)),
        put("/api/v1/calendar/{year}", web::put().to(calendar_year_put)),
    ]
}

#[derive(Serialize)]
struct YearDto {
    year: i32,
    /// `false`: no official schedule is stored; deadlines count Monday–Friday (provisional).
    published: bool,
    version: Option<i64>,
    source: Option<String>,
    notice: Option<String>,
    updated_at: Option<DateTime<FixedOffset>>,
    days: Vec<SpecialDay>,
}

impl YearDto {
    fn of(year: i32, stored: Option<StoredYear>) -> Self {
        match stored {
            Some(StoredYear { year: y, days }) => Self {
                year,
                published: true,
                version: Some(y.version),
                source: Some(y.source),
                notice: Some(y.notice),
                updated_at: Some(wire_time(y.updated_at)),
                days,
            },
            None => Self {
                year,
                published: false,
                version: None,
                source: None,
                notice: None,
                updated_at: None,
                days: Vec::new(),
            },
        }
    }
}

fn checked_year(year: i32) -> Result<i32, AppError> {
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(AppError::NotFound)
    }
}

/// A year's holidays and make-up workdays.
async fn calendar_year_get(
    state: web::Data<AppState>,
    _caller: AuthUser,
    year: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let year = checked_year(year.into_inner())?;
    let stored = db::run(&state.pool, move |conn| Ok(CalendarYear::find(conn, year)?)).await?;
    Ok(HttpResponse::Ok().json(YearDto::of(year, stored)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearUpload {
    notice: String,
    days: Vec<SpecialDay>,
}

/// Stores a year's official schedule (replacing the stored one) under a new calendar version.
/// Deadlines already set keep the version they were counted with.
async fn calendar_year_put(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    year: web::Path<i32>,
    body: web::Json<YearUpload>,
) -> Result<HttpResponse, AppError> {
    let year = checked_year(year.into_inner())?;
    let YearUpload { notice, days } = body.into_inner();
    let schedule = YearSchedule::validate(year, &notice, days).map_err(AppError::invalid)?;
    let now = state.clock.now();
    let admin_id = admin.caller.user_id;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            scope::require_top_region_admin(conn, &admin.caller)?;
            let before = CalendarYear::find(conn, year)?.map(|s| YearDto::of(year, Some(s)));
            CalendarYear::replace(conn, &schedule, admin_id, now)?;
            let after = CalendarYear::find(conn, year)?;
            let after = YearDto::of(year, after);
            audit::record(
                conn,
                Some(admin_id),
                "calendar.replace",
                "calendar_year",
                &year.to_string(),
                before.as_ref(),
                Some(&after),
            )?;
            Stored::json(StatusCode::OK, &after)
        })
    })
    .await?;
    Ok(stored.into_response())
}

#[derive(Deserialize)]
struct AddQuery {
    from: NaiveDate,
    days: u32,
}

#[derive(Serialize)]
struct AddResult {
    from: NaiveDate,
    days: u32,
    date: NaiveDate,
    /// Some day counted lies in a year without a published schedule.
    provisional: bool,
    calendar_version: i64,
}

/// The date `days` working days after `from` (`from` itself not counted).
async fn calendar_add_working_days(
    state: web::Data<AppState>,
    _caller: AuthUser,
    query: web::Query<AddQuery>,
) -> Result<HttpResponse, AppError> {
    let AddQuery { from, days } = query.into_inner();
    if days > MAX_DAYS || !YEARS.contains(&chrono::Datelike::year(&from)) {
        return Err(AppError::new(
            ErrorCode::RequestInvalidQuery,
            format!("days 应在 0 到 {MAX_DAYS} 之间，from 应在 2000–2100 年"),
        ));
    }
    let calendar = db::run(&state.pool, move |conn| Ok(CalendarYear::load(conn)?)).await?;
    let (date, provisional) = calendar.add_working_days(from, days);
    Ok(HttpResponse::Ok().json(AddResult {
        from,
        days,
        date,
        provisional,
        calendar_version: calendar.version,
    }))
}
