//! 交办会: assignment meetings (many problems to their departments at once), their record,
//! and each department's 交办单.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::exports::xlsx_response;
use super::{get, large_json, post, Endpoint, ListResponse, PageParams};
use crate::auth::extractors::AuthDispatcher;
use crate::auth::scope::RegionScope;
use crate::auth::{AuthUser, Caller};
use crate::cache::stats;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::assignment_batch::{AssignmentBatch, BatchItem};
use crate::db::models::Page;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::exports::assignment_sheet;
use crate::hub::actions::Acting;
use crate::hub::meeting::{self, ItemError, Meeting};
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

/// A meeting's body: up to 1,000 items of a few hundred bytes.
const MAX_BODY: usize = 1024 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post(
            "/api/v1/hub/assignments",
            web::post().to(assignment_meeting_create),
        ),
        get("/api/v1/hub/assignments", web::get().to(assignment_meeting_list)),
        get(
            "/api/v1/hub/assignments/{id}",
            web::get().to(assignment_meeting_get),
        ),
        get(
            "/api/v1/hub/assignments/{id}/sheets.xlsx",
            web::get().to(assignment_sheet_download),
        ),
    ]
}

#[derive(Serialize)]
struct ItemDto {
    position: i32,
    problem_id: Uuid,
    number: String,
    department_id: Uuid,
    co_handler_ids: Vec<Uuid>,
    instructions: Option<String>,
    contact_due_at: DateTime<FixedOffset>,
    due_at: DateTime<FixedOffset>,
}

impl From<BatchItem> for ItemDto {
    fn from(i: BatchItem) -> Self {
        Self {
            position: i.position,
            problem_id: i.problem_id,
            number: i.number,
            department_id: i.department_id,
            co_handler_ids: i.co_handler_ids,
            instructions: i.instructions,
            contact_due_at: wire_time(i.contact_due_at),
            due_at: wire_time(i.due_at),
        }
    }
}

/// Each department the meeting concerns and how many of its problems it leads or co-handles.
#[derive(Serialize)]
struct SheetDto {
    department_id: Uuid,
    department_name: String,
    lead: usize,
    co_handling: usize,
}

#[derive(Serialize)]
struct BatchDto {
    id: Uuid,
    title: String,
    region_code: String,
    created_by: Uuid,
    created_at: DateTime<FixedOffset>,
    item_count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Vec<ItemDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sheets: Option<Vec<SheetDto>>,
    /// Items refused, when the meeting kept the others (`all_or_nothing: false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<Vec<ItemError>>,
}

impl BatchDto {
    fn summary(b: AssignmentBatch) -> Self {
        Self {
            id: b.id,
            title: b.title,
            region_code: b.region_code,
            created_by: b.created_by,
            created_at: wire_time(b.created_at),
            item_count: b.item_count,
            items: None,
            sheets: None,
            failed: None,
        }
    }

    fn full(
        conn: &mut diesel::PgConnection,
        b: AssignmentBatch,
        items: Vec<BatchItem>,
    ) -> Result<Self, AppError> {
        let sheets = AssignmentBatch::departments(conn, &items)?
            .into_iter()
            .map(|(id, name)| SheetDto {
                department_id: id,
                department_name: name,
                lead: items.iter().filter(|i| i.department_id == id).count(),
                co_handling: items.iter().filter(|i| i.co_handler_ids.contains(&id)).count(),
            })
            .collect();
        Ok(Self {
            items: Some(items.into_iter().map(ItemDto::from).collect()),
            sheets: Some(sheets),
            ..Self::summary(b)
        })
    }
}

