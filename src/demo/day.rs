//! `zhuqi demo-day`: one working day of the demo city's notifications, sent to the fake WeChat
//! and group robots (`demo::fake_wechat`) and printed as they go out. It makes a database of
//! its own (`zhuqi_demo_day` by default), seeds the demo city with its week of history up to
//! Friday 20 November 2026, 07:00, configures a template for every kind, a DingTalk robot for
//! every unit and WeChat for every user, and walks the clock to 20:00 in five-minute steps,
//! running the server's own jobs at each: escalation, reminders, expansion and delivery. The
//! hub assigns two queued problems at 09:30 and a department answers one at 15:00.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::fake_wechat::{FakeWeChat, ROBOT_SECRET};
use crate::auth::Caller;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::models::notification_template::Template;
use crate::db::models::robot::Robot;
use crate::db::models::user::User;
use crate::domain::lifecycle::{ResponseOutcome, Status};
use crate::domain::notification::{NotificationKind, RobotPlatform};
use crate::hub::actions::{self, Acting};
use crate::jobs;
use crate::notify::seal::webhook_hint;
use crate::schema::{categories, problems, units, users};
use crate::state::AppState;

const APPID: &str = "wx-demo-appid";
const SECRET: &str = "demo-secret";

/// What the day sent.
#[derive(Debug, Default)]
pub struct DayReport {
    /// One line per message, in the order they went out.
    pub lines: Vec<String>,
    pub wechat: usize,
    pub robot: usize,
    /// Every DingTalk post carried a valid signature.
    pub all_signed: bool,
    /// Messages by kind, both channels.
    pub by_kind: BTreeMap<String, usize>,
}

fn china(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap_or_default())
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The template fields of each kind in the demo: what a city would set up in the WeChat
/// console (a title, a status word, a time or date).
fn demo_fields(kind: NotificationKind) -> serde_json::Value {
    use NotificationKind::*;
    match kind {
        ProblemAssigned | ContactDue => {
            json!({"thing1": "title", "thing2": "enterprise", "time3": "contact_due_at", "phrase4": "status"})
        }
        DueSoon | Escalated => {
            json!({"thing1": "title", "thing2": "enterprise", "time3": "due_at", "phrase4": "status"})
        }
        Responded => json!({"thing1": "title", "thing2": "department", "phrase3": "status"}),
        Returned | ExtensionRequested => {
            json!({"thing1": "title", "thing2": "department", "phrase3": "status"})
        }
        ExtensionDecided => json!({"thing1": "title", "time2": "due_at", "phrase3": "status"}),
        SignInMissing | ReportMissing => json!({"thing1": "name", "date2": "day", "phrase3": "status"}),
        MissingDigest => {
            json!({"thing1": "unit", "number2": "without_sign_in", "number3": "without_report", "date4": "day"})
        }
        DailyFigures => {
            json!({"thing1": "region", "number2": "sign_ins", "number3": "reports", "number4": "overdue", "date5": "day"})
        }
    }
}

