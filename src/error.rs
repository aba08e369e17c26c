//! `AppError`, the one error type of the service, and its single mapping to HTTP.
//!
//! Every failure a client can see has a stable dotted `code`; anything unexpected becomes an
//! opaque 500 whose cause chain goes to the log, never into the response.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use serde_json::Value;

use crate::wechat::WeChatError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request itself is malformed (syntax, types, missing fields).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no credentials, or credentials that do not check out.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: a known caller who may not do this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: absent, or outside the caller's scope (the two are indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// 404 for a path no route serves.
    #[error("no such route")]
    RouteNotFound,
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body is larger than this endpoint accepts.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: the body is not in a format this endpoint reads.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 409: conflicts with the current state (duplicates, wrong state, reused keys).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 422: well-formed input that breaks a rule.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Value,
    },
    /// 429: too many attempts; retry after the given number of seconds.
    #[error("too many requests")]
    RateLimited {
        code: &'static str,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    WeChat(#[from] WeChatError),
    /// 503: a dependency we cannot do without (PostgreSQL) is not answering.
    #[error("{code}")]
    Unavailable { code: &'static str },
    /// 500: a bug or an unexpected failure. Logged in full, reported opaquely.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn unprocessable_with(code: &'static str, message: impl Into<String>, details: Value) -> Self {
        Self::Unprocessable {
            code,
            message: message.into(),
            details,
        }
    }

    /// The database connection failed, not the request: the connection should be replaced.
    pub fn is_database_lost(&self) -> bool {
        matches!(
            self,
            Self::Unavailable {
                code: "database.unavailable"
            }
        )
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::RateLimited { code, .. }
            | Self::Unavailable { code } => code,
            Self::NotFound => "not_found",
            Self::RouteNotFound => "route.not_found",
            Self::MethodNotAllowed => "request.method_not_allowed",
            Self::PayloadTooLarge => "request.too_large",
            Self::UnsupportedMediaType => "request.unsupported_media_type",
            Self::WeChat(e) => e.code(),
            Self::Internal(_) => "internal",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::NotFound => "资源不存在或无权访问 (not found)".to_owned(),
            Self::RouteNotFound => "接口不存在 (no such route)".to_owned(),
            Self::MethodNotAllowed => "该接口不支持此请求方法 (method not allowed)".to_owned(),
            Self::PayloadTooLarge => "请求内容过大 (payload too large)".to_owned(),
            Self::UnsupportedMediaType => "请求内容类型不受支持 (unsupported content type)".to_owned(),
            Self::RateLimited { .. } => "尝试次数过多，请稍后再试 (too many attempts)".to_owned(),
            Self::Unavailable { .. } => "服务暂时不可用，请稍后重试 (a dependency is unavailable)".to_owned(),
            Self::Internal(_) => "服务器内部错误 (internal error)".to_owned(),
            Self::WeChat(e) => e.message().to_owned(),
            other => other.to_string(),
        }
    }
}

/// The `Retry-After` of a 503: long enough for a pool to reconnect, short enough for a phone.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorPayload<'a>,
}

#[derive(Serialize)]
struct ErrorPayload<'a> {
    code: &'a str,
    message: String,
    details: Value,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::WeChat(e) => e.status(),
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let dependency = matches!(self, Self::Unavailable { .. } | Self::WeChat(_));
        if dependency && status.is_server_error() {
            // A dependency away is an outage to watch, not a bug: it must not page as one.
            tracing::warn!(
                code = self.code(),
                status = status.as_u16(),
                "request refused: dependency unavailable"
            );
        } else if status.is_server_error() {
            tracing::error!(code = self.code(), error = ?self, "request failed");
        } else {
            tracing::info!(code = self.code(), status = status.as_u16(), "request refused");
        }
        let details = match self {
            Self::Unprocessable { details, .. } if !details.is_null() => details.clone(),
            Self::RateLimited { retry_after_secs, .. } => {
                serde_json::json!({ "retry_after_s": retry_after_secs })
            }
            _ => Value::Object(Default::default()),
        };
        let mut response = HttpResponse::build(status);
        match self {
            Self::RateLimited { retry_after_secs, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            // A dependency that is down usually comes back within seconds (a restart, a failover).
            Self::Unavailable { .. } | Self::WeChat(WeChatError::Unavailable(_)) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS.to_string()));
            }
            // WeChat's 45011 is a per-minute quota: a minute later is worth another try.
            Self::WeChat(WeChatError::RateLimited) => {
                response.insert_header((header::RETRY_AFTER, "60"));
            }
            Self::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: ErrorPayload {
                code: self.code(),
                message: self.message(),
                details,
            },
        })
    }
}

