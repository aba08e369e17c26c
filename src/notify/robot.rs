//! Group robots (群机器人) of units: DingTalk robots with a signing secret ("加签"), and WeCom
//! robots, whose webhook key is the secret itself.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::config::Secret;
use crate::domain::notification::RobotPlatform;

/// A DingTalk robot's webhook with its signature: DingTalk checks
/// `sign = base64(HMAC-SHA256(key = secret, message = "{timestamp}\n{secret}"))`, URL-encoded,
/// with `timestamp` in milliseconds within an hour of its clock.
pub fn dingtalk_signed_url(webhook: &str, secret: &str, timestamp_ms: i64) -> Option<String> {
    let separator = if webhook.contains('?') { '&' } else { '?' };
    let sign = dingtalk_sign(secret, timestamp_ms)?;
    Some(format!(
        "{webhook}{separator}timestamp={timestamp_ms}&sign={}",
        url_encoded(&sign)
    ))
}

/// `None` only if HMAC refused the key, which it does for no length.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    Some(STANDARD.encode(mac.finalize().into_bytes()))
}

/// Base64 as a query value: of its alphabet only `+`, `/` and `=` need escaping.
fn url_encoded(base64: &str) -> String {
    base64.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

/// A robot with its webhook and secret unsealed, for the one send that needs them.
pub struct Opened {
    pub platform: RobotPlatform,
    pub webhook: Secret<String>,
    pub secret: Option<Secret<String>>,
}

/// Posts a markdown message to a robot; `Err` with why when it was not taken (worth another
/// try: a robot's answers do not tell a bad configuration from a passing fault reliably).
pub async fn post(
    http: &reqwest::Client,
    robot: &Opened,
    title: &str,
    markdown: &str,
    now_ms: i64,
    push_id: i64,
) -> Result<(), String> {
    let webhook = robot.webhook.expose();
    let (url, body) = match robot.platform {
        RobotPlatform::DingTalk => {
            let url = match &robot.secret {
                Some(secret) => dingtalk_signed_url(webhook, secret.expose(), now_ms).ok_or("cannot sign")?,
                None => webhook.to_owned(),
            };
            let body = json!({ "msgtype": "markdown", "markdown": { "title": title, "text": markdown } });
            (url, body)
        }
        RobotPlatform::WeCom => (
            webhook.to_owned(),
            json!({ "msgtype": "markdown", "markdown": { "content": markdown } }),
        ),
    };
    let response = http
        .post(url)
        .header("X-Zhuqi-Push-Id", push_id)
        .json(&body)
        .send()
        .await
        // The URL is the robot's key: keep it out of every error we keep.
        .map_err(|e| e.without_url().to_string())?;
    if !response.status().is_success() {
        return Err(format!("http status {}", response.status()));
    }
    let answer: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("unreadable answer: {}", e.without_url()))?;
    match answer.get("errcode").and_then(serde_json::Value::as_i64) {
        None | Some(0) => Ok(()),
        Some(errcode) => Err(format!(
            "errcode {errcode}: {}",
            answer
                .get("errmsg")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed independently with Python's hmac, hashlib, base64 and urllib.parse.quote_plus.
    const SECRET: &str = "SEC000000000000000000000000000000000000000000000000000000000000";
    const TIMESTAMP_MS: i64 = 1_764_316_800_000;
    const SIGN: &str = "WKM4lnnPzjcceV3Me3+wcDq5yOO/604x3pSGuEuflW4=";
    const SIGN_IN_URL: &str = "WKM4lnnPzjcceV3Me3%2BwcDq5yOO%2F604x3pSGuEuflW4%3D";

    #[test]
    fn the_signature_is_dingtalks() {
        assert_eq!(dingtalk_sign(SECRET, TIMESTAMP_MS).as_deref(), Some(SIGN));
    }

    #[test]
    fn the_signed_url_carries_the_timestamp_and_the_encoded_signature() {
        let url = dingtalk_signed_url(
            "https://oapi.dingtalk.com/robot/send?access_token=abc",
            SECRET,
            TIMESTAMP_MS,
        );
        let expected = format!(
            "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp={TIMESTAMP_MS}&sign={SIGN_IN_URL}"
        );
        assert_eq!(url, Some(expected));
        let bare = dingtalk_signed_url("http://127.0.0.1:9/robot", SECRET, TIMESTAMP_MS);
        assert!(bare.is_some_and(|url| url.starts_with("http://127.0.0.1:9/robot?timestamp=")));
    }
}
