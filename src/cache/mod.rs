//! Redis, used only as a cache and for counters: every call here may fail or time out, and
//! every caller has an answer without it. Redis being down, slow or flushed never fails a
//! request, and when it comes back it is used again without a restart.

pub mod counters;
pub mod limiter;
pub mod stats;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::RwLock;

#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    client: Option<redis::Client>,
    conn: RwLock<Option<ConnectionManager>>,
    connecting: AtomicBool,
    timeout: Duration,
    prefix: String,
    /// Generation bumps lost while Redis was away (key → expiry), paid before the next call
    /// that reaches it: a cached answer must never outlive a write it did not see, even when
    /// Redis comes back with its data (a persistent Redis, or one only unreachable).
    owed: tokio::sync::Mutex<BTreeMap<String, Duration>>,
    owing: AtomicBool,
    /// Until when (ms since `started`) Redis counts as down after a failure: calls answer
    /// `None` at once instead of each waiting out the timeout.
    down_until_ms: AtomicU64,
    /// A call is finding out whether Redis is back.
    probing: AtomicBool,
    started: Instant,
}

/// How long Redis counts as down after a call failed or timed out; the first call after it
/// is the probe that finds it back.
const BREAK: Duration = Duration::from_secs(1);

impl Cache {
    /// Never fails and never waits: the first connection is made in the background.
    pub fn new(url: &str, timeout: Duration, prefix: &str) -> Self {
        let client = redis::Client::open(url)
            .map_err(|e| tracing::error!(error = %e, "REDIS_URL cannot be used; running without Redis"))
            .ok();
        Self {
            inner: Arc::new(Inner {
                client,
                conn: RwLock::new(None),
                connecting: AtomicBool::new(false),
                timeout,
                prefix: prefix.to_owned(),
                owed: tokio::sync::Mutex::default(),
                owing: AtomicBool::new(false),
                down_until_ms: AtomicU64::new(0),
                probing: AtomicBool::new(false),
                started: Instant::now(),
            }),
        }
    }

    /// Starts connecting now, so the first requests already find Redis when it is up.
    pub fn connect_in_background(&self) {
        self.reconnect_in_background();
    }

