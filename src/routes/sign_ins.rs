//! 签到: an officer signs in at an assigned enterprise, on site, once a day.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate, SubsecRound, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{get, post, Endpoint, ListResponse, PageParams};
use crate::auth::extractors::AuthOfficer;
use crate::auth::{scope, AuthUser};
use crate::cache::counters::{self, Metric};
use crate::clock::{local_day, wire_time};
use crate::db;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::sign_in::{
    note_device, NewSignIn, SignIn, SignInAttempt, SignInFilter, SignInOutcome,
};
use crate::db::models::Page;
use crate::domain::field_error::FieldCode;
use crate::domain::geo::{Datum, GeoPoint};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

/// A fix worse than this (metres) cannot tell on site from down the road.
pub const MAX_ACCURACY_M: f64 = 1000.0;
const MAX_REMARK: usize = 200;
const MAX_DEVICE_ID: usize = 128;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/sign-ins", web::post().to(sign_in_create)),
        get("/api/v1/sign-ins", web::get().to(sign_in_list)),
    ]
}

#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
enum Coord {
    #[default]
    Gcj02,
    Wgs84,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSignInRequest {
    enterprise_id: Uuid,
    lat: f64,
    lng: f64,
    #[serde(default)]
    coord: Coord,
    accuracy_m: Option<f64>,
    remark: Option<String>,
    device_id: Option<String>,
}

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

/// Signs the officer in at an enterprise they are assigned to, with the server's time. The
/// first sign-in of the China-local day is a 201; a repeat returns that first record with 200.
async fn sign_in_create(
    state: web::Data<AppState>,
    officer: AuthOfficer,
    idempotency: Idempotency,
    body: web::Json<NewSignInRequest>,
) -> Result<HttpResponse, AppError> {
    // The database keeps microseconds: the first answer must equal every later read.
    let now = state.clock.now().trunc_subsecs(6);
    let attempt = Arc::new(checked(body.into_inner(), officer.caller.user_id, now)?);
    let key = idempotency
        .key()
        .map(|k| (k.key.to_owned(), k.fingerprint.to_owned()));
    let (stored, created_in) = match state.sign_ins.sign_in(Arc::clone(&attempt), key).await? {
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
        // A second sign-in of the day, a key another request holds, a position outside the
        // geofence: one transaction under the key.
        SignInOutcome::Declined => {
            let attempt = Arc::clone(&attempt);
            db::run(&state.pool, move |conn| {
                let (stored, created_in) = sign_in_carefully(conn, &idempotency, &attempt)?;
                let named = stored.row.map(|id| SignIn::find(conn, id)).transpose()?.flatten();
                Ok((rendered(stored, named)?, created_in))
            })
            .await?
        }
    };
    if let Some(path) = created_in {
        counters::after_commit(&state.cache, &path, attempt.day, &[(Metric::SignIns, 1)]).await;
    }
    Ok(stored.into_response())
}

/// The request as an attempt, or the first rule it breaks.
fn checked(
    request: NewSignInRequest,
    officer_id: Uuid,
    now: DateTime<Utc>,
) -> Result<SignInAttempt, AppError> {
    let datum = match request.coord {
        Coord::Gcj02 => Datum::Gcj02,
        Coord::Wgs84 => Datum::Wgs84,
    };
    let point = GeoPoint::from_device(request.lat, request.lng, datum)
        .ok_or_else(|| AppError::invalid_field("lat", FieldCode::Invalid, "坐标无效"))?;
    if let Some(accuracy) = request.accuracy_m {
        if !accuracy.is_finite() || accuracy < 0.0 {
            return Err(AppError::invalid_field(
                "accuracy_m",
                FieldCode::OutOfRange,
                "定位精度应为非负数（米）",
            ));
        }
        if accuracy > MAX_ACCURACY_M {
            return Err(AppError::with_details(
                ErrorCode::SigninInaccurate,
                "定位精度不足，请到开阔处重新定位后签到 (location fix too inaccurate)",
                serde_json::json!({ "accuracy_m": accuracy, "max_accuracy_m": MAX_ACCURACY_M }),
            ));
        }
    }
    let remark = request
        .remark
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if remark.as_ref().is_some_and(|r| r.chars().count() > MAX_REMARK) {
        return Err(AppError::invalid_field(
            "remark",
            FieldCode::TooLong,
            "备注不能超过200个字符",
        ));
    }
    // PostgreSQL text cannot hold U+0000: refused here, before it could fail a whole batch.
    if remark.as_ref().is_some_and(|r| r.contains('\0')) {
        return Err(AppError::invalid_field(
            "remark",
            FieldCode::Invalid,
            "备注不能包含空字符 (U+0000)",
        ));
    }
    let device_id = request
        .device_id
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if device_id
        .as_ref()
        .is_some_and(|d| d.len() > MAX_DEVICE_ID || d.contains('\0'))
    {
        return Err(AppError::invalid_field(
            "device_id",
            FieldCode::TooLong,
            "device_id 不能超过128个字符，且不能包含空字符",
        ));
    }
    Ok(SignInAttempt {
        id: Uuid::new_v4(),
        officer_id,
        enterprise_id: request.enterprise_id,
        point,
        accuracy_m: request.accuracy_m,
        remark,
        device_id,
        now,
        day: local_day(now),
    })
}

fn not_assigned() -> AppError {
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

/// Every other case, in one transaction under the key: a repeat gets the day's first record
/// (200), a position outside the geofence without a remark is refused.
fn sign_in_carefully(
    conn: &mut PgConnection,
    idempotency: &Idempotency,
    attempt: &SignInAttempt,
) -> Result<(Stored, Option<String>), AppError> {
    let (officer_id, enterprise_id, day) = (attempt.officer_id, attempt.enterprise_id, attempt.day);
    let mut created_in = None;
    let stored = idempotency::within(conn, idempotency, attempt.now, |conn| {
        let (enterprise, region_path, assigned) =
            Enterprise::for_officer(conn, enterprise_id, officer_id, day)?.ok_or(AppError::NotFound)?;
        if !assigned {
            return Err(not_assigned());
        }
        let location = GeoPoint {
            lat: enterprise.lat,
            lng: enterprise.lng,
        };
        let probe = attempt.record(&enterprise.region_code, location, enterprise.geofence_m, false);
        if !probe.within_geofence && probe.remark.is_none() {
            // A repeat still gets the day's first record, wherever the phone is now.
            if let Some(first) = SignIn::find_for_day(conn, officer_id, enterprise_id, day)? {
                return Stored::json(StatusCode::OK, &SignInDto::from(first));
            }
            return Err(AppError::with_details(
                ErrorCode::SigninOutOfRange,
                format!(
                    "您距离企业约{:.0}米，超出{}米签到范围；如为外勤，请填写备注",
                    probe.distance_m, enterprise.geofence_m
                ),
                serde_json::json!({ "distance_m": probe.distance_m.round(), "geofence_m": enterprise.geofence_m }),
            ));
        }
        let new_device = match &attempt.device_id {
            Some(device) => note_device(conn, officer_id, device, attempt.now)?,
            None => false,
        };
        let record = NewSignIn { new_device, ..probe };
        match SignIn::insert_first(conn, &record)? {
            Some(sign_in) => {
                created_in = Some(region_path);
                Stored::json(StatusCode::CREATED, &SignInDto::from(sign_in))
            }
            // Already signed in there today (or a simultaneous tap won): the first record.
            None => {
                let first =
                    SignIn::find_for_day(conn, officer_id, enterprise_id, day)?.ok_or(AppError::NotFound)?;
                Stored::json(StatusCode::OK, &SignInDto::from(first))
            }
        }
    })?;
    Ok((stored, created_in))
}

#[derive(Deserialize)]
struct SignInQuery {
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    day: Option<NaiveDate>,
    enterprise_id: Option<Uuid>,
    officer_id: Option<Uuid>,
}

/// Sign-ins the caller may see, newest first.
async fn sign_in_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<SignInQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let SignInQuery {
        day,
        enterprise_id,
        officer_id,
    } = query.into_inner();
    let (limit, after) = (page.limit()?, page.time_cursor()?);
    let filter = SignInFilter {
        day,
        enterprise_id,
        officer_id,
    };
    let page = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        let rows = SignIn::list(conn, &scope, &filter, after, limit)?;
        Ok(Page::from_rows(rows, limit, |s| {
            super::time_cursor(s.signed_at, s.id)
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page.map(SignInDto::from))))
}
