//! Read replicas (`DATABASE_READ_URL`): PostgreSQL streaming standbys that answer the reads
//! which tolerate a little lag — dashboards, exports and ledgers — so that a province's
//! leaders reading the morning figures never compete with the officers' writes on the
//! primary. Writes, and every read that must see the caller's own write, stay on the primary.
//!
//! Each instance checks its replicas every second ([`Replicas::check`]): a replica that does
//! not answer, is not a standby, or has replayed less than the primary had written more than
//! `DATABASE_READ_MAX_LAG_SECONDS` ago is skipped until a later check finds it well again; with
//! no usable replica the reads go to the primary, as without replicas. A read that fails on
//! a replica (it stopped mid-request) is made again on the primary: the caller never sees it.
//!
//! A read served by a replica says how fresh it is: the response carries
//! `X-Data-As-Of`, the instant up to which the replica had replayed the primary's writes
//! (now, when it had replayed everything the primary had written when the read began).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Asia::Shanghai;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text, Timestamptz};

use super::PgPool;
use crate::error::AppError;

pub const DATA_AS_OF_HEADER: HeaderName = HeaderName::from_static("x-data-as-of");

/// A position in the write-ahead log (`pg_lsn`), comparable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(u64);

impl Lsn {
    /// `X/Y` as PostgreSQL writes it: two hexadecimal halves.
    pub fn parse(text: &str) -> Option<Lsn> {
        let (high, low) = text.split_once('/')?;
        let high = u64::from_str_radix(high, 16).ok()?;
        let low = u64::from_str_radix(low, 16).ok()?;
        (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX)).then_some(Lsn(high << 32 | low))
    }
}

/// What the last check found of a replica.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Health {
    /// Not checked yet: not used until a check finds it well.
    Unknown,
    Usable {
        lag: Duration,
    },
    Lagging {
        lag: Option<Duration>,
    },
    Down,
}

struct Replica {
    /// host:port/database, without credentials: for logs.
    name: String,
    pool: PgPool,
    health: Mutex<Health>,
}

impl Replica {
    fn health(&self) -> Health {
        self.health.lock().map(|h| *h).unwrap_or(Health::Down)
    }

    /// Records a check's finding; a change is logged (a replica leaving or rejoining the reads
    /// is what an operator looks for at 3 a.m.).
    fn set_health(&self, now: Health) {
        let Ok(mut health) = self.health.lock() else {
            return;
        };
        let was = std::mem::replace(&mut *health, now);
        let usable = |h: Health| matches!(h, Health::Usable { .. });
        match (usable(was), now) {
            (false, Health::Usable { lag }) => {
                tracing::info!(replica = %self.name, lag_ms = lag.as_millis() as u64, "read replica in use")
            }
            (true, Health::Lagging { lag }) => tracing::warn!(
                replica = %self.name,
                lag_ms = lag.map(|l| l.as_millis() as u64),
                "read replica lags beyond DATABASE_READ_MAX_LAG_SECONDS; reading from the primary"
            ),
            (true, Health::Down) | (false, Health::Down) if was != Health::Down => tracing::warn!(
                replica = %self.name,
                "read replica unreachable (or not a standby); reading from the primary"
            ),
            _ => {}
        }
    }
}

/// The replicas of one instance; empty without `DATABASE_READ_URL`.
pub struct Replicas {
    replicas: Vec<Arc<Replica>>,
    max_lag: Duration,
    next: AtomicUsize,
}

/// Where a read was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Primary,
    Replica {
        /// Whether the replica had replayed everything the primary had written when the read
        /// began (so the answer is as current as the primary's would have been).
        current: bool,
        /// The instant the data are as of.
        as_of: DateTime<Utc>,
    },
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Bool)]
    standby: bool,
    #[diesel(sql_type = Nullable<Text>)]
    replayed: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    replayed_at: Option<DateTime<Utc>>,
}

fn replay_position(conn: &mut PgConnection) -> QueryResult<Position> {
    diesel::sql_query(
        "SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replayed, \
                pg_last_xact_replay_timestamp() AS replayed_at",
    )
    .get_result(conn)
}

/// How far the primary has written: what a replica must have replayed to be current.
pub fn primary_position(conn: &mut PgConnection) -> QueryResult<Option<Lsn>> {
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = Text)]
        lsn: String,
    }
    let Written { lsn } = diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn").get_result(conn)?;
    Ok(Lsn::parse(&lsn))
}

/// `postgres://user:secret@host:port/db?…` → `host:port/db`.
fn display_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split('?').next().unwrap_or(rest).to_owned()
}

tokio::task_local! {
    /// The oldest "as of" of the replica reads a request made.
    static AS_OF: Mutex<Option<DateTime<Utc>>>;
}

fn note_as_of(at: DateTime<Utc>) {
    let _ = AS_OF.try_with(|cell| {
        if let Ok(mut oldest) = cell.lock() {
            *oldest = Some(oldest.map_or(at, |o| o.min(at)));
        }
    });
}

/// Middleware: a response whose data came from a replica says as of when (`X-Data-As-Of`,
/// China time).
pub async fn data_as_of(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let (mut response, as_of) = AS_OF
        .scope(Mutex::new(None), async move {
            let response = next.call(req).await;
            let as_of = AS_OF.with(|cell| cell.lock().ok().and_then(|c| *c));
            (response, as_of)
        })
        .await;
    if let (Ok(response), Some(at)) = (response.as_mut(), as_of) {
        let text = at
            .with_timezone(&Shanghai)
            .to_rfc3339_opts(SecondsFormat::Secs, false);
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().insert(DATA_AS_OF_HEADER, value);
        }
    }
    response
}

