//! One call for a batch of sign-ins: `sign_ins_at_once` (src/db/sql/sign_ins_at_once.sql)
//! checks each attempt and writes the plain first sign-ins of the day, in one round trip, one
//! transaction and one WAL flush; one row comes back per attempt saying what became of it.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::{
    Array, Binary, Bool, Date, Double, Integer, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid,
};
use uuid::Uuid;

use super::attempt::SignInAttempt;
use crate::db::models::idempotency::IdempotencyRecord;
use crate::db::models::sign_in::SignIn;
use crate::db::vocabulary::text_columns;
use crate::domain::vocabulary::vocabulary;
use crate::schema::sign_ins;

vocabulary! {
    /// What `sign_ins_at_once` did with an attempt (its `outcome` column).
    pub enum BatchOutcome {
        /// No such enterprise.
        NoEnterprise = "no_enterprise",
        /// The key was used before: its record comes with the row.
        Stored = "stored",
        NotAssigned = "not_assigned",
        /// Outside the geofence without a remark.
        OutOfRange = "out_of_range",
        /// Another request holds the key (or an earlier attempt of the same batch).
        KeyTaken = "key_taken",
        /// The officer already signed in there that day.
        SignedInBefore = "signed_in_before",
        /// The sign-in, the device and the key's record are written.
        Written = "written",
    }
}

text_columns!(BatchOutcome);

/// One row of `sign_ins_at_once`, by column name.
#[derive(Debug, QueryableByName)]
struct BatchRow {
    #[diesel(sql_type = Integer)]
    attempt: i32,
    #[diesel(sql_type = Text)]
    outcome: BatchOutcome,
    #[diesel(sql_type = Nullable<Text>)]
    at_region: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    at_region_path: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    distance: Option<f64>,
    #[diesel(sql_type = Nullable<Bool>)]
    inside: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    device_is_new: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    stored_hash: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    stored_status: Option<i16>,
    #[diesel(sql_type = Nullable<Binary>)]
    stored_body: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    stored_row: Option<Uuid>,
}

/// What became of one attempt of a batch.
#[derive(Debug)]
pub enum SignInOutcome {
    NoEnterprise,
    /// The request's key was used before: what is stored under it, and the sign-in it names
    /// (if it names one rather than holding a response).
    Stored(IdempotencyRecord, Option<SignIn>),
    NotAssigned,
    /// The sign-in as written, and its region's path (for the counters).
    Written(SignIn, String),
    /// Nothing written: for the transactional path (`signin::fallback`) to answer.
    Declined(Declined),
}

/// Why the batch left an attempt to the transactional path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Declined {
    /// Outside the geofence without a remark, this far from the enterprise (metres).
    OutOfRange { distance_m: f64 },
    /// Another request holds the key.
    KeyTaken,
    /// Already signed in there today.
    SignedInBefore,
}

/// An attempt and the request's `Idempotency-Key` and fingerprint, if it sent one.
pub type KeyedAttempt = (Arc<SignInAttempt>, Option<(String, String)>);

/// One argument array of `sign_ins_at_once`: a field of every attempt, in order.
fn each<T>(batch: &[KeyedAttempt], field: impl Fn(&KeyedAttempt) -> T) -> Vec<T> {
    batch.iter().map(field).collect()
}

/// Checks and writes a batch in one call; one answer per attempt, in order. Replays that name
/// a sign-in come with it, read in one more query for the whole batch.
pub fn write(conn: &mut PgConnection, batch: &[KeyedAttempt]) -> QueryResult<Vec<SignInOutcome>> {
    let rows: Vec<BatchRow> = diesel::sql_query(
        "SELECT * FROM sign_ins_at_once($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind::<Array<SqlUuid>, _>(each(batch, |(a, _)| a.id))
    .bind::<Array<SqlUuid>, _>(each(batch, |(a, _)| a.officer_id))
    .bind::<Array<SqlUuid>, _>(each(batch, |(a, _)| a.enterprise_id))
    .bind::<Array<Date>, _>(each(batch, |(a, _)| a.day))
    .bind::<Array<Timestamptz>, _>(each(batch, |(a, _)| a.now))
    .bind::<Array<Double>, _>(each(batch, |(a, _)| a.point.lat))
    .bind::<Array<Double>, _>(each(batch, |(a, _)| a.point.lng))
    .bind::<Array<Nullable<Double>>, _>(each(batch, |(a, _)| a.accuracy_m))
    .bind::<Array<Nullable<Text>>, _>(each(batch, |(a, _)| a.remark.clone()))
    .bind::<Array<Nullable<Text>>, _>(each(batch, |(a, _)| a.device_id.clone()))
    .bind::<Array<Nullable<Text>>, _>(each(batch, |(_, key)| key.as_ref().map(|k| k.0.clone())))
    .bind::<Array<Nullable<Text>>, _>(each(batch, |(_, key)| key.as_ref().map(|k| k.1.clone())))
    .load(conn)?;
    if rows.len() != batch.len() || rows.iter().zip(1..).any(|(row, i)| row.attempt != i) {
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
        .filter(|r| r.outcome == BatchOutcome::Stored)
        .filter_map(|r| r.stored_row)
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
        .map(|(row, (attempt, _))| outcome(row, attempt, &replayed))
        .collect()
}

/// The answer a row gives, with the fields its outcome comes with.
fn outcome(
    row: BatchRow,
    attempt: &SignInAttempt,
    replayed: &HashMap<Uuid, SignIn>,
) -> QueryResult<SignInOutcome> {
    let missing = |what: &str| {
        diesel::result::Error::DeserializationError(
            format!("sign_ins_at_once answered {} without its {what}", row.outcome).into(),
        )
    };
    Ok(match row.outcome {
        BatchOutcome::NoEnterprise => SignInOutcome::NoEnterprise,
        BatchOutcome::NotAssigned => SignInOutcome::NotAssigned,
        BatchOutcome::KeyTaken => SignInOutcome::Declined(Declined::KeyTaken),
        BatchOutcome::SignedInBefore => SignInOutcome::Declined(Declined::SignedInBefore),
        BatchOutcome::OutOfRange => SignInOutcome::Declined(Declined::OutOfRange {
            distance_m: row.distance.ok_or_else(|| missing("distance"))?,
        }),
        BatchOutcome::Stored => SignInOutcome::Stored(
            IdempotencyRecord {
                request_hash: row.stored_hash.clone().ok_or_else(|| missing("record"))?,
                status_code: row.stored_status,
                response_body: row.stored_body.clone(),
                response_row: row.stored_row,
            },
            // Several resends of one request in a batch name the same sign-in.
            row.stored_row.and_then(|id| replayed.get(&id).cloned()),
        ),
        BatchOutcome::Written => {
            let written = attempt.written(
                row.at_region.clone().ok_or_else(|| missing("region"))?,
                row.distance.ok_or_else(|| missing("distance"))?,
                row.inside.ok_or_else(|| missing("geofence check"))?,
                row.device_is_new.ok_or_else(|| missing("device check"))?,
            );
            SignInOutcome::Written(
                written,
                row.at_region_path.clone().ok_or_else(|| missing("region path"))?,
            )
        }
    })
}
