//! Compares what Redis holds with what PostgreSQL says and repairs the difference: the per-day
//! counters of the days that can no longer change, and every cached dashboard answer still in
//! use (recomputed as of the instant it was computed at). Run by `zhuqi reconcile-stats` and
//! every few minutes by the `reconcile_stats` job; several instances running it at once only
//! repeat each other's work.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

use super::StatsQuery;
use crate::cache::counters::{self, Metric};
use crate::cache::stats::{self as cached, Envelope};
use crate::cache::Cache;
use crate::clock::local_day;
use crate::db::models::stats::DayCount;
use crate::db::{self, PgPool};
use crate::domain::daily_report;
use crate::domain::metrics::start_of_day;
use crate::error::AppError;
use crate::schema::regions;

/// Counters of this many settled days back are checked.
const SETTLED_DAYS: i64 = 7;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub redis_available: bool,
    pub counters_checked: usize,
    pub counters_repaired: usize,
    pub answers_checked: usize,
    pub answers_repaired: usize,
}

pub async fn run(pool: &PgPool, cache: &Cache, now: DateTime<Utc>) -> Result<Reconciliation, AppError> {
    let mut outcome = Reconciliation::default();
    let expected = db::run(pool, move |conn| expected_counters(conn, now)).await?;
    let Some((checked, repaired)) = counters::repair(cache, &expected).await else {
        return Ok(outcome);
    };
    outcome.redis_available = true;
    outcome.counters_checked = checked;
    outcome.counters_repaired = repaired;
    for key in cached::stored_keys(cache).await.unwrap_or_default() {
        match reconcile_answer(pool, cache, &key, now).await? {
            Some(true) => {
                outcome.answers_checked += 1;
                outcome.answers_repaired += 1;
            }
            Some(false) => outcome.answers_checked += 1,
            None => {}
        }
    }
    Ok(outcome)
}

/// What every per-day counter of the settled days should read: each region's own counts
/// added up over its subtree. Reports stay open until 10:00 the next morning, so yesterday's
/// report counter settles only then.
fn expected_counters(
    conn: &mut diesel::PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, AppError> {
    use diesel::prelude::*;
    let today = local_day(now);
    let (from, to) = (today - Duration::days(SETTLED_DAYS), today - Duration::days(1));
    let counts = DayCount::between(conn, from, to, start_of_day(from), start_of_day(today))?;
    let paths: HashMap<String, String> = regions::table
        .select((regions::code, regions::path))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    // Every counter of every region and settled day, 0 where PostgreSQL has nothing, so that a
    // counter that drifted up from nothing is found too.
    let mut expected: HashMap<String, i64> = HashMap::new();
    for code in paths.keys() {
        for day in from.iter_days().take_while(|d| *d <= to) {
            for metric in Metric::ALL {
                if !(metric == Metric::Reports && daily_report::is_open(now, day)) {
                    expected.insert(counters::key(code, day, metric), 0);
                }
            }
        }
    }
    for count in counts {
        let Some(metric) = Metric::ALL.into_iter().find(|m| m.as_str() == count.metric) else {
            continue;
        };
        if metric == Metric::Reports && daily_report::is_open(now, count.day) {
            continue;
        }
        let path = paths
            .get(&count.region_code)
            .map(String::as_str)
            .unwrap_or_default();
        for code in path.split('/').filter(|c| !c.is_empty()) {
            *expected
                .entry(counters::key(code, count.day, metric))
                .or_default() += count.count;
        }
    }
    let mut expected: Vec<(String, i64)> = expected.into_iter().collect();
    expected.sort();
    Ok(expected)
}

/// Recomputes one cached answer still in use; `Some(true)` when it had drifted and was
/// replaced, `None` when there was nothing (current) to check.
async fn reconcile_answer(
    pool: &PgPool,
    cache: &Cache,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<bool>, AppError> {
    let today = local_day(now);
    let deps_of = |q: &StatsQuery| q.dependencies(today);
    let Some((envelope, true)) = cached::stored::<StatsQuery, Box<RawValue>>(cache, key, deps_of).await
    else {
        return Ok(None);
    };
    // An answer about a period still running lives until the end of its minute: recomputing
    // it would cost more than the drift it could show.
    if !envelope.query.is_over(now) {
        return Ok(None);
    }
    let Envelope {
        query,
        at,
        generations,
        value,
    } = envelope;
    let recomputed_query = query.clone();
    let fresh = db::run(pool, move |conn| recomputed_query.compute(conn, at)).await?;
    if fresh.get() == value.get() {
        return Ok(Some(false));
    }
    // A write that committed while recomputing changed the generations: the stored answer is
    // retired anyway, and the difference is that write, not drift.
    if cached::generations(cache, &query.dependencies(today))
        .await
        .as_ref()
        != Some(&generations)
    {
        return Ok(None);
    }
    tracing::warn!(key, "cached figures drifted from PostgreSQL; replaced");
    let ttl = query.ttl(now);
    let envelope = Envelope {
        query,
        at,
        generations,
        value: fresh,
    };
    cached::store(cache, key, &envelope, ttl).await;
    // Its views (ranked pages) were made from the drifted answer.
    cached::forget_views(cache, &envelope.query.view_key("*")).await;
    Ok(Some(true))
}
