//! Request extractors that authenticate the bearer token and, for the typed ones, require a
//! role: a handler taking `AuthAdmin` cannot run for anyone but an admin, one taking
//! `AuthReporter` for anyone but an officer or an enterprise contact.

use std::future::{ready, Ready};
use std::marker::PhantomData;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use uuid::Uuid;

use super::jwt::{AccessClaims, TokenError};
use super::sessions::Verdict;
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// The authenticated caller, as the access token describes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user_id: Uuid,
    pub roles: Vec<Role>,
    pub region_code: String,
    pub unit_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller holds at least one of `roles`.
    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has(*role))
    }
}

impl From<AccessClaims> for Caller {
    fn from(c: AccessClaims) -> Self {
        Self {
            user_id: c.sub,
            roles: c.roles,
            region_code: c.region,
            unit_id: c.unit,
            enterprise_id: c.enterprise,
        }
    }
}

/// Any signed-in user.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Caller);

/// The caller of this request, as the session check (`sessions::check`) found them.
fn authenticate(req: &HttpRequest) -> Result<Caller, AppError> {
    match req.extensions().get::<Verdict>() {
        Some(Verdict::Current(caller)) => return Ok(caller.clone()),
        Some(Verdict::Ended) => {
            return Err(AppError::new(
                ErrorCode::AuthSessionEnded,
                "登录已结束（已退出、改密或账号变更），请重新登录 (session ended)",
            ))
        }
        Some(Verdict::Unknown) => {
            return Err(AppError::Unavailable {
                code: ErrorCode::DatabaseUnavailable,
            })
        }
        None => {}
    }
    // No verdict: the token is missing or does not verify; say which.
    verify(req).and_then(|_| {
        Err(AppError::Internal(anyhow::anyhow!(
            "a valid token reached an extractor without a session check"
        )))
    })
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &header::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn verify(req: &HttpRequest) -> Result<Caller, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let token = bearer_token(req.headers())
        .ok_or_else(|| AppError::new(ErrorCode::AuthTokenMissing, "请先登录 (missing bearer token)"))?;
    state
        .jwt
        .verify_access(&state.clock, token)
        .map(Caller::from)
        .map_err(|e| match e {
            TokenError::Expired => {
                AppError::new(ErrorCode::AuthTokenExpired, "登录已过期，请刷新 (token expired)")
            }
            TokenError::Invalid => AppError::new(ErrorCode::AuthTokenInvalid, "登录凭证无效 (invalid token)"),
        })
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).map(AuthUser))
    }
}

/// The roles an extractor accepts: a caller holding any one of them.
pub trait RoleSet {
    const ROLES: &'static [Role];
}

/// A signed-in user who holds one of the roles of `S`; anyone else gets 403
/// `auth.role_required`. Handlers take it (or one of the aliases below) instead of checking
/// roles themselves.
#[derive(Debug, Clone)]
pub struct AnyRole<S> {
    pub caller: Caller,
    _roles: PhantomData<S>,
}

impl<S: RoleSet> FromRequest for AnyRole<S> {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|caller| {
            if caller.has_any(S::ROLES) {
                Ok(Self {
                    caller,
                    _roles: PhantomData,
                })
            } else {
                let names: Vec<&str> = S::ROLES.iter().map(|r| r.as_str()).collect();
                Err(AppError::new(
                    ErrorCode::AuthRoleRequired,
                    format!("此操作需要角色 {} (role required)", names.join(" / ")),
                ))
            }
        }))
    }
}

macro_rules! role_set {
    ($(#[$doc:meta])* $set:ident, $alias:ident, [$($role:expr),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $set;
        impl RoleSet for $set {
            const ROLES: &'static [Role] = &[$($role),+];
        }
        $(#[$doc])*
        pub type $alias = AnyRole<$set>;
    };
}

role_set!(
    /// 驻企联络员.
    Officers, AuthOfficer, [Role::Officer]
);
role_set!(
    /// 驻企办调度员.
    Dispatchers, AuthDispatcher, [Role::Dispatcher]
);
role_set!(
    /// 系统管理员.
    Admins, AuthAdmin, [Role::Admin]
);
role_set!(
    /// Who files problems: officers for their enterprises, contacts for their own.
    Reporters, AuthReporter, [Role::Officer, Role::Enterprise]
);
role_set!(
    /// Who runs a region's hub: its admins and dispatchers.
    RegionStaff, AuthRegionStaff, [Role::Admin, Role::Dispatcher]
);
role_set!(
    /// Who chases missing reports: unit admins for their unit, the hub for its region.
    Chasers, AuthChaser, [Role::UnitAdmin, Role::Dispatcher, Role::Admin]
);
