//! `sign_ins` (签到) and `officer_devices`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types as sql;
use uuid::Uuid;

use super::idempotency::IdempotencyRecord;
use super::scoped::RecordScope;
use crate::domain::geo::GeoPoint;
use crate::schema::{officer_devices, sign_ins};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sign_ins, check_for_backend(diesel::pg::Pg))]
pub struct SignIn {
    pub id: Uuid,
    pub officer_id: Uuid,
    pub enterprise_id: Uuid,
    pub region_code: String,
    pub day: NaiveDate,
    pub signed_at: DateTime<Utc>,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub distance_m: f64,
    pub within_geofence: bool,
    pub remark: Option<String>,
    pub device_id: Option<String>,
    pub new_device: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sign_ins, treat_none_as_default_value = false)]
pub struct NewSignIn<'a> {
    pub officer_id: Uuid,
    pub enterprise_id: Uuid,
    pub region_code: &'a str,
    pub day: NaiveDate,
    pub signed_at: DateTime<Utc>,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub distance_m: f64,
    pub within_geofence: bool,
    pub remark: Option<&'a str>,
    pub device_id: Option<&'a str>,
    pub new_device: bool,
}

#[derive(Debug, Default)]
pub struct SignInFilter {
    pub day: Option<NaiveDate>,
    pub enterprise_id: Option<Uuid>,
    pub officer_id: Option<Uuid>,
}

impl SignIn {
    /// Inserts the day's first sign-in; `None` when the officer already signed in there today
    /// (the unique constraint decides, so two taps at once still make one record).
    pub fn insert_first(conn: &mut PgConnection, new: &NewSignIn) -> QueryResult<Option<SignIn>> {
        diesel::insert_into(sign_ins::table)
            .values(new)
            .on_conflict_do_nothing()
            .returning(SignIn::as_returning())
            .get_result(conn)
            .optional()
    }

    pub fn find_for_day(
        conn: &mut PgConnection,
        officer_id: Uuid,
        enterprise_id: Uuid,
        day: NaiveDate,
    ) -> QueryResult<Option<SignIn>> {
        sign_ins::table
            .filter(sign_ins::officer_id.eq(officer_id))
            .filter(sign_ins::enterprise_id.eq(enterprise_id))
            .filter(sign_ins::day.eq(day))
            .select(SignIn::as_select())
            .first(conn)
            .optional()
    }

    /// Newest first; the cursor is the last row's (signed_at, id).
    pub fn list(
        conn: &mut PgConnection,
        scope: &RecordScope,
        filter: &SignInFilter,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> QueryResult<Vec<SignIn>> {
        let mut query = sign_ins::table
            .select(SignIn::as_select())
            .order((sign_ins::signed_at.desc(), sign_ins::id.desc()))
            .limit(limit + 1)
            .into_boxed();
        query = match scope {
            RecordScope::Officer(id) => query.filter(sign_ins::officer_id.eq(*id)),
            RecordScope::Unit(unit) => {
                query.filter(sign_ins::officer_id.eq_any(RecordScope::unit_officers(*unit)))
            }
            RecordScope::Region(path) => {
                query.filter(sign_ins::region_code.eq_any(RecordScope::subtree(path)))
            }
            RecordScope::Enterprise(_) | RecordScope::Department(_) | RecordScope::Nothing => {
                query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("false"))
            }
        };
        if let Some(day) = filter.day {
            query = query.filter(sign_ins::day.eq(day));
        }
        if let Some(enterprise) = filter.enterprise_id {
            query = query.filter(sign_ins::enterprise_id.eq(enterprise));
        }
        if let Some(officer) = filter.officer_id {
            query = query.filter(sign_ins::officer_id.eq(officer));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                sign_ins::signed_at
                    .lt(at)
                    .or(sign_ins::signed_at.eq(at).and(sign_ins::id.lt(id))),
            );
        }
        query.load(conn)
    }
}

