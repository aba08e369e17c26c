//! End-to-end tests against real PostgreSQL and Redis (started by `make test`).

mod admin_crud;
mod admin_import;
mod auth_password;
mod auth_wechat;
mod cli;
mod errors;
mod helpers;
mod redis_optional;
mod scope;
mod service;
mod spec;
mod tokens;
