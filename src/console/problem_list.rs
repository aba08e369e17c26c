//! 问题列表: the problems the viewer may see, newest first, filtered as the API's list is (status,
//! category, department, region, overdue) and paged by the API's cursor. The dashboard's bars
//! link here with their filter.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use uuid::Uuid;

use super::session::Console;
use super::{filters, html, shown, url_encoded, ConsoleError, Frame};
use crate::auth::scope;
use crate::db;
use crate::db::models::category::Category;
use crate::db::models::problem::Problem;
use crate::domain::lifecycle::Status;
use crate::routes::problems::ProblemQuery;
use crate::routes::{time_cursor, PageParams};
use crate::schema::{enterprises, units};
use crate::state::AppState;

const SHOWN: i64 = 50;

pub struct ListRow {
    pub id: String,
    pub title: String,
    pub enterprise: String,
    pub status: &'static str,
    pub category: String,
    pub department: String,
    pub created: String,
    pub due: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "console/problems.html")]
struct ListPage {
    frame: Frame,
    rows: Vec<ListRow>,
    statuses: Vec<(&'static str, &'static str)>,
    categories: Vec<(String, String)>,
    status: String,
    category: String,
    region_code: String,
    department_id: String,
    overdue: bool,
    /// The filters as a query string, for the next page's link.
    filters: String,
    /// The filters in use, for the ledger of this list.
    in_use: Vec<(&'static str, String)>,
    next: Option<String>,
}

pub async fn console_problems(
    state: web::Data<AppState>,
    console: Console,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let query: ProblemQuery = filters(&req)?;
    let after = filters::<PageParams>(&req)?.time_cursor()?;
    let shown_filters = [
        ("status", query.status.clone().unwrap_or_default()),
        ("category", query.category.clone().unwrap_or_default()),
        ("region_code", query.region_code.clone().unwrap_or_default()),
        (
            "department_id",
            query.department_id.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (
            "overdue",
            query.overdue.map(|o| o.to_string()).unwrap_or_default(),
        ),
    ];
    let now = state.clock.now();
    let caller = console.caller.clone();
    let (rows, next, categories) = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        let filter = query.into_filter(conn, now)?;
        let mut found = Problem::list(conn, &scope, &filter, after, SHOWN)?;
        let next = (found.len() as i64 > SHOWN).then(|| {
            found.truncate(SHOWN as usize);
            found
                .last()
                .map(|p| time_cursor(p.created_at, p.id))
                .unwrap_or_default()
        });
        let categories: Vec<(String, String)> = Category::all(conn)?
            .into_iter()
            .map(|c| (c.code, c.name))
            .collect();
        let names: HashMap<Uuid, String> = enterprises::table
            .filter(enterprises::id.eq_any(found.iter().map(|p| p.enterprise_id)))
            .select((enterprises::id, enterprises::name))
            .load(conn)?
            .into_iter()
            .chain(
                units::table
                    .filter(units::id.eq_any(found.iter().filter_map(|p| p.department_id)))
                    .select((units::id, units::name))
                    .load(conn)?,
            )
            .collect();
        let category_names: HashMap<&str, &str> =
            categories.iter().map(|(c, n)| (c.as_str(), n.as_str())).collect();
        let rows = found
            .into_iter()
            .map(|p| ListRow {
                id: p.id.to_string(),
                enterprise: names.get(&p.enterprise_id).cloned().unwrap_or_default(),
                status: p.status.label(),
                category: p
                    .category
                    .as_deref()
                    .map(|c| category_names.get(c).copied().unwrap_or(c).to_owned())
                    .unwrap_or_default(),
                department: p
                    .department_id
                    .and_then(|d| names.get(&d).cloned())
                    .unwrap_or_default(),
                created: shown(p.created_at),
                due: p.due_at.map(shown).unwrap_or_default(),
                overdue: p.status.with_department() && p.due_at.is_some_and(|d| d < now),
                title: p.title,
            })
            .collect();
        Ok((rows, next, categories))
    })
    .await?;
    let value = |name: &str| {
        shown_filters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    html(&ListPage {
        frame: Frame::of(&console, "问题列表"),
        rows,
        statuses: Status::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        categories,
        status: value("status"),
        category: value("category"),
        region_code: value("region_code"),
        department_id: value("department_id"),
        overdue: value("overdue") == "true",
        filters: shown_filters
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| format!("{n}={}", url_encoded(v)))
            .collect::<Vec<_>>()
            .join("&"),
        in_use: shown_filters.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
        next,
    })
}
