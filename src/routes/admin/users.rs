//! Admin CRUD of users, their console passwords and their one-time WeChat invite codes.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{json_fields, patched, text_fields};
use crate::auth::scope::RegionScope;
use crate::auth::sessions;
use crate::auth::AuthAdmin;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::audit;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::refresh_token::RefreshToken;
use crate::db::models::unit::Unit;
use crate::db::models::user::{User, UserFilter};
use crate::db::models::Page;
use crate::domain::role::Role;
use crate::domain::roster::{UserRecord, USER_COLUMNS};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::roster::save::Writer;
use crate::routes::{get, patch, post, put, Endpoint, ListResponse, PageParams};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/users", web::get().to(admin_user_list)),
        post("/api/v1/admin/users", web::post().to(admin_user_create)),
        get("/api/v1/admin/users/{id}", web::get().to(admin_user_get)),
        patch("/api/v1/admin/users/{id}", web::patch().to(admin_user_update)),
        put(
            "/api/v1/admin/users/{id}/password",
            web::put().to(admin_user_password_put),
        ),
        post(
            "/api/v1/admin/users/{id}/invite",
            web::post().to(admin_user_invite_reissue),
        ),
    ]
}

#[derive(Serialize)]
struct AdminUserDto {
    id: Uuid,
    username: String,
    name: String,
    phone: Option<String>,
    roles: Vec<Role>,
    unit_id: Option<Uuid>,
    unit_code: Option<String>,
    region_code: String,
    enterprise_id: Option<Uuid>,
    enterprise_credit_code: Option<String>,
    wechat_bound: bool,
    has_password: bool,
    /// An unused invite code exists (it may have expired: see `invite_expires_at`).
    invite_pending: bool,
    invite_expires_at: Option<DateTime<FixedOffset>>,
    active: bool,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
}

/// DTOs for a batch of users, with their unit codes and credit codes in two queries.
fn dtos(conn: &mut PgConnection, users: Vec<User>) -> Result<Vec<AdminUserDto>, AppError> {
    let unit_ids: Vec<Uuid> = users.iter().filter_map(|u| u.unit_id).collect();
    let enterprise_ids: Vec<Uuid> = users.iter().filter_map(|u| u.enterprise_id).collect();
    let unit_codes = Unit::codes_by_id(conn, &unit_ids)?;
    let credit_codes = Enterprise::credit_codes_by_id(conn, &enterprise_ids)?;
    Ok(users
        .into_iter()
        .map(|u| AdminUserDto {
            roles: u.roles,
            unit_code: u.unit_id.and_then(|id| unit_codes.get(&id).cloned()),
            enterprise_credit_code: u.enterprise_id.and_then(|id| credit_codes.get(&id).cloned()),
            wechat_bound: u.wechat_openid.is_some(),
            has_password: u.password_hash.is_some(),
            invite_pending: u.invite_code_hash.is_some(),
            invite_expires_at: u.invite_expires_at.map(wire_time),
            created_at: wire_time(u.created_at),
            updated_at: wire_time(u.updated_at),
            id: u.id,
            username: u.username,
            name: u.name,
            phone: u.phone,
            unit_id: u.unit_id,
            region_code: u.region_code,
            enterprise_id: u.enterprise_id,
            active: u.active,
        })
        .collect())
}

fn dto(conn: &mut PgConnection, user: User) -> Result<AdminUserDto, AppError> {
    dtos(conn, vec![user])?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("user vanished while rendering")))
}

#[derive(Deserialize)]
struct UserQuery {
    #[serde(default, deserialize_with = "crate::routes::params::username")]
    username: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::params::text")]
    phone: Option<String>,
    role: Option<Role>,
    unit_id: Option<Uuid>,
}

