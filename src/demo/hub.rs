//! The demo city's hub at work: the week's problems, oldest first, each taken as far through
//! the lifecycle as its turn says (see [`FATES`]) with the same transitions the API runs, at
//! the times each step would have happened; then the escalation job runs, so some deadlines
//! have passed.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::app_error;
use super::history::category_of;
use super::roster::DemoUser;
use crate::auth::Caller;
use crate::db::models::category::Category;
use crate::db::models::unit::Unit;
use crate::db::models::user::User;
use crate::domain::benefit::Benefits;
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

/// The demo user who dispatches.
pub(super) const DISPATCHER: &str = "hub.dispatcher";

/// How far the hub has taken a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Still waiting in the queue.
    Queued,
    /// Categorised, not yet assigned.
    Triaged,
    /// Assigned, not yet signed for: overdue for contact after three working days.
    Assigned,
    /// Given back by the department as not theirs.
    GivenBack,
    /// Accepted by the department, in progress.
    InProgress,
    /// Answered, waiting for a rating.
    Responded,
    /// Rated, waiting for the hub to close it.
    Rated(Rating),
    /// Rated satisfied and closed.
    Closed,
    /// A duplicate, folded into the first problem triaged.
    Merged,
}

impl Fate {
    /// Whether the hub triages the problem on its way (a duplicate it folds away, it does not).
    fn triaged(self) -> bool {
        !matches!(self, Fate::Queued | Fate::Merged)
    }
}

/// The fates dealt to the problems in turn, oldest first, so every state is on show.
const FATES: [Fate; 10] = [
    Fate::Queued,
    Fate::Triaged,
    Fate::Assigned,
    Fate::GivenBack,
    Fate::InProgress,
    Fate::Responded,
    Fate::Rated(Rating::Satisfied),
    Fate::Closed,
    Fate::Rated(Rating::Dissatisfied),
    Fate::Merged,
];

/// When each step happens, counted from the filing (and never later than now): the hub
/// works within hours, the department the next day.
const TRIAGED_AFTER: Duration = Duration::hours(1);
const MERGED_AFTER: Duration = Duration::hours(2);
const ASSIGNED_AFTER: Duration = Duration::hours(2);
const DEPARTMENT_REPLIES_AFTER: Duration = Duration::hours(20);
const RESPONDED_AFTER: Duration = Duration::hours(40);
const RATED_AFTER: Duration = Duration::hours(44);
const CLOSED_AFTER: Duration = Duration::hours(46);

pub(super) fn caller(conn: &mut PgConnection, username: &str) -> anyhow::Result<Caller> {
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

/// The demo clerk who works a department's problems, if it has one.
fn clerk_of<'a>(users: &'a [DemoUser], unit_code: &str) -> Option<&'a str> {
    users
        .iter()
        .find(|u| u.roles == "department" && u.unit_code == unit_code)
        .map(|u| u.username.as_str())
}

/// A problem as the hub found it.
struct Filed {
    id: Uuid,
    description: String,
    at: DateTime<Utc>,
    reporter: Uuid,
}

/// Walks the demo problems (oldest first) through the hub, then runs the escalation job at `now`.
pub fn seed(conn: &mut PgConnection, users: &[DemoUser], now: DateTime<Utc>) -> anyhow::Result<()> {
    for (category, unit_code) in DEFAULT_DEPARTMENTS {
        let Some(unit) = Unit::find_by_code(conn, unit_code)? else {
            continue;
        };
        diesel::update(categories::table.find(category))
            .set(categories::default_department_id.eq(unit.id))
            .execute(conn)?;
    }
    let dispatcher = caller(conn, DISPATCHER)?;
    let filed: Vec<(Uuid, String, DateTime<Utc>, Uuid)> = problems::table
        .order(problems::created_at)
        .select((
            problems::id,
            problems::description,
            problems::created_at,
            problems::reporter_id,
        ))
        .load(conn)?;
    let mut first_triaged: Option<Uuid> = None;
    for (turn, (id, description, at, reporter)) in filed.into_iter().enumerate() {
        let problem = Filed {
            id,
            description,
            at,
            reporter,
        };
        let fate = FATES[turn % FATES.len()];
        let walk = Walk {
            problem: &problem,
            dispatcher: &dispatcher,
            users,
            now,
        };
        walk.take(conn, fate, first_triaged)?;
        if fate.triaged() {
            first_triaged.get_or_insert(problem.id);
        }
    }
    escalate::tick(conn, now)?;
    let count: i64 = problems::table.count().get_result(conn)?;
    tracing::debug!(problems = count, "demo hub seeded");
    Ok(())
}

