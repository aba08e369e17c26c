//! Subscribe messages (`POST /cgi-bin/message/subscribe/send`) and what each answer means for
//! the push: sent, retried later, never again.

use serde::Deserialize;

use super::token::AccessTokens;

pub struct SubscribeSender {
    http: reqwest::Client,
    base: String,
    tokens: AccessTokens,
}

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Sent,
    /// 43101: the user has no subscription (left) for the template. Not retried: only the
    /// user's next acceptance allows another send.
    Unsubscribed,
    /// 47003 and the other answers no retry can fix (bad template data, a wrong template id).
    Refused(String),
    /// -1, timeouts, WeChat unreachable, a token that could not be had: worth another try.
    Retry(String),
}

#[derive(Deserialize)]
struct Answer {
    errcode: Option<i64>,
    errmsg: Option<String>,
}

/// Token errors: invalid (40001), expired (42001), not the latest (40014).
fn token_refused(errcode: i64) -> bool {
    matches!(errcode, 40001 | 40014 | 42001)
}

impl SubscribeSender {
    pub fn new(http: reqwest::Client, base: &str, tokens: AccessTokens) -> Self {
        Self {
            http,
            base: base.to_owned(),
            tokens,
        }
    }

    /// Sends `message` (the body WeChat takes: touser, template_id, page, data). A token
    /// WeChat refuses is refreshed once and the send repeated once. `push_id` travels in a
    /// header so a receiver (and the tests' fake) can tell a repeated push.
    pub async fn send(&self, message: &serde_json::Value, push_id: i64) -> Sent {
        let mut rejected: Option<String> = None;
        for _ in 0..2 {
            let token = match self.tokens.get(rejected.as_deref()).await {
                Ok(token) => token,
                Err(e) => return Sent::Retry(format!("no access token: {e}")),
            };
            match self.post(&token, message, push_id).await {
                Ok(errcode) if token_refused(errcode) => rejected = Some(token),
                Ok(0) => return Sent::Sent,
                Ok(43101) => return Sent::Unsubscribed,
                Ok(-1) => return Sent::Retry("system busy (errcode -1)".to_owned()),
                Ok(errcode @ (45009 | 45047)) => {
                    return Sent::Retry(format!("WeChat frequency limit (errcode {errcode})"))
                }
                Ok(errcode) => return Sent::Refused(format!("errcode {errcode}")),
                Err(e) => return Sent::Retry(e),
            }
        }
        Sent::Retry("WeChat refused a freshly refreshed token".to_owned())
    }

    /// The answer's errcode (0 for success), or why there was no answer.
    async fn post(&self, token: &str, message: &serde_json::Value, push_id: i64) -> Result<i64, String> {
        let response = self
            .http
            .post(format!("{}/cgi-bin/message/subscribe/send", self.base))
            .query(&[("access_token", token)])
            .header("X-Zhuqi-Push-Id", push_id)
            .json(message)
            .send()
            .await
            // The URL carries the token: keep it out of every error we keep.
            .map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("http status {}", response.status()));
        }
        let bytes = response.bytes().await.map_err(|e| e.without_url().to_string())?;
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|e| format!("unreadable answer: {e}"))?;
        let errcode = answer.errcode.unwrap_or(0);
        if errcode != 0 {
            tracing::info!(
                push = push_id,
                errcode,
                errmsg = answer.errmsg.unwrap_or_default(),
                "WeChat refused a subscribe message"
            );
        }
        Ok(errcode)
    }
}
