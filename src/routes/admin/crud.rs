//! Reading, creating and updating one roster entry, written once for every kind whose admin
//! endpoints are plain CRUD (regions, units, enterprises): each kind says how it is named,
//! parsed, found within the admin's region subtree and saved ([`Entry`]); the handlers here do
//! the rest. Creates and updates go through the same `roster::save::Writer` as the import
//! files, in one transaction with the request's idempotency record.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::{Connection, PgConnection};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{json_fields, patched};
use crate::auth::scope::RegionScope;
use crate::auth::AuthAdmin;
use crate::db;
use crate::domain::roster::{FieldError, Fields};
use crate::error::AppError;
use crate::idempotency::{self, Idempotency, Stored};
use crate::roster::save::Writer;
use crate::state::AppState;

/// A kind of roster entry with plain admin CRUD.
pub(super) trait Entry: Sized + Send + 'static {
    /// How the path names an entry: a UUID, or a region's code.
    type Key: DeserializeOwned + Send + 'static;
    /// The entry as the roster rules read it (`domain::roster`).
    type Record: Send + 'static;
    /// The entry as the API shows it.
    type Dto: Serialize + From<Self>;
    /// The fields a create body may hold (the import file's columns).
    const COLUMNS: &'static [&'static str];
    /// The fields a PATCH may change.
    const PATCH_COLUMNS: &'static [&'static str] = Self::COLUMNS;

    fn parse(fields: &Fields) -> Result<Self::Record, Vec<FieldError>>;
    /// The entry, when it exists inside `scope` (404 otherwise, as if it did not exist).
    fn visible(conn: &mut PgConnection, scope: &RegionScope, key: &Self::Key) -> Result<Self, AppError>;
    /// Its current fields as text, for a PATCH to lay its changes over.
    fn fields(&self) -> Fields;
    /// Saves `record` as a new entry (`old: None`) or over `old`.
    fn save(
        writer: &Writer,
        conn: &mut PgConnection,
        old: Option<Self>,
        record: &Self::Record,
    ) -> Result<Self, AppError>;
}

pub(super) async fn read<E: Entry>(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    key: web::Path<E::Key>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let entry = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        E::visible(conn, &scope, &key)
    })
    .await?;
    Ok(HttpResponse::Ok().json(E::Dto::from(entry)))
}

pub(super) async fn create<E: Entry>(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let fields = json_fields(body.into_inner(), E::COLUMNS)?;
    let record = E::parse(&fields).map_err(AppError::invalid)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let entry = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                E::save(&writer, conn, None, &record)
            })?;
            Stored::json(StatusCode::CREATED, &E::Dto::from(entry))
        })
    })
    .await?;
    Ok(stored.into_response())
}

pub(super) async fn update<E: Entry>(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    key: web::Path<E::Key>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let patch = json_fields(body.into_inner(), E::PATCH_COLUMNS)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let entry = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let old = E::visible(conn, &scope, &key)?;
                let record = E::parse(&patched(old.fields(), patch)).map_err(AppError::invalid)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                E::save(&writer, conn, Some(old), &record)
            })?;
            Stored::json(StatusCode::OK, &E::Dto::from(entry))
        })
    })
    .await?;
    Ok(stored.into_response())
}
