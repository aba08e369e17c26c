//! `POST /admin/import/{kind}`: roster files as multipart uploads or raw CSV/XLSX bodies.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::auth::scope::RegionScope;
use crate::auth::sessions;
use crate::auth::AuthAdmin;
use crate::db;
use crate::error::{AppError, ErrorCode};
use crate::roster::import::{self, Kind};
use crate::roster::reader::{self, ReadError, Row};
use crate::roster::save::Writer;
use crate::routes::{post, Endpoint};
use crate::state::AppState;

/// The largest roster file accepted (a 31,000-enterprise XLSX is a few MiB).
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![post(
        "/api/v1/admin/import/{kind}",
        web::post().to(admin_roster_import),
    )]
}

#[derive(Deserialize)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
}

/// Imports one roster file, all or nothing; `?dry_run=true` only validates.
async fn admin_roster_import(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    kind: web::Path<String>,
    query: web::Query<ImportQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let kind = Kind::parse(&kind).ok_or(AppError::RouteNotFound)?;
    let bytes = read_upload(&req, payload).await?;
    let rows = read_rows(kind, bytes).await?;
    let dry_run = query.dry_run;
    let now = state.clock.now();
    let report = db::run(&state.bulk_pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        let writer = Writer {
            actor: admin.caller.user_id,
            scope: &scope,
        };
        import::run(conn, &writer, kind, rows, dry_run, now)
    })
    .await?;
    for (user, generation) in &report.sessions {
        sessions::publish(&state.cache, *user, *generation).await;
    }
    tracing::info!(kind = ?report.kind, rows = report.rows, created = report.created, updated = report.updated, dry_run, "roster imported");
    Ok(HttpResponse::Ok().json(report))
}

/// The rows of a roster file of `kind`, or why it cannot be read. Parsing a large file is CPU
/// work: it runs on the blocking pool, holding no connection.
pub(crate) async fn read_rows(kind: Kind, bytes: Vec<u8>) -> Result<Vec<Row>, AppError> {
    read_file(bytes, kind.columns(), kind.required_columns()).await
}

/// The rows of an uploaded file with these columns (`required` among them), or why it cannot
/// be read: what every import (the roster's, the policies') shares.
pub(crate) async fn read_file(
    bytes: Vec<u8>,
    columns: &'static [&'static str],
    required: &'static [&'static str],
) -> Result<Vec<Row>, AppError> {
    web::block(move || reader::read(&bytes, columns, required))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading an upload failed: {e}")))?
        .map_err(|e| match e {
            ReadError::MissingColumns(missing) => AppError::new(
                ErrorCode::ImportMissingColumns,
                format!("缺少必需的列：{}", missing.join(", ")),
            ),
            ReadError::UnknownColumns(unknown) => AppError::new(
                ErrorCode::ImportUnknownColumns,
                format!(
                    "无法识别的列：{}（应为 {}）",
                    unknown.join(", "),
                    columns.join(",")
                ),
            ),
            ReadError::TooLarge(why) => AppError::with_details(
                ErrorCode::ImportTooLarge,
                why,
                serde_json::json!({
                    "max_rows": reader::MAX_ROWS,
                    "max_columns": reader::MAX_COLUMNS,
                    "max_uncompressed_bytes": reader::MAX_XLSX_BYTES,
                }),
            ),
            ReadError::Unreadable(why) => AppError::new(ErrorCode::ImportUnreadable, why),
        })
}

/// A multipart form with one file: its text fields (each at most 4 KiB) and the `file` part
/// with the name the browser gave it.
#[derive(Default)]
pub(crate) struct UploadForm {
    pub fields: HashMap<String, String>,
    pub file: Option<(String, Vec<u8>)>,
}

/// What one kind of upload allows and how it refuses: the file's limit, the error for a file
/// over it, the code for a form that cannot be read.
pub(crate) struct FormRules {
    pub max_file: usize,
    pub too_large: fn() -> AppError,
    pub unreadable: ErrorCode,
}

/// A roster or policy file.
pub(crate) const ROSTER_FILE: FormRules = FormRules {
    max_file: MAX_UPLOAD,
    too_large: || AppError::PayloadTooLarge,
    unreadable: ErrorCode::ImportUnreadable,
};

/// Reads a multipart form, the file limited to `MAX_UPLOAD` bytes.
pub(crate) async fn read_form(req: &HttpRequest, payload: web::Payload) -> Result<UploadForm, AppError> {
    read_form_with(req, payload, &ROSTER_FILE).await
}

/// Reads a multipart form under `rules`. A file over the limit is refused as soon as its bytes
/// pass it: a 50 MB upload is not read to its end.
pub(crate) async fn read_form_with(
    req: &HttpRequest,
    payload: web::Payload,
    rules: &FormRules,
) -> Result<UploadForm, AppError> {
    const MAX_FIELD: usize = 4 * 1024;
    let unreadable = |why: String| AppError::new(rules.unreadable, why);
    let mut form = Multipart::new(req.headers(), payload);
    let mut read = UploadForm::default();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| unreadable(format!("表单无法解析：{e}")))?;
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let limit = if name == "file" { rules.max_file } else { MAX_FIELD };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| unreadable(format!("上传中断：{e}")))?;
            if bytes.len() + chunk.len() > limit {
                return Err(if name == "file" {
                    (rules.too_large)()
                } else {
                    AppError::PayloadTooLarge
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "file" {
            read.file = Some((file_name.unwrap_or_default(), bytes));
        } else {
            read.fields
                .insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(read)
}

/// The uploaded file: the `file` part of a multipart form, or the raw body.
pub(crate) async fn read_upload(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return read_form(req, payload)
            .await?
            .file
            .map(|(_, bytes)| bytes)
            .ok_or_else(|| AppError::new(ErrorCode::ImportUnreadable, "表单中缺少 file 字段"));
    }
    let accepted = [
        "text/csv",
        "application/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/octet-stream",
    ];
    if !accepted.iter().any(|t| content_type.starts_with(t)) {
        return Err(AppError::UnsupportedMediaType);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::new(ErrorCode::ImportUnreadable, format!("上传中断：{e}")))?;
        if bytes.len() + chunk.len() > MAX_UPLOAD {
            return Err(AppError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
