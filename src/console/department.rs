//! The department clerk's page: the problems assigned to my unit, soonest due first, overdue
//! in red.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;

use super::session::Console;
use super::{html, shown, ConsoleError, Frame};
use crate::db;
use crate::db::models::problem::Problem;
use crate::domain::lifecycle::Status;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::schema::{enterprises, problems};
use crate::state::AppState;

pub struct AssignedRow {
    pub id: String,
    pub title: String,
    pub enterprise: String,
    pub status: String,
    pub contact_due: String,
    pub due: String,
    pub overdue: bool,
    pub escalation_level: i16,
}

#[derive(Template)]
#[template(path = "console/department.html")]
struct DepartmentPage {
    frame: Frame,
    rows: Vec<AssignedRow>,
}

pub async fn console_department(
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let unit = match (console.has(Role::Department), console.caller.unit_id) {
        (true, Some(unit)) => unit,
        _ => return Err(AppError::NotFound.into()),
    };
    let now = state.clock.now();
    let rows = db::run(&state.pool, move |conn| {
        let assigned: Vec<(Problem, String)> = problems::table
            .inner_join(enterprises::table)
            .filter(problems::department_id.eq(unit))
            .filter(problems::status.eq_any(Status::WITH_DEPARTMENT.iter().chain(&[Status::Responded])))
            .order((problems::due_at.asc(), problems::id))
            .limit(200)
            .select((Problem::as_select(), enterprises::name))
            .load(conn)?;
        Ok(assigned
            .into_iter()
            .map(|(p, enterprise)| AssignedRow {
                id: p.id.to_string(),
                overdue: p.status.with_department() && p.due_at.is_some_and(|d| d < now),
                contact_due: p.contact_due_at.map(shown).unwrap_or_default(),
                due: p.due_at.map(shown).unwrap_or_default(),
                status: p.status.label().to_owned(),
                escalation_level: p.escalation_level,
                title: p.title,
                enterprise,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    html(&DepartmentPage {
        frame: Frame::of(&console, "本单位承办"),
        rows,
    })
}
