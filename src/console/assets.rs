//! The console's style sheet and script, compiled into the binary (the project's own files,
//! under the project's licence): nothing is loaded from elsewhere.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::AppError;

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/console/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/console/console.js"),
    ),
];

pub async fn console_asset(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, kind, body) = ASSETS
        .iter()
        .find(|(file, _, _)| *file == name.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*kind)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*body))
}
