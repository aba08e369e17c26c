//! Access tokens and bind tokens: HS256 JWTs with a pinned algorithm, issuer, audience and
//! expiry. Expiry is checked against the service [`Clock`], so tests can age a token.

use chrono::Duration;
use hmac::{Hmac, Mac};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::Secret;
use crate::domain::role::Role;

pub const ISSUER: &str = "zhuqi";
const ACCESS_AUDIENCE: &str = "zhuqi-api";
const BIND_AUDIENCE: &str = "zhuqi-wechat-bind";
pub const ACCESS_TTL: Duration = Duration::hours(2);
pub const BIND_TTL: Duration = Duration::minutes(10);

/// The claims of an access token: enough to authorise a request without a database read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub roles: Vec<Role>,
    /// The user's region code (GB/T 2260).
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<Uuid>,
    /// The user's session generation when the token was issued (see `auth::sessions`).
    #[serde(default)]
    pub gen: i64,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl AccessClaims {
    /// Claims for a subject; issuer, audience and times are filled in by `issue_access`.
    pub fn for_subject(
        sub: Uuid,
        roles: Vec<Role>,
        region: String,
        unit: Option<Uuid>,
        enterprise: Option<Uuid>,
    ) -> Self {
        Self {
            sub,
            roles,
            region,
            unit,
            enterprise,
            gen: 0,
            iss: String::new(),
            aud: String::new(),
            iat: 0,
            exp: 0,
        }
    }
}

/// The claims of a bind token: proof that WeChat vouched for `openid` a few minutes ago.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BindClaims {
    sub: String,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Keys the derivation of a refresh token's successor (see `session::rotate`).
    refresh: Vec<u8>,
}

impl JwtKeys {
    pub fn new(secret: &Secret<String>) -> Self {
        let bytes = secret.expose().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            refresh: Sha256::digest([b"zhuqi refresh successor\n".as_slice(), bytes].concat()).to_vec(),
        }
    }

    /// The refresh token that replaces `presented`: HMAC-SHA-256 under the server's key, so
    /// only the holder of `presented` and the server can name it.
    pub fn successor_refresh_token(&self, presented: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.refresh) else {
            // HMAC takes keys of any length; this cannot happen.
            return super::secrets::new_refresh_token();
        };
        mac.update(presented.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The subject's identity and scope; `roles` etc. come from the user row.
    pub fn issue_access(&self, clock: &Clock, claims: AccessClaims) -> String {
        let now = clock.now().timestamp();
        let claims = AccessClaims {
            iss: ISSUER.to_owned(),
            aud: ACCESS_AUDIENCE.to_owned(),
            iat: now,
            exp: now + ACCESS_TTL.num_seconds(),
            ..claims
        };
        self.sign(&claims)
    }

    pub fn verify_access(&self, clock: &Clock, token: &str) -> Result<AccessClaims, TokenError> {
        let claims: AccessClaims = self.verify(token, ACCESS_AUDIENCE)?;
        check_expiry(clock, claims.exp)?;
        Ok(claims)
    }

    pub fn issue_bind(&self, clock: &Clock, openid: &str) -> String {
        let now = clock.now().timestamp();
        self.sign(&BindClaims {
            sub: openid.to_owned(),
            iss: ISSUER.to_owned(),
            aud: BIND_AUDIENCE.to_owned(),
            iat: now,
            exp: now + BIND_TTL.num_seconds(),
        })
    }

    /// The openid a bind token vouches for.
    pub fn verify_bind(&self, clock: &Clock, token: &str) -> Result<String, TokenError> {
        let claims: BindClaims = self.verify(token, BIND_AUDIENCE)?;
        check_expiry(clock, claims.exp)?;
        Ok(claims.sub)
    }

    fn sign<T: Serialize>(&self, claims: &T) -> String {
        // HS256 signing of a serialisable struct cannot fail.
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding).unwrap_or_default()
    }

    fn verify<T: serde::de::DeserializeOwned>(&self, token: &str, audience: &str) -> Result<T, TokenError> {
        // Only HS256 is accepted: a token naming `none` or another algorithm fails here.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against the service clock instead, see `check_expiry`.
        validation.validate_exp = false;
        decode::<T>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }
}

fn check_expiry(clock: &Clock, exp: i64) -> Result<(), TokenError> {
    if clock.now().timestamp() >= exp {
        Err(TokenError::Expired)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&Secret::new(secret.to_owned()))
    }

    fn claims() -> AccessClaims {
        AccessClaims::for_subject(Uuid::nil(), vec![Role::Officer], "430200".into(), None, None)
    }

    fn clock() -> Clock {
        Clock::fixed(
            Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0)
                .single()
                .expect("valid"),
        )
    }

    #[test]
    fn an_issued_token_verifies_until_it_expires() {
        let (keys, clock) = (keys("k".repeat(32).as_str()), clock());
        let token = keys.issue_access(&clock, claims());
        assert_eq!(keys.verify_access(&clock, &token).map(|c| c.sub), Ok(Uuid::nil()));
        clock.advance(ACCESS_TTL);
        assert_eq!(keys.verify_access(&clock, &token), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_signed_with_another_key_is_invalid() {
        let clock = clock();
        let token = keys(&"a".repeat(32)).issue_access(&clock, claims());
        assert_eq!(
            keys(&"b".repeat(32)).verify_access(&clock, &token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn an_unsigned_alg_none_token_is_invalid() {
        let clock = clock();
        let keys = keys(&"a".repeat(32));
        let token = keys.issue_access(&clock, claims());
        let payload = token.split('.').nth(1).expect("payload");
        // {"alg":"none","typ":"JWT"}
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(keys.verify_access(&clock, &forged), Err(TokenError::Invalid));
    }

    #[test]
    fn a_bind_token_is_not_an_access_token() {
        let clock = clock();
        let keys = keys(&"a".repeat(32));
        let bind = keys.issue_bind(&clock, "openid-1");
        assert_eq!(keys.verify_access(&clock, &bind), Err(TokenError::Invalid));
        assert_eq!(keys.verify_bind(&clock, &bind), Ok("openid-1".to_owned()));
    }
}
