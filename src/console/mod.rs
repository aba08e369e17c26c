//! The hub console (/console): server-rendered pages for dispatchers, department clerks and
//! leaders, on the same rules as the API (the state machine decides the actions, the scope
//! module what is seen). Templates are compiled in (askama, `templates/console/`); the style
//! sheet and script are the project's own, served by the binary (`assets/console/`): an
//! intranet without internet loads everything from here.
//!
//! The console is HTML, not part of the API contract: its routes are registered here, apart
//! from `routes::endpoints()` and the spec.

mod assets;
mod dashboard;
mod department;
mod ledgers;
mod login;
mod problem;
mod problem_list;
mod queue;
mod roster;
pub mod session;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Asia::Shanghai;

use crate::domain::role::Role;
use crate::error::AppError;
use session::Console;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(home))
        .route("/console/login", web::get().to(login::console_login_form))
        .route("/console/login", web::post().to(login::console_login))
        .route("/console/logout", web::post().to(login::console_logout))
        .route("/console/queue", web::get().to(queue::console_queue))
        .route("/console/queue/claim", web::post().to(queue::console_queue_claim))
        .route(
            "/console/department",
            web::get().to(department::console_department),
        )
        .route("/console/problems", web::get().to(problem_list::console_problems))
        .route("/console/problems/{id}", web::get().to(problem::console_problem))
        .route(
            "/console/problems/{id}",
            web::post().to(problem::console_problem_act),
        )
        .route("/console/dashboard", web::get().to(dashboard::console_dashboard))
        .route("/console/ledgers", web::get().to(ledgers::console_ledgers))
        .route(
            "/console/exports/problems.xlsx",
            web::get().to(ledgers::console_problem_ledger),
        )
        .route(
            "/console/exports/daily-reports.xlsx",
            web::get().to(ledgers::console_report_ledger),
        )
        .route("/console/roster", web::get().to(roster::console_roster))
        .route(
            "/console/roster/check",
            web::post().to(roster::console_roster_check),
        )
        .route(
            "/console/roster/import",
            web::post().to(roster::console_roster_import),
        )
        .route(
            "/console/roster/users/{id}/invite",
            web::post().to(roster::console_roster_invite),
        )
        .route("/console/assets/{name}", web::get().to(assets::console_asset));
}

/// What every page's frame shows: the title, who is signed in, and their menu.
pub struct Frame {
    pub title: String,
    pub user: Option<FrameUser>,
}

pub struct FrameUser {
    pub name: String,
    pub csrf: String,
    pub dispatcher: bool,
    pub department: bool,
    /// May read the dashboards (dispatchers, admins, unit admins).
    pub leader: bool,
    /// Manages the roster (admins).
    pub admin: bool,
}

impl Frame {
    /// The session's CSRF token, for the page's forms.
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map(|u| u.csrf.as_str()).unwrap_or_default()
    }

    pub fn of(console: &Console, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            user: Some(FrameUser {
                name: console.name.clone(),
                csrf: console.csrf.clone(),
                dispatcher: console.has(Role::Dispatcher),
                department: console.has(Role::Department),
                leader: console
                    .caller
                    .has_any(&[Role::Dispatcher, Role::Admin, Role::UnitAdmin]),
                admin: console.has(Role::Admin),
            }),
        }
    }
}

/// An instant as the console shows it: China time to the minute.
pub fn shown(at: DateTime<Utc>) -> String {
    at.with_timezone(&Shanghai).format("%Y-%m-%d %H:%M").to_string()
}

/// Why a console request was not served, as a page or a redirect.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No live session: to the sign-in page.
    #[error("not signed in")]
    SignIn,
    /// A form without this session's CSRF token.
    #[error("form token missing or wrong")]
    Csrf,
    #[error(transparent)]
    App(#[from] AppError),
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    frame: Frame,
    status: u16,
    message: String,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            ConsoleError::SignIn => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/console/login"))
                    .finish()
            }
            ConsoleError::Csrf => "表单已过期，请返回刷新页面后重试".to_owned(),
            ConsoleError::App(AppError::NotFound) => "没有找到该页面或问题，或您无权查看".to_owned(),
            ConsoleError::App(e) => e.to_string(),
        };
        let page = ErrorPage {
            frame: Frame {
                title: "出错了".to_owned(),
                user: None,
            },
            status: status.as_u16(),
            message,
        };
        let body = page.render().unwrap_or_else(|_| "出错了".to_owned());
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

/// A form that carries nothing but the session's CSRF token (claim, reissue an invite).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

/// A rendered page.
pub fn html(page: &impl Template) -> Result<HttpResponse, ConsoleError> {
    let body = page
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a console page: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// A redirect after a form (post, redirect, get).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

/// The start page of each role: the queue for dispatchers, the unit's problems for clerks, the
/// roster for admins, the dashboard for the other leaders.
async fn home(console: Console) -> HttpResponse {
    if console.has(Role::Dispatcher) {
        see_other("/console/queue")
    } else if console.has(Role::Department) {
        see_other("/console/department")
    } else if console.has(Role::Admin) {
        see_other("/console/roster")
    } else {
        see_other("/console/dashboard")
    }
}

/// Percent-encodes a query value.
pub fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A form's query without its empty fields: "全部" in a select sends `status=`, which the API's
/// filters (rightly) refuse.
pub fn filters<T: serde::de::DeserializeOwned>(req: &actix_web::HttpRequest) -> Result<T, AppError> {
    let kept: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.ends_with('='))
        .collect();
    web::Query::<T>::from_query(&kept.join("&"))
        .map(web::Query::into_inner)
        .map_err(|e| {
            AppError::new(
                crate::error::ErrorCode::RequestInvalidQuery,
                format!("筛选条件有误：{e}"),
            )
        })
}
