//! 名册管理 for admins. A roster file is checked first (the import's dry run) and its per-row
//! errors are shown as a table before anything is written; a clean file is kept
//! (`console_uploads`) until the admin who checked it confirms, then imported all or nothing.
//! Users and enterprises are searched in the admin's region, and a user's invite code can be
//! issued again. The rules are the API's: `roster::import`, the admin routes' visibility.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use super::session::{Console, UPLOAD_KEPT};
use super::{html, shown, ConsoleError, CsrfForm, Frame};
use crate::auth::scope::RegionScope;
use crate::auth::sessions;
use crate::db;
use crate::db::models::console_upload::ConsoleUpload;
use crate::db::models::enterprise::{Enterprise, EnterpriseFilter};
use crate::db::models::user::{User, UserFilter};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::roster::import::{self, ImportReport, Kind};
use crate::roster::save::Writer;
use crate::routes::admin::import::{read_form, read_rows};
use crate::routes::admin::users::visible;
use crate::state::AppState;

/// Rows a search shows.
const FOUND: i64 = 50;

/// The roster files, in the order a region is set up.
const KINDS: &[(&str, &str)] = &[
    ("regions", "行政区划"),
    ("units", "单位"),
    ("enterprises", "企业"),
    ("users", "人员"),
    ("assignments", "联络员包联关系"),
];

pub struct UserRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub roles: String,
    pub region: String,
    pub active: bool,
    pub invite: String,
}

pub struct EnterpriseRow {
    pub name: String,
    pub credit_code: String,
    pub region: String,
}

/// A file that passed its check, waiting for the import to be confirmed.
pub struct Checked {
    pub upload: String,
    pub file_name: String,
    pub kind: &'static str,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// A file refused by its check: why, and each row's errors.
pub struct Refused {
    pub message: String,
    pub errors: Vec<(String, String, String)>,
}

pub struct Invite {
    pub username: String,
    pub code: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "console/roster.html")]
struct RosterPage {
    frame: Frame,
    q: String,
    e: String,
    users: Vec<UserRow>,
    enterprises: Vec<EnterpriseRow>,
    checked: Option<Checked>,
    refused: Option<Refused>,
    invites: Vec<Invite>,
    message: Option<String>,
    kinds: &'static [(&'static str, &'static str)],
}

impl RosterPage {
    fn of(console: &Console) -> Self {
        Self {
            frame: Frame::of(console, "名册管理"),
            q: String::new(),
            e: String::new(),
            users: Vec::new(),
            enterprises: Vec::new(),
            checked: None,
            refused: None,
            invites: Vec::new(),
            message: None,
            kinds: KINDS,
        }
    }
}

fn admin_only(console: &Console) -> Result<(), ConsoleError> {
    if console.has(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::NotFound.into())
    }
}

fn kind_label(kind: Kind) -> &'static str {
    KINDS
        .iter()
        .find(|(code, _)| *code == kind.as_str())
        .map(|(_, label)| *label)
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    e: String,
}

