//! 附件: upload a photo or a document (`POST /attachments`, one file per request as
//! `wx.uploadFile` sends it), attach uploads to a problem or a daily report, list them, and
//! download a file or its thumbnail with the scope of what it is attached to. The work is in
//! `attachments`; these handlers parse, pick the one database hop and answer.

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, EntityTag, ExtendedValue,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::admin::import::{read_form_with, FormRules};
use super::daily_reports::{known_day, visible_report, ReportQuery};
use super::{get, post, Endpoint};
use crate::attachments::{self, too_large};
use crate::auth::{scope, AuthUser};
use crate::clock::wire_time;
use crate::db;
use crate::db::models::attachment::{Attachment, Target};
use crate::db::models::daily_report::DailyReport;
use crate::db::models::problem::Problem;
use crate::domain::attachment::{MediaType, MAX_BYTES, MAX_PENDING, MAX_PER_REQUEST};
use crate::domain::daily_report;
use crate::domain::field_error::FieldCode;
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/attachments", web::post().to(attachment_upload)),
        get("/api/v1/attachments/{id}", web::get().to(attachment_get)),
        get(
            "/api/v1/attachments/{id}/thumbnail",
            web::get().to(attachment_thumbnail_get),
        ),
        get(
            "/api/v1/problems/{id}/attachments",
            web::get().to(problem_attachments_list),
        ),
        post(
            "/api/v1/problems/{id}/attachments",
            web::post().to(problem_attachments_add),
        ),
        get(
            "/api/v1/daily-reports/{enterprise_id}/{day}/attachments",
            web::get().to(report_attachments_list),
        ),
        post(
            "/api/v1/daily-reports/{enterprise_id}/{day}/attachments",
            web::post().to(report_attachments_add),
        ),
    ]
}

/// An attachment's file: 10 MiB, refused with `attachment.too_large` once past it.
const ATTACHMENT_FILE: FormRules = FormRules {
    max_file: MAX_BYTES,
    too_large,
    unreadable: ErrorCode::AttachmentUnreadable,
};

#[derive(Serialize)]
struct AttachmentDto {
    id: Uuid,
    media_type: MediaType,
    file_name: String,
    byte_size: i32,
    sha256: String,
    width: Option<i32>,
    height: Option<i32>,
    /// Where to download it (through the API, with a token).
    url: String,
    /// A JPEG of at most 320 pixels a side, for photos.
    thumbnail_url: Option<String>,
    uploaded_by: Uuid,
    /// The uploader's name, in the lists of a problem or report.
    #[serde(skip_serializing_if = "Option::is_none")]
    uploaded_by_name: Option<String>,
    uploaded_at: DateTime<FixedOffset>,
    attached_role: Option<Role>,
    attached_at: Option<DateTime<FixedOffset>>,
}

impl AttachmentDto {
    fn of(row: Attachment, uploader_name: Option<String>) -> Self {
        Self {
            url: format!("/api/v1/attachments/{}", row.id),
            thumbnail_url: row
                .thumbnail_key
                .as_ref()
                .map(|_| format!("/api/v1/attachments/{}/thumbnail", row.id)),
            id: row.id,
            media_type: row.media_type,
            file_name: row.file_name,
            byte_size: row.byte_size,
            sha256: row.sha256,
            width: row.width,
            height: row.height,
            uploaded_by: row.uploaded_by,
            uploaded_by_name: uploader_name,
            uploaded_at: wire_time(row.uploaded_at),
            attached_role: row.attached_role,
            attached_at: row.attached_at.map(wire_time),
        }
    }
}

/// The attachments of a problem or report: at most 20, so one page.
#[derive(Serialize)]
struct AttachmentList {
    items: Vec<AttachmentDto>,
}

fn listed(conn: &mut PgConnection, target: Target) -> Result<AttachmentList, AppError> {
    let items = Attachment::on(conn, target)?
        .into_iter()
        .map(|(row, name)| AttachmentDto::of(row, Some(name)))
        .collect();
    Ok(AttachmentList { items })
}

