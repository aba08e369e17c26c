//! Who has not signed in or reported on a day (催报), in one query.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Date, Int8, Nullable, Text, Uuid as SqlUuid};
use serde::Serialize;
use uuid::Uuid;

pub enum MissingScope {
    Unit(Uuid),
    Region {
        root_path: String,
        unit_id: Option<Uuid>,
    },
}

#[derive(Debug, Serialize)]
pub struct MissingReport {
    pub officer_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub unit_id: Option<Uuid>,
    /// Enterprises the officer is assigned to that day.
    pub enterprises: i64,
    pub signed_in: i64,
    pub reported: i64,
    pub missing_sign_in: bool,
    pub missing_report: bool,
}

impl MissingReport {
    /// Officers on assignment on `day` with no sign-in at all, or no report at all, that
    /// day; ordered by officer id, after `after`.
    pub fn list(
        conn: &mut PgConnection,
        scope: &MissingScope,
        day: NaiveDate,
        after: Option<Uuid>,
        limit: i64,
    ) -> QueryResult<Vec<MissingReport>> {
        let (unit, root_path) = match scope {
            MissingScope::Unit(unit) => (Some(*unit), None),
            MissingScope::Region { root_path, unit_id } => (*unit_id, Some(format!("{root_path}%"))),
        };
        diesel::sql_query(
            "SELECT * FROM (
                SELECT u.id AS officer_id, u.name, u.phone, u.unit_id,
                       count(DISTINCT a.enterprise_id) AS enterprises,
                       (SELECT count(*) FROM sign_ins s WHERE s.officer_id = u.id AND s.day = $1) AS signed_in,
                       (SELECT count(*) FROM daily_reports r WHERE r.officer_id = u.id AND r.day = $1) AS reported
                  FROM users u
                  JOIN assignments a ON a.officer_id = u.id
                                    AND a.start_day <= $1 AND (a.end_day IS NULL OR a.end_day >= $1)
                 WHERE u.active AND 'officer' = ANY (u.roles)
                   AND ($2::uuid IS NULL OR u.unit_id = $2)
                   AND ($3::text IS NULL OR u.region_code IN (SELECT code FROM regions WHERE path LIKE $3))
                   AND ($4::uuid IS NULL OR u.id > $4)
                 GROUP BY u.id
             ) o
             WHERE o.signed_in = 0 OR o.reported = 0
             ORDER BY o.officer_id
             LIMIT $5",
        )
        .bind::<Date, _>(day)
        .bind::<Nullable<SqlUuid>, _>(unit)
        .bind::<Nullable<Text>, _>(root_path)
        .bind::<Nullable<SqlUuid>, _>(after)
        .bind::<Int8, _>(limit + 1)
        .load::<MissingRow>(conn)
        .map(|rows| rows.into_iter().map(MissingRow::into_report).collect())
    }
}

#[derive(QueryableByName)]
struct MissingRow {
    #[diesel(sql_type = SqlUuid)]
    officer_id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    phone: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    unit_id: Option<Uuid>,
    #[diesel(sql_type = Int8)]
    enterprises: i64,
    #[diesel(sql_type = Int8)]
    signed_in: i64,
    #[diesel(sql_type = Int8)]
    reported: i64,
}

impl MissingRow {
    fn into_report(self) -> MissingReport {
        MissingReport {
            missing_sign_in: self.signed_in == 0,
            missing_report: self.reported == 0,
            officer_id: self.officer_id,
            name: self.name,
            phone: self.phone,
            unit_id: self.unit_id,
            enterprises: self.enterprises,
            signed_in: self.signed_in,
            reported: self.reported,
        }
    }
}