/// One problem's way through the hub.
struct Walk<'a> {
    problem: &'a Filed,
    dispatcher: &'a Caller,
    users: &'a [DemoUser],
    now: DateTime<Utc>,
}

impl Walk<'_> {
    fn acting<'c>(&self, caller: &'c Caller, after: Duration) -> Acting<'c> {
        Acting {
            caller,
            now: (self.problem.at + after).min(self.now),
        }
    }

    /// Takes the problem as far as `fate`; a duplicate is merged into `first_triaged` (and
    /// stays queued while there is none).
    fn take(&self, conn: &mut PgConnection, fate: Fate, first_triaged: Option<Uuid>) -> anyhow::Result<()> {
        let id = self.problem.id;
        match (fate, first_triaged) {
            (Fate::Queued, _) | (Fate::Merged, None) => return Ok(()),
            (Fate::Merged, Some(into)) => {
                actions::merge(conn, self.acting(self.dispatcher, MERGED_AFTER), id, into)
                    .map_err(app_error)?;
                return Ok(());
            }
            _ => {}
        }
        let category = category_of(&self.problem.description);
        actions::triage(
            conn,
            self.acting(self.dispatcher, TRIAGED_AFTER),
            id,
            category,
            None,
        )
        .map_err(app_error)?;
        if fate == Fate::Triaged {
            return Ok(());
        }
        let department = Category::find(conn, category)?
            .and_then(|c| c.default_department_id)
            .context("demo categories have departments")?;
        actions::assign(
            conn,
            self.acting(self.dispatcher, ASSIGNED_AFTER),
            id,
            department,
            None,
            Some("请按时限办理并反馈"),
            &[],
        )
        .map_err(app_error)?;
        let unit = Unit::find(conn, department)?.context("department")?;
        let Some(clerk) = clerk_of(self.users, &unit.code) else {
            return Ok(()); // a department without a demo clerk: left assigned (and soon overdue)
        };
        if fate == Fate::Assigned {
            return Ok(());
        }
        let clerk = caller(conn, clerk)?;
        self.department_works(conn, fate, &clerk)
    }

    /// The department's part (signing for it, answering) and the rating and closing after.
    fn department_works(&self, conn: &mut PgConnection, fate: Fate, clerk: &Caller) -> anyhow::Result<()> {
        let id = self.problem.id;
        let replies = self.acting(clerk, DEPARTMENT_REPLIES_AFTER);
        if fate == Fate::GivenBack {
            actions::give_back(conn, replies, id, Some("不属于本部门职责，请重新交办")).map_err(app_error)?;
            return Ok(());
        }
        actions::accept(conn, replies, id, None).map_err(app_error)?;
        if fate == Fate::InProgress {
            return Ok(());
        }
        let benefits = benefits_of(category_of(&self.problem.description));
        actions::respond(
            conn,
            self.acting(clerk, RESPONDED_AFTER),
            id,
            Some("已联系企业并办结相关事项"),
            ResponseOutcome::Resolved,
            benefits.as_ref(),
        )
        .map_err(app_error)?;
        if fate == Fate::Responded {
            return Ok(());
        }
        let reporter = User::find(conn, self.problem.reporter)?.context("reporter")?;
        let officer = caller(conn, &reporter.username)?;
        let rating = match fate {
            Fate::Rated(rating) => rating,
            _ => Rating::Satisfied,
        };
        actions::evaluate(
            conn,
            self.acting(&officer, RATED_AFTER),
            id,
            rating,
            Some("感谢部门支持"),
        )
        .map_err(app_error)?;
        if fate == Fate::Closed {
            actions::close(conn, self.acting(self.dispatcher, CLOSED_AFTER), id, None).map_err(app_error)?;
        }
        Ok(())
    }
}

/// What a resolved demo problem was worth (惠企成效), by its category: loans for financing,
/// positions for labour, fees for taxes, subsidies for policy questions.
fn benefits_of(category: &str) -> Option<Benefits> {
    let b = match category {
        "financing" => Benefits {
            loan_yuan: Some(20_000_000),
            ..Benefits::default()
        },
        "labor" => Benefits {
            positions_filled: Some(30),
            ..Benefits::default()
        },
        "cost_reduction" => Benefits {
            fees_reduced_yuan: Some(1_200_000),
            ..Benefits::default()
        },
        "policy" => Benefits {
            subsidies_yuan: Some(500_000),
            ..Benefits::default()
        },
        _ => return None,
    };
    Some(b)
}
