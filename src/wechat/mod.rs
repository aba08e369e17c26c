//! The WeChat API, the one outside service. Its base URL is injectable so tests and staging
//! talk to a fake.

mod client;
pub mod subscribe;
pub mod token;

pub use client::{Session, WeChatClient, WeChatError};

/// Reads WeChat's answer to a request `sent`: its JSON (WeChat labels it text/plain, so the
/// bytes are parsed as they are), or why there is none. Errors never carry the URL, which
/// holds the app secret or the access token.
pub(crate) async fn read_answer<T: serde::de::DeserializeOwned>(
    sent: reqwest::Result<reqwest::Response>,
) -> Result<T, WeChatError> {
    let unavailable = |e: reqwest::Error| WeChatError::Unavailable(e.without_url().to_string());
    let response = sent.map_err(unavailable)?;
    if !response.status().is_success() {
        return Err(WeChatError::Unavailable(format!(
            "http status {}",
            response.status()
        )));
    }
    let bytes = response.bytes().await.map_err(unavailable)?;
    serde_json::from_slice(&bytes).map_err(|e| WeChatError::Unavailable(format!("unreadable answer: {e}")))
}