    /// The full key for a logical name, with this deployment's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.inner.prefix, name)
    }

    /// A live connection, or `None` while Redis is unreachable (a reconnect is then started in
    /// the background, one at a time, so requests never wait for it).
    async fn connection(&self) -> Option<ConnectionManager> {
        if let Some(conn) = self.inner.conn.read().await.as_ref() {
            return Some(conn.clone());
        }
        self.reconnect_in_background();
        None
    }

    fn reconnect_in_background(&self) {
        let Some(client) = self.inner.client.clone() else {
            return;
        };
        if self.inner.connecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(inner.timeout * 4)
                .set_response_timeout(inner.timeout)
                .set_number_of_retries(1)
                .set_max_delay(500);
            match ConnectionManager::new_with_config(client, config).await {
                Ok(conn) => {
                    tracing::info!("connected to Redis");
                    *inner.conn.write().await = Some(conn);
                }
                Err(e) => tracing::warn!(error = %e, "Redis unreachable; serving from PostgreSQL"),
            }
            // Throttle attempts while Redis stays down.
            if inner.conn.read().await.is_none() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            inner.connecting.store(false, Ordering::Release);
        });
    }

    fn now_ms(&self) -> u64 {
        self.inner.started.elapsed().as_millis() as u64
    }

    /// Runs one command (or pipeline) within the timeout; `None` on any failure. After a
    /// failure Redis counts as down for [`BREAK`]; bumps owed from an outage are paid first.
    async fn query<T: redis::FromRedisValue>(&self, what: &'static str, cmd: &redis::Pipeline) -> Option<T> {
        let down_until = self.inner.down_until_ms.load(Ordering::Acquire);
        if down_until == 0 {
            return self.query_now(what, cmd).await;
        }
        // Down: fall back at once. Once the window is over, one call probes Redis while the
        // others go on falling back, so an outage costs one timeout per window, not one per call.
        if self.now_ms() < down_until || self.inner.probing.swap(true, Ordering::AcqRel) {
            return None;
        }
        let answer = self.query_now(what, cmd).await;
        if answer.is_some() {
            let _ =
                self.inner
                    .down_until_ms
                    .compare_exchange(down_until, 0, Ordering::AcqRel, Ordering::Acquire);
            tracing::info!("Redis answers again");
        }
        self.inner.probing.store(false, Ordering::Release);
        answer
    }

    async fn query_now<T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &redis::Pipeline,
    ) -> Option<T> {
        let mut conn = self.connection().await?;
        if self.inner.owing.load(Ordering::Acquire) && !self.pay_owed(&mut conn).await {
            return None;
        }
        self.run(what, cmd, &mut conn).await
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &redis::Pipeline,
        conn: &mut ConnectionManager,
    ) -> Option<T> {
        let failed = match tokio::time::timeout(self.inner.timeout, cmd.query_async::<T>(conn)).await {
            Ok(Ok(value)) => return Some(value),
            Ok(Err(e)) => format!("failed: {e}"),
            Err(_) => "timed out".to_owned(),
        };
        tracing::warn!(
            op = what,
            "Redis call {failed}; falling back for {} ms",
            BREAK.as_millis()
        );
        let until = self.now_ms() + BREAK.as_millis() as u64;
        self.inner.down_until_ms.fetch_max(until, Ordering::AcqRel);
        None
    }

    /// Remembers generation bumps that could not be made, to make them before Redis is used
    /// again; `true` when nothing was owed before (the first lost bump of an outage).
    pub async fn owe_bumps(&self, names: &[String], ttl: Duration) -> bool {
        let mut owed = self.inner.owed.lock().await;
        for name in names {
            owed.insert(name.clone(), ttl);
        }
        !self.inner.owing.swap(true, Ordering::AcqRel)
    }

    /// Makes the owed bumps; `true` when Redis took them (or there were none). Calls arriving
    /// meanwhile wait for it, so none reads an answer the bumps are about to retire.
    async fn pay_owed(&self, conn: &mut ConnectionManager) -> bool {
        let mut owed = self.inner.owed.lock().await;
        if owed.is_empty() {
            return true;
        }
        // The call that held the lock before may just have found Redis down.
        if self.now_ms() < self.inner.down_until_ms.load(Ordering::Acquire) {
            return false;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (name, ttl) in owed.iter() {
            let key = self.key(name);
            pipe.incr(&key, 1).ignore();
            pipe.cmd("EXPIRE")
                .arg(&key)
                .arg(ttl.as_secs().max(1))
                .arg("NX")
                .ignore();
        }
        if self.run::<()>("owed_bumps", &pipe, conn).await.is_none() {
            return false;
        }
        tracing::info!(
            bumps = owed.len(),
            "generation bumps lost in a Redis outage made now"
        );
        owed.clear();
        self.inner.owing.store(false, Ordering::Release);
        true
    }

    /// `true` when Redis answers a PING within the timeout.
    pub async fn ping(&self) -> bool {
        let mut pipe = redis::pipe();
        pipe.cmd("PING");
        self.query::<(String,)>("ping", &pipe).await.is_some()
    }

    pub async fn get(&self, name: &str) -> Option<String> {
        let mut pipe = redis::pipe();
        pipe.get(self.key(name));
        self.query::<(Option<String>,)>("get", &pipe)
            .await
            .and_then(|(v,)| v)
    }

    /// [`Cache::get`] that tells an absent key (`Some(None)`) from Redis being away (`None`).
    pub async fn lookup(&self, name: &str) -> Option<Option<String>> {
        let mut pipe = redis::pipe();
        pipe.get(self.key(name));
        self.query::<(Option<String>,)>("get", &pipe).await.map(|(v,)| v)
    }

    /// Sets the key only if it is absent (a lock): `Some(true)` when this call set it, `None`
    /// when Redis is away.
    pub async fn set_nx(&self, name: &str, value: &str, ttl: Duration) -> Option<bool> {
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.key(name))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64);
        self.query::<(Option<String>,)>("set_nx", &pipe)
            .await
            .map(|(v,)| v.is_some())
    }

    pub async fn set_ex(&self, name: &str, value: &str, ttl: Duration) -> bool {
        let mut pipe = redis::pipe();
        pipe.set_ex(self.key(name), value, ttl.as_secs().max(1)).ignore();
        self.query::<()>("set_ex", &pipe).await.is_some()
    }

    pub async fn del(&self, name: &str) -> bool {
        let mut pipe = redis::pipe();
        pipe.del(self.key(name)).ignore();
        self.query::<()>("del", &pipe).await.is_some()
    }

    /// Increments a counter and starts its expiry when it is new; returns the new value.
    pub async fn incr_with_ttl(&self, name: &str, ttl: Duration) -> Option<i64> {
        self.incr_by_with_ttl(name, 1, ttl).await
    }

    pub async fn incr_by_with_ttl(&self, name: &str, by: i64, ttl: Duration) -> Option<i64> {
        let key = self.key(name);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .incr(&key, by)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(ttl.as_secs().max(1))
            .arg("NX")
            .ignore();
        self.query::<(i64,)>("incr", &pipe).await.map(|(v,)| v)
    }

    /// Adds `by` to several counters in one round trip, starting the expiry of new ones.
    pub async fn incr_many_with_ttl(&self, names: &[String], by: i64, ttl: Duration) -> bool {
        let increments: Vec<(String, i64, Duration)> = names.iter().map(|n| (n.clone(), by, ttl)).collect();
        self.incr_each(&increments).await
    }

    /// Adds to each counter its own amount, in one atomic round trip, starting the expiry of
    /// new ones.
    pub async fn incr_each(&self, increments: &[(String, i64, Duration)]) -> bool {
        if increments.is_empty() {
            return true;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (name, by, ttl) in increments {
            let key = self.key(name);
            pipe.incr(&key, *by).ignore();
            pipe.cmd("EXPIRE")
                .arg(&key)
                .arg(ttl.as_secs().max(1))
                .arg("NX")
                .ignore();
        }
        self.query::<()>("incr_each", &pipe).await.is_some()
    }

    /// Runs a Lua script on one key (with this deployment's prefix) and integer arguments;
    /// scripts run atomically, so a check and a count in one script cannot be interleaved.
    pub async fn eval<T: redis::FromRedisValue>(&self, script: &str, name: &str, args: &[i64]) -> Option<T> {
        let mut pipe = redis::pipe();
        pipe.cmd("EVAL").arg(script).arg(1).arg(self.key(name));
        for arg in args {
            pipe.arg(*arg);
        }
        self.query::<(T,)>("eval", &pipe).await.map(|(v,)| v)
    }

    /// Seconds until the key expires, if it exists and has an expiry.
    pub async fn ttl(&self, name: &str) -> Option<u64> {
        let mut pipe = redis::pipe();
        pipe.ttl(self.key(name));
        self.query::<(i64,)>("ttl", &pipe)
            .await
            .and_then(|(v,)| u64::try_from(v).ok())
    }
}
