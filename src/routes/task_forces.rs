//! 专班 ("1+2+N"): task forces — a leader, member departments and officers owning a set of key
//! enterprises. Admins create, change and dissolve them; the leader, the member officers and the region's
//! dispatchers and admins read them, their figures and their problems.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::problems::ProblemDto;
use super::{get, post, put, Endpoint, ListResponse, PageParams};
use crate::auth::extractors::AuthAdmin;
use crate::auth::scope::RegionScope;
use crate::auth::{AuthUser, Caller};
use crate::clock::wire_time;
use crate::db;
use crate::db::models::audit;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::task_force::{NewTaskForce, TaskForce};
use crate::db::models::unit::Unit;
use crate::db::models::user::User;
use crate::db::models::Page;
use crate::domain::field_error::{FieldCode, FieldError};
use crate::domain::role::Role;
use crate::domain::unit_kind::UnitKind;
use crate::error::AppError;
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

/// Longest task force name.
const MAX_NAME: usize = 50;
/// Most members of each kind.
const MAX_MEMBERS: usize = 200;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/admin/task-forces", web::post().to(task_force_create)),
        put("/api/v1/admin/task-forces/{id}", web::put().to(task_force_update)),
        post(
            "/api/v1/admin/task-forces/{id}/dissolve",
            web::post().to(task_force_dissolve),
        ),
        get("/api/v1/task-forces", web::get().to(task_force_list)),
        get("/api/v1/task-forces/{id}", web::get().to(task_force_get)),
        get(
            "/api/v1/task-forces/{id}/problems",
            web::get().to(task_force_problems),
        ),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskForceRequest {
    name: String,
    leader_id: Uuid,
    #[serde(default)]
    department_ids: Vec<Uuid>,
    #[serde(default)]
    officer_ids: Vec<Uuid>,
    enterprise_ids: Vec<Uuid>,
}

impl TaskForceRequest {
    fn as_new<'a>(&'a self, region: &'a str, name: &'a str) -> NewTaskForce<'a> {
        NewTaskForce {
            region_code: region,
            name,
            leader_id: self.leader_id,
            department_ids: &self.department_ids,
            officer_ids: &self.officer_ids,
            enterprise_ids: &self.enterprise_ids,
        }
    }
}

#[derive(Serialize)]
struct FiguresDto {
    enterprises: usize,
    problems: i64,
    open: i64,
    overdue: i64,
    closed: i64,
}

#[derive(Serialize)]
struct TaskForceDto {
    id: Uuid,
    name: String,
    region_code: String,
    leader_id: Uuid,
    created_at: DateTime<FixedOffset>,
    department_ids: Vec<Uuid>,
    officer_ids: Vec<Uuid>,
    enterprise_ids: Vec<Uuid>,
    figures: FiguresDto,
}

impl TaskForceDto {
    fn of(
        conn: &mut PgConnection,
        t: TaskForce,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, AppError> {
        let members = t.members(conn)?;
        let f = t.figures(conn, now)?;
        Ok(Self {
            figures: FiguresDto {
                enterprises: members.enterprise_ids.len(),
                problems: f.problems,
                open: f.open,
                overdue: f.overdue,
                closed: f.closed,
            },
            id: t.id,
            name: t.name,
            region_code: t.region_code,
            leader_id: t.leader_id,
            created_at: wire_time(t.created_at),
            department_ids: members.department_ids,
            officer_ids: members.officer_ids,
            enterprise_ids: members.enterprise_ids,
        })
    }
}

/// Each id of `ids` checked by `ok` (a fault per bad or repeated entry, under `field[i]`).
fn check_ids(
    errors: &mut Vec<FieldError>,
    field: &str,
    ids: &[Uuid],
    mut ok: impl FnMut(Uuid) -> Result<Option<&'static str>, AppError>,
) -> Result<(), AppError> {
    if ids.len() > MAX_MEMBERS {
        errors.push(FieldError::new(field, FieldCode::TooMany, "成员最多200个"));
        return Ok(());
    }
    for (i, id) in ids.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if ids[..i].contains(id) {
            errors.push(FieldError::new(&at, FieldCode::Duplicate, "重复"));
        } else if let Some(why) = ok(*id)? {
            errors.push(FieldError::new(&at, FieldCode::Unknown, why));
        }
    }
    Ok(())
}

