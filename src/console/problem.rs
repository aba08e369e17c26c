//! One problem: enterprise, reporter, text, deadlines (overdue in red), escalation level,
//! timeline and extension requests, and a form for each action the viewer may take from its
//! state (the state machine decides; no dead buttons). Every form posts to the same address
//! with its `action`; the page comes back with what happened.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use super::session::Console;
use super::{html, see_other, shown, url_encoded, ConsoleError, Frame};
use crate::auth::scope::{self, RegionScope};
use crate::clock::local_day;
use crate::db;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::category::Category;
use crate::db::models::extension::Extension;
use crate::db::models::problem::{Problem, ProblemEvent};
use crate::db::models::unit::{Unit, UnitFilter};
use crate::domain::deadline::{self, end_of_day};
use crate::domain::lifecycle::{transition, Action, ExtensionStatus, ResponseOutcome, Status};
use crate::domain::unit_kind::UnitKind;
use crate::error::AppError;
use crate::hub::actions::{self, Acting};
use crate::schema::{enterprises, users};
use crate::state::AppState;

pub struct EventRow {
    pub at: String,
    pub kind: String,
    pub role: String,
    pub note: String,
}

pub struct ExtensionRow {
    pub requested_due: String,
    pub reason: String,
    pub status: &'static str,
}

