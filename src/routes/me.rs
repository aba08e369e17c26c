//! The signed-in user: who they are, what they look after, and their own password.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::daily_reports::{draft_of, DraftDto};
use super::enterprises::EnterpriseDto;
use super::{get, put, Endpoint};
use crate::auth::extractors::AuthOfficer;
use crate::auth::secrets::sha256_hex_bytes;
use crate::auth::AuthUser;
use crate::auth::{session, sessions};
use crate::cache::limiter::within_budgets;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::audit;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::daily_report::DailyReport;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::notification::Notification;
use crate::db::models::refresh_token::RefreshToken;
use crate::db::models::region::Region;
use crate::db::models::sign_in::SignIn;
use crate::db::models::unit::Unit;
use crate::db::models::user::User;
use crate::domain::daily_report;
use crate::domain::role::Role;
use crate::domain::unit_kind::UnitKind;
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/me", web::get().to(me_get)),
        put("/api/v1/me/password", web::put().to(me_password_put)),
        get("/api/v1/me/enterprises", web::get().to(me_enterprises_list)),
        get("/api/v1/me/today", web::get().to(me_today)),
    ]
}

/// The user as login responses describe them.
#[derive(Debug, Serialize)]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub region_code: String,
    pub unit_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
}

impl From<&User> for UserSummary {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            name: u.name.clone(),
            roles: u.roles.clone(),
            region_code: u.region_code.clone(),
            unit_id: u.unit_id,
            enterprise_id: u.enterprise_id,
        }
    }
}

#[derive(Serialize)]
struct UnitRef {
    id: Uuid,
    code: String,
    name: String,
    kind: UnitKind,
}

#[derive(Serialize)]
struct RegionRef {
    code: String,
    name: String,
}

#[derive(Serialize)]
struct MeResponse {
    #[serde(flatten)]
    user: UserSummary,
    phone: Option<String>,
    wechat_bound: bool,
    has_password: bool,
    region: Option<RegionRef>,
    unit: Option<UnitRef>,
    /// The enterprise an enterprise contact speaks for.
    enterprise: Option<EnterpriseDto>,
    /// For officers: the enterprises assigned to them today.
    assigned_enterprises: Vec<EnterpriseDto>,
    /// Unread entries of the inbox (`GET /me/notifications?unread=true`).
    unread_notifications: i64,
    created_at: DateTime<FixedOffset>,
}

