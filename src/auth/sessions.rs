//! Sessions that end at once.
//!
//! An access token lives two hours and is checked without the database, so by itself it would
//! outlive a deactivation, a change of roles, a logout or a new password by up to that long.
//! Each user therefore has a session generation (a column the database raises whenever their
//! sessions must end, migration 000010), every access token names the generation it was issued
//! under, and [`check`] refuses a token whose generation is behind: 401 `auth.session_ended`.
//!
//! The current generation is read from Redis (one GET per request), where every token issue
//! and every ending puts it; Redis only ever moves it forward (`REMEMBER`), so a slow writer
//! cannot bring an old one back. When Redis has no answer the users row is read instead (and
//! put back into Redis), so losing Redis costs a database read per request, never a wrong
//! answer. An ending that cannot reach Redis is retried in the background for as long as the
//! tokens it ends could live.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use uuid::Uuid;

use super::extractors::{bearer_token, Caller};
use super::jwt::ACCESS_TTL;
use crate::cache::Cache;
use crate::db;
use crate::db::models::user::User;
use crate::error::AppError;
use crate::state::AppState;

/// As long as any access token can live, and then some: a token issued under a generation
/// finds it in Redis for its whole life.
const GENERATION_TTL: Duration = Duration::from_secs(3 * 60 * 60);
/// How often an ending that could not reach Redis is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(5);

/// Sets the key to ARGV[1] unless it holds a later generation already; renews the expiry.
const REMEMBER: &str = "local current = tonumber(redis.call('GET', KEYS[1])) \
    local given = tonumber(ARGV[1]) \
    if current == nil or current < given then \
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return given end \
    redis.call('PEXPIRE', KEYS[1], ARGV[2]) return current";

fn key(user: Uuid) -> String {
    format!("session_gen:{user}")
}

/// What [`check`] found out about a request's bearer token, for the extractors.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// A token of the current session generation.
    Current(Caller),
    /// A valid signature, but its sessions have ended since it was issued.
    Ended,
    /// The generation could not be read (PostgreSQL down and Redis without it).
    Unknown,
}

/// Middleware: for a request whose bearer token verifies, compares its generation with the
/// user's current one and leaves the [`Verdict`] for the extractors. Requests without a valid
/// token pass untouched: the routes that need one say why it is refused.
pub async fn check(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let claims = state.as_ref().and_then(|state| {
        bearer_token(req.headers()).and_then(|token| state.jwt.verify_access(&state.clock, token).ok())
    });
    if let (Some(state), Some(claims)) = (state, claims) {
        let verdict = match current(&state, claims.sub).await {
            Ok(Some(current)) if claims.gen >= current => {
                if claims.gen > current {
                    // Redis missed an issue (it was unreachable then); catch it up.
                    remember(&state.cache, claims.sub, claims.gen).await;
                }
                Verdict::Current(Caller::from(claims))
            }
            Ok(_) => Verdict::Ended,
            Err(e) => {
                tracing::warn!(error = %e, "session generation unknown");
                Verdict::Unknown
            }
        };
        req.extensions_mut().insert(verdict);
    }
    next.call(req).await
}

/// The user's current generation: Redis, else PostgreSQL. `None` for a user who is gone.
async fn current(state: &AppState, user: Uuid) -> Result<Option<i64>, AppError> {
    if let Some(generation) = state.cache.get(&key(user)).await.and_then(|v| v.parse().ok()) {
        return Ok(Some(generation));
    }
    let generation = db::run(&state.pool, move |conn| Ok(User::session_generation(conn, user)?)).await?;
    if let Some(generation) = generation {
        remember(&state.cache, user, generation).await;
    }
    Ok(generation)
}

/// Puts `generation` into Redis unless a later one is there; `false` when Redis did not answer.
async fn remember(cache: &Cache, user: Uuid, generation: i64) -> bool {
    let ttl_ms = GENERATION_TTL.as_millis() as i64;
    cache
        .eval::<i64>(REMEMBER, &key(user), &[generation, ttl_ms])
        .await
        .is_some()
}

/// After a commit that issued tokens under `generation` or ended the user's earlier sessions:
/// tells Redis, now or, while it cannot be reached, in the background until the tokens it
/// ends have expired anyway.
pub async fn publish(cache: &Cache, user: Uuid, generation: i64) {
    if remember(cache, user, generation).await {
        return;
    }
    let cache = cache.clone();
    tokio::spawn(async move {
        let tries = ACCESS_TTL.num_seconds().max(0) as u64 / RETRY_EVERY.as_secs();
        for _ in 0..tries {
            tokio::time::sleep(RETRY_EVERY).await;
            if remember(&cache, user, generation).await {
                return;
            }
        }
        tracing::warn!(%user, generation, "Redis never took a session ending; old tokens expired meanwhile");
    });
}
