//! 交办会: an assignment meeting gives many problems to their lead and co-handling departments
//! at once. Every item is tried in its own savepoint, so each failure is reported with its
//! index and nothing of it is left behind; with `all_or_nothing` one failure refuses the
//! whole meeting (the request's transaction rolls back), otherwise the items that passed are
//! kept. The batch records each item as assigned, for the departments' 交办单.

use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::actions::{self, Acting, CoHandlerInput};
use crate::auth::scope::RegionScope;
use crate::db::models::assignment_batch::{AssignmentBatch, BatchItem};
use crate::db::models::problem::Problem;
use crate::domain::field_error::FieldCode;
use crate::error::{AppError, ErrorCode};

/// Most items one meeting takes (Jinxian's largest sitting took 508).
pub const MAX_ITEMS: usize = 1000;
/// Longest meeting title.
pub const MAX_TITLE: usize = 100;

/// One problem of the meeting, as the dispatcher assigns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingItem {
    pub problem_id: Uuid,
    /// Triages a problem still in the queue first (as `triage` does); without it the problem
    /// must already be triaged.
    pub category: Option<String>,
    pub department_id: Uuid,
    #[serde(default)]
    pub co_handlers: Vec<CoHandlerInput>,
    pub due_working_days: Option<u32>,
    pub instructions: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    pub title: String,
    /// One failure refuses everything (the default), or only the failed items.
    #[serde(default = "all_or_nothing")]
    pub all_or_nothing: bool,
    pub items: Vec<MeetingItem>,
}

fn all_or_nothing() -> bool {
    true
}

/// Why one item was refused: the error it would have had alone.
#[derive(Debug, Clone, Serialize)]
pub struct ItemError {
    pub index: usize,
    pub problem_id: Uuid,
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
}

/// What the meeting did.
pub struct Held {
    pub batch: AssignmentBatch,
    pub items: Vec<BatchItem>,
    /// Items refused (only when not `all_or_nothing`).
    pub failed: Vec<ItemError>,
    /// The (description, category) of each problem the meeting triaged: what the classifier
    /// learns once the meeting is committed, as from a single triage.
    pub triaged: Vec<(String, String)>,
}

/// A refusal of one item, or the error that must end the whole request (the database or the
/// server failing, not the item).
fn item_error(index: usize, problem_id: Uuid, error: AppError) -> Result<ItemError, AppError> {
    let (code, message, details) = match error {
        AppError::Refused {
            code,
            message,
            details,
        } => (code, message, details),
        AppError::NotFound => (
            ErrorCode::NotFound,
            "问题不存在或不在您的管辖范围内".to_owned(),
            json!({}),
        ),
        other => return Err(other),
    };
    Ok(ItemError {
        index,
        problem_id,
        code,
        message,
        // Always an object, as an error's `details` is.
        details: if details.is_null() { json!({}) } else { details },
    })
}

fn check_meeting(meeting: &Meeting) -> Result<String, AppError> {
    let title = actions::note_text("title", Some(&meeting.title), true)?.unwrap_or_default();
    if title.chars().count() > MAX_TITLE {
        return Err(AppError::invalid_field(
            "title",
            FieldCode::TooLong,
            "会议名称不能超过100字",
        ));
    }
    if meeting.items.is_empty() {
        return Err(AppError::invalid_field(
            "items",
            FieldCode::Required,
            "至少交办一个问题",
        ));
    }
    if meeting.items.len() > MAX_ITEMS {
        return Err(AppError::invalid_field(
            "items",
            FieldCode::TooMany,
            "一次最多交办1000个问题",
        ));
    }
    Ok(title)
}

/// One item in its savepoint: triage if asked, assign, and the line for the batch (with the
/// triaged problem's description and category).
fn assign_item(
    conn: &mut PgConnection,
    acting: Acting,
    position: usize,
    item: &MeetingItem,
) -> Result<(BatchItem, Option<(String, String)>), AppError> {
    conn.transaction(|conn| {
        let triaged = match &item.category {
            Some(category) => {
                let problem = actions::triage(conn, acting, item.problem_id, category, None)?;
                problem.category.map(|c| (problem.description, c))
            }
            None => None,
        };
        let problem = actions::assign(
            conn,
            acting,
            item.problem_id,
            item.department_id,
            item.due_working_days,
            item.instructions.as_deref(),
            &item.co_handlers,
        )?;
        // The assignment took the co-handlers as named, in order.
        let co_handler_ids = item.co_handlers.iter().map(|c| c.department_id).collect();
        let line = BatchItem {
            batch_id: Uuid::nil(),
            position: position as i32,
            problem_id: problem.id,
            number: problem.number.clone().unwrap_or_default(),
            department_id: item.department_id,
            co_handler_ids,
            instructions: problem.instructions.clone(),
            contact_due_at: problem.contact_due_at.unwrap_or(acting.now),
            due_at: problem.due_at.unwrap_or(acting.now),
        };
        Ok((line, triaged))
    })
}

/// Holds the meeting inside the caller's transaction.
pub fn hold(conn: &mut PgConnection, acting: Acting, meeting: &Meeting) -> Result<Held, AppError> {
    let title = check_meeting(meeting)?;
    let ids: Vec<Uuid> = meeting.items.iter().map(|i| i.problem_id).collect();
    Problem::lock_all(conn, &ids)?;
    let mut items = Vec::with_capacity(meeting.items.len());
    let mut failed = Vec::new();
    let mut triaged = Vec::new();
    for (index, item) in meeting.items.iter().enumerate() {
        if meeting.items[..index]
            .iter()
            .any(|earlier| earlier.problem_id == item.problem_id)
        {
            failed.push(ItemError {
                index,
                problem_id: item.problem_id,
                code: ErrorCode::ValidationFailed,
                message: "同一问题在本次交办中出现多次".to_owned(),
                details: json!({ "errors": [{ "field": format!("items[{index}].problem_id"), "code": "duplicate", "message": "重复" }] }),
            });
            continue;
        }
        match assign_item(conn, acting, items.len(), item) {
            Ok((line, confirmed)) => {
                items.push(line);
                triaged.extend(confirmed);
            }
            Err(e) => failed.push(item_error(index, item.problem_id, e)?),
        }
    }
    if !failed.is_empty() && (meeting.all_or_nothing || items.is_empty()) {
        return Err(AppError::with_details(
            ErrorCode::AssignmentItemsInvalid,
            format!("{}个问题未能交办，本次交办会未保存", failed.len()),
            json!({ "items": failed }),
        ));
    }
    let region = RegionScope::of(conn, acting.caller)?;
    let batch = AssignmentBatch::insert(
        conn,
        &region.root_code,
        &title,
        acting.caller.user_id,
        acting.now,
        &items,
    )?;
    let items = items
        .into_iter()
        .map(|i| BatchItem {
            batch_id: batch.id,
            ..i
        })
        .collect();
    Ok(Held {
        batch,
        items,
        failed,
        triaged,
    })
}
