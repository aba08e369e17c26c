//! The dispatcher's queue: urgent first, then oldest; the classifier's suggestion with its
//! confidence, similar open problems, and who holds each item until when. "Claim" leases the
//! next free items to the dispatcher (the API's `FOR UPDATE SKIP LOCKED` claim).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Duration;

use super::session::Console;
use super::{html, see_other, shown, ConsoleError, CsrfForm, Frame};
use crate::auth::scope::RegionScope;
use crate::db;
use crate::db::models::user::User;
use crate::domain::problem::Urgency;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::hub::queue;
use crate::schema::enterprises;
use crate::state::AppState;

/// Items shown, and claimed at a time.
const SHOWN: i64 = 100;
const CLAIMED: i64 = 5;
const LEASE_MINUTES: i64 = 5;

pub struct QueueRow {
    pub id: String,
    pub title: String,
    pub enterprise: String,
    pub urgent: bool,
    pub returned: bool,
    pub created: String,
    pub suggestion: String,
    pub holder: String,
    pub mine: bool,
    pub similar: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    frame: Frame,
    rows: Vec<QueueRow>,
}

fn dispatcher_only(console: &Console) -> Result<(), ConsoleError> {
    if console.has(Role::Dispatcher) {
        Ok(())
    } else {
        Err(AppError::NotFound.into())
    }
}

pub async fn console_queue(
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    dispatcher_only(&console)?;
    let now = state.clock.now();
    let caller = console.caller.clone();
    let rows = db::run(&state.pool, move |conn| {
        use diesel::prelude::*;
        let scope = RegionScope::of(conn, &caller)?;
        let items = queue::page(conn, &scope.root_path, None, SHOWN)?;
        let similar = queue::similar_to(conn, &scope.root_path, &items)?;
        let ids: Vec<_> = items.iter().map(|p| p.enterprise_id).collect();
        let names: HashMap<_, String> = enterprises::table
            .filter(enterprises::id.eq_any(&ids))
            .select((enterprises::id, enterprises::name))
            .load::<(uuid::Uuid, String)>(conn)?
            .into_iter()
            .collect();
        let holders: Vec<_> = items.iter().filter_map(|p| p.lease_holder_id).collect();
        let holders = User::usernames_by_id(conn, &holders)?;
        Ok(items
            .into_iter()
            .zip(similar)
            .map(|(p, similar)| {
                let held = p
                    .lease_holder_id
                    .zip(p.lease_expires_at)
                    .filter(|(_, until)| *until > now);
                QueueRow {
                    id: p.id.to_string(),
                    enterprise: names.get(&p.enterprise_id).cloned().unwrap_or_default(),
                    urgent: p.urgency == Urgency::Urgent,
                    returned: p.status.as_str() == "returned",
                    created: shown(p.created_at),
                    suggestion: match (&p.suggested_category, p.confidence) {
                        (Some(c), Some(conf)) => format!("{c}（{:.0}%）", conf * 100.0),
                        (Some(c), None) => c.clone(),
                        _ => String::new(),
                    },
                    holder: held
                        .map(|(h, until)| {
                            format!(
                                "{} 至 {}",
                                holders.get(&h).cloned().unwrap_or_default(),
                                &shown(until)[11..]
                            )
                        })
                        .unwrap_or_default(),
                    mine: held.is_some_and(|(h, _)| h == caller.user_id),
                    similar: similar.into_iter().map(|s| (s.id.to_string(), s.title)).collect(),
                    title: p.title,
                }
            })
            .collect::<Vec<_>>())
    })
    .await?;
    html(&QueuePage {
        frame: Frame::of(&console, "问题分拣"),
        rows,
    })
}

/// Leases the next free items to the dispatcher for five minutes.
pub async fn console_queue_claim(
    state: web::Data<AppState>,
    console: Console,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    dispatcher_only(&console)?;
    console.check_csrf(form.csrf.as_deref())?;
    let now = state.clock.now();
    let caller = console.caller.clone();
    db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &caller)?;
        let claimed = queue::claim(
            conn,
            &scope.root_path,
            caller.user_id,
            now,
            Duration::minutes(LEASE_MINUTES),
            CLAIMED,
        )?;
        Ok(claimed.len())
    })
    .await?;
    Ok(see_other("/console/queue"))
}
