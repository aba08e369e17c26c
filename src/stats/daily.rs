//! 日总结: a region's working day summed up for its leaders — sign-in and report rates, new
//! problems by category, the urgent ones, what was closed and what it was worth, what is
//! overdue and where, the slowest departments, and what changed since the previous working
//! day (`domain::daily_summary` judges which changes are notable).
//!
//! A day is summed up as of the region's figures time (notification settings' `figures_at`,
//! 18:00 by default) and frozen then: stored once in PostgreSQL (by the reminders job at that
//! time, or by the first reader after it) and never recomputed. Redis keeps a copy of frozen
//! summaries; a copy and the stored row serialise to the same bytes. Before its time a day's
//! summary is computed live and says `frozen: false`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::benefits::BenefitSums;
use crate::cache::Cache;
use crate::clock::wire_time;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::daily_summary::{OfficerCounts, OpenByDepartment, StoredSummary, SummaryProblemRow};
use crate::db::models::notification_settings::{RegionSettings, SettingsByRegion};
use crate::db::models::region::Region;
use crate::domain::benefit::Benefits;
use crate::domain::calendar::Calendar;
use crate::domain::daily_summary::{self, Change, Headline};
use crate::domain::deadline::{local_date, previous_working_day};
use crate::domain::lifecycle::{Outcome, Status};
use crate::domain::metrics::{rate, start_of_day};
use crate::domain::problem::Urgency;
use crate::error::AppError;

/// Problems listed per list (urgent, closed, overdue); the figures count them all.
pub const LIST_LIMIT: usize = 50;
/// Departments named as the slowest.
const SLOWEST: usize = 5;
/// How long Redis keeps a frozen summary (leaders read the last few days).
const CACHE_TTL: Duration = Duration::from_secs(8 * 24 * 3600);

/// `GET /api/v1/reports/daily`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailySummary {
    pub day: NaiveDate,
    pub region_code: String,
    pub region_name: String,
    pub frozen: bool,
    pub frozen_at: Option<DateTime<FixedOffset>>,
    /// The instant the figures are taken at: the day at the region's figures time (or now,
    /// for a day not summed up yet).
    pub as_of: DateTime<FixedOffset>,
    /// The working day the changes compare with.
    pub previous_day: NaiveDate,
    pub figures: DayFigures,
    /// The day's new problems by category (`null`: not classified yet), most first.
    pub new_by_category: Vec<CategoryCount>,
    /// The day's new urgent problems.
    pub urgent: Vec<SummaryProblem>,
    /// The problems closed that day, with what their answers were worth.
    pub closed: Vec<SummaryProblem>,
    pub closed_benefits: BenefitSums,
    /// Problems overdue at `as_of`, the longest overdue first.
    pub overdue: Vec<SummaryProblem>,
    /// Lead departments with overdue problems, the most overdue first.
    pub slowest_departments: Vec<SlowDepartment>,
    /// Every headline figure against the previous working day's, the notable ones first.
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DayFigures {
    pub officers_total: i64,
    pub officers_signed_in: i64,
    pub sign_in_rate: Option<f64>,
    pub officers_reported: i64,
    pub report_rate: Option<f64>,
    pub problems_new: i64,
    pub problems_urgent_new: i64,
    pub problems_closed: i64,
    /// Of `problems_closed`, those solved (化解).
    pub problems_solved: i64,
    pub problems_open: i64,
    pub problems_overdue: i64,
    /// Of `problems_overdue`, those whose deadline passed since the previous working day's
    /// summary.
    pub problems_newly_overdue: i64,
}

