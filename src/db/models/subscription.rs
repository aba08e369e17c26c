//! `subscription_credits`: the one-time subscriptions a user accepted in the mini-program
//! (`wx.requestSubscribeMessage`); each allows one subscribe message of that template.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Timestamptz};
use uuid::Uuid;

use crate::schema::subscription_credits;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscription_credits, check_for_backend(diesel::pg::Pg))]
pub struct Credit {
    pub user_id: Uuid,
    pub template_id: String,
    pub remaining: i32,
    pub updated_at: DateTime<Utc>,
}

/// At most this many sends banked per template: a mini-program asking on every screen must
/// not bank a year of messages.
pub const MAX_CREDITS: i32 = 50;

impl Credit {
    /// Adds one acceptance to each template (up to [`MAX_CREDITS`]).
    pub fn accept(
        conn: &mut PgConnection,
        user_id: Uuid,
        templates: &[String],
        now: DateTime<Utc>,
    ) -> QueryResult<()> {
        for template in templates {
            diesel::insert_into(subscription_credits::table)
                .values((
                    subscription_credits::user_id.eq(user_id),
                    subscription_credits::template_id.eq(template),
                    subscription_credits::remaining.eq(1),
                    subscription_credits::updated_at.eq(now),
                ))
                .on_conflict((subscription_credits::user_id, subscription_credits::template_id))
                .do_update()
                .set((
                    subscription_credits::remaining.eq(diesel::dsl::sql::<diesel::sql_types::Integer>(
                        &format!("LEAST(subscription_credits.remaining + 1, {MAX_CREDITS})"),
                    )),
                    subscription_credits::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    pub fn of_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Credit>> {
        subscription_credits::table
            .filter(subscription_credits::user_id.eq(user_id))
            .order(subscription_credits::template_id)
            .select(Credit::as_select())
            .load(conn)
    }

    /// Takes one credit of `template_id` from each listed user who has one left: the users who
    /// had one (and so may be sent the message).
    pub fn take(
        conn: &mut PgConnection,
        template_id: &str,
        users: &[Uuid],
        now: DateTime<Utc>,
    ) -> QueryResult<Vec<Uuid>> {
        #[derive(QueryableByName)]
        struct Taken {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            user_id: Uuid,
        }
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let taken: Vec<Taken> = diesel::sql_query(
            "UPDATE subscription_credits SET remaining = remaining - 1, updated_at = $3
              WHERE template_id = $1 AND user_id = ANY($2) AND remaining > 0
             RETURNING user_id",
        )
        .bind::<Text, _>(template_id)
        .bind::<Array<diesel::sql_types::Uuid>, _>(users)
        .bind::<Timestamptz, _>(now)
        .load(conn)?;
        Ok(taken.into_iter().map(|t| t.user_id).collect())
    }
}
