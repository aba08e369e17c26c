//! Admin CRUD of enterprises; natural-key lookup by `?credit_code=`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::crud::{self, Entry};
use super::text_fields;
use crate::auth::scope::RegionScope;
use crate::auth::AuthAdmin;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::enterprise::{Enterprise, EnterpriseFilter};
use crate::db::models::Page;
use crate::domain::roster::{EnterpriseRecord, FieldError, Fields, ENTERPRISE_COLUMNS};
use crate::error::AppError;
use crate::roster::save::Writer;
use crate::routes::enterprises::EnterpriseDto;
use crate::routes::{get, patch, post, Endpoint, ListResponse, PageParams};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/enterprises", web::get().to(admin_enterprise_list)),
        post(
            "/api/v1/admin/enterprises",
            web::post().to(crud::create::<Enterprise>),
        ),
        get(
            "/api/v1/admin/enterprises/{id}",
            web::get().to(crud::read::<Enterprise>),
        ),
        patch(
            "/api/v1/admin/enterprises/{id}",
            web::patch().to(crud::update::<Enterprise>),
        ),
    ]
}

#[derive(Serialize)]
pub(super) struct AdminEnterpriseDto {
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

impl Entry for Enterprise {
    type Key = Uuid;
    type Record = EnterpriseRecord;
    type Dto = AdminEnterpriseDto;
    const COLUMNS: &'static [&'static str] = ENTERPRISE_COLUMNS;

    fn parse(fields: &Fields) -> Result<EnterpriseRecord, Vec<FieldError>> {
        EnterpriseRecord::parse(fields)
    }

    fn visible(conn: &mut PgConnection, scope: &RegionScope, id: &Uuid) -> Result<Enterprise, AppError> {
        match Enterprise::find(conn, *id)? {
            Some(e) if scope.contains(conn, &e.region_code)? => Ok(e),
            _ => Err(AppError::NotFound),
        }
    }

    fn fields(&self) -> Fields {
        text_fields([
            ("credit_code", self.credit_code.clone()),
            ("name", self.name.clone()),
            ("region_code", self.region_code.clone()),
            ("industry", self.industry.clone()),
            ("address", self.address.clone()),
            ("lat", self.lat.to_string()),
            ("lng", self.lng.to_string()),
            ("geofence_m", self.geofence_m.to_string()),
            (
                "size",
                self.size.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            ),
        ])
    }

    fn save(
        writer: &Writer,
        conn: &mut PgConnection,
        old: Option<Enterprise>,
        record: &EnterpriseRecord,
    ) -> Result<Enterprise, AppError> {
        Ok(writer.save_enterprise(conn, old, record)?.into_inner())
    }
}
