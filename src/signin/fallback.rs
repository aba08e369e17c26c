//! The transactional path: the attempts the batch left alone (`Declined`), each answered in
//! one transaction under the request's key. It does only what the batch's answer leaves to do.

use actix_web::http::StatusCode;
use diesel::PgConnection;

use super::attempt::SignInAttempt;
use super::batch::Declined;
use super::{not_assigned, SignInDto};
use crate::db::models::enterprise::Enterprise;
use crate::db::models::sign_in::{note_device, NewSignIn, SignIn};
use crate::domain::geo::GeoPoint;
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};

/// Answers a declined attempt: the day's first record (200) for a repeat, wherever the phone
/// is now; 422 `signin.out_of_range` for a first sign-in outside the geofence without a
/// remark; and, when another request held the key, the whole check under the key (that
/// request may have rolled back). Returns the answer and, when it wrote a sign-in, its
/// region's path.
pub fn settle(
    conn: &mut PgConnection,
    idempotency: &Idempotency,
    attempt: &SignInAttempt,
    declined: Declined,
) -> Result<(Stored, Option<String>), AppError> {
    let done = idempotency::once(conn, idempotency, attempt.now, |conn| match declined {
        Declined::SignedInBefore => Ok((first_of_day(conn, attempt)?, None)),
        Declined::OutOfRange { distance_m } => match first_record(conn, attempt)? {
            Some(first) => Ok((Stored::json(StatusCode::OK, &SignInDto::from(first))?, None)),
            None => Err(out_of_range(conn, attempt, distance_m)?),
        },
        Declined::KeyTaken => sign_in_checked(conn, attempt),
    })?;
    Ok((done.stored, done.fresh.flatten()))
}

fn first_record(conn: &mut PgConnection, attempt: &SignInAttempt) -> Result<Option<SignIn>, AppError> {
    Ok(SignIn::find_for_day(
        conn,
        attempt.officer_id,
        attempt.enterprise_id,
        attempt.day,
    )?)
}

/// The day's first sign-in there, as a 200.
fn first_of_day(conn: &mut PgConnection, attempt: &SignInAttempt) -> Result<Stored, AppError> {
    let first = first_record(conn, attempt)?.ok_or(AppError::NotFound)?;
    Stored::json(StatusCode::OK, &SignInDto::from(first))
}

fn out_of_range(
    conn: &mut PgConnection,
    attempt: &SignInAttempt,
    distance_m: f64,
) -> Result<AppError, AppError> {
    let enterprise = Enterprise::find(conn, attempt.enterprise_id)?.ok_or(AppError::NotFound)?;
    Ok(AppError::with_details(
        ErrorCode::SigninOutOfRange,
        format!(
            "您距离企业约{:.0}米，超出{}米签到范围；如为外勤，请填写备注",
            distance_m, enterprise.geofence_m
        ),
        serde_json::json!({ "distance_m": distance_m.round(), "geofence_m": enterprise.geofence_m }),
    ))
}

/// The whole check and write, as the batch would have made it, for an attempt whose key was
/// held by another request when the batch ran.
fn sign_in_checked(
    conn: &mut PgConnection,
    attempt: &SignInAttempt,
) -> Result<(Stored, Option<String>), AppError> {
    let (officer_id, enterprise_id, day) = (attempt.officer_id, attempt.enterprise_id, attempt.day);
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
        return match first_record(conn, attempt)? {
            Some(first) => Ok((Stored::json(StatusCode::OK, &SignInDto::from(first))?, None)),
            None => Err(out_of_range(conn, attempt, probe.distance_m)?),
        };
    }
    let new_device = match &attempt.device_id {
        Some(device) => note_device(conn, officer_id, device, attempt.now)?,
        None => false,
    };
    let record = NewSignIn { new_device, ..probe };
    match SignIn::insert_first(conn, &record)? {
        Some(sign_in) => Ok((
            Stored::json(StatusCode::CREATED, &SignInDto::from(sign_in))?,
            Some(region_path),
        )),
        // Already signed in there today (or a simultaneous tap won): the first record.
        None => Ok((first_of_day(conn, attempt)?, None)),
    }
}
