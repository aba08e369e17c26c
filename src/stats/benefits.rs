//! 惠企成效 on the dashboards: what the answers of a period were worth — loans, fees and taxes
//! reduced, subsidies, positions filled — summed for the scope and by category, lead
//! department and region. A problem counts in the period in which it was answered.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::models::stats::{AsOf, BenefitFacts, OfficerFigures, StatsScope};
use crate::domain::benefit::Benefits;
use crate::domain::metrics::start_of_day;
use crate::error::AppError;
use crate::schema::{regions, units};

/// Sums over a set of answered problems.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitSums {
    /// Problems with any benefit stated.
    pub problems: i64,
    pub loan_yuan: i64,
    pub fees_reduced_yuan: i64,
    pub subsidies_yuan: i64,
    pub positions_filled: i64,
    /// Of `problems`, those stating other benefits in words.
    pub with_other: i64,
}

impl BenefitSums {
    fn add(&mut self, f: &BenefitFacts) {
        self.problems += 1;
        self.loan_yuan += f.loan_yuan.unwrap_or(0);
        self.fees_reduced_yuan += f.fees_reduced_yuan.unwrap_or(0);
        self.subsidies_yuan += f.subsidies_yuan.unwrap_or(0);
        self.positions_filled += i64::from(f.positions_filled.unwrap_or(0));
        self.with_other += i64::from(f.other);
    }

    /// An officer's sums, as their figures carry them.
    pub fn of_officer(f: &OfficerFigures) -> Self {
        BenefitSums {
            problems: f.benefit_problems,
            loan_yuan: f.benefit_loan_yuan,
            fees_reduced_yuan: f.benefit_fees_reduced_yuan,
            subsidies_yuan: f.benefit_subsidies_yuan,
            positions_filled: f.benefit_positions_filled,
            with_other: f.benefit_with_other,
        }
    }

    /// Adds another set of sums (a unit's month from its officers').
    pub fn add_sums(&mut self, other: &BenefitSums) {
        self.problems += other.problems;
        self.loan_yuan += other.loan_yuan;
        self.fees_reduced_yuan += other.fees_reduced_yuan;
        self.subsidies_yuan += other.subsidies_yuan;
        self.positions_filled += other.positions_filled;
        self.with_other += other.with_other;
    }

    /// Adds one problem's stated benefits (the daily summary's problems closed that day).
    pub fn count(&mut self, b: &Benefits) {
        self.problems += 1;
        self.loan_yuan += b.loan_yuan.unwrap_or(0);
        self.fees_reduced_yuan += b.fees_reduced_yuan.unwrap_or(0);
        self.subsidies_yuan += b.subsidies_yuan.unwrap_or(0);
        self.positions_filled += b.positions_filled.unwrap_or(0);
        self.with_other += i64::from(b.other.is_some());
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryBenefits {
    /// `null` for problems never classified (resolved on the spot).
    pub category: Option<String>,
    #[serde(flatten)]
    pub sums: BenefitSums,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentBenefits {
    /// `null` for problems the officer resolved on the spot (no department).
    pub department_id: Option<Uuid>,
    pub department_name: Option<String>,
    #[serde(flatten)]
    pub sums: BenefitSums,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionBenefits {
    pub region_code: String,
    pub region_name: String,
    #[serde(flatten)]
    pub sums: BenefitSums,
}

/// `GET /stats/benefits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitStats {
    pub region_code: String,
    pub unit_id: Option<Uuid>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub totals: BenefitSums,
    pub by_category: Vec<CategoryBenefits>,
    /// Largest loan sum first.
    pub by_department: Vec<DepartmentBenefits>,
    /// By the enterprise's region, by code.
    pub by_region: Vec<RegionBenefits>,
}

pub fn benefits(
    conn: &mut PgConnection,
    scope: &StatsScope,
    from: NaiveDate,
    to: NaiveDate,
    as_of: AsOf,
) -> Result<BenefitStats, AppError> {
    let until = start_of_day(to + Duration::days(1)).min(as_of.rows_before);
    let facts = BenefitFacts::in_period(conn, scope, start_of_day(from), until)?;
    let mut totals = BenefitSums::default();
    let mut by_category: BTreeMap<Option<String>, BenefitSums> = BTreeMap::new();
    let mut by_department: HashMap<Option<Uuid>, BenefitSums> = HashMap::new();
    let mut by_region: BTreeMap<String, BenefitSums> = BTreeMap::new();
    for f in &facts {
        totals.add(f);
        by_category.entry(f.category.clone()).or_default().add(f);
        by_department.entry(f.department_id).or_default().add(f);
        by_region.entry(f.region_code.clone()).or_default().add(f);
    }
    let ids: Vec<Uuid> = by_department.keys().flatten().copied().collect();
    let departments: HashMap<Uuid, String> = units::table
        .filter(units::id.eq_any(&ids))
        .select((units::id, units::name))
        .load::<(Uuid, String)>(conn)?
        .into_iter()
        .collect();
    let codes: Vec<&String> = by_region.keys().collect();
    let region_names: HashMap<String, String> = regions::table
        .filter(regions::code.eq_any(codes))
        .select((regions::code, regions::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut by_department: Vec<DepartmentBenefits> = by_department
        .into_iter()
        .map(|(id, sums)| DepartmentBenefits {
            department_id: id,
            department_name: id.and_then(|id| departments.get(&id).cloned()),
            sums,
        })
        .collect();
    by_department.sort_by(|a, b| {
        b.sums
            .loan_yuan
            .cmp(&a.sums.loan_yuan)
            .then_with(|| a.department_name.cmp(&b.department_name))
            .then_with(|| a.department_id.cmp(&b.department_id))
    });
    Ok(BenefitStats {
        region_code: scope.region_code.clone(),
        unit_id: scope.unit_id,
        from,
        to,
        totals,
        by_category: by_category
            .into_iter()
            .map(|(category, sums)| CategoryBenefits { category, sums })
            .collect(),
        by_department,
        by_region: by_region
            .into_iter()
            .map(|(code, sums)| RegionBenefits {
                region_name: region_names.get(&code).cloned().unwrap_or_default(),
                region_code: code,
                sums,
            })
            .collect(),
    })
}
