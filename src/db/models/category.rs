//! `categories`: the hub's problem categories and their deadline policies.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::category::CategoryInput;
use crate::domain::problem::Urgency;
use crate::schema::categories;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
pub struct Category {
    pub code: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub default_department_id: Option<Uuid>,
    pub due_working_days: i32,
    pub urgent_due_working_days: i32,
    pub sort_order: i32,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

impl Category {
    /// Working days a problem of this category gets.
    pub fn due_working_days(&self, urgency: Urgency) -> u32 {
        let days = match urgency {
            Urgency::Normal => self.due_working_days,
            Urgency::Urgent => self.urgent_due_working_days,
        };
        days.max(1) as u32
    }

    /// Active categories in their order, then the retired ones.
    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Category>> {
        categories::table
            .order((
                categories::active.desc(),
                categories::sort_order,
                categories::code,
            ))
            .select(Category::as_select())
            .load(conn)
    }

    pub fn find_active(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Category>> {
        categories::table
            .find(code)
            .filter(categories::active.eq(true))
            .select(Category::as_select())
            .first(conn)
            .optional()
    }

    pub fn find(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Category>> {
        categories::table
            .find(code)
            .select(Category::as_select())
            .first(conn)
            .optional()
    }

    /// Makes the table say what `items` says, in that order; categories left out are retired
    /// (problems keep their codes). Call inside a transaction.
    pub fn replace_all(conn: &mut PgConnection, items: &[CategoryInput]) -> QueryResult<()> {
        for (i, item) in items.iter().enumerate() {
            let values = (
                categories::name.eq(&item.name),
                categories::keywords.eq(&item.keywords),
                categories::default_department_id.eq(item.default_department_id),
                categories::due_working_days.eq(item.due_working_days),
                categories::urgent_due_working_days.eq(item.urgent_due_working_days),
                categories::sort_order.eq(i as i32 + 1),
                categories::active.eq(item.active),
            );
            diesel::insert_into(categories::table)
                .values((categories::code.eq(&item.code), values))
                .on_conflict(categories::code)
                .do_update()
                .set(values)
                .execute(conn)?;
        }
        let listed: Vec<&str> = items.iter().map(|i| i.code.as_str()).collect();
        diesel::update(categories::table.filter(categories::code.ne_all(listed)))
            .set(categories::active.eq(false))
            .execute(conn)?;
        Ok(())
    }
}
