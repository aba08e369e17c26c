//! `sns/jscode2session` over reqwest, with short timeouts and WeChat's error codes mapped to
//! the service's own.

use std::time::Duration;

use serde::Deserialize;

use crate::config::Secret;
use crate::error::ErrorCode;

#[derive(Clone)]
pub struct WeChatClient {
    http: reqwest::Client,
    base: String,
    appid: String,
    secret: Secret<String>,
}

/// What a successful `code2session` gives: `session_key` stays on the server, always.
#[derive(Debug, Clone)]
pub struct Session {
    pub openid: String,
    pub session_key: Secret<String>,
    pub unionid: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WeChatError {
    /// 40029 (invalid code) and 40163 (code already used).
    #[error("wechat rejected the login code (errcode {0})")]
    CodeInvalid(i64),
    /// 45011: WeChat's own frequency limit.
    #[error("wechat rate limit (errcode 45011)")]
    RateLimited,
    /// 40226: WeChat flags the user as high-risk and refuses the login.
    #[error("wechat blocked this user (errcode 40226)")]
    UserBlocked,
    /// -1 (system busy), timeouts, connection failures, unreadable answers.
    #[error("wechat unavailable: {0}")]
    Unavailable(String),
    /// Any other errcode: our configuration or WeChat changed; the operator must look.
    #[error("wechat error {errcode}: {errmsg}")]
    Other { errcode: i64, errmsg: String },
}

impl WeChatError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::CodeInvalid(_) => ErrorCode::WechatCodeInvalid,
            Self::RateLimited => ErrorCode::WechatRateLimited,
            Self::UserBlocked => ErrorCode::WechatUserBlocked,
            Self::Unavailable(_) => ErrorCode::WechatUnavailable,
            Self::Other { .. } => ErrorCode::WechatError,
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            Self::CodeInvalid(_) => "微信登录凭证无效或已使用，请重新登录 (login code invalid or used)",
            Self::RateLimited => "微信登录过于频繁，请稍后再试 (WeChat rate limit)",
            Self::UserBlocked => "微信判定该账号存在风险，已拒绝登录 (blocked by WeChat)",
            Self::Unavailable(_) => "微信服务暂时不可用，请稍后重试 (WeChat unavailable)",
            Self::Other { .. } => "微信服务返回错误 (WeChat error)",
        }
    }
}

#[derive(Deserialize)]
struct Code2SessionResponse {
    openid: Option<String>,
    session_key: Option<String>,
    unionid: Option<String>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

impl WeChatClient {
    pub fn new(base: &str, appid: &str, secret: Secret<String>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            appid: appid.to_owned(),
            secret,
        })
    }

    /// Exchanges a `wx.login` code for the user's openid.
    pub async fn code2session(&self, code: &str) -> Result<Session, WeChatError> {
        let url = format!("{}/sns/jscode2session", self.base);
        let response = self
            .http
            .get(url)
            .query(&[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.expose().as_str()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await;
        let body: Code2SessionResponse = super::read_answer(response).await?;
        match body.errcode {
            None | Some(0) => match (body.openid, body.session_key) {
                (Some(openid), Some(session_key)) if !openid.is_empty() => Ok(Session {
                    openid,
                    session_key: Secret::new(session_key),
                    unionid: body.unionid,
                }),
                _ => Err(WeChatError::Unavailable("answer without openid".to_owned())),
            },
            Some(code @ (40029 | 40163)) => Err(WeChatError::CodeInvalid(code)),
            Some(45011) => Err(WeChatError::RateLimited),
            Some(40226) => Err(WeChatError::UserBlocked),
            Some(-1) => Err(WeChatError::Unavailable("system busy (errcode -1)".to_owned())),
            Some(errcode) => Err(WeChatError::Other {
                errcode,
                errmsg: body.errmsg.unwrap_or_default(),
            }),
        }
    }
}
