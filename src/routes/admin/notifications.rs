//! How a city's notifications are configured: the WeChat subscribe-message template of each
//! kind (a top-region admin: templates belong to the one mini-program), the group robot of a
//! unit, and a region's switches and reminder times (admins over that unit or region).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::crud::Entry;
use crate::auth::scope::{self, RegionScope};
use crate::auth::AuthAdmin;
use crate::clock::wire_time;
use crate::db;
use crate::db::models::audit;
use crate::db::models::notification_settings::RegionSettings;
use crate::db::models::notification_template::Template;
use crate::db::models::region::Region;
use crate::db::models::robot::Robot;
use crate::db::models::unit::Unit;
use crate::domain::field_error::{FieldCode, FieldError};
use crate::domain::notification::{NotificationKind, RobotPlatform};
use crate::domain::subscribe_field::FieldKind;
use crate::error::AppError;
use crate::idempotency::{self, Idempotency, Stored};
use crate::notify::seal::webhook_hint;
use crate::routes::{get, put, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get(
            "/api/v1/admin/notification-templates",
            web::get().to(admin_template_list),
        ),
        put(
            "/api/v1/admin/notification-templates/{kind}",
            web::put().to(admin_template_put),
        ),
        get("/api/v1/admin/units/{id}/robot", web::get().to(admin_robot_get)),
        put("/api/v1/admin/units/{id}/robot", web::put().to(admin_robot_put)),
        get(
            "/api/v1/admin/regions/{code}/notification-settings",
            web::get().to(admin_region_notification_settings_get),
        ),
        put(
            "/api/v1/admin/regions/{code}/notification-settings",
            web::put().to(admin_region_notification_settings_put),
        ),
    ]
}

// ---- templates ----

#[derive(Serialize)]
struct TemplateDto {
    kind: NotificationKind,
    template_id: String,
    page: Option<String>,
    fields: BTreeMap<String, String>,
    long_term: bool,
    enabled: bool,
    updated_at: DateTime<FixedOffset>,
}

impl From<Template> for TemplateDto {
    fn from(t: Template) -> Self {
        Self {
            fields: t.field_map(),
            kind: t.kind,
            template_id: t.template_id,
            page: t.page,
            long_term: t.long_term,
            enabled: t.enabled,
            updated_at: wire_time(t.updated_at),
        }
    }
}

#[derive(Serialize)]
struct KindDto {
    kind: NotificationKind,
    label: &'static str,
    mandatory: bool,
    /// The values a template of this kind may be filled from.
    values: &'static [&'static str],
}

#[derive(Serialize)]
struct TemplateList {
    items: Vec<TemplateDto>,
    /// Every kind with the values its messages carry, to map a template's fields to.
    kinds: Vec<KindDto>,
}