impl Replicas {
    pub fn new(urls: &[String], pool_size: u32, max_lag: Duration) -> Self {
        let replicas = urls
            .iter()
            .map(|url| {
                Arc::new(Replica {
                    name: display_name(url),
                    pool: super::pool(url, pool_size),
                    health: Mutex::new(Health::Unknown),
                })
            })
            .collect();
        Self {
            replicas,
            max_lag,
            next: AtomicUsize::new(0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.replicas.is_empty()
    }

    /// Each replica's name and health, in configuration order (for `/readyz` and tests).
    pub fn health(&self) -> Vec<(String, Health)> {
        self.replicas
            .iter()
            .map(|r| (r.name.clone(), r.health()))
            .collect()
    }

    /// Checks every replica against the primary's position (run every second).
    pub async fn check(&self, primary: &PgPool) {
        if self.replicas.is_empty() {
            return;
        }
        let written = match super::run(primary, |conn| Ok(primary_position(conn)?)).await {
            Ok(written) => written,
            // Without the primary nothing can be judged; the reads fail over with it anyway.
            Err(_) => return,
        };
        for replica in &self.replicas {
            let max_lag = self.max_lag;
            let found = super::run(&replica.pool, move |conn| Ok(replay_position(conn)?)).await;
            let now = Utc::now();
            let health = match found {
                Ok(Position { standby: false, .. }) | Err(_) => Health::Down,
                Ok(position) => match lag(&position, written, now) {
                    Some(lag) if lag <= max_lag => Health::Usable { lag },
                    lag => Health::Lagging { lag },
                },
            };
            replica.set_health(health);
        }
    }

    /// The next usable replica, in turn.
    fn pick(&self) -> Option<Arc<Replica>> {
        let n = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.replicas[(start + i) % n])
            .find(|r| matches!(r.health(), Health::Usable { .. }))
            .cloned()
    }

    /// Runs a read that tolerates lag on a usable replica (a standby refuses any write), else
    /// on `primary`; a read that fails on the replica is made again on `primary`. The read is
    /// judged against the primary's position taken just before it: everything committed before
    /// the call is in a `current` answer.
    pub async fn read<T, F>(&self, primary: &PgPool, work: F) -> Result<(T, Source), AppError>
    where
        F: Fn(&mut PgConnection) -> Result<T, AppError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let work = Arc::new(work);
        if let Some(replica) = self.pick() {
            // One round trip to the primary, cheap beside a dashboard's or a ledger's query.
            let written = super::run(primary, |conn| Ok(primary_position(conn)?))
                .await
                .ok()
                .flatten();
            let on_replica = Arc::clone(&work);
            let read = super::run(&replica.pool, move |conn| {
                // The position first, then the work: what it reads holds at least that much.
                let position = replay_position(conn)?;
                let value = on_replica(conn)?;
                Ok((value, position))
            })
            .await;
            match read {
                Ok((value, position)) if position.standby => {
                    let now = Utc::now();
                    let replayed = position.replayed.as_deref().and_then(Lsn::parse);
                    let current = matches!((replayed, written), (Some(r), Some(w)) if r >= w);
                    let as_of = if current {
                        now
                    } else {
                        position.replayed_at.map_or(now, |t| t.min(now))
                    };
                    note_as_of(as_of);
                    return Ok((value, Source::Replica { current, as_of }));
                }
                Ok(_) => replica.set_health(Health::Down),
                // The replica failed (unreachable, or a query cancelled by its replay): the
                // primary answers instead.
                Err(e @ (AppError::Unavailable { .. } | AppError::Internal(_))) => {
                    tracing::warn!(replica = %replica.name, error = %e, "a read failed on a replica; made again on the primary");
                    if matches!(e, AppError::Unavailable { .. }) {
                        replica.set_health(Health::Down);
                    }
                }
                // The caller's own answer (out of scope, a bad filter): the primary would give it too.
                Err(e) => return Err(e),
            }
        }
        let value = super::run(primary, move |conn| work(conn)).await?;
        Ok((value, Source::Primary))
    }
}

/// How far a replica is behind: nothing when it has replayed what the primary had written,
/// else the age of its last replayed transaction (`None` when it never replayed one).
fn lag(position: &Position, written: Option<Lsn>, now: DateTime<Utc>) -> Option<Duration> {
    let replayed = position.replayed.as_deref().and_then(Lsn::parse);
    if let (Some(replayed), Some(written)) = (replayed, written) {
        if replayed >= written {
            return Some(Duration::ZERO);
        }
    }
    position
        .replayed_at
        .map(|t| (now - t).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_compare_as_postgresql_orders_them() {
        let a = Lsn::parse("0/16B3748").expect("lsn");
        let b = Lsn::parse("1/0").expect("lsn");
        assert!(a < b);
        assert_eq!(Lsn::parse("16/B374D848"), Some(Lsn(0x16_B374_D848)));
        assert_eq!(Lsn::parse("nonsense"), None);
    }

    #[test]
    fn a_replica_is_named_without_its_credentials() {
        assert_eq!(
            display_name("postgres://zhuqi:secret@10.0.2.11:5432/zhuqi?sslmode=require"),
            "10.0.2.11:5432/zhuqi"
        );
    }

    #[test]
    fn a_replica_that_replayed_everything_does_not_lag_however_old_its_last_commit() {
        let now = Utc::now();
        let position = |replayed: &str| Position {
            standby: true,
            replayed: Some(replayed.to_owned()),
            replayed_at: Some(now - chrono::Duration::minutes(10)),
        };
        let written = Lsn::parse("0/3000000");
        assert_eq!(lag(&position("0/3000000"), written, now), Some(Duration::ZERO));
        assert_eq!(
            lag(&position("0/2000000"), written, now),
            Some(Duration::from_secs(600))
        );
    }
}
