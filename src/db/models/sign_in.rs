//! `sign_ins` (签到) and `officer_devices`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::pg::Pg;
use diesel::prelude::*;
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

    /// The sign-ins `scope` reaches: the one scoped query lists start from.
    pub fn visible(
        scope: &RecordScope,
    ) -> sign_ins::BoxedQuery<'static, Pg, SqlTypeOf<AsSelect<SignIn, Pg>>> {
        let query = sign_ins::table.select(SignIn::as_select()).into_boxed();
        match scope {
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
        }
    }

    /// Newest first; the cursor is the last row's (signed_at, id).
    pub fn list(
        conn: &mut PgConnection,
        scope: &RecordScope,
        filter: &SignInFilter,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> QueryResult<Vec<SignIn>> {
        let mut query = Self::visible(scope)
            .order((sign_ins::signed_at.desc(), sign_ins::id.desc()))
            .limit(limit + 1);
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

impl SignIn {
    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<SignIn>> {
        sign_ins::table
            .find(id)
            .select(SignIn::as_select())
            .first(conn)
            .optional()
    }
}
