//! Scheduled notifications, once a minute: deadlines a working day before they fall due, and,
//! on official working days only, the officers' sign-in and report reminders, the unit
//! admins' 催报 digest and the day's summary (日总结, frozen then), each at its region's time.
//!
//! Every event is keyed by what it announces and every run by (job, day, region) in
//! `notification_runs`, so two instances, or a second pass, add nothing.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::json;
use uuid::Uuid;

use super::Shutdown;
use crate::clock::{local_day, wire_time};
use crate::db;
use crate::db::models::calendar::CalendarYear;
use crate::db::models::notification_settings::{RegionSettings, SettingsByRegion};
use crate::db::models::outbox::{NewEvent, OutboxEvent};
use crate::db::models::region::Region;
use crate::domain::calendar::Calendar;
use crate::domain::deadline::{previous_working_day, reminder_at};
use crate::domain::lifecycle::Status;
use crate::domain::notification::{Audience, NotificationKind};
use crate::domain::vocabulary::sql_list;
use crate::error::AppError;
use crate::state::AppState;
use crate::stats::daily;

const EVERY: Duration = Duration::from_secs(60);
/// Names listed in a digest; the counts say how many more there are.
const DIGEST_NAMES: usize = 20;

/// What one pass wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reminded {
    pub deadlines: usize,
    pub sign_ins: usize,
    pub reports: usize,
    pub digests: usize,
    pub figures: usize,
}

