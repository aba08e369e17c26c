//! The console's sessions: a random token in an `HttpOnly`, `SameSite=Strict` cookie (and
//! `Secure` behind TLS), its SHA-256 in `console_sessions`; 30 idle minutes or 12 hours end
//! it, and so does a move of the user's session generation (logout everywhere, a role change,
//! deactivation). Every form carries the session's CSRF token; the sign-in form, before any
//! session, a token that must match a cookie of its own (double submit).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, FromRequest, HttpRequest};
use chrono::{DateTime, Duration, Utc};

use super::ConsoleError;
use crate::auth::secrets::{new_refresh_token, sha256_hex};
use crate::auth::Caller;
use crate::db;
use crate::db::models::console_session::ConsoleSession;
use crate::db::models::user::User;
use crate::domain::role::Role;
use crate::state::AppState;

pub const COOKIE: &str = "zhuqi_console";
pub const LOGIN_COOKIE: &str = "zhuqi_console_login";
pub const IDLE: Duration = Duration::minutes(30);
pub const LONGEST: Duration = Duration::hours(12);
/// How long a checked roster file waits for its import to be confirmed.
pub const UPLOAD_KEPT: Duration = Duration::hours(1);
/// A session's last-seen time is written at most this often (not on every page).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The signed-in console user.
#[derive(Debug, Clone)]
pub struct Console {
    pub caller: Caller,
    pub name: String,
    pub csrf: String,
    token_hash: String,
}

impl Console {
    pub fn has(&self, role: Role) -> bool {
        self.caller.has(role)
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), ConsoleError> {
        if sent.is_some_and(|sent| same(sent, &self.csrf)) {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }
}

/// Equal strings, compared in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie of the console: `Path=/console`, `HttpOnly`, `SameSite=Strict`, `Secure` when the
/// request came over TLS.
pub fn cookie<'a>(req: &HttpRequest, name: &'a str, value: String) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .finish()
}

/// A cookie that removes `name`.
pub fn removal<'a>(req: &HttpRequest, name: &'a str) -> Cookie<'a> {
    let mut gone = cookie(req, name, String::new());
    gone.make_removal();
    gone
}

/// Opens a session for `user`; the cookie's value.
pub fn open(conn: &mut diesel::PgConnection, user: &User, now: DateTime<Utc>) -> diesel::QueryResult<String> {
    let token = new_refresh_token();
    ConsoleSession::insert(
        conn,
        &ConsoleSession {
            token_hash: sha256_hex(&token),
            user_id: user.id,
            csrf: new_refresh_token(),
            generation: user.session_generation,
            created_at: now,
            last_seen_at: now,
        },
    )?;
    Ok(token)
}

/// Ends the session of the request's cookie, if any.
pub async fn close(state: &AppState, req: &HttpRequest) -> Result<(), ConsoleError> {
    if let Some(token) = req.cookie(COOKIE) {
        let hash = sha256_hex(token.value());
        db::run(&state.pool, move |conn| Ok(ConsoleSession::end(conn, &hash)?)).await?;
    }
    Ok(())
}

impl FromRequest for Console {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(COOKIE).map(|c| c.value().to_owned());
        Box::pin(async move {
            let (Some(state), Some(token)) = (state, token) else {
                return Err(ConsoleError::SignIn);
            };
            let hash = sha256_hex(&token);
            let now = state.clock.now();
            db::run(&state.pool, move |conn| {
                let Some((session, user)) = ConsoleSession::find(conn, &hash)? else {
                    return Ok(None);
                };
                let live = user.active
                    && user.session_generation == session.generation
                    && now - session.last_seen_at < IDLE
                    && now - session.created_at < LONGEST;
                if !live {
                    ConsoleSession::end(conn, &hash)?;
                    return Ok(None);
                }
                if now - session.last_seen_at >= TOUCH_EVERY {
                    ConsoleSession::touch(conn, &hash, now)?;
                }
                Ok(Some(Console {
                    caller: Caller {
                        user_id: user.id,
                        roles: user.roles.clone(),
                        region_code: user.region_code.clone(),
                        unit_id: user.unit_id,
                        enterprise_id: user.enterprise_id,
                    },
                    name: user.name,
                    csrf: session.csrf,
                    token_hash: hash,
                }))
            })
            .await?
            .ok_or(ConsoleError::SignIn)
        })
    }
}

impl Console {
    /// The hash naming this session (for signing out).
    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }
}
