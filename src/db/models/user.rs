//! `users`: everyone who signs in, whatever their roles.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::role::Role;
use crate::schema::{regions, users};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub name: String,
    /// Masked in the audit log: the log is read by many, a phone number is personal data.
    #[serde(serialize_with = "masked_phone")]
    pub phone: Option<String>,
    pub roles: Vec<Role>,
    pub unit_id: Option<Uuid>,
    pub region_code: String,
    pub enterprise_id: Option<Uuid>,
    #[serde(skip)]
    pub invite_code_hash: Option<String>,
    pub invite_expires_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Only whether there is one reaches the audit log.
    #[serde(rename = "wechat_bound", serialize_with = "is_some")]
    pub wechat_openid: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Raised by the database whenever the user's sessions must end (migration 000010); an
    /// access token carries the generation it was issued under.
    pub session_generation: i64,
}

/// `13807330011` → `138****0011`.
fn masked_phone<S: serde::Serializer>(phone: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match phone {
        Some(p) if p.len() == 11 && p.is_ascii() => s.serialize_str(&format!("{}****{}", &p[..3], &p[7..])),
        Some(_) => s.serialize_str("****"),
        None => s.serialize_none(),
    }
}

fn is_some<S: serde::Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(value.is_some())
}

/// The roster fields an admin sets (import or API).
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserFields<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub roles: Vec<Role>,
    pub unit_id: Option<Uuid>,
    pub region_code: &'a str,
    pub enterprise_id: Option<Uuid>,
}

#[derive(Debug, Default)]
pub struct UserFilter {
    pub username: Option<String>,
    pub phone: Option<String>,
    pub role: Option<Role>,
    pub unit_id: Option<Uuid>,
    /// Part of the username or the name, or the whole phone number (the console's search).
    pub text: Option<String>,
}

impl User {
    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_username(conn: &mut PgConnection, username: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::username.eq(username))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_phone(conn: &mut PgConnection, phone: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::phone.eq(phone))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_openid(conn: &mut PgConnection, openid: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::wechat_openid.eq(openid))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn list_in_subtree(
        conn: &mut PgConnection,
        root_path: &str,
        filter: &UserFilter,
        cursor: Option<Uuid>,
        limit: i64,
    ) -> QueryResult<Vec<User>> {
        let subtree = regions::table
            .filter(regions::path.like(format!("{root_path}%")))
            .select(regions::code);
        let mut query = users::table
            .filter(users::region_code.eq_any(subtree))
            .select(User::as_select())
            .order(users::id)
            .limit(limit + 1)
            .into_boxed();
        if let Some(username) = &filter.username {
            query = query.filter(users::username.eq(username.clone()));
        }
        if let Some(phone) = &filter.phone {
            query = query.filter(users::phone.eq(phone.clone()));
        }
        if let Some(role) = filter.role {
            query = query.filter(users::roles.contains(vec![role.as_str().to_owned()]));
        }
        if let Some(unit) = filter.unit_id {
            query = query.filter(users::unit_id.eq(unit));
        }
        if let Some(text) = &filter.text {
            let like = format!("%{}%", crate::db::like_escaped(text));
            query = query.filter(
                users::username
                    .like(like.clone())
                    .or(users::name.like(like))
                    .or(users::phone.eq(text.clone())),
            );
        }
        if let Some(cursor) = cursor {
            query = query.filter(users::id.gt(cursor));
        }
        query.load(conn)
    }

    /// Usernames by id, for the rows of a page.
    pub fn usernames_by_id(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> QueryResult<std::collections::HashMap<Uuid, String>> {
        Ok(users::table
            .filter(users::id.eq_any(ids))
            .select((users::id, users::username))
            .load::<(Uuid, String)>(conn)?
            .into_iter()
            .collect())
    }

    pub fn insert(conn: &mut PgConnection, fields: &UserFields) -> QueryResult<User> {
        diesel::insert_into(users::table)
            .values(fields)
            .returning(User::as_returning())
            .get_result(conn)
    }

    pub fn update(conn: &mut PgConnection, id: Uuid, fields: &UserFields) -> QueryResult<User> {
        diesel::update(users::table.find(id))
            .set(fields)
            .returning(User::as_returning())
            .get_result(conn)
    }

    pub fn set_active(conn: &mut PgConnection, id: Uuid, active: bool) -> QueryResult<User> {
        diesel::update(users::table.find(id))
            .set(users::active.eq(active))
            .returning(User::as_returning())
            .get_result(conn)
    }

    /// Stores a new invite code digest, replacing any earlier one.
    pub fn set_invite(
        conn: &mut PgConnection,
        id: Uuid,
        digest: &str,
        expires_at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::invite_code_hash.eq(digest),
                users::invite_expires_at.eq(expires_at),
            ))
            .execute(conn)
    }

    /// Binds the openid and consumes the invite code, in one statement.
    pub fn bind_openid(conn: &mut PgConnection, id: Uuid, openid: &str) -> QueryResult<User> {
        diesel::update(users::table.find(id))
            .set((
                users::wechat_openid.eq(openid),
                users::invite_code_hash.eq(None::<String>),
                users::invite_expires_at.eq(None::<DateTime<Utc>>),
            ))
            .returning(User::as_returning())
            .get_result(conn)
    }

    /// Ends every session of the user (a logout): raises their session generation and returns
    /// the new one.
    pub fn end_sessions(conn: &mut PgConnection, id: Uuid) -> QueryResult<i64> {
        diesel::update(users::table.find(id))
            .set(users::session_generation.eq(users::session_generation + 1))
            .returning(users::session_generation)
            .get_result(conn)
    }

    /// The user's session generation, `None` for no such user.
    pub fn session_generation(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<i64>> {
        users::table
            .find(id)
            .select(users::session_generation)
            .first(conn)
            .optional()
    }

    /// Replaces the password hash only if it is still `expected` (the one a check was made
    /// against): the updated user, or `None` when it changed meanwhile.
    pub fn replace_password_hash(
        conn: &mut PgConnection,
        id: Uuid,
        expected: Option<&str>,
        hash: &str,
    ) -> QueryResult<Option<User>> {
        use diesel::PgExpressionMethods;
        diesel::update(
            users::table
                .find(id)
                .filter(users::password_hash.is_not_distinct_from(expected)),
        )
        .set(users::password_hash.eq(hash))
        .returning(User::as_returning())
        .get_result(conn)
        .optional()
    }

    pub fn set_password_hash(conn: &mut PgConnection, id: Uuid, hash: &str) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(conn)
    }

    /// The kinds the user muted (words of `NotificationKind`).
    pub fn muted_kinds(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<String>> {
        users::table.find(id).select(users::muted_kinds).first(conn)
    }

    pub fn set_muted_kinds(conn: &mut PgConnection, id: Uuid, kinds: &[String]) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::muted_kinds.eq(kinds))
            .execute(conn)
    }
}
