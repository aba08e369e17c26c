//! The signed-in user's notifications: the inbox, what they accepted in the mini-program's
//! subscription dialog, and the kinds they muted. Each user reaches only their own.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{get, post, put, Endpoint, ListResponse, PageParams};
use crate::auth::AuthUser;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::notification::Notification;
use crate::db::models::notification_template::Template;
use crate::db::models::subscription::Credit;
use crate::db::models::user::User;
use crate::domain::field_error::{FieldCode, FieldError};
use crate::domain::notification::NotificationKind;
use crate::error::AppError;
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/me/notifications", web::get().to(me_notification_list)),
        post(
            "/api/v1/me/notifications/{id}/read",
            web::post().to(me_notification_read),
        ),
        post(
            "/api/v1/me/notifications/read-all",
            web::post().to(me_notification_read_all),
        ),
        post("/api/v1/me/subscriptions", web::post().to(me_subscriptions_post)),
        get(
            "/api/v1/me/notification-settings",
            web::get().to(me_notification_settings_get),
        ),
        put(
            "/api/v1/me/notification-settings",
            web::put().to(me_notification_settings_put),
        ),
    ]
}

#[derive(Serialize)]
struct NotificationDto {
    id: Uuid,
    kind: NotificationKind,
    title: String,
    body: String,
    link: Option<serde_json::Value>,
    created_at: DateTime<FixedOffset>,
    read_at: Option<DateTime<FixedOffset>>,
}

impl From<Notification> for NotificationDto {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            link: n.link,
            created_at: wire_time(n.created_at),
            read_at: n.read_at.map(wire_time),
        }
    }
}

#[derive(Deserialize)]
struct InboxParams {
    limit: Option<i64>,
    cursor: Option<String>,
    /// Only the unread ones.
    #[serde(default)]
    unread: bool,
}

/// The caller's inbox, newest first.
async fn me_notification_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    params: web::Query<InboxParams>,
) -> Result<HttpResponse, AppError> {
    let InboxParams {
        limit,
        cursor,
        unread,
    } = params.into_inner();
    let page = PageParams { limit, cursor };
    let (limit, after) = (page.limit()?, page.time_cursor()?);
    let page = db::run(&state.pool, move |conn| {
        Ok(Notification::page(conn, caller.user_id, unread, after, limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page.map(NotificationDto::from))))
}

/// Marks one of the caller's notifications read (a second call changes nothing); another
/// user's is 404.
async fn me_notification_read(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let read = db::run(&state.pool, move |conn| {
        Notification::mark_read(conn, caller.user_id, id, now)?.ok_or(AppError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(NotificationDto::from(read)))
}

#[derive(Serialize)]
struct Marked {
    marked: usize,
}

/// Marks every unread notification of the caller read.
async fn me_notification_read_all(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let marked = db::run(&state.pool, move |conn| {
        Ok(Notification::mark_all_read(conn, caller.user_id, now)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Marked { marked }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscriptionResults {
    /// What `wx.requestSubscribeMessage` answered, template by template.
    results: Vec<SubscriptionResult>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscriptionResult {
    template_id: String,
    accepted: bool,
}

#[derive(Serialize)]
struct CreditDto {
    template_id: String,
    /// Messages of this template the user may still be sent.
    remaining: i32,
}

#[derive(Serialize)]
struct Credits {
    items: Vec<CreditDto>,
}

/// What the user accepted in the mini-program's subscription dialog: each acceptance allows
/// one message of its template; a rejection allows none. With an `Idempotency-Key`, a repeat
/// counts once.
async fn me_subscriptions_post(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    body: web::Json<SubscriptionResults>,
) -> Result<HttpResponse, AppError> {
    let results = body.into_inner().results;
    if results.is_empty() || results.len() > 20 {
        return Err(AppError::invalid_field(
            "results",
            FieldCode::OutOfRange,
            "应有1–20项",
        ));
    }
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let known = Template::known_ids(conn)?;
            let errors: Vec<FieldError> = results
                .iter()
                .enumerate()
                .filter(|(_, r)| !known.contains(&r.template_id))
                .map(|(i, _)| {
                    FieldError::new(
                        &format!("results[{i}].template_id"),
                        FieldCode::Unknown,
                        "不是本系统配置的订阅消息模板",
                    )
                })
                .collect();
            if !errors.is_empty() {
                return Err(AppError::invalid(errors));
            }
            let accepted: Vec<String> = results
                .into_iter()
                .filter(|r| r.accepted)
                .map(|r| r.template_id)
                .collect();
            Credit::accept(conn, caller.user_id, &accepted, now)?;
            let items = Credit::of_user(conn, caller.user_id)?
                .into_iter()
                .map(|c| CreditDto {
                    template_id: c.template_id,
                    remaining: c.remaining,
                })
                .collect();
            Stored::json(StatusCode::OK, &Credits { items })
        })
    })
    .await?;
    Ok(stored.into_response())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationSettings {
    /// Kinds not pushed to this user (they still land in the inbox). Mandatory kinds cannot be
    /// muted.
    muted_kinds: Vec<NotificationKind>,
}

async fn me_notification_settings_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, AppError> {
    let muted = db::run(&state.pool, move |conn| {
        Ok(User::muted_kinds(conn, caller.user_id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(NotificationSettings {
        muted_kinds: muted.iter().filter_map(|k| k.parse().ok()).collect(),
    }))
}

/// Replaces the kinds the caller muted.
async fn me_notification_settings_put(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    body: web::Json<NotificationSettings>,
) -> Result<HttpResponse, AppError> {
    let mut muted = body.into_inner().muted_kinds;
    let errors: Vec<FieldError> = muted
        .iter()
        .enumerate()
        .filter(|(_, k)| k.mandatory())
        .map(|(i, k)| {
            FieldError::new(
                &format!("muted_kinds[{i}]"),
                FieldCode::Invalid,
                format!("“{}”是必须送达的通知，不能关闭", k.label()),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    muted.sort_by_key(|k| k.as_str());
    muted.dedup();
    let words: Vec<String> = muted.iter().map(|k| k.as_str().to_owned()).collect();
    db::run(&state.pool, move |conn| {
        Ok(User::set_muted_kinds(conn, caller.user_id, &words)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(NotificationSettings { muted_kinds: muted }))
}
