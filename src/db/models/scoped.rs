//! Which officers' records (sign-ins, reports, problems) a caller may read, as a filter the
//! list queries apply. Built by `auth::scope::record_scope`.

use diesel::dsl::{Eq, Filter, Like, Select};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{regions, users};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordScope {
    /// An officer: their own records.
    Officer(Uuid),
    /// A unit admin: the records of their unit's officers.
    Unit(Uuid),
    /// A dispatcher or admin: everything in the region subtree with this path.
    Region(String),
    /// An enterprise contact: what concerns their enterprise (problems only).
    Enterprise(Uuid),
    /// A department: the problems assigned to it (problems only).
    Department(Uuid),
    /// Roles that reach no such records.
    Nothing,
}

type UnitOfficers = Select<Filter<users::table, Eq<users::unit_id, Uuid>>, users::id>;
type Subtree = Select<Filter<regions::table, Like<regions::path, String>>, regions::code>;

impl RecordScope {
    /// The ids of a unit's users, as a subquery.
    pub fn unit_officers(unit_id: Uuid) -> UnitOfficers {
        users::table.filter(users::unit_id.eq(unit_id)).select(users::id)
    }

    /// The region codes of a subtree, as a subquery.
    pub fn subtree(root_path: &str) -> Subtree {
        regions::table
            .filter(regions::path.like(format!("{root_path}%")))
            .select(regions::code)
    }
}
