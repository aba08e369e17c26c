//! Operational endpoints: liveness, readiness, metrics and the spec itself.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::RunQueryDsl;
use serde::Serialize;

use super::{get, Endpoint};
use crate::auth::client_ip::ClientIp;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

/// The OpenAPI document, compiled into the binary so it always matches the server.
pub const OPENAPI_YAML: &str = include_str!("../../api-spec/openapi.yaml");

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/healthz", web::get().to(health_get)),
        get("/readyz", web::get().to(readiness_get)),
        get("/metrics", web::get().to(metrics_get)),
        get("/api-spec/openapi.yaml", web::get().to(openapi_get)),
    ]
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

/// Liveness: the process answers.
async fn health_get() -> HttpResponse {
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
async fn readiness_get(state: web::Data<AppState>) -> HttpResponse {
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

/// Prometheus metrics, for clients in `METRICS_ALLOW` (the host itself by default) or with the
/// `METRICS_TOKEN` bearer token; to anyone else the route does not exist.
async fn metrics_get(
    state: web::Data<AppState>,
    ClientIp(client): ClientIp,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let allowed = state
        .settings
        .metrics_allow
        .iter()
        .any(|net| net.contains(&client));
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token_ok = match (&state.settings.metrics_token, bearer) {
        (Some(token), Some(given)) => constant_time_eq(token.expose().as_bytes(), given.trim().as_bytes()),
        _ => false,
    };
    if !(allowed || token_ok) {
        return Err(AppError::RouteNotFound);
    }
    let redis_up = state.cache.ping().await;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.pool, redis_up)))
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The API contract.
async fn openapi_get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}
