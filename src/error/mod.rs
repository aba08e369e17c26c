//! `AppError`, the one error type of the service, and its single mapping to HTTP.
//!
//! Every failure a client can see has a stable dotted `code`; anything unexpected becomes an
//! opaque 500 whose cause chain goes to the log, never into the response.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use serde_json::Value;

use crate::domain::field_error::{FieldCode, FieldError};
use crate::wechat::WeChatError;

mod code;
pub use code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A refusal the client can act on: a code of the catalogue (whose status it answers
    /// with), a message for people and, for some codes, machine-readable `details`.
    #[error("{message}")]
    Refused {
        code: ErrorCode,
        message: String,
        details: Value,
    },
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
    /// 429: too many attempts; retry after the given number of seconds.
    #[error("too many requests")]
    RateLimited { code: ErrorCode, retry_after_secs: u64 },
    #[error(transparent)]
    WeChat(#[from] WeChatError),
    /// 503: a dependency we cannot do without (PostgreSQL) is not answering.
    #[error("{code}")]
    Unavailable { code: ErrorCode },
    /// 500: a bug or an unexpected failure. Logged in full, reported opaquely.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A refusal with `code` (and so its status) and a message for people.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::with_details(code, message, Value::Null)
    }

    /// A refusal that also carries machine-readable `details` (see the spec's `ErrorDetails`).
    pub fn with_details(code: ErrorCode, message: impl Into<String>, details: Value) -> Self {
        Self::Refused {
            code,
            message: message.into(),
            details,
        }
    }

    /// Maps a database error as `From` does, saying `message` for a duplicate (409
    /// `conflict.duplicate`): what the duplicate means for this write.
    pub fn duplicate_as(message: &'static str) -> impl Fn(diesel::result::Error) -> AppError {
        move |e| match AppError::from(e) {
            AppError::Refused {
                code: ErrorCode::ConflictDuplicate,
                details,
                ..
            } => AppError::with_details(ErrorCode::ConflictDuplicate, message, details),
            other => other,
        }
    }

    /// 422 `validation.failed`: every rule the input broke, in `details.errors` (the one shape of
    /// validation errors, `{field, code, message}`).
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("数据校验未通过（{}处）", errors.len()),
        };
        Self::with_field_errors(ErrorCode::ValidationFailed, message, errors)
    }

    /// A refusal about fields, whatever its code: `details.errors` lists them.
    pub fn with_field_errors(code: ErrorCode, message: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self::with_details(code, message, serde_json::json!({ "errors": errors }))
    }

    /// 422 `validation.failed` for one field.
    pub fn invalid_field(field: &str, code: FieldCode, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, code, message)])
    }

    /// The database connection failed, not the request: the connection should be replaced.
    pub fn is_database_lost(&self) -> bool {
        matches!(
            self,
            Self::Unavailable {
                code: ErrorCode::DatabaseUnavailable
            }
        )
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Refused { code, .. } | Self::RateLimited { code, .. } | Self::Unavailable { code } => *code,
            Self::NotFound => ErrorCode::NotFound,
            Self::RouteNotFound => ErrorCode::RouteNotFound,
            Self::MethodNotAllowed => ErrorCode::RequestMethodNotAllowed,
            Self::PayloadTooLarge => ErrorCode::RequestTooLarge,
            Self::UnsupportedMediaType => ErrorCode::RequestUnsupportedMediaType,
            Self::WeChat(e) => e.code(),
            Self::Internal(_) => ErrorCode::Internal,
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
struct ErrorBody {
    error: ErrorPayload,
}

#[derive(Serialize)]
struct ErrorPayload {
    code: ErrorCode,
    message: String,
    details: Value,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.code().status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let dependency = matches!(self, Self::Unavailable { .. } | Self::WeChat(_));
        if dependency && status.is_server_error() {
            // A dependency away is an outage to watch, not a bug: it must not page as one.
            tracing::warn!(
                code = self.code().as_str(),
                status = status.as_u16(),
                "request refused: dependency unavailable"
            );
        } else if status.is_server_error() {
            tracing::error!(code = self.code().as_str(), error = ?self, "request failed");
        } else {
            tracing::info!(
                code = self.code().as_str(),
                status = status.as_u16(),
                "request refused"
            );
        }
        let details = match self {
            Self::Refused { details, .. } if !details.is_null() => details.clone(),
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
            _ if status == StatusCode::UNAUTHORIZED => {
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

/// Unique and check constraints that clients can meet, with the code (and so the status) and the
/// message each maps to.
/// The database enforces the rule; this table only names it.
const CONSTRAINTS: &[(&str, ErrorCode, &str)] = &[
    ("regions_pkey", ErrorCode::RegionCodeTaken, "该区划代码已存在"),
    ("units_code_key", ErrorCode::UnitCodeTaken, "该单位编码已存在"),
    (
        "enterprises_credit_code_key",
        ErrorCode::EnterpriseCreditCodeTaken,
        "该统一社会信用代码已存在",
    ),
    (
        "users_username_key",
        ErrorCode::UserUsernameTaken,
        "该用户名已被使用",
    ),
    (
        "users_phone_key",
        ErrorCode::UserPhoneTaken,
        "该手机号已被其他用户使用",
    ),
    (
        "users_wechat_openid_key",
        ErrorCode::WechatAlreadyBound,
        "该微信已绑定其他账号",
    ),
    (
        "assignments_natural_key",
        ErrorCode::AssignmentExists,
        "该联络员与企业的结对已存在",
    ),
    (
        "users_unit_required",
        ErrorCode::UserUnitRequired,
        "联络员、部门和单位管理员必须属于一个单位",
    ),
    (
        "users_enterprise_required",
        ErrorCode::UserEnterpriseRequired,
        "企业联系人必须关联企业",
    ),
    (
        "assignments_days_ordered",
        ErrorCode::AssignmentDaysOutOfOrder,
        "结束日期不能早于开始日期",
    ),
    (
        "problems_category_known",
        ErrorCode::ProblemUnknownCategory,
        "问题类别不存在",
    ),
];

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match &err {
            DieselError::NotFound => return Self::NotFound,
            DieselError::DatabaseError(kind, info) => {
                if let Some(name) = info.constraint_name() {
                    if let Some((_, code, message)) =
                        CONSTRAINTS.iter().find(|(constraint, ..)| *constraint == name)
                    {
                        return Self::new(*code, *message);
                    }
                }
                // A backend terminated by a shutdown or by an operator (SQLSTATE class 57, which
                // diesel does not classify), or a server not yet accepting queries.
                let message = info.message();
                if message.starts_with("terminating connection")
                    || message.starts_with("the database system is")
                {
                    return Self::Unavailable {
                        code: ErrorCode::DatabaseUnavailable,
                    };
                }
                // PostgreSQL text cannot hold U+0000, which JSON can carry ("\u0000"), and jsonb
                // refuses it as an escape.
                if message.starts_with("invalid byte sequence for encoding")
                    || message.starts_with("unsupported Unicode escape sequence")
                {
                    return Self::new(ErrorCode::ValidationFailed, "文本不能包含空字符 (U+0000)");
                }
                match kind {
                    DatabaseErrorKind::ForeignKeyViolation => {
                        return Self::new(ErrorCode::ReferenceNotFound, "引用的对象不存在");
                    }
                    // A rule only the database states: the constraint's name stands for the field.
                    DatabaseErrorKind::CheckViolation => {
                        return Self::invalid_field(
                            info.constraint_name().unwrap_or("constraint"),
                            FieldCode::Invalid,
                            "数据不符合规则",
                        );
                    }
                    DatabaseErrorKind::UniqueViolation => {
                        return Self::new(ErrorCode::ConflictDuplicate, "对象已存在");
                    }
                    // The server went away (restart, failover, a killed backend): 503, retry.
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                        return Self::Unavailable {
                            code: ErrorCode::DatabaseUnavailable,
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
            code: ErrorCode::DatabaseUnavailable,
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
                AppError::new(ErrorCode::RequestMalformedJson, "x"),
                400,
                ErrorCode::RequestMalformedJson,
            ),
            (
                AppError::new(ErrorCode::AuthTokenInvalid, "x"),
                401,
                ErrorCode::AuthTokenInvalid,
            ),
            (
                AppError::new(ErrorCode::AuthRoleRequired, "x"),
                403,
                ErrorCode::AuthRoleRequired,
            ),
            (AppError::NotFound, 404, ErrorCode::NotFound),
            (AppError::RouteNotFound, 404, ErrorCode::RouteNotFound),
            (
                AppError::MethodNotAllowed,
                405,
                ErrorCode::RequestMethodNotAllowed,
            ),
            (AppError::PayloadTooLarge, 413, ErrorCode::RequestTooLarge),
            (
                AppError::UnsupportedMediaType,
                415,
                ErrorCode::RequestUnsupportedMediaType,
            ),
            (
                AppError::new(ErrorCode::IdempotencyInProgress, "x"),
                409,
                ErrorCode::IdempotencyInProgress,
            ),
            (
                AppError::new(ErrorCode::ImportInvalidRows, "x"),
                422,
                ErrorCode::ImportInvalidRows,
            ),
            (
                AppError::RateLimited {
                    code: ErrorCode::AuthTooManyAttempts,
                    retry_after_secs: 60,
                },
                429,
                ErrorCode::AuthTooManyAttempts,
            ),
            (
                AppError::WeChat(WeChatError::Unavailable("down".into())),
                503,
                ErrorCode::WechatUnavailable,
            ),
            (
                AppError::Unavailable {
                    code: ErrorCode::DatabaseUnavailable,
                },
                503,
                ErrorCode::DatabaseUnavailable,
            ),
            (
                AppError::Internal(anyhow::anyhow!("secret detail")),
                500,
                ErrorCode::Internal,
            ),
        ];
        for (err, status, code) in cases {
            let (got_status, body) = body_of(err).await;
            assert_eq!(got_status.as_u16(), status);
            assert_eq!(body["error"]["code"], code.as_str());
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
            code: ErrorCode::AuthTooManyAttempts,
            retry_after_secs: 42,
        }
        .error_response();
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"42"[..])
        );
    }
}