pub async fn console_roster(
    state: web::Data<AppState>,
    console: Console,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admin_only(&console)?;
    let SearchQuery { q, e } = query.into_inner();
    let (q, e) = (q.trim().to_owned(), e.trim().to_owned());
    let caller = console.caller.clone();
    let (users, enterprises) = {
        let (q, e) = (q.clone(), e.clone());
        db::run(&state.pool, move |conn| {
            let scope = RegionScope::of(conn, &caller)?;
            let users = match q.as_str() {
                "" => Vec::new(),
                text => {
                    let filter = UserFilter {
                        text: Some(text.to_owned()),
                        ..UserFilter::default()
                    };
                    User::list_in_subtree(conn, &scope.root_path, &filter, None, FOUND)?
                }
            };
            let enterprises = match e.as_str() {
                "" => Vec::new(),
                text => {
                    let filter = EnterpriseFilter {
                        name: Some(text.to_owned()),
                        ..EnterpriseFilter::default()
                    };
                    let mut found =
                        Enterprise::list_in_subtree(conn, &scope.root_path, &filter, None, FOUND)?;
                    let by_code = EnterpriseFilter {
                        credit_code: Some(text.to_owned()),
                        ..EnterpriseFilter::default()
                    };
                    found.extend(Enterprise::list_in_subtree(
                        conn,
                        &scope.root_path,
                        &by_code,
                        None,
                        1,
                    )?);
                    found
                }
            };
            Ok((users, enterprises))
        })
        .await?
    };
    html(&RosterPage {
        users: users.into_iter().take(FOUND as usize).map(user_row).collect(),
        enterprises: enterprises
            .into_iter()
            .take(FOUND as usize)
            .map(|e| EnterpriseRow {
                name: e.name,
                credit_code: e.credit_code,
                region: e.region_code,
            })
            .collect(),
        q,
        e,
        ..RosterPage::of(&console)
    })
}

fn user_row(u: User) -> UserRow {
    UserRow {
        id: u.id.to_string(),
        roles: u.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join("、"),
        invite: match (u.invite_code_hash.is_some(), u.invite_expires_at) {
            (true, Some(until)) => format!("未使用，{} 到期", shown(until)),
            (true, None) => "未使用".to_owned(),
            (false, _) if u.wechat_openid.is_some() => "已绑定微信".to_owned(),
            (false, _) => String::new(),
        },
        username: u.username,
        name: u.name,
        region: u.region_code,
        active: u.active,
    }
}

