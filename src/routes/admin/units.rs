//! Admin CRUD of units: dispatching units, departments and hubs.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{json_fields, patched, text_fields};
use crate::auth::scope::RegionScope;
use crate::auth::AuthAdmin;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::unit::{Unit, UnitFilter};
use crate::db::models::Page;
use crate::domain::roster::{UnitRecord, UNIT_COLUMNS};
use crate::domain::unit_kind::UnitKind;
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::roster::save::Writer;
use crate::routes::{get, patch, post, Endpoint, ListResponse, PageParams};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/units", web::get().to(admin_unit_list)),
        post("/api/v1/admin/units", web::post().to(admin_unit_create)),
        get("/api/v1/admin/units/{id}", web::get().to(admin_unit_get)),
        patch("/api/v1/admin/units/{id}", web::patch().to(admin_unit_update)),
    ]
}

#[derive(Serialize)]
struct UnitDto {
    id: Uuid,
    code: String,
    name: String,
    kind: UnitKind,
    region_code: String,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
}

impl From<Unit> for UnitDto {
    fn from(u: Unit) -> Self {
        Self {
            id: u.id,
            code: u.code,
            name: u.name,
            kind: u.kind,
            region_code: u.region_code,
            created_at: wire_time(u.created_at),
            updated_at: wire_time(u.updated_at),
        }
    }
}

#[derive(Deserialize)]
struct UnitQuery {
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::region_code")]
    region_code: Option<String>,
}

async fn admin_unit_list(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    query: web::Query<UnitQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let UnitQuery {
        code,
        kind,
        region_code,
    } = query.into_inner();
    let (limit, cursor) = (page.limit()?, page.uuid_cursor()?);
    let kind = match kind.as_deref().map(UnitKind::parse) {
        None => None,
        Some(Some(kind)) => Some(kind),
        Some(None) => {
            return Err(AppError::new(
                ErrorCode::RequestInvalidQuery,
                format!(
                    "kind “{}” 应为 dispatching、department 或 hub",
                    kind.unwrap_or_default()
                ),
            ))
        }
    };
    let filter = UnitFilter {
        code,
        kind,
        region_code,
    };
    let page = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        let rows = Unit::list_in_subtree(conn, &scope.root_path, &filter, cursor, limit)?;
        Ok(Page::from_rows(rows, limit, |u| u.id.to_string()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page.map(UnitDto::from))))
}

fn visible(conn: &mut diesel::PgConnection, scope: &RegionScope, id: Uuid) -> Result<Unit, AppError> {
    match Unit::find(conn, id)? {
        Some(unit) if scope.contains(conn, &unit.region_code)? => Ok(unit),
        _ => Err(AppError::NotFound),
    }
}

async fn admin_unit_get(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let unit = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        visible(conn, &scope, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UnitDto::from(unit)))
}

async fn admin_unit_create(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let fields = json_fields(body.into_inner(), UNIT_COLUMNS)?;
    let record = UnitRecord::parse(&fields).map_err(AppError::invalid)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let unit = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                Ok(writer.save_unit(conn, None, &record)?.into_inner())
            })?;
            Stored::json(StatusCode::CREATED, &UnitDto::from(unit))
        })
    })
    .await?;
    Ok(stored.into_response())
}

async fn admin_unit_update(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let patch = json_fields(body.into_inner(), UNIT_COLUMNS)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let unit = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let old = visible(conn, &scope, id)?;
                let current = text_fields([
                    ("code", old.code.clone()),
                    ("name", old.name.clone()),
                    ("kind", old.kind.to_string()),
                    ("region_code", old.region_code.clone()),
                ]);
                let record = UnitRecord::parse(&patched(current, patch)).map_err(AppError::invalid)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                Ok(writer.save_unit(conn, Some(old), &record)?.into_inner())
            })?;
            Stored::json(StatusCode::OK, &UnitDto::from(unit))
        })
    })
    .await?;
    Ok(stored.into_response())
}
