//! `task_forces` (专班) and their members: departments, officers and the enterprises they own.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::lifecycle::Status;
use crate::schema::{
    problems, regions, task_force_departments, task_force_enterprises, task_force_officers, task_forces,
    users,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = task_forces, check_for_backend(diesel::pg::Pg))]
pub struct TaskForce {
    pub id: Uuid,
    pub region_code: String,
    pub name: String,
    pub leader_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A task force to create, its members checked by the caller.
pub struct NewTaskForce<'a> {
    pub region_code: &'a str,
    pub name: &'a str,
    pub leader_id: Uuid,
    pub department_ids: &'a [Uuid],
    pub officer_ids: &'a [Uuid],
    pub enterprise_ids: &'a [Uuid],
}

/// Its members.
pub struct Members {
    pub department_ids: Vec<Uuid>,
    pub officer_ids: Vec<Uuid>,
    pub enterprise_ids: Vec<Uuid>,
}

/// Its problems at a glance (merged duplicates left out).
#[derive(Debug, Default, Clone, Copy)]
pub struct TaskForceFigures {
    pub problems: i64,
    pub open: i64,
    pub overdue: i64,
    pub closed: i64,
}

impl TaskForce {
    pub fn insert(conn: &mut PgConnection, new: &NewTaskForce, at: DateTime<Utc>) -> QueryResult<TaskForce> {
        let force: TaskForce = diesel::insert_into(task_forces::table)
            .values((
                task_forces::region_code.eq(new.region_code),
                task_forces::name.eq(new.name),
                task_forces::leader_id.eq(new.leader_id),
                task_forces::created_at.eq(at),
            ))
            .returning(TaskForce::as_returning())
            .get_result(conn)?;
        Self::add_members(conn, force.id, new)?;
        Ok(force)
    }

    /// Replaces a task force's name, leader, region and members with `new`'s.
    pub fn replace(&self, conn: &mut PgConnection, new: &NewTaskForce) -> QueryResult<TaskForce> {
        let force: TaskForce = diesel::update(task_forces::table.find(self.id))
            .set((
                task_forces::region_code.eq(new.region_code),
                task_forces::name.eq(new.name),
                task_forces::leader_id.eq(new.leader_id),
            ))
            .returning(TaskForce::as_returning())
            .get_result(conn)?;
        self.remove_members(conn)?;
        Self::add_members(conn, force.id, new)?;
        Ok(force)
    }

    /// 解散: removes the task force and its members; its enterprises are free to join another,
    /// and their problems no longer show it.
    pub fn dissolve(&self, conn: &mut PgConnection) -> QueryResult<()> {
        self.remove_members(conn)?;
        diesel::delete(task_forces::table.find(self.id)).execute(conn)?;
        Ok(())
    }

    fn remove_members(&self, conn: &mut PgConnection) -> QueryResult<()> {
        diesel::delete(
            task_force_departments::table.filter(task_force_departments::task_force_id.eq(self.id)),
        )
        .execute(conn)?;
        diesel::delete(task_force_officers::table.filter(task_force_officers::task_force_id.eq(self.id)))
            .execute(conn)?;
        diesel::delete(
            task_force_enterprises::table.filter(task_force_enterprises::task_force_id.eq(self.id)),
        )
        .execute(conn)?;
        Ok(())
    }