/// The `file` part of a multipart form, with the name the phone gave it.
async fn read_file(req: &HttpRequest, payload: web::Payload) -> Result<(String, Vec<u8>), AppError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return Err(AppError::UnsupportedMediaType);
    }
    read_form_with(req, payload, &ATTACHMENT_FILE)
        .await?
        .file
        .ok_or_else(|| AppError::new(ErrorCode::AttachmentUnreadable, "表单中缺少 file 字段"))
}

/// Uploads one file (multipart, the part named `file`). With an `Idempotency-Key` a resend
/// answers as the first upload did, without keeping the file twice. Two database hops: the
/// file is read, cleaned and stored between them, holding no connection.
async fn attachment_upload(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (user, now, earlier_key) = (caller.user_id, state.clock.now(), idempotency.clone());
    let (earlier, pending) = db::run(&state.pool, move |conn| {
        let earlier = idempotency::earlier_answer(conn, &earlier_key)?;
        Ok((earlier, Attachment::pending_of(conn, user)?))
    })
    .await?;
    if let Some(stored) = earlier {
        return Ok(stored.into_response());
    }
    if pending >= MAX_PENDING {
        return Err(AppError::with_details(
            ErrorCode::AttachmentTooManyPending,
            format!("您有{pending}个尚未使用的上传文件，请先提交或稍后再试"),
            serde_json::json!({ "max_pending": MAX_PENDING }),
        ));
    }
    let (name, bytes) = read_file(&req, payload).await?;
    let prepared = state.attachments.prepare(name, bytes).await?;
    let row = state.attachments.keep(user, prepared, now).await?;
    let kept = row.clone();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            kept.insert(conn)?;
            Stored::json(StatusCode::CREATED, &AttachmentDto::of(kept, None))
        })
    })
    .await;
    // The objects stay only with their row: a failed insert or a concurrent resend's replay
    // leaves them to nobody.
    if !matches!(&stored, Ok(s) if !s.replayed) {
        state.attachments.forget(&row).await;
    }
    Ok(stored?.into_response())
}

/// Which bytes of an attachment to send.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    File,
    Thumbnail,
}

async fn attachment_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    serve(&state, caller, id.into_inner(), &req, Variant::File).await
}

async fn attachment_thumbnail_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    serve(&state, caller, id.into_inner(), &req, Variant::Thumbnail).await
}

/// Sends the file or its thumbnail to a caller who may read it (404 to anyone else, as for
/// what it is attached to). Files never change, so the ETag is their hash and a phone that
/// has one answers with 304.
async fn serve(
    state: &AppState,
    caller: crate::auth::Caller,
    id: Uuid,
    req: &HttpRequest,
    variant: Variant,
) -> Result<HttpResponse, AppError> {
    let row = db::run(&state.pool, move |conn| {
        let row = Attachment::find(conn, id)?.ok_or(AppError::NotFound)?;
        if !attachments::visible(conn, &caller, &row)? {
            return Err(AppError::NotFound);
        }
        Ok(row)
    })
    .await?;
    let (key, media_type, tag, length) = match variant {
        Variant::File => (
            row.object_key.clone(),
            row.media_type,
            row.sha256.clone(),
            row.byte_size,
        ),
        Variant::Thumbnail => {
            let key = row.thumbnail_key.clone().ok_or(AppError::NotFound)?;
            (key, MediaType::Jpeg, format!("{}-thumbnail", row.sha256), 0)
        }
    };
    let etag = EntityTag::new_strong(tag);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == etag.to_string() || t.trim() == "*")
        });
    let mut response = HttpResponse::build(StatusCode::OK);
    response
        .insert_header(header::ETag(etag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        // A PDF or an image opened in a browser runs nothing and loads nothing.
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if unchanged {
        return Ok(response.status(StatusCode::NOT_MODIFIED).finish());
    }
    let Some(stream) = state.attachments.store.get(&key).await? else {
        tracing::error!(attachment = %row.id, key, "an attachment's object is missing from the store");
        return Err(AppError::NotFound);
    };
    let name = match variant {
        Variant::File => row.file_name,
        Variant::Thumbnail => format!("{}-缩略图.jpg", row.id),
    };
    response
        .content_type(media_type.as_str())
        .insert_header(ContentDisposition {
            disposition: DispositionType::Inline,
            parameters: vec![DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: name.into_bytes(),
            })],
        });
    if variant == Variant::File {
        response.no_chunking(u64::try_from(length).unwrap_or_default());
    }
    Ok(response.streaming(stream))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachRequest {
    attachment_ids: Vec<Uuid>,
}

