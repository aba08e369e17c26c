//! The demo city's hub at work: the week's problems walked through the lifecycle with the
//! same transitions the API runs, so every state is on show and some deadlines have passed.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::models::category::Category;
use crate::db::models::unit::Unit;
use crate::db::models::user::User;
use crate::domain::lifecycle::{Rating, ResponseOutcome};
use crate::hub::actions::{self, Acting};
use crate::jobs::escalate;
use crate::schema::{categories, problems};

/// Which department handles each category in the demo city.
const DEFAULT_DEPARTMENTS: &[(&str, &str)] = &[
    ("financing", "ZZ-JRJ"),
    ("labor", "ZZ-RSJ"),
    ("cost_reduction", "ZZ-RSJ"),
    ("policy", "ZZ-SWJ"),
    ("approval", "ZZ-GXJ"),
    ("utilities", "ZZ-GDGS"),
    ("logistics", "ZZ-GXJ"),
    ("market", "ZZ-SCJGJ"),
    ("dispute", "ZZ-SCJGJ"),
    ("other", "ZZ-GXJ"),
];

/// The department clerk who works each department's problems.
const CLERKS: &[(&str, &str)] = &[
    ("ZZ-JRJ", "jrj.clerk"),
    ("ZZ-RSJ", "rsj.clerk"),
    ("ZZ-SWJ", "swj.clerk"),
    ("ZZ-GXJ", "gxj.clerk"),
    ("ZZ-GDGS", "gdgs.clerk"),
];

fn caller(conn: &mut PgConnection, username: &str) -> anyhow::Result<Caller> {
    let user =
        User::find_by_username(conn, username)?.ok_or_else(|| anyhow!("demo user {username} missing"))?;
    Ok(Caller {
        user_id: user.id,
        roles: user.roles.clone(),
        region_code: user.region_code,
        unit_id: user.unit_id,
        enterprise_id: user.enterprise_id,
    })
}

fn err(e: crate::error::AppError) -> anyhow::Error {
    anyhow!("{e} ({})", e.code())
}

/// Walks the demo problems (oldest first) through the hub, one state per problem in turn,
/// acting at the time each step would have happened, then runs the escalation job at `now`.
pub fn seed(conn: &mut PgConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    for (category, unit_code) in DEFAULT_DEPARTMENTS {
        let Some(unit) = Unit::find_by_code(conn, unit_code)? else {
            continue;
        };
        diesel::update(categories::table.find(category))
            .set(categories::default_department_id.eq(unit.id))
            .execute(conn)?;
    }
    let dispatcher = caller(conn, "hub.dispatcher")?;
    let filed: Vec<(Uuid, String, DateTime<Utc>, Uuid)> = problems::table
        .order(problems::created_at)
        .select((
            problems::id,
            problems::description,
            problems::created_at,
            problems::reporter_id,
        ))
        .load(conn)?;
    let mut first_of_kind: Option<Uuid> = None;
    for (i, (id, description, created_at, reporter)) in filed.into_iter().enumerate() {
        let category = super::history::DEMO_PROBLEMS
            .iter()
            .find(|(text, _)| *text == description)
            .map_or("other", |(_, category)| category);
        let stage = i % 10;
        if stage == 0 {
            continue; // still waiting in the queue
        }
        let when = |hours: i64| (created_at + Duration::hours(hours)).min(now);
        let at = |hours: i64| Acting {
            caller: &dispatcher,
            now: when(hours),
        };
        if stage == 9 {
            // A duplicate of an earlier problem: folded into it.
            if let Some(into) = first_of_kind {
                actions::merge(conn, at(2), id, into).map_err(err)?;
                continue;
            }
        }
        actions::triage(conn, at(1), id, category, None).map_err(err)?;
        first_of_kind.get_or_insert(id);
        if stage == 1 {
            continue;
        }
        let department = Category::find(conn, category)?
            .and_then(|c| c.default_department_id)
            .context("demo categories have departments")?;
        let department_unit = Unit::find(conn, department)?.context("department")?;
        actions::assign(conn, at(2), id, department, None, Some("请按时限办理并反馈")).map_err(err)?;
        let Some((_, clerk_name)) = CLERKS.iter().find(|(code, _)| *code == department_unit.code) else {
            continue; // a department without a demo clerk: left assigned (and soon overdue)
        };
        let clerk = caller(conn, clerk_name)?;
        match stage {
            2 => {} // assigned, not yet signed for: overdue for contact after three working days
            3 => {
                actions::give_back(
                    conn,
                    Acting {
                        caller: &clerk,
                        now: when(20),
                    },
                    id,
                    Some("不属于本部门职责，请重新交办"),
                )
                .map_err(err)?;
            }
            _ => {
                actions::accept(
                    conn,
                    Acting {
                        caller: &clerk,
                        now: when(20),
                    },
                    id,
                    None,
                )
                .map_err(err)?;
                if stage == 4 {
                    continue; // in progress
                }
                actions::respond(
                    conn,
                    Acting {
                        caller: &clerk,
                        now: when(40),
                    },
                    id,
                    Some("已联系企业并办结相关事项"),
                    ResponseOutcome::Resolved,
                )
                .map_err(err)?;
                if stage == 5 {
                    continue; // responded, waiting for a rating
                }
                let reporter = User::find(conn, reporter)?.context("reporter")?;
                let officer = caller(conn, &reporter.username)?;
                let rating = if stage == 8 {
                    Rating::Dissatisfied
                } else {
                    Rating::Satisfied
                };
                actions::evaluate(
                    conn,
                    Acting {
                        caller: &officer,
                        now: when(44),
                    },
                    id,
                    rating,
                    Some("感谢部门支持"),
                )
                .map_err(err)?;
                if stage == 7 {
                    actions::close(
                        conn,
                        Acting {
                            caller: &dispatcher,
                            now: when(46),
                        },
                        id,
                        None,
                    )
                    .map_err(err)?;
                }
            }
        }
    }
    escalate::tick(conn, now)?;
    let open: i64 = problems::table.count().get_result(conn)?;
    tracing::debug!(problems = open, "demo hub seeded");
    Ok(())
}