/// Checks an uploaded roster file with the import's dry run: its errors per row, or a summary
/// and a confirmation form (the file is kept for an hour).
pub async fn console_roster_check(
    state: web::Data<AppState>,
    console: Console,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ConsoleError> {
    admin_only(&console)?;
    let form = read_form(&req, payload).await?;
    console.check_csrf(form.fields.get("csrf").map(String::as_str))?;
    let kind = form
        .fields
        .get("kind")
        .and_then(|k| Kind::parse(k))
        .ok_or_else(|| AppError::new(ErrorCode::ValidationFailed, "请选择名册类型"))?;
    let (file_name, bytes) = form
        .file
        .filter(|(_, bytes)| !bytes.is_empty())
        .ok_or_else(|| AppError::new(ErrorCode::ValidationFailed, "请选择要导入的文件"))?;
    let mut page = RosterPage::of(&console);
    let rows = match read_rows(kind, bytes.clone()).await {
        Ok(rows) => rows,
        Err(refused @ AppError::Refused { .. }) => {
            page.refused = Some(refusal(refused));
            return html(&page);
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.clock.now();
    let caller = console.caller.clone();
    let checked = db::run(&state.bulk_pool, move |conn| {
        let scope = RegionScope::of(conn, &caller)?;
        let writer = Writer {
            actor: caller.user_id,
            scope: &scope,
        };
        let report = match import::run(conn, &writer, kind, rows, true, now) {
            Ok(report) => report,
            Err(refused @ AppError::Refused { .. }) => return Ok(Err(refusal(refused))),
            Err(e) => return Err(e),
        };
        let upload = ConsoleUpload {
            id: Uuid::new_v4(),
            user_id: caller.user_id,
            kind: report.kind.as_str().to_owned(),
            file_name,
            bytes,
            created_at: now,
        };
        ConsoleUpload::insert(conn, &upload)?;
        Ok(Ok(Checked {
            upload: upload.id.to_string(),
            file_name: upload.file_name,
            kind: kind_label(kind),
            rows: report.rows,
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
        }))
    })
    .await?;
    match checked {
        Ok(checked) => page.checked = Some(checked),
        Err(refused) => page.refused = Some(refused),
    }
    html(&page)
}

/// A refusal of the import as the page shows it: the message and `details.errors` as rows.
fn refusal(error: AppError) -> Refused {
    let message = error.to_string();
    let errors = match error {
        AppError::Refused { details, .. } => details["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let text = |key: &str| match &e[key] {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        (text("row"), text("field"), text("message"))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Refused { message, errors }
}

#[derive(Deserialize)]
pub struct ImportForm {
    csrf: Option<String>,
    upload: Uuid,
}

/// Imports a checked file, all or nothing, once; shows the new users' invite codes once.
pub async fn console_roster_import(
    state: web::Data<AppState>,
    console: Console,
    form: web::Form<ImportForm>,
) -> Result<HttpResponse, ConsoleError> {
    admin_only(&console)?;
    console.check_csrf(form.csrf.as_deref())?;
    let (id, user) = (form.upload, console.caller.user_id);
    let now = state.clock.now();
    let since = now - UPLOAD_KEPT;
    let upload = db::run(&state.pool, move |conn| {
        ConsoleUpload::find(conn, id, user, since)?.ok_or_else(|| {
            AppError::new(
                ErrorCode::ValidationFailed,
                "检查结果已过期或已导入，请重新选择文件检查",
            )
        })
    })
    .await?;
    let kind = Kind::parse(&upload.kind).ok_or(AppError::NotFound)?;
    let rows = read_rows(kind, upload.bytes).await?;
    let caller = console.caller.clone();
    let report: ImportReport = db::run(&state.bulk_pool, move |conn| {
        conn.transaction(|conn| {
            // Taken in the import's transaction: imported once, and kept if the import fails.
            ConsoleUpload::take(conn, id, caller.user_id, since)?
                .ok_or_else(|| AppError::new(ErrorCode::ValidationFailed, "该文件已导入"))?;
            let scope = RegionScope::of(conn, &caller)?;
            let writer = Writer {
                actor: caller.user_id,
                scope: &scope,
            };
            import::run(conn, &writer, kind, rows, false, now)
        })
    })
    .await?;
    for (user, generation) in &report.sessions {
        sessions::publish(&state.cache, *user, *generation).await;
    }
    tracing::info!(kind = ?report.kind, rows = report.rows, created = report.created, updated = report.updated, "roster imported from the console");
    html(&RosterPage {
        message: Some(format!(
            "{}已导入：{} 行，新增 {}，更新 {}，未变 {}",
            kind_label(kind),
            report.rows,
            report.created,
            report.updated,
            report.unchanged
        )),
        invites: report
            .invite_codes
            .into_iter()
            .map(|i| Invite {
                username: i.username,
                code: i.invite_code,
                expires: shown(i.expires_at.with_timezone(&chrono::Utc)),
            })
            .collect(),
        ..RosterPage::of(&console)
    })
}

/// Issues the user a new invite code (the old one stops working, their sessions end).
pub async fn console_roster_invite(
    state: web::Data<AppState>,
    console: Console,
    path: web::Path<Uuid>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    admin_only(&console)?;
    console.check_csrf(form.csrf.as_deref())?;
    let id = path.into_inner();
    let now = state.clock.now();
    let caller = console.caller.clone();
    let (invite, generation) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let scope = RegionScope::of(conn, &caller)?;
            let user = visible(conn, &scope, id)?;
            let writer = Writer {
                actor: caller.user_id,
                scope: &scope,
            };
            let (code, expires) = writer.issue_invite(conn, &user, now)?;
            let generation = User::session_generation(conn, id)?;
            Ok((
                Invite {
                    username: user.username,
                    code,
                    expires: shown(expires),
                },
                generation,
            ))
        })
    })
    .await?;
    if let Some(generation) = generation {
        sessions::publish(&state.cache, id, generation).await;
    }
    html(&RosterPage {
        message: Some(format!("已为 {} 重新发放邀请码", invite.username)),
        invites: vec![invite],
        ..RosterPage::of(&console)
    })
}
