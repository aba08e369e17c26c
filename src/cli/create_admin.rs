//! `zhuqi create-admin`: bootstraps an admin of a region on a fresh database (and creates the
//! region when it is new), or gives an existing user the admin role and a new password.

use anyhow::{anyhow, bail, Context};
use diesel::{Connection, PgConnection};

use crate::auth::password;
use crate::db::models::region::{NewRegion, Region};
use crate::db::models::user::{User, UserFields};
use crate::domain::region_code::{child_path, RegionCode};
use crate::domain::role::Role;
use crate::error::AppError;

fn app_error(e: AppError) -> anyhow::Error {
    anyhow!("{}: {}", e.code(), e)
}

/// Creates (or updates) an admin of `region_code`; creates the region when it is new.
pub fn create_admin(
    conn: &mut PgConnection,
    username: &str,
    password_text: &str,
    region_code: &str,
    region_name: Option<&str>,
    name: Option<&str>,
) -> anyhow::Result<(User, bool)> {
    let code = RegionCode::parse(region_code).context("--region-code must be a 6-digit GB/T 2260 code")?;
    let hash = password::hash(password_text).map_err(app_error)?;
    conn.transaction(|conn| {
        if Region::find(conn, code.as_str())?.is_none() {
            let Some(region_name) = region_name.map(str::trim).filter(|n| !n.is_empty()) else {
                bail!("region {code} does not exist yet: pass --region-name (e.g. --region-name 株洲市)");
            };
            let path = child_path(None, &code);
            Region::insert(
                conn,
                &NewRegion {
                    code: code.as_str(),
                    name: region_name,
                    parent_code: None,
                    path: &path,
                },
            )?;
        }
        let existing = User::find_by_username(conn, username)?;
        let created = existing.is_none();
        let user = match existing {
            Some(user) => {
                let mut roles = user.roles.clone();
                if !roles.contains(&Role::Admin) {
                    roles.push(Role::Admin);
                }
                User::update(
                    conn,
                    user.id,
                    &UserFields {
                        username: &user.username,
                        name: &user.name,
                        phone: user.phone.as_deref(),
                        roles,
                        unit_id: user.unit_id,
                        region_code: code.as_str(),
                        enterprise_id: user.enterprise_id,
                    },
                )?
            }
            None => User::insert(
                conn,
                &UserFields {
                    username,
                    name: name.unwrap_or(username),
                    phone: None,
                    roles: vec![Role::Admin],
                    unit_id: None,
                    region_code: code.as_str(),
                    enterprise_id: None,
                },
            )
            .map_err(|e| app_error(e.into()))?,
        };
        User::set_password_hash(conn, user.id, &hash)?;
        crate::db::models::audit::record::<(), ()>(
            conn,
            None,
            if created {
                "user.create_admin"
            } else {
                "user.reset_admin"
            },
            "user",
            &user.id.to_string(),
            None,
            None,
        )?;
        Ok((user, created))
    })
}
