//! Dashboards (统计): the figures of `docs/metrics.md`, computed from PostgreSQL and served from
//! Redis while nothing they depend on has changed. A query names everything its answer
//! depends on, so the same query gives the same answer from the cache or from the database;
//! `reconcile` proves it for every cached answer.

pub mod benefits;
pub mod daily;
pub mod figures;
pub mod in_flight;
pub mod jobs;
pub mod monthly;
pub mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use chrono::{DateTime, Duration as Days, NaiveDate, Timelike, Utc};
use diesel::PgConnection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::cache::stats::{self as cached, Dependencies, Envelope};
use crate::cache::Cache;
use crate::clock::local_day;
use crate::db::models::stats::{AsOf, StatsScope};
use crate::db::replicas::Source;
use crate::domain::metrics::start_of_day;
use crate::error::AppError;
use crate::state::AppState;

/// Past periods change only through rare corrections; their answers are kept this long.
const PAST_TTL: Duration = Duration::from_secs(3600);
/// Answers about periods that ended longer ago than this are computed but not cached: what
/// leaders read daily (today, yesterday, last week, last month) is cached, and nobody can fill
/// Redis, or the reconciliation's work, with every day of years past.
const CACHED_PAST_DAYS: i64 = 40;

/// One dashboard question. Serialised into the cached answer so that the answer can be
/// recomputed and compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatsQuery {
    Overview {
        scope: StatsScope,
        day: NaiveDate,
    },
    Problems {
        scope: StatsScope,
        from: NaiveDate,
        to: NaiveDate,
    },
    Departments {
        scope: StatsScope,
        from: NaiveDate,
        to: NaiveDate,
    },
    Officers {
        scope: StatsScope,
        from: NaiveDate,
        to: NaiveDate,
    },
    Benefits {
        scope: StatsScope,
        from: NaiveDate,
        to: NaiveDate,
    },
    TaskForces {
        scope: StatsScope,
        from: NaiveDate,
        to: NaiveDate,
    },
}

