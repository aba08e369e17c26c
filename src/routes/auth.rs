//! Sign-in: WeChat login and the one-time bind, console password login, refresh rotation and
//! logout.

use actix_web::{web, HttpResponse};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};

use super::me::UserSummary;
use super::{post, Endpoint};
use crate::auth::client_ip::ClientIp;
use crate::auth::jwt::{TokenError, BIND_TTL};
use crate::auth::login;
use crate::auth::secrets;
use crate::auth::session::{self, TokenPair};
use crate::auth::sessions;
use crate::cache::limiter::within_budgets;
use crate::db;
use crate::db::models::audit;
use crate::db::models::refresh_token::RefreshToken;
use crate::db::models::user::User;
use crate::domain::field_error::{FieldCode, FieldError};
use crate::domain::phone::Phone;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/auth/wechat/login", web::post().to(auth_wechat_login)),
        post("/api/v1/auth/wechat/bind", web::post().to(auth_wechat_bind)),
        post("/api/v1/auth/login", web::post().to(auth_password_login)),
        post("/api/v1/auth/refresh", web::post().to(auth_refresh)),
        post("/api/v1/auth/logout", web::post().to(auth_logout)),
    ]
}

/// A successful sign-in: the token pair and who it is for.
#[derive(Serialize)]
pub struct SessionResponse {
    pub bind_required: bool,
    #[serde(flatten)]
    pub tokens: TokenPair,
    pub user: UserSummary,
}

#[derive(Serialize)]
struct BindRequiredResponse {
    bind_required: bool,
    bind_token: String,
    /// Seconds the bind token stays valid.
    expires_in: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeChatLoginRequest {
    code: String,
}

fn required<'a>(field: &'static str, value: &'a str, max: usize) -> Result<&'a str, AppError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        let (code, message) = if value.is_empty() {
            (FieldCode::Required, "不能为空".to_owned())
        } else {
            (FieldCode::TooLong, format!("不能超过 {max} 个字符"))
        };
        return Err(AppError::with_field_errors(
            ErrorCode::RequestFieldInvalid,
            format!("{field} {message}"),
            vec![FieldError::new(field, code, message)],
        ));
    }
    Ok(value)
}

/// The 200 of every successful sign-in, once Redis knows the session generation its token
/// carries (a rebind may just have ended the user's other sessions).
async fn signed_in(state: &AppState, user: &User, tokens: TokenPair) -> HttpResponse {
    sessions::publish(&state.cache, tokens.user_id, tokens.generation).await;
    HttpResponse::Ok().json(SessionResponse {
        bind_required: false,
        tokens,
        user: UserSummary::from(user),
    })
}

/// Opens a session for an active `user` and records how they signed in, in one transaction.
fn open_session(
    conn: &mut PgConnection,
    app: &AppState,
    user: &User,
    how: &str,
) -> Result<TokenPair, AppError> {
    if !user.active {
        return Err(inactive());
    }
    conn.transaction(|conn| {
        let tokens = session::start(conn, &app.jwt, &app.clock, user)?;
        audit::record::<(), ()>(conn, Some(user.id), how, "user", &user.id.to_string(), None, None)?;
        Ok(tokens)
    })
}

fn inactive() -> AppError {
    AppError::new(
        ErrorCode::AuthUserDisabled,
        "账号已停用，请联系管理员 (account disabled)",
    )
}

