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
#[derive(Debug, QueryableByName)]
pub struct SignInContext {
    #[diesel(sql_type = sql::Double)]
    pub lat: f64,
    #[diesel(sql_type = sql::Double)]
    pub lng: f64,
    #[diesel(sql_type = sql::Integer)]
    pub geofence_m: i32,
    #[diesel(sql_type = sql::Text)]
    pub region_code: String,
    #[diesel(sql_type = sql::Text)]
    pub region_path: String,
    #[diesel(sql_type = sql::Bool)]
    pub assigned: bool,
    #[diesel(sql_type = sql::Nullable<sql::Text>)]
    pub key_hash: Option<String>,
    #[diesel(sql_type = sql::Nullable<sql::SmallInt>)]
    pub key_status: Option<i16>,
    #[diesel(sql_type = sql::Nullable<sql::Binary>)]
    pub key_body: Option<Vec<u8>>,
    /// Signed in from other devices before, never from this one.
    #[diesel(sql_type = sql::Bool)]
    pub new_device: bool,
}

/// The idempotency record written with a sign-in: the request's key and the 201 response.
pub struct KeyRecord<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub response: &'a [u8],
}

/// Why the one-statement write did not happen; the caller then takes the transactional path.
#[derive(Debug, PartialEq, Eq)]
pub enum NotWritten {
    /// A request with the same key got there first.
    KeyTaken,
    /// The officer already signed in there that day.
    AlreadySignedIn,
}

impl SignIn {
    pub fn context(
        conn: &mut PgConnection,
        enterprise_id: Uuid,
        officer_id: Uuid,
        day: NaiveDate,
        key: Option<&str>,
        device_id: Option<&str>,
    ) -> QueryResult<Option<SignInContext>> {
        diesel::sql_query(
            "SELECT e.lat, e.lng, e.geofence_m, e.region_code, r.path AS region_path, \
                    EXISTS (SELECT 1 FROM assignments a \
                             WHERE a.officer_id = $2 AND a.enterprise_id = e.id \
                               AND a.start_day <= $3 AND (a.end_day IS NULL OR a.end_day >= $3)) AS assigned, \
                    k.request_hash AS key_hash, k.status_code AS key_status, k.response_body AS key_body, \
                    ($5::text IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM officer_devices d WHERE d.officer_id = $2 AND d.device_id = $5) \
                     AND EXISTS (SELECT 1 FROM officer_devices d WHERE d.officer_id = $2)) AS new_device \
               FROM enterprises e \
               JOIN regions r ON r.code = e.region_code \
               LEFT JOIN idempotency_records k ON k.user_id = $2 AND k.key = $4 \
              WHERE e.id = $1",
        )
        .bind::<sql::Uuid, _>(enterprise_id)
        .bind::<sql::Uuid, _>(officer_id)
        .bind::<sql::Date, _>(day)
        .bind::<sql::Nullable<sql::Text>, _>(key)
        .bind::<sql::Nullable<sql::Text>, _>(device_id)
        .get_result(conn)
        .optional()
    }

    /// Writes a first sign-in of the day, the device and the idempotency record in a single
    /// statement, which is its own transaction: one round trip at the morning peak instead of
    /// five. Every part or none is written: a key someone else holds writes nothing, and a
    /// second sign-in of the day fails the unique key and rolls the statement back.
    pub fn insert_at_once(
        conn: &mut PgConnection,
        id: Uuid,
        new: &NewSignIn,
        key: Option<KeyRecord>,
    ) -> QueryResult<Result<(), NotWritten>> {
        let written = diesel::sql_query(
            "WITH claimed AS ( \
                 INSERT INTO idempotency_records (user_id, key, request_hash, status_code, response_body, created_at) \
                 SELECT $2, $15, $16, 201, $17, $6 WHERE $15::text IS NOT NULL \
                 ON CONFLICT DO NOTHING RETURNING user_id), \
             device AS ( \
                 INSERT INTO officer_devices (officer_id, device_id, first_seen_at) \
                 SELECT $2, $13, $6 WHERE $13::text IS NOT NULL AND ($15::text IS NULL OR EXISTS (SELECT 1 FROM claimed)) \
                 ON CONFLICT DO NOTHING) \
             INSERT INTO sign_ins (id, officer_id, enterprise_id, region_code, day, signed_at, lat, lng, accuracy_m, \
                                   distance_m, within_geofence, remark, device_id, new_device) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 \
              WHERE $15::text IS NULL OR EXISTS (SELECT 1 FROM claimed)",
        )
        .bind::<sql::Uuid, _>(id)
        .bind::<sql::Uuid, _>(new.officer_id)
        .bind::<sql::Uuid, _>(new.enterprise_id)
        .bind::<sql::Text, _>(new.region_code)
        .bind::<sql::Date, _>(new.day)
        .bind::<sql::Timestamptz, _>(new.signed_at)
        .bind::<sql::Double, _>(new.lat)
        .bind::<sql::Double, _>(new.lng)
        .bind::<sql::Nullable<sql::Double>, _>(new.accuracy_m)
        .bind::<sql::Double, _>(new.distance_m)
        .bind::<sql::Bool, _>(new.within_geofence)
        .bind::<sql::Nullable<sql::Text>, _>(new.remark)
        .bind::<sql::Nullable<sql::Text>, _>(new.device_id)
        .bind::<sql::Bool, _>(new.new_device)
        .bind::<sql::Nullable<sql::Text>, _>(key.as_ref().map(|k| k.key))
        .bind::<sql::Nullable<sql::Text>, _>(key.as_ref().map(|k| k.fingerprint))
        .bind::<sql::Nullable<sql::Binary>, _>(key.as_ref().map(|k| k.response))
        .execute(conn);
        match written {
            Ok(1) => Ok(Ok(())),
            Ok(_) => Ok(Err(NotWritten::KeyTaken)),
            Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
                if info.constraint_name() == Some("sign_ins_one_per_day") =>
            {
                Ok(Err(NotWritten::AlreadySignedIn))
            }
            Err(e) => Err(e),
        }
    }
}
