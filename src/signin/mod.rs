//! 签到: an officer signs in at an enterprise they look after, on site, once a day.
//!
//! The morning peak path: a checked [`attempt`] goes on the [`queue`], whose writer thread
//! checks and writes a batch of them in one call ([`batch`]); what the batch leaves alone (a
//! repeat, a key held by another request, a position outside the geofence) is answered in a
//! transaction of its own ([`fallback`]). Handlers in `routes::sign_ins` parse and call
//! [`sign_in`].

pub mod attempt;
pub mod batch;
pub mod fallback;
pub mod queue;

use std::sync::Arc;

use actix_web::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

pub use attempt::{SignInAttempt, SignInRequest, MAX_ACCURACY_M};
pub use batch::{Declined, KeyedAttempt, SignInOutcome};
pub use queue::SignInQueue;

use crate::clock::wire_time;
use crate::db;
use crate::db::models::sign_in::SignIn;
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{Idempotency, Stored};
use crate::state::AppState;

/// A sign-in as the API shows it.
#[derive(Debug, Serialize)]
pub struct SignInDto {
    id: Uuid,
    officer_id: Uuid,
    enterprise_id: Uuid,
    day: NaiveDate,
    signed_at: DateTime<FixedOffset>,
    /// GCJ-02, after conversion when the phone sent WGS-84.
    lat: f64,
    lng: f64,
    accuracy_m: Option<f64>,
    distance_m: f64,
    within_geofence: bool,
    remark: Option<String>,
    /// The officer has signed in from other devices before, never from this one.
    new_device: bool,
}

impl From<SignIn> for SignInDto {
    fn from(s: SignIn) -> Self {
        Self {
            id: s.id,
            officer_id: s.officer_id,
            enterprise_id: s.enterprise_id,
            day: s.day,
            signed_at: wire_time(s.signed_at),
            lat: s.lat,
            lng: s.lng,
            accuracy_m: s.accuracy_m,
            distance_m: (s.distance_m * 10.0).round() / 10.0,
            within_geofence: s.within_geofence,
            remark: s.remark,
            new_device: s.new_device,
        }
    }
}

/// What a sign-in request came to: the answer, and the region's path when it wrote a sign-in
/// (for the counters, after the commit).
pub struct SignedIn {
    pub stored: Stored,
    pub written_in: Option<String>,
}

/// Signs the attempt in: through the batch writer, then, if the batch declined it, the
/// transactional path.
pub async fn sign_in(
    state: &AppState,
    attempt: SignInAttempt,
    idempotency: Idempotency,
) -> Result<SignedIn, AppError> {
    let attempt = Arc::new(attempt);
    let key = idempotency
        .key()
        .map(|k| (k.key.to_owned(), k.fingerprint.to_owned()));
    let (stored, written_in) = match state.sign_ins.sign_in(Arc::clone(&attempt), key).await? {
        SignInOutcome::NoEnterprise => return Err(AppError::NotFound),
        SignInOutcome::NotAssigned => return Err(not_assigned()),
        SignInOutcome::Written(sign_in, region_path) => (
            Stored::json(StatusCode::CREATED, &SignInDto::from(sign_in))?,
            Some(region_path),
        ),
        SignInOutcome::Stored(record, named) => {
            let replay = idempotency.replay_of(record).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("a key's record for a request without a key"))
            })??;
            (rendered(replay, named)?, None)
        }
        SignInOutcome::Declined(declined) => {
            db::run(&state.pool, move |conn| {
                let (stored, written_in) = fallback::settle(conn, &idempotency, &attempt, declined)?;
                let named = stored.row.map(|id| SignIn::find(conn, id)).transpose()?.flatten();
                Ok((rendered(stored, named)?, written_in))
            })
            .await?
        }
    };
    Ok(SignedIn { stored, written_in })
}

pub(crate) fn not_assigned() -> AppError {
    AppError::new(ErrorCode::SigninNotAssigned, "您今天未包联该企业，不能在此签到")
}

/// A replay whose record names the sign-in it answered (written by a batch) is that sign-in
/// rendered again, by the same code as the first answer, so the same bytes.
fn rendered(replay: Stored, named: Option<SignIn>) -> Result<Stored, AppError> {
    match (replay.row, named) {
        (None, _) => Ok(replay),
        (Some(_), Some(sign_in)) => Ok(Stored {
            replayed: true,
            ..Stored::json(replay.status, &SignInDto::from(sign_in))?
        }),
        (Some(id), None) => Err(AppError::Internal(anyhow::anyhow!(
            "idempotency record names sign-in {id}, which is gone"
        ))),
    }
}
