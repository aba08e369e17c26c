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
    fn as_str(self) -> &'static str {
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
pub async fn bump(cache: &Cache, region_path: &str, day: NaiveDate, metric: Metric, by: i64) {
    if by <= 0 {
        return;
    }
    for code in region_path.split('/').filter(|c| !c.is_empty()) {
        if cache
            .incr_by_with_ttl(&key(code, day, metric), by, TTL)
            .await
            .is_none()
        {
            tracing::warn!(region = code, %day, metric = metric.as_str(), "counter not bumped; reconciliation will repair it");
            return;
        }
    }
}

/// Bumps counters in the background: call it once the write has committed. The response does
/// not wait for Redis, and a Redis failure is only logged.
pub fn bump_after_commit(cache: &Cache, region_path: String, day: NaiveDate, bumps: Vec<(Metric, i64)>) {
    let cache = cache.clone();
    actix_web::rt::spawn(async move {
        for (metric, by) in bumps {
            bump(&cache, &region_path, day, metric, by).await;
        }
    });
}
