//! The names a ledger shows instead of ids (enterprise, region, person, department), loaded a
//! page at a time and remembered for the rest of the export.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{enterprises, regions, units, users};

#[derive(Default)]
pub struct Names {
    enterprises: HashMap<Uuid, (String, String)>,
    regions: HashMap<String, String>,
    users: HashMap<Uuid, String>,
    units: HashMap<Uuid, String>,
}

fn missing<K: Clone + Eq + std::hash::Hash, V>(
    known: &HashMap<K, V>,
    wanted: impl IntoIterator<Item = K>,
) -> Vec<K> {
    let mut ids: Vec<K> = wanted.into_iter().filter(|id| !known.contains_key(id)).collect();
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids
}

impl Names {
    /// Loads whatever of these is not known yet.
    pub fn load(
        &mut self,
        conn: &mut PgConnection,
        enterprise_ids: impl IntoIterator<Item = Uuid>,
        user_ids: impl IntoIterator<Item = Uuid>,
        unit_ids: impl IntoIterator<Item = Uuid>,
    ) -> QueryResult<()> {
        let wanted = missing(&self.enterprises, enterprise_ids);
        if !wanted.is_empty() {
            for (id, name, region) in enterprises::table
                .filter(enterprises::id.eq_any(&wanted))
                .select((enterprises::id, enterprises::name, enterprises::region_code))
                .load::<(Uuid, String, String)>(conn)?
            {
                self.enterprises.insert(id, (name, region));
            }
        }
        let wanted_regions = missing(&self.regions, self.enterprises.values().map(|(_, r)| r.clone()));
        if !wanted_regions.is_empty() {
            self.regions.extend(
                regions::table
                    .filter(regions::code.eq_any(&wanted_regions))
                    .select((regions::code, regions::name))
                    .load::<(String, String)>(conn)?,
            );
        }
        let wanted = missing(&self.users, user_ids);
        if !wanted.is_empty() {
            self.users.extend(
                users::table
                    .filter(users::id.eq_any(&wanted))
                    .select((users::id, users::name))
                    .load::<(Uuid, String)>(conn)?,
            );
        }
        let wanted = missing(&self.units, unit_ids);
        if !wanted.is_empty() {
            self.units.extend(
                units::table
                    .filter(units::id.eq_any(&wanted))
                    .select((units::id, units::name))
                    .load::<(Uuid, String)>(conn)?,
            );
        }
        Ok(())
    }

    pub fn enterprise(&self, id: Uuid) -> &str {
        self.enterprises.get(&id).map_or("", |(name, _)| name)
    }

    /// The name of the enterprise's region (区县).
    pub fn enterprise_region(&self, id: Uuid) -> &str {
        self.enterprises
            .get(&id)
            .and_then(|(_, code)| self.regions.get(code))
            .map_or("", String::as_str)
    }

    pub fn user(&self, id: Uuid) -> &str {
        self.users.get(&id).map_or("", String::as_str)
    }

    pub fn unit(&self, id: Option<Uuid>) -> &str {
        id.and_then(|id| self.units.get(&id)).map_or("", String::as_str)
    }
}
