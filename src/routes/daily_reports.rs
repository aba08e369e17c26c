//! 日报告: the five-minute daily report, its prefilled draft, its history, and who has not
//! reported yet (催报).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{get, put, Endpoint, ListResponse, PageParams};
use crate::auth::extractors::{AuthChaser, AuthOfficer, RegionStaff, RoleSet};
use crate::auth::scope::{self, RegionScope};
use crate::auth::{AnyRole, AuthUser, Caller};
use crate::cache::counters::{self, Metric};
use crate::clock::wire_time;
use crate::db;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::daily_report::{DailyReport, ReportFilter};
use crate::db::models::job_opening::JobOpening;
use crate::db::models::missing::{MissingReport, MissingScope};
use crate::db::models::problem::Problem;
use crate::db::models::unit::Unit;
use crate::db::models::Page;
use crate::domain::daily_report::{self, Production, ReportInput, ValidReport};
use crate::domain::day;
use crate::error::AppError;
use crate::idempotency::{self, Done, Idempotency, Stored};
use crate::reports::{self, ReportFiling};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/daily-reports", web::get().to(daily_report_list)),
        get(
            "/api/v1/daily-reports/missing",
            web::get().to(daily_report_missing_list),
        ),
        get(
            "/api/v1/daily-reports/{enterprise_id}/{day}",
            web::get().to(daily_report_get),
        ),
        put(
            "/api/v1/daily-reports/{enterprise_id}/{day}",
            web::put().to(daily_report_put),
        ),
        get(
            "/api/v1/daily-reports/{enterprise_id}/{day}/draft",
            web::get().to(daily_report_draft_get),
        ),
    ]
}

#[derive(Debug, Serialize)]
struct DailyReportDto {
    id: Uuid,
    officer_id: Uuid,
    enterprise_id: Uuid,
    day: NaiveDate,
    revision: i32,
    work_done: String,
    production: Production,
    difficulties: Option<String>,
    /// Problems this report raised, across all its revisions.
    problem_ids: Vec<Uuid>,
    submitted_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
}

fn production_of(content: &ValidReport) -> Production {
    Production {
        status: content.production_status,
        capacity_pct: i64::from(content.capacity_pct),
        staff_on_duty: i64::from(content.staff_on_duty),
        staff_total: i64::from(content.staff_total),
        staff_shortage: i64::from(content.staff_shortage),
    }
}

fn dto(report: DailyReport, problem_ids: Vec<Uuid>) -> DailyReportDto {
    let content = report.content();
    DailyReportDto {
        id: report.id,
        officer_id: report.officer_id,
        enterprise_id: report.enterprise_id,
        day: report.day,
        revision: report.revision,
        production: production_of(&content),
        work_done: content.work_done,
        difficulties: content.difficulties,
        problem_ids,
        submitted_at: wire_time(report.submitted_at),
        updated_at: wire_time(report.updated_at),
    }
}

/// The 201 of a first filing, made before it is written (`reports::first_filing`): what
/// [`dto`] gives for the report once filed.
fn first_dto(filing: &ReportFiling, id: Uuid, problem_ids: &[Uuid]) -> DailyReportDto {
    let content = &filing.content;
    DailyReportDto {
        id,
        officer_id: filing.officer_id,
        enterprise_id: filing.enterprise_id,
        day: filing.day,
        revision: 1,
        production: production_of(content),
        work_done: content.work_done.clone(),
        difficulties: content.difficulties.clone(),
        problem_ids: problem_ids.to_vec(),
        submitted_at: wire_time(filing.now),
        updated_at: wire_time(filing.now),
    }
}

/// Files or revises the officer's report for an enterprise and day: today's, or yesterday's
/// until 10:00. 201 on the first filing, 200 on a revision; every revision is kept, and each
/// new entry of `problems` enters the hub's queue once.
async fn daily_report_put(
    state: web::Data<AppState>,
    officer: AuthOfficer,
    idempotency: Idempotency,
    path: web::Path<(Uuid, NaiveDate)>,
    body: web::Json<ReportInput>,
) -> Result<HttpResponse, AppError> {
    let (enterprise_id, day) = path.into_inner();
    let day = known_day(day)?;
    let input = body.into_inner();
    let content = input.validate().map_err(AppError::invalid)?;
    let problems = input.problems.iter().filter_map(|p| p.validate().ok());
    let filing = ReportFiling {
        officer_id: officer.caller.user_id,
        enterprise_id,
        day,
        problems: problems
            .map(|p| (state.classifier.suggest(&p.description), p))
            .collect(),
        content,
        input,
        now: state.clock.now(),
    };
    let now = filing.now;
    let filings = state.metrics.report_filings.clone();
    let done = db::run(&state.pool, move |conn| {
        let first = |id, problem_ids: &[Uuid]| {
            Stored::json(StatusCode::CREATED, &first_dto(&filing, id, problem_ids))
        };
        if let Some(filed) = reports::first_filing(conn, &filing, idempotency.key(), first)? {
            filings.with_label_values(&["at_once"]).inc();
            let counts = [(Metric::Reports, 1), (Metric::Problems, filed.new_problems)];
            return Ok(Done {
                stored: filed.answer,
                fresh: Some((filed.region_path, counts)),
            });
        }
        filings.with_label_values(&["transaction"]).inc();
        idempotency::once(conn, &idempotency, now, |conn| {
            let filed = reports::file(conn, filing)?;
            let status = if filed.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let counts = [
                (Metric::Reports, i64::from(filed.created)),
                (Metric::Problems, filed.new_problems),
            ];
            Ok((
                Stored::json(status, &dto(filed.report, filed.problem_ids))?,
                (filed.region_path, counts),
            ))
        })
    })
    .await?;
    if let Some((region_path, counts)) = done.fresh {
        counters::after_commit(&state.cache, &region_path, day, &counts).await;
    }
    Ok(done.stored.into_response())
}

