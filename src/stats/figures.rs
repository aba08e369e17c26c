//! The answers themselves: raw counts from `db::models::stats`, turned into the figures and
//! rates of `docs/metrics.md`.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::benefits::BenefitSums;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::stats::{
    AsOf, CoHandlingFacts, OfficerFigures, OfficerPeriod, OverviewCounts, PeriodBy, ProblemFacts, StatsScope,
    TaskForceFacts,
};
use crate::db::models::task_force::TaskForce;
use crate::domain::calendar::Calendar;
use crate::domain::deadline::local_date;
use crate::domain::lifecycle::Outcome;
use crate::domain::metrics::{mean, rate, start_of_day};
use crate::domain::officer_rating::EnterpriseRatings;
use crate::error::AppError;
use crate::schema::units;

/// `GET /stats/overview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub region_code: String,
    pub unit_id: Option<Uuid>,
    pub day: NaiveDate,
    pub officers_total: i64,
    pub officers_signed_in: i64,
    pub sign_in_rate: Option<f64>,
    pub officers_reported: i64,
    pub report_rate: Option<f64>,
    pub problems_new: i64,
    pub problems_open: i64,
    pub problems_overdue: i64,
    pub resolution_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    /// 惠企成效 of the month so far (its first day to the end of `day`).
    #[serde(default)]
    pub benefits_month: BenefitSums,
}

pub fn overview(
    conn: &mut PgConnection,
    scope: &StatsScope,
    day: NaiveDate,
    as_of: AsOf,
) -> Result<Overview, AppError> {
    let c = OverviewCounts::compute(conn, scope, day, start_of_day(day), as_of)?;
    Ok(Overview {
        region_code: scope.region_code.clone(),
        unit_id: scope.unit_id,
        day,
        officers_total: c.officers_total,
        officers_signed_in: c.officers_signed_in,
        sign_in_rate: rate(c.officers_signed_in, c.officers_total),
        officers_reported: c.officers_reported,
        report_rate: rate(c.officers_reported, c.officers_total),
        problems_new: c.problems_new,
        problems_open: c.problems_open,
        problems_overdue: c.problems_overdue,
        resolution_rate: rate(c.problems_resolved, c.problems_total),
        on_time_rate: rate(c.problems_responded_on_time, c.problems_responded),
        benefits_month: super::benefits::benefits(conn, scope, day.with_day(1).unwrap_or(day), day, as_of)?
            .totals,
    })
}

/// Running totals over a set of problems, as of an instant.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    total: i64,
    solved: i64,
    responded: i64,
    on_time: i64,
    overdue_open: i64,
    rated: i64,
    satisfied: i64,
    working_days_to_respond: i64,
}

