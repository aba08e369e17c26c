//! Admin CRUD of assignments (结对/包联), created by natural keys.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::json_fields;
use crate::auth::scope::RegionScope;
use crate::auth::AuthAdmin;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::assignment::{Assignment, AssignmentFilter};
use crate::db::models::enterprise::Enterprise;
use crate::db::models::user::User;
use crate::db::models::Page;
use crate::domain::roster::{AssignmentRecord, ASSIGNMENT_COLUMNS};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::roster::save::{Saved, Writer};
use crate::routes::{get, patch, post, Endpoint, ListResponse, PageParams};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/assignments", web::get().to(admin_assignment_list)),
        post(
            "/api/v1/admin/assignments",
            web::post().to(admin_assignment_create),
        ),
        get(
            "/api/v1/admin/assignments/{id}",
            web::get().to(admin_assignment_get),
        ),
        patch(
            "/api/v1/admin/assignments/{id}",
            web::patch().to(admin_assignment_update),
        ),
    ]
}

#[derive(Serialize)]
struct AssignmentDto {
    id: Uuid,
    officer_id: Uuid,
    officer_username: Option<String>,
    enterprise_id: Uuid,
    enterprise_credit_code: Option<String>,
    start_day: NaiveDate,
    end_day: Option<NaiveDate>,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
}

fn dtos(conn: &mut PgConnection, rows: Vec<Assignment>) -> Result<Vec<AssignmentDto>, AppError> {
    let officer_ids: Vec<Uuid> = rows.iter().map(|a| a.officer_id).collect();
    let enterprise_ids: Vec<Uuid> = rows.iter().map(|a| a.enterprise_id).collect();
    let usernames = User::usernames_by_id(conn, &officer_ids)?;
    let credit_codes = Enterprise::credit_codes_by_id(conn, &enterprise_ids)?;
    Ok(rows
        .into_iter()
        .map(|a| AssignmentDto {
            officer_username: usernames.get(&a.officer_id).cloned(),
            enterprise_credit_code: credit_codes.get(&a.enterprise_id).cloned(),
            id: a.id,
            officer_id: a.officer_id,
            enterprise_id: a.enterprise_id,
            start_day: a.start_day,
            end_day: a.end_day,
            created_at: wire_time(a.created_at),
            updated_at: wire_time(a.updated_at),
        })
        .collect())
}

fn dto(conn: &mut PgConnection, row: Assignment) -> Result<AssignmentDto, AppError> {
    dtos(conn, vec![row])?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("assignment vanished while rendering")))
}

#[derive(Deserialize)]
struct AssignmentQuery {
    officer_id: Option<Uuid>,
    enterprise_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    active_on: Option<NaiveDate>,
}

async fn admin_assignment_list(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    query: web::Query<AssignmentQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let AssignmentQuery {
        officer_id,
        enterprise_id,
        active_on,
    } = query.into_inner();
    let (limit, cursor) = (page.limit()?, page.uuid_cursor()?);
    let filter = AssignmentFilter {
        officer_id,
        enterprise_id,
        active_on,
    };
    let page = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        let rows = Assignment::list_in_subtree(conn, &scope.root_path, &filter, cursor, limit)?;
        let page = Page::from_rows(rows, limit, |a| a.id.to_string());
        Ok(ListResponse {
            items: dtos(conn, page.items)?,
            next_cursor: page.next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// An assignment is visible when its enterprise is in the admin's subtree.
fn visible(conn: &mut PgConnection, scope: &RegionScope, id: Uuid) -> Result<Assignment, AppError> {
    let assignment = Assignment::find(conn, id)?.ok_or(AppError::NotFound)?;
    let enterprise = Enterprise::find(conn, assignment.enterprise_id)?.ok_or(AppError::NotFound)?;
    scope.require(conn, &enterprise.region_code)?;
    Ok(assignment)
}

async fn admin_assignment_get(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let assignment = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        let assignment = visible(conn, &scope, id)?;
        dto(conn, assignment)
    })
    .await?;
    Ok(HttpResponse::Ok().json(assignment))
}

async fn admin_assignment_create(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let fields = json_fields(body.into_inner(), ASSIGNMENT_COLUMNS)?;
    let record = AssignmentRecord::parse(&fields).map_err(AppError::invalid)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let assignment = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                match writer.save_assignment(conn, &record)? {
                    Saved::Created(assignment) => dto(conn, assignment),
                    Saved::Updated(_) | Saved::Unchanged(_) => Err(AppError::new(
                        ErrorCode::AssignmentExists,
                        "该联络员与企业的结对已存在",
                    )),
                }
            })?;
            Stored::json(StatusCode::CREATED, &assignment)
        })
    })
    .await?;
    Ok(stored.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateAssignmentRequest {
    /// The last day of the assignment; `null` makes it open-ended again. Required, so an
    /// empty body cannot re-open an assignment by accident.
    #[serde(deserialize_with = "Option::deserialize")]
    end_day: Option<NaiveDate>,
}

/// Ends (or re-opens) an assignment.
async fn admin_assignment_update(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<UpdateAssignmentRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let end_day = body.into_inner().end_day;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let assignment = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let old = visible(conn, &scope, id)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                let assignment = writer.set_assignment_end(conn, old, end_day)?.into_inner();
                dto(conn, assignment)
            })?;
            Stored::json(StatusCode::OK, &assignment)
        })
    })
    .await?;
    Ok(stored.into_response())
}