/// Unique and check constraints that clients can meet, with the code and message each maps to.
/// The database enforces the rule; this table only names it.
const CONSTRAINTS: &[(&str, StatusCode, &str, &str)] = &[
    (
        "regions_pkey",
        StatusCode::CONFLICT,
        "region.code_taken",
        "该区划代码已存在",
    ),
    (
        "units_code_key",
        StatusCode::CONFLICT,
        "unit.code_taken",
        "该单位编码已存在",
    ),
    (
        "enterprises_credit_code_key",
        StatusCode::CONFLICT,
        "enterprise.credit_code_taken",
        "该统一社会信用代码已存在",
    ),
    (
        "users_username_key",
        StatusCode::CONFLICT,
        "user.username_taken",
        "该用户名已被使用",
    ),
    (
        "users_phone_key",
        StatusCode::CONFLICT,
        "user.phone_taken",
        "该手机号已被其他用户使用",
    ),
    (
        "users_wechat_openid_key",
        StatusCode::CONFLICT,
        "wechat.already_bound",
        "该微信已绑定其他账号",
    ),
    (
        "assignments_natural_key",
        StatusCode::CONFLICT,
        "assignment.exists",
        "该联络员与企业的结对已存在",
    ),
    (
        "users_unit_required",
        StatusCode::UNPROCESSABLE_ENTITY,
        "user.unit_required",
        "联络员、部门和单位管理员必须属于一个单位",
    ),
    (
        "users_enterprise_required",
        StatusCode::UNPROCESSABLE_ENTITY,
        "user.enterprise_required",
        "企业联系人必须关联企业",
    ),
    (
        "assignments_days_ordered",
        StatusCode::UNPROCESSABLE_ENTITY,
        "assignment.days_out_of_order",
        "结束日期不能早于开始日期",
    ),
    (
        "problems_category_known",
        StatusCode::UNPROCESSABLE_ENTITY,
        "problem.unknown_category",
        "问题类别不存在",
    ),
];

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match &err {
            DieselError::NotFound => return Self::NotFound,
            DieselError::DatabaseError(kind, info) => {
                if let Some(name) = info.constraint_name() {
                    if let Some((_, status, code, message)) =
                        CONSTRAINTS.iter().find(|(constraint, ..)| *constraint == name)
                    {
                        return if *status == StatusCode::CONFLICT {
                            Self::conflict(code, *message)
                        } else {
                            Self::unprocessable(code, *message)
                        };
                    }
                }
                // A backend terminated by a shutdown or by an operator (SQLSTATE class 57, which
                // diesel does not classify), or a server not yet accepting queries.
                let message = info.message();
                if message.starts_with("terminating connection")
                    || message.starts_with("the database system is")
                {
                    return Self::Unavailable {
                        code: "database.unavailable",
                    };
                }
                // PostgreSQL text cannot hold U+0000, which JSON can carry ("\u0000").
                if info.message().starts_with("invalid byte sequence for encoding") {
                    return Self::unprocessable("validation.failed", "文本不能包含空字符 (U+0000)");
                }
                match kind {
                    DatabaseErrorKind::ForeignKeyViolation => {
                        return Self::unprocessable("reference.not_found", "引用的对象不存在");
                    }
                    DatabaseErrorKind::CheckViolation => {
                        return Self::unprocessable_with(
                            "validation.failed",
                            "数据不符合规则",
                            serde_json::json!({ "constraint": info.constraint_name() }),
                        );
                    }
                    DatabaseErrorKind::UniqueViolation => {
                        return Self::conflict("conflict.duplicate", "对象已存在");
                    }
                    // The server went away (restart, failover, a killed backend): 503, retry.
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                        return Self::Unavailable {
                            code: "database.unavailable",
                        };
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Self::Internal(anyhow::Error::new(err))
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %err, "database pool exhausted or unreachable");
        Self::Unavailable {
            code: "database.unavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(err: AppError) -> (StatusCode, Value) {
        let response = err.error_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body()).await.expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[actix_web::test]
    async fn every_variant_renders_the_documented_shape() {
        let cases = vec![
            (
                AppError::bad_request("request.malformed_json", "x"),
                400,
                "request.malformed_json",
            ),
            (
                AppError::unauthorized("auth.token_invalid", "x"),
                401,
                "auth.token_invalid",
            ),
            (
                AppError::forbidden("auth.role_required", "x"),
                403,
                "auth.role_required",
            ),
            (AppError::NotFound, 404, "not_found"),
            (AppError::RouteNotFound, 404, "route.not_found"),
            (AppError::MethodNotAllowed, 405, "request.method_not_allowed"),
            (AppError::PayloadTooLarge, 413, "request.too_large"),
            (
                AppError::UnsupportedMediaType,
                415,
                "request.unsupported_media_type",
            ),
            (
                AppError::conflict("idempotency.key_reused", "x"),
                409,
                "idempotency.key_reused",
            ),
            (
                AppError::unprocessable("import.invalid_rows", "x"),
                422,
                "import.invalid_rows",
            ),
            (
                AppError::RateLimited {
                    code: "auth.too_many_attempts",
                    retry_after_secs: 60,
                },
                429,
                "auth.too_many_attempts",
            ),
            (
                AppError::WeChat(WeChatError::Unavailable("down".into())),
                503,
                "wechat.unavailable",
            ),
            (
                AppError::Unavailable {
                    code: "database.unavailable",
                },
                503,
                "database.unavailable",
            ),
            (
                AppError::Internal(anyhow::anyhow!("secret detail")),
                500,
                "internal",
            ),
        ];
        for (err, status, code) in cases {
            let (got_status, body) = body_of(err).await;
            assert_eq!(got_status.as_u16(), status);
            assert_eq!(body["error"]["code"], code);
            assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
            assert!(body["error"]["details"].is_object());
        }
    }

    #[actix_web::test]
    async fn internal_errors_do_not_leak_their_cause() {
        let (_, body) = body_of(AppError::Internal(anyhow::anyhow!("password=hunter2"))).await;
        assert!(!body.to_string().contains("hunter2"));
    }

    #[actix_web::test]
    async fn rate_limit_carries_retry_after() {
        let response = AppError::RateLimited {
            code: "auth.too_many_attempts",
            retry_after_secs: 42,
        }
        .error_response();
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"42"[..])
        );
    }
}
