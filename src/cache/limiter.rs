//! Budgets of failed attempts (wrong passwords, wrong invite codes, bad WeChat codes) per key
//! and window.
//!
//! An attempt is taken from the budget before the work it guards, in one atomic step with the
//! check (a Lua script in Redis, a mutex in memory), so parallel attempts cannot all pass a
//! check before any of them is counted. An attempt that succeeds is given back, and one that
//! could not be judged (a dependency failed) too; only failures spend the budget.
//!
//! Redis holds the counts so that every instance sees them; while Redis is unreachable each
//! instance keeps its own counts in memory, so the limit still holds (per instance) and the
//! sign-in itself keeps working. Each instance also remembers the last count Redis gave it for
//! each key, so that an outage (or a breaker opened by one slow answer) in the middle of a burst
//! does not hand that key a fresh budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Cache;
use crate::error::{AppError, ErrorCode};

/// INCR and, for a new key, PEXPIRE, in one step; the count and the milliseconds left.
const TAKE: &str = "local n = redis.call('INCR', KEYS[1]) \
    if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
    return {n, redis.call('PTTL', KEYS[1])}";

/// DECR of a key that still exists (a vanished key is not brought back without an expiry).
const GIVE_BACK: &str = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end return 0";

/// In-memory keys kept before expired ones are swept.
const LOCAL_SWEEP_AT: usize = 10_000;

/// What an instance knows of a key's failures in the current window.
#[derive(Debug, Clone, Copy)]
struct Tally {
    /// Failures counted here while Redis could not be reached.
    counted: i64,
    /// The last count Redis answered (its window's failures from every instance).
    seen: i64,
    /// When the window ends.
    until: Instant,
}

impl Tally {
    fn spent(&self) -> i64 {
        self.counted + self.seen
    }

    fn wait_ms(&self, now: Instant) -> i64 {
        self.until.saturating_duration_since(now).as_millis().max(1) as i64
    }
}

/// What a success does to the key's earlier failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSuccess {
    /// They are forgotten (an account's owner got their password right).
    Forget,
    /// They stay (an address shared by many: one right password says nothing of the others).
    Keep,
}

#[derive(Clone)]
pub struct AttemptLimiter {
    cache: Cache,
    namespace: &'static str,
    limit: i64,
    window: Duration,
    on_success: OnSuccess,
    local: Arc<Mutex<HashMap<String, Tally>>>,
}

impl AttemptLimiter {
    pub fn new(
        cache: Cache,
        namespace: &'static str,
        limit: i64,
        window: Duration,
        on_success: OnSuccess,
    ) -> Self {
        Self {
            cache,
            namespace,
            limit,
            window,
            on_success,
            local: Arc::default(),
        }
    }

    fn name(&self, key: &str) -> String {
        format!("{}:{}", self.namespace, key)
    }

    /// Takes one attempt from `key`'s budget; 429 `auth.too_many_attempts` once it is spent.
    pub async fn take(&self, key: &str) -> Result<(), AppError> {
        let name = self.name(key);
        let window_ms = self.window.as_millis() as i64;
        let wait_ms = match self.cache.eval::<(i64, i64)>(TAKE, &name, &[window_ms]).await {
            Some((count, left_ms)) => self.taken_in_redis(name, count, left_ms),
            None => self.take_locally(name),
        };
        if wait_ms <= 0 {
            return Ok(());
        }
        Err(AppError::RateLimited {
            code: ErrorCode::AuthTooManyAttempts,
            retry_after_secs: (wait_ms as u64).div_ceil(1000).max(1),
        })
    }

    /// Settles an attempt taken with [`take`](Self::take): a failure keeps it spent, a success
    /// or an attempt that could not be judged gives it back.
    pub async fn settle(&self, key: &str, outcome: Outcome) {
        let name = self.name(key);
        match (outcome, self.on_success) {
            (Outcome::Failed, _) => {}
            (Outcome::Succeeded, OnSuccess::Forget) => {
                self.cache.del(&name).await;
                self.local().remove(&name);
            }
            (Outcome::Succeeded, OnSuccess::Keep) | (Outcome::Void, _) => {
                self.cache.eval::<i64>(GIVE_BACK, &name, &[]).await;
                if let Some(tally) = self.local().get_mut(&name) {
                    if tally.counted > 0 {
                        tally.counted -= 1;
                    } else {
                        tally.seen = (tally.seen - 1).max(0);
                    }
                }
            }
        }
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tally>> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Judges an attempt Redis counted (`count` in its window, `left_ms` of it left); the
    /// milliseconds to wait, 0 when the attempt may go on.
    fn taken_in_redis(&self, name: String, count: i64, left_ms: i64) -> i64 {
        let now = Instant::now();
        let until = now + Duration::from_millis(left_ms.max(0) as u64);
        let mut local = self.local();
        // Every key is remembered until its window ends: the budgets themselves bound how many
        // keys one client can make (50 failing accounts per address and window).
        let known = local.get(&name).is_some_and(|tally| tally.until > now);
        let tally = self.tally(&mut local, name, now);
        tally.seen = count;
        tally.until = if known { tally.until.max(until) } else { until };
        // Failures this instance counted while Redis was away count too: a limit must not
        // reset because Redis came back (or was not reached yet at start-up).
        if tally.spent() > self.limit {
            tally.wait_ms(now)
        } else {
            0
        }
    }

    /// `name`'s tally in its current window (a new one when the last has ended).
    fn tally<'a>(&self, local: &'a mut HashMap<String, Tally>, name: String, now: Instant) -> &'a mut Tally {
        if local.len() >= LOCAL_SWEEP_AT {
            local.retain(|_, tally| tally.until > now);
        }
        let fresh = Tally {
            counted: 0,
            seen: 0,
            until: now + self.window,
        };
        let tally = local.entry(name).or_insert(fresh);
        if tally.until <= now {
            *tally = fresh;
        }
        tally
    }

    /// [`TAKE`] in memory, while Redis cannot be reached, on top of what Redis last said.
    fn take_locally(&self, name: String) -> i64 {
        let now = Instant::now();
        let mut local = self.local();
        let tally = self.tally(&mut local, name, now);
        tally.counted += 1;
        if tally.spent() > self.limit {
            tally.wait_ms(now)
        } else {
            0
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Wrong credentials: the attempt counts.
    Failed,
    /// Not judged (a dependency failed, a malformed request): the attempt does not count.
    Void,
}

impl Outcome {
    /// The outcome of a sign-in step: `Ok` succeeded, `failure_code` failed, anything else void.
    pub fn of<T>(result: &Result<T, AppError>, failure_code: ErrorCode) -> Self {
        match result {
            Ok(_) => Outcome::Succeeded,
            Err(e) if e.code() == failure_code => Outcome::Failed,
            Err(_) => Outcome::Void,
        }
    }
}

/// Runs `attempt` against `budgets` (limiter, key): each gives one attempt first, or the
/// request is refused with 429 before any work; then an answer with `failure_code` spends the
/// attempts, and any other answer gives them back.
pub async fn within_budgets<T>(
    budgets: &[(&AttemptLimiter, &str)],
    failure_code: ErrorCode,
    attempt: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    for (taken, (limiter, key)) in budgets.iter().enumerate() {
        if let Err(refused) = limiter.take(key).await {
            for (limiter, key) in &budgets[..taken] {
                limiter.settle(key, Outcome::Void).await;
            }
            return Err(refused);
        }
    }
    let result = attempt.await;
    let outcome = Outcome::of(&result, failure_code);
    for (limiter, key) in budgets {
        limiter.settle(key, outcome).await;
    }
    result
}
