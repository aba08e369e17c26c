//! 统计: the dashboards. Each handler works out whose figures the caller may see and asks
//! `stats::answer`, which serves them from Redis or computes them from PostgreSQL.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;

use super::{get, Endpoint, PageParams};
use crate::auth::scope;
use crate::auth::AuthUser;
use crate::db;
use crate::db::models::stats::StatsScope;
use crate::error::AppError;
use crate::state::AppState;
use crate::stats::benefits::BenefitStats;
use crate::stats::figures::{DepartmentStats, OfficerStats, Overview, ProblemStats, TaskForceStats};
use crate::stats::{self, StatsQuery};

/// The longest period one question may cover.
const MAX_PERIOD_DAYS: i64 = 366;

fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    super::period(from, to, today, MAX_PERIOD_DAYS, "统计区间")
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/stats/overview", web::get().to(stats_overview)),
        get("/api/v1/stats/problems", web::get().to(stats_problems)),
        get("/api/v1/stats/departments", web::get().to(stats_departments)),
        get("/api/v1/stats/officers", web::get().to(stats_officers)),
        get("/api/v1/stats/benefits", web::get().to(stats_benefits)),
        get("/api/v1/stats/task-forces", web::get().to(stats_task_forces)),
    ]
}

#[derive(Deserialize)]
struct OverviewQuery {
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    region_code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    day: Option<NaiveDate>,
}

#[derive(Deserialize)]
struct PeriodQuery {
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    region_code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    to: Option<NaiveDate>,
}

/// The caller's own region is answered without touching the database when the answer is
/// cached; another region is first checked to lie inside theirs.
async fn caller_scope(
    state: &AppState,
    caller: crate::auth::Caller,
    region_code: Option<String>,
) -> Result<StatsScope, AppError> {
    match region_code {
        Some(code) if code != caller.region_code => {
            db::run(&state.pool, move |conn| {
                scope::stats_scope(conn, &caller, Some(&code))
            })
            .await
        }
        _ => scope::own_stats_scope(&caller),
    }
}

/// The scope and the period a period question asks about.
async fn period_scope(
    state: &AppState,
    caller: crate::auth::Caller,
    query: PeriodQuery,
) -> Result<(StatsScope, NaiveDate, NaiveDate), AppError> {
    let (from, to) = period(query.from, query.to, state.clock.today())?;
    Ok((caller_scope(state, caller, query.region_code).await?, from, to))
}

/// The day at a glance: officers on assignment, signed in and reported; problems new, open and
/// overdue; resolution and on-time rates.
async fn stats_overview(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, AppError> {
    let OverviewQuery { region_code, day } = query.into_inner();
    let day = day.unwrap_or_else(|| state.clock.today());
    let scope = caller_scope(&state, caller, region_code).await?;
    let answer: Overview = stats::answer(&state, StatsQuery::Overview { scope, day }).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Problems raised in the period by category and status, with their rates.
async fn stats_problems(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (scope, from, to) = period_scope(&state, caller, query.into_inner()).await?;
    let answer: ProblemStats = stats::answer(&state, StatsQuery::Problems { scope, from, to }).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Departments by the problems assigned to them in the period, slowest first.
async fn stats_departments(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<PeriodQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (scope, from, to) = period_scope(&state, caller, query.into_inner()).await?;
    let rows: Vec<DepartmentStats> =
        stats::answer(&state, StatsQuery::Departments { scope, from, to }).await?;
    Ok(HttpResponse::Ok().json(page.slice(rows)?))
}

/// 惠企成效: what the period's answers were worth, in total and by category, department and
/// region.
async fn stats_benefits(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, AppError> {
    let (scope, from, to) = period_scope(&state, caller, query.into_inner()).await?;
    let answer: BenefitStats = stats::answer(&state, StatsQuery::Benefits { scope, from, to }).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// 专班: each task force of the region by the problems raised at its enterprises in the
/// period.
async fn stats_task_forces(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<PeriodQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (scope, from, to) = period_scope(&state, caller, query.into_inner()).await?;
    let rows: Vec<TaskForceStats> = stats::answer(&state, StatsQuery::TaskForces { scope, from, to }).await?;
    Ok(HttpResponse::Ok().json(page.slice(rows)?))
}

#[derive(Deserialize)]
struct OfficersQuery {
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    region_code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    to: Option<NaiveDate>,
    sort: Option<OfficerSort>,
}

/// What officers are ranked by, best first.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OfficerSort {
    #[default]
    ReportRate,
    SignInRate,
    ProblemsRaised,
    ProblemsSolved,
    SatisfactionRate,
    Name,
}

fn rank(officers: &mut [OfficerStats], sort: OfficerSort) {
    let rate = |r: Option<f64>| r.unwrap_or(-1.0);
    officers.sort_by(|a, b| {
        let order = match sort {
            OfficerSort::ReportRate => rate(b.report_rate).total_cmp(&rate(a.report_rate)),
            OfficerSort::SignInRate => rate(b.sign_in_rate).total_cmp(&rate(a.sign_in_rate)),
            OfficerSort::ProblemsRaised => b.problems_raised.cmp(&a.problems_raised),
            OfficerSort::ProblemsSolved => b.problems_solved.cmp(&a.problems_solved),
            OfficerSort::SatisfactionRate => rate(b.satisfaction_rate).total_cmp(&rate(a.satisfaction_rate)),
            OfficerSort::Name => a.name.cmp(&b.name),
        };
        order.then_with(|| a.officer_id.cmp(&b.officer_id))
    });
}

/// Officers ranked by their record in the period (sign-in and report rates, problems raised
/// and solved, the enterprises' ratings).
async fn stats_officers(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<OfficersQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let OfficersQuery {
        region_code,
        from,
        to,
        sort,
    } = query.into_inner();
    let (from, to) = period(from, to, state.clock.today())?;
    let scope = caller_scope(&state, caller, region_code).await?;
    let sort = sort.unwrap_or_default();
    // The top of a ranking is cached as pages (`stats::view`); a malformed cursor or limit is
    // refused before anything is read.
    let (limit, offset) = (page.limit()?, page.offset_cursor()?);
    let view = (offset < stats::VIEWED_ROWS).then(|| format!("{sort:?}:{offset}:{limit}"));
    let ranked = stats::view(
        &state,
        StatsQuery::Officers { scope, from, to },
        view,
        |mut rows: Vec<OfficerStats>| {
            rank(&mut rows, sort);
            page.slice(rows)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(ranked))
}
