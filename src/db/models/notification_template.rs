//! `notification_templates`: the WeChat subscribe-message template that carries each kind,
//! and which of the kind's values fills each of its fields. Set by a top-region admin.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::notification::NotificationKind;
use crate::schema::notification_templates;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = notification_templates, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
pub struct Template {
    pub kind: NotificationKind,
    pub template_id: String,
    pub page: Option<String>,
    pub fields: serde_json::Value,
    pub long_term: bool,
    pub enabled: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

impl Template {
    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Template>> {
        notification_templates::table
            .order(notification_templates::kind)
            .select(Template::as_select())
            .load(conn)
    }

    /// The enabled templates by kind.
    pub fn enabled(conn: &mut PgConnection) -> QueryResult<BTreeMap<String, Template>> {
        Ok(notification_templates::table
            .filter(notification_templates::enabled.eq(true))
            .select(Template::as_select())
            .load(conn)?
            .into_iter()
            .map(|t| (t.kind.as_str().to_owned(), t))
            .collect())
    }

    pub fn upsert(conn: &mut PgConnection, template: &Template) -> QueryResult<Template> {
        diesel::insert_into(notification_templates::table)
            .values(template)
            .on_conflict(notification_templates::kind)
            .do_update()
            .set(template)
            .returning(Template::as_returning())
            .get_result(conn)
    }

    /// Template key → value name, as stored.
    pub fn field_map(&self) -> BTreeMap<String, String> {
        serde_json::from_value(self.fields.clone()).unwrap_or_default()
    }

    /// The template ids configured for any kind: those a subscription may name.
    pub fn known_ids(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
        notification_templates::table
            .select(notification_templates::template_id)
            .distinct()
            .load(conn)
    }
}
