//! The WeChat API, the one outside service. Its base URL is injectable so tests and staging
//! talk to a fake.

mod client;
pub mod subscribe;
pub mod token;

pub use client::{Session, WeChatClient, WeChatError};
