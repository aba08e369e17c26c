//! One computation per question at a time in this instance. When a cached answer expires
//! (every minute for today's figures) the dashboards' many readers all miss at once; without
//! this each of them would run the same aggregate query, queue for the pool and stall the
//! others for hundreds of milliseconds. The first reader computes; the rest wait for its
//! answer, which they share even without Redis.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::error::AppError;

type Slot<V> = Arc<OnceCell<V>>;

pub struct InFlight<V> {
    slots: Mutex<HashMap<String, Slot<V>>>,
}

impl<V> Default for InFlight<V> {
    fn default() -> Self {
        Self {
            slots: Mutex::default(),
        }
    }
}

impl<V: Clone> InFlight<V> {
    /// The answer of `compute` for `key`, computed once for every caller that arrives while it
    /// runs. A failed computation is not shared: the next waiter tries again.
    pub async fn run<F, Fut>(&self, key: &str, compute: F) -> Result<V, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, AppError>>,
    {
        let slot: Slot<V> = {
            let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(slots.entry(key.to_owned()).or_default())
        };
        let result = slot.get_or_try_init(compute).await.cloned();
        // The answer now lives in the cache (or is recomputed by the next caller): forget it,
        // unless a newer slot already took this key's place.
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if slots.get(key).is_some_and(|current| Arc::ptr_eq(current, &slot)) {
            slots.remove(key);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::Value;

    use super::*;

    #[tokio::test]
    async fn callers_arriving_together_share_one_computation() {
        let in_flight = Arc::new(InFlight::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (in_flight, runs) = (Arc::clone(&in_flight), Arc::clone(&runs));
            tasks.push(tokio::spawn(async move {
                in_flight
                    .run("overview", || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(Value::from(42))
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.ok().and_then(Result::ok), Some(Value::from(42)));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(
            in_flight.slots.lock().map(|s| s.is_empty()).unwrap_or(false),
            "nothing left behind"
        );
    }

    #[tokio::test]
    async fn a_failure_is_not_shared_and_a_later_call_computes_again() {
        let in_flight = InFlight::default();
        let failed = in_flight.run("k", || async { Err(AppError::NotFound) }).await;
        assert!(failed.is_err());
        let value = in_flight.run("k", || async { Ok(Value::from(1)) }).await;
        assert_eq!(value.ok(), Some(Value::from(1)));
    }
}
