//! `unit_robots`: a unit's group robot. The webhook and the signing secret are stored sealed
//! (`notify::seal`); what an admin sees is the hint.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::notification::RobotPlatform;
use crate::schema::unit_robots;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = unit_robots, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct Robot {
    pub unit_id: Uuid,
    pub platform: RobotPlatform,
    pub webhook_sealed: Vec<u8>,
    pub webhook_hint: String,
    pub secret_sealed: Option<Vec<u8>>,
    pub enabled: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

impl Robot {
    pub fn find(conn: &mut PgConnection, unit_id: Uuid) -> QueryResult<Option<Robot>> {
        unit_robots::table
            .find(unit_id)
            .select(Robot::as_select())
            .first(conn)
            .optional()
    }

    /// The enabled robots of some units.
    pub fn enabled_of(conn: &mut PgConnection, units: &[Uuid]) -> QueryResult<Vec<Robot>> {
        unit_robots::table
            .filter(unit_robots::unit_id.eq_any(units))
            .filter(unit_robots::enabled.eq(true))
            .select(Robot::as_select())
            .load(conn)
    }

    pub fn upsert(conn: &mut PgConnection, robot: &Robot) -> QueryResult<Robot> {
        diesel::insert_into(unit_robots::table)
            .values(robot)
            .on_conflict(unit_robots::unit_id)
            .do_update()
            .set(robot)
            .returning(Robot::as_returning())
            .get_result(conn)
    }
}
