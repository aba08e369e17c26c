//! 签到: an officer signs in at an assigned enterprise, on site, once a day.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, SubsecRound};
use serde::Deserialize;
use uuid::Uuid;

use super::{get, post, Endpoint, ListResponse, PageParams};
use crate::auth::extractors::AuthOfficer;
use crate::auth::{scope, AuthUser};
use crate::cache::counters::{self, Metric};
use crate::db;
use crate::db::models::sign_in::{SignIn, SignInFilter};
use crate::db::models::Page;
use crate::error::AppError;
use crate::idempotency::Idempotency;
use crate::signin::{self, SignInDto, SignInRequest};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/sign-ins", web::post().to(sign_in_create)),
        get("/api/v1/sign-ins", web::get().to(sign_in_list)),
    ]
}

/// Signs the officer in at an enterprise they are assigned to, with the server's time. The
/// first sign-in of the China-local day is a 201; a repeat returns that first record with 200.
async fn sign_in_create(
    state: web::Data<AppState>,
    officer: AuthOfficer,
    idempotency: Idempotency,
    body: web::Json<SignInRequest>,
) -> Result<HttpResponse, AppError> {
    // The database keeps microseconds: the first answer must equal every later read.
    let now = state.clock.now().trunc_subsecs(6);
    let attempt = body.into_inner().check(officer.caller.user_id, now)?;
    let day = attempt.day;
    let signed_in = signin::sign_in(&state, attempt, idempotency).await?;
    if let Some(path) = signed_in.written_in {
        counters::after_commit(&state.cache, &path, day, &[(Metric::SignIns, 1)]).await;
    }
    Ok(signed_in.stored.into_response())
}

#[derive(Deserialize)]
struct SignInQuery {
    #[serde(default, deserialize_with = "crate::routes::params::known_day_opt")]
    day: Option<NaiveDate>,
    enterprise_id: Option<Uuid>,
    officer_id: Option<Uuid>,
}

/// Sign-ins the caller may see, newest first.
async fn sign_in_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    query: web::Query<SignInQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let SignInQuery {
        day,
        enterprise_id,
        officer_id,
    } = query.into_inner();
    let (limit, after) = (page.limit()?, page.time_cursor()?);
    let filter = SignInFilter {
        day,
        enterprise_id,
        officer_id,
    };
    let page = db::run(&state.pool, move |conn| {
        let scope = scope::record_scope(conn, &caller)?;
        let rows = SignIn::list(conn, &scope, &filter, after, limit)?;
        Ok(Page::from_rows(rows, limit, |s| {
            super::time_cursor(s.signed_at, s.id)
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from(page.map(SignInDto::from))))
}
