//! Problem categories (问题类别): the list the classifier, triage and ledgers use, with each
//! category's default department and deadline policy.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::extractors::AuthRegionStaff;
use crate::auth::scope::{self, RegionScope};
use crate::auth::AuthAdmin;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::audit;
use crate::db::models::category::Category;
use crate::db::models::unit::Unit;
use crate::domain::category::{validate_all, CategoryInput};
use crate::domain::roster::{FieldCode, FieldError};
use crate::domain::unit_kind::UnitKind;
use crate::error::AppError;
use crate::idempotency::{self, Idempotency, Stored};
use crate::routes::{get, put, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/admin/categories", web::get().to(admin_category_list)),
        put("/api/v1/admin/categories", web::put().to(admin_category_put)),
    ]
}

#[derive(Serialize)]
struct CategoryDto {
    code: String,
    name: String,
    keywords: Vec<String>,
    default_department_id: Option<Uuid>,
    due_working_days: i32,
    urgent_due_working_days: i32,
    active: bool,
    updated_at: DateTime<FixedOffset>,
}

impl From<Category> for CategoryDto {
    fn from(c: Category) -> Self {
        Self {
            code: c.code,
            name: c.name,
            keywords: c.keywords,
            default_department_id: c.default_department_id,
            due_working_days: c.due_working_days,
            urgent_due_working_days: c.urgent_due_working_days,
            active: c.active,
            updated_at: wire_time(c.updated_at),
        }
    }
}

#[derive(Serialize)]
struct CategoryList {
    items: Vec<CategoryDto>,
}

/// Every category in display order, retired ones included (`active: false`). Admins edit
/// them; dispatchers read them to triage.
async fn admin_category_list(
    state: web::Data<AppState>,
    _staff: AuthRegionStaff,
) -> Result<HttpResponse, AppError> {
    let items = db::run(&state.pool, |conn| Ok(Category::all(conn)?)).await?;
    Ok(HttpResponse::Ok().json(CategoryList {
        items: items.into_iter().map(CategoryDto::from).collect(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryUpload {
    items: Vec<CategoryInput>,
}

/// Replaces the list: listed categories are created or updated in that order, the others
/// retired (problems keep their codes); `other` stays, active. A default department must be a
/// department in the admin's region. Only an admin of the top region may do this.
async fn admin_category_put(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    body: web::Json<CategoryUpload>,
) -> Result<HttpResponse, AppError> {
    let items = validate_all(body.into_inner().items).map_err(AppError::invalid)?;
    let now = state.clock.now();
    let caller = admin.caller;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            scope::require_top_region_admin(conn, &caller)?;
            let scope = RegionScope::of(conn, &caller)?;
            let mut errors = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let Some(department_id) = item.default_department_id else {
                    continue;
                };
                let department = Unit::find(conn, department_id)?.filter(|u| u.kind == UnitKind::Department);
                let in_scope = match &department {
                    Some(unit) => scope.contains(conn, &unit.region_code)?,
                    None => false,
                };
                if !in_scope {
                    errors.push(FieldError::new(
                        &format!("items[{i}].default_department_id"),
                        FieldCode::Unknown,
                        "不存在或不是您辖区内的职能部门",
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(AppError::invalid(errors));
            }
            let before: Vec<CategoryDto> = Category::all(conn)?.into_iter().map(CategoryDto::from).collect();
            Category::replace_all(conn, &items)?;
            let after: Vec<CategoryDto> = Category::all(conn)?.into_iter().map(CategoryDto::from).collect();
            audit::record(
                conn,
                Some(caller.user_id),
                "categories.replace",
                "categories",
                "all",
                Some(&before),
                Some(&after),
            )?;
            Stored::json(StatusCode::OK, &CategoryList { items: after })
        })
    })
    .await?;
    Ok(stored.into_response())
}
