//! End-to-end tests against real PostgreSQL and Redis (started by `make test`).

// A panic is how a test (or a test helper) reports a broken expectation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_crud;
mod admin_import;
mod assignment_meetings;
mod attachments;
mod auth_password;
mod auth_wechat;
mod benefits;
mod calendar;
mod cli;
mod co_handling;
mod console;
mod console_browser;
mod daily_reports;
mod daily_summaries;
mod errors;
mod helpers;
mod hub;
mod hub_queue;
mod idempotency;
mod job_openings;
mod lifecycle;
mod me_today;
mod notifications;
mod officer_ratings;
mod partitions;
mod policies;
mod problems;
mod redis_cluster;
mod redis_optional;
mod replicas;
mod rollup;
mod schema;
mod scope;
mod sdk;
mod service;
mod sign_ins;
mod spec;
mod stats;
mod task_forces;
mod tokens;
