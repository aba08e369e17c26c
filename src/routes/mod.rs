//! The HTTP surface: one file per concept, and [`endpoints`], the single table of every route
//! that both the server and the spec test read.

pub mod admin;
pub mod assignment_meetings;
pub mod attachments;
pub mod auth;
pub mod calendar;
pub mod daily_reports;
pub mod daily_summaries;
pub mod enterprises;
pub mod exports;
pub mod hub;
pub mod job_openings;
pub mod me;
pub mod monthly_reports;
pub mod notifications;
pub mod officer_ratings;
pub mod params;
pub mod policies;
pub mod policy_checkoffs;
pub mod problem_actions;
pub mod problems;
pub mod service;
pub mod sign_ins;
pub mod stats;
pub mod task_forces;

use actix_web::http::Method;
use actix_web::{error, web, HttpRequest, Route};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, ErrorCode};

/// One route: method, path (with `{param}` placeholders, as in the spec) and handler.
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    route: Route,
}

fn endpoint(method: Method, path: &'static str, route: Route) -> Endpoint {
    Endpoint {
        route: route.method(method.clone()),
        method,
        path,
    }
}

pub fn get(path: &'static str, route: Route) -> Endpoint {
    endpoint(Method::GET, path, route)
}
pub fn post(path: &'static str, route: Route) -> Endpoint {
    endpoint(Method::POST, path, route)
}
pub fn put(path: &'static str, route: Route) -> Endpoint {
    endpoint(Method::PUT, path, route)
}
pub fn patch(path: &'static str, route: Route) -> Endpoint {
    endpoint(Method::PATCH, path, route)
}

/// Every route of the service.
pub fn endpoints() -> Vec<Endpoint> {
    let mut all = Vec::new();
    all.extend(service::endpoints());
    all.extend(auth::endpoints());
    all.extend(me::endpoints());
    all.extend(notifications::endpoints());
    all.extend(enterprises::endpoints());
    all.extend(sign_ins::endpoints());
    all.extend(daily_reports::endpoints());
    all.extend(problems::endpoints());
    all.extend(problem_actions::endpoints());
    all.extend(attachments::endpoints());
    all.extend(hub::endpoints());
    all.extend(assignment_meetings::endpoints());
    all.extend(task_forces::endpoints());
    all.extend(job_openings::endpoints());
    all.extend(officer_ratings::endpoints());
    all.extend(policies::endpoints());
    all.extend(policy_checkoffs::endpoints());
    all.extend(calendar::endpoints());
    all.extend(stats::endpoints());
    all.extend(monthly_reports::endpoints());
    all.extend(daily_summaries::endpoints());
    all.extend(exports::endpoints());
    all.extend(admin::endpoints());
    all
}

/// Registers every endpoint, one resource per path so a wrong method gets 405, not 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut by_path: Vec<(&'static str, Vec<Route>)> = Vec::new();
    for e in endpoints() {
        match by_path.iter_mut().find(|(path, _)| *path == e.path) {
            Some((_, routes)) => routes.push(e.route),
            None => by_path.push((e.path, vec![e.route])),
        }
    }
    for (path, routes) in by_path {
        let resource = routes
            .into_iter()
            .fold(web::resource(path), |resource, route| resource.route(route));
        cfg.service(resource);
    }
}

/// Body and parameter parsing errors in the service's error format.
/// A JSON body above `json_config`'s 64 KB, up to `limit` bytes (an assignment meeting of a
/// thousand items), refused as `json_config` refuses: 415 for another content type, 413 past
/// the limit, 400 for malformed JSON or a wrong field.
pub async fn large_json<T: serde::de::DeserializeOwned>(
    req: &actix_web::HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<T, AppError> {
    use futures_util::StreamExt;
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Err(AppError::UnsupportedMediaType);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| AppError::new(ErrorCode::RequestMalformedJson, format!("请求内容读取失败：{e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            AppError::new(ErrorCode::RequestInvalidBody, format!("请求内容字段有误：{e}"))
        } else {
            AppError::new(ErrorCode::RequestMalformedJson, format!("JSON 格式错误：{e}"))
        }
    })
}

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: error::JsonPayloadError) -> AppError {
    match err {
        error::JsonPayloadError::OverflowKnownLength { .. } | error::JsonPayloadError::Overflow { .. } => {
            AppError::PayloadTooLarge
        }
        error::JsonPayloadError::ContentType => AppError::UnsupportedMediaType,
        error::JsonPayloadError::Deserialize(e) if e.is_data() => {
            AppError::new(ErrorCode::RequestInvalidBody, format!("请求内容字段有误：{e}"))
        }
        error::JsonPayloadError::Deserialize(e) => {
            AppError::new(ErrorCode::RequestMalformedJson, format!("JSON 格式错误：{e}"))
        }
        other => AppError::new(
            ErrorCode::RequestMalformedJson,
            format!("无法读取请求内容：{other}"),
        ),
    }
}