/// Which report of an enterprise and day a reader means: `officer_id`'s, else the first filed.
#[derive(Deserialize)]
pub(crate) struct ReportQuery {
    /// For readers other than the author: whose report (default: the first filed).
    officer_id: Option<Uuid>,
}

/// A day the service knows (any other names no report: 404), checked before the database hop.
pub(crate) fn known_day(day: NaiveDate) -> Result<NaiveDate, AppError> {
    if day::known(day) {
        Ok(day)
    } else {
        Err(AppError::NotFound)
    }
}

/// The report of the enterprise and day that the caller reads and the query means (404 when
/// none): the one lookup of the report's reads (itself, its attachments).
pub(crate) fn visible_report(
    conn: &mut PgConnection,
    caller: &Caller,
    enterprise_id: Uuid,
    day: NaiveDate,
    query: &ReportQuery,
) -> Result<DailyReport, AppError> {
    let scope = scope::record_scope(conn, caller)?;
    DailyReport::first_visible_on_day(conn, &scope, enterprise_id, day, query.officer_id)?
        .ok_or(AppError::NotFound)
}

async fn daily_report_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<(Uuid, NaiveDate)>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let (enterprise_id, day) = path.into_inner();
    let (day, query) = (known_day(day)?, query.into_inner());
    let report = db::run(&state.pool, move |conn| {
        let report = visible_report(conn, &caller, enterprise_id, day, &query)?;
        let problem_ids = Problem::ids_from_report(conn, report.id)?;
        Ok(dto(report, problem_ids))
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Serialize)]
struct OpenProblem {
    id: Uuid,
    title: String,
    status: crate::domain::lifecycle::Status,
    created_at: DateTime<FixedOffset>,
}

/// An enterprise's openings still recruiting: the detail is `GET /enterprises/{id}/job-openings`.
#[derive(Serialize)]
struct Recruiting {
    openings: i64,
    to_fill: i64,
}

#[derive(Serialize)]
pub(crate) struct DraftDto {
    enterprise_id: Uuid,
    day: NaiveDate,
    /// Whether the report for this day can still be filed or revised now.
    open: bool,
    /// The revision already filed for this day, if any (its content is prefilled).
    pub(crate) revision: Option<i32>,
    work_done: String,
    production: Option<Production>,
    difficulties: Option<String>,
    /// The enterprise's problems that are not closed, so the officer can say what moved.
    open_problems: Vec<OpenProblem>,
    /// Its openings still recruiting (用工需求), shown beside `staff_shortage`.
    job_openings: Recruiting,
    /// The filed report's id and last change, for the home screen's state (not part of a draft).
    #[serde(skip)]
    pub(crate) report_id: Option<Uuid>,
    #[serde(skip)]
    pub(crate) updated_at: Option<DateTime<Utc>>,
}

impl DraftDto {
    /// Whether something was carried over into an unfiled draft.
    pub(crate) fn prefilled(&self) -> bool {
        self.revision.is_none() && self.production.is_some()
    }
}

/// A prefilled report: the day's own if filed, else yesterday's staffing numbers carried over.
async fn daily_report_draft_get(
    state: web::Data<AppState>,
    officer: AuthOfficer,
    path: web::Path<(Uuid, NaiveDate)>,
) -> Result<HttpResponse, AppError> {
    let (enterprise_id, day) = path.into_inner();
    let day = known_day(day)?;
    let officer_id = officer.caller.user_id;
    let open = daily_report::is_open(state.clock.now(), day);
    let draft = db::run(&state.pool, move |conn| {
        if !scope::assigned_on(conn, officer_id, enterprise_id, day)? {
            return Err(AppError::NotFound);
        }
        draft_of(conn, officer_id, enterprise_id, day, open)
    })
    .await?;
    Ok(HttpResponse::Ok().json(draft))
}

