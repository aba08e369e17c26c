//! Per-region, per-day counters that the dashboards read: bumped after a write commits,
//! never before, and never allowed to fail the request (PostgreSQL stays the truth; a later
//! reconciliation repairs drift).

use std::time::Duration;

use chrono::NaiveDate;

use super::Cache;

/// Counters outlive the month they describe, then expire.
const TTL: Duration = Duration::from_secs(40 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    SignIns,
    Reports,
    Problems,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::SignIns, Metric::Reports, Metric::Problems];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::SignIns => "sign_ins",
            Metric::Reports => "reports",
            Metric::Problems => "problems",
        }
    }
}

/// The counter key of a region, day and metric (without the deployment prefix).
pub fn key(region_code: &str, day: NaiveDate, metric: Metric) -> String {
    format!("stats:{region_code}:{day}:{}", metric.as_str())
}

/// Adds `by` to the counter of every region on `region_path` (the region and its ancestors),
/// so a city's figure is one read.
fn bumps(
    region_path: &str,
    day: NaiveDate,
    metric: Metric,
    by: i64,
) -> impl Iterator<Item = (String, i64, Duration)> + '_ {
    region_path
        .split('/')
        .filter(move |c| !c.is_empty() && by > 0)
        .map(move |code| (key(code, day, metric), by, TTL))
}

/// Call once the write has committed: bumps the day's counters and the generations of the
/// cached figures the write changed (`cache::stats`), in one round trip. Waiting for it lets
/// the writer read its own write on the dashboard; a Redis failure is only logged (and bounded
/// by the cache's timeout), and reconciliation repairs the counters later.
pub async fn after_commit(cache: &Cache, region_path: &str, day: NaiveDate, counts: &[(Metric, i64)]) {
    let problems = counts.iter().any(|&(m, by)| m == Metric::Problems && by > 0);
    let mut increments: Vec<(String, i64, Duration)> = counts
        .iter()
        .flat_map(|&(metric, by)| bumps(region_path, day, metric, by))
        .collect();
    increments.extend(super::stats::activity_bumps(day, problems));
    if !cache.incr_each(&increments).await {
        // Logged once per outage (by `lost_bumps`); reconciliation repairs the counters.
        tracing::debug!(region_path, %day, "counters not bumped");
        super::stats::lost_bumps(cache).await;
    }
}

/// Sets counters to the values PostgreSQL says they should have, where they differ; returns
/// how many were checked and how many repaired (`None` without Redis). Only for days that can
/// no longer change, so no write can slip between the count and the repair.
pub async fn repair(cache: &Cache, expected: &[(String, i64)]) -> Option<(usize, usize)> {
    let mut repaired = 0;
    for chunk in expected.chunks(500) {
        let mut pipe = redis::pipe();
        for (name, _) in chunk {
            pipe.get(cache.key(name));
        }
        let stored: Vec<Option<i64>> = cache.query("counters_read", &pipe).await?;
        let mut fix = redis::pipe();
        let mut fixes = 0;
        for ((name, want), have) in chunk.iter().zip(stored) {
            // A missing counter reads as 0: no need to create one that says so.
            if have.unwrap_or_default() != *want {
                // The first few name the problem; the job logs the total.
                if repaired + fixes < 5 {
                    tracing::warn!(counter = name.as_str(), have, want, "counter differed from PostgreSQL (lost bumps, a flush, or rows loaded outside the API); repaired");
                }
                fix.set_ex(cache.key(name), want, TTL.as_secs()).ignore();
                fixes += 1;
            }
        }
        if fixes > 0 {
            cache.query::<()>("counters_repair", &fix).await?;
            repaired += fixes;
        }
    }
    Some((expected.len(), repaired))
}