/// Checks the whole request against the admin's region: every fault listed at once. `own` is
/// the task force being changed (its enterprises are not "in another task force").
fn checked(
    conn: &mut PgConnection,
    scope: &RegionScope,
    body: &TaskForceRequest,
    own: Option<Uuid>,
) -> Result<(String, String), AppError> {
    let mut errors = Vec::new();
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        errors.push(FieldError::new("name", FieldCode::Required, "不能为空"));
    } else if name.chars().count() > MAX_NAME {
        errors.push(FieldError::new("name", FieldCode::TooLong, "名称不能超过50字"));
    } else if name.contains('\0') {
        errors.push(FieldError::new(
            "name",
            FieldCode::Invalid,
            "不能包含空字符 (U+0000)",
        ));
    }
    let leader = User::find(conn, body.leader_id)?.filter(|u| u.active);
    let leader_region = match leader {
        Some(u) if scope.contains(conn, &u.region_code)? => Some(u.region_code),
        _ => {
            errors.push(FieldError::new(
                "leader_id",
                FieldCode::Unknown,
                "专班负责人不存在或不在您的管辖范围内",
            ));
            None
        }
    };
    check_ids(&mut errors, "department_ids", &body.department_ids, |id| {
        Ok(match Unit::find(conn, id)? {
            Some(u) if u.kind == UnitKind::Department && scope.contains(conn, &u.region_code)? => None,
            _ => Some("不是您管辖范围内的职能部门"),
        })
    })?;
    check_ids(&mut errors, "officer_ids", &body.officer_ids, |id| {
        Ok(match User::find(conn, id)? {
            Some(u) if u.roles.contains(&Role::Officer) && scope.contains(conn, &u.region_code)? => None,
            _ => Some("不是您管辖范围内的驻企联络员"),
        })
    })?;
    if body.enterprise_ids.is_empty() {
        errors.push(FieldError::new(
            "enterprise_ids",
            FieldCode::Required,
            "至少包联一家企业",
        ));
    }
    check_ids(&mut errors, "enterprise_ids", &body.enterprise_ids, |id| {
        Ok(match Enterprise::find(conn, id)? {
            Some(e) if !scope.contains(conn, &e.region_code)? => Some("企业不在您的管辖范围内"),
            None => Some("企业不存在"),
            Some(e) if TaskForce::of_enterprise(conn, e.id)?.is_some_and(|t| Some(t.id) != own) => {
                Some("企业已属于另一个专班")
            }
            Some(_) => None,
        })
    })?;
    match (errors.is_empty(), leader_region) {
        (true, Some(region)) => Ok((name, region)),
        _ => Err(AppError::invalid(errors)),
    }
}

/// What a duplicate means here: the name is taken in the region, or (in a race) an enterprise
/// joined another task force meanwhile.
const DUPLICATE: &str = "该地区已有同名专班（或企业已属于另一个专班）";

