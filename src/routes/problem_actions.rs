//! The lifecycle endpoints of a problem (分类、交办、签收、退回、反馈、现场答复、评价、销号、
//! 合并、延期). Each parses its body and hands over to `hub::actions`, which decides and writes
//! in one transaction; the answer is the problem as it now stands, with its timeline.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use uuid::Uuid;

use super::problems::ProblemDto;
use super::{post, Endpoint};
use crate::auth::{AuthUser, Caller};
use crate::cache::stats;
use crate::db;
use crate::db::models::problem::Problem;
use crate::domain::benefit::Benefits;
use crate::domain::co_handling::CoAction;
use crate::domain::deadline::end_of_day;
use crate::domain::field_error::FieldCode;
use crate::domain::lifecycle::{Rating, ResponseOutcome};
use crate::domain::problem::Urgency;
use crate::error::{AppError, ErrorCode};
use crate::hub::actions::{self, Acting, CoHandlerInput};
use crate::idempotency::{self, Idempotency, Stored};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        post("/api/v1/problems/{id}/triage", web::post().to(problem_triage)),
        post("/api/v1/problems/{id}/assign", web::post().to(problem_assign)),
        post("/api/v1/problems/{id}/merge", web::post().to(problem_merge)),
        post("/api/v1/problems/{id}/accept", web::post().to(problem_accept)),
        post("/api/v1/problems/{id}/return", web::post().to(problem_return)),
        post("/api/v1/problems/{id}/respond", web::post().to(problem_respond)),
        post(
            "/api/v1/problems/{id}/resolve-on-site",
            web::post().to(problem_resolve_on_site),
        ),
        post("/api/v1/problems/{id}/evaluate", web::post().to(problem_evaluate)),
        post("/api/v1/problems/{id}/close", web::post().to(problem_close)),
        post(
            "/api/v1/problems/{id}/co-handling/accept",
            web::post().to(problem_co_accept),
        ),
        post(
            "/api/v1/problems/{id}/co-handling/opinion",
            web::post().to(problem_co_opinion),
        ),
        post(
            "/api/v1/problems/{id}/co-handling/return",
            web::post().to(problem_co_return),
        ),
        post(
            "/api/v1/problems/{id}/extension",
            web::post().to(problem_extension_request),
        ),
        post(
            "/api/v1/problems/{id}/extension/approve",
            web::post().to(problem_extension_approve),
        ),
        post(
            "/api/v1/problems/{id}/extension/refuse",
            web::post().to(problem_extension_refuse),
        ),
    ]
}

/// A body that may be left out entirely (`accept`, `close`, the extension decisions): an
/// empty body reads as `{}`.
fn optional_body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            AppError::new(ErrorCode::RequestInvalidBody, format!("请求内容字段有误：{e}"))
        } else {
            AppError::new(ErrorCode::RequestMalformedJson, format!("JSON 格式错误：{e}"))
        }
    })
}

/// Runs one action in a transaction under the request's idempotency key and answers with the
/// problem; also returns it (unless replayed) for work after the commit.
async fn run<F>(
    state: &AppState,
    caller: Caller,
    idempotency: Idempotency,
    action: F,
) -> Result<(HttpResponse, Option<Problem>), AppError>
where
    F: FnOnce(&mut PgConnection, Acting) -> Result<Problem, AppError> + Send + 'static,
{
    let now = state.clock.now();
    let (stored, problem) = db::run(&state.pool, move |conn| {
        let mut done = None;
        let stored = idempotency::within(conn, &idempotency, now, |conn| {
            let problem = action(conn, Acting { caller: &caller, now })?;
            let body = ProblemDto::full(conn, problem.clone(), now)?;
            done = Some(problem);
            Stored::json(StatusCode::OK, &body)
        })?;
        Ok((stored, done))
    })
    .await?;
    if problem.is_some() {
        stats::figures_changed(&state.cache).await;
    }
    Ok((stored.into_response(), problem))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageRequest {
    category: String,
    urgency: Option<Urgency>,
}

/// 分类. The confirmed category also teaches the classifier.
async fn problem_triage(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<TriageRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let (response, problem) = run(&state, caller, idempotency, move |conn, acting| {
        actions::triage(conn, acting, id, &body.category, body.urgency)
    })
    .await?;
    if let Some(problem) = problem {
        if let Some(category) = &problem.category {
            state.classifier.learn(&problem.description, category);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignRequest {
    department_id: Uuid,
    due_working_days: Option<u32>,
    instructions: Option<String>,
    #[serde(default)]
    co_handlers: Vec<CoHandlerInput>,
}

/// 交办.
async fn problem_assign(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<AssignRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::assign(
            conn,
            acting,
            id,
            body.department_id,
            body.due_working_days,
            body.instructions.as_deref(),
            &body.co_handlers,
        )
    })
    .await?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeRequest {
    into_id: Uuid,
}

/// 合并 into another problem (共性问题).
async fn problem_merge(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<MergeRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, into_id) = (id.into_inner(), body.into_inner().into_id);
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::merge(conn, acting, id, into_id)
    })
    .await?;
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NoteRequest {
    note: Option<String>,
}

/// 签收.
async fn problem_accept(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), optional_body::<NoteRequest>(&body)?);
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::accept(conn, acting, id, body.note.as_deref())
    })
    .await?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonRequest {
    reason: String,
}

