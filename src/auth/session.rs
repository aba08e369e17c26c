//! Sessions: an access token plus a rotating refresh token, issued on login and bind and
//! renewed on refresh. Reusing a spent refresh token revokes its whole family, except within
//! a few seconds of its first use: a phone that sent the same refresh twice (a retry on a bad
//! network, two requests racing) gets the same successor again. A family lives at most
//! [`FAMILY_MAX_AGE`] from its sign-in, however often it rotates.

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;
use serde::Serialize;
use uuid::Uuid;

use super::jwt::{AccessClaims, JwtKeys, ACCESS_TTL};
use super::secrets::{new_refresh_token, sha256_hex};
use crate::clock::Clock;
use crate::db::models::refresh_token::{NewRefreshToken, RefreshToken};
use crate::db::models::user::User;
use crate::error::{AppError, ErrorCode};

pub const REFRESH_TTL: Duration = Duration::days(30);
/// The longest a session lasts from its sign-in, refreshed or not.
pub const FAMILY_MAX_AGE: Duration = Duration::days(90);
/// A spent refresh token presented again this soon gets its successor again, not a revocation.
pub const REUSE_GRACE: Duration = Duration::seconds(30);

#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Whose tokens these are and under which session generation: for `sessions::publish`.
    #[serde(skip)]
    pub user_id: Uuid,
    #[serde(skip)]
    pub generation: i64,
}

/// Starts a new session (a new refresh token family) for `user`.
pub fn start(
    conn: &mut PgConnection,
    jwt: &JwtKeys,
    clock: &Clock,
    user: &User,
) -> Result<TokenPair, AppError> {
    let now = clock.now();
    let family = Family {
        id: Uuid::new_v4(),
        started_at: now,
    };
    issue(conn, jwt, clock, user, &family, new_refresh_token())
}

/// A session: the refresh tokens that rotated from one sign-in.
struct Family {
    id: Uuid,
    started_at: DateTime<Utc>,
}

fn issue(
    conn: &mut PgConnection,
    jwt: &JwtKeys,
    clock: &Clock,
    user: &User,
    family: &Family,
    refresh_token: String,
) -> Result<TokenPair, AppError> {
    let now = clock.now();
    RefreshToken::insert(
        conn,
        &NewRefreshToken {
            user_id: user.id,
            family_id: family.id,
            token_hash: &sha256_hex(&refresh_token),
            issued_at: now,
            expires_at: (now + REFRESH_TTL).min(family.started_at + FAMILY_MAX_AGE),
            family_started_at: family.started_at,
        },
    )?;
    Ok(pair(jwt, clock, user, refresh_token))
}

/// A fresh access token for `user` next to `refresh_token`.
fn pair(jwt: &JwtKeys, clock: &Clock, user: &User, refresh_token: String) -> TokenPair {
    let access_token = jwt.issue_access(
        clock,
        AccessClaims {
            gen: user.session_generation,
            ..AccessClaims::for_subject(
                user.id,
                user.roles.clone(),
                user.region_code.clone(),
                user.unit_id,
                user.enterprise_id,
            )
        },
    );
    TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL.num_seconds(),
        user_id: user.id,
        generation: user.session_generation,
    }
}

fn refresh_invalid() -> AppError {
    AppError::new(
        ErrorCode::AuthRefreshInvalid,
        "登录已失效，请重新登录 (refresh token invalid)",
    )
}

/// What presenting a refresh token led to.
pub enum Rotation {
    Rotated(TokenPair),
    /// The token had been spent already: its family is now revoked, and that revocation must
    /// be committed even though the caller answers with an error.
    Reused,
}

impl Rotation {
    /// The new pair, or the error that a reused token earns.
    pub fn into_result(self) -> Result<TokenPair, AppError> {
        match self {
            Rotation::Rotated(pair) => Ok(pair),
            Rotation::Reused => Err(AppError::new(
                ErrorCode::AuthRefreshReused,
                "登录凭证已被使用，为安全起见已退出所有设备 (refresh token reuse detected)",
            )),
        }
    }
}

/// Spends `presented` and issues its successor. Call inside a transaction: the row lock and
/// the writes must commit together.
pub fn rotate(
    conn: &mut PgConnection,
    jwt: &JwtKeys,
    clock: &Clock,
    presented: &str,
) -> Result<Rotation, AppError> {
    let now = clock.now();
    let token = RefreshToken::find_for_update(conn, &sha256_hex(presented))?.ok_or_else(refresh_invalid)?;
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(refresh_invalid());
    }
    // The successor is derived from the token it replaces, so a repeat can be answered with
    // the same one without the server ever storing a refresh token in clear.
    let successor = jwt.successor_refresh_token(presented);
    if let Some(used_at) = token.used_at {
        if now - used_at <= REUSE_GRACE {
            let next = RefreshToken::find_for_update(conn, &sha256_hex(&successor))?;
            if next.is_some_and(|next| next.revoked_at.is_none()) {
                let user = active_user(conn, token.user_id)?;
                return Ok(Rotation::Rotated(pair(jwt, clock, &user, successor)));
            }
        }
        // A spent token came back: someone holds a copy. End the whole session family.
        RefreshToken::revoke_family(conn, token.family_id, now)?;
        tracing::warn!(user_id = %token.user_id, family_id = %token.family_id, "refresh token reused; family revoked");
        return Ok(Rotation::Reused);
    }
    let user = active_user(conn, token.user_id)?;
    RefreshToken::mark_used(conn, token.id, now)?;
    let family = Family {
        id: token.family_id,
        started_at: token.family_started_at,
    };
    issue(conn, jwt, clock, &user, &family, successor).map(Rotation::Rotated)
}

fn active_user(conn: &mut PgConnection, id: Uuid) -> Result<User, AppError> {
    User::find(conn, id)?
        .filter(|u| u.active)
        .ok_or_else(refresh_invalid)
}

/// Revokes the session family of `presented`; an unknown token is not an error (logout is
/// idempotent).
pub fn end(conn: &mut PgConnection, clock: &Clock, presented: &str) -> Result<Option<Uuid>, AppError> {
    let Some(token) = RefreshToken::find_for_update(conn, &sha256_hex(presented))? else {
        return Ok(None);
    };
    RefreshToken::revoke_family(conn, token.family_id, clock.now())?;
    Ok(Some(token.user_id))
}
