//! `enterprises`: identified by their unified social credit code, located in GCJ-02.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::enterprise_size::EnterpriseSize;
use crate::schema::{assignments, enterprises, regions};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = enterprises, check_for_backend(diesel::pg::Pg))]
pub struct Enterprise {
    pub id: Uuid,
    pub credit_code: String,
    pub name: String,
    pub region_code: String,
    pub industry: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    pub geofence_m: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub size: Option<EnterpriseSize>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseFields<'a> {
    pub credit_code: &'a str,
    pub name: &'a str,
    pub region_code: &'a str,
    pub industry: &'a str,
    pub address: &'a str,
    pub lat: f64,
    pub lng: f64,
    pub geofence_m: i32,
    /// Written as given: `None` clears it.
    #[diesel(treat_none_as_null = true)]
    pub size: Option<EnterpriseSize>,
}

#[derive(Debug, Default)]
pub struct EnterpriseFilter {
    pub credit_code: Option<String>,
    pub region_code: Option<String>,
    /// Substring of the name.
    pub name: Option<String>,
}

impl Enterprise {
    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Enterprise>> {
        enterprises::table
            .find(id)
            .select(Enterprise::as_select())
            .first(conn)
            .optional()
    }

    /// What filing a report needs of its enterprise, in one round trip: the enterprise, its
    /// region's path (for the counters) and whether `officer_id` was assigned to it on `day`.
    pub fn for_filing(
        conn: &mut PgConnection,
        id: Uuid,
        officer_id: Uuid,
        day: NaiveDate,
    ) -> QueryResult<Option<(Enterprise, String, bool)>> {
        enterprises::table
            .inner_join(regions::table)
            .filter(enterprises::id.eq(id))
            .select((
                Enterprise::as_select(),
                regions::path,
                crate::auth::scope::assignment_on(officer_id, id, day),
            ))
            .first(conn)
            .optional()
    }

    pub fn find_by_credit_code(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Enterprise>> {
        enterprises::table
            .filter(enterprises::credit_code.eq(code))
            .select(Enterprise::as_select())
            .first(conn)
            .optional()
    }

    pub fn list_in_subtree(
        conn: &mut PgConnection,
        root_path: &str,
        filter: &EnterpriseFilter,
        cursor: Option<Uuid>,
        limit: i64,
    ) -> QueryResult<Vec<Enterprise>> {
        let subtree = regions::table
            .filter(regions::path.like(format!("{root_path}%")))
            .select(regions::code);
        let mut query = enterprises::table
            .filter(enterprises::region_code.eq_any(subtree))
            .select(Enterprise::as_select())
            .order(enterprises::id)
            .limit(limit + 1)
            .into_boxed();
        if let Some(code) = &filter.credit_code {
            query = query.filter(enterprises::credit_code.eq(code.clone()));
        }
        if let Some(region) = &filter.region_code {
            query = query.filter(enterprises::region_code.eq(region.clone()));
        }
        if let Some(name) = &filter.name {
            let like = format!("%{}%", crate::db::like_escaped(name));
            query = query.filter(enterprises::name.like(like));
        }
        if let Some(cursor) = cursor {
            query = query.filter(enterprises::id.gt(cursor));
        }
        query.load(conn)
    }

    /// Enterprises the officer is assigned to on `day` (start and end inclusive).
    pub fn assigned_to(
        conn: &mut PgConnection,
        officer_id: Uuid,
        day: chrono::NaiveDate,
    ) -> QueryResult<Vec<Enterprise>> {
        enterprises::table
            .inner_join(assignments::table)
            .filter(assignments::officer_id.eq(officer_id))
            .filter(assignments::start_day.le(day))
            .filter(assignments::end_day.is_null().or(assignments::end_day.ge(day)))
            .select(Enterprise::as_select())
            .distinct()
            .order(enterprises::id)
            .load(conn)
    }

    /// Credit codes by id, for the rows of a page.
    pub fn credit_codes_by_id(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> QueryResult<std::collections::HashMap<Uuid, String>> {
        Ok(enterprises::table
            .filter(enterprises::id.eq_any(ids))
            .select((enterprises::id, enterprises::credit_code))
            .load::<(Uuid, String)>(conn)?
            .into_iter()
            .collect())
    }

    /// The enterprise, its region's path and whether the officer is assigned to it on `day`,
    /// in one round trip: everything a sign-in or a report needs to know before writing.
    pub fn for_officer(
        conn: &mut PgConnection,
        id: Uuid,
        officer_id: Uuid,
        day: chrono::NaiveDate,
    ) -> QueryResult<Option<(Enterprise, String, bool)>> {
        let assigned = diesel::dsl::exists(
            assignments::table
                .filter(assignments::officer_id.eq(officer_id))
                .filter(assignments::enterprise_id.eq(id))
                .filter(assignments::start_day.le(day))
                .filter(assignments::end_day.is_null().or(assignments::end_day.ge(day))),
        );
        enterprises::table
            .inner_join(regions::table)
            .filter(enterprises::id.eq(id))
            .select((Enterprise::as_select(), regions::path, assigned))
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut PgConnection, fields: &EnterpriseFields) -> QueryResult<Enterprise> {
        diesel::insert_into(enterprises::table)
            .values(fields)
            .returning(Enterprise::as_returning())
            .get_result(conn)
    }

    pub fn update(conn: &mut PgConnection, id: Uuid, fields: &EnterpriseFields) -> QueryResult<Enterprise> {
        diesel::update(enterprises::table.find(id))
            .set(fields)
            .returning(Enterprise::as_returning())
            .get_result(conn)
    }
}
