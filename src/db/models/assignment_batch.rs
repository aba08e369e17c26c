//! `assignment_batches` and their items (交办会): what one assignment meeting gave to whom.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{assignment_batch_items, assignment_batches, enterprises, problems, units, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assignment_batches, check_for_backend(diesel::pg::Pg))]
pub struct AssignmentBatch {
    pub id: Uuid,
    pub region_code: String,
    pub title: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub item_count: i32,
}

/// One problem as the meeting assigned it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assignment_batch_items, check_for_backend(diesel::pg::Pg))]
pub struct BatchItem {
    pub batch_id: Uuid,
    pub position: i32,
    pub problem_id: Uuid,
    pub number: String,
    pub department_id: Uuid,
    pub co_handler_ids: Vec<Uuid>,
    pub instructions: Option<String>,
    pub contact_due_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// A line of a department's 交办单: the item with what the department needs to act on it.
#[derive(Debug, Clone, Queryable)]
pub struct SheetLine {
    pub item: BatchItem,
    pub title: String,
    pub description: String,
    pub enterprise: String,
    pub enterprise_address: String,
    /// The officer who filed it (the enterprise's liaison), and their phone.
    pub reporter: String,
    pub reporter_phone: Option<String>,
}

impl AssignmentBatch {
    pub fn insert(
        conn: &mut PgConnection,
        region_code: &str,
        title: &str,
        created_by: Uuid,
        at: DateTime<Utc>,
        items: &[BatchItem],
    ) -> QueryResult<AssignmentBatch> {
        let batch: AssignmentBatch = diesel::insert_into(assignment_batches::table)
            .values((
                assignment_batches::region_code.eq(region_code),
                assignment_batches::title.eq(title),
                assignment_batches::created_by.eq(created_by),
                assignment_batches::created_at.eq(at),
                assignment_batches::item_count.eq(items.len() as i32),
            ))
            .returning(AssignmentBatch::as_returning())
            .get_result(conn)?;
        let rows: Vec<BatchItem> = items
            .iter()
            .cloned()
            .map(|i| BatchItem {
                batch_id: batch.id,
                ..i
            })
            .collect();
        // PostgreSQL takes at most 65,535 parameters a statement: 9 a row.
        for chunk in rows.chunks(5000) {
            diesel::insert_into(assignment_batch_items::table)
                .values(chunk)
                .execute(conn)?;
        }
        Ok(batch)
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<AssignmentBatch>> {
        assignment_batches::table
            .find(id)
            .select(AssignmentBatch::as_select())
            .first(conn)
            .optional()
    }

    /// The batches of regions under `path`, newest first, after the cursor's (created_at, id).
    pub fn list(
        conn: &mut PgConnection,
        path: &str,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> QueryResult<Vec<AssignmentBatch>> {
        let mut query = assignment_batches::table
            .filter(
                assignment_batches::region_code.eq_any(
                    crate::schema::regions::table
                        .filter(crate::schema::regions::path.like(format!("{path}%")))
                        .select(crate::schema::regions::code),
                ),
            )
            .order((
                assignment_batches::created_at.desc(),
                assignment_batches::id.desc(),
            ))
            .limit(limit + 1)
            .select(AssignmentBatch::as_select())
            .into_boxed();
        if let Some((at, id)) = after {
            query = query.filter(
                assignment_batches::created_at
                    .lt(at)
                    .or(assignment_batches::created_at
                        .eq(at)
                        .and(assignment_batches::id.lt(id))),
            );
        }
        query.load(conn)
    }

    pub fn items(conn: &mut PgConnection, batch_id: Uuid) -> QueryResult<Vec<BatchItem>> {
        assignment_batch_items::table
            .filter(assignment_batch_items::batch_id.eq(batch_id))
            .order(assignment_batch_items::position)
            .select(BatchItem::as_select())
            .load(conn)
    }

    /// The lines of the batch that concern `department` (as lead or co-handler), or all of
    /// them, in the meeting's order.
    pub fn sheet_lines(
        conn: &mut PgConnection,
        batch_id: Uuid,
        department: Option<Uuid>,
    ) -> QueryResult<Vec<SheetLine>> {
        let mut query = assignment_batch_items::table
            .inner_join(
                problems::table
                    .inner_join(enterprises::table)
                    .inner_join(users::table),
            )
            .filter(assignment_batch_items::batch_id.eq(batch_id))
            .order(assignment_batch_items::position)
            .select((
                BatchItem::as_select(),
                problems::title,
                problems::description,
                enterprises::name,
                enterprises::address,
                users::name,
                users::phone,
            ))
            .into_boxed();
        if let Some(d) = department {
            query = query.filter(
                assignment_batch_items::department_id
                    .eq(d)
                    .or(assignment_batch_items::co_handler_ids.contains(vec![d])),
            );
        }
        query.load(conn)
    }

    /// The departments the batch concerns, with their names, by name.
    pub fn departments(conn: &mut PgConnection, items: &[BatchItem]) -> QueryResult<Vec<(Uuid, String)>> {
        let ids: Vec<Uuid> = items
            .iter()
            .flat_map(|i| std::iter::once(i.department_id).chain(i.co_handler_ids.iter().copied()))
            .collect();
        units::table
            .filter(units::id.eq_any(ids))
            .order((units::name, units::id))
            .select((units::id, units::name))
            .load(conn)
    }
}
