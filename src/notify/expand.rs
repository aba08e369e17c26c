//! Stage two: each event of the outbox becomes one inbox entry per recipient, one WeChat
//! subscribe message per recipient who may be sent one, and one post to the addressed unit's
//! group robot, in one transaction per batch of events, once (the events are locked with
//! `SKIP LOCKED` and marked expanded in the same transaction).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use crate::db::models::delivery::{relaxed, Delivery, NewDelivery};
use crate::db::models::notification::Notification;
use crate::db::models::notification_settings::SettingsByRegion;
use crate::db::models::notification_template::Template;
use crate::db::models::outbox::OutboxEvent;
use crate::db::models::robot::Robot;
use crate::db::models::subscription::Credit;
use crate::domain::notification::{render, Audience, Channel, NotificationKind, Rendered};
use crate::domain::role::Role;
use crate::schema::{assignments, problems, regions, users};

/// Events expanded per transaction.
pub const BATCH: i64 = 500;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expanded {
    pub events: usize,
    pub notifications: usize,
    pub deliveries: usize,
}

impl std::ops::AddAssign for Expanded {
    fn add_assign(&mut self, other: Self) {
        self.events += other.events;
        self.notifications += other.notifications;
        self.deliveries += other.deliveries;
    }
}

/// Expands every pending event, a batch per transaction.
pub fn tick(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<Expanded> {
    // Read once a pass: a burst of reminders is many batches, and these change rarely.
    let settings = SettingsByRegion::load(conn)?;
    let templates = Template::enabled(conn)?;
    let mut total = Expanded::default();
    loop {
        let batch = relaxed(conn, |conn| expand_batch(conn, &settings, &templates, now))?;
        total += batch;
        if batch.events < BATCH as usize {
            return Ok(total);
        }
    }
}

/// A user an event reaches.
#[derive(Debug, Clone, Queryable)]
struct Recipient {
    id: Uuid,
    openid: Option<String>,
    muted_kinds: Vec<String>,
}

impl Recipient {
    /// May be pushed a message of `kind` (the inbox gets it either way).
    fn wants_push(&self, kind: NotificationKind) -> bool {
        self.openid.is_some() && (kind.mandatory() || !self.muted_kinds.iter().any(|k| k == kind.as_str()))
    }
}

type Columns = (users::id, users::wechat_openid, users::muted_kinds);
const COLUMNS: Columns = (users::id, users::wechat_openid, users::muted_kinds);

fn expand_batch(
    conn: &mut PgConnection,
    settings: &SettingsByRegion,
    templates: &BTreeMap<String, Template>,
    now: DateTime<Utc>,
) -> QueryResult<Expanded> {
    let events = OutboxEvent::claim_pending(conn, BATCH)?;
    if events.is_empty() {
        return Ok(Expanded::default());
    }
    let mut recipients = recipients(conn, &events)?;
    let units: Vec<Uuid> = events.iter().filter_map(|e| e.recipient_unit_id).collect();
    let robots: HashSet<Uuid> = Robot::enabled_of(conn, &units)?
        .into_iter()
        .map(|r| r.unit_id)
        .collect();

    let mut inbox = Vec::new();
    let mut pushes = Vec::new();
    // One-time subscriptions to take before a WeChat push is made: template → pushes.
    let mut wanting_credit: BTreeMap<String, Vec<NewDelivery>> = BTreeMap::new();
    for event in &events {
        let region = event.region_code.as_deref().unwrap_or_default();
        if !settings.of(region).enabled(event.kind) {
            continue;
        }
        let rendered = render(event.kind, &event.payload);
        let template = templates.get(event.kind.as_str());
        let wechat_data = template.and_then(|t| match rendered.fill(&t.field_map()) {
            Ok(data) => Some(data),
            Err(e) => {
                tracing::warn!(event = event.id, kind = %event.kind, error = %e, "template not filled; inbox only");
                None
            }
        });
        for recipient in recipients.remove(&event.id).unwrap_or_default() {
            let notification_id = Uuid::new_v4();
            inbox.push(inbox_entry(event, &rendered, recipient.id, notification_id));
            let (Some(template), Some(data), Some(openid)) = (template, &wechat_data, &recipient.openid)
            else {
                continue;
            };
            if !recipient.wants_push(event.kind) {
                continue;
            }
            let page = match (&template.page, &rendered.link) {
                (Some(pattern), Some(link)) => Some(link.page(pattern)),
                (page, _) => page.clone(),
            };
            let push = NewDelivery {
                event_id: event.id,
                notification_id: Some(notification_id),
                channel: Channel::Wechat,
                user_id: Some(recipient.id),
                unit_id: None,
                kind: event.kind,
                message: json!({
                    "touser": openid,
                    "template_id": template.template_id,
                    "page": page,
                    "data": data,
                    "lang": "zh_CN",
                }),
                urgent: event.kind.urgent(),
                next_attempt_at: now,
                created_at: now,
            };
            if template.long_term {
                pushes.push(push);
            } else {
                wanting_credit
                    .entry(template.template_id.clone())
                    .or_default()
                    .push(push);
            }
        }
        if let Some(unit) = event
            .recipient_unit_id
            .filter(|u| event.kind.to_robot() && robots.contains(u))
        {
            pushes.push(NewDelivery {
                event_id: event.id,
                notification_id: None,
                channel: Channel::Robot,
                user_id: None,
                unit_id: Some(unit),
                kind: event.kind,
                message: json!({ "title": rendered.title, "markdown": rendered.markdown(event.kind) }),
                urgent: event.kind.urgent(),
                next_attempt_at: now,
                created_at: now,
            });
        }
    }
    for (template_id, wanting) in wanting_credit {
        pushes.extend(with_credit(conn, &template_id, wanting, now)?);
    }
    let notifications = Notification::insert_all(conn, &inbox)?;
    let deliveries = Delivery::insert_all(conn, &pushes)?;
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    OutboxEvent::mark_expanded(conn, &ids, now)?;
    Ok(Expanded {
        events: events.len(),
        notifications,
        deliveries,
    })
}

fn inbox_entry(event: &OutboxEvent, rendered: &Rendered, user_id: Uuid, id: Uuid) -> Notification {
    Notification {
        id,
        user_id,
        event_id: event.id,
        kind: event.kind,
        title: rendered.title.clone(),
        body: rendered.body.clone(),
        link: rendered.link.as_ref().map(|l| l.to_json()),
        created_at: event.created_at,
        read_at: None,
    }
}

/// The pushes whose user had a one-time subscription of the template left (each takes one). A
/// user with several pushes in the batch takes one credit per push, while they last.
fn with_credit(
    conn: &mut PgConnection,
    template_id: &str,
    mut wanting: Vec<NewDelivery>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<NewDelivery>> {
    let mut granted = Vec::new();
    while !wanting.is_empty() {
        // One push per user in each round.
        let mut seen = HashSet::new();
        let (round, later): (Vec<_>, Vec<_>) = wanting.into_iter().partition(|p| seen.insert(p.user_id));
        let users: Vec<Uuid> = round.iter().filter_map(|p| p.user_id).collect();
        let took: HashSet<Uuid> = Credit::take(conn, template_id, &users, now)?
            .into_iter()
            .collect();
        granted.extend(
            round
                .into_iter()
                .filter(|p| p.user_id.is_some_and(|u| took.contains(&u))),
        );
        // Users without a credit now have none for their later pushes either.
        wanting = later
            .into_iter()
            .filter(|p| p.user_id.is_some_and(|u| took.contains(&u)))
            .collect();
    }
    Ok(granted)
}

/// The users each event reaches, by event id.
fn recipients(conn: &mut PgConnection, events: &[OutboxEvent]) -> QueryResult<HashMap<i64, Vec<Recipient>>> {
    let mut by_event: HashMap<i64, Vec<Recipient>> = HashMap::new();
    // Users named by their events (reminders): one query for the batch.
    let named: Vec<Uuid> = events.iter().filter_map(|e| e.recipient_user_id).collect();
    let named: HashMap<Uuid, Recipient> = users::table
        .filter(users::id.eq_any(&named))
        .filter(users::active.eq(true))
        .select(COLUMNS)
        .load::<Recipient>(conn)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    // The rest: one query per distinct address in the batch.
    let mut addressed: HashMap<Address, Vec<Recipient>> = HashMap::new();
    for event in events {
        if event.audience == Audience::User {
            let found = event.recipient_user_id.and_then(|u| named.get(&u)).cloned();
            by_event.insert(event.id, found.into_iter().collect());
            continue;
        }
        let region = event.region_code.clone().unwrap_or_default();
        let problem = (event.audience == Audience::EnterpriseSide)
            .then_some(event.problem_id)
            .flatten();
        let address = (event.recipient_unit_id, event.audience, region, problem);
        if !addressed.contains_key(&address) {
            let found = audience_of(conn, &address)?;
            addressed.insert(address.clone(), found);
        }
        by_event.insert(event.id, addressed[&address].clone());
    }
    Ok(by_event)
}

/// Whom an event addresses: a unit, the audience, the region, and (for the enterprise side)
/// the problem. Events with the same address reach the same users.
type Address = (Option<Uuid>, Audience, String, Option<Uuid>);

fn roles_of(audience: Audience) -> Vec<String> {
    audience.roles().iter().map(|r| r.as_str().to_owned()).collect()
}

fn audience_of(
    conn: &mut PgConnection,
    (unit, audience, region, problem): &Address,
) -> QueryResult<Vec<Recipient>> {
    let active = users::table.filter(users::active.eq(true));
    match (audience, unit, problem) {
        (Audience::EnterpriseSide, _, Some(problem)) => {
            let enterprise: Uuid = problems::table
                .find(problem)
                .select(problems::enterprise_id)
                .first(conn)?;
            let officers = assignments::table
                .filter(assignments::enterprise_id.eq(enterprise))
                .filter(assignments::end_day.is_null())
                .select(assignments::officer_id);
            active
                .filter(
                    users::enterprise_id
                        .eq(enterprise)
                        .and(users::roles.contains(vec![Role::Enterprise.as_str()]))
                        .or(users::id.eq_any(officers)),
                )
                .select(COLUMNS)
                .order(users::id)
                .load(conn)
        }
        (_, Some(unit), _) => active
            .filter(users::unit_id.eq(unit))
            .filter(users::roles.overlaps_with(roles_of(*audience)))
            .select(COLUMNS)
            .order(users::id)
            .load(conn),
        (Audience::Hub | Audience::HubLeadership, None, _) => {
            // The dispatchers of the region and of the regions above it.
            let path: Option<String> = regions::table
                .find(region)
                .select(regions::path)
                .first(conn)
                .optional()?;
            let chain: Vec<String> = path
                .unwrap_or_default()
                .split('/')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect();
            active
                .filter(users::region_code.eq_any(chain))
                .filter(users::roles.contains(vec![Role::Dispatcher.as_str()]))
                .select(COLUMNS)
                .order(users::id)
                .load(conn)
        }
        _ => Ok(Vec::new()),
    }
}