/// Creates a task force in its leader's region (201).
async fn task_force_create(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    body: web::Json<TaskForceRequest>,
) -> Result<HttpResponse, AppError> {
    let (caller, body, now) = (admin.caller, body.into_inner(), state.clock.now());
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let scope = RegionScope::of(conn, &caller)?;
            let (name, region) = checked(conn, &scope, &body, None)?;
            let force = TaskForce::insert(conn, &body.as_new(&region, &name), now)
                .map_err(AppError::duplicate_as(DUPLICATE))?;
            let after = TaskForceDto::of(conn, force, now)?;
            audit::record::<(), _>(
                conn,
                Some(caller.user_id),
                "task_force.create",
                "task_force",
                &after.id.to_string(),
                None,
                Some(&after),
            )?;
            Stored::json(StatusCode::CREATED, &after)
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// The task force an admin changes: one of their region subtree.
fn administered(conn: &mut PgConnection, scope: &RegionScope, id: Uuid) -> Result<TaskForce, AppError> {
    match TaskForce::find(conn, id)? {
        Some(force) if scope.contains(conn, &force.region_code)? => Ok(force),
        _ => Err(AppError::NotFound),
    }
}

/// Replaces a task force's name, leader and members (checked as on creation); it moves to the
/// new leader's region.
async fn task_force_update(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<TaskForceRequest>,
) -> Result<HttpResponse, AppError> {
    let (caller, id, body, now) = (
        admin.caller,
        id.into_inner(),
        body.into_inner(),
        state.clock.now(),
    );
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let scope = RegionScope::of(conn, &caller)?;
            let force = administered(conn, &scope, id)?;
            let (name, region) = checked(conn, &scope, &body, Some(id))?;
            let before = TaskForceDto::of(conn, force.clone(), now)?;
            let force = force
                .replace(conn, &body.as_new(&region, &name))
                .map_err(AppError::duplicate_as(DUPLICATE))?;
            let after = TaskForceDto::of(conn, force, now)?;
            audit::record(
                conn,
                Some(caller.user_id),
                "task_force.update",
                "task_force",
                &id.to_string(),
                Some(&before),
                Some(&after),
            )?;
            Stored::json(StatusCode::OK, &after)
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// 解散: the task force is removed (its enterprises may join another; their problems no longer
/// show it); the answer is the task force as it was, which the audit log keeps.
async fn task_force_dissolve(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (caller, id, now) = (admin.caller, id.into_inner(), state.clock.now());
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let scope = RegionScope::of(conn, &caller)?;
            let force = administered(conn, &scope, id)?;
            let before = TaskForceDto::of(conn, force.clone(), now)?;
            force.dissolve(conn)?;
            audit::record::<_, ()>(
                conn,
                Some(caller.user_id),
                "task_force.dissolve",
                "task_force",
                &id.to_string(),
                Some(&before),
                None,
            )?;
            Stored::json(StatusCode::OK, &before)
        })
    })
    .await?;
    Ok(stored.into_response())
}

/// Whether the caller may read the task force: the region's admins and dispatchers, its
/// leader and its officers.
fn visible(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<TaskForce, AppError> {
    let force = TaskForce::find(conn, id)?.ok_or(AppError::NotFound)?;
    let hub = (caller.has(Role::Admin) || caller.has(Role::Dispatcher))
        && RegionScope::of(conn, caller)?.contains(conn, &force.region_code)?;
    if hub || force.is_member(conn, caller.user_id)? {
        Ok(force)
    } else {
        Err(AppError::NotFound)
    }
}

/// The task forces the caller may read, by name: the region's for admins and dispatchers,
/// otherwise those they lead or serve in.
async fn task_force_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let items = db::run(&state.pool, move |conn| {
        let forces = if caller.has(Role::Admin) || caller.has(Role::Dispatcher) {
            let root = RegionScope::of(conn, &caller)?.root_path;
            TaskForce::in_region(conn, &root)?
        } else {
            TaskForce::of_member(conn, caller.user_id)?
        };
        forces
            .into_iter()
            .map(|t| TaskForceDto::of(conn, t, now))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(HttpResponse::Ok().json(page.slice(items)?))
}

async fn task_force_get(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let body = db::run(&state.pool, move |conn| {
        let force = visible(conn, &caller, id)?;
        TaskForceDto::of(conn, force, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The problems of the task force's enterprises, newest first: the leader's own list.
async fn task_force_problems(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let (limit, after) = (page.limit()?, page.time_cursor()?);
    let page = db::run(&state.pool, move |conn| {
        let force = visible(conn, &caller, id)?;
        let rows = force.problems(conn, after, limit)?;
        let page = Page::from_rows(rows, limit, |p| super::time_cursor(p.created_at, p.id));
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|p| ProblemDto::summary(p, now))
                .collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page)))
}
