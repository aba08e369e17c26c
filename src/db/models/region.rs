//! `regions`: the GB/T 2260 tree, with a materialised path for subtree queries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::schema::regions;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = regions, primary_key(code), check_for_backend(diesel::pg::Pg))]
pub struct Region {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub path: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = regions, treat_none_as_default_value = false)]
pub struct NewRegion<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub parent_code: Option<&'a str>,
    pub path: &'a str,
}

impl Region {
    /// Every hub unit (驻企办) with its region, by region code: whose regions are summed up
    /// each working day (日总结).
    pub fn with_hubs(conn: &mut PgConnection) -> QueryResult<Vec<(uuid::Uuid, Region)>> {
        use crate::domain::unit_kind::UnitKind;
        use crate::schema::units;
        units::table
            .inner_join(regions::table)
            .filter(units::kind.eq(UnitKind::Hub.as_str()))
            .select((units::id, Region::as_select()))
            .order((units::region_code, units::id))
            .load(conn)
    }

    pub fn find(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Region>> {
        regions::table
            .find(code)
            .select(Region::as_select())
            .first(conn)
            .optional()
    }

    /// Regions of a subtree (by path prefix), ordered by code, after `cursor` (a code).
    pub fn list_in_subtree(
        conn: &mut PgConnection,
        root_path: &str,
        parent_code: Option<&str>,
        cursor: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Region>> {
        let mut query = regions::table
            .filter(regions::path.like(format!("{root_path}%")))
            .select(Region::as_select())
            .order(regions::code)
            .limit(limit + 1)
            .into_boxed();
        if let Some(parent) = parent_code {
            query = query.filter(regions::parent_code.eq(parent));
        }
        if let Some(cursor) = cursor {
            query = query.filter(regions::code.gt(cursor));
        }
        query.load(conn)
    }

    pub fn insert(conn: &mut PgConnection, new: &NewRegion) -> QueryResult<Region> {
        diesel::insert_into(regions::table)
            .values(new)
            .returning(Region::as_returning())
            .get_result(conn)
    }

    /// Renames a region and, when it moves, rewrites the paths of its whole subtree.
    pub fn update(
        conn: &mut PgConnection,
        code: &str,
        name: &str,
        parent_code: Option<&str>,
        new_path: &str,
        old_path: &str,
    ) -> QueryResult<Region> {
        if new_path != old_path {
            diesel::sql_query(
                "UPDATE regions SET path = $1 || substr(path, length($2) + 1) WHERE path LIKE $2 || '%' AND code <> $3",
            )
            .bind::<diesel::sql_types::Text, _>(new_path)
            .bind::<diesel::sql_types::Text, _>(old_path)
            .bind::<diesel::sql_types::Text, _>(code)
            .execute(conn)?;
        }
        diesel::update(regions::table.find(code))
            .set((
                regions::name.eq(name),
                regions::parent_code.eq(parent_code),
                regions::path.eq(new_path),
            ))
            .returning(Region::as_returning())
            .get_result(conn)
    }
}
