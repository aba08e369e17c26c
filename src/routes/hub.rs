//! The hub's queue (驻企办待办): what waits for a dispatcher, and leases on it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::problems::ProblemDto;
use super::{get, invalid_cursor, post, Endpoint, ListResponse, PageParams};
use crate::auth::extractors::AuthDispatcher;
use crate::auth::scope::RegionScope;
use crate::db;
use crate::db::models::problem::Problem;
use crate::db::models::Page;
use crate::domain::problem::Urgency;
use crate::error::{AppError, ErrorCode};
use crate::hub::queue::{self, MAX_CLAIM, MAX_LEASE_SECONDS, MIN_LEASE_SECONDS};
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

const DEFAULT_CLAIM: i64 = 10;
const DEFAULT_LEASE_SECONDS: i64 = 300;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/api/v1/hub/queue", web::get().to(hub_queue_list)),
        post("/api/v1/hub/queue/claim", web::post().to(hub_queue_claim)),
    ]
}

fn queue_cursor(p: &Problem) -> String {
    format!("{}_{}", p.urgency, super::time_cursor(p.created_at, p.id))
}

/// `urgency_micros_id`, the position of the last item of a page.
fn parse_queue_cursor(page: &PageParams) -> Result<Option<(Urgency, DateTime<Utc>, Uuid)>, AppError> {
    let Some(cursor) = page.cursor.as_deref() else {
        return Ok(None);
    };
    let (urgency, rest) = cursor.split_once('_').ok_or_else(invalid_cursor)?;
    let urgency: Urgency = urgency.parse().map_err(|_| invalid_cursor())?;
    let position = PageParams {
        limit: None,
        cursor: Some(rest.to_owned()),
    }
    .time_cursor()?
    .ok_or_else(invalid_cursor)?;
    Ok(Some((urgency, position.0, position.1)))
}

/// Items in `submitted` or `returned` in the dispatcher's region, urgent first then oldest,
/// each with the classifier's suggestion, its lease (if any) and up to three similar open
/// problems of other enterprises.
async fn hub_queue_list(
    state: web::Data<AppState>,
    dispatcher: AuthDispatcher,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, after) = (page.limit()?, parse_queue_cursor(&page)?);
    let now = state.clock.now();
    let caller = dispatcher.caller;
    let page = db::run(&state.pool, move |conn| {
        let scope = RegionScope::of(conn, &caller)?;
        let rows = queue::page(conn, &scope.root_path, after, limit)?;
        let page = Page::from_rows(rows, limit, queue_cursor);
        let similar = queue::similar_to(conn, &scope.root_path, &page.items)?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .zip(similar)
                .map(|(p, similar)| ProblemDto::summary(p, now).with_similar(similar))
                .collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRequest {
    limit: Option<i64>,
    lease_seconds: Option<i64>,
}

#[derive(Serialize)]
struct ClaimResponse {
    items: Vec<ProblemDto>,
}

/// Leases up to `limit` free queue items to the caller for `lease_seconds`; items another
/// dispatcher holds are skipped, never shared, and come back when their lease runs out.
async fn hub_queue_claim(
    state: web::Data<AppState>,
    dispatcher: AuthDispatcher,
    idempotency: Idempotency,
    body: web::Json<ClaimRequest>,
) -> Result<HttpResponse, AppError> {
    let ClaimRequest { limit, lease_seconds } = body.into_inner();
    let limit = limit.unwrap_or(DEFAULT_CLAIM);
    if !(1..=MAX_CLAIM).contains(&limit) {
        return Err(AppError::new(
            ErrorCode::ValidationFailed,
            format!("limit 应在 1 到 {MAX_CLAIM} 之间"),
        ));
    }
    let lease = lease_seconds.unwrap_or(DEFAULT_LEASE_SECONDS);
    if !(MIN_LEASE_SECONDS..=MAX_LEASE_SECONDS).contains(&lease) {
        return Err(AppError::new(
            ErrorCode::ValidationFailed,
            format!("lease_seconds 应在 {MIN_LEASE_SECONDS} 到 {MAX_LEASE_SECONDS} 之间"),
        ));
    }
    let now = state.clock.now();
    let caller = dispatcher.caller;
    let stored = db::run(&state.pool, move |conn| {
        idempotency::within(conn, &idempotency, now, |conn| {
            let scope = RegionScope::of(conn, &caller)?;
            let claimed = queue::claim(
                conn,
                &scope.root_path,
                caller.user_id,
                now,
                Duration::seconds(lease),
                limit,
            )?;
            // Without `similar`: a claim is the hot path of a busy queue, and the queue list
            // and each problem's page show them.
            let items = claimed.into_iter().map(|p| ProblemDto::summary(p, now)).collect();
            Stored::json(StatusCode::OK, &ClaimResponse { items })
        })
    })
    .await?;
    Ok(stored.into_response())
}