/// The caller's profile, unit, region and (officers) today's enterprises.
async fn me_get(state: web::Data<AppState>, AuthUser(caller): AuthUser) -> Result<HttpResponse, AppError> {
    let today = state.clock.today();
    let me = db::run(&state.pool, move |conn| {
        let user = User::find(conn, caller.user_id)?.ok_or(AppError::NotFound)?;
        let region = Region::find(conn, &user.region_code)?;
        let unit = user.unit_id.map(|id| Unit::find(conn, id)).transpose()?.flatten();
        let enterprise = user
            .enterprise_id
            .map(|id| Enterprise::find(conn, id))
            .transpose()?
            .flatten();
        let assigned = if caller.has(Role::Officer) {
            Enterprise::assigned_to(conn, user.id, today)?
        } else {
            Vec::new()
        };
        Ok(MeResponse {
            user: UserSummary::from(&user),
            phone: user.phone.clone(),
            wechat_bound: user.wechat_openid.is_some(),
            has_password: user.password_hash.is_some(),
            region: region.map(|r| RegionRef {
                code: r.code,
                name: r.name,
            }),
            unit: unit.map(|u| UnitRef {
                id: u.id,
                code: u.code,
                name: u.name,
                kind: u.kind,
            }),
            enterprise: enterprise.map(EnterpriseDto::from),
            assigned_enterprises: assigned.into_iter().map(EnterpriseDto::from).collect(),
            unread_notifications: Notification::unread_count(conn, user.id)?,
            created_at: wire_time(user.created_at),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(me))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePasswordRequest {
    old_password: Option<String>,
    new_password: String,
}

/// Sets or changes the caller's console password. The old one is required when there is
/// one; wrong ones spend the same budget as wrong logins. Every other session ends; the
/// response is a fresh token pair for this one (never stored for a replay: it is a secret).
async fn me_password_put(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let ChangePasswordRequest {
        old_password,
        new_password,
    } = body.into_inner();
    let account = format!("password_change|{}", caller.user_id);
    let change = replace_password(&state, caller.user_id, idempotency, old_password, new_password);
    let stored = within_budgets(
        &[(&state.login_failures, &account)],
        ErrorCode::PasswordOldMismatch,
        change,
    )
    .await?;
    Ok(stored.into_response())
}

/// Checks the old password and hashes the new one between two database hops, holding no
/// connection while argon2 runs; the second hop writes only if the hash it checked is still
/// the stored one.
async fn replace_password(
    state: &web::Data<AppState>,
    user_id: Uuid,
    idempotency: Idempotency,
    old_password: Option<String>,
    new_password: String,
) -> Result<Stored, AppError> {
    let key = idempotency.clone();
    let (user, earlier) = db::run(&state.pool, move |conn| {
        let user = User::find(conn, user_id)?.ok_or(AppError::NotFound)?;
        Ok((user, idempotency::earlier_answer(conn, &key)?))
    })
    .await?;
    if let Some(earlier) = earlier {
        return Ok(earlier);
    }
    if !user.active {
        return Err(AppError::new(
            ErrorCode::AuthUserDisabled,
            "账号已停用，请联系管理员 (account disabled)",
        ));
    }
    if let Some(stored) = user.password_hash.clone() {
        if !state
            .hasher
            .verify(old_password.unwrap_or_default(), Some(stored))
            .await?
        {
            return Err(AppError::new(
                ErrorCode::PasswordOldMismatch,
                "原密码不正确 (old password does not match)",
            ));
        }
    }
    let hash = state.hasher.hash(new_password).await?;
    let app = state.clone();
    let now = state.clock.now();
    let (stored, issued) = db::run(&state.pool, move |conn| {
        let mut issued = None;
        let stored = idempotency::within(conn, &idempotency, now, |conn| {
            let Some(user) =
                User::replace_password_hash(conn, user.id, user.password_hash.as_deref(), &hash)?
            else {
                return Err(AppError::new(
                    ErrorCode::PasswordChangedMeanwhile,
                    "密码刚被修改过，请重新输入原密码 (the password changed meanwhile)",
                ));
            };
            RefreshToken::revoke_all_of_user(conn, user.id, now)?;
            audit::record::<(), ()>(
                conn,
                Some(user.id),
                "user.password_changed",
                "user",
                &user.id.to_string(),
                None,
                None,
            )?;
            let tokens = session::start(conn, &app.jwt, &app.clock, &user)?;
            issued = Some((tokens.user_id, tokens.generation));
            Stored::secret_json(StatusCode::OK, &tokens)
        })?;
        Ok((stored, issued))
    })
    .await?;
    // The new generation ends every earlier session of the user at once.
    if let Some((user, generation)) = issued {
        sessions::publish(&state.cache, user, generation).await;
    }
    Ok(stored)
}

#[derive(Serialize)]
struct TodaysSignIn {
    id: Uuid,
    signed_at: DateTime<FixedOffset>,
    within_geofence: bool,
}

#[derive(Serialize)]
struct TodaysReport {
    id: Uuid,
    revision: i32,
    updated_at: DateTime<FixedOffset>,
}

#[derive(Serialize)]
struct MyEnterprise {
    #[serde(flatten)]
    enterprise: EnterpriseDto,
    /// Today's sign-in there, if any.
    sign_in: Option<TodaysSignIn>,
    /// Today's report there, if any.
    report: Option<TodaysReport>,
}

#[derive(Serialize)]
struct MyEnterprisesResponse {
    day: chrono::NaiveDate,
    items: Vec<MyEnterprise>,
}

impl TodaysSignIn {
    /// The officer's sign-in at the enterprise on `day`, if any.
    fn of(
        conn: &mut diesel::PgConnection,
        officer_id: Uuid,
        enterprise_id: Uuid,
        day: chrono::NaiveDate,
    ) -> Result<Option<TodaysSignIn>, AppError> {
        Ok(
            SignIn::find_for_day(conn, officer_id, enterprise_id, day)?.map(|s| TodaysSignIn {
                id: s.id,
                signed_at: wire_time(s.signed_at),
                within_geofence: s.within_geofence,
            }),
        )
    }
}

/// The officer's enterprises today, each with today's sign-in and report state: the phone's
/// home screen.
async fn me_enterprises_list(
    state: web::Data<AppState>,
    officer: AuthOfficer,
) -> Result<HttpResponse, AppError> {
    let today = state.clock.today();
    let officer_id = officer.caller.user_id;
    let items = db::run(&state.pool, move |conn| {
        let mut items = Vec::new();
        for enterprise in Enterprise::assigned_to(conn, officer_id, today)? {
            let sign_in = TodaysSignIn::of(conn, officer_id, enterprise.id, today)?;
            let report = DailyReport::find(conn, officer_id, enterprise.id, today)?.map(|r| TodaysReport {
                id: r.id,
                revision: r.revision,
                updated_at: wire_time(r.updated_at),
            });
            items.push(MyEnterprise {
                enterprise: EnterpriseDto::from(enterprise),
                sign_in,
                report,
            });
        }
        Ok(items)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MyEnterprisesResponse { day: today, items }))
}

/// Where today's report on an enterprise stands (`TodaysReportState`).
#[derive(Serialize)]
struct TodaysReportState {
    state: &'static str,
    id: Option<Uuid>,
    revision: Option<i32>,
    updated_at: Option<DateTime<FixedOffset>>,
    open: bool,
    closes_at: DateTime<FixedOffset>,
}

#[derive(Serialize)]
struct TodayEnterprise {
    #[serde(flatten)]
    enterprise: EnterpriseDto,
    sign_in: Option<TodaysSignIn>,
    report: TodaysReportState,
    draft: DraftDto,
}

#[derive(Serialize)]
struct MeToday {
    day: chrono::NaiveDate,
    working_day: bool,
    unread_notifications: i64,
    items: Vec<TodayEnterprise>,
}

/// The officer's home screen in one answer, with an `ETag` so an unchanged screen costs a 304:
/// the morning is refresh, today, sign-in, report.
async fn me_today(
    state: web::Data<AppState>,
    officer: AuthOfficer,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (now, today) = (state.clock.now(), state.clock.today());
    let officer_id = officer.caller.user_id;
    let open = daily_report::is_open(now, today);
    let closes_at = wire_time(daily_report::closes_at(today));
    let answer = db::run(&state.pool, move |conn| {
        let mut items = Vec::new();
        for enterprise in Enterprise::assigned_to(conn, officer_id, today)? {
            let sign_in = TodaysSignIn::of(conn, officer_id, enterprise.id, today)?;
            let draft = draft_of(conn, officer_id, enterprise.id, today, open)?;
            let report = TodaysReportState {
                state: match (draft.revision, draft.prefilled()) {
                    (Some(_), _) => "filed",
                    (None, true) => "prefilled",
                    (None, false) => "none",
                },
                id: draft.report_id,
                revision: draft.revision,
                updated_at: draft.updated_at.map(wire_time),
                open,
                closes_at,
            };
            items.push(TodayEnterprise {
                enterprise: EnterpriseDto::from(enterprise),
                sign_in,
                report,
                draft,
            });
        }
        Ok(MeToday {
            day: today,
            working_day: CalendarYear::is_working_day(conn, today)?,
            unread_notifications: Notification::unread_count(conn, officer_id)?,
            items,
        })
    })
    .await?;
    let body = serde_json::to_vec(&answer).map_err(|e| AppError::Internal(e.into()))?;
    // Weak: the same content is sent gzipped or not, and either is the same screen.
    let etag = format!("W/\"{}\"", &sha256_hex_bytes(&body)[..16]);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| {
            sent.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == &etag[2..] || tag == "*")
        });
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    if unchanged {
        return Ok(response.finish());
    }
    response
        .content_type("application/json")
        .insert_header((header::VARY, "Accept-Encoding"));
    if !accepts_gzip(&req) {
        return Ok(response.body(body));
    }
    Ok(response
        .insert_header((header::CONTENT_ENCODING, "gzip"))
        .body(gzip(&body)?))
}

/// Whether the request accepts gzip (`wx.request` sends `Accept-Encoding: gzip, deflate, br`).
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The home screen gzipped at the default level: about a fifth smaller than the fastest level
/// actix's `Compress` uses, for a few tens of microseconds on an answer of a few kilobytes —
/// the largest answer of the officer's morning, on a phone's weak network.
fn gzip(body: &[u8]) -> Result<Vec<u8>, AppError> {
    use std::io::Write;
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::default());
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(|e| AppError::Internal(e.into()))
}
