//! `sign_ins` (签到) and `officer_devices`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types as sql;
use uuid::Uuid;

use super::scoped::RecordScope;
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

impl NewSignIn<'_> {
    /// The row this becomes under `id` (what the one-statement write answers with).
    pub fn to_sign_in(&self, id: Uuid) -> SignIn {
        SignIn {
            id,
            officer_id: self.officer_id,
            enterprise_id: self.enterprise_id,
            region_code: self.region_code.to_owned(),
            day: self.day,
            signed_at: self.signed_at,
            lat: self.lat,
            lng: self.lng,
            accuracy_m: self.accuracy_m,
            distance_m: self.distance_m,
            within_geofence: self.within_geofence,
            remark: self.remark.map(str::to_owned),
            device_id: self.device_id.map(str::to_owned),
            new_device: self.new_device,
        }
    }
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

/// What a sign-in needs to know, read in one round trip: where the enterprise is, whether the
/// officer is assigned there that day, what is stored under the request's idempotency key, and
/// whether the device is new to the officer.
#[derive(Debug)]
pub struct SignInContext {
    pub lat: f64,
    pub lng: f64,
    pub geofence_m: i32,
    pub region_code: String,
    pub region_path: String,
    pub assigned: bool,
    pub key_hash: Option<String>,
    pub key_status: Option<i16>,
    pub key_body: Option<Vec<u8>>,
    /// Signed in from other devices before, never from this one.
    pub new_device: bool,
}

/// The idempotency record written with a sign-in: the request's key and the 201 response.
pub struct KeyRecord<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub response: &'a [u8],
}

/// Why the one-call write did not happen; the caller then takes the transactional path.
#[derive(Debug, PartialEq, Eq)]
pub enum NotWritten {
    /// A request with the same key got there first.
    KeyTaken,
    /// The officer already signed in there that day.
    AlreadySignedIn,
}

diesel::define_sql_function! {
    /// See migration 000006.
    #[allow(clippy::too_many_arguments)]
    fn sign_in_first(
        id: sql::Uuid, officer: sql::Uuid, enterprise: sql::Uuid, region: sql::Text, day: sql::Date,
        at: sql::Timestamptz, lat: sql::Double, lng: sql::Double, accuracy: sql::Nullable<sql::Double>,
        distance: sql::Double, within: sql::Bool, remark: sql::Nullable<sql::Text>,
        device: sql::Nullable<sql::Text>, new_device: sql::Bool, key: sql::Nullable<sql::Text>,
        hash: sql::Nullable<sql::Text>, response: sql::Nullable<sql::Binary>
    ) -> sql::Bool;
}

impl SignIn {
    /// Built with the query builder, so diesel keeps it as a prepared statement per connection
    /// (text queries are planned anew on every call).
    pub fn context(
        conn: &mut PgConnection,
        enterprise_id: Uuid,
        officer_id: Uuid,
        day: NaiveDate,
        key: Option<&str>,
        device_id: Option<&str>,
    ) -> QueryResult<Option<SignInContext>> {
        use crate::schema::{assignments, enterprises, idempotency_records, regions};
        let assigned = diesel::dsl::exists(
            assignments::table
                .filter(assignments::officer_id.eq(officer_id))
                .filter(assignments::enterprise_id.eq(enterprise_id))
                .filter(assignments::start_day.le(day))
                .filter(assignments::end_day.is_null().or(assignments::end_day.ge(day))),
        );
        // A missing device never matches (`device_id = NULL`), so one statement serves both.
        let device_known = diesel::dsl::exists(
            officer_devices::table
                .filter(officer_devices::officer_id.eq(officer_id))
                .filter(officer_devices::device_id.nullable().eq(device_id)),
        );
        let has_devices =
            diesel::dsl::exists(officer_devices::table.filter(officer_devices::officer_id.eq(officer_id)));
        let row = enterprises::table
            .inner_join(regions::table)
            .left_join(
                idempotency_records::table.on(idempotency_records::user_id
                    .eq(officer_id)
                    .and(idempotency_records::key.nullable().eq(key))),
            )
            .filter(enterprises::id.eq(enterprise_id))
            .select((
                enterprises::lat,
                enterprises::lng,
                enterprises::geofence_m,
                enterprises::region_code,
                regions::path,
                assigned,
                idempotency_records::request_hash.nullable(),
                idempotency_records::status_code.nullable(),
                idempotency_records::response_body.nullable(),
                device_known,
                has_devices,
            ))
            .first::<(
                f64,
                f64,
                i32,
                String,
                String,
                bool,
                Option<String>,
                Option<i16>,
                Option<Vec<u8>>,
                bool,
                bool,
            )>(conn)
            .optional()?;
        Ok(row.map(
            |(
                lat,
                lng,
                geofence_m,
                region_code,
                region_path,
                assigned,
                key_hash,
                key_status,
                key_body,
                known,
                any,
            )| {
                SignInContext {
                    lat,
                    lng,
                    geofence_m,
                    region_code,
                    region_path,
                    assigned,
                    key_hash,
                    key_status,
                    key_body,
                    new_device: device_id.is_some() && !known && any,
                }
            },
        ))
    }

    /// Writes a first sign-in of the day, the device and the idempotency record in one call
    /// (`sign_in_first`, migration 000006): one round trip at the morning peak instead of five.
    pub fn insert_at_once(
        conn: &mut PgConnection,
        id: Uuid,
        new: &NewSignIn,
        key: Option<KeyRecord>,
    ) -> QueryResult<Result<(), NotWritten>> {
        let written = diesel::select(sign_in_first(
            id,
            new.officer_id,
            new.enterprise_id,
            new.region_code,
            new.day,
            new.signed_at,
            new.lat,
            new.lng,
            new.accuracy_m,
            new.distance_m,
            new.within_geofence,
            new.remark,
            new.device_id,
            new.new_device,
            key.as_ref().map(|k| k.key),
            key.as_ref().map(|k| k.fingerprint),
            key.as_ref().map(|k| k.response),
        ))
        .get_result::<bool>(conn);
        match written {
            Ok(true) => Ok(Ok(())),
            Ok(false) => Ok(Err(NotWritten::KeyTaken)),
            Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
                if info.constraint_name() == Some("sign_ins_one_per_day") =>
            {
                Ok(Err(NotWritten::AlreadySignedIn))
            }
            Err(e) => Err(e),
        }
    }
}
