//! Row structs and their queries, one file per table. Rows are never API bodies: routes map
//! them to DTOs.

pub mod assignment;
pub mod assignment_batch;
pub mod attachment;
pub mod audit;
pub mod calendar;
pub mod category;
pub mod co_handler;
pub mod console_session;
pub mod console_upload;
pub mod daily_report;
pub mod daily_summary;
pub mod delivery;
pub mod enterprise;
pub mod escalation;
pub mod extension;
pub mod idempotency;
pub mod job_opening;
pub mod missing;
pub mod monthly;
pub mod notification;
pub mod notification_settings;
pub mod notification_template;
pub mod officer_day;
pub mod officer_rating;
pub mod outbox;
pub mod policy;
pub mod policy_checkoff;
pub mod problem;
pub mod refresh_token;
pub mod region;
pub mod robot;
pub mod scoped;
pub mod sign_in;
pub mod stats;
pub mod subscription;
pub mod task_force;
pub mod unit;
pub mod user;

/// A page of rows plus the cursor of the next page, if there is one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says that more exist.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next_cursor = if more { rows.last().map(cursor_of) } else { None };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// A page with nothing on it and nothing after it.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            next_cursor: None,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}
