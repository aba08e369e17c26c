//! `calendar_years` and `calendar_days`: the official working-day calendar as stored, which
//! is what deadlines are counted with (the shipped schedules only seed it).

use chrono::Datelike;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::calendar::{Calendar, DayKind, SpecialDay, YearSchedule};
use crate::schema::{calendar_days, calendar_years};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calendar_years, check_for_backend(diesel::pg::Pg))]
pub struct CalendarYear {
    pub year: i32,
    pub version: i64,
    pub notice: String,
    pub source: String,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// A stored year with its days.
pub struct StoredYear {
    pub year: CalendarYear,
    pub days: Vec<SpecialDay>,
}

fn special_days(rows: Vec<(i32, NaiveDate, String, String)>) -> impl Iterator<Item = (i32, SpecialDay)> {
    rows.into_iter().filter_map(|(year, date, kind, name)| {
        // The table's CHECK admits only the two kinds.
        DayKind::parse(&kind).map(|kind| (year, SpecialDay { date, kind, name }))
    })
}

impl CalendarYear {
    /// Stores each shipped schedule whose year is not in the table yet. An uploaded year is
    /// never overwritten, so an admin's correction survives restarts and upgrades.
    pub fn install_shipped(conn: &mut PgConnection) -> QueryResult<Vec<i32>> {
        conn.transaction(|conn| {
            let mut installed = Vec::new();
            for schedule in Calendar::shipped_schedules() {
                let inserted = diesel::insert_into(calendar_years::table)
                    .values((
                        calendar_years::year.eq(schedule.year),
                        calendar_years::notice.eq(&schedule.notice),
                        calendar_years::source.eq("shipped"),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)?;
                if inserted == 1 {
                    insert_days(conn, schedule)?;
                    installed.push(schedule.year);
                }
            }
            Ok(installed)
        })
    }

    /// Whether `day` is an official working day, by one indexed lookup (for answers that need
    /// only today, not the whole calendar).
    pub fn is_working_day(conn: &mut PgConnection, day: NaiveDate) -> QueryResult<bool> {
        let kind: Option<String> = calendar_days::table
            .filter(calendar_days::year.eq(day.year()))
            .filter(calendar_days::day.eq(day))
            .select(calendar_days::kind)
            .first(conn)
            .optional()?;
        Ok(crate::domain::calendar::working_day(
            day,
            kind.as_deref().and_then(DayKind::parse),
        ))
    }

    /// The whole stored calendar (a few hundred rows), with its version: the highest of the
    /// years', which any change raises.
    pub fn load(conn: &mut PgConnection) -> QueryResult<Calendar> {
        let years: Vec<(i32, i64, String)> = calendar_years::table
            .select((
                calendar_years::year,
                calendar_years::version,
                calendar_years::notice,
            ))
            .load(conn)?;
        let rows = calendar_days::table
            .select((
                calendar_days::year,
                calendar_days::day,
                calendar_days::kind,
                calendar_days::name,
            ))
            .load(conn)?;
        let mut schedules: Vec<YearSchedule> = years
            .iter()
            .map(|(year, _, notice)| YearSchedule {
                year: *year,
                notice: notice.clone(),
                days: Vec::new(),
            })
            .collect();
        for (year, day) in special_days(rows) {
            if let Some(schedule) = schedules.iter_mut().find(|s| s.year == year) {
                schedule.days.push(day);
            }
        }
        let version = years.iter().map(|(_, v, _)| *v).max().unwrap_or(0);
        Ok(Calendar::from_schedules(version, &schedules))
    }

    pub fn find(conn: &mut PgConnection, year: i32) -> QueryResult<Option<StoredYear>> {
        let Some(stored) = calendar_years::table
            .find(year)
            .select(CalendarYear::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let rows = calendar_days::table
            .filter(calendar_days::year.eq(year))
            .order(calendar_days::day)
            .select((
                calendar_days::year,
                calendar_days::day,
                calendar_days::kind,
                calendar_days::name,
            ))
            .load(conn)?;
        Ok(Some(StoredYear {
            year: stored,
            days: special_days(rows).map(|(_, d)| d).collect(),
        }))
    }

    /// Replaces a year's schedule with an uploaded one under a new version. Call inside a
    /// transaction.
    pub fn replace(
        conn: &mut PgConnection,
        schedule: &YearSchedule,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> QueryResult<CalendarYear> {
        let version: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "nextval('calendar_version_seq')",
        ))
        .get_result(conn)?;
        let stored = diesel::insert_into(calendar_years::table)
            .values((
                calendar_years::year.eq(schedule.year),
                calendar_years::version.eq(version),
                calendar_years::notice.eq(&schedule.notice),
                calendar_years::source.eq("uploaded"),
                calendar_years::updated_by.eq(by),
                calendar_years::updated_at.eq(now),
            ))
            .on_conflict(calendar_years::year)
            .do_update()
            .set((
                calendar_years::version.eq(version),
                calendar_years::notice.eq(&schedule.notice),
                calendar_years::source.eq("uploaded"),
                calendar_years::updated_by.eq(by),
                calendar_years::updated_at.eq(now),
            ))
            .returning(CalendarYear::as_returning())
            .get_result(conn)?;
        diesel::delete(calendar_days::table.filter(calendar_days::year.eq(schedule.year))).execute(conn)?;
        insert_days(conn, schedule)?;
        Ok(stored)
    }
}

fn insert_days(conn: &mut PgConnection, schedule: &YearSchedule) -> QueryResult<()> {
    let rows: Vec<_> = schedule
        .days
        .iter()
        .map(|d| {
            (
                calendar_days::year.eq(schedule.year),
                calendar_days::day.eq(d.date),
                calendar_days::kind.eq(d.kind.as_str()),
                calendar_days::name.eq(&d.name),
            )
        })
        .collect();
    diesel::insert_into(calendar_days::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}
