//! Redis, used only as a cache and for counters: every call here may fail or time out, and
//! every caller has an answer without it. Redis being down, slow or flushed never fails a
//! request, and when it comes back it is used again without a restart.
//!
//! `REDIS_URL` names one server (`redis://host:port/db`) or a Redis Cluster
//! (`redis-cluster://host:port,host:port,…`, any of its nodes; the redis crate's cluster
//! client finds the others and follows the slots as they move). The dashboards' keys
//! (`stats:…`) are read and written together — a cached figure with the generations it was
//! computed from, a county's counter with its city's in one atomic increment — so in a cluster
//! they share one hash tag, `{stats}`, and so one slot; every other key (rate limits, sessions,
//! daily summaries) is spread over the cluster by its own name.

pub mod counters;
pub mod limiter;
pub mod stats;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{get_slot, Route, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Pipeline, RedisFuture, Value};
use tokio::sync::RwLock;

/// The scheme of a `REDIS_URL` that names a Redis Cluster by some of its nodes.
pub const CLUSTER_SCHEME: &str = "redis-cluster://";

/// The hash tag of the dashboards' keys: in a cluster they live in one slot (see above).
const STATS_FAMILY: &str = "stats:";
const STATS_TAGGED: &str = "{stats}:";

/// One server or a cluster, as `REDIS_URL` says.
enum Client {
    Single(redis::Client),
    Cluster(ClusterClient),
}

impl Client {
    fn open(url: &str) -> redis::RedisResult<Self> {
        let Some(rest) = url.strip_prefix(CLUSTER_SCHEME) else {
            return redis::Client::open(url).map(Client::Single);
        };
        // redis-cluster://[user:password@]host:port,host:port[/]: the same credentials for
        // every node; a cluster has only database 0.
        let rest = rest.trim_end_matches('/');
        let (credentials, hosts) = match rest.rsplit_once('@') {
            Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
            None => (String::new(), rest),
        };
        let nodes: Vec<String> = hosts
            .split(',')
            .filter(|h| !h.trim().is_empty())
            .map(|h| format!("redis://{credentials}{}/", h.trim()))
            .collect();
        ClusterClient::new(nodes).map(Client::Cluster)
    }

    async fn connect(&self, timeout: Duration) -> redis::RedisResult<Conn> {
        match self {
            Client::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(timeout * 4)
                    .set_response_timeout(timeout)
                    .set_number_of_retries(1)
                    .set_max_delay(500);
                ConnectionManager::new_with_config(client.clone(), config)
                    .await
                    .map(|c| Conn::Single(Box::new(c)))
            }
            Client::Cluster(client) => client.get_async_connection().await.map(Conn::Cluster),
        }
    }
}

/// A live connection to one server or to a cluster; cheap to clone (both multiplex).
#[derive(Clone)]
enum Conn {
    Single(Box<ConnectionManager>),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

impl Conn {
    /// Runs a pipeline; one without keys (a `SCAN`) that must reach the node holding
    /// `slot_of`'s slot is sent there in a cluster (the client would pick a node at random).
    async fn query<T: redis::FromRedisValue>(
        &mut self,
        pipe: &Pipeline,
        slot_of: Option<&str>,
    ) -> redis::RedisResult<T> {
        match (self, slot_of) {
            (Conn::Cluster(c), Some(key)) => {
                let route = Route::new(get_slot(key.as_bytes()), SlotAddr::Master);
                let count = pipe.cmd_iter().count();
                let values = c
                    .route_pipeline(pipe, 0, count, SingleNodeRoutingInfo::SpecificNode(route))
                    .await?;
                T::from_redis_value(&Value::Array(values))
            }
            (conn, _) => pipe.query_async(conn).await,
        }
    }
}

#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    client: Option<Arc<Client>>,
    conn: RwLock<Option<Conn>>,
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
        let client = Client::open(url)
            .map_err(|e| tracing::error!(error = %e, "REDIS_URL cannot be used; running without Redis"))
            .ok()
            .map(Arc::new);
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

