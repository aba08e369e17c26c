//! The officers' rolled-up days and months (`domain::rollup`, migration 000029): the span rolled
//! so far, and the roll that extends it by the next settled days. The rows themselves are
//! written by the SQL functions `roll_officer_days` and `roll_officer_months` (src/db/sql/); the
//! triggers of migration 000029 cut the span back when a change reaches rolled days.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::Date;

use crate::domain::rollup::{next_roll, RolledSpan};
use crate::schema::{assignments, officer_rollup};

/// The span rolled so far, as this statement's snapshot sees it.
pub fn rolled_span(conn: &mut PgConnection) -> QueryResult<Option<RolledSpan>> {
    let row = officer_rollup::table
        .select((officer_rollup::rolled_from, officer_rollup::rolled_through))
        .first(conn)?;
    Ok(span_of(row))
}

fn span_of((from, through): (Option<NaiveDate>, Option<NaiveDate>)) -> Option<RolledSpan> {
    from.zip(through)
        .map(|(from, through)| RolledSpan { from, through })
}

/// One roll: the days after the span up to `settled` (at most to the end of their month), in one
/// transaction with the span's row locked. `None` when there is nothing to roll, or when
/// another instance is rolling (its lock is held: this one does not wait for it).
pub fn roll_next(
    conn: &mut PgConnection,
    settled: NaiveDate,
    now: DateTime<Utc>,
) -> QueryResult<Option<(NaiveDate, NaiveDate)>> {
    conn.transaction(|conn| {
        let locked = officer_rollup::table
            .select((officer_rollup::rolled_from, officer_rollup::rolled_through))
            .for_update()
            .skip_locked()
            .first::<(Option<NaiveDate>, Option<NaiveDate>)>(conn)
            .optional()?;
        let Some(row) = locked else {
            return Ok(None);
        };
        let span = span_of(row);
        let Some(first_day) = assignments::table
            .select(diesel::dsl::min(assignments::start_day))
            .first::<Option<NaiveDate>>(conn)?
        else {
            return Ok(None);
        };
        let Some((from, to)) = next_roll(span, first_day, settled) else {
            return Ok(None);
        };
        roll(conn, from, to)?;
        diesel::update(officer_rollup::table)
            .set((
                officer_rollup::rolled_from.eq(span.map_or(from, |s| s.from)),
                officer_rollup::rolled_through.eq(to),
                officer_rollup::rolled_at.eq(now),
            ))
            .execute(conn)?;
        Ok(Some((from, to)))
    })
}

/// Rolls the days `from..=to` of everyone again, then their months (which read the days).
fn roll(conn: &mut PgConnection, from: NaiveDate, to: NaiveDate) -> QueryResult<()> {
    for function in ["roll_officer_days", "roll_officer_months"] {
        diesel::sql_query(format!("SELECT {function}($1, $2)"))
            .bind::<Date, _>(from)
            .bind::<Date, _>(to)
            .execute(conn)?;
    }
    Ok(())
}