/// Runs the day on database `db_name` of the PostgreSQL server at `server_url` (made anew) and
/// Redis at `redis_url`; `print` sees each line as it goes out.
pub async fn run(
    server_url: &str,
    db_name: &str,
    redis_url: &str,
    print: impl Fn(&str),
) -> anyhow::Result<DayReport> {
    let (server, _) = server_url.rsplit_once('/').unwrap_or((server_url, ""));
    let database_url = format!("{server}/{db_name}");
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).context("the demo day")?;
    let morning = china(day, 7, 0);
    {
        let mut admin = PgConnection::establish(server_url).context("connecting to PostgreSQL")?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")).execute(&mut admin)?;
        diesel::sql_query(format!("CREATE DATABASE {db_name}")).execute(&mut admin)?;
        let mut conn = PgConnection::establish(&database_url)?;
        crate::db::migrate(&mut conn)?;
        // The day is about notifications: the demo photos are kept in memory, not on disk.
        let store = crate::attachments::store::Store::open("memory://")?;
        super::seed_demo(&mut conn, &store, day, morning, super::History::Week)?;
    }
    let fake = FakeWeChat::start(APPID, SECRET)?;
    let env = BTreeMap::from([
        ("DATABASE_URL", database_url.clone()),
        ("REDIS_URL", redis_url.to_owned()),
        (
            "REDIS_KEY_PREFIX",
            format!("demo-day:{}:", Uuid::new_v4().simple()),
        ),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("JWT_SECRET", format!("demo-day-{}", Uuid::new_v4().simple())),
        ("WECHAT_APPID", APPID.to_owned()),
        ("WECHAT_SECRET", SECRET.to_owned()),
        ("WECHAT_API_BASE", fake.base.clone()),
        ("ROBOT_WEBHOOK_HOSTS", "127.0.0.1".to_owned()),
        ("OBJECT_STORE_URL", "memory://".to_owned()),
    ]);
    let settings = Settings::from_lookup(|name| env.get(name).cloned())?;
    let clock = Clock::fixed(morning);
    let state = AppState::new(settings, clock.clone())?;
    state.cache.connect_in_background();
    let mut conn = state.pool.get().context("a connection")?;
    configure(&mut conn, &state, &fake.base, morning)?;

    let names: BTreeMap<String, String> = users::table
        .select((users::username, users::name))
        .load(&mut conn)?
        .into_iter()
        .collect();
    let unit_names: BTreeMap<String, String> = units::table
        .select((units::code, units::name))
        .load(&mut conn)?
        .into_iter()
        .collect();
    drop(conn);
    let mut report = DayReport {
        all_signed: true,
        ..DayReport::default()
    };
    let (mut seen_sends, mut seen_posts) = (0, 0);
    let mut now = morning;
    while now <= china(day, 20, 0) {
        clock.set(now);
        let local = now.with_timezone(&Shanghai).format("%H:%M").to_string();
        let mut conn = state.pool.get().context("a connection")?;
        if local == "09:30" {
            hub_assigns(&mut conn, now)?;
        }
        if local == "15:00" {
            department_answers(&mut conn, now)?;
        }
        jobs::escalate::tick(&mut conn, now)?;
        jobs::reminders::tick(&mut conn, now)?;
        drop(conn);
        jobs::notify::pass(&state).await;
        let sends = fake.sends();
        for send in &sends[seen_sends..] {
            let username = send.body["touser"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("o-");
            let kind = kind_of_template(send.body["template_id"].as_str().unwrap_or_default());
            let first = send.body["data"]["thing1"]["value"].as_str().unwrap_or_default();
            let line = format!(
                "{local}  微信  {}（{username}）  {}  {first}",
                names.get(username).map(String::as_str).unwrap_or("?"),
                kind.map_or("?", NotificationKind::label)
            );
            *report
                .by_kind
                .entry(kind.map_or("?", NotificationKind::as_str).to_owned())
                .or_default() += 1;
            print(&line);
            report.lines.push(line);
        }
        report.wechat += sends.len() - seen_sends;
        seen_sends = sends.len();
        let posts = fake.posts();
        for post in &posts[seen_posts..] {
            report.all_signed &= post.signed;
            let text = post.body["markdown"]["text"].as_str().unwrap_or_default();
            let title = text.lines().next().unwrap_or_default().trim_start_matches("### ");
            let kind = NotificationKind::ALL
                .iter()
                .find(|k| text.ends_with(&format!("> {}", k.label())));
            let line = format!(
                "{local}  钉钉  {}群  {}  {title}",
                unit_names.get(&post.target).map(String::as_str).unwrap_or("?"),
                kind.map_or("?", |k| k.label())
            );
            *report
                .by_kind
                .entry(kind.map_or("?", |k| k.as_str()).to_owned())
                .or_default() += 1;
            print(&line);
            report.lines.push(line);
        }
        report.robot += posts.len() - seen_posts;
        seen_posts = posts.len();
        now += Duration::minutes(5);
    }
    Ok(report)
}

fn kind_of_template(template_id: &str) -> Option<NotificationKind> {
    NotificationKind::ALL
        .iter()
        .copied()
        .find(|k| template_id == demo_template_id(*k))
}

fn demo_template_id(kind: NotificationKind) -> String {
    format!("DEMO-{}", kind.as_str().replace(['.', '_'], "-").to_uppercase())
}