impl Tally {
    fn add(&mut self, p: &ProblemFacts, as_of: AsOf, calendar: &Calendar) {
        let before = |t: Option<chrono::DateTime<chrono::Utc>>| t.is_some_and(|t| t < as_of.rows_before);
        self.total += 1;
        if before(p.closed_at) && p.outcome.is_some_and(Outcome::is_solved) {
            self.solved += 1;
        }
        let responded = before(p.responded_at);
        if let (true, Some(due), Some(responded_at)) = (responded, p.due_at, p.responded_at) {
            self.responded += 1;
            if responded_at <= due {
                self.on_time += 1;
            }
            if let Some(assigned) = p.assigned_at {
                let days = calendar.working_days_between(local_date(assigned), local_date(responded_at));
                self.working_days_to_respond += i64::from(days);
            }
        }
        let open = !before(p.closed_at);
        if open && !responded && p.due_at.is_some_and(|due| due < as_of.deadlines_before) {
            self.overdue_open += 1;
        }
        if let Some(rating) = p.rating {
            self.rated += 1;
            if rating.is_satisfied() {
                self.satisfied += 1;
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryCount {
    /// `null` for problems not classified yet.
    pub category: Option<String>,
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
}

/// `GET /stats/problems`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemStats {
    pub region_code: String,
    pub unit_id: Option<Uuid>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: i64,
    pub by_category: Vec<CategoryCount>,
    pub by_status: BTreeMap<String, i64>,
    pub solved: i64,
    pub resolution_rate: Option<f64>,
    pub responded: i64,
    pub on_time_rate: Option<f64>,
    pub overdue_open: i64,
    pub mean_working_days_to_respond: Option<f64>,
    pub satisfaction_rate: Option<f64>,
}

fn period_bounds(
    from: NaiveDate,
    to: NaiveDate,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    (start_of_day(from), start_of_day(to + Duration::days(1)))
}

pub fn problems(
    conn: &mut PgConnection,
    scope: &StatsScope,
    from: NaiveDate,
    to: NaiveDate,
    as_of: AsOf,
) -> Result<ProblemStats, AppError> {
    let (start, end) = period_bounds(from, to);
    let facts = ProblemFacts::in_period(conn, scope, PeriodBy::Created, start, end)?;
    let calendar = CalendarYear::load(conn)?;
    let mut tally = Tally::default();
    let mut by_category: BTreeMap<Option<String>, CategoryCount> = BTreeMap::new();
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    for p in &facts {
        tally.add(p, as_of, &calendar);
        let entry = by_category
            .entry(p.category.clone())
            .or_insert_with(|| CategoryCount {
                category: p.category.clone(),
                total: 0,
                by_status: BTreeMap::new(),
            });
        entry.total += 1;
        *entry.by_status.entry(p.status.to_string()).or_default() += 1;
        *by_status.entry(p.status.to_string()).or_default() += 1;
    }
    Ok(ProblemStats {
        region_code: scope.region_code.clone(),
        unit_id: scope.unit_id,
        from,
        to,
        total: tally.total,
        by_category: by_category.into_values().collect(),
        by_status,
        solved: tally.solved,
        resolution_rate: rate(tally.solved, tally.total),
        responded: tally.responded,
        on_time_rate: rate(tally.on_time, tally.responded),
        overdue_open: tally.overdue_open,
        mean_working_days_to_respond: mean(tally.working_days_to_respond, tally.responded),
        satisfaction_rate: rate(tally.satisfied, tally.rated),
    })
}

/// One department's record in `GET /stats/departments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentStats {
    pub department_id: Uuid,
    pub department_name: String,
    pub assigned: i64,
    pub responded: i64,
    pub responded_on_time: i64,
    pub on_time_rate: Option<f64>,
    pub overdue_open: i64,
    pub mean_working_days_to_respond: Option<f64>,
    pub rated: i64,
    pub satisfied: i64,
    pub satisfaction_rate: Option<f64>,
    /// As a co-handling department (协办): parts given in the period (returned ones left out),
    /// opinions filed, those filed by their due date, and that rate. The figures above are
    /// the department's as lead (牵头).
    #[serde(default)]
    pub co_handled: i64,
    #[serde(default)]
    pub co_opined: i64,
    #[serde(default)]
    pub co_opined_on_time: i64,
    #[serde(default)]
    pub co_on_time_rate: Option<f64>,
}

/// A department's co-handling parts, as of an instant.
#[derive(Debug, Default, Clone, Copy)]
struct CoTally {
    parts: i64,
    opined: i64,
    on_time: i64,
}

impl CoTally {
    fn add(&mut self, c: &CoHandlingFacts, as_of: AsOf) {
        self.parts += 1;
        if let Some(opined) = c.opined_at.filter(|t| *t < as_of.rows_before) {
            self.opined += 1;
            if opined <= c.due_at {
                self.on_time += 1;
            }
        }
    }
}

/// Departments with problems assigned in the period, as lead or co-handler, slowest first
/// (lowest on-time rate as lead; those with nothing responded yet last), then by name.
pub fn departments(
    conn: &mut PgConnection,
    scope: &StatsScope,
    from: NaiveDate,
    to: NaiveDate,
    as_of: AsOf,
) -> Result<Vec<DepartmentStats>, AppError> {
    let (start, end) = period_bounds(from, to);
    let facts = ProblemFacts::in_period(conn, scope, PeriodBy::Assigned, start, end)?;
    let calendar = CalendarYear::load(conn)?;
    let mut tallies: HashMap<Uuid, (Tally, CoTally)> = HashMap::new();
    for p in &facts {
        if let Some(department) = p.department_id {
            tallies.entry(department).or_default().0.add(p, as_of, &calendar);
        }
    }
    for c in CoHandlingFacts::in_period(conn, scope, start, end)? {
        tallies.entry(c.department_id).or_default().1.add(&c, as_of);
    }
    let ids: Vec<Uuid> = tallies.keys().copied().collect();
    let names: HashMap<Uuid, String> = units::table
        .filter(units::id.eq_any(&ids))
        .select((units::id, units::name))
        .load::<(Uuid, String)>(conn)?
        .into_iter()
        .collect();
    let mut rows: Vec<DepartmentStats> = tallies
        .into_iter()
        .map(|(id, (t, co))| DepartmentStats {
            department_id: id,
            department_name: names.get(&id).cloned().unwrap_or_default(),
            assigned: t.total,
            responded: t.responded,
            responded_on_time: t.on_time,
            on_time_rate: rate(t.on_time, t.responded),
            overdue_open: t.overdue_open,
            mean_working_days_to_respond: mean(t.working_days_to_respond, t.responded),
            rated: t.rated,
            satisfied: t.satisfied,
            satisfaction_rate: rate(t.satisfied, t.rated),
            co_handled: co.parts,
            co_opined: co.opined,
            co_opined_on_time: co.on_time,
            co_on_time_rate: rate(co.on_time, co.opined),
        })
        .collect();
    rows.sort_by(|a, b| {
        let key = |d: &DepartmentStats| d.on_time_rate.unwrap_or(f64::INFINITY);
        key(a)
            .total_cmp(&key(b))
            .then_with(|| a.department_name.cmp(&b.department_name))
            .then_with(|| a.department_id.cmp(&b.department_id))
    });
    Ok(rows)
}

/// One task force's record in `GET /stats/task-forces` (专班).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskForceStats {
    pub task_force_id: Uuid,
    pub name: String,
    pub region_code: String,
    pub leader_id: Uuid,
    pub leader_name: String,
    /// Enterprises it owns now.
    pub enterprises: i64,
    /// Problems raised at those enterprises in the period, and how they went.
    pub problems: i64,
    pub solved: i64,
    pub resolution_rate: Option<f64>,
    pub responded: i64,
    pub on_time_rate: Option<f64>,
    pub overdue_open: i64,
    pub mean_working_days_to_respond: Option<f64>,
    pub satisfaction_rate: Option<f64>,
}

/// Every task force of the scope's region subtree (those without problems in the period
/// too), by name: the problems raised at its enterprises in the period.
pub fn task_forces(
    conn: &mut PgConnection,
    scope: &StatsScope,
    from: NaiveDate,
    to: NaiveDate,
    as_of: AsOf,
) -> Result<Vec<TaskForceStats>, AppError> {
    let (start, end) = period_bounds(from, to);
    let calendar = CalendarYear::load(conn)?;
    let mut tallies: HashMap<Uuid, Tally> = HashMap::new();
    for f in TaskForceFacts::in_period(conn, scope, start, end)? {
        tallies
            .entry(f.task_force_id)
            .or_default()
            .add(&f.problem, as_of, &calendar);
    }
    let forces = TaskForce::with_leaders_in_region(conn, &scope.region_path)?;
    Ok(forces
        .into_iter()
        .map(|(force, leader_name, enterprises)| {
            let t = tallies.get(&force.id).copied().unwrap_or_default();
            TaskForceStats {
                task_force_id: force.id,
                name: force.name,
                region_code: force.region_code,
                leader_id: force.leader_id,
                leader_name,
                enterprises,
                problems: t.total,
                solved: t.solved,
                resolution_rate: rate(t.solved, t.total),
                responded: t.responded,
                on_time_rate: rate(t.on_time, t.responded),
                overdue_open: t.overdue_open,
                mean_working_days_to_respond: mean(t.working_days_to_respond, t.responded),
                satisfaction_rate: rate(t.satisfied, t.rated),
            }
        })
        .collect())
}

/// One officer's record in `GET /stats/officers` and in the monthly report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfficerStats {
    pub officer_id: Uuid,
    pub name: String,
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub region_code: String,
    pub working_days: i64,
    pub days_on_site: i64,
    pub signed_in_days: i64,
    pub sign_in_rate: Option<f64>,
    pub reported_days: i64,
    pub report_rate: Option<f64>,
    pub sign_ins: i64,
    pub reports: i64,
    pub problems_raised: i64,
    pub problems_solved: i64,
    pub problems_overdue: i64,
    pub ratings: Ratings,
    pub satisfaction_rate: Option<f64>,
    /// 惠企成效 stated by the answers to the officer's problems in the period.
    #[serde(default)]
    pub benefits: BenefitSums,
    /// The enterprises' ratings of the officer (企业评价) for the months of the period: count
    /// and means only, never who rated what.
    #[serde(default)]
    pub enterprise_ratings: EnterpriseRatings,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratings {
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub dissatisfied: i64,
}

impl From<OfficerFigures> for OfficerStats {
    fn from(f: OfficerFigures) -> Self {
        let rated = f.rated_satisfied + f.rated_basically_satisfied + f.rated_dissatisfied;
        OfficerStats {
            benefits: BenefitSums::of_officer(&f),
            enterprise_ratings: EnterpriseRatings::of(
                f.enterprise_ratings,
                f.enterprise_presence_sum,
                f.enterprise_responsiveness_sum,
                f.enterprise_help_sum,
            ),
            sign_in_rate: rate(f.signed_in_days, f.working_days),
            report_rate: rate(f.reported_days, f.working_days),
            satisfaction_rate: rate(f.rated_satisfied + f.rated_basically_satisfied, rated),
            ratings: Ratings {
                satisfied: f.rated_satisfied,
                basically_satisfied: f.rated_basically_satisfied,
                dissatisfied: f.rated_dissatisfied,
            },
            officer_id: f.officer_id,
            name: f.officer_name,
            unit_id: f.unit_id,
            unit_name: f.unit_name,
            region_code: f.region_code,
            working_days: f.working_days,
            days_on_site: f.days_on_site,
            signed_in_days: f.signed_in_days,
            reported_days: f.reported_days,
            sign_ins: f.sign_ins,
            reports: f.reports,
            problems_raised: f.problems_raised,
            problems_solved: f.problems_solved,
            problems_overdue: f.problems_overdue,
        }
    }
}

/// Every officer of the scope on assignment during the period, ordered by id (the caller
/// ranks them).
pub fn officers(
    conn: &mut PgConnection,
    scope: &StatsScope,
    from: NaiveDate,
    to: NaiveDate,
    as_of: AsOf,
) -> Result<Vec<OfficerStats>, AppError> {
    let period = OfficerPeriod {
        scope,
        officer_id: None,
        from,
        to,
        from_start: start_of_day(from),
        as_of,
    };
    Ok(OfficerFigures::compute(conn, &period)?
        .into_iter()
        .map(OfficerStats::from)
        .collect())
}