    /// The full key for a logical name, with this deployment's prefix (and the dashboards'
    /// hash tag for theirs).
    pub fn key(&self, name: &str) -> String {
        match name.strip_prefix(STATS_FAMILY) {
            Some(rest) => format!("{}{STATS_TAGGED}{rest}", self.inner.prefix),
            None => format!("{}{name}", self.inner.prefix),
        }
    }

    /// The logical name of a full key [`Cache::key`] made.
    pub fn name_of(&self, key: &str) -> Option<String> {
        let name = key.strip_prefix(&self.inner.prefix)?;
        Some(match name.strip_prefix(STATS_TAGGED) {
            Some(rest) => format!("{STATS_FAMILY}{rest}"),
            None => name.to_owned(),
        })
    }

    /// A live connection, or `None` while Redis is unreachable (a reconnect is then started in
    /// the background, one at a time, so requests never wait for it).
    async fn connection(&self) -> Option<Conn> {
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
            match client.connect(inner.timeout).await {
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
        self.query_on(what, cmd, None).await
    }

    /// [`Cache::query`] of a pipeline without keys, sent in a cluster to the node that holds
    /// the slot of the key `slot_of` (a `SCAN` of one family of keys).
    async fn query_on<T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &redis::Pipeline,
        slot_of: Option<&str>,
    ) -> Option<T> {
        let down_until = self.inner.down_until_ms.load(Ordering::Acquire);
        if down_until == 0 {
            return self.query_now(what, cmd, slot_of).await;
        }
        // Down: fall back at once. Once the window is over, one call probes Redis while the
        // others go on falling back, so an outage costs one timeout per window, not one per call.
        if self.now_ms() < down_until || self.inner.probing.swap(true, Ordering::AcqRel) {
            return None;
        }
        let answer = self.query_now(what, cmd, slot_of).await;
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
        slot_of: Option<&str>,
    ) -> Option<T> {
        let mut conn = self.connection().await?;
        if self.inner.owing.load(Ordering::Acquire) && !self.pay_owed(&mut conn).await {
            return None;
        }
        self.run(what, cmd, &mut conn, slot_of).await
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        cmd: &redis::Pipeline,
        conn: &mut Conn,
        slot_of: Option<&str>,
    ) -> Option<T> {
        let failed = match tokio::time::timeout(self.inner.timeout, conn.query::<T>(cmd, slot_of)).await {
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
    async fn pay_owed(&self, conn: &mut Conn) -> bool {
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
        if self.run::<()>("owed_bumps", &pipe, conn, None).await.is_none() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_url_names_its_nodes_with_their_credentials() {
        assert!(matches!(
            Client::open("redis://127.0.0.1:6379/0"),
            Ok(Client::Single(_))
        ));
        assert!(matches!(
            Client::open("redis-cluster://:secret@10.0.2.21:6379,10.0.2.22:6379, 10.0.2.23:6379/"),
            Ok(Client::Cluster(_))
        ));
        assert!(Client::open("redis-cluster://").is_err(), "no node");
    }

    #[tokio::test]
    async fn the_dashboards_keys_share_one_hash_tag_and_others_do_not() {
        let cache = Cache::new("redis://127.0.0.1:1/0", Duration::from_millis(10), "city:");
        let figure = cache.key("stats:fig:overview:430200");
        let counter = cache.key("stats:430211:2026-11-20:sign_ins");
        assert_eq!(figure, "city:{stats}:fig:overview:430200");
        assert_eq!(get_slot(figure.as_bytes()), get_slot(counter.as_bytes()));
        assert_eq!(cache.key("session:u1"), "city:session:u1");
        assert_eq!(
            cache.name_of(&figure).as_deref(),
            Some("stats:fig:overview:430200")
        );
        assert_eq!(cache.name_of("other:stats:x"), None);
    }
}
