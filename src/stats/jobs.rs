//! 用工需求 for the human-resources bureau: the openings of a region subtree as they stand,
//! summed by job type, industry and region. Withdrawn openings are left out; an opening counts
//! its positions, those filled, and those still to fill.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::db::models::job_opening::{EnterpriseLine, JobOpening};
use crate::domain::job_opening::JobType;

/// Sums over a set of openings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobSums {
    pub openings: i64,
    pub positions: i64,
    pub filled: i64,
    /// `positions − filled`: what is still sought.
    pub to_fill: i64,
}

impl JobSums {
    fn add(&mut self, o: &JobOpening) {
        self.openings += 1;
        self.positions += i64::from(o.positions);
        self.filled += i64::from(o.filled);
        self.to_fill += i64::from(o.positions - o.filled);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobTypeSums {
    pub job_type: JobType,
    pub label: &'static str,
    #[serde(flatten)]
    pub sums: JobSums,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndustrySums {
    pub industry: String,
    #[serde(flatten)]
    pub sums: JobSums,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionSums {
    pub region_code: String,
    #[serde(flatten)]
    pub sums: JobSums,
}

/// `GET /api/v1/stats/jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobStats {
    pub region_code: String,
    /// Enterprises with positions still to fill.
    pub enterprises_seeking: i64,
    pub totals: JobSums,
    /// Most positions still to fill first, then in code-list order.
    pub by_job_type: Vec<JobTypeSums>,
    /// Most positions still to fill first, then by name.
    pub by_industry: Vec<IndustrySums>,
    /// By the enterprise's region code.
    pub by_region: Vec<RegionSums>,
}

pub fn job_stats(region_code: &str, openings: &[(JobOpening, EnterpriseLine)]) -> JobStats {
    let mut totals = JobSums::default();
    let mut by_type: BTreeMap<usize, JobSums> = BTreeMap::new();
    let mut by_industry: BTreeMap<&str, JobSums> = BTreeMap::new();
    let mut by_region: BTreeMap<&str, JobSums> = BTreeMap::new();
    let mut seeking: Vec<uuid::Uuid> = Vec::new();
    for (o, e) in openings.iter().filter(|(o, _)| !o.withdrawn) {
        totals.add(o);
        let position = JobType::ALL.iter().position(|t| *t == o.job_type).unwrap_or(0);
        by_type.entry(position).or_default().add(o);
        by_industry.entry(e.industry.as_str()).or_default().add(o);
        by_region.entry(o.region_code.as_str()).or_default().add(o);
        if o.filled < o.positions {
            seeking.push(o.enterprise_id);
        }
    }
    seeking.sort_unstable();
    seeking.dedup();
    let mut by_job_type: Vec<JobTypeSums> = by_type
        .into_iter()
        .map(|(i, sums)| {
            let job_type = JobType::ALL[i];
            JobTypeSums {
                job_type,
                label: job_type.label(),
                sums,
            }
        })
        .collect();
    by_job_type.sort_by_key(|t| std::cmp::Reverse(t.sums.to_fill));
    let mut by_industry: Vec<IndustrySums> = by_industry
        .into_iter()
        .map(|(industry, sums)| IndustrySums {
            industry: industry.to_owned(),
            sums,
        })
        .collect();
    by_industry.sort_by_key(|i| std::cmp::Reverse(i.sums.to_fill));
    JobStats {
        region_code: region_code.to_owned(),
        enterprises_seeking: seeking.len() as i64,
        totals,
        by_job_type,
        by_industry,
        by_region: by_region
            .into_iter()
            .map(|(code, sums)| RegionSums {
                region_code: code.to_owned(),
                sums,
            })
            .collect(),
    }
}
