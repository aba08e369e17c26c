//! `audit_log`: the append-only trail of who changed what (a trigger refuses updates and
//! deletes).

use std::cell::RefCell;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::schema::audit_log;

thread_local! {
    /// The request id of the request whose database work runs on this thread right now;
    /// `db::run` sets it, so audit entries name the request without every caller passing it.
    static REQUEST_ID: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Sets the current thread's request id until the guard is dropped.
pub fn with_request_id<T>(id: Option<String>, work: impl FnOnce() -> T) -> T {
    let previous = REQUEST_ID.with(|r| r.replace(id));
    let result = work();
    REQUEST_ID.with(|r| *r.borrow_mut() = previous);
    result
}

#[derive(Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
struct NewAuditEntry<'a> {
    actor_id: Option<Uuid>,
    action: &'a str,
    object_type: &'a str,
    object_id: &'a str,
    before: Option<Value>,
    after: Option<Value>,
    request_id: Option<String>,
}

/// Appends one entry. `before`/`after` are the object's row as it was and as it is now.
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut PgConnection,
    actor_id: Option<Uuid>,
    action: &str,
    object_type: &str,
    object_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> QueryResult<()> {
    let to_json = |v: Option<Value>| v.filter(|v| !v.is_null());
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            actor_id,
            action,
            object_type,
            object_id,
            before: to_json(before.and_then(|b| serde_json::to_value(b).ok())),
            after: to_json(after.and_then(|a| serde_json::to_value(a).ok())),
            request_id: REQUEST_ID.with(|r| r.borrow().clone()),
        })
        .execute(conn)?;
    Ok(())
}