async fn admin_user_list(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    query: web::Query<UserQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let UserQuery {
        username,
        phone,
        role,
        unit_id,
    } = query.into_inner();
    let (limit, cursor) = (page.limit()?, page.uuid_cursor()?);
    let filter = UserFilter {
        username,
        phone,
        role,
        unit_id,
        text: None,
    };
    let page = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        let rows = User::list_in_subtree(conn, &scope.root_path, &filter, cursor, limit)?;
        let page = Page::from_rows(rows, limit, |u| u.id.to_string());
        Ok(ListResponse {
            items: dtos(conn, page.items)?,
            next_cursor: page.next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The user, when both their region and their unit (if any) are in the admin's subtree: a
/// district admin does not manage the staff of a city unit who happen to live in the district.
pub(crate) fn visible(conn: &mut PgConnection, scope: &RegionScope, id: Uuid) -> Result<User, AppError> {
    let user = User::find(conn, id)?.ok_or(AppError::NotFound)?;
    scope.require(conn, &user.region_code)?;
    if let Some(unit) = user.unit_id {
        let unit = Unit::find(conn, unit)?.ok_or(AppError::NotFound)?;
        scope.require(conn, &unit.region_code)?;
    }
    Ok(user)
}

/// Runs an admin's write to user `id` and tells Redis the user's session generation after the
/// commit, so sessions the write ended (deactivation, new roles, a password, an invite) end
/// on every instance at once.
async fn ending_sessions(
    state: &AppState,
    id: Uuid,
    write: impl FnOnce(&mut PgConnection) -> Result<Stored, AppError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    let (stored, generation) = db::run(&state.pool, move |conn| {
        let stored = write(conn)?;
        Ok((stored, User::session_generation(conn, id)?))
    })
    .await?;
    if let Some(generation) = generation {
        sessions::publish(&state.cache, id, generation).await;
    }
    Ok(stored.into_response())
}

async fn admin_user_get(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let user = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &admin.caller)?;
        let user = visible(conn, &scope, id)?;
        dto(conn, user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Serialize)]
struct CreatedUser {
    #[serde(flatten)]
    user: AdminUserDto,
    /// Shown once: hand it to the person, who binds WeChat with it.
    invite_code: String,
}

/// Creates a user and their one-time invite code.
async fn admin_user_create(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let fields = json_fields(body.into_inner(), USER_COLUMNS)?;
    let record = UserRecord::parse(&fields).map_err(AppError::invalid)?;
    let now = state.clock.now();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let created = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                let user = writer.save_user(conn, None, &record)?.into_inner();
                let (invite_code, _) = writer.issue_invite(conn, &user, now)?;
                let user = User::find(conn, user.id)?.ok_or(AppError::NotFound)?;
                Ok(CreatedUser {
                    user: dto(conn, user)?,
                    invite_code,
                })
            })?;
            // The invite code is a secret: shown once, never kept for a replay.
            Stored::secret_json(StatusCode::CREATED, &created)
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// Edits the roster fields; `active: false` also ends every session of the user.
async fn admin_user_update(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let mut body = body.into_inner();
    let active = match body.remove("active") {
        None => None,
        Some(Value::Bool(b)) => Some(b),
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::RequestInvalidBody,
                "`active` 应为 true 或 false",
            ))
        }
    };
    let patch = json_fields(body, USER_COLUMNS)?;
    let now = state.clock.now();
    ending_sessions(&state, id, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let user = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let old = visible(conn, &scope, id)?;
                let current = current_fields(conn, &old)?;
                let record = UserRecord::parse(&patched(current, patch)).map_err(AppError::invalid)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                let mut user = writer.save_user(conn, Some(old), &record)?.into_inner();
                if let Some(active) = active.filter(|a| *a != user.active) {
                    let before = user.clone();
                    user = User::set_active(conn, user.id, active)?;
                    if !active {
                        RefreshToken::revoke_all_of_user(conn, user.id, now)?;
                    }
                    let action = if active {
                        "user.activate"
                    } else {
                        "user.deactivate"
                    };
                    audit::record(
                        conn,
                        Some(admin.caller.user_id),
                        action,
                        "user",
                        &user.id.to_string(),
                        Some(&before),
                        Some(&user),
                    )?;
                }
                dto(conn, user)
            })?;
            Stored::json(StatusCode::OK, &user)
        })
    })
    .await
}

/// A user's roster fields as the import columns hold them.
fn current_fields(conn: &mut PgConnection, user: &User) -> Result<crate::domain::roster::Fields, AppError> {
    let unit_code = match user.unit_id {
        Some(id) => Unit::find(conn, id)?.map(|u| u.code).unwrap_or_default(),
        None => String::new(),
    };
    let credit_code = match user.enterprise_id {
        Some(id) => Enterprise::find(conn, id)?
            .map(|e| e.credit_code)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(text_fields([
        ("username", user.username.clone()),
        ("name", user.name.clone()),
        ("phone", user.phone.clone().unwrap_or_default()),
        (
            "roles",
            user.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        ),
        ("unit_code", unit_code),
        ("region_code", user.region_code.clone()),
        ("enterprise_credit_code", credit_code),
    ]))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPasswordRequest {
    new_password: String,
}

/// Sets a user's console password; their sessions end.
async fn admin_user_password_put(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<SetPasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    // Hashed before the database hop: argon2 never runs while a connection is held.
    let hash = state.hasher.hash(body.into_inner().new_password).await?;
    let now = state.clock.now();
    ending_sessions(&state, id, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let scope = RegionScope::of(conn, &admin.caller)?;
            let user = visible(conn, &scope, id)?;
            User::set_password_hash(conn, user.id, &hash)?;
            RefreshToken::revoke_all_of_user(conn, user.id, now)?;
            audit::record::<(), ()>(
                conn,
                Some(admin.caller.user_id),
                "user.password_set",
                "user",
                &user.id.to_string(),
                None,
                None,
            )?;
            Ok(Stored::empty(StatusCode::NO_CONTENT))
        })
    })
    .await
}

#[derive(Serialize)]
struct InviteResponse {
    username: String,
    invite_code: String,
    expires_at: DateTime<FixedOffset>,
}

/// Issues a fresh invite code (the old one stops working), e.g. when it expired or the
/// person changed phones.
async fn admin_user_invite_reissue(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let now = state.clock.now();
    ending_sessions(&state, id, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let invite = conn.transaction::<_, AppError, _>(|conn| {
                let scope = RegionScope::of(conn, &admin.caller)?;
                let user = visible(conn, &scope, id)?;
                let writer = Writer {
                    actor: admin.caller.user_id,
                    scope: &scope,
                };
                let (invite_code, expires_at) = writer.issue_invite(conn, &user, now)?;
                Ok(InviteResponse {
                    username: user.username,
                    invite_code,
                    expires_at: wire_time(expires_at),
                })
            })?;
            Stored::secret_json(StatusCode::OK, &invite)
        })
    })
    .await
}