    fn add_members(conn: &mut PgConnection, id: Uuid, new: &NewTaskForce) -> QueryResult<()> {
        let departments: Vec<_> = new
            .department_ids
            .iter()
            .map(|d| {
                (
                    task_force_departments::task_force_id.eq(id),
                    task_force_departments::unit_id.eq(d),
                )
            })
            .collect();
        diesel::insert_into(task_force_departments::table)
            .values(departments)
            .execute(conn)?;
        let officers: Vec<_> = new
            .officer_ids
            .iter()
            .map(|o| {
                (
                    task_force_officers::task_force_id.eq(id),
                    task_force_officers::officer_id.eq(o),
                )
            })
            .collect();
        diesel::insert_into(task_force_officers::table)
            .values(officers)
            .execute(conn)?;
        let enterprises: Vec<_> = new
            .enterprise_ids
            .iter()
            .map(|e| {
                (
                    task_force_enterprises::task_force_id.eq(id),
                    task_force_enterprises::enterprise_id.eq(e),
                )
            })
            .collect();
        diesel::insert_into(task_force_enterprises::table)
            .values(enterprises)
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<TaskForce>> {
        task_forces::table
            .find(id)
            .select(TaskForce::as_select())
            .first(conn)
            .optional()
    }

    /// The task forces of regions under `path`, by name (a region has a handful).
    pub fn in_region(conn: &mut PgConnection, path: &str) -> QueryResult<Vec<TaskForce>> {
        Ok(Self::with_leaders_in_region(conn, path)?
            .into_iter()
            .map(|(force, _, _)| force)
            .collect())
    }

    /// The task forces of regions under `path` with their leader's name and how many
    /// enterprises each owns, by name (the task forces view).
    pub fn with_leaders_in_region(
        conn: &mut PgConnection,
        path: &str,
    ) -> QueryResult<Vec<(TaskForce, String, i64)>> {
        let forces: Vec<(TaskForce, String)> = task_forces::table
            .inner_join(users::table.on(users::id.eq(task_forces::leader_id)))
            .filter(
                task_forces::region_code.eq_any(
                    regions::table
                        .filter(regions::path.like(format!("{path}%")))
                        .select(regions::code),
                ),
            )
            .order((task_forces::name, task_forces::id))
            .select((TaskForce::as_select(), users::name))
            .load(conn)?;
        let ids: Vec<Uuid> = forces.iter().map(|(t, _)| t.id).collect();
        let counts: std::collections::HashMap<Uuid, i64> = task_force_enterprises::table
            .filter(task_force_enterprises::task_force_id.eq_any(&ids))
            .group_by(task_force_enterprises::task_force_id)
            .select((task_force_enterprises::task_force_id, diesel::dsl::count_star()))
            .load::<(Uuid, i64)>(conn)?
            .into_iter()
            .collect();
        Ok(forces
            .into_iter()
            .map(|(t, leader)| {
                let n = counts.get(&t.id).copied().unwrap_or(0);
                (t, leader, n)
            })
            .collect())
    }

    /// The task forces the user leads or serves in as an officer, by name.
    pub fn of_member(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<TaskForce>> {
        task_forces::table
            .filter(
                task_forces::leader_id.eq(user_id).or(task_forces::id.eq_any(
                    task_force_officers::table
                        .filter(task_force_officers::officer_id.eq(user_id))
                        .select(task_force_officers::task_force_id),
                )),
            )
            .order((task_forces::name, task_forces::id))
            .select(TaskForce::as_select())
            .load(conn)
    }

    /// The task force owning the enterprise, if any.
    pub fn of_enterprise(conn: &mut PgConnection, enterprise_id: Uuid) -> QueryResult<Option<TaskForce>> {
        task_forces::table
            .inner_join(task_force_enterprises::table)
            .filter(task_force_enterprises::enterprise_id.eq(enterprise_id))
            .select(TaskForce::as_select())
            .first(conn)
            .optional()
    }

    /// Whether the user leads the task force owning the enterprise.
    pub fn leads(conn: &mut PgConnection, user_id: Uuid, enterprise_id: Uuid) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            task_forces::table
                .inner_join(task_force_enterprises::table)
                .filter(task_forces::leader_id.eq(user_id))
                .filter(task_force_enterprises::enterprise_id.eq(enterprise_id)),
        ))
        .get_result(conn)
    }

    /// Whether the user leads or serves in the task force as an officer.
    pub fn is_member(&self, conn: &mut PgConnection, user_id: Uuid) -> QueryResult<bool> {
        if self.leader_id == user_id {
            return Ok(true);
        }
        diesel::select(diesel::dsl::exists(
            task_force_officers::table
                .filter(task_force_officers::task_force_id.eq(self.id))
                .filter(task_force_officers::officer_id.eq(user_id)),
        ))
        .get_result(conn)
    }

    pub fn members(&self, conn: &mut PgConnection) -> QueryResult<Members> {
        Ok(Members {
            department_ids: task_force_departments::table
                .filter(task_force_departments::task_force_id.eq(self.id))
                .order(task_force_departments::unit_id)
                .select(task_force_departments::unit_id)
                .load(conn)?,
            officer_ids: task_force_officers::table
                .filter(task_force_officers::task_force_id.eq(self.id))
                .order(task_force_officers::officer_id)
                .select(task_force_officers::officer_id)
                .load(conn)?,
            enterprise_ids: task_force_enterprises::table
                .filter(task_force_enterprises::task_force_id.eq(self.id))
                .order(task_force_enterprises::enterprise_id)
                .select(task_force_enterprises::enterprise_id)
                .load(conn)?,
        })
    }

    /// Its enterprises' problems, newest first, after the cursor's (created_at, id); one more
    /// than `limit` tells that more follow.
    pub fn problems(
        &self,
        conn: &mut PgConnection,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> QueryResult<Vec<crate::db::models::problem::Problem>> {
        use crate::db::models::problem::Problem;
        let mut query = problems::table
            .filter(
                problems::enterprise_id.eq_any(
                    task_force_enterprises::table
                        .filter(task_force_enterprises::task_force_id.eq(self.id))
                        .select(task_force_enterprises::enterprise_id),
                ),
            )
            .order((problems::created_at.desc(), problems::id.desc()))
            .limit(limit + 1)
            .select(Problem::as_select())
            .into_boxed();
        if let Some((at, id)) = after {
            query = query.filter(
                problems::created_at
                    .lt(at)
                    .or(problems::created_at.eq(at).and(problems::id.lt(id))),
            );
        }
        query.load(conn)
    }

    /// Problems of its enterprises at `now`: all, open, overdue (with a department past the due
    /// date), closed.
    pub fn figures(&self, conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<TaskForceFigures> {
        let rows: Vec<(Status, Option<DateTime<Utc>>)> = problems::table
            .filter(
                problems::enterprise_id.eq_any(
                    task_force_enterprises::table
                        .filter(task_force_enterprises::task_force_id.eq(self.id))
                        .select(task_force_enterprises::enterprise_id),
                ),
            )
            .filter(problems::merged_into_id.is_null())
            .select((problems::status, problems::due_at))
            .load(conn)?;
        let mut f = TaskForceFigures::default();
        for (status, due) in rows {
            f.problems += 1;
            if status.is_open() {
                f.open += 1;
            }
            if status.with_department() && due.is_some_and(|d| d < now) {
                f.overdue += 1;
            }
            if status == Status::Closed {
                f.closed += 1;
            }
        }
        Ok(f)
    }
}
