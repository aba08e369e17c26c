//! The demo city's task force (专班): 轨道交通装备专班, led by czj.admin, with 人社局 and 供电公司
//! and the officers stationed at the two 中车 companies, owning those companies.

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::models::task_force::{NewTaskForce, TaskForce};
use crate::db::models::unit::Unit;
use crate::db::models::user::User;
use crate::schema::{assignments, enterprises};

pub const NAME: &str = "轨道交通装备专班";
const LEADER: &str = "czj.admin";
const DEPARTMENTS: [&str; 2] = ["ZZ-RSJ", "ZZ-GDGS"];
const ENTERPRISES: [&str; 2] = ["91430204MA4L00013Q", "91430204MA4L00021K"];

pub fn seed(conn: &mut PgConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    let leader = User::find_by_username(conn, LEADER)?.context(LEADER)?;
    let mut departments = Vec::new();
    for code in DEPARTMENTS {
        departments.push(Unit::find_by_code(conn, code)?.context(code)?.id);
    }
    let enterprise_ids: Vec<Uuid> = enterprises::table
        .filter(enterprises::credit_code.eq_any(ENTERPRISES))
        .select(enterprises::id)
        .load(conn)?;
    let mut officer_ids: Vec<Uuid> = assignments::table
        .filter(assignments::enterprise_id.eq_any(&enterprise_ids))
        .filter(assignments::end_day.is_null())
        .select(assignments::officer_id)
        .load(conn)?;
    officer_ids.sort();
    officer_ids.dedup();
    TaskForce::insert(
        conn,
        &NewTaskForce {
            region_code: &leader.region_code,
            name: NAME,
            leader_id: leader.id,
            department_ids: &departments,
            officer_ids: &officer_ids,
            enterprise_ids: &enterprise_ids,
        },
        now,
    )?;
    Ok(())
}
