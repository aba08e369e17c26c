//! Safe retries: `Idempotency-Key` on POST/PUT/PATCH.
//!
//! A phone on a weak network resends. With a key, the first response is stored in PostgreSQL
//! in the same transaction as the write it answers, and a repeat gets that response again
//! (same status, same body) instead of a second write. Keys are scoped to the caller; the
//! same key with a different body is a 422 `idempotency.key_reused` (as the IETF
//! Idempotency-Key draft has it); a repeat that arrives while the first is still running is a
//! 409 `idempotency.in_progress` (a transaction-scoped advisory lock tells). Records are kept
//! at least 24 hours (see `jobs::prune_idempotency`).
//!
//! A response that carries a secret (a token pair, an invite code) is never stored: its record
//! keeps only that the key was used, and a repeat is a 409 `idempotency.not_replayable`.
//! Fingerprints are keyed hashes (HMAC with a key derived from `JWT_SECRET`), so a stored
//! fingerprint of a body holding a password cannot be checked against guesses.

use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::models::idempotency::{Claim, IdempotencyRecord};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub const KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");
const MAX_KEY_LENGTH: usize = 255;
/// The largest JSON body any route takes (a policy's, 2 MiB; each route enforces its own
/// limit), with a little slack.
const MAX_FINGERPRINTED_BODY: usize = crate::routes::policies::MAX_BODY + 64 * 1024;

/// HMAC-SHA-256 of the method, path, query and body of a request that carries a key.
#[derive(Debug, Clone)]
struct Fingerprint(String);

/// The key of the fingerprints' HMAC: derived from `JWT_SECRET`, which every instance shares,
/// so a resend that reaches another instance matches.
pub fn fingerprint_key(jwt_secret: &str) -> Vec<u8> {
    Sha256::digest(format!("zhuqi idempotency fingerprint\n{jwt_secret}")).to_vec()
}

/// The fingerprint of a request under this server's key.
fn fingerprint_of(state: Option<&web::Data<AppState>>, method: &Method, uri: &str, body: &[u8]) -> String {
    let key = state
        .map(|state| state.fingerprint_key.as_slice())
        .unwrap_or_default();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes keys of any length; this cannot happen.
        return hex::encode(Sha256::digest(body));
    };
    mac.update(method.as_str().as_bytes());
    mac.update(b" ");
    mac.update(uri.as_bytes());
    mac.update(b"\n");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// `application/json` and the `application/…+json` types the JSON extractor also reads.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Middleware: reads the body of keyed POST/PUT/PATCH requests once, fingerprints it and puts
/// it back for the handler.
pub async fn fingerprint(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let writes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    // Only JSON bodies are fingerprinted; uploads (roster files) are idempotent by themselves.
    let json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json);
    if writes && json && req.headers().contains_key(&KEY_HEADER) {
        // Read here rather than through the `Bytes` extractor, whose 64 KiB limit is the
        // ordinary routes' and would refuse a keyed assignment meeting.
        let mut payload = req.take_payload();
        let mut body = web::BytesMut::new();
        while let Some(chunk) = futures_util::StreamExt::next(&mut payload).await {
            let chunk = chunk.map_err(|_| AppError::PayloadTooLarge)?;
            if body.len() + chunk.len() > MAX_FINGERPRINTED_BODY {
                return Err(AppError::PayloadTooLarge.into());
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        let state = req.app_data::<web::Data<AppState>>();
        let fingerprint = fingerprint_of(state, req.method(), &req.uri().to_string(), &body);
        req.extensions_mut().insert(Fingerprint(fingerprint));
        req.set_payload(Payload::from(body));
    }
    next.call(req).await
}

/// The caller's key for this request, if they sent one.
#[derive(Debug, Clone)]
pub struct Idempotency(Option<Keyed>);

#[derive(Debug, Clone)]
struct Keyed {
    user_id: Uuid,
    key: String,
    fingerprint: String,
}

impl FromRequest for Idempotency {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let Some(raw) = req.headers().get(&KEY_HEADER) else {
            return ready(Ok(Self(None)));
        };
        let key = match raw.to_str().map(str::trim) {
            Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LENGTH => key.to_owned(),
            _ => {
                return ready(Err(AppError::new(
                    ErrorCode::IdempotencyKeyInvalid,
                    format!("Idempotency-Key 应为 1 到 {MAX_KEY_LENGTH} 个可见 ASCII 字符（建议 UUID）"),
                )))
            }
        };
        // Keys belong to a caller; the route's own extractor reports a missing token.
        let Ok(AuthUser(caller)) = AuthUser::from_request(req, payload).into_inner() else {
            return ready(Ok(Self(None)));
        };
        let fingerprint = req
            .extensions()
            .get::<Fingerprint>()
            .map(|f| f.0.clone())
            .unwrap_or_else(|| {
                let state = req.app_data::<web::Data<AppState>>();
                fingerprint_of(state, req.method(), &req.uri().to_string(), b"")
            });
        ready(Ok(Self(Some(Keyed {
            user_id: caller.user_id,
            key,
            fingerprint,
        }))))
    }
}

/// A response as stored for replay.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// `false` for a response that carries a secret: its record keeps no body.
    pub replayable: bool,
    pub replayed: bool,
    /// On the replay of a record that names the row it answered instead of holding a body
    /// (sign-ins, see `IdempotencyRecord::response_row`): that row, for the endpoint to render.
    pub row: Option<Uuid>,
}

