//! The access token of the WeChat server API (`POST /cgi-bin/stable_token`), shared by every
//! instance through Redis: one instance refreshes at a time (a lock key), the others wait for
//! its result. With Redis away each instance keeps its own, refreshed one caller at a time.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::WeChatError;
use crate::cache::Cache;
use crate::config::Secret;

const KEY: &str = "wechat:access_token";
const LOCK: &str = "wechat:access_token:lock";
/// Longer than a refresh can take (the HTTP timeout), so a crashed holder frees it soon.
const LOCK_TTL: Duration = Duration::from_secs(10);
/// How long a caller waits for another instance's refresh before doing its own.
const WAIT: Duration = Duration::from_secs(3);
/// A token is dropped this long before WeChat's expiry, so none is used as it runs out.
const MARGIN_S: u64 = 300;

pub struct AccessTokens {
    http: reqwest::Client,
    base: String,
    appid: String,
    secret: Secret<String>,
    cache: Cache,
    /// This instance's token when Redis is away; the mutex lets one caller refresh it.
    local: tokio::sync::Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct StableToken {
    access_token: Option<String>,
    expires_in: Option<u64>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

impl AccessTokens {
    pub fn new(http: reqwest::Client, base: &str, appid: &str, secret: Secret<String>, cache: Cache) -> Self {
        Self {
            http,
            base: base.to_owned(),
            appid: appid.to_owned(),
            secret,
            cache,
            local: tokio::sync::Mutex::new(None),
        }
    }

    /// A token to call WeChat with; never `rejected`, the one WeChat just refused (40001,
    /// 42001), which forces a refresh.
    pub async fn get(&self, rejected: Option<&str>) -> Result<String, WeChatError> {
        let usable = |token: &String| Some(token.as_str()) != rejected;
        match self.cache.lookup(KEY).await {
            Some(Some(token)) if usable(&token) => return Ok(token),
            None => return self.local_token(rejected).await,
            Some(_) => {}
        }
        match self.cache.set_nx(LOCK, "1", LOCK_TTL).await {
            Some(true) => {
                let fetched = self.fetch(rejected.is_some()).await;
                if let Ok((token, ttl)) = &fetched {
                    self.cache.set_ex(KEY, token, *ttl).await;
                }
                self.cache.del(LOCK).await;
                fetched.map(|(token, _)| token)
            }
            Some(false) => {
                let started = Instant::now();
                while started.elapsed() < WAIT {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if let Some(Some(token)) = self.cache.lookup(KEY).await {
                        if usable(&token) {
                            return Ok(token);
                        }
                    }
                }
                tracing::warn!("no WeChat token from the instance refreshing it; refreshing here");
                self.local_token(rejected).await
            }
            None => self.local_token(rejected).await,
        }
    }

    async fn local_token(&self, rejected: Option<&str>) -> Result<String, WeChatError> {
        let mut held = self.local.lock().await;
        if let Some((token, until)) = held.as_ref() {
            if *until > Instant::now() && Some(token.as_str()) != rejected {
                return Ok(token.clone());
            }
        }
        let (token, ttl) = self.fetch(rejected.is_some()).await?;
        *held = Some((token.clone(), Instant::now() + ttl));
        Ok(token)
    }

    /// Asks WeChat; `force` makes it issue a new token even if the last one is still valid.
    async fn fetch(&self, force: bool) -> Result<(String, Duration), WeChatError> {
        let response = self
            .http
            .post(format!("{}/cgi-bin/stable_token", self.base))
            .json(&json!({
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret.expose(),
                "force_refresh": force,
            }))
            .send()
            .await;
        let body: StableToken = super::read_answer(response).await?;
        match (body.errcode, body.access_token) {
            (None | Some(0), Some(token)) if !token.is_empty() => {
                let seconds = body.expires_in.unwrap_or(7200).saturating_sub(MARGIN_S).max(60);
                tracing::info!(force, "WeChat access token refreshed");
                Ok((token, Duration::from_secs(seconds)))
            }
            (Some(-1), _) => Err(WeChatError::Unavailable("system busy (errcode -1)".to_owned())),
            (Some(errcode), _) => Err(WeChatError::Other {
                errcode,
                errmsg: body.errmsg.unwrap_or_default(),
            }),
            (None, _) => Err(WeChatError::Unavailable("answer without a token".to_owned())),
        }
    }
}