/// `wx.login` code → tokens for a bound user, or a short-lived bind token for a new one.
/// Codes WeChat refuses spend the client address's budget of failed sign-ins.
async fn auth_wechat_login(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: web::Json<WeChatLoginRequest>,
) -> Result<HttpResponse, AppError> {
    let code = required("code", &body.code, 128)?;
    let ip = ip.to_string();
    let session = within_budgets(
        &[(&state.ip_failures, &ip)],
        ErrorCode::WechatCodeInvalid,
        async { Ok(state.wechat.code2session(code).await?) },
    )
    .await?;
    let openid = session.openid.clone();
    let app = state.clone();
    let bound = db::run(&state.pool, move |conn| {
        let Some(user) = User::find_by_openid(conn, &openid)? else {
            return Ok(None);
        };
        let tokens = open_session(conn, &app, &user, "auth.wechat_login")?;
        Ok(Some((user, tokens)))
    })
    .await?;
    Ok(match bound {
        Some((user, tokens)) => signed_in(&state, &user, tokens).await,
        None => HttpResponse::Ok().json(BindRequiredResponse {
            bind_required: true,
            bind_token: state.jwt.issue_bind(&state.clock, &session.openid),
            expires_in: BIND_TTL.num_seconds(),
        }),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BindRequest {
    bind_token: String,
    phone: String,
    invite_code: String,
}

/// Binds the WeChat identity of a bind token to the rostered user with this phone and invite
/// code, consuming the code. A retry after success signs in again instead of failing. A user
/// who was bound before is re-bound: the admin's fresh invite code is the authority for that.
/// Wrong codes spend the phone's budget and the client address's.
async fn auth_wechat_bind(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: web::Json<BindRequest>,
) -> Result<HttpResponse, AppError> {
    let BindRequest {
        bind_token,
        phone,
        invite_code,
    } = body.into_inner();
    let openid = state
        .jwt
        .verify_bind(&state.clock, bind_token.trim())
        .map_err(|e| match e {
            TokenError::Expired => AppError::new(
                ErrorCode::AuthBindTokenExpired,
                "绑定已超时，请重新登录 (bind token expired)",
            ),
            TokenError::Invalid => AppError::new(
                ErrorCode::AuthBindTokenInvalid,
                "绑定凭证无效 (bind token invalid)",
            ),
        })?;
    let phone = Phone::parse(&phone).ok_or_else(|| {
        AppError::with_field_errors(
            ErrorCode::BindPhoneInvalid,
            "手机号格式不正确",
            vec![FieldError::new("phone", FieldCode::Invalid, "手机号格式不正确")],
        )
    })?;
    let (ip, phone_key) = (ip.to_string(), phone.to_string());
    let app = state.clone();
    let digest = secrets::invite_digest(&invite_code);
    let bind = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let wrong = || {
                AppError::new(
                    ErrorCode::BindInviteInvalid,
                    "手机号或邀请码不正确 (phone or invite code does not match)",
                )
            };
            let user = User::find_by_phone(conn, phone.as_str())?.ok_or_else(wrong)?;
            if user.wechat_openid.as_deref() == Some(openid.as_str()) {
                // Already bound to this very WeChat user: a retried request.
                let tokens = open_session(conn, &app, &user, "auth.wechat_login")?;
                return Ok((user, tokens));
            }
            if user.invite_code_hash.as_deref() != Some(digest.as_str()) {
                return Err(wrong());
            }
            if user.invite_expires_at.is_some_and(|at| at <= app.clock.now()) {
                return Err(AppError::new(
                    ErrorCode::BindInviteExpired,
                    "邀请码已过期，请联系管理员重新发放 (invite code expired)",
                ));
            }
            if !user.active {
                return Err(inactive());
            }
            if user.wechat_openid.is_some() {
                // A rebind (a new phone, a new WeChat account): the old one's sessions end.
                RefreshToken::revoke_all_of_user(conn, user.id, app.clock.now())?;
            }
            let bound = User::bind_openid(conn, user.id, &openid)?;
            let tokens = open_session(conn, &app, &bound, "auth.wechat_bind")?;
            Ok((bound, tokens))
        })
    });
    let budgets = [
        (&state.ip_failures, ip.as_str()),
        (&state.bind_failures, phone_key.as_str()),
    ];
    let (user, tokens) = within_budgets(&budgets, ErrorCode::BindInviteInvalid, bind).await?;
    Ok(signed_in(&state, &user, tokens).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordLoginRequest {
    username: String,
    password: String,
}

/// Console login with username and password; 10 failures per username and address within
/// 15 minutes lock further attempts until the window passes, and so do 50 per address
/// whatever the usernames.
async fn auth_password_login(
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    body: web::Json<PasswordLoginRequest>,
) -> Result<HttpResponse, AppError> {
    let PasswordLoginRequest { username, password } = body.into_inner();
    let username = required("username", &username, 64)?.to_owned();
    let user = login::by_password(&state, ip, username, password).await?;
    let app = state.clone();
    let (user, tokens) = db::run(&state.pool, move |conn| {
        let tokens = open_session(conn, &app, &user, "auth.password_login")?;
        Ok((user, tokens))
    })
    .await?;
    Ok(signed_in(&state, &user, tokens).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    refresh_token: String,
}

/// Rotates a refresh token: the presented one dies and a new pair is returned.
async fn auth_refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let presented = body.into_inner().refresh_token;
    let app = state.clone();
    let rotation = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| session::rotate(conn, &app.jwt, &app.clock, presented.trim()))
    })
    .await?;
    let tokens = rotation.into_result()?;
    sessions::publish(&state.cache, tokens.user_id, tokens.generation).await;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Ends the session the refresh token belongs to; every access token of the user stops
/// working at once (other devices refresh theirs, which still works).
async fn auth_logout(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let presented = body.into_inner().refresh_token;
    let app = state.clone();
    let ended = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let Some(user_id) = session::end(conn, &app.clock, presented.trim())? else {
                return Ok(None);
            };
            let generation = User::end_sessions(conn, user_id)?;
            audit::record::<(), ()>(
                conn,
                Some(user_id),
                "auth.logout",
                "user",
                &user_id.to_string(),
                None,
                None,
            )?;
            Ok(Some((user_id, generation)))
        })
    })
    .await?;
    if let Some((user, generation)) = ended {
        sessions::publish(&state.cache, user, generation).await;
    }
    Ok(HttpResponse::NoContent().finish())
}
