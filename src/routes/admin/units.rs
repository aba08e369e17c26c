//! Admin CRUD of units: dispatching units, departments and hubs.

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
use crate::db::models::unit::{Unit, UnitFilter};
use crate::db::models::Page;
use crate::domain::roster::{FieldError, Fields, UnitRecord, UNIT_COLUMNS};
use crate::domain::unit_kind::UnitKind;
use crate::error::{AppError, ErrorCode};
use crate::roster::save::Writer;
use crate::routes::{get, patch, post, Endpoint, ListResponse, PageParams};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/units", web::get().to(admin_unit_list)),
        post("/api/v1/admin/units", web::post().to(crud::create::<Unit>)),
        get("/api/v1/admin/units/{id}", web::get().to(crud::read::<Unit>)),
        patch("/api/v1/admin/units/{id}", web::patch().to(crud::update::<Unit>)),
    ]
}

#[derive(Serialize)]
pub(super) struct UnitDto {
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

impl Entry for Unit {
    type Key = Uuid;
    type Record = UnitRecord;
    type Dto = UnitDto;
    const COLUMNS: &'static [&'static str] = UNIT_COLUMNS;

    fn parse(fields: &Fields) -> Result<UnitRecord, Vec<FieldError>> {
        UnitRecord::parse(fields)
    }

    fn visible(conn: &mut PgConnection, scope: &RegionScope, id: &Uuid) -> Result<Unit, AppError> {
        match Unit::find(conn, *id)? {
            Some(unit) if scope.contains(conn, &unit.region_code)? => Ok(unit),
            _ => Err(AppError::NotFound),
        }
    }

    fn fields(&self) -> Fields {
        text_fields([
            ("code", self.code.clone()),
            ("name", self.name.clone()),
            ("kind", self.kind.to_string()),
            ("region_code", self.region_code.clone()),
        ])
    }

    fn save(
        writer: &Writer,
        conn: &mut PgConnection,
        old: Option<Unit>,
        record: &UnitRecord,
    ) -> Result<Unit, AppError> {
        Ok(writer.save_unit(conn, old, record)?.into_inner())
    }
}
