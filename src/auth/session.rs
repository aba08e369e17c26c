//! Sessions: an access token plus a rotating refresh token, issued on login and bind and
//! renewed on refresh. Reusing a spent refresh token revokes its whole family.

use chrono::Duration;
use diesel::PgConnection;
use serde::Serialize;
use uuid::Uuid;

use super::jwt::{AccessClaims, JwtKeys, ACCESS_TTL};
use super::secrets::{new_refresh_token, sha256_hex};
use crate::clock::Clock;
use crate::db::models::refresh_token::{NewRefreshToken, RefreshToken};
use crate::db::models::user::User;
use crate::error::AppError;

pub const REFRESH_TTL: Duration = Duration::days(30);

#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// Starts a new session (a new refresh token family) for `user`.
pub fn start(
    conn: &mut PgConnection,
    jwt: &JwtKeys,
    clock: &Clock,
    user: &User,
) -> Result<TokenPair, AppError> {
    issue(conn, jwt, clock, user, Uuid::new_v4())
}

fn issue(
    conn: &mut PgConnection,
    jwt: &JwtKeys,
    clock: &Clock,
    user: &User,
    family_id: Uuid,
) -> Result<TokenPair, AppError> {
    let refresh_token = new_refresh_token();
    let now = clock.now();
    RefreshToken::insert(
        conn,
        &NewRefreshToken {
            user_id: user.id,
            family_id,
            token_hash: &sha256_hex(&refresh_token),
            issued_at: now,
            expires_at: now + REFRESH_TTL,
        },
    )?;
    let access_token = jwt.issue_access(
        clock,
        AccessClaims::for_subject(
            user.id,
            user.role_list(),
            user.region_code.clone(),
            user.unit_id,
            user.enterprise_id,
        ),
    );
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL.num_seconds(),
    })
}

fn refresh_invalid() -> AppError {
    AppError::unauthorized(
        "auth.refresh_invalid",
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
            Rotation::Reused => Err(AppError::unauthorized(
                "auth.refresh_reused",
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
    if token.used_at.is_some() {
        // A spent token came back: someone holds a copy. End the whole session family.
        RefreshToken::revoke_family(conn, token.family_id, now)?;
        tracing::warn!(user_id = %token.user_id, family_id = %token.family_id, "refresh token reused; family revoked");
        return Ok(Rotation::Reused);
    }
    let user = User::find(conn, token.user_id)?
        .filter(|u| u.active)
        .ok_or_else(refresh_invalid)?;
    RefreshToken::mark_used(conn, token.id, now)?;
    issue(conn, jwt, clock, &user, token.family_id).map(Rotation::Rotated)
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
