//! Admin CRUD of enterprises; natural-key lookup by `?credit_code=`.

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
use crate::db::models::enterprise::{Enterprise, EnterpriseFilter};
use crate::db::models::Page;
use crate::domain::roster::{EnterpriseRecord, ENTERPRISE_COLUMNS};
use crate::error::AppError;
use crate::idempotency::{self, Idempotency, Stored};
use crate::roster::save::Writer;
use crate::routes::enterprises::EnterpriseDto;
use crate::routes::{get, patch, post, Endpoint, ListResponse, PageParams};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/enterprises", web::get().to(admin_enterprise_list)),
        post(
            "/api/v1/admin/enterprises",
            web::post().to(admin_enterprise_create),
        ),
        get(
            "/api/v1/admin/enterprises/{id}",
            web::get().to(admin_enterprise_get),
        ),
        patch(
            "/api/v1/admin/enterprises/{id}",
            web::patch().to(admin_enterprise_update),
        ),
    ]
}

#[derive(Serialize)]
struct AdminEnterpriseDto {
    #[serde(flatten)]
    enterprise: EnterpriseDto,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
}

impl From<Enterprise> for AdminEnterpriseDto {
    fn from(e: Enterprise) -> Self {
        let (created_at, updated_at) = (wire_time(e.created_at), wire_time(e.updated_at));
        Self {
            enterprise: EnterpriseDto::from(e),
            created_at,
            updated_at,
        }
    }
}

#[derive(Deserialize)]
struct EnterpriseQuery {
    #[serde(default, deserialize_with = "crate::routes::params::credit_code")]
    credit_code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::region_code")]
    region_code: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    name: Option<String>,
}

async fn admin_enterprise_list(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    query: web::Query<EnterpriseQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let EnterpriseQuery {
        credit_code,
        region_code,
        name,
    } = query.into_inner();
    let (limit, cursor) = (page.limit()?, page.uuid_cursor()?);
    let filter = EnterpriseFilter {
        credit_code: credit_code.map(|c| c.trim().to_ascii_uppercase()),
        region_code,
        name,
    };
    let page = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        let rows = Enterprise::list_in_subtree(conn, &scope.root_path, &filter, cursor, limit)?;
        Ok(Page::from_rows(rows, limit, |e| e.id.to_string()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page.map(AdminEnterpriseDto::from))))
}

fn visible(conn: &mut diesel::PgConnection, scope: &RegionScope, id: Uuid) -> Result<Enterprise, AppError> {
    match Enterprise::find(conn, id)? {
        Some(e) if scope.contains(conn, &e.region_code)? => Ok(e),
        _ => Err(AppError::NotFound),
    }
}

async fn admin_enterprise_get(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let enterprise = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        visible(conn, &scope, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AdminEnterpriseDto::from(enterprise)))
}

async fn admin_enterprise_create(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let fields = json_fields(body.into_inner(), ENTERPRISE_COLUMNS)?;
    let record = EnterpriseRecord::parse(&fields).map_err(AppError::invalid)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let enterprise = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                Ok(writer.save_enterprise(conn, None, &record)?.into_inner())
            })?;
            Stored::json(StatusCode::CREATED, &AdminEnterpriseDto::from(enterprise))
        })
    })
    .await?;
    Ok(stored.into_response())
}

async fn admin_enterprise_update(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let patch = json_fields(body.into_inner(), ENTERPRISE_COLUMNS)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let enterprise = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let old = visible(conn, &scope, id)?;
                let current = text_fields([
                    ("credit_code", old.credit_code.clone()),
                    ("name", old.name.clone()),
                    ("region_code", old.region_code.clone()),
                    ("industry", old.industry.clone()),
                    ("address", old.address.clone()),
                    ("lat", old.lat.to_string()),
                    ("lng", old.lng.to_string()),
                    ("geofence_m", old.geofence_m.to_string()),
                ]);
                let record = EnterpriseRecord::parse(&patched(current, patch)).map_err(AppError::invalid)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                Ok(writer.save_enterprise(conn, Some(old), &record)?.into_inner())
            })?;
            Stored::json(StatusCode::OK, &AdminEnterpriseDto::from(enterprise))
        })
    })
    .await?;
    Ok(stored.into_response())
}