impl StatsQuery {
    fn kind(&self) -> &'static str {
        match self {
            StatsQuery::Overview { .. } => "overview",
            StatsQuery::Problems { .. } => "problems",
            StatsQuery::Departments { .. } => "departments",
            StatsQuery::Officers { .. } => "officers",
            StatsQuery::Benefits { .. } => "benefits",
            StatsQuery::TaskForces { .. } => "task_forces",
        }
    }

    fn scope(&self) -> &StatsScope {
        match self {
            StatsQuery::Overview { scope, .. }
            | StatsQuery::Problems { scope, .. }
            | StatsQuery::Departments { scope, .. }
            | StatsQuery::Officers { scope, .. }
            | StatsQuery::Benefits { scope, .. }
            | StatsQuery::TaskForces { scope, .. } => scope,
        }
    }

    fn scope_mut(&mut self) -> &mut StatsScope {
        match self {
            StatsQuery::Overview { scope, .. }
            | StatsQuery::Problems { scope, .. }
            | StatsQuery::Departments { scope, .. }
            | StatsQuery::Officers { scope, .. }
            | StatsQuery::Benefits { scope, .. }
            | StatsQuery::TaskForces { scope, .. } => scope,
        }
    }

    /// The local days the answer covers.
    fn period(&self) -> (NaiveDate, NaiveDate) {
        match *self {
            StatsQuery::Overview { day, .. } => (day, day),
            StatsQuery::Problems { from, to, .. }
            | StatsQuery::Departments { from, to, .. }
            | StatsQuery::Officers { from, to, .. }
            | StatsQuery::Benefits { from, to, .. }
            | StatsQuery::TaskForces { from, to, .. } => (from, to),
        }
    }

    /// The cache key: one per question (the scope's path is left out: the region code names
    /// the region, and a scope built from the token has no path until it is computed).
    fn key(&self) -> String {
        let scope = self.scope();
        let unit = scope
            .unit_id
            .map(|u| u.to_string())
            .unwrap_or_else(|| "-".to_owned());
        let (from, to) = self.period();
        format!(
            "stats:fig:{}:{}:{unit}:{from}:{to}",
            self.kind(),
            scope.region_code
        )
    }

    /// The key of one of the answer's views (`view`): beside the answer's, outside the
    /// `stats:fig:` keys that reconciliation recomputes (it forgets a repaired answer's views).
    fn view_key(&self, view: &str) -> String {
        format!("{}:{view}", self.key().replacen("stats:fig:", "stats:view:", 1))
    }

    /// The generations the answer depends on: problems and assignments always; the sign-ins
    /// and reports of the days that can still change (today's, and yesterday's until its
    /// reports close), when the question reads them.
    fn dependencies(&self, today: NaiveDate) -> Dependencies {
        let deps = Dependencies::figures();
        if matches!(
            self,
            StatsQuery::Problems { .. }
                | StatsQuery::Departments { .. }
                | StatsQuery::Benefits { .. }
                | StatsQuery::TaskForces { .. }
        ) {
            return deps;
        }
        let (from, to) = self.period();
        deps.with_activity_of(
            [today - Days::days(1), today]
                .into_iter()
                .filter(|d| (from..=to).contains(d)),
        )
    }

    /// The instants the answer is taken at (see `AsOf`): the end of the period, or the current
    /// minute while the period lasts.
    pub fn as_of(&self, at: DateTime<Utc>) -> AsOf {
        let (_, to) = self.period();
        AsOf::end_of(to, at)
    }

    /// Answers computed at `a` and at `b` agree when nothing changed in between.
    fn same_instant(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        self.as_of(a).deadlines_before == self.as_of(b).deadlines_before
    }

    /// Whether the period has ended (its answer can then be kept for long).
    pub fn is_over(&self, at: DateTime<Utc>) -> bool {
        let (_, to) = self.period();
        start_of_day(to + Days::days(1)) <= at
    }

    /// Whether an answer is worth keeping: its period is running or ended recently.
    pub fn cacheable(&self, at: DateTime<Utc>) -> bool {
        let (_, to) = self.period();
        to + Days::days(CACHED_PAST_DAYS) >= local_day(at)
    }

    /// How long a fresh answer may be kept: to the end of the minute while the period lasts
    /// (its overdue counts move with the clock), an hour once it is over.
    fn ttl(&self, at: DateTime<Utc>) -> Duration {
        if self.is_over(at) {
            return PAST_TTL;
        }
        Duration::from_secs(u64::from(60 - at.second()).max(1))
    }

    /// The answer, from PostgreSQL, as JSON text: written straight from the figures, never as a
    /// JSON tree (a province's officers are 24,000 objects; building, copying and dropping them
    /// as a tree cost more than the query).
    pub fn compute(&self, conn: &mut PgConnection, at: DateTime<Utc>) -> Result<Box<RawValue>, AppError> {
        let as_of = self.as_of(at);
        let mut query = self.clone();
        query.scope_mut().resolve(conn)?;
        match &query {
            StatsQuery::Overview { scope, day } => to_json(&figures::overview(conn, scope, *day, as_of)?),
            StatsQuery::Problems { scope, from, to } => {
                to_json(&figures::problems(conn, scope, *from, *to, as_of)?)
            }
            StatsQuery::Departments { scope, from, to } => {
                to_json(&figures::departments(conn, scope, *from, *to, as_of)?)
            }
            StatsQuery::Officers { scope, from, to } => {
                to_json(&figures::officers(conn, scope, *from, *to, as_of)?)
            }
            StatsQuery::Benefits { scope, from, to } => {
                to_json(&benefits::benefits(conn, scope, *from, *to, as_of)?)
            }
            StatsQuery::TaskForces { scope, from, to } => {
                to_json(&figures::task_forces(conn, scope, *from, *to, as_of)?)
            }
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Box<RawValue>, AppError> {
    serde_json::value::to_raw_value(value).map_err(|e| AppError::Internal(e.into()))
}

/// The answer to a question: the cached one when it is still current, else computed (and
/// cached for the next caller), once however many callers ask at the same moment. Without
/// Redis, always computed; never an error because of it.
///
/// `T` is the answer's shape; a cached answer is read straight into it (the officers' list of a
/// city is 10 MB of JSON: parsed once, not once into a `Value` and again into rows).
pub async fn answer<T: DeserializeOwned>(state: &AppState, query: StatsQuery) -> Result<T, AppError> {
    Ok(current_answer(state, query).await?.value)
}

/// Views of an answer are cached for its first rows only: the top of a ranking is what leaders
/// read again and again, and no one can fill Redis with every page of every order.
pub const VIEWED_ROWS: usize = 100;

/// A view of an answer (one ranked page of the officers' list), cached beside the answer under
/// the same dependencies and lifetime: a leader reloading the top of a province's ranking reads
/// a page, not the 24,000 officers' answer (a 10 MB parse). `view` names it among the query's
/// views (`None`: not cached); `derive` makes it from the answer.
pub async fn view<T, V>(
    state: &AppState,
    query: StatsQuery,
    view: Option<String>,
    derive: impl FnOnce(T) -> Result<V, AppError>,
) -> Result<V, AppError>
where
    T: DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    let Some(view) = view else {
        return derive(answer(state, query).await?);
    };
    let now = state.clock.now();
    let key = query.view_key(&view);
    let deps = query.dependencies(local_day(now));
    let (hit, generations) = cached::lookup::<StatsQuery, V>(&state.cache, &key, &deps).await;
    if let Some(envelope) = hit.filter(|e| query.same_instant(e.at, now)) {
        return Ok(envelope.value);
    }
    let answer = current_answer(state, query.clone()).await?;
    let value = derive(answer.value)?;
    // Stored under the generations read before the answer: a write in between retires it.
    match generations.filter(|_| answer.storable && query.cacheable(now)) {
        Some(generations) => Ok(store(state, &key, query, now, generations, value).await),
        None => Ok(value),
    }
}

/// Keeps an answer (or a view of one) computed at `now` from data of `generations`, for as long
/// as the query's answers live; gives the value back.
async fn store<V: Serialize>(
    state: &AppState,
    key: &str,
    query: StatsQuery,
    now: DateTime<Utc>,
    generations: Vec<i64>,
    value: V,
) -> V {
    let ttl = query.ttl(now);
    let envelope = Envelope {
        query,
        at: now,
        generations,
        value,
    };
    cached::store(&state.cache, key, &envelope, ttl).await;
    envelope.value
}

/// An answer, and whether it may be cached (not when read on a replica that is behind).
pub struct Computed<T> {
    value: T,
    storable: bool,
}

async fn current_answer<T: DeserializeOwned>(
    state: &AppState,
    query: StatsQuery,
) -> Result<Computed<T>, AppError> {
    let now = state.clock.now();
    let key = query.key();
    let deps = query.dependencies(local_day(now));
    if let (Some(envelope), _) = cached::lookup::<StatsQuery, T>(&state.cache, &key, &deps).await {
        if query.same_instant(envelope.at, now) {
            return Ok(Computed {
                value: envelope.value,
                storable: true,
            });
        }
    }
    let computed = state
        .stats_in_flight
        .run(&key, || compute_and_cache(state, query, key.clone(), deps))
        .await?;
    // Read from the shared answer's text in place, however many callers share it.
    Ok(Computed {
        value: serde_json::from_str(computed.value.get()).map_err(|e| AppError::Internal(e.into()))?,
        storable: computed.storable,
    })
}

/// The miss path: looks again (another instance or caller may just have stored it), then
/// computes from PostgreSQL (a read replica when there is a usable one) and stores the answer
/// under the generations read before computing.
async fn compute_and_cache(
    state: &AppState,
    query: StatsQuery,
    key: String,
    deps: Dependencies,
) -> Result<Arc<Computed<Box<RawValue>>>, AppError> {
    let now = state.clock.now();
    let (hit, generations) = cached::lookup::<StatsQuery, Box<RawValue>>(&state.cache, &key, &deps).await;
    if let Some(envelope) = hit.filter(|e| query.same_instant(e.at, now)) {
        return Ok(Arc::new(Computed {
            value: envelope.value,
            storable: true,
        }));
    }
    // A replica's answer is judged against the primary's position taken after the generations
    // were read: only a current one may be stored under them; one from further behind is
    // served (with its "as of") but not cached.
    let computed_query = query.clone();
    let (value, source) = state
        .replicas
        .read(&state.bulk_pool, move |conn| computed_query.compute(conn, now))
        .await?;
    let current = match source {
        Source::Primary => true,
        Source::Replica { current, .. } => current,
    };
    let Some(generations) = generations.filter(|_| current && query.cacheable(now)) else {
        return Ok(Arc::new(Computed {
            value,
            storable: current,
        }));
    };
    Ok(Arc::new(Computed {
        value: store(state, &key, query, now, generations, value).await,
        storable: true,
    }))
}

/// Middleware: administrative writes (the roster, assignments, the calendar) change the
/// figures; once one has succeeded, cached answers computed before it are retired.
pub async fn retire_after_admin_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    let changes_figures = req.method() != Method::GET
        && (path.starts_with("/api/v1/admin/") || path.starts_with("/api/v1/calendar/"));
    let cache: Option<Cache> = changes_figures
        .then(|| req.app_data::<web::Data<AppState>>().map(|s| s.cache.clone()))
        .flatten();
    let res = next.call(req).await?;
    if let Some(cache) = cache.filter(|_| res.status().is_success()) {
        cached::figures_changed(&cache).await;
    }
    Ok(res)
}