/// Records the device; `true` when the officer has signed in from other devices but never
/// from this one (the first device an officer ever uses is their baseline, not a warning).
pub fn note_device(
    conn: &mut PgConnection,
    officer_id: Uuid,
    device_id: &str,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(officer_devices::table)
        .values((
            officer_devices::officer_id.eq(officer_id),
            officer_devices::device_id.eq(device_id),
            officer_devices::first_seen_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Ok(false);
    }
    let known: i64 = officer_devices::table
        .filter(officer_devices::officer_id.eq(officer_id))
        .count()
        .get_result(conn)?;
    Ok(known > 1)
}

/// One sign-in request, checked, with the server's time and the id its record will have.
#[derive(Debug)]
pub struct SignInAttempt {
    pub id: Uuid,
    pub officer_id: Uuid,
    pub enterprise_id: Uuid,
    /// GCJ-02, converted already when the phone sent WGS-84.
    pub point: GeoPoint,
    pub accuracy_m: Option<f64>,
    pub remark: Option<String>,
    pub device_id: Option<String>,
    pub now: DateTime<Utc>,
    pub day: NaiveDate,
}

impl SignInAttempt {
    /// The record this attempt makes at an enterprise, measured here (the transactional path).
    pub fn record<'a>(
        &'a self,
        region_code: &'a str,
        enterprise: GeoPoint,
        geofence_m: i32,
        new_device: bool,
    ) -> NewSignIn<'a> {
        let distance_m = self.point.distance_m(enterprise);
        NewSignIn {
            officer_id: self.officer_id,
            enterprise_id: self.enterprise_id,
            region_code,
            day: self.day,
            signed_at: self.now,
            lat: self.point.lat,
            lng: self.point.lng,
            accuracy_m: self.accuracy_m,
            distance_m,
            within_geofence: distance_m <= f64::from(geofence_m),
            remark: self.remark.as_deref(),
            device_id: self.device_id.as_deref(),
            new_device,
        }
    }

    /// The row `sign_ins_at_once` wrote for this attempt, with what it measured.
    fn written(
        &self,
        region_code: String,
        distance_m: f64,
        within_geofence: bool,
        new_device: bool,
    ) -> SignIn {
        SignIn {
            id: self.id,
            officer_id: self.officer_id,
            enterprise_id: self.enterprise_id,
            region_code,
            day: self.day,
            signed_at: self.now,
            lat: self.point.lat,
            lng: self.point.lng,
            accuracy_m: self.accuracy_m,
            distance_m,
            within_geofence,
            remark: self.remark.clone(),
            device_id: self.device_id.clone(),
            new_device,
        }
    }
}

/// What became of one attempt of a batch ([`SignIn::write_batch`]).
#[derive(Debug)]
pub enum SignInOutcome {
    NoEnterprise,
    /// The request's key was used before: what is stored under it, and the sign-in it names
    /// (if it names one rather than holding a response).
    Stored(IdempotencyRecord, Option<SignIn>),
    NotAssigned,
    /// The sign-in as written, and its region's path (for the counters).
    Written(SignIn, String),
    /// Nothing written, for the transactional path to answer: outside the geofence without
    /// a remark, the key held by another request, or already signed in there today.
    Declined,
}

/// An attempt and the request's `Idempotency-Key` and fingerprint, if it sent one.
pub type KeyedAttempt = (Arc<SignInAttempt>, Option<(String, String)>);

diesel::define_sql_function! {
    /// See migration 000009.
    #[allow(clippy::too_many_arguments)]
    fn sign_ins_at_once(
        ids: sql::Array<sql::Uuid>, officers: sql::Array<sql::Uuid>, enterprises: sql::Array<sql::Uuid>,
        days: sql::Array<sql::Date>, ats: sql::Array<sql::Timestamptz>, lats: sql::Array<sql::Double>,
        lngs: sql::Array<sql::Double>, accuracies: sql::Array<sql::Nullable<sql::Double>>,
        remarks: sql::Array<sql::Nullable<sql::Text>>, devices: sql::Array<sql::Nullable<sql::Text>>,
        keys: sql::Array<sql::Nullable<sql::Text>>, hashes: sql::Array<sql::Nullable<sql::Text>>
    ) -> sql::Record<(
        sql::Integer, sql::Text, sql::Nullable<sql::Text>, sql::Nullable<sql::Text>, sql::Nullable<sql::Double>,
        sql::Nullable<sql::Bool>, sql::Nullable<sql::Bool>, sql::Nullable<sql::Text>,
        sql::Nullable<sql::SmallInt>, sql::Nullable<sql::Binary>, sql::Nullable<sql::Uuid>
    )>;
}

type BatchRow = (
    i32,
    String,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<bool>,
    Option<bool>,
    Option<String>,
    Option<i16>,
    Option<Vec<u8>>,
    Option<Uuid>,
);

