//! Admin CRUD of regions (GB/T 2260 codes); a region's id is its code.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{json_fields, patched, text_fields};
use crate::auth::scope::RegionScope;
use crate::auth::AuthAdmin;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::region::Region;
use crate::db::models::Page;
use crate::domain::region_code::RegionCode;
use crate::domain::roster::{RegionRecord, REGION_COLUMNS};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::roster::save::Writer;
use crate::routes::{get, invalid_cursor, patch, post, Endpoint, ListResponse, PageParams};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/regions", web::get().to(admin_region_list)),
        post("/api/v1/admin/regions", web::post().to(admin_region_create)),
        get("/api/v1/admin/regions/{id}", web::get().to(admin_region_get)),
        patch("/api/v1/admin/regions/{id}", web::patch().to(admin_region_update)),
    ]
}

#[derive(Serialize)]
struct RegionDto {
    code: String,
    name: String,
    parent_code: Option<String>,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
}

impl From<Region> for RegionDto {
    fn from(r: Region) -> Self {
        Self {
            code: r.code,
            name: r.name,
            parent_code: r.parent_code,
            created_at: wire_time(r.created_at),
            updated_at: wire_time(r.updated_at),
        }
    }
}

#[derive(Deserialize)]
struct RegionQuery {
    #[serde(default, deserialize_with = "crate::routes::params::region_code")]
    code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::region_code")]
    parent_code: Option<String>,
}

/// Regions of the admin's subtree, by code.
async fn admin_region_list(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    query: web::Query<RegionQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let RegionQuery { code, parent_code } = query.into_inner();
    let limit = page.limit()?;
    let cursor = page
        .cursor
        .as_deref()
        .map(|c| RegionCode::parse(c).ok_or_else(invalid_cursor))
        .transpose()?;
    let page = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        let rows = match code {
            Some(code) => Region::find(conn, &code)?
                .filter(|r| r.path.starts_with(&scope.root_path))
                .into_iter()
                .collect(),
            None => Region::list_in_subtree(
                conn,
                &scope.root_path,
                parent_code.as_deref(),
                cursor.as_ref().map(RegionCode::as_str),
                limit,
            )?,
        };
        Ok(Page::from_rows(rows, limit, |r| r.code.clone()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page.map(RegionDto::from))))
}

fn visible(conn: &mut diesel::PgConnection, scope: &RegionScope, code: &str) -> Result<Region, AppError> {
    // Not a region code: it names no region (and never reaches the database).
    let code = RegionCode::parse(code).ok_or(AppError::NotFound)?;
    Region::find(conn, code.as_str())?
        .filter(|r| r.path.starts_with(&scope.root_path))
        .ok_or(AppError::NotFound)
}

async fn admin_region_get(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = id.into_inner();
    let region = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        visible(conn, &scope, &code)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RegionDto::from(region)))
}

/// Creates a region below one the admin already has.
async fn admin_region_create(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let fields = json_fields(body.into_inner(), REGION_COLUMNS)?;
    let record = RegionRecord::parse(&fields).map_err(AppError::invalid)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let region = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                if Region::find(conn, record.code.as_str())?.is_some() {
                    return Err(AppError::new(ErrorCode::RegionCodeTaken, "该区划代码已存在"));
                }
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                Ok(writer.save_region(conn, None, &record)?.into_inner())
            })?;
            Stored::json(StatusCode::CREATED, &RegionDto::from(region))
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// Renames or moves a region within the admin's subtree.
async fn admin_region_update(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let code = id.into_inner();
    let patch = json_fields(body.into_inner(), &["name", "parent_code"])?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let region = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let old = visible(conn, &scope, &code)?;
                let current = text_fields([
                    ("code", old.code.clone()),
                    ("name", old.name.clone()),
                    ("parent_code", old.parent_code.clone().unwrap_or_default()),
                ]);
                let record = RegionRecord::parse(&patched(current, patch)).map_err(AppError::invalid)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                Ok(writer.save_region(conn, Some(old), &record)?.into_inner())
            })?;
            Stored::json(StatusCode::OK, &RegionDto::from(region))
        })
    })
    .await?;
    Ok(stored.into_response())
}
