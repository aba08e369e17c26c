//! Attachments (附件): photos and documents on problems and reports.
//!
//! A file is uploaded on its own (`wx.uploadFile` sends one file per request), checked by its
//! content, cleaned if it is a photo and put in the object store; the row that says what it
//! is, written after the object, is the upload's receipt. A later request attaches uploads to
//! a problem or a report; uploads nobody attached are removed after 24 hours
//! (`jobs::prune_attachments`). Every download goes through the API with the scope of what the
//! file is attached to.

pub mod photo;
pub mod store;

use std::sync::Arc;

use actix_web::web;
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::auth::{scope, Caller};
use crate::db::models::attachment::{Attachment, Target};
use crate::db::models::daily_report::DailyReport;
use crate::db::models::problem::Problem;
use crate::domain::attachment::{self, MediaType, Refusal, MAX_BYTES, MAX_PER_TARGET};
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use store::Store;

/// The store and the turns at cleaning photos: decoding a 12-megapixel photo takes a core for
/// a fraction of a second and ~150 MB, so at most two run at once however many phones upload.
pub struct Attachments {
    pub store: Store,
    turns: Arc<Semaphore>,
}

/// A file made ready to keep.
pub struct Prepared {
    pub media_type: MediaType,
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub thumbnail: Option<Vec<u8>>,
    pub size: Option<(u32, u32)>,
}

impl Attachments {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            turns: Arc::new(Semaphore::new(2)),
        }
    }

    /// Checks the file by its content and cleans it if it is a photo (on the blocking pool).
    pub async fn prepare(&self, sent_name: String, bytes: Vec<u8>) -> Result<Prepared, AppError> {
        // A document is only looked at; a photo waits for its turn at a core.
        if attachment::sniff(&bytes).is_some_and(|t| !t.is_photo()) {
            return prepare(&sent_name, bytes);
        }
        let _turn = self
            .turns
            .acquire()
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("photo turns closed: {e}")))?;
        web::block(move || prepare(&sent_name, bytes))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("cleaning a photo failed: {e}")))?
    }

    /// Puts the file (and its thumbnail) in the store; the row to insert describes them.
    pub async fn keep(
        &self,
        uploaded_by: Uuid,
        prepared: Prepared,
        now: DateTime<Utc>,
    ) -> Result<Attachment, AppError> {
        let (row, objects) = describe(uploaded_by, prepared, now);
        for (key, bytes) in objects {
            if let Err(e) = self.store.put(&key, bytes).await {
                self.forget(&row).await;
                return Err(e);
            }
        }
        Ok(row)
    }

    /// Removes the attachment's objects (an upload whose row was never written, or one pruned).
    /// A failure is logged, not raised: the row is what counts, and the next prune retries.
    pub async fn forget(&self, row: &Attachment) {
        for key in std::iter::once(&row.object_key).chain(row.thumbnail_key.as_ref()) {
            if let Err(e) = self.store.delete(key).await {
                tracing::warn!(attachment = %row.id, key, error = %e, "could not delete an attachment's object");
            }
        }
    }
}

/// Checks the file by its content and cleans it if it is a photo (CPU work: callers off the
/// async workers).
pub fn prepare(sent_name: &str, bytes: Vec<u8>) -> Result<Prepared, AppError> {
    let media_type = attachment::classify(sent_name, &bytes).map_err(refused)?;
    let file_name = attachment::download_name(sent_name, media_type);
    if !media_type.is_photo() {
        return Ok(Prepared {
            media_type,
            file_name,
            bytes,
            thumbnail: None,
            size: None,
        });
    }
    let photo = photo::clean(media_type, &bytes).map_err(refused)?;
    Ok(Prepared {
        media_type,
        file_name,
        bytes: photo.bytes,
        thumbnail: Some(photo.thumbnail),
        size: Some((photo.width, photo.height)),
    })
}

/// The row that describes a prepared file, and the objects (key, bytes) to store for it.
pub fn describe(
    uploaded_by: Uuid,
    prepared: Prepared,
    now: DateTime<Utc>,
) -> (Attachment, Vec<(String, Vec<u8>)>) {
    let id = Uuid::new_v4();
    // Keys by month, so an operator can see (and archive) a store by age.
    let month = now.format("%Y/%m");
    let object_key = format!("attachments/{month}/{id}");
    let thumbnail_key = prepared
        .thumbnail
        .as_ref()
        .map(|_| format!("thumbnails/{month}/{id}.jpg"));
    let row = Attachment {
        id,
        uploaded_by,
        media_type: prepared.media_type,
        file_name: prepared.file_name,
        byte_size: i32::try_from(prepared.bytes.len()).unwrap_or(i32::MAX),
        sha256: hex::encode(Sha256::digest(&prepared.bytes)),
        object_key: object_key.clone(),
        thumbnail_key: thumbnail_key.clone(),
        width: prepared.size.map(|(w, _)| to_i32(w)),
        height: prepared.size.map(|(_, h)| to_i32(h)),
        uploaded_at: now,
        problem_id: None,
        report_id: None,
        attached_role: None,
        attached_at: None,
    };
    let mut objects = vec![(object_key, prepared.bytes)];
    if let (Some(key), Some(thumbnail)) = (thumbnail_key, prepared.thumbnail) {
        objects.push((key, thumbnail));
    }
    (row, objects)
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The error a refused file answers with.
fn refused(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::Empty => AppError::new(ErrorCode::AttachmentUnreadable, "文件为空"),
        Refusal::Unsupported { found } => AppError::with_details(
            ErrorCode::AttachmentUnsupportedType,
            match found {
                Some(kind) if kind.starts_with("HEIC") => {
                    "不支持 HEIC 图片，请以 JPEG 上传（选择图片时使用压缩图）".to_owned()
                }
                Some(kind) => format!("不支持{kind}，只能上传 JPEG、PNG 图片或 PDF 文档"),
                None => "只能上传 JPEG、PNG 图片或 PDF 文档".to_owned(),
            },
            json!({ "found": found, "accepted": MediaType::ALL }),
        ),
        Refusal::Mismatch { named, content } => AppError::with_details(
            ErrorCode::AttachmentTypeMismatch,
            format!("文件名表明是{}，内容却是{}", named.label(), content.label()),
            json!({ "named": named, "content": content }),
        ),
        Refusal::Unreadable(why) => AppError::new(ErrorCode::AttachmentUnreadable, why),
    }
}