impl SignIn {
    /// Checks and writes a batch of sign-ins in one call, one transaction and one WAL flush
    /// (`sign_ins_at_once`, migration 000009): the enterprise, the key's record and the
    /// assignment are read, the distance measured and, for plain first sign-ins of the day,
    /// the sign-in written with the device and the key's record (which names the sign-in
    /// instead of holding its JSON). One answer per attempt, in order. Replays that name a
    /// sign-in come with it, read in one more query for the whole batch.
    pub fn write_batch(conn: &mut PgConnection, batch: &[KeyedAttempt]) -> QueryResult<Vec<SignInOutcome>> {
        let ids: Vec<Uuid> = batch.iter().map(|(a, _)| a.id).collect();
        let officers: Vec<Uuid> = batch.iter().map(|(a, _)| a.officer_id).collect();
        let enterprises: Vec<Uuid> = batch.iter().map(|(a, _)| a.enterprise_id).collect();
        let days: Vec<NaiveDate> = batch.iter().map(|(a, _)| a.day).collect();
        let ats: Vec<DateTime<Utc>> = batch.iter().map(|(a, _)| a.now).collect();
        let lats: Vec<f64> = batch.iter().map(|(a, _)| a.point.lat).collect();
        let lngs: Vec<f64> = batch.iter().map(|(a, _)| a.point.lng).collect();
        let accuracies: Vec<Option<f64>> = batch.iter().map(|(a, _)| a.accuracy_m).collect();
        let remarks: Vec<Option<&str>> = batch.iter().map(|(a, _)| a.remark.as_deref()).collect();
        let devices: Vec<Option<&str>> = batch.iter().map(|(a, _)| a.device_id.as_deref()).collect();
        let keys: Vec<Option<&str>> = batch
            .iter()
            .map(|(_, k)| k.as_ref().map(|k| k.0.as_str()))
            .collect();
        let hashes: Vec<Option<&str>> = batch
            .iter()
            .map(|(_, k)| k.as_ref().map(|k| k.1.as_str()))
            .collect();
        let rows: Vec<BatchRow> = diesel::select(sign_ins_at_once(
            ids,
            officers,
            enterprises,
            days,
            ats,
            lats,
            lngs,
            accuracies,
            remarks,
            devices,
            keys,
            hashes,
        ))
        .load(conn)?;
        if rows.len() != batch.len() || rows.iter().zip(1..).any(|(row, i)| row.0 != i) {
            return Err(diesel::result::Error::DeserializationError(
                format!(
                    "sign_ins_at_once answered {} rows for {} attempts",
                    rows.len(),
                    batch.len()
                )
                .into(),
            ));
        }
        let named: Vec<Uuid> = rows
            .iter()
            .filter(|r| r.1 == "stored")
            .filter_map(|r| r.10)
            .collect();
        let replayed: HashMap<Uuid, SignIn> = if named.is_empty() {
            HashMap::new()
        } else {
            sign_ins::table
                .filter(sign_ins::id.eq_any(&named))
                .select(SignIn::as_select())
                .load(conn)?
                .into_iter()
                .map(|s| (s.id, s))
                .collect()
        };
        rows.into_iter()
            .zip(batch)
            .map(|(row, (attempt, _))| {
                let (_, outcome, region, path, distance, inside, new_device, hash, status, body, named) = row;
                Ok(
                    match (outcome.as_str(), region, path, distance, inside, new_device, hash) {
                        (
                            "written",
                            Some(region),
                            Some(path),
                            Some(distance),
                            Some(inside),
                            Some(new_device),
                            _,
                        ) => SignInOutcome::Written(
                            attempt.written(region, distance, inside, new_device),
                            path,
                        ),
                        ("stored", .., Some(request_hash)) => SignInOutcome::Stored(
                            IdempotencyRecord {
                                request_hash,
                                status_code: status,
                                response_body: body,
                                response_row: named,
                            },
                            // Several resends of one request in a batch name the same sign-in.
                            named.and_then(|id| replayed.get(&id).cloned()),
                        ),
                        ("no_enterprise", ..) => SignInOutcome::NoEnterprise,
                        ("not_assigned", ..) => SignInOutcome::NotAssigned,
                        ("out_of_range" | "key_taken" | "signed_in_before", ..) => SignInOutcome::Declined,
                        (other, ..) => {
                            return Err(diesel::result::Error::DeserializationError(
                                format!("sign_ins_at_once answered {other:?} without its fields").into(),
                            ))
                        }
                    },
                )
            })
            .collect()
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<SignIn>> {
        sign_ins::table
            .find(id)
            .select(SignIn::as_select())
            .first(conn)
            .optional()
    }
}
