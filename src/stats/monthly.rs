//! 月报: each officer's month, and each unit's as the sum of its officers'. While the month
//! lasts the figures are live; once it is over (`Month::is_over`) they are frozen in one
//! transaction, all officers at once, and every later read returns the frozen figures.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::benefits::BenefitSums;
use super::figures::{OfficerStats, Ratings};
use crate::clock::wire_time;
use crate::db::models::monthly::MonthlyFreeze;
use crate::db::models::stats::{AsOf, OfficerFigures, OfficerPeriod, StatsScope};
use crate::domain::metrics::{rate, start_of_day, Month};
use crate::domain::officer_rating::EnterpriseRatings;
use crate::error::AppError;

/// The figures of every officer, whatever the region: what a freeze stores.
fn everyone() -> StatsScope {
    StatsScope {
        region_code: String::new(),
        region_path: String::new(),
        unit_id: None,
    }
}

fn period<'a>(
    month: Month,
    scope: &'a StatsScope,
    officer_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> OfficerPeriod<'a> {
    let last = month.last_day();
    OfficerPeriod {
        scope,
        officer_id,
        from: month.first_day(),
        to: last,
        from_start: start_of_day(month.first_day()),
        as_of: AsOf::end_of(last, now),
    }
}

/// Freezes a month that is over, unless it is frozen already; `true` when this call froze it.
pub fn freeze(conn: &mut PgConnection, month: Month, now: DateTime<Utc>) -> Result<bool, AppError> {
    if !month.is_over(now) {
        return Ok(false);
    }
    conn.transaction(|conn| {
        if !MonthlyFreeze::claim(conn, month.first_day(), now)? {
            return Ok(false);
        }
        let scope = everyone();
        let figures = OfficerFigures::compute(conn, &period(month, &scope, None, now))?;
        MonthlyFreeze::store(conn, month.first_day(), &figures)?;
        tracing::info!(%month, officers = figures.len(), "month frozen");
        Ok(true)
    })
}

/// A month's officer figures within a scope: frozen ones once the month is over (freezing it
/// first if no one has yet), live ones before. Also says when it was frozen.
pub fn officer_figures(
    conn: &mut PgConnection,
    month: Month,
    scope: &StatsScope,
    officer_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(Vec<OfficerFigures>, Option<DateTime<Utc>>), AppError> {
    if !month.is_over(now) {
        let live = OfficerFigures::compute(conn, &period(month, scope, officer_id, now))?;
        return Ok((live, None));
    }
    freeze(conn, month, now)?;
    let frozen_at = MonthlyFreeze::frozen_at(conn, month.first_day())?;
    let figures = MonthlyFreeze::figures(conn, month.first_day(), scope, officer_id)?;
    Ok((figures, frozen_at))
}

/// A unit's (or the whole scope's) month: its officers' figures added up.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitMonth {
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub officers: i64,
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
    /// 惠企成效 stated by the answers to its officers' problems that month.
    pub benefits: BenefitSums,
    /// The enterprises' ratings of its officers that month (count and means).
    pub enterprise_ratings: EnterpriseRatings,
    /// The ratings' count and score sums, which the means are taken from.
    #[serde(skip)]
    rating_sums: [i64; 4],
}

impl UnitMonth {
    fn add(&mut self, f: &OfficerFigures) {
        self.officers += 1;
        self.working_days += f.working_days;
        self.days_on_site += f.days_on_site;
        self.signed_in_days += f.signed_in_days;
        self.reported_days += f.reported_days;
        self.sign_ins += f.sign_ins;
        self.reports += f.reports;
        self.problems_raised += f.problems_raised;
        self.problems_solved += f.problems_solved;
        self.problems_overdue += f.problems_overdue;
        self.ratings.satisfied += f.rated_satisfied;
        self.ratings.basically_satisfied += f.rated_basically_satisfied;
        self.ratings.dissatisfied += f.rated_dissatisfied;
        self.benefits.add_sums(&BenefitSums::of_officer(f));
        let sums = [
            f.enterprise_ratings,
            f.enterprise_presence_sum,
            f.enterprise_responsiveness_sum,
            f.enterprise_help_sum,
        ];
        for (total, n) in self.rating_sums.iter_mut().zip(sums) {
            *total += n;
        }
    }

    fn with_rates(mut self) -> Self {
        let r = self.ratings;
        self.sign_in_rate = rate(self.signed_in_days, self.working_days);
        self.report_rate = rate(self.reported_days, self.working_days);
        self.satisfaction_rate = rate(
            r.satisfied + r.basically_satisfied,
            r.satisfied + r.basically_satisfied + r.dissatisfied,
        );
        let [count, presence, responsiveness, help] = self.rating_sums;
        self.enterprise_ratings = EnterpriseRatings::of(count, presence, responsiveness, help);
        self
    }
}

/// `GET /reports/monthly`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthlyReport {
    pub month: String,
    pub frozen: bool,
    pub frozen_at: Option<DateTime<FixedOffset>>,
    pub region_code: String,
    pub unit_id: Option<Uuid>,
    pub officer_id: Option<Uuid>,
    /// The whole scope's month.
    pub totals: UnitMonth,
    /// Each unit's month, by unit name.
    pub units: Vec<UnitMonth>,
    /// Each officer's month (by name). The JSON report lists them when it is narrowed to a unit
    /// or an officer, the region-wide list being the Excel ledger's job.
    pub officers: Vec<OfficerStats>,
}

impl MonthlyReport {
    pub fn build(
        month: Month,
        scope: &StatsScope,
        officer_id: Option<Uuid>,
        figures: Vec<OfficerFigures>,
        frozen_at: Option<DateTime<Utc>>,
        list_officers: bool,
    ) -> MonthlyReport {
        let mut totals = UnitMonth::default();
        let mut units: BTreeMap<(Option<String>, Option<Uuid>), UnitMonth> = BTreeMap::new();
        for f in &figures {
            totals.add(f);
            let unit = units
                .entry((f.unit_name.clone(), f.unit_id))
                .or_insert_with(|| UnitMonth {
                    unit_id: f.unit_id,
                    unit_name: f.unit_name.clone(),
                    ..UnitMonth::default()
                });
            unit.add(f);
        }
        let mut officers: Vec<OfficerStats> = if list_officers {
            figures.into_iter().map(OfficerStats::from).collect()
        } else {
            Vec::new()
        };
        officers.sort_by(|a, b| a.name.cmp(&b.name).then(a.officer_id.cmp(&b.officer_id)));
        MonthlyReport {
            month: month.to_string(),
            frozen: frozen_at.is_some(),
            frozen_at: frozen_at.map(wire_time),
            region_code: scope.region_code.clone(),
            unit_id: scope.unit_id,
            officer_id,
            totals: totals.with_rates(),
            units: units.into_values().map(UnitMonth::with_rates).collect(),
            officers,
        }
    }
}
