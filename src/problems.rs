//! Filing a problem (问题/诉求) on its own, outside a daily report: an officer for an
//! enterprise they look after today, or an enterprise contact for their own. It enters the
//! hub's queue as `submitted`. Handlers in `routes::problems` parse and validate; this runs
//! inside the request's transaction.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::Caller;
use crate::clock::local_day;
use crate::db::models::category::Category;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::problem::{Filing, Problem};
use crate::domain::classifier::Suggestion;
use crate::domain::problem::ValidProblem;
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};

/// A problem as its reporter sends it, validated.
pub struct ProblemFiling {
    pub enterprise_id: Uuid,
    pub problem: ValidProblem,
    pub suggestion: Option<Suggestion>,
    pub now: DateTime<Utc>,
}

/// The category the reporter chose, if any, must be one the hub uses: 422
/// `problem.unknown_category` otherwise. Checked before the idempotent transaction, like the
/// rest of the body's validation.
pub fn check_category(conn: &mut PgConnection, problem: &ValidProblem) -> Result<(), AppError> {
    match &problem.category {
        Some(code) if Category::find_active(conn, code)?.is_none() => Err(AppError::new(
            ErrorCode::ProblemUnknownCategory,
            "类别不存在或已停用",
        )),
        _ => Ok(()),
    }
}

/// Files the problem; returns it and its enterprise's region path (for the counters after the
/// commit). 404 for an unknown enterprise, 403 `problem.not_your_enterprise` for one that is
/// neither the caller's today nor their own.
pub fn file(
    conn: &mut PgConnection,
    caller: &Caller,
    filing: &ProblemFiling,
) -> Result<(Problem, String), AppError> {
    let (enterprise, region_path, assigned) =
        Enterprise::for_officer(conn, filing.enterprise_id, caller.user_id, local_day(filing.now))?
            .ok_or(AppError::NotFound)?;
    let own_enterprise = caller.has(Role::Enterprise) && caller.enterprise_id == Some(enterprise.id);
    let assigned = assigned && caller.has(Role::Officer);
    if !own_enterprise && !assigned {
        return Err(AppError::new(
            ErrorCode::ProblemNotYourEnterprise,
            "只能为您包联或所属的企业提交问题",
        ));
    }
    let reporter_role = if assigned { Role::Officer } else { Role::Enterprise };
    let problem_filing = Filing {
        enterprise_id: enterprise.id,
        region_code: &enterprise.region_code,
        reporter_id: caller.user_id,
        reporter_role,
        source_report_id: None,
        at: filing.now,
    };
    let filed = Problem::file(conn, &problem_filing, &filing.problem, filing.suggestion.as_ref())?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a problem without a report cannot conflict")))?;
    Ok((filed, region_path))
}