impl AttachRequest {
    /// 1 to 9 distinct ids.
    fn ids(self) -> Result<Vec<Uuid>, AppError> {
        let ids = self.attachment_ids;
        if ids.is_empty() {
            return Err(AppError::invalid_field(
                "attachment_ids",
                FieldCode::Required,
                "至少一个附件",
            ));
        }
        if ids.len() > MAX_PER_REQUEST {
            return Err(AppError::invalid_field(
                "attachment_ids",
                FieldCode::TooMany,
                format!("一次最多{MAX_PER_REQUEST}个附件"),
            ));
        }
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != ids.len() {
            return Err(AppError::invalid_field(
                "attachment_ids",
                FieldCode::Duplicate,
                "附件重复",
            ));
        }
        Ok(ids)
    }
}

/// Attaches the caller's uploads to the problem; answers with all its attachments.
async fn problem_attachments_add(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<AttachRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, ids, now) = (id.into_inner(), body.into_inner().ids()?, state.clock.now());
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            // Locked, so two requests cannot both stay under the limit and pass it together.
            let problem = Problem::lock(conn, id)?.ok_or(AppError::NotFound)?;
            let role = attachments::role_toward_problem(conn, &caller, &problem, now)?;
            attachments::attach(conn, &caller, &ids, Target::Problem(id), role, now)?;
            Stored::json(StatusCode::OK, &listed(conn, Target::Problem(id))?)
        })
    })
    .await?;
    Ok(stored.into_response())
}

async fn problem_attachments_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let list = db::run(&state.pool, move |conn| {
        let problem = Problem::find(conn, id)?.ok_or(AppError::NotFound)?;
        if !scope::can_see_problem(conn, &caller, &problem)? {
            return Err(AppError::NotFound);
        }
        listed(conn, Target::Problem(id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Attaches the caller's uploads to their own report of the day, while it may be revised.
async fn report_attachments_add(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    path: web::Path<(Uuid, NaiveDate)>,
    body: web::Json<AttachRequest>,
) -> Result<HttpResponse, AppError> {
    let ((enterprise_id, day), ids, now) = (path.into_inner(), body.into_inner().ids()?, state.clock.now());
    let day = known_day(day)?;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let report = DailyReport::find_for_update(conn, caller.user_id, enterprise_id, day)?
                .ok_or(AppError::NotFound)?;
            if !daily_report::is_open(now, day) {
                return Err(AppError::new(
                    ErrorCode::AttachmentTargetClosed,
                    "该日报已截止修改，不能再添加附件",
                ));
            }
            let target = Target::Report(report.id);
            attachments::attach(conn, &caller, &ids, target, Role::Officer, now)?;
            Stored::json(StatusCode::OK, &listed(conn, target)?)
        })
    })
    .await?;
    Ok(stored.into_response())
}

async fn report_attachments_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<(Uuid, NaiveDate)>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let (enterprise_id, day) = path.into_inner();
    let (day, query) = (known_day(day)?, query.into_inner());
    let list = db::run(&state.pool, move |conn| {
        let report = visible_report(conn, &caller, enterprise_id, day, &query)?;
        listed(conn, Target::Report(report.id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}
