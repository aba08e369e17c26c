//! Admin CRUD of regions (GB/T 2260 codes); a region's id is its code.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};

use super::crud::{self, Entry};
use super::text_fields;
use crate::auth::scope::RegionScope;
use crate::auth::AuthAdmin;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::region::Region;
use crate::db::models::Page;
use crate::domain::region_code::RegionCode;
use crate::domain::roster::{FieldError, Fields, RegionRecord, REGION_COLUMNS};
use crate::error::{AppError, ErrorCode};
use crate::roster::save::Writer;
use crate::routes::{get, invalid_cursor, patch, post, Endpoint, ListResponse, PageParams};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/regions", web::get().to(admin_region_list)),
        post("/api/v1/admin/regions", web::post().to(crud::create::<Region>)),
        get("/api/v1/admin/regions/{id}", web::get().to(crud::read::<Region>)),
        patch(
            "/api/v1/admin/regions/{id}",
            web::patch().to(crud::update::<Region>),
        ),
    ]
}

#[derive(Serialize)]
pub(super) struct RegionDto {
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

impl Entry for Region {
    /// A region's id is its code.
    type Key = String;
    type Record = RegionRecord;
    type Dto = RegionDto;
    const COLUMNS: &'static [&'static str] = REGION_COLUMNS;
    /// Renamed or moved; its code stays.
    const PATCH_COLUMNS: &'static [&'static str] = &["name", "parent_code"];

    fn parse(fields: &Fields) -> Result<RegionRecord, Vec<FieldError>> {
        RegionRecord::parse(fields)
    }

    fn visible(conn: &mut PgConnection, scope: &RegionScope, code: &String) -> Result<Region, AppError> {
        // Not a region code: it names no region (and never reaches the database).
        let code = RegionCode::parse(code).ok_or(AppError::NotFound)?;
        Region::find(conn, code.as_str())?
            .filter(|r| r.path.starts_with(&scope.root_path))
            .ok_or(AppError::NotFound)
    }

    fn fields(&self) -> Fields {
        text_fields([
            ("code", self.code.clone()),
            ("name", self.name.clone()),
            ("parent_code", self.parent_code.clone().unwrap_or_default()),
        ])
    }

    /// A new region goes below one the admin already has.
    fn save(
        writer: &Writer,
        conn: &mut PgConnection,
        old: Option<Region>,
        record: &RegionRecord,
    ) -> Result<Region, AppError> {
        if old.is_none() && Region::find(conn, record.code.as_str())?.is_some() {
            return Err(AppError::new(ErrorCode::RegionCodeTaken, "该区划代码已存在"));
        }
        Ok(writer.save_region(conn, old, record)?.into_inner())
    }
}