/// 交办会: assigns every item (triaging those that name a category), numbers the problems,
/// and records the batch; 201 with it. `all_or_nothing` (the default) refuses everything when
/// one item fails (422 `assignment.items_invalid`, each failure with its index).
async fn assignment_meeting_create(
    state: web::Data<AppState>,
    dispatcher: AuthDispatcher,
    idempotency: Idempotency,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let meeting: Meeting = large_json(&req, payload, MAX_BODY).await?;
    let now = state.clock.now();
    let caller = dispatcher.caller;
    let done = db::run(&state.pool, move |conn| {
        idempotency::once(conn, &idempotency, now, |conn| {
            let held = meeting::hold(conn, Acting { caller: &caller, now }, &meeting)?;
            let body = BatchDto {
                failed: Some(held.failed),
                ..BatchDto::full(conn, held.batch, held.items)?
            };
            Ok((Stored::json(StatusCode::CREATED, &body)?, held.triaged))
        })
    })
    .await?;
    stats::figures_changed(&state.cache).await;
    // The categories the meeting confirmed teach the classifier, as a single triage does.
    for (text, category) in done.fresh.into_iter().flatten() {
        state.classifier.learn(&text, &category);
    }
    Ok(done.stored.into_response())
}

/// The meetings of the dispatcher's region and below, newest first.
async fn assignment_meeting_list(
    state: web::Data<AppState>,
    dispatcher: AuthDispatcher,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, after) = (page.limit()?, page.time_cursor()?);
    let caller = dispatcher.caller;
    let page = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &caller)?;
        let rows = AssignmentBatch::list(conn, &scope.root_path, after, limit)?;
        let page = Page::from_rows(rows, limit, |b| super::time_cursor(b.created_at, b.id));
        Ok(Page {
            items: page.items.into_iter().map(BatchDto::summary).collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page)))
}

/// A meeting the dispatcher's region reaches; others look absent.
fn visible_batch(
    conn: &mut diesel::PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<AssignmentBatch, AppError> {
    let batch = AssignmentBatch::find(conn, id)?.ok_or(AppError::NotFound)?;
    if caller.has(Role::Dispatcher) && RegionScope::of(conn, caller)?.contains(conn, &batch.region_code)? {
        Ok(batch)
    } else {
        Err(AppError::NotFound)
    }
}

/// The meeting with its items and the departments it concerns.
async fn assignment_meeting_get(
    state: web::Data<AppState>,
    dispatcher: AuthDispatcher,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, caller) = (id.into_inner(), dispatcher.caller);
    let body = db::run(&state.pool, move |conn| {
        let batch = visible_batch(conn, &caller, id)?;
        let items = AssignmentBatch::items(conn, batch.id)?;
        BatchDto::full(conn, batch, items)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetQuery {
    department_id: Option<Uuid>,
}

/// 交办单 as an Excel workbook, one A4 worksheet per department: the dispatcher gets every
/// department's (or `department_id`'s); a department's clerk gets their own, and only if the
/// meeting gave them something.
async fn assignment_sheet_download(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<SheetQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, wanted) = (id.into_inner(), query.into_inner().department_id);
    let workbook = db::run(&state.bulk_pool, move |conn| {
        let batch = AssignmentBatch::find(conn, id)?.ok_or(AppError::NotFound)?;
        let department = if caller.has(Role::Dispatcher)
            && RegionScope::of(conn, &caller)?.contains(conn, &batch.region_code)?
        {
            wanted
        } else {
            // A clerk reads their own department's sheet, whatever they asked for.
            match (caller.has(Role::Department), caller.unit_id) {
                (true, Some(unit)) if wanted.is_none_or(|w| w == unit) => Some(unit),
                _ => return Err(AppError::NotFound),
            }
        };
        let items = AssignmentBatch::items(conn, batch.id)?;
        let departments: Vec<(Uuid, String)> = AssignmentBatch::departments(conn, &items)?
            .into_iter()
            .filter(|(d, _)| department.is_none_or(|wanted| wanted == *d))
            .collect();
        if departments.is_empty() {
            return Err(AppError::NotFound);
        }
        let lines = AssignmentBatch::sheet_lines(conn, batch.id, department)?;
        assignment_sheet::write(&batch, &departments, &lines)
    })
    .await?;
    Ok(xlsx_response(&format!("assignment-sheets-{id}.xlsx"), workbook))
}
