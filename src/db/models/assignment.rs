//! `assignments` (结对/包联): an officer looks after an enterprise from one day to another.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::schema::{assignments, enterprises, regions};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = assignments, check_for_backend(diesel::pg::Pg))]
pub struct Assignment {
    pub id: Uuid,
    pub officer_id: Uuid,
    pub enterprise_id: Uuid,
    pub start_day: NaiveDate,
    pub end_day: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = assignments, treat_none_as_default_value = false)]
pub struct NewAssignment {
    pub officer_id: Uuid,
    pub enterprise_id: Uuid,
    pub start_day: NaiveDate,
    pub end_day: Option<NaiveDate>,
}

#[derive(Debug, Default)]
pub struct AssignmentFilter {
    pub officer_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
    /// Only assignments in force on this day.
    pub active_on: Option<NaiveDate>,
}

impl Assignment {
    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Assignment>> {
        assignments::table
            .find(id)
            .select(Assignment::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_natural_key(
        conn: &mut PgConnection,
        officer_id: Uuid,
        enterprise_id: Uuid,
        start_day: NaiveDate,
    ) -> QueryResult<Option<Assignment>> {
        assignments::table
            .filter(assignments::officer_id.eq(officer_id))
            .filter(assignments::enterprise_id.eq(enterprise_id))
            .filter(assignments::start_day.eq(start_day))
            .select(Assignment::as_select())
            .first(conn)
            .optional()
    }

    /// Assignments whose enterprise lies in the subtree `root_path`.
    pub fn list_in_subtree(
        conn: &mut PgConnection,
        root_path: &str,
        filter: &AssignmentFilter,
        cursor: Option<Uuid>,
        limit: i64,
    ) -> QueryResult<Vec<Assignment>> {
        let subtree = regions::table
            .filter(regions::path.like(format!("{root_path}%")))
            .select(regions::code);
        let in_scope = enterprises::table
            .filter(enterprises::region_code.eq_any(subtree))
            .select(enterprises::id);
        let mut query = assignments::table
            .filter(assignments::enterprise_id.eq_any(in_scope))
            .select(Assignment::as_select())
            .order(assignments::id)
            .limit(limit + 1)
            .into_boxed();
        if let Some(officer) = filter.officer_id {
            query = query.filter(assignments::officer_id.eq(officer));
        }
        if let Some(enterprise) = filter.enterprise_id {
            query = query.filter(assignments::enterprise_id.eq(enterprise));
        }
        if let Some(day) = filter.active_on {
            query = query
                .filter(assignments::start_day.le(day))
                .filter(assignments::end_day.is_null().or(assignments::end_day.ge(day)));
        }
        if let Some(cursor) = cursor {
            query = query.filter(assignments::id.gt(cursor));
        }
        query.load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewAssignment) -> QueryResult<Assignment> {
        diesel::insert_into(assignments::table)
            .values(new)
            .returning(Assignment::as_returning())
            .get_result(conn)
    }

    pub fn set_end_day(
        conn: &mut PgConnection,
        id: Uuid,
        end_day: Option<NaiveDate>,
    ) -> QueryResult<Assignment> {
        diesel::update(assignments::table.find(id))
            .set(assignments::end_day.eq(end_day))
            .returning(Assignment::as_returning())
            .get_result(conn)
    }
}
