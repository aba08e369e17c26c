//! 企业评价联络员: an enterprise contact rates, each month, the officers stationed with their
//! enterprise. The officers' figures show only counts and means (`stats::figures`).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use diesel::PgConnection;
use serde::Serialize;
use uuid::Uuid;

use super::{get, put, Endpoint};
use crate::auth::{AuthUser, Caller};
use crate::clock::{local_day, wire_time};
use crate::db;
use crate::db::models::officer_rating::OfficerRating;
use crate::domain::metrics::Month;
use crate::domain::officer_rating::RatingInput;
use crate::domain::role::Role;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get(
            "/api/v1/me/officer-ratings",
            web::get().to(me_officer_ratings_list),
        ),
        put(
            "/api/v1/me/officer-ratings/{officer_id}",
            web::put().to(me_officer_rating_put),
        ),
    ]
}

#[derive(Serialize)]
struct RatingDto {
    presence: i16,
    responsiveness: i16,
    help: i16,
    comment: Option<String>,
    updated_at: DateTime<FixedOffset>,
}

impl From<OfficerRating> for RatingDto {
    fn from(r: OfficerRating) -> Self {
        RatingDto {
            presence: r.presence,
            responsiveness: r.responsiveness,
            help: r.help,
            comment: r.comment,
            updated_at: wire_time(r.updated_at),
        }
    }
}

#[derive(Serialize)]
struct RateableDto {
    officer_id: Uuid,
    name: String,
    unit_name: Option<String>,
    /// Your rating this month, if you gave one.
    rating: Option<RatingDto>,
}

#[derive(Serialize)]
struct RateableList {
    month: String,
    items: Vec<RateableDto>,
}

/// The enterprise whose contact the caller is; anyone else has no ratings to give.
fn contact_enterprise(caller: &Caller) -> Result<Uuid, AppError> {
    match (caller.has(Role::Enterprise), caller.enterprise_id) {
        (true, Some(enterprise)) => Ok(enterprise),
        _ => Err(AppError::new(
            ErrorCode::AuthRoleRequired,
            "只有企业联系人可以评价驻企联络员",
        )),
    }
}

/// This month's officers of the caller's enterprise, each with the caller's rating.
fn rateable(conn: &mut PgConnection, caller: &Caller, month: Month) -> Result<RateableList, AppError> {
    let enterprise = contact_enterprise(caller)?;
    let mut mine = OfficerRating::by_rater(conn, caller.user_id, month)?;
    let items = OfficerRating::stationed(conn, enterprise, month)?
        .into_iter()
        .map(|o| {
            let rating = mine
                .iter()
                .position(|r| r.officer_id == o.id)
                .map(|i| RatingDto::from(mine.swap_remove(i)));
            RateableDto {
                officer_id: o.id,
                name: o.name,
                unit_name: o.unit_name,
                rating,
            }
        })
        .collect();
    Ok(RateableList {
        month: month.to_string(),
        items,
    })
}

/// The officers you may rate this month, with your ratings so far.
async fn me_officer_ratings_list(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
) -> Result<HttpResponse, AppError> {
    let month = Month::containing(local_day(state.clock.now()));
    let list = db::run(&state.pool, move |conn| rateable(conn, &caller, month)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Your rating of an officer stationed with your enterprise this month (a second one this
/// month replaces the first).
async fn me_officer_rating_put(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    officer_id: web::Path<Uuid>,
    body: web::Json<RatingInput>,
) -> Result<HttpResponse, AppError> {
    let (officer_id, body, now) = (officer_id.into_inner(), body.into_inner(), state.clock.now());
    let month = Month::containing(local_day(now));
    let rating = db::run(&state.pool, move |conn| {
        let enterprise = contact_enterprise(&caller)?;
        let input = body.validate().map_err(AppError::invalid)?;
        let stationed = OfficerRating::stationed(conn, enterprise, month)?;
        if !stationed.iter().any(|o| o.id == officer_id) {
            return Err(AppError::NotFound);
        }
        Ok(OfficerRating::put(
            conn,
            caller.user_id,
            enterprise,
            officer_id,
            month,
            &input,
            now,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RatingDto::from(rating)))
}