/// 413 for a file over the limit.
pub fn too_large() -> AppError {
    AppError::with_details(
        ErrorCode::AttachmentTooLarge,
        format!("文件不能超过 {} MB", MAX_BYTES / 1024 / 1024),
        json!({ "max_bytes": MAX_BYTES }),
    )
}

/// Attaches the caller's uploads to the target as `role`. Each id must be an upload of the
/// caller's that is unattached or already on this target (a resend attaches nothing twice);
/// the target may then carry at most 20. All or nothing: any fault refuses the whole request.
pub fn attach(
    conn: &mut PgConnection,
    caller: &Caller,
    ids: &[Uuid],
    target: Target,
    role: Role,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let rows = Attachment::lock_all(conn, ids)?;
    let mut fresh = Vec::new();
    let mut unavailable: Vec<Uuid> = ids
        .iter()
        .filter(|id| !rows.iter().any(|row| row.id == **id))
        .copied()
        .collect();
    for row in &rows {
        match row.target() {
            _ if row.uploaded_by != caller.user_id => unavailable.push(row.id),
            None => fresh.push(row.id),
            Some(on) if on == target => {}
            Some(_) => unavailable.push(row.id),
        }
    }
    if !unavailable.is_empty() {
        unavailable.sort();
        return Err(AppError::with_details(
            ErrorCode::AttachmentUnavailable,
            "附件不存在、不是您上传的或已附在别处，请重新上传",
            json!({ "ids": unavailable }),
        ));
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let carried = Attachment::count_on(conn, target)?;
    if carried + fresh.len() as i64 > MAX_PER_TARGET {
        return Err(AppError::with_details(
            ErrorCode::AttachmentTooMany,
            format!("每个问题或日报最多{MAX_PER_TARGET}个附件，已有{carried}个"),
            json!({ "max": MAX_PER_TARGET, "attached": carried }),
        ));
    }
    Attachment::attach(conn, &fresh, target, role, now)?;
    Ok(())
}

/// Whether the caller may download the attachment: its uploader while it waits, then whoever
/// reads what it is attached to.
pub fn visible(conn: &mut PgConnection, caller: &Caller, row: &Attachment) -> Result<bool, AppError> {
    match row.target() {
        None => Ok(row.uploaded_by == caller.user_id),
        Some(Target::Problem(id)) => match Problem::find(conn, id)? {
            Some(problem) => scope::can_see_problem(conn, caller, &problem),
            None => Ok(false),
        },
        Some(Target::Report(id)) => {
            let scope = scope::record_scope(conn, caller)?;
            Ok(DailyReport::is_visible(conn, &scope, id)?)
        }
    }
}

/// The role in which the caller attaches to the problem: a department's (its response's
/// documents), the hub's, the officer's or the enterprise's, or the reporter's own. 403 for a
/// caller who reads the problem but acts on it in no role, 404 for one who does not read it;
/// 422 `attachment.target_closed` once it is closed or merged.
pub fn role_toward_problem(
    conn: &mut PgConnection,
    caller: &Caller,
    problem: &Problem,
    now: DateTime<Utc>,
) -> Result<Role, AppError> {
    let roles = scope::roles_toward_problem(conn, caller, problem, crate::clock::local_day(now))?;
    let preferred = [
        Role::Department,
        Role::Dispatcher,
        Role::Officer,
        Role::Enterprise,
    ];
    let role = preferred
        .into_iter()
        .find(|role| roles.contains(role))
        .or_else(|| (problem.reporter_id == caller.user_id).then_some(problem.reporter_role));
    let Some(role) = role else {
        return Err(if scope::can_see_problem(conn, caller, problem)? {
            AppError::new(ErrorCode::ProblemNotAllowed, "您无权为该问题添加附件")
        } else {
            AppError::NotFound
        });
    };
    if !problem.status.is_open() {
        return Err(AppError::new(
            ErrorCode::AttachmentTargetClosed,
            "该问题已办结，不能再添加附件",
        ));
    }
    Ok(role)
}
