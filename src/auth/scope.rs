//! Who may see what: the one place that turns a caller into the set of objects they can reach.
//!
//! Admins and dispatchers see their region's subtree; unit admins their unit's officers and
//! those officers' enterprises; officers the enterprises they are (or were) assigned to;
//! enterprise contacts their own enterprise. An object outside the caller's scope is reported
//! as absent (404), never as forbidden, so ids cannot be probed.

use chrono::NaiveDate;
use diesel::dsl::exists;
use diesel::prelude::*;
use uuid::Uuid;

use super::Caller;
use crate::db::models::co_handler::CoHandler;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::problem::Problem;
use crate::db::models::region::Region;
use crate::db::models::scoped::RecordScope;
use crate::db::models::stats::StatsScope;
use crate::db::models::task_force::TaskForce;
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::schema::{assignments, regions, users};

/// A region and everything below it.
#[derive(Debug, Clone)]
pub struct RegionScope {
    pub root_code: String,
    /// The materialised path of the root; every region below starts with it.
    pub root_path: String,
}

impl RegionScope {
    /// The subtree of the caller's own region.
    pub fn of(conn: &mut PgConnection, caller: &Caller) -> Result<Self, AppError> {
        let root = Region::find(conn, &caller.region_code)?.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "caller's region {} does not exist",
                caller.region_code
            ))
        })?;
        Ok(Self {
            root_code: root.code,
            root_path: root.path,
        })
    }

    /// `true` when `code` names a region in this subtree.
    pub fn contains(&self, conn: &mut PgConnection, code: &str) -> QueryResult<bool> {
        diesel::select(exists(
            regions::table
                .filter(regions::code.eq(code))
                .filter(regions::path.like(format!("{}%", self.root_path))),
        ))
        .get_result(conn)
    }

    /// Succeeds when `code` is in the subtree, else reports the object as not found.
    pub fn require(&self, conn: &mut PgConnection, code: &str) -> Result<(), AppError> {
        if self.contains(conn, code)? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// Settings the whole deployment shares (problem categories, the working-day calendar) may be
/// changed only by an admin of a top region (one without a parent): a district admin's change
/// would reach every other district too.
pub fn require_top_region_admin(conn: &mut PgConnection, caller: &Caller) -> Result<(), AppError> {
    let top = Region::find(conn, &caller.region_code)?.is_some_and(|r| r.parent_code.is_none());
    if top && caller.has(Role::Admin) {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::AdminTopRegionRequired,
        "全市共用的设置只能由市级（顶级区划）管理员修改 (only an admin of the top region may change this)",
    ))
}

