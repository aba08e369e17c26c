//! 台账: the Excel ledgers as downloads, with the filters of the lists, for what the viewer
//! may see (the API's exports, on the console's session). The page says a large ledger takes a
//! while and marks the button while the browser waits.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::session::Console;
use super::{filters, html, ConsoleError, Frame};
use crate::routes::daily_reports::ReportListQuery;
use crate::routes::exports::{daily_reports_xlsx, problems_xlsx};
use crate::routes::problems::ProblemQuery;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/ledgers.html")]
struct LedgersPage {
    frame: Frame,
    today: String,
    month_start: String,
}

pub async fn console_ledgers(
    state: web::Data<AppState>,
    console: Console,
) -> Result<HttpResponse, ConsoleError> {
    let today = state.clock.today();
    html(&LedgersPage {
        frame: Frame::of(&console, "台账下载"),
        today: today.to_string(),
        month_start: today.format("%Y-%m-01").to_string(),
    })
}

pub async fn console_problem_ledger(
    state: web::Data<AppState>,
    console: Console,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let query: ProblemQuery = filters(&req)?;
    Ok(problems_xlsx(&state, console.caller, query).await?)
}

pub async fn console_report_ledger(
    state: web::Data<AppState>,
    console: Console,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let query: ReportListQuery = filters(&req)?;
    Ok(daily_reports_xlsx(&state, console.caller, query).await?)
}