/// The officer's report for `day` as a draft: the day's own if filed, else a blank one with the
/// latest earlier production carried over; with the enterprise's open problems. The caller has
/// checked the assignment.
pub(crate) fn draft_of(
    conn: &mut PgConnection,
    officer_id: Uuid,
    enterprise_id: Uuid,
    day: NaiveDate,
    open: bool,
) -> Result<DraftDto, AppError> {
    let same_day = DailyReport::find(conn, officer_id, enterprise_id, day)?;
    let open_problems = Problem::open_for_enterprise(conn, enterprise_id)?
        .into_iter()
        .map(|p| OpenProblem {
            id: p.id,
            title: p.title,
            status: p.status,
            created_at: wire_time(p.created_at),
        })
        .collect();
    let (openings, to_fill) = JobOpening::recruiting(conn, enterprise_id, day)?;
    let job_openings = Recruiting { openings, to_fill };
    Ok(match same_day {
        Some(report) => {
            let content = report.content();
            DraftDto {
                enterprise_id,
                day,
                open,
                revision: Some(report.revision),
                production: Some(production_of(&content)),
                work_done: content.work_done,
                difficulties: content.difficulties,
                open_problems,
                job_openings,
                report_id: Some(report.id),
                updated_at: Some(report.updated_at),
            }
        }
        None => DraftDto {
            enterprise_id,
            day,
            open,
            revision: None,
            work_done: String::new(),
            production: DailyReport::latest_before(conn, officer_id, enterprise_id, day)?
                .map(|r| production_of(&r.content())),
            difficulties: None,
            open_problems,
            job_openings,
            report_id: None,
            updated_at: None,
        },
    })
}

/// The filters of the report list (and of the daily-report ledger export).
#[derive(Deserialize)]
pub(crate) struct ReportListQuery {
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    to: Option<NaiveDate>,
    enterprise_id: Option<Uuid>,
    officer_id: Option<Uuid>,
}

impl From<ReportListQuery> for ReportFilter {
    fn from(q: ReportListQuery) -> Self {
        ReportFilter {
            from: q.from,
            to: q.to,
            enterprise_id: q.enterprise_id,
            officer_id: q.officer_id,
        }
    }
}

async fn daily_report_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<ReportListQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, after) = (page.limit()?, page.day_cursor()?);
    let filter = ReportFilter::from(query.into_inner());
    let page = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        let rows = DailyReport::list(conn, &scope, &filter, after, limit)?;
        let page = Page::from_rows(rows, limit, |r| super::day_cursor(r.day, r.id));
        let report_ids: Vec<Uuid> = page.items.iter().map(|r| r.id).collect();
        let mut problem_ids = Problem::ids_by_report(conn, &report_ids)?;
        Ok(page.map(|report| {
            let ids = problem_ids.remove(&report.id).unwrap_or_default();
            dto(report, ids)
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page)))
}

#[derive(Deserialize)]
struct MissingQuery {
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    day: Option<NaiveDate>,
    unit_id: Option<Uuid>,
}

#[derive(Serialize)]
struct MissingResponse {
    day: NaiveDate,
    /// Non-working days of the official calendar (weekends, public holidays; make-up
    /// workdays count as working) need no reports; the list is then empty.
    working_day: bool,
    items: Vec<MissingReport>,
    next_cursor: Option<String>,
}

/// 催报: officers on assignment that day with no sign-in and/or no report (unit admins: their
/// unit; dispatchers and admins: their region, optionally one unit).
async fn daily_report_missing_list(
    state: web::Data<AppState>,
    AnyRole { caller, .. }: AuthChaser,
    query: web::Query<MissingQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let MissingQuery { day, unit_id } = query.into_inner();
    let day = day.unwrap_or_else(|| state.clock.today());
    let (limit, after) = (page.limit()?, page.uuid_cursor()?);
    // The hub sees its region; a unit admin (without a hub role) their unit.
    let regional = caller.has_any(RegionStaff::ROLES);
    let (working_day, page) = db::run(&state.pool, move |conn| {
        if !CalendarYear::load(conn)?.is_working_day(day) {
            return Ok((false, Page::empty()));
        }
        let scope = if regional {
            let region = RegionScope::of(conn, &caller)?;
            if let Some(unit) = unit_id {
                let unit = Unit::find(conn, unit)?.ok_or(AppError::NotFound)?;
                region.require(conn, &unit.region_code)?;
            }
            MissingScope::Region {
                root_path: region.root_path,
                unit_id,
            }
        } else {
            let own = caller.unit_id.ok_or(AppError::NotFound)?;
            if unit_id.is_some_and(|u| u != own) {
                return Err(AppError::NotFound);
            }
            MissingScope::Unit(own)
        };
        let rows = MissingReport::list(conn, &scope, day, after, limit)?;
        Ok((true, Page::from_rows(rows, limit, |m| m.officer_id.to_string())))
    })
    .await?;
    Ok(HttpResponse::Ok().json(MissingResponse {
        day,
        working_day,
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
