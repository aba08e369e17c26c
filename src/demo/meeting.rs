//! The demo city's assignment meeting (交办会): thirty problems raised by the demo officers at
//! their enterprises, assigned in one sitting an hour ago — each to its category's department,
//! every third with a co-handling department — so the meeting, its 交办单 and the co-handlers'
//! to-do lists have something to show.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::app_error;
use super::history::DEMO_PROBLEMS;
use super::hub::{caller, DISPATCHER};
use crate::db::models::category::Category;
use crate::db::models::problem::{Filing, Problem};
use crate::db::models::unit::Unit;
use crate::domain::problem::{description_hash, Urgency, ValidProblem};
use crate::domain::role::Role;
use crate::hub::actions::{Acting, CoHandlerInput};
use crate::hub::meeting::{self, Meeting, MeetingItem};
use crate::schema::{assignments, enterprises};

/// Problems the meeting takes.
const ITEMS: usize = 30;
pub const TITLE: &str = "11月第4次驻企问题交办会";

pub fn seed(conn: &mut PgConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    let posts: Vec<(Uuid, Uuid, String)> = assignments::table
        .inner_join(enterprises::table)
        .filter(assignments::end_day.is_null())
        .order((assignments::officer_id, assignments::enterprise_id))
        .select((assignments::officer_id, enterprises::id, enterprises::region_code))
        .load(conn)?;
    anyhow::ensure!(!posts.is_empty(), "the demo roster has assignments");
    let raised = now - Duration::hours(3);
    let fallback = Unit::find_by_code(conn, "ZZ-GXJ")?.context("ZZ-GXJ")?.id;
    let helper = Unit::find_by_code(conn, "ZZ-RSJ")?.context("ZZ-RSJ")?.id;
    let mut items = Vec::with_capacity(ITEMS);
    for n in 0..ITEMS {
        let (officer, enterprise, region) = &posts[n % posts.len()];
        let (text, category) = DEMO_PROBLEMS[n % DEMO_PROBLEMS.len()];
        let description = format!("{text}（第{}批走访收集）", n / DEMO_PROBLEMS.len() + 1);
        let problem = ValidProblem {
            title: description.chars().take(30).collect(),
            description_hash: description_hash(&description),
            description,
            category: None,
            urgency: Urgency::Normal,
            departments_requested: Vec::new(),
        };
        let filing = Filing {
            enterprise_id: *enterprise,
            region_code: region,
            reporter_id: *officer,
            reporter_role: Role::Officer,
            source_report_id: None,
            at: raised,
        };
        let filed = Problem::file(conn, &filing, &problem, None)?.context("a new problem")?;
        let lead = Category::find(conn, category)?
            .and_then(|c| c.default_department_id)
            .unwrap_or(fallback);
        let co_handlers = if n % 3 == 0 {
            let co = if lead == helper { fallback } else { helper };
            vec![CoHandlerInput {
                department_id: co,
                contact_working_days: None,
            }]
        } else {
            Vec::new()
        };
        items.push(MeetingItem {
            problem_id: filed.id,
            category: Some(category.to_owned()),
            department_id: lead,
            co_handlers,
            due_working_days: None,
            instructions: Some("请三个工作日内联系企业，按时限办结并反馈驻企办".to_owned()),
        });
    }
    let dispatcher = caller(conn, DISPATCHER)?;
    let acting = Acting {
        caller: &dispatcher,
        now: now - Duration::hours(1),
    };
    let meeting = Meeting {
        title: TITLE.to_owned(),
        all_or_nothing: true,
        items,
    };
    meeting::hold(conn, acting, &meeting).map_err(app_error)?;
    Ok(())
}
