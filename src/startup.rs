//! Builds the HTTP server; `main` and the tests share it.

use std::net::TcpListener;

use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, HttpServer, ResponseError};

use crate::auth::sessions;
use crate::error::AppError;
use crate::idempotency;
use crate::routes;
use crate::state::AppState;
use crate::stats;
use crate::telemetry::request_context;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `state.settings.bind_addr` (port 0 picks a free port) and prepares the server.
    pub fn build(state: web::Data<AppState>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(state.settings.bind_addr)?;
        let port = listener.local_addr()?.port();
        state.cache.connect_in_background();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(routes::json_config())
                .app_data(routes::query_config())
                .app_data(routes::path_config())
                .app_data(routes::payload_config())
                .wrap(
                    ErrorHandlers::new()
                        .handler(StatusCode::METHOD_NOT_ALLOWED, method_not_allowed)
                        .handler(StatusCode::PAYLOAD_TOO_LARGE, payload_too_large),
                )
                .wrap(from_fn(stats::retire_after_admin_writes))
                .wrap(from_fn(crate::db::replicas::data_as_of))
                .wrap(from_fn(sessions::check))
                .wrap(from_fn(idempotency::fingerprint))
                .wrap(from_fn(request_context))
                .configure(routes::configure)
                .configure(crate::console::configure)
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// actix answers a known path with an unknown method by an empty 405; give it our body.
fn method_not_allowed<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    ours(res, AppError::MethodNotAllowed)
}

/// A raw body over `routes::payload_config`'s limit is refused by actix in plain text; give it
/// our body. An answer of ours keeps its own (a file over its limit is `attachment.too_large`).
fn payload_too_large<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .is_some()
    {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    ours(res, AppError::PayloadTooLarge)
}

fn ours<B>(res: ServiceResponse<B>, error: AppError) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (req, _) = res.into_parts();
    let response = error.error_response().map_into_right_body();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(
        req, response,
    )))
}
