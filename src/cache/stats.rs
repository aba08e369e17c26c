//! Cached dashboard figures. Every answer is stored in an envelope that names the query it
//! answers, the instant it was computed at and the generations of the data it was computed
//! from; the writes that change figures bump those generations after they commit, so a stale
//! answer is never served: it no longer matches. Generations are per kind of data:
//! `figures` (problems, assignments, the calendar) and `activity:<day>` (that day's sign-ins
//! and reports, which change many times a minute at peaks but only for today and yesterday).
//! Redis being down or flushed just means computing from PostgreSQL again.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Cache;

/// Generations outlive every cached answer; an expired generation restarts at 0, which at
/// worst makes one cached answer look current for the rest of its (short) lifetime.
const GENERATION_TTL: Duration = Duration::from_secs(8 * 24 * 3600);
const FIGURES: &str = "stats:gen:figures";

/// The generation keys a cached answer depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependencies(Vec<String>);

impl Dependencies {
    /// Problems, assignments and the calendar.
    pub fn figures() -> Self {
        Self(vec![FIGURES.to_owned()])
    }

    /// ... and the sign-ins and reports of these days.
    pub fn with_activity_of(mut self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.0.extend(days.into_iter().map(activity_key));
        self
    }
}

fn activity_key(day: NaiveDate) -> String {
    format!("stats:gen:activity:{day}")
}

/// What is stored: the answer and what it was computed from.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<Q, V> {
    /// The query, so that reconciliation can compute the same answer again.
    pub query: Q,
    /// The instant the answer was computed at (figures that depend on the time use it).
    pub at: DateTime<Utc>,
    /// The generations the answer was computed from, in `Dependencies` order.
    pub generations: Vec<i64>,
    pub value: V,
}

/// The current generations of `deps` (0 for one never bumped), or `None` without Redis.
pub async fn generations(cache: &Cache, deps: &Dependencies) -> Option<Vec<i64>> {
    let mut pipe = redis::pipe();
    for key in &deps.0 {
        pipe.get(cache.key(key));
    }
    cache
        .query::<Vec<Option<i64>>>("stats_generations", &pipe)
        .await
        .map(|gens| gens.into_iter().map(Option::unwrap_or_default).collect())
}

/// A cached answer still valid for `deps`, and the generations read with it (to store a fresh
/// answer under when there is none). One round trip.
pub async fn lookup<Q: DeserializeOwned, V: DeserializeOwned>(
    cache: &Cache,
    key: &str,
    deps: &Dependencies,
) -> (Option<Envelope<Q, V>>, Option<Vec<i64>>) {
    let mut pipe = redis::pipe();
    for dep in &deps.0 {
        pipe.get(cache.key(dep));
    }
    pipe.get(cache.key(key));
    let Some(mut replies) = cache.query::<Vec<Option<String>>>("stats_lookup", &pipe).await else {
        return (None, None);
    };
    let stored = replies.pop().flatten();
    let current: Vec<i64> = replies
        .into_iter()
        .map(|g| g.and_then(|g| g.parse().ok()).unwrap_or_default())
        .collect();
    let envelope = stored
        .and_then(|json| serde_json::from_str::<Envelope<Q, V>>(&json).ok())
        .filter(|e| e.generations == current);
    (envelope, Some(current))
}

/// Stores an answer; failures are only logged by `Cache`.
pub async fn store<Q: Serialize, V: Serialize>(
    cache: &Cache,
    key: &str,
    envelope: &Envelope<Q, V>,
    ttl: Duration,
) {
    match serde_json::to_string(envelope) {
        Ok(json) => {
            cache.set_ex(key, &json, ttl).await;
        }
        Err(e) => tracing::error!(error = %e, key, "cached figures not serialisable"),
    }
}

/// Every stored answer's key (without the prefix), for reconciliation.
pub async fn stored_keys(cache: &Cache) -> Option<Vec<String>> {
    keys_matching(cache, "stats:fig:*").await
}

/// Forgets the stored views of an answer (`pattern` matches their keys).
pub async fn forget_views(cache: &Cache, pattern: &str) {
    for key in keys_matching(cache, pattern).await.unwrap_or_default() {
        cache.del(&key).await;
    }
}

/// The dashboards' keys (without the prefix) that match `pattern`; `SCAN`, so Redis is never
/// blocked by a long `KEYS`.
async fn keys_matching(cache: &Cache, pattern: &str) -> Option<Vec<String>> {
    let pattern = cache.key(pattern);
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let mut pipe = redis::pipe();
        pipe.cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(500);
        // In a cluster, the node that holds the dashboards' slot (the hash tag of `pattern`).
        let ((next, batch),): ((u64, Vec<String>),) =
            cache.query_on("stats_scan", &pipe, Some(&pattern)).await?;
        keys.extend(batch.iter().filter_map(|k| cache.name_of(k)));
        if next == 0 {
            return Some(keys);
        }
        cursor = next;
    }
}

/// The stored answer of a key whatever its generations, for reconciliation.
pub async fn stored<Q: DeserializeOwned, V: DeserializeOwned>(
    cache: &Cache,
    key: &str,
    deps_of: impl Fn(&Q) -> Dependencies,
) -> Option<(Envelope<Q, V>, bool)> {
    let json = cache.get(key).await?;
    let envelope: Envelope<Q, V> = serde_json::from_str(&json).ok()?;
    let current = generations(cache, &deps_of(&envelope.query)).await?;
    let live = envelope.generations == current;
    Some((envelope, live))
}

/// After a write to problems, assignments or the calendar has committed.
pub async fn figures_changed(cache: &Cache) {
    if !cache
        .incr_many_with_ttl(&[FIGURES.to_owned()], 1, GENERATION_TTL)
        .await
    {
        lost_bumps(cache).await;
    }
}

/// A write's generation bumps did not reach Redis: every cached answer depends on the figures
/// generation, so bumping that one once Redis answers again retires them all.
pub async fn lost_bumps(cache: &Cache) {
    if cache.owe_bumps(&[FIGURES.to_owned()], GENERATION_TTL).await {
        tracing::warn!("figures generation not bumped; it will be before Redis serves an answer again");
    }
}

/// The generation bumps of sign-ins or reports of `day` (and of problems, if some were filed),
/// to send with the write's other counters.
pub fn activity_bumps(day: NaiveDate, problems_too: bool) -> Vec<(String, i64, Duration)> {
    let mut bumps = vec![(activity_key(day), 1, GENERATION_TTL)];
    if problems_too {
        bumps.push((FIGURES.to_owned(), 1, GENERATION_TTL));
    }
    bumps
}
