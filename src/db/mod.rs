//! The PostgreSQL pool, the embedded migrations and [`run`], the one way handlers reach the
//! database: blocking diesel work on actix's blocking thread pool, never on a worker thread.

pub mod functions;
pub mod leader;
pub mod models;
pub mod partitions;
pub mod replicas;
pub mod vocabulary;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{AppError, ErrorCode};

pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;

/// The r2d2 pool plus one permit per connection. Requests wait for a permit on the async
/// side, so a burst never parks more blocking threads than there are connections to give
/// them (parked threads cost context switches on a small machine).
#[derive(Clone)]
pub struct PgPool {
    pool: Pool<ConnectionManager<PgConnection>>,
    permits: Arc<Semaphore>,
}

impl std::ops::Deref for PgPool {
    type Target = Pool<ConnectionManager<PgConnection>>;

    fn deref(&self) -> &Self::Target {
        &self.pool
    }
}

/// The longest a request waits for a database connection before answering 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// r2d2's connection errors (PostgreSQL unreachable, restarting) as one warning line each, not
/// libpq's multi-line message at error level: an outage is answered 503 and logged once per
/// request already.
#[derive(Debug)]
struct OneLineErrors;

impl diesel::r2d2::HandleError<diesel::r2d2::Error> for OneLineErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        let text = error.to_string();
        tracing::warn!(
            error = text.split_whitespace().collect::<Vec<_>>().join(" "),
            "database connection failed"
        );
    }
}

/// Every connection runs without PostgreSQL's JIT compilation. Its threshold is the planner's
/// cost, which the dashboards' aggregations pass at a province's size, and compiling their
/// expressions then took 0.85 s of a 4 s query (`EXPLAIN ANALYZE` of the officers' figures,
/// docs/scaling.md): more than it could ever save on queries that run for a second or less.
#[derive(Debug)]
struct NoJit;

impl diesel::r2d2::CustomizeConnection<PgConnection, diesel::r2d2::Error> for NoJit {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        use diesel::connection::SimpleConnection;
        conn.batch_execute("SET jit = off")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool without connecting, so the server can start while PostgreSQL is still
/// coming up; `/readyz` says when it answers.
pub fn pool(database_url: &str, max_size: u32) -> PgPool {
    let pool = Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        // Checking a connection on every checkout costs a round trip per request. Instead a
        // connection found dead by the work it was given is discarded (`discard_if_lost`), and
        // the request gets a 503 to retry.
        .test_on_check_out(false)
        .connection_timeout(CHECKOUT_TIMEOUT)
        .max_lifetime(Some(Duration::from_secs(30 * 60)))
        .error_handler(Box::new(OneLineErrors))
        .connection_customizer(Box::new(NoJit))
        .build_unchecked(ConnectionManager::new(database_url));
    PgPool {
        pool,
        permits: Arc::new(Semaphore::new(max_size as usize)),
    }
}

/// The advisory lock key of migrations ("zhuqi mig" in ASCII).
const MIGRATION_LOCK: i64 = 0x7a68_7571_696d_6967;

/// Applies every pending embedded migration; returns the versions applied. Instances starting
/// at the same moment take turns (a session advisory lock): the first migrates, the others
/// find nothing left to do.
/// `text` for a `LIKE` pattern: its `%`, `_` and `\\` match only themselves.
pub fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<Vec<String>> {
    use diesel::RunQueryDsl;
    let lock = |sql: &str, conn: &mut PgConnection| {
        diesel::sql_query(sql)
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
            .execute(conn)
            .context("taking turns to migrate (advisory lock)")
    };
    lock("SELECT pg_advisory_lock($1)", conn)?;
    let result = apply_migrations(conn);
    lock("SELECT pg_advisory_unlock($1)", conn)?;
    result
}

fn apply_migrations(conn: &mut PgConnection) -> anyhow::Result<Vec<String>> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("applying migrations")?;
    let mut done: Vec<String> = applied.iter().map(|v| v.to_string()).collect();
    functions::install(conn)?;
    let installed =
        models::calendar::CalendarYear::install_shipped(conn).context("installing the shipped calendar")?;
    done.extend(installed.iter().map(|year| format!("calendar {year}")));
    // The months the service is about to write have their partitions before it serves (the
    // job keeps them ahead from then on). Not fatal: an instance must start even while a long
    // read holds a table past the lock's timeout, and until the job makes a missing month its
    // rows wait in the default partition, found by every query.
    match partitions::ensure(conn, crate::clock::local_day(chrono::Utc::now())) {
        Ok(ensured) => partitions::log(&ensured),
        Err(e) => {
            tracing::warn!(error = %e, "the coming months' partitions were not made now; the partitions job tries again")
        }
    }
    Ok(done)
}

/// After `error` from work on `conn`: when the error says the connection to PostgreSQL is gone
/// (a restart, a failover, a killed backend), the connection is marked so the pool drops it on
/// return instead of handing the dead socket to the next request. Diesel only knows that a
/// transaction broke, not that the socket died; this is the check the pool does not make.
pub fn discard_if_lost(conn: &mut PgConnection, error: &AppError) {
    if error.is_database_lost() {
        tracing::warn!("a database connection was lost; the pool replaces it");
        AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
    }
}

/// Runs `work` with a pooled connection on the blocking thread pool, inside the caller's
/// tracing span, and flattens pool, scheduling and database errors into [`AppError`].
pub async fn run<T, F>(pool: &PgPool, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    // Bounded like the pool's own checkout, so a stalled database yields a 503, not a hang.
    let permit = tokio::time::timeout(CHECKOUT_TIMEOUT, Arc::clone(&pool.permits).acquire_owned())
        .await
        .map_err(|_| AppError::Unavailable {
            code: ErrorCode::DatabaseUnavailable,
        })?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("database permits closed: {e}")))?;
    let pool = pool.pool.clone();
    let span = tracing::Span::current();
    let request_id = crate::telemetry::current_request_id();
    actix_web::web::block(move || {
        let _entered = span.enter();
        let _permit = permit;
        models::audit::with_request_id(request_id, || {
            let mut conn = pool.get()?;
            let result = work(&mut conn);
            if let Err(e) = &result {
                discard_if_lost(&mut conn, e);
            }
            result
        })
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
}