/// Templates for every kind (long-term, as a government service mini-program has them), a
/// DingTalk robot for every unit, WeChat for every user; the week's earlier news forgotten.
fn configure(
    conn: &mut PgConnection,
    state: &AppState,
    fake: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for &kind in NotificationKind::ALL {
        Template::upsert(
            conn,
            &Template {
                kind,
                template_id: demo_template_id(kind),
                page: Some("pages/index/index".to_owned()),
                fields: demo_fields(kind),
                long_term: true,
                enabled: true,
                updated_at: now,
                updated_by: None,
            },
        )?;
    }
    let all_units: Vec<(Uuid, String)> = units::table.select((units::id, units::code)).load(conn)?;
    for (unit, code) in all_units {
        let webhook = format!("{fake}/robot/send?access_token={code}");
        Robot::upsert(
            conn,
            &Robot {
                unit_id: unit,
                platform: RobotPlatform::DingTalk,
                webhook_sealed: state.sealer.seal(&webhook),
                webhook_hint: webhook_hint(&webhook),
                secret_sealed: Some(state.sealer.seal(ROBOT_SECRET)),
                enabled: true,
                updated_at: now,
                updated_by: None,
            },
        )?;
    }
    diesel::sql_query("UPDATE users SET wechat_openid = 'o-' || username WHERE wechat_openid IS NULL")
        .execute(conn)?;
    diesel::sql_query("UPDATE notification_outbox SET expanded_at = $1 WHERE expanded_at IS NULL")
        .bind::<diesel::sql_types::Timestamptz, _>(now)
        .execute(conn)?;
    Ok(())
}

fn as_caller(user: &User) -> Caller {
    Caller {
        user_id: user.id,
        roles: user.roles.clone(),
        region_code: user.region_code.clone(),
        unit_id: user.unit_id,
        enterprise_id: user.enterprise_id,
    }
}

/// 09:30: the dispatcher triages and assigns the two oldest problems in the queue, each to
/// its category's department (国网株洲供电公司 when it has none).
fn hub_assigns(conn: &mut PgConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    let dispatcher = User::find_by_username(conn, "hub.dispatcher")?.context("the demo dispatcher")?;
    let caller = as_caller(&dispatcher);
    let acting = Acting { caller: &caller, now };
    let fallback: Uuid = units::table
        .filter(units::code.eq("ZZ-GDGS"))
        .select(units::id)
        .first(conn)?;
    let queued: Vec<(Uuid, Option<String>)> = problems::table
        .filter(problems::status.eq_any(Status::IN_QUEUE))
        .order(problems::created_at)
        .limit(2)
        .select((problems::id, problems::suggested_category))
        .load(conn)?;
    for (id, suggested) in queued {
        let category = suggested.unwrap_or_else(|| "other".to_owned());
        let department: Option<Uuid> = categories::table
            .find(&category)
            .select(categories::default_department_id)
            .first::<Option<Uuid>>(conn)
            .optional()?
            .flatten();
        conn.transaction(|conn| -> anyhow::Result<()> {
            actions::triage(conn, acting, id, &category, None).map_err(super::app_error)?;
            actions::assign(
                conn,
                acting,
                id,
                department.unwrap_or(fallback),
                None,
                Some("请尽快联系企业"),
                &[],
            )
            .map_err(super::app_error)?;
            Ok(())
        })?;
    }
    Ok(())
}

/// 15:00: a department answers the oldest problem it holds.
fn department_answers(conn: &mut PgConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    let held: Option<(Uuid, Uuid, Status)> = problems::table
        .filter(problems::status.eq_any(Status::WITH_DEPARTMENT))
        .filter(problems::department_id.is_not_null())
        .order(problems::assigned_at)
        .select((
            problems::id,
            problems::department_id.assume_not_null(),
            problems::status,
        ))
        .first(conn)
        .optional()?;
    let Some((id, department, status)) = held else {
        return Ok(());
    };
    let clerk: Option<User> = users::table
        .filter(users::unit_id.eq(department))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let Some(clerk) = clerk else {
        return Ok(());
    };
    let caller = as_caller(&clerk);
    let acting = Acting { caller: &caller, now };
    conn.transaction(|conn| -> anyhow::Result<()> {
        if status == Status::Assigned {
            actions::accept(conn, acting, id, Some("已电话联系企业")).map_err(super::app_error)?;
        }
        actions::respond(
            conn,
            acting,
            id,
            Some("已与企业对接，问题已解决"),
            ResponseOutcome::Resolved,
            None,
        )
        .map_err(super::app_error)?;
        Ok(())
    })?;
    Ok(())
}

/// How long the command waits for Redis before starting without it.
pub const REDIS_WAIT: StdDuration = StdDuration::from_secs(2);
