//! `zhuqi seed-demo`: the demo city 株洲市 (430200), loaded the way a real city is.
//!
//! The roster is the files under `data/demo/` (compiled in), in the admin import's own formats
//! and loaded through the import itself (`roster::import::run`, all or nothing): the demo
//! shows what a city's files look like, and cannot drift from what the import accepts. With
//! [`History::Week`] the demo also gets a week of sign-ins, reports and problems ([`history`])
//! and the hub's work on them ([`hub`]), and its last working days summed up (日总结,
//! [`summary`]).

pub mod day;
pub mod fake_wechat;
mod history;
mod hub;
mod jobs;
mod meeting;
mod photos;
mod policies;
mod ratings;
mod roster;
mod summary;
mod task_force;

use std::fmt::Write as _;

use anyhow::anyhow;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};

use crate::attachments::store::Store;
use crate::auth::password;
use crate::auth::scope::RegionScope;
use crate::auth::Caller;
use crate::cli::create_admin::create_admin;
use crate::db::models::user::User;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::roster::save::Writer;

pub const DEMO_PASSWORD: &str = "zhuqi-demo-2026";
pub const DEMO_ADMIN: &str = "demo.admin";
/// The demo city.
const CITY: (&str, &str) = ("430200", "株洲市");

/// Whether `seed_demo` adds a week of sign-ins, reports and problems to the roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    Week,
    None,
}

fn app_error(e: AppError) -> anyhow::Error {
    anyhow!("{}: {}", e.code(), e)
}

/// Seeds the demo city; returns the text to print (logins and invite codes). Seeding again
/// changes nothing and prints the logins again.
pub fn seed_demo(
    conn: &mut PgConnection,
    store: &Store,
    today: NaiveDate,
    now: DateTime<Utc>,
    history: History,
) -> anyhow::Result<String> {
    let roster = roster::Files::read()?;
    if User::find_by_username(conn, DEMO_ADMIN)?.is_some() {
        return Ok(logins_text(&roster, None));
    }
    let (admin, _) = create_admin(
        conn,
        DEMO_ADMIN,
        DEMO_PASSWORD,
        CITY.0,
        Some(CITY.1),
        Some("演示管理员"),
    )?;
    let admin_caller = Caller {
        user_id: admin.id,
        roles: vec![Role::Admin],
        region_code: CITY.0.to_owned(),
        unit_id: None,
        enterprise_id: None,
    };
    let hash = password::hash(DEMO_PASSWORD).map_err(app_error)?;
    let (invites, photos) = conn.transaction::<_, anyhow::Error, _>(|conn| {
        let scope = RegionScope::of(conn, &admin_caller).map_err(app_error)?;
        let writer = Writer {
            actor: admin.id,
            scope: &scope,
        };
        let invites = roster.load(conn, &writer, now)?;
        for user in &roster.users {
            let user = User::find_by_username(conn, &user.username)?
                .ok_or_else(|| anyhow!("demo user {} was not imported", user.username))?;
            User::set_password_hash(conn, user.id, &hash)?;
        }
        if history == History::Week {
            history::seed(conn, &roster, today)?;
            hub::seed(conn, &roster.users, now)?;
            task_force::seed(conn, now)?;
            meeting::seed(conn, now)?;
            jobs::seed(conn, now)?;
            ratings::seed(conn, today, now)?;
            policies::seed(conn, now)?;
            summary::seed(conn, today, now)?;
            return Ok((invites, photos::seed(conn)?));
        }
        Ok((invites, Vec::new()))
    })?;
    photos::store(store, photos)?;
    Ok(logins_text(&roster, Some(&invites)))
}

/// The logins to print: every demo user with their role, and the WeChat invite codes when
/// they were just issued.
fn logins_text(roster: &roster::Files, invites: Option<&[(String, String)]>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Demo city {} ({}) is ready. Console logins (password for all: {DEMO_PASSWORD}):",
        CITY.1, CITY.0
    );
    let _ = writeln!(out, "  {DEMO_ADMIN:<18} admin of {}", CITY.1);
    for user in &roster.users {
        let _ = writeln!(
            out,
            "  {:<18} {:<11} {} {}",
            user.username, user.roles, user.name, user.unit_code
        );
    }
    match invites {
        Some(invites) => {
            let _ = writeln!(out, "WeChat bind (phone + one-time invite code, valid 14 days):");
            for (username, code) in invites {
                let phone = roster
                    .users
                    .iter()
                    .find(|u| &u.username == username)
                    .map_or("", |u| u.phone.as_str());
                let _ = writeln!(out, "  {username:<18} {phone} {code}");
            }
        }
        None => {
            let _ = writeln!(out, "(already seeded; invite codes were printed the first time, reissue with POST /api/v1/admin/users/{{id}}/invite)");
        }
    }
    out
}
