//! `units`: dispatching units (派出单位), departments (职能部门) and hubs (驻企办).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::unit_kind::UnitKind;
use crate::schema::{assignments, regions, units, users};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = units, check_for_backend(diesel::pg::Pg))]
pub struct Unit {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub region_code: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = units)]
pub struct UnitFields<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: UnitKind,
    pub region_code: &'a str,
}

/// Filters of the admin list; all optional.
#[derive(Debug, Default)]
pub struct UnitFilter {
    pub code: Option<String>,
    pub kind: Option<UnitKind>,
    pub region_code: Option<String>,
}

impl Unit {
    /// The dispatching units of the officers currently assigned to an enterprise.
    pub fn dispatching_units_of_enterprise(
        conn: &mut PgConnection,
        enterprise_id: Uuid,
    ) -> QueryResult<Vec<Uuid>> {
        assignments::table
            .inner_join(users::table)
            .filter(assignments::enterprise_id.eq(enterprise_id))
            .filter(assignments::end_day.is_null())
            .filter(users::unit_id.is_not_null())
            .select(users::unit_id.assume_not_null())
            .distinct()
            .load(conn)
    }

    /// The hub units of a region and of the regions above it, nearest first.
    pub fn hubs_over(conn: &mut PgConnection, region_code: &str) -> QueryResult<Vec<Uuid>> {
        let Some(path) = regions::table
            .find(region_code)
            .select(regions::path)
            .first::<String>(conn)
            .optional()?
        else {
            return Ok(Vec::new());
        };
        // The path lists the codes from the top ("430000/430200/…/"): every ancestor and itself.
        let chain: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        let hubs: Vec<(Uuid, String)> = units::table
            .filter(units::kind.eq("hub"))
            .filter(units::region_code.eq_any(&chain))
            .select((units::id, units::region_code))
            .load(conn)?;
        let mut hubs: Vec<(usize, Uuid)> = hubs
            .into_iter()
            .map(|(id, code)| (chain.iter().position(|c| *c == code).unwrap_or(0), id))
            .collect();
        hubs.sort_by_key(|h| std::cmp::Reverse(h.0));
        Ok(hubs.into_iter().map(|(_, id)| id).collect())
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Unit>> {
        units::table
            .find(id)
            .select(Unit::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_code(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Unit>> {
        units::table
            .filter(units::code.eq(code))
            .select(Unit::as_select())
            .first(conn)
            .optional()
    }

    /// Units whose region lies in the subtree `root_path`, ordered by id, after `cursor`.
    pub fn list_in_subtree(
        conn: &mut PgConnection,
        root_path: &str,
        filter: &UnitFilter,
        cursor: Option<Uuid>,
        limit: i64,
    ) -> QueryResult<Vec<Unit>> {
        let subtree = regions::table
            .filter(regions::path.like(format!("{root_path}%")))
            .select(regions::code);
        let mut query = units::table
            .filter(units::region_code.eq_any(subtree))
            .select(Unit::as_select())
            .order(units::id)
            .limit(limit + 1)
            .into_boxed();
        if let Some(code) = &filter.code {
            query = query.filter(units::code.eq(code.clone()));
        }
        if let Some(kind) = &filter.kind {
            query = query.filter(units::kind.eq(*kind));
        }
        if let Some(region) = &filter.region_code {
            query = query.filter(units::region_code.eq(region.clone()));
        }
        if let Some(cursor) = cursor {
            query = query.filter(units::id.gt(cursor));
        }
        query.load(conn)
    }

    /// Unit codes by id, for the rows of a page.
    pub fn codes_by_id(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> QueryResult<std::collections::HashMap<Uuid, String>> {
        Ok(units::table
            .filter(units::id.eq_any(ids))
            .select((units::id, units::code))
            .load::<(Uuid, String)>(conn)?
            .into_iter()
            .collect())
    }

    pub fn insert(conn: &mut PgConnection, fields: &UnitFields) -> QueryResult<Unit> {
        diesel::insert_into(units::table)
            .values(fields)
            .returning(Unit::as_returning())
            .get_result(conn)
    }

    pub fn update(conn: &mut PgConnection, id: Uuid, fields: &UnitFields) -> QueryResult<Unit> {
        diesel::update(units::table.find(id))
            .set(fields)
            .returning(Unit::as_returning())
            .get_result(conn)
    }
}