/// Raw bodies (the optional bodies of some problem actions) have the same limit as JSON ones.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::default().limit(64 * 1024)
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        AppError::new(ErrorCode::RequestInvalidQuery, format!("查询参数有误：{err}")).into()
    })
}

/// A path parameter that does not parse (say, an id that is not a UUID) names nothing.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, _req| AppError::NotFound.into())
}

/// Unknown routes.
pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, AppError> {
    tracing::debug!(path = req.path(), "no such route");
    Err(AppError::RouteNotFound)
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Deserialize)]
pub struct PageParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

impl PageParams {
    pub fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(AppError::new(
                ErrorCode::RequestInvalidLimit,
                format!("limit 应在 1 到 {MAX_LIMIT} 之间"),
            )),
        }
    }

    /// The cursor of a list ordered by UUID.
    pub fn uuid_cursor(&self) -> Result<Option<Uuid>, AppError> {
        self.cursor
            .as_deref()
            .map(|c| Uuid::parse_str(c).map_err(|_| invalid_cursor()))
            .transpose()
    }

    /// The cursor of a list ordered by (timestamp, id), newest first.
    pub fn time_cursor(&self) -> Result<Option<(DateTime<Utc>, Uuid)>, AppError> {
        let Some(cursor) = self.cursor.as_deref() else {
            return Ok(None);
        };
        let (micros, id) = cursor.split_once('_').ok_or_else(invalid_cursor)?;
        let at = micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(invalid_cursor)?;
        Ok(Some((at, Uuid::parse_str(id).map_err(|_| invalid_cursor())?)))
    }

    /// The cursor of a list ordered by (day, id), newest first.
    pub fn day_cursor(&self) -> Result<Option<(NaiveDate, Uuid)>, AppError> {
        let Some(cursor) = self.cursor.as_deref() else {
            return Ok(None);
        };
        let (day, id) = cursor.split_once('_').ok_or_else(invalid_cursor)?;
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| invalid_cursor())?;
        Ok(Some((day, Uuid::parse_str(id).map_err(|_| invalid_cursor())?)))
    }
}

impl PageParams {
    /// The cursor of a list computed whole (a ranking): the position of the next item.
    pub fn offset_cursor(&self) -> Result<usize, AppError> {
        self.cursor
            .as_deref()
            .map(|c| c.parse::<usize>().map_err(|_| invalid_cursor()))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// One page of a list computed whole.
    pub fn slice<T>(&self, mut items: Vec<T>) -> Result<ListResponse<T>, AppError> {
        let (limit, offset) = (self.limit()? as usize, self.offset_cursor()?);
        let end = offset.saturating_add(limit);
        let next_cursor = (end < items.len()).then(|| end.to_string());
        items.truncate(end);
        let items = items.into_iter().skip(offset).collect();
        Ok(ListResponse { items, next_cursor })
    }
}

/// `from..=to` of a query, by default the month of `to` so far (`to` defaults to today), and at
/// most `max_days` long; `what` names the period in the error.
pub fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
    max_days: i64,
    what: &str,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    if from > to {
        return Err(AppError::new(ErrorCode::RequestInvalidQuery, "from 不能晚于 to"));
    }
    if (to - from).num_days() >= max_days {
        return Err(AppError::new(
            ErrorCode::RequestInvalidQuery,
            format!("{what}不能超过 {max_days} 天"),
        ));
    }
    Ok((from, to))
}

pub fn time_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{id}", at.timestamp_micros())
}

pub fn day_cursor(day: NaiveDate, id: Uuid) -> String {
    format!("{day}_{id}")
}

pub fn invalid_cursor() -> AppError {
    AppError::new(ErrorCode::RequestInvalidCursor, "cursor 无效，请从第一页重新获取")
}

/// The shape of every list response.
#[derive(Debug, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> From<crate::db::models::Page<T>> for ListResponse<T> {
    fn from(page: crate::db::models::Page<T>) -> Self {
        Self {
            items: page.items,
            next_cursor: page.next_cursor,
        }
    }
}