/// The forms the viewer may use on this problem now.
#[derive(Default)]
pub struct Forms {
    pub triage: bool,
    pub assign: bool,
    pub merge: bool,
    pub accept: bool,
    pub give_back: bool,
    pub respond: bool,
    pub extension: bool,
    pub decide_extension: bool,
    pub close: bool,
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct ProblemPage {
    frame: Frame,
    id: String,
    title: String,
    description: String,
    enterprise: String,
    reporter: String,
    status: &'static str,
    urgent: bool,
    category: String,
    suggestion: String,
    department: String,
    contact_due: String,
    due: String,
    contact_overdue: bool,
    overdue: bool,
    escalation_level: i16,
    resolution: String,
    outcome: String,
    /// The enterprise's rating of the answer and its comment, once given.
    rating: String,
    rating_comment: String,
    events: Vec<EventRow>,
    extensions: Vec<ExtensionRow>,
    forms: Forms,
    categories: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    /// The contact and due dates an assignment today would set, by category deadline.
    deadlines_hint: String,
    message: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    msg: Option<String>,
}

fn forms_for(status: Status, roles: &[crate::domain::role::Role], unrated_window_over: bool) -> Forms {
    let may = |action: Action| transition(status, action, roles).is_ok();
    Forms {
        triage: may(Action::Triage),
        assign: may(Action::Assign),
        merge: may(Action::Merge),
        accept: may(Action::Accept),
        give_back: may(Action::Return),
        respond: may(Action::Respond),
        extension: may(Action::RequestExtension),
        decide_extension: may(Action::DecideExtension),
        close: may(Action::Close { unrated_window_over }),
    }
}

pub async fn console_problem(
    state: web::Data<AppState>,
    console: Console,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let caller = console.caller.clone();
    let frame = Frame::of(&console, "问题详情");
    let message = query.into_inner().msg;
    let page = db::run(&state.pool, move |conn| {
        let p = Problem::find(conn, id)?.ok_or(AppError::NotFound)?;
        let roles = scope::roles_toward_problem(conn, &caller, &p, local_day(now))?;
        if roles.is_empty() && !scope::can_see_problem(conn, &caller, &p)? {
            return Err(AppError::NotFound);
        }
        let calendar = CalendarYear::load(conn)?;
        let unrated_window_over = p
            .responded_at
            .is_some_and(|at| deadline::unrated_window_over(&calendar, at, now));
        let forms = forms_for(p.status, &roles, unrated_window_over);
        let enterprise: String = enterprises::table
            .find(p.enterprise_id)
            .select(enterprises::name)
            .first(conn)?;
        let reporter: String = users::table.find(p.reporter_id).select(users::name).first(conn)?;
        let department = match p.department_id {
            Some(d) => Unit::find(conn, d)?.map(|u| u.name).unwrap_or_default(),
            None => String::new(),
        };
        let categories: Vec<(String, String)> = Category::all(conn)?
            .into_iter()
            .filter(|c| c.active)
            .map(|c| (c.code, c.name))
            .collect();
        let departments = if forms.assign || forms.triage {
            let scope = RegionScope::of(conn, &caller)?;
            let filter = UnitFilter {
                kind: Some(UnitKind::Department),
                ..UnitFilter::default()
            };
            Unit::list_in_subtree(conn, &scope.root_path, &filter, None, 200)?
                .into_iter()
                .map(|u| (u.id.to_string(), u.name))
                .collect()
        } else {
            Vec::new()
        };
        let hint = deadline::on_assignment(&calendar, now, 10);
        let events = ProblemEvent::timeline(conn, id)?
            .into_iter()
            .map(|e| EventRow {
                at: shown(e.at),
                kind: e.event_type.as_str().to_owned(),
                role: e.actor_role.map(|r| r.as_str().to_owned()).unwrap_or_default(),
                note: e.note.unwrap_or_default(),
            })
            .collect();
        let extensions = Extension::of_problem(conn, id)?
            .into_iter()
            .map(|e| ExtensionRow {
                requested_due: shown(e.requested_due_at),
                reason: e.reason,
                status: match e.status {
                    ExtensionStatus::Pending => "待审批",
                    ExtensionStatus::Approved => "已批准",
                    ExtensionStatus::Refused => "未批准",
                },
            })
            .collect();
        let waiting = p.status.with_department();
        Ok(ProblemPage {
            frame,
            id: p.id.to_string(),
            description: p.description.clone(),
            enterprise,
            reporter,
            status: p.status.label(),
            urgent: p.urgency.as_str() == "urgent",
            category: p.category.clone().unwrap_or_default(),
            suggestion: match (&p.suggested_category, p.confidence) {
                (Some(c), Some(conf)) => format!("{c}（{:.0}%）", conf * 100.0),
                _ => String::new(),
            },
            department,
            contact_due: p.contact_due_at.map(shown).unwrap_or_default(),
            due: p.due_at.map(shown).unwrap_or_default(),
            contact_overdue: waiting && p.contacted_at.is_none() && p.contact_due_at.is_some_and(|d| d < now),
            overdue: waiting && p.due_at.is_some_and(|d| d < now),
            escalation_level: p.escalation_level,
            resolution: p.resolution.clone().unwrap_or_default(),
            outcome: p.outcome.map(|o| o.label().to_owned()).unwrap_or_default(),
            rating: p.rating.map(|r| r.label().to_owned()).unwrap_or_default(),
            rating_comment: p.rating_comment.clone().unwrap_or_default(),
            events,
            extensions,
            forms,
            categories,
            departments,
            deadlines_hint: format!(
                "今日交办：联系时限 {}，10个工作日办理时限 {}",
                &shown(hint.contact_due_at)[..10],
                &shown(hint.due_at)[..10]
            ),
            message,
            title: p.title,
        })
    })
    .await?;
    html(&page)
}

/// Every field any form of the page sends; each action reads its own.
#[derive(Deserialize, Default)]
pub struct ActionForm {
    csrf: Option<String>,
    action: String,
    category: Option<String>,
    department_id: Option<String>,
    due_working_days: Option<String>,
    instructions: Option<String>,
    into_id: Option<String>,
    note: Option<String>,
    reason: Option<String>,
    outcome: Option<String>,
    resolution: Option<String>,
    requested_due: Option<String>,
}

fn blank(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn parsed<T: std::str::FromStr>(text: &Option<String>, what: &str) -> Result<Option<T>, AppError> {
    blank(text).map(|t| t.parse::<T>()).transpose().map_err(|_| {
        AppError::new(
            crate::error::ErrorCode::ValidationFailed,
            format!("{what}格式不正确"),
        )
    })
}

/// Takes one action of the lifecycle in a transaction, as the API would.
fn act(
    conn: &mut PgConnection,
    acting: Acting,
    id: Uuid,
    form: &ActionForm,
) -> Result<&'static str, AppError> {
    let department = || -> Result<Uuid, AppError> {
        parsed::<Uuid>(&form.department_id, "承办部门")?
            .ok_or_else(|| AppError::new(crate::error::ErrorCode::ValidationFailed, "请选择承办部门"))
    };
    let days = parsed::<u32>(&form.due_working_days, "办理时限")?;
    conn.transaction(|conn| match form.action.as_str() {
        "triage_assign" => {
            let category = blank(&form.category).unwrap_or("other");
            actions::triage(conn, acting, id, category, None)?;
            actions::assign(
                conn,
                acting,
                id,
                department()?,
                days,
                blank(&form.instructions),
                &[],
            )?;
            Ok("已分类并交办")
        }
        "assign" => {
            actions::assign(
                conn,
                acting,
                id,
                department()?,
                days,
                blank(&form.instructions),
                &[],
            )?;
            Ok("已交办")
        }
        "merge" => {
            let into = parsed::<Uuid>(&form.into_id, "合并目标")?
                .ok_or_else(|| AppError::new(crate::error::ErrorCode::ValidationFailed, "请填写合并目标"))?;
            actions::merge(conn, acting, id, into)?;
            Ok("已合并")
        }
        "accept" => actions::accept(conn, acting, id, blank(&form.note)).map(|_| "已签收"),
        "return" => actions::give_back(conn, acting, id, blank(&form.reason)).map(|_| "已退回驻企办"),
        "respond" => {
            let outcome = parsed::<ResponseOutcome>(&form.outcome, "办理结果")?
                .ok_or_else(|| AppError::new(crate::error::ErrorCode::ValidationFailed, "请选择办理结果"))?;
            actions::respond(conn, acting, id, blank(&form.resolution), outcome, None).map(|_| "已反馈")
        }
        "extension" => {
            let day = parsed::<NaiveDate>(&form.requested_due, "新的办理时限")?.ok_or_else(|| {
                AppError::new(crate::error::ErrorCode::ValidationFailed, "请选择新的办理时限")
            })?;
            let until: DateTime<Utc> = end_of_day(day);
            actions::request_extension(conn, acting, id, until, blank(&form.reason)).map(|_| "已申请延期")
        }
        "approve" => {
            actions::decide_extension(conn, acting, id, true, blank(&form.note)).map(|_| "已批准延期")
        }
        "refuse" => {
            actions::decide_extension(conn, acting, id, false, blank(&form.note)).map(|_| "已驳回延期")
        }
        "close" => actions::close(conn, acting, id, blank(&form.note)).map(|_| "已销号"),
        _ => Err(AppError::NotFound),
    })
}

pub async fn console_problem_act(
    state: web::Data<AppState>,
    console: Console,
    path: web::Path<Uuid>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    console.check_csrf(form.csrf.as_deref())?;
    let (id, form) = (path.into_inner(), form.into_inner());
    let now = state.clock.now();
    let caller = console.caller.clone();
    let done = db::run(&state.pool, move |conn| {
        Ok(act(conn, Acting { caller: &caller, now }, id, &form))
    })
    .await?;
    let message = match done {
        Ok(done) => {
            crate::cache::stats::figures_changed(&state.cache).await;
            done.to_owned()
        }
        // A problem the viewer cannot see stays unseen.
        Err(AppError::NotFound) => return Err(AppError::NotFound.into()),
        Err(refused) => refused.to_string(),
    };
    Ok(see_other(&format!(
        "/console/problems/{id}?msg={}",
        url_encoded(&message)
    )))
}