pub fn tick(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Reminded, AppError> {
    let calendar = CalendarYear::load(conn)?;
    let mut reminded = Reminded {
        deadlines: deadlines(conn, &calendar, now)?,
        ..Reminded::default()
    };
    let today = local_day(now);
    if !calendar.is_working_day(today) {
        return Ok(reminded);
    }
    let settings = SettingsByRegion::load(conn)?;
    let local_time = now.with_timezone(&chrono_tz::Asia::Shanghai).time();
    let due = |kind: NotificationKind, at: fn(&RegionSettings) -> chrono::NaiveTime| {
        settings.regions_where(|s| s.enabled(kind) && at(s) <= local_time)
    };
    let sign_in_regions = due(NotificationKind::SignInMissing, |s| s.sign_in_reminder_at);
    let regions = runs(conn, "sign_in_reminder", today, &sign_in_regions, now)?;
    reminded.sign_ins = officers_missing(conn, NotificationKind::SignInMissing, &regions, today, now)?;
    let report_regions = due(NotificationKind::ReportMissing, |s| s.report_reminder_at);
    let regions = runs(conn, "report_reminder", today, &report_regions, now)?;
    reminded.reports = officers_missing(conn, NotificationKind::ReportMissing, &regions, today, now)?;
    let digest_regions = due(NotificationKind::MissingDigest, |s| s.digest_at);
    let regions = runs(conn, "missing_digest", today, &digest_regions, now)?;
    let yesterday = previous_working_day(&calendar, today);
    reminded.digests = digests(conn, &regions, today, yesterday, now)?;
    let summary_regions = settings.regions_where(|s| s.figures_at <= local_time);
    reminded.figures = summaries(conn, &settings, &calendar, &summary_regions, today, now)?;
    Ok(reminded)
}

/// Marks the runs of `job` for the regions and day; the regions whose run this call made
/// (the others were made before, here or by another instance).
fn runs(
    conn: &mut PgConnection,
    job: &str,
    day: NaiveDate,
    regions: &[String],
    now: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Ran {
        #[diesel(sql_type = Text)]
        region_code: String,
    }
    if regions.is_empty() {
        return Ok(Vec::new());
    }
    let ran: Vec<Ran> = diesel::sql_query(
        "INSERT INTO notification_runs (job, day, region_code, ran_at)
         SELECT $1, $2, r.code, $4 FROM unnest($3::text[]) AS r(code)
         ON CONFLICT DO NOTHING RETURNING region_code",
    )
    .bind::<Text, _>(job)
    .bind::<Date, _>(day)
    .bind::<Array<Text>, _>(regions)
    .bind::<Timestamptz, _>(now)
    .load(conn)?;
    Ok(ran.into_iter().map(|r| r.region_code).collect())
}

/// Contact and due dates a working day ahead, for problems still waiting on them.
fn deadlines(conn: &mut PgConnection, calendar: &Calendar, now: DateTime<Utc>) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = Text)]
        title: String,
        #[diesel(sql_type = Text)]
        region_code: String,
        #[diesel(sql_type = SqlUuid)]
        department_id: Uuid,
        #[diesel(sql_type = Text)]
        enterprise: String,
        #[diesel(sql_type = Timestamptz)]
        contact_due_at: DateTime<Utc>,
        #[diesel(sql_type = Timestamptz)]
        due_at: DateTime<Utc>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        contacted_at: Option<DateTime<Utc>>,
        #[diesel(sql_type = BigInt)]
        deadline_round: i64,
    }
    // A reminder falls at most a few calendar days before its deadline (a long holiday):
    // look at the deadlines of the next three weeks.
    let horizon = now + chrono::Duration::days(21);
    let waiting: Vec<Waiting> = diesel::sql_query(format!(
        "SELECT p.id, p.title, p.region_code, p.department_id, e.name AS enterprise,
                p.contact_due_at, p.due_at, p.contacted_at, p.deadline_round::bigint AS deadline_round
           FROM problems p JOIN enterprises e ON e.id = p.enterprise_id
          WHERE p.status IN {} AND p.department_id IS NOT NULL AND p.responded_at IS NULL
            AND p.due_at > $1
            AND ((p.contacted_at IS NULL AND p.contact_due_at > $1 AND p.contact_due_at <= $2)
                 OR p.due_at <= $2)",
        sql_list(Status::WITH_DEPARTMENT, Status::as_str)
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(horizon)
    .load(conn)?;
    let mut events = Vec::new();
    for p in waiting {
        let payload = json!({
            "problem_id": p.id,
            "title": p.title,
            "enterprise": p.enterprise,
            "contact_due_at": wire_time(p.contact_due_at),
            "due_at": wire_time(p.due_at),
        });
        let mut remind = |kind: NotificationKind, deadline: DateTime<Utc>| {
            if now >= reminder_at(calendar, deadline) && now < deadline {
                let key = format!("{kind}:{}:{}", p.id, p.deadline_round);
                events.push(
                    NewEvent::to_unit(
                        kind,
                        p.department_id,
                        Audience::Department,
                        &p.region_code,
                        payload.clone(),
                        now,
                    )
                    .about(p.id)
                    .keyed(key),
                );
            }
        };
        if p.contacted_at.is_none() {
            remind(NotificationKind::ContactDue, p.contact_due_at);
        }
        remind(NotificationKind::DueSoon, p.due_at);
    }
    OutboxEvent::enqueue(conn, &events)
}

/// One reminder per officer of the regions who is assigned today and has no sign-in (or no
/// report) for today; in one statement, whatever the number of officers.
fn officers_missing(
    conn: &mut PgConnection,
    kind: NotificationKind,
    regions: &[String],
    day: NaiveDate,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    if regions.is_empty() {
        return Ok(0);
    }
    let done = match kind {
        NotificationKind::SignInMissing => "sign_ins",
        _ => "daily_reports",
    };
    diesel::sql_query(format!(
        "INSERT INTO notification_outbox (kind, recipient_user_id, audience, region_code, payload, created_at, dedupe_key)
         SELECT $1, u.id, 'user', u.region_code,
                jsonb_build_object('day', $2::date, 'name', u.name), $4,
                $1 || ':' || $2::date || ':' || u.id
           FROM users u
          WHERE u.active AND 'officer' = ANY (u.roles) AND u.region_code = ANY ($3)
            AND EXISTS (SELECT 1 FROM assignments a
                         WHERE a.officer_id = u.id AND a.start_day <= $2
                           AND (a.end_day IS NULL OR a.end_day >= $2))
            AND NOT EXISTS (SELECT 1 FROM {done} d WHERE d.officer_id = u.id AND d.day = $2)
         ON CONFLICT (dedupe_key) DO NOTHING"
    ))
    .bind::<Text, _>(kind.as_str())
    .bind::<Date, _>(day)
    .bind::<Array<Text>, _>(regions)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
}

/// 催报: to each unit of the regions with officers assigned today, those without today's
/// sign-in and those without a report on the last working day, by name.
fn digests(
    conn: &mut PgConnection,
    regions: &[String],
    today: NaiveDate,
    yesterday: NaiveDate,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Missing {
        #[diesel(sql_type = SqlUuid)]
        unit_id: Uuid,
        #[diesel(sql_type = Text)]
        unit: String,
        #[diesel(sql_type = Text)]
        region_code: String,
        #[diesel(sql_type = Array<Text>)]
        without_sign_in: Vec<String>,
        #[diesel(sql_type = Array<Text>)]
        without_report: Vec<String>,
    }
    if regions.is_empty() {
        return Ok(0);
    }
    let missing: Vec<Missing> = diesel::sql_query(
        "SELECT un.id AS unit_id, un.name AS unit, un.region_code,
                coalesce(array_agg(u.name ORDER BY u.name) FILTER (WHERE NOT EXISTS
                    (SELECT 1 FROM sign_ins s WHERE s.officer_id = u.id AND s.day = $2)), '{}') AS without_sign_in,
                coalesce(array_agg(u.name ORDER BY u.name) FILTER (WHERE NOT EXISTS
                    (SELECT 1 FROM daily_reports r WHERE r.officer_id = u.id AND r.day = $3)), '{}') AS without_report
           FROM units un
           JOIN users u ON u.unit_id = un.id AND u.active AND 'officer' = ANY (u.roles)
          WHERE un.region_code = ANY ($1)
            AND EXISTS (SELECT 1 FROM assignments a WHERE a.officer_id = u.id AND a.start_day <= $2
                           AND (a.end_day IS NULL OR a.end_day >= $2))
          GROUP BY un.id, un.name, un.region_code",
    )
    .bind::<Array<Text>, _>(regions)
    .bind::<Date, _>(today)
    .bind::<Date, _>(yesterday)
    .load(conn)?;
    let events: Vec<NewEvent> = missing
        .into_iter()
        .filter(|m| !(m.without_sign_in.is_empty() && m.without_report.is_empty()))
        .map(|m| {
            let payload = json!({
                "day": today,
                "unit": m.unit,
                "without_sign_in": m.without_sign_in.len(),
                "without_report": m.without_report.len(),
                "names_without_sign_in": m.without_sign_in.iter().take(DIGEST_NAMES).collect::<Vec<_>>(),
                "names_without_report": m.without_report.iter().take(DIGEST_NAMES).collect::<Vec<_>>(),
            });
            let key = format!("{}:{today}:{}", NotificationKind::MissingDigest, m.unit_id);
            NewEvent::to_unit(
                NotificationKind::MissingDigest,
                m.unit_id,
                Audience::UnitAdmins,
                &m.region_code,
                payload,
                now,
            )
            .keyed(key)
        })
        .collect();
    OutboxEvent::enqueue(conn, &events)
}

/// 日总结: each hub's region whose figures time has come is summed up and frozen, and the hub
/// hears of it (unless the region switched `region.daily_figures` off) — claimed, frozen and
/// announced in one transaction per region, so the announcement carries the frozen figures
/// and is made once.
fn summaries(
    conn: &mut PgConnection,
    settings: &SettingsByRegion,
    calendar: &Calendar,
    regions: &[String],
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let mut announced = 0;
    for (hub, region) in Region::with_hubs(conn)? {
        if !regions.contains(&region.code) {
            continue;
        }
        announced += conn.transaction(|conn| {
            if runs(
                conn,
                "daily_summary",
                day,
                std::slice::from_ref(&region.code),
                now,
            )?
            .is_empty()
            {
                return Ok::<_, AppError>(0);
            }
            let region_settings = settings.of(&region.code);
            let cx = daily::Context {
                settings: region_settings,
                calendar,
            };
            let (summary, _) = daily::freeze(conn, &region, day, now, cx)?;
            if !region_settings.enabled(NotificationKind::DailyFigures) {
                return Ok(0);
            }
            let f = &summary.figures;
            let payload = json!({
                "day": day, "region": region.name, "sign_ins": f.officers_signed_in,
                "reports": f.officers_reported, "new_problems": f.problems_new,
                "closed": f.problems_closed, "open_problems": f.problems_open,
                "overdue": f.problems_overdue,
            });
            let key = format!("{}:{day}:{hub}", NotificationKind::DailyFigures);
            let event = NewEvent::to_hub(
                NotificationKind::DailyFigures,
                Some(hub),
                Audience::Hub,
                &region.code,
                payload,
                now,
            )
            .keyed(key);
            Ok(OutboxEvent::enqueue(conn, &[event])?)
        })?;
    }
    Ok(announced)
}

pub async fn run_until_stopped(state: actix_web::web::Data<AppState>, shutdown: Shutdown) {
    super::every("reminders", EVERY, shutdown, || {
        let state = state.clone();
        async move {
            let now = state.clock.now();
            match db::run(&state.notify_pool, move |conn| tick(conn, now)).await {
                Ok(reminded) if reminded == Reminded::default() => {}
                Ok(reminded) => tracing::info!(?reminded, "reminders written"),
                Err(e) => tracing::warn!(error = %e, "reminder pass failed; next minute tries again"),
            }
        }
    })
    .await;
}
