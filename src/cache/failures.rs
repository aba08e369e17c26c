//! Counts failed attempts (wrong passwords, wrong invite codes) per key within a window.
//!
//! Redis holds the count so that every instance sees it; while Redis is unreachable each
//! instance keeps its own count in memory, so the limit still holds (per instance) and the
//! login itself keeps working.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Cache;

#[derive(Clone)]
pub struct FailureCounter {
    cache: Cache,
    namespace: &'static str,
    limit: i64,
    window: Duration,
    local: Arc<Mutex<HashMap<String, (i64, Instant)>>>,
}

impl FailureCounter {
    pub fn new(cache: Cache, namespace: &'static str, limit: i64, window: Duration) -> Self {
        Self {
            cache,
            namespace,
            limit,
            window,
            local: Arc::default(),
        }
    }

    fn name(&self, key: &str) -> String {
        format!("{}:{}", self.namespace, key)
    }

    /// `Some(retry_after_secs)` when the key has used up its attempts.
    pub async fn blocked(&self, key: &str) -> Option<u64> {
        let name = self.name(key);
        let count = match self.cache.get(&name).await {
            Some(v) => v.parse::<i64>().unwrap_or(0),
            None => self.local_count(&name).0,
        };
        if count < self.limit {
            return None;
        }
        let retry = match self.cache.ttl(&name).await {
            Some(ttl) => ttl,
            None => self.local_count(&name).1,
        };
        Some(retry.max(1))
    }

    /// Records one failure.
    pub async fn record(&self, key: &str) {
        let name = self.name(key);
        if self.cache.incr_with_ttl(&name, self.window).await.is_none() {
            let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            local.retain(|_, (_, since)| now.duration_since(*since) < self.window);
            local.entry(name).or_insert((0, now)).0 += 1;
        }
    }

    /// Forgets the failures of a key after a success.
    pub async fn clear(&self, key: &str) {
        let name = self.name(key);
        self.cache.del(&name).await;
        self.local.lock().unwrap_or_else(|e| e.into_inner()).remove(&name);
    }

    /// The in-memory count of a key and the seconds left in its window.
    fn local_count(&self, name: &str) -> (i64, u64) {
        let local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        match local.get(name) {
            Some((count, since)) if since.elapsed() < self.window => {
                (*count, (self.window - since.elapsed()).as_secs())
            }
            _ => (0, 0),
        }
    }
}
