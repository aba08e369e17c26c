//! Enterprises as every role sees them (the admin roster lives under `admin/`).

use actix_web::{web, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::enterprise_size::EnterpriseSize;

use super::{get, Endpoint};
use crate::auth::{scope, AuthUser};
use crate::db;
use crate::db::models::enterprise::Enterprise;
use crate::error::AppError;
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![get("/api/v1/enterprises/{id}", web::get().to(enterprise_get))]
}

/// An enterprise as clients see it; coordinates are GCJ-02.
#[derive(Debug, Serialize)]
pub struct EnterpriseDto {
    pub id: Uuid,
    pub credit_code: String,
    pub name: String,
    pub region_code: String,
    pub industry: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    pub geofence_m: i32,
    /// 企业规模; `null` when the roster does not say.
    pub size: Option<EnterpriseSize>,
}

impl From<Enterprise> for EnterpriseDto {
    fn from(e: Enterprise) -> Self {
        Self {
            id: e.id,
            credit_code: e.credit_code,
            name: e.name,
            region_code: e.region_code,
            industry: e.industry,
            address: e.address,
            lat: e.lat,
            lng: e.lng,
            geofence_m: e.geofence_m,
            size: e.size,
        }
    }
}

/// One enterprise, if the caller's scope reaches it (else 404).
async fn enterprise_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let enterprise = db::run(&state.pool, move |conn| {
        scope::visible_enterprise(conn, &caller, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EnterpriseDto::from(enterprise)))
}