impl DayFigures {
    fn headline(&self) -> Headline {
        Headline {
            sign_in_rate: self.sign_in_rate,
            report_rate: self.report_rate,
            problems_new: self.problems_new,
            problems_urgent_new: self.problems_urgent_new,
            problems_closed: self.problems_closed,
            problems_open: self.problems_open,
            problems_overdue: self.problems_overdue,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCount {
    pub category: Option<String>,
    pub category_name: Option<String>,
    pub count: i64,
}

/// A problem as the summary lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryProblem {
    pub problem_id: Uuid,
    /// 交办编号, once assigned.
    pub number: Option<String>,
    pub title: String,
    pub enterprise: String,
    pub category: Option<String>,
    pub category_name: Option<String>,
    pub urgency: Urgency,
    pub status: Status,
    pub department_id: Option<Uuid>,
    pub department: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub due_at: Option<DateTime<FixedOffset>>,
    /// Working days past the due date on the summary's day (overdue problems only).
    pub working_days_overdue: Option<i64>,
    pub closed_at: Option<DateTime<FixedOffset>>,
    pub outcome: Option<Outcome>,
    pub benefits: Option<Benefits>,
}

impl SummaryProblem {
    fn of(row: &SummaryProblemRow, overdue_days: Option<i64>) -> Self {
        SummaryProblem {
            problem_id: row.id,
            number: row.number.clone(),
            title: row.title.clone(),
            enterprise: row.enterprise.clone(),
            category: row.category.clone(),
            category_name: row.category_name.clone(),
            urgency: row.urgency,
            status: row.status,
            department_id: row.department_id,
            department: row.department.clone(),
            created_at: wire_time(row.created_at),
            due_at: row.due_at.map(wire_time),
            working_days_overdue: overdue_days,
            closed_at: row.closed_at.map(wire_time),
            outcome: row.outcome,
            benefits: row.benefits(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlowDepartment {
    pub department_id: Uuid,
    pub department: String,
    /// Problems it leads that are open at `as_of`.
    pub open: i64,
    pub overdue: i64,
    /// Working days past due of its longest overdue problem.
    pub most_working_days_overdue: i64,
}

/// The instant a region's day is summed up at: that day at its figures time (China has no
/// daylight saving time, so the local time is an offset from midnight).
pub fn freeze_instant(settings: &RegionSettings, day: NaiveDate) -> DateTime<Utc> {
    start_of_day(day) + (settings.figures_at - NaiveTime::MIN)
}

/// The day's figures and lists as of `as_of`; `since` is the previous summary's instant (for
/// the problems newly overdue).
struct Gathered {
    figures: DayFigures,
    new_by_category: Vec<CategoryCount>,
    urgent: Vec<SummaryProblem>,
    closed: Vec<SummaryProblem>,
    closed_benefits: BenefitSums,
    overdue: Vec<SummaryProblem>,
    slowest_departments: Vec<SlowDepartment>,
}

fn gather(
    conn: &mut PgConnection,
    region: &Region,
    day: NaiveDate,
    as_of: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    calendar: &Calendar,
) -> QueryResult<Gathered> {
    let day_start = start_of_day(day);
    let officers = OfficerCounts::of_day(conn, &region.path, day, as_of)?;
    let rows = SummaryProblemRow::of_day(conn, &region.path, day_start, as_of)?;
    let open = OpenByDepartment::at(conn, &region.path, as_of)?;

    let mut figures = DayFigures {
        officers_total: officers.expected,
        officers_signed_in: officers.signed_in,
        sign_in_rate: rate(officers.signed_in, officers.expected),
        officers_reported: officers.reported,
        report_rate: rate(officers.reported, officers.expected),
        problems_open: open.iter().map(|d| d.open).sum(),
        ..DayFigures::default()
    };
    let mut by_category: BTreeMap<(Option<String>, Option<String>), i64> = BTreeMap::new();
    let (mut urgent, mut closed, mut overdue) = (Vec::new(), Vec::new(), Vec::new());
    let mut closed_benefits = BenefitSums::default();
    let mut late: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for row in &rows {
        if row.created_at >= day_start {
            figures.problems_new += 1;
            *by_category
                .entry((row.category.clone(), row.category_name.clone()))
                .or_default() += 1;
            if row.urgency == Urgency::Urgent {
                figures.problems_urgent_new += 1;
                urgent.push(SummaryProblem::of(row, None));
            }
        }
        if row.closed_at.is_some_and(|t| t >= day_start && t < as_of) {
            figures.problems_closed += 1;
            figures.problems_solved += i64::from(row.outcome.is_some_and(Outcome::is_solved));
            if let Some(benefits) = row.benefits() {
                closed_benefits.count(&benefits);
            }
            closed.push(SummaryProblem::of(row, None));
        }
        let open_then = row.closed_at.is_none_or(|t| t >= as_of);
        let unanswered = row.responded_at.is_none_or(|t| t >= as_of);
        if let (true, true, Some(due)) = (open_then, unanswered, row.due_at.filter(|d| *d < as_of)) {
            figures.problems_overdue += 1;
            figures.problems_newly_overdue += i64::from(since.is_some_and(|s| due >= s));
            let days = i64::from(calendar.working_days_between(local_date(due), day));
            if let Some(department) = row.department_id {
                let entry = late.entry(department).or_default();
                entry.0 += 1;
                entry.1 = entry.1.max(days);
            }
            overdue.push(SummaryProblem::of(row, Some(days)));
        }
    }
    // The longest overdue first (rows come by due date already: a stable sort keeps that).
    overdue.sort_by_key(|p| std::cmp::Reverse(p.working_days_overdue));
    let mut new_by_category: Vec<CategoryCount> = by_category
        .into_iter()
        .map(|((category, category_name), count)| CategoryCount {
            category,
            category_name,
            count,
        })
        .collect();
    new_by_category.sort_by_key(|c| std::cmp::Reverse(c.count));
    let mut slowest_departments: Vec<SlowDepartment> = open
        .into_iter()
        .filter_map(|d| {
            let id = d.department_id?;
            let (overdue, most) = late.get(&id).copied()?;
            Some(SlowDepartment {
                department_id: id,
                department: d.department.unwrap_or_default(),
                open: d.open,
                overdue,
                most_working_days_overdue: most,
            })
        })
        .collect();
    slowest_departments.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(b.most_working_days_overdue.cmp(&a.most_working_days_overdue))
            .then_with(|| a.department.cmp(&b.department))
    });
    slowest_departments.truncate(SLOWEST);
    for list in [&mut urgent, &mut closed, &mut overdue] {
        list.truncate(LIST_LIMIT);
    }
    Ok(Gathered {
        figures,
        new_by_category,
        urgent,
        closed,
        closed_benefits,
        overdue,
        slowest_departments,
    })
}

/// The previous working day's headline and instant: from its frozen summary when there is
/// one, else gathered as of its own figures time.
fn previous(
    conn: &mut PgConnection,
    region: &Region,
    day: NaiveDate,
    settings: &RegionSettings,
    calendar: &Calendar,
) -> Result<(Headline, DateTime<Utc>), AppError> {
    if let Some(stored) = StoredSummary::find(conn, &region.code, day)? {
        let summary = from_stored(stored)?;
        return Ok((summary.figures.headline(), summary.as_of.with_timezone(&Utc)));
    }
    let as_of = freeze_instant(settings, day);
    let gathered = gather(conn, region, day, as_of, None, calendar)?;
    Ok((gathered.figures.headline(), as_of))
}

/// What summing up a region's day reads besides its rows: the region's notification settings
/// (its figures time) and the official calendar. Callers load them once for all they sum up.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub settings: &'a RegionSettings,
    pub calendar: &'a Calendar,
}

/// A region's summary of `day` as of `as_of`; `frozen_at` says it is being frozen.
fn compute(
    conn: &mut PgConnection,
    region: &Region,
    day: NaiveDate,
    as_of: DateTime<Utc>,
    frozen_at: Option<DateTime<Utc>>,
    cx: Context,
) -> Result<DailySummary, AppError> {
    let previous_day = previous_working_day(cx.calendar, day);
    let (before, since) = previous(conn, region, previous_day, cx.settings, cx.calendar)?;
    let g = gather(conn, region, day, as_of, Some(since), cx.calendar)?;
    Ok(DailySummary {
        day,
        region_code: region.code.clone(),
        region_name: region.name.clone(),
        frozen: frozen_at.is_some(),
        frozen_at: frozen_at.map(wire_time),
        as_of: wire_time(as_of),
        previous_day,
        changes: daily_summary::changes(&g.figures.headline(), &before),
        figures: g.figures,
        new_by_category: g.new_by_category,
        urgent: g.urgent,
        closed: g.closed,
        closed_benefits: g.closed_benefits,
        overdue: g.overdue,
        slowest_departments: g.slowest_departments,
    })
}

fn from_stored(stored: StoredSummary) -> Result<DailySummary, AppError> {
    serde_json::from_value(stored.body).map_err(|e| AppError::Internal(e.into()))
}

/// The frozen summary of a region's working day whose figures time has passed, freezing it
/// now (as of that time) if no one has; `true` when this call froze it (two at once: the
/// primary key keeps the first, and the second returns it).
pub fn freeze(
    conn: &mut PgConnection,
    region: &Region,
    day: NaiveDate,
    now: DateTime<Utc>,
    cx: Context,
) -> Result<(DailySummary, bool), AppError> {
    if let Some(stored) = StoredSummary::find(conn, &region.code, day)? {
        return Ok((from_stored(stored)?, false));
    }
    let as_of = freeze_instant(cx.settings, day);
    let summary = compute(conn, region, day, as_of, Some(now), cx)?;
    let row = StoredSummary {
        region_code: region.code.clone(),
        day,
        as_of,
        frozen_at: now,
        body: serde_json::to_value(&summary).map_err(|e| AppError::Internal(e.into()))?,
    };
    if row.store(conn)? {
        tracing::info!(region = %region.code, %day, "daily summary frozen");
        return Ok((summary, true));
    }
    let stored = StoredSummary::find(conn, &region.code, day)?.ok_or(AppError::NotFound)?;
    Ok((from_stored(stored)?, false))
}

/// A region's summary of a working day that has begun: frozen once its figures time has
/// passed (freezing it if need be), live before.
pub fn summary(
    conn: &mut PgConnection,
    region: &Region,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DailySummary, AppError> {
    if let Some(stored) = StoredSummary::find(conn, &region.code, day)? {
        return from_stored(stored);
    }
    let settings = SettingsByRegion::load(conn)?;
    let calendar = CalendarYear::load(conn)?;
    let cx = Context {
        settings: settings.of(&region.code),
        calendar: &calendar,
    };
    if now < freeze_instant(cx.settings, day) {
        return compute(conn, region, day, now, None, cx);
    }
    freeze(conn, region, day, now, cx).map(|(summary, _)| summary)
}

fn cache_key(region_code: &str, day: NaiveDate) -> String {
    format!("summary:daily:{region_code}:{day}")
}

/// The copy of a frozen summary in Redis, if there is one (and Redis answers).
pub async fn cached(cache: &Cache, region_code: &str, day: NaiveDate) -> Option<DailySummary> {
    let json = cache.get(&cache_key(region_code, day)).await?;
    serde_json::from_str(&json).ok()
}

/// Keeps a copy of a frozen summary in Redis (a live one changes by the minute: never kept).
pub async fn keep(cache: &Cache, summary: &DailySummary) {
    if !summary.frozen {
        return;
    }
    match serde_json::to_string(summary) {
        Ok(json) => {
            cache
                .set_ex(&cache_key(&summary.region_code, summary.day), &json, CACHE_TTL)
                .await;
        }
        Err(e) => tracing::error!(error = %e, "daily summary not serialisable"),
    }
}

/// The day a summary is asked for by default: today on a working day, else the last one.
pub fn default_day(calendar: &Calendar, today: NaiveDate) -> NaiveDate {
    if calendar.is_working_day(today) {
        today
    } else {
        previous_working_day(calendar, today)
    }
}