async fn admin_template_list(
    state: web::Data<AppState>,
    _admin: AuthAdmin,
) -> Result<HttpResponse, AppError> {
    let items = db::run(&state.pool, |conn| Ok(Template::all(conn)?)).await?;
    Ok(HttpResponse::Ok().json(TemplateList {
        items: items.into_iter().map(TemplateDto::from).collect(),
        kinds: NotificationKind::ALL
            .iter()
            .map(|&kind| KindDto {
                kind,
                label: kind.label(),
                mandatory: kind.mandatory(),
                values: kind.values(),
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateInput {
    template_id: String,
    page: Option<String>,
    /// Template key (`thing1`, `time2` …) → the kind's value that fills it.
    fields: BTreeMap<String, String>,
    #[serde(default)]
    long_term: bool,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// The rules of a template: an id as WeChat writes them, a page path, and fields that are
/// WeChat keys filled from values the kind carries.
fn check_template(kind: NotificationKind, input: &TemplateInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let id = input.template_id.trim();
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errors.push(FieldError::new(
            "template_id",
            FieldCode::Invalid,
            "模板ID应为1–64位字母、数字、-或_",
        ));
    }
    if input
        .page
        .as_ref()
        .is_some_and(|p| p.len() > 256 || p.trim().is_empty())
    {
        errors.push(FieldError::new(
            "page",
            FieldCode::Invalid,
            "页面路径应为1–256个字符",
        ));
    }
    if input.fields.is_empty() || input.fields.len() > 10 {
        errors.push(FieldError::new("fields", FieldCode::OutOfRange, "应有1–10个字段"));
    }
    for (key, value) in &input.fields {
        if FieldKind::of_key(key).is_none() {
            errors.push(FieldError::new(
                &format!("fields.{key}"),
                FieldCode::Invalid,
                "不是微信模板字段（如 thing1、time2、phrase3、character_string4、number5、date6）",
            ));
        } else if !kind.values().contains(&value.as_str()) {
            errors.push(FieldError::new(
                &format!("fields.{key}"),
                FieldCode::Unknown,
                format!("该类通知没有“{value}”，可选：{}", kind.values().join("、")),
            ));
        }
    }
    errors
}

/// Sets the template of a kind (a top-region admin). `enabled: false` stops its WeChat
/// messages; the inbox goes on.
async fn admin_template_put(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    path: web::Path<NotificationKind>,
    body: web::Json<TemplateInput>,
) -> Result<HttpResponse, AppError> {
    let (kind, input) = (path.into_inner(), body.into_inner());
    let errors = check_template(kind, &input);
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let (now, caller) = (state.clock.now(), admin.caller);
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            scope::require_top_region_admin(conn, &caller)?;
            let template = Template::upsert(
                conn,
                &Template {
                    kind,
                    template_id: input.template_id.trim().to_owned(),
                    page: input.page.map(|p| p.trim().to_owned()),
                    fields: serde_json::to_value(&input.fields).unwrap_or_default(),
                    long_term: input.long_term,
                    enabled: input.enabled,
                    updated_at: now,
                    updated_by: Some(caller.user_id),
                },
            )?;
            let dto = TemplateDto::from(template);
            audit::record(
                conn,
                Some(caller.user_id),
                "notification_template.put",
                "notification_template",
                kind.as_str(),
                None::<&()>,
                Some(&dto),
            )?;
            Stored::json(StatusCode::OK, &dto)
        })
    })
    .await?;
    Ok(stored.into_response())
}

// ---- robots ----

#[derive(Serialize)]
struct RobotDto {
    unit_id: Uuid,
    platform: RobotPlatform,
    /// The webhook's host and last characters: the webhook itself is never answered.
    webhook_hint: String,
    has_secret: bool,
    enabled: bool,
    updated_at: DateTime<FixedOffset>,
}

impl From<Robot> for RobotDto {
    fn from(r: Robot) -> Self {
        Self {
            unit_id: r.unit_id,
            platform: r.platform,
            webhook_hint: r.webhook_hint,
            has_secret: r.secret_sealed.is_some(),
            enabled: r.enabled,
            updated_at: wire_time(r.updated_at),
        }
    }
}

/// The unit, if the admin's region reaches it (the roster's own visibility rule).
fn unit_in_scope(
    conn: &mut diesel::PgConnection,
    admin: &crate::auth::Caller,
    id: Uuid,
) -> Result<Unit, AppError> {
    let scope = RegionScope::of(conn, admin)?;
    <Unit as Entry>::visible(conn, &scope, &id)
}

async fn admin_robot_get(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let (id, caller) = (path.into_inner(), admin.caller);
    let robot = db::run(&state.pool, move |conn| {
        unit_in_scope(conn, &caller, id)?;
        Robot::find(conn, id)?.ok_or(AppError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RobotDto::from(robot)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RobotInput {
    platform: RobotPlatform,
    webhook: String,
    /// DingTalk's signing secret (加签), if the robot has one.
    secret: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

/// A webhook the server may post to: https on one of the configured robot hosts (plain http
/// only to this machine, for a local relay).
fn check_webhook(webhook: &str, hosts: &[String]) -> Result<(), FieldError> {
    let refuse = |why: &str| FieldError::new("webhook", FieldCode::Invalid, why);
    let url = reqwest::Url::parse(webhook.trim()).map_err(|_| refuse("不是有效的网址"))?;
    let host = url.host_str().unwrap_or_default();
    let local = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    if !(url.scheme() == "https" || (url.scheme() == "http" && local)) {
        return Err(refuse("应为 https 网址"));
    }
    if !hosts.iter().any(|h| h == host) {
        return Err(refuse(&format!(
            "机器人地址应在 {} 之内（ROBOT_WEBHOOK_HOSTS）",
            hosts.join("、")
        )));
    }
    Ok(())
}

/// Registers or replaces a unit's robot; the webhook and secret are stored sealed and never
/// answered.
async fn admin_robot_put(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    path: web::Path<Uuid>,
    body: web::Json<RobotInput>,
) -> Result<HttpResponse, AppError> {
    let (id, input) = (path.into_inner(), body.into_inner());
    check_webhook(&input.webhook, &state.settings.robot_webhook_hosts)
        .map_err(|e| AppError::invalid(vec![e]))?;
    let secret = input.secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if secret.is_some_and(|s| s.len() > 256) {
        return Err(AppError::invalid_field(
            "secret",
            FieldCode::TooLong,
            "不能超过256个字符",
        ));
    }
    let robot = Robot {
        unit_id: id,
        platform: input.platform,
        webhook_sealed: state.sealer.seal(input.webhook.trim()),
        webhook_hint: webhook_hint(input.webhook.trim()),
        secret_sealed: secret.map(|s| state.sealer.seal(s)),
        enabled: input.enabled,
        updated_at: state.clock.now(),
        updated_by: Some(admin.caller.user_id),
    };
    let (now, caller) = (state.clock.now(), admin.caller);
    let stored = db::run(&state.pool, move |conn| {
        // The answer holds no secret, so a repeat may replay it.
        idempotency::within(conn, &idempotency, now, |conn| {
            unit_in_scope(conn, &caller, id)?;
            let dto = RobotDto::from(Robot::upsert(conn, &robot)?);
            audit::record(
                conn,
                Some(caller.user_id),
                "unit_robot.put",
                "unit",
                &id.to_string(),
                None::<&()>,
                Some(&dto),
            )?;
            Stored::json(StatusCode::OK, &dto)
        })
    })
    .await?;
    Ok(stored.into_response())
}

// ---- region settings ----

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionSettingsDto {
    /// Kinds not sent at all in this region (and the regions below it without settings).
    disabled_kinds: Vec<NotificationKind>,
    /// China time, `HH:MM`.
    #[serde(with = "hh_mm")]
    sign_in_reminder_at: NaiveTime,
    #[serde(with = "hh_mm")]
    report_reminder_at: NaiveTime,
    #[serde(with = "hh_mm")]
    digest_at: NaiveTime,
    #[serde(with = "hh_mm")]
    figures_at: NaiveTime,
    /// The region whose settings apply (this one, an ancestor, or none: the defaults).
    #[serde(default, skip_deserializing)]
    inherited_from: Option<String>,
}

mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M")
            .map_err(|_| serde::de::Error::custom(format!("“{text}” is not a time as HH:MM")))
    }
}

impl RegionSettingsDto {
    fn of(settings: &RegionSettings) -> Self {
        Self {
            disabled_kinds: settings
                .disabled_kinds
                .iter()
                .filter_map(|k| k.parse().ok())
                .collect(),
            sign_in_reminder_at: settings.sign_in_reminder_at,
            report_reminder_at: settings.report_reminder_at,
            digest_at: settings.digest_at,
            figures_at: settings.figures_at,
            inherited_from: (!settings.region_code.is_empty()).then(|| settings.region_code.clone()),
        }
    }
}

/// The region, if the admin's region reaches it (the roster's own visibility rule).
fn region_in_scope(
    conn: &mut diesel::PgConnection,
    admin: &crate::auth::Caller,
    code: &str,
) -> Result<Region, AppError> {
    let scope = RegionScope::of(conn, admin)?;
    <Region as Entry>::visible(conn, &scope, &code.to_owned())
}

/// The settings that apply to the region: its own, else its nearest ancestor's, else the
/// defaults.
async fn admin_region_notification_settings_get(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (code, caller) = (path.into_inner(), admin.caller);
    let settings = db::run(&state.pool, move |conn| {
        let region = region_in_scope(conn, &caller, &code)?;
        for ancestor in region.path.split('/').filter(|c| !c.is_empty()).rev() {
            if let Some(settings) = RegionSettings::find(conn, ancestor)? {
                return Ok(RegionSettingsDto::of(&settings));
            }
        }
        Ok(RegionSettingsDto::of(&RegionSettings::defaults("")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(settings))
}

async fn admin_region_notification_settings_put(
    state: web::Data<AppState>,
    admin: AuthAdmin,
    idempotency: Idempotency,
    path: web::Path<String>,
    body: web::Json<RegionSettingsDto>,
) -> Result<HttpResponse, AppError> {
    let (code, input) = (path.into_inner(), body.into_inner());
    let (now, caller) = (state.clock.now(), admin.caller);
    let mut disabled: Vec<String> = input
        .disabled_kinds
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    disabled.sort();
    disabled.dedup();
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let region = region_in_scope(conn, &caller, &code)?;
            let saved = RegionSettings::upsert(
                conn,
                &RegionSettings {
                    region_code: region.code.clone(),
                    disabled_kinds: disabled,
                    sign_in_reminder_at: input.sign_in_reminder_at,
                    report_reminder_at: input.report_reminder_at,
                    digest_at: input.digest_at,
                    figures_at: input.figures_at,
                    updated_at: now,
                    updated_by: Some(caller.user_id),
                },
            )?;
            let dto = RegionSettingsDto::of(&saved);
            audit::record(
                conn,
                Some(caller.user_id),
                "notification_settings.put",
                "region",
                &region.code,
                None::<&()>,
                Some(&dto),
            )?;
            Stored::json(StatusCode::OK, &dto)
        })
    })
    .await?;
    Ok(stored.into_response())
}