/// Whether any of the caller's roles lets them read `enterprise`.
pub fn can_see_enterprise(
    conn: &mut PgConnection,
    caller: &Caller,
    enterprise: &Enterprise,
) -> Result<bool, AppError> {
    for role in &caller.roles {
        let visible = match role {
            Role::Admin | Role::Dispatcher => {
                RegionScope::of(conn, caller)?.contains(conn, &enterprise.region_code)?
            }
            Role::Officer => is_assigned(conn, caller.user_id, enterprise.id)?,
            Role::UnitAdmin => match caller.unit_id {
                Some(unit) => unit_covers(conn, unit, enterprise.id)?,
                None => false,
            },
            Role::Enterprise => caller.enterprise_id == Some(enterprise.id),
            // Departments reach enterprises only through the problems assigned to them.
            Role::Department => false,
        };
        if visible {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Loads an enterprise the caller may read; absent and invisible look the same.
pub fn visible_enterprise(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Enterprise, AppError> {
    match Enterprise::find(conn, id)? {
        Some(enterprise) if can_see_enterprise(conn, caller, &enterprise)? => Ok(enterprise),
        _ => Err(AppError::NotFound),
    }
}

/// Whether the officer has ever been assigned to the enterprise (their history stays theirs).
fn is_assigned(conn: &mut PgConnection, officer_id: Uuid, enterprise_id: Uuid) -> QueryResult<bool> {
    diesel::select(exists(
        assignments::table
            .filter(assignments::officer_id.eq(officer_id))
            .filter(assignments::enterprise_id.eq(enterprise_id)),
    ))
    .get_result(conn)
}

/// Whether an officer of `unit_id` is or was assigned to the enterprise.
fn unit_covers(conn: &mut PgConnection, unit_id: Uuid, enterprise_id: Uuid) -> QueryResult<bool> {
    diesel::select(exists(
        assignments::table
            .inner_join(users::table)
            .filter(users::unit_id.eq(unit_id))
            .filter(assignments::enterprise_id.eq(enterprise_id)),
    ))
    .get_result(conn)
}

/// Which officers' records the caller reads; the broadest of their roles wins.
pub fn record_scope(conn: &mut PgConnection, caller: &Caller) -> Result<RecordScope, AppError> {
    if caller.has(Role::Admin) || caller.has(Role::Dispatcher) {
        return Ok(RecordScope::Region(RegionScope::of(conn, caller)?.root_path));
    }
    if let (true, Some(unit)) = (caller.has(Role::UnitAdmin), caller.unit_id) {
        return Ok(RecordScope::Unit(unit));
    }
    if caller.has(Role::Officer) {
        return Ok(RecordScope::Officer(caller.user_id));
    }
    if let (true, Some(unit)) = (caller.has(Role::Department), caller.unit_id) {
        return Ok(RecordScope::Department(unit));
    }
    if let (true, Some(enterprise)) = (caller.has(Role::Enterprise), caller.enterprise_id) {
        return Ok(RecordScope::Enterprise(enterprise));
    }
    Ok(RecordScope::Nothing)
}

/// The caller's roles that relate to this problem: the dispatcher of its region (or the
/// leader of its enterprise's task force, 专班), its department, an officer assigned to its enterprise today, and its enterprise's contact. What the caller may do to the problem is decided from these alone
/// (`domain::lifecycle`); a caller with none that cannot read it either gets 404.
pub fn roles_toward_problem(
    conn: &mut PgConnection,
    caller: &Caller,
    problem: &Problem,
    today: NaiveDate,
) -> Result<Vec<Role>, AppError> {
    let mut roles = Vec::new();
    if caller.has(Role::Dispatcher) && RegionScope::of(conn, caller)?.contains(conn, &problem.region_code)? {
        roles.push(Role::Dispatcher);
    } else if TaskForce::leads(conn, caller.user_id, problem.enterprise_id)? {
        // 专班: the leader dispatches their task force's problems as the hub does.
        roles.push(Role::Dispatcher);
    }
    if caller.has(Role::Department) && caller.unit_id.is_some() && problem.department_id == caller.unit_id {
        roles.push(Role::Department);
    }
    // An officer acts for an enterprise while assigned to it, as for sign-ins: one whose
    // assignment ended no longer resolves or rates its problems (reading them stays).
    if caller.has(Role::Officer) && assigned_on(conn, caller.user_id, problem.enterprise_id, today)? {
        roles.push(Role::Officer);
    }
    if caller.has(Role::Enterprise) && caller.enterprise_id == Some(problem.enterprise_id) {
        roles.push(Role::Enterprise);
    }
    Ok(roles)
}

/// Whether the caller may read the problem at all: its hub, its department, its enterprise,
/// whoever filed it, and anyone whose records reach its enterprise (an officer who was
/// assigned there, their unit admin).
pub fn can_see_problem(
    conn: &mut PgConnection,
    caller: &Caller,
    problem: &Problem,
) -> Result<bool, AppError> {
    let direct = problem.reporter_id == caller.user_id
        || (caller.has(Role::Department)
            && caller.unit_id.is_some()
            && problem.department_id == caller.unit_id)
        || (caller.has(Role::Enterprise) && caller.enterprise_id == Some(problem.enterprise_id))
        || (caller.has(Role::Dispatcher)
            && RegionScope::of(conn, caller)?.contains(conn, &problem.region_code)?);
    if direct {
        return Ok(true);
    }
    if let (true, Some(unit)) = (caller.has(Role::Department), caller.unit_id) {
        if CoHandler::is_active(conn, problem.id, unit)? {
            return Ok(true);
        }
    }
    if TaskForce::leads(conn, caller.user_id, problem.enterprise_id)? {
        return Ok(true);
    }
    let scope = record_scope(conn, caller)?;
    Ok(problem.visible_in(conn, &scope)?)
}

/// Whether the officer is assigned to the enterprise on `day` (start and end inclusive): the
/// condition for signing in and reporting there.
pub fn assigned_on(
    conn: &mut PgConnection,
    officer_id: Uuid,
    enterprise_id: Uuid,
    day: NaiveDate,
) -> QueryResult<bool> {
    diesel::select(assignment_on(officer_id, enterprise_id, day)).get_result(conn)
}

/// Whether the officer was assigned to the enterprise on `day`, as an expression to select
/// beside other columns (see `Enterprise::for_filing`).
#[diesel::dsl::auto_type]
pub fn assignment_on(officer_id: Uuid, enterprise_id: Uuid, day: NaiveDate) -> _ {
    exists(
        assignments::table
            .filter(assignments::officer_id.eq(officer_id))
            .filter(assignments::enterprise_id.eq(enterprise_id))
            .filter(assignments::start_day.le(day))
            .filter(assignments::end_day.is_null().or(assignments::end_day.ge(day))),
    )
}

/// Which unit's officers a caller's dashboards are limited to: none for dispatchers and admins
/// (their whole region), their unit for unit admins. Other roles see no dashboards.
pub fn stats_unit(caller: &Caller) -> Result<Option<Uuid>, AppError> {
    if caller.has(Role::Admin) || caller.has(Role::Dispatcher) {
        return Ok(None);
    }
    match (caller.has(Role::UnitAdmin), caller.unit_id) {
        (true, Some(unit)) => Ok(Some(unit)),
        _ => Err(AppError::new(
            ErrorCode::StatsForbidden,
            "统计仅对驻企办、管理员和派出单位管理员开放",
        )),
    }
}

/// The dashboards of the caller's own region need no lookup: the region is theirs by the token,
/// and its path is resolved only if the figures have to be computed (`StatsScope::resolve`).
pub fn own_stats_scope(caller: &Caller) -> Result<StatsScope, AppError> {
    Ok(StatsScope {
        region_code: caller.region_code.clone(),
        region_path: String::new(),
        unit_id: stats_unit(caller)?,
    })
}

/// The region whose enterprise services (job openings, policy check-offs) the caller sums up:
/// the hub, admins and the departments (the bureaus that act on them), over their region
/// subtree or a region inside it (one outside is absent).
pub fn services_region(
    conn: &mut PgConnection,
    caller: &Caller,
    region_code: Option<&str>,
) -> Result<Region, AppError> {
    if !(caller.has(Role::Admin) || caller.has(Role::Dispatcher) || caller.has(Role::Department)) {
        return Err(AppError::new(
            ErrorCode::StatsForbidden,
            "汇总对驻企办、管理员和职能部门开放",
        ));
    }
    let own = RegionScope::of(conn, caller)?;
    let code = region_code.unwrap_or(&own.root_code);
    own.require(conn, code)?;
    Region::find(conn, code)?.ok_or(AppError::NotFound)
}

/// Whose figures the caller may see on the dashboards: dispatchers and admins their region's
/// subtree, unit admins their unit's officers; `region_code` narrows to a region inside that
/// (one outside it is reported as absent).
pub fn stats_scope(
    conn: &mut PgConnection,
    caller: &Caller,
    region_code: Option<&str>,
) -> Result<StatsScope, AppError> {
    let unit_id = stats_unit(caller)?;
    let own = RegionScope::of(conn, caller)?;
    let region = match region_code {
        Some(code) => {
            own.require(conn, code)?;
            Region::find(conn, code)?.ok_or(AppError::NotFound)?
        }
        None => Region::find(conn, &own.root_code)?.ok_or(AppError::NotFound)?,
    };
    Ok(StatsScope {
        region_code: region.code,
        region_path: region.path,
        unit_id,
    })
}
