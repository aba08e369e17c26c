//! Operational endpoints: liveness, readiness, metrics and the spec itself.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::RunQueryDsl;
use serde::Serialize;

use super::{get, Endpoint};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// The OpenAPI document, compiled into the binary so it always matches the server.
pub const OPENAPI_YAML: &str = include_str!("../../api-spec/openapi.yaml");

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/healthz", web::get().to(healthz)),
        get("/readyz", web::get().to(readyz)),
        get("/metrics", web::get().to(metrics)),
        get("/api-spec/openapi.yaml", web::get().to(openapi)),
    ]
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

/// Liveness: the process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    postgres: &'static str,
    redis: &'static str,
}

fn up_or_down(up: bool) -> &'static str {
    if up {
        "up"
    } else {
        "down"
    }
}

/// Readiness: 200 while PostgreSQL answers; Redis is reported but optional.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pg = db::run(&state.pool, |conn| {
        diesel::sql_query("SELECT 1").execute(conn)?;
        Ok(())
    });
    let (postgres, redis) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(2), pg),
        state.cache.ping()
    );
    let postgres = matches!(postgres, Ok(Ok(())));
    let body = Readiness {
        status: if postgres { "ready" } else { "unavailable" },
        postgres: up_or_down(postgres),
        redis: up_or_down(redis),
    };
    if postgres {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics, for scrapers on the same host only (ops put a proxy in front).
async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let local = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    if !local {
        return Err(AppError::RouteNotFound);
    }
    let redis_up = state.cache.ping().await;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.pool, redis_up)))
}

/// The API contract.
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}
