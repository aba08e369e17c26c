//! `officer_ratings` (企业评价联络员): an enterprise contact's monthly rating of each officer
//! stationed with the enterprise, and the officers there to rate.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::metrics::Month;
use crate::domain::officer_rating::RatingInput;
use crate::schema::{assignments, officer_ratings, units, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = officer_ratings, check_for_backend(diesel::pg::Pg))]
pub struct OfficerRating {
    pub officer_id: Uuid,
    pub month: NaiveDate,
    pub presence: i16,
    pub responsiveness: i16,
    pub help: i16,
    pub comment: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// An officer stationed with the enterprise during the month.
#[derive(Debug, Clone, Queryable)]
pub struct StationedOfficer {
    pub id: Uuid,
    pub name: String,
    pub unit_name: Option<String>,
}

impl OfficerRating {
    /// The active officers assigned to the enterprise on any day of the month, by name.
    pub fn stationed(
        conn: &mut PgConnection,
        enterprise_id: Uuid,
        month: Month,
    ) -> QueryResult<Vec<StationedOfficer>> {
        let mut officers: Vec<StationedOfficer> = assignments::table
            .inner_join(users::table.left_join(units::table))
            .filter(assignments::enterprise_id.eq(enterprise_id))
            .filter(assignments::start_day.le(month.last_day()))
            .filter(
                assignments::end_day
                    .is_null()
                    .or(assignments::end_day.ge(month.first_day())),
            )
            .filter(users::active)
            .select((users::id, users::name, units::name.nullable()))
            .order((users::name, users::id))
            .load(conn)?;
        officers.dedup_by_key(|o| o.id);
        Ok(officers)
    }

    /// The rater's ratings of the month.
    pub fn by_rater(
        conn: &mut PgConnection,
        rater_id: Uuid,
        month: Month,
    ) -> QueryResult<Vec<OfficerRating>> {
        officer_ratings::table
            .filter(officer_ratings::rater_id.eq(rater_id))
            .filter(officer_ratings::month.eq(month.first_day()))
            .select(OfficerRating::as_select())
            .load(conn)
    }

    /// The rater's rating of the officer for the month, replacing one given before.
    pub fn put(
        conn: &mut PgConnection,
        rater_id: Uuid,
        enterprise_id: Uuid,
        officer_id: Uuid,
        month: Month,
        input: &RatingInput,
        at: DateTime<Utc>,
    ) -> QueryResult<OfficerRating> {
        use officer_ratings as r;
        let scores = (
            r::presence.eq(input.presence),
            r::responsiveness.eq(input.responsiveness),
            r::help.eq(input.help),
            r::comment.eq(input.comment.as_deref()),
            r::updated_at.eq(at),
        );
        diesel::insert_into(r::table)
            .values((
                r::officer_id.eq(officer_id),
                r::enterprise_id.eq(enterprise_id),
                r::rater_id.eq(rater_id),
                r::month.eq(month.first_day()),
                r::created_at.eq(at),
                scores,
            ))
            .on_conflict((r::rater_id, r::officer_id, r::month))
            .do_update()
            .set(scores)
            .returning(OfficerRating::as_returning())
            .get_result(conn)
    }
}
