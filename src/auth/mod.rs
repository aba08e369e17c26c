//! Who is calling and what they may see: tokens, passwords, the role extractors and the one
//! scoping module every handler goes through.

pub mod client_ip;
pub mod extractors;
pub mod jwt;
pub mod login;
pub mod password;
pub mod scope;
pub mod secrets;
pub mod session;
pub mod sessions;

pub use extractors::{AnyRole, AuthAdmin, AuthUser, Caller};