impl Stored {
    pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Result<Self, AppError> {
        let body = serde_json::to_vec(body).map_err(|e| AppError::Internal(e.into()))?;
        Ok(Self {
            status,
            body,
            replayable: true,
            replayed: false,
            row: None,
        })
    }

    /// A response that carries a secret (tokens, an invite code): sent once, never stored, so
    /// a repeat of its request is a 409 `idempotency.not_replayable`.
    pub fn secret_json<T: Serialize>(status: StatusCode, body: &T) -> Result<Self, AppError> {
        Ok(Self {
            replayable: false,
            ..Self::json(status, body)?
        })
    }

    /// A response without a body (204).
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            body: Vec::new(),
            replayable: true,
            replayed: false,
            row: None,
        }
    }

    pub fn into_response(self) -> HttpResponse {
        if let Some(row) = self.row {
            // Only the endpoint that stored a row reference can render it (the fingerprint
            // covers the path, so no other endpoint replays its records).
            tracing::error!(%row, "a replay naming a row reached the response unrendered");
            return AppError::Internal(anyhow::anyhow!("unrendered replay")).error_response();
        }
        let mut response = HttpResponse::build(self.status);
        if self.replayed {
            response.insert_header((REPLAYED_HEADER, HeaderValue::from_static("true")));
        }
        if self.body.is_empty() {
            return response.finish();
        }
        response.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")));
        response.body(self.body)
    }
}

/// The stored response of a key used before; 422 when this request differs from the one that
/// used it, 409 when that one's response was a secret and was not kept.
fn replay(keyed: &Keyed, record: IdempotencyRecord) -> Result<Stored, AppError> {
    if record.request_hash != keyed.fingerprint {
        return Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "该 Idempotency-Key 已用于另一个请求 (key reused with a different request)",
        ));
    }
    if record.response_body.is_none() && record.response_row.is_none() {
        return Err(AppError::new(
            ErrorCode::IdempotencyNotReplayable,
            "该请求已完成，其结果含凭证不能重发；请重新登录或重新发起 (the first response carried a secret and is not kept)",
        ));
    }
    let status = record
        .status_code
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::OK);
    Ok(Stored {
        status,
        body: record.response_body.unwrap_or_default(),
        replayable: true,
        replayed: true,
        row: record.response_row,
    })
}

/// A request's key as a hot path that writes its own record needs it.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    pub user_id: Uuid,
    pub key: &'a str,
    pub fingerprint: &'a str,
}

impl Idempotency {
    pub fn key(&self) -> Option<KeyRef<'_>> {
        self.0.as_ref().map(|k| KeyRef {
            user_id: k.user_id,
            key: &k.key,
            fingerprint: &k.fingerprint,
        })
    }

    /// For a record found under this request's key (read outside [`within`]): the replay, or
    /// 409 when the request differs. `None` when the request carried no key.
    pub fn replay_of(&self, record: IdempotencyRecord) -> Option<Result<Stored, AppError>> {
        self.0.as_ref().map(|keyed| replay(keyed, record))
    }
}

/// The answer already given under this request's key, read without claiming the key: for a
/// handler that must do work outside the transaction (hashing a password) before [`within`],
/// and should not do it for a repeat.
pub fn earlier_answer(
    conn: &mut PgConnection,
    idempotency: &Idempotency,
) -> Result<Option<Stored>, AppError> {
    let Some(keyed) = &idempotency.0 else {
        return Ok(None);
    };
    IdempotencyRecord::find(conn, keyed.user_id, &keyed.key)?
        .map(|record| replay(keyed, record))
        .transpose()
}

/// Runs `work` in one transaction, exactly once per key: a repeat replays the stored response.
pub fn within<F>(
    conn: &mut PgConnection,
    idempotency: &Idempotency,
    now: DateTime<Utc>,
    work: F,
) -> Result<Stored, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<Stored, AppError>,
{
    once(conn, idempotency, now, |conn| Ok((work(conn)?, ()))).map(|done| done.stored)
}

/// What [`once`] did: the answer, and what the work reported besides it when it ran (`None` on
/// a replay, whose work ran before and must not be followed up twice).
pub struct Done<T> {
    pub stored: Stored,
    pub fresh: Option<T>,
}

/// [`within`] for work that also reports something for after the commit (what to count, whom
/// to notify): the answer and that report travel out together.
pub fn once<T, F>(
    conn: &mut PgConnection,
    idempotency: &Idempotency,
    now: DateTime<Utc>,
    work: F,
) -> Result<Done<T>, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<(Stored, T), AppError>,
{
    conn.transaction(|conn| {
        let Some(keyed) = &idempotency.0 else {
            let (stored, fresh) = work(conn)?;
            return Ok(Done {
                stored,
                fresh: Some(fresh),
            });
        };
        let claim = IdempotencyRecord::claim(conn, keyed.user_id, &keyed.key)?;
        if let Claim::Busy = claim {
            return Err(AppError::new(
                ErrorCode::IdempotencyInProgress,
                "相同的请求正在处理中，请稍后重试 (the first request with this key is still running)",
            ));
        }
        if let Claim::Stored(record) = claim {
            return Ok(Done {
                stored: replay(keyed, record)?,
                fresh: None,
            });
        }
        let (stored, fresh) = work(conn)?;
        IdempotencyRecord::insert(
            conn,
            keyed.user_id,
            &keyed.key,
            &keyed.fingerprint,
            stored.status.as_u16(),
            stored.replayable.then_some(stored.body.as_slice()),
            now,
        )?;
        Ok(Done {
            stored,
            fresh: Some(fresh),
        })
    })
}