/// 退回 to the hub.
async fn problem_return(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<ReasonRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, reason) = (id.into_inner(), body.into_inner().reason);
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::give_back(conn, acting, id, Some(&reason))
    })
    .await?;
    Ok(response)
}

/// 协办签收: a co-handling department signs for its part (counts as its contact).
async fn problem_co_accept(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), optional_body::<NoteRequest>(&body)?);
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::co_handle(conn, acting, id, CoAction::Accept, body.note.as_deref())
    })
    .await?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpinionRequest {
    opinion: String,
}

/// 会办意见: a co-handling department's opinion for the lead.
async fn problem_co_opinion(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<OpinionRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, opinion) = (id.into_inner(), body.into_inner().opinion);
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::co_handle(conn, acting, id, CoAction::Opine, Some(&opinion))
    })
    .await?;
    Ok(response)
}

/// 协办退回: not this co-handler's remit; the lead carries on, the hub is told.
async fn problem_co_return(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<ReasonRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, reason) = (id.into_inner(), body.into_inner().reason);
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::co_handle(conn, acting, id, CoAction::Return, Some(&reason))
    })
    .await?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RespondRequest {
    resolution: String,
    outcome: ResponseOutcome,
    benefits: Option<Benefits>,
}

/// 反馈.
async fn problem_respond(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<RespondRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::respond(
            conn,
            acting,
            id,
            Some(&body.resolution),
            body.outcome,
            body.benefits.as_ref(),
        )
    })
    .await?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolutionRequest {
    resolution: String,
    benefits: Option<Benefits>,
}

/// 现场答复.
async fn problem_resolve_on_site(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<ResolutionRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::resolve_on_site(conn, acting, id, Some(&body.resolution), body.benefits.as_ref())
    })
    .await?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluateRequest {
    rating: Rating,
    comment: Option<String>,
}

/// 评价.
async fn problem_evaluate(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<EvaluateRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::evaluate(conn, acting, id, body.rating, body.comment.as_deref())
    })
    .await?;
    Ok(response)
}

/// 销号.
async fn problem_close(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), optional_body::<NoteRequest>(&body)?);
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::close(conn, acting, id, body.note.as_deref())
    })
    .await?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionRequest {
    /// A date (the end of that China day) or an RFC 3339 time.
    requested_due_at: String,
    reason: String,
}

fn due_time(text: &str) -> Result<DateTime<Utc>, AppError> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(end_of_day(day));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            AppError::invalid_field(
                "requested_due_at",
                FieldCode::Invalid,
                "应为日期（2026-12-31）或带时区的时间",
            )
        })
}

/// 延期申请.
async fn problem_extension_request(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Json<ExtensionRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let requested_due_at = due_time(body.requested_due_at.trim())?;
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::request_extension(conn, acting, id, requested_due_at, Some(&body.reason))
    })
    .await?;
    Ok(response)
}

async fn decide_extension(
    state: web::Data<AppState>,
    caller: Caller,
    idempotency: Idempotency,
    id: Uuid,
    body: &[u8],
    approve: bool,
) -> Result<HttpResponse, AppError> {
    let body = optional_body::<NoteRequest>(body)?;
    let (response, _) = run(&state, caller, idempotency, move |conn, acting| {
        actions::decide_extension(conn, acting, id, approve, body.note.as_deref())
    })
    .await?;
    Ok(response)
}

/// 延期批准: the due date moves to the requested one.
async fn problem_extension_approve(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    decide_extension(state, caller, idempotency, id.into_inner(), &body, true).await
}

/// 延期不予批准.
async fn problem_extension_refuse(
    state: web::Data<AppState>,
    AuthUser(caller): AuthUser,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    decide_extension(state, caller, idempotency, id.into_inner(), &body, false).await
}
