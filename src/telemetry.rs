//! Logs and metrics: the tracing subscriber, the request-id middleware that puts an id in
//! every log line of a request and in `X-Request-Id`, and the Prometheus registry.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use tracing::Instrument;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;
use crate::state::AppState;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served by the current task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Installs the global subscriber; `RUST_LOG` filters (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests build many apps in one process) is harmless.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Accepts a caller's request id when it is short and plain, so ids can follow a request
/// across services; anything else is replaced.
fn request_id_from(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Wraps every request: a span with its id, the id in the response, metrics and one access
/// log line.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = request_id_from(&req);
    // Any token is a valid HTTP method; only the known ones become metric labels.
    let method = match req.method().as_str() {
        known @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => known.to_owned(),
        _ => "OTHER".to_owned(),
    };
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    // The client's address as TRUSTED_PROXIES lets us believe it (behind nginx: the caller's,
    // not the balancer's), on every line of the request.
    let client_ip = crate::auth::client_ip::ClientIp::of(req.request()).0;
    let span = tracing::info_span!("request", request_id = %request_id, %method, %route, %client_ip);
    let started = Instant::now();

    let result = REQUEST_ID
        .scope(request_id.clone(), next.call(req).instrument(span.clone()))
        .await;

    let elapsed = started.elapsed();
    let mut response = result?;
    let status = response.status().as_u16();
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

/// The Prometheus registry of one server.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    redis_up: IntGauge,
    /// Sign-ins per call of the sign-in writer (`signin::queue`): 1 when quiet, more at a peak.
    pub sign_in_batch_size: Histogram,
    /// Report filings by path: `at_once` (the first filing in one statement) or `transaction`.
    pub report_filings: IntCounterVec,
    pub notify: NotifyMetrics,
}

/// The pushes' figures: attempts by channel and outcome, and the backlog.
#[derive(Clone)]
pub struct NotifyMetrics {
    attempts: IntCounterVec,
    pending: IntGauge,
    oldest_pending_seconds: IntGauge,
}

impl NotifyMetrics {
    fn new(registry: &Registry) -> anyhow::Result<Self> {
        let attempts = IntCounterVec::new(
            Opts::new(
                "notification_pushes_total",
                "Push attempts by channel and outcome (sent, failed = retried later, dead, unsubscribed)",
            ),
            &["channel", "outcome"],
        )?;
        let pending = IntGauge::new(
            "notification_pushes_pending",
            "Pushes waiting to be sent or retried",
        )?;
        let oldest_pending_seconds = IntGauge::new(
            "notification_oldest_pending_seconds",
            "Age of the oldest push that is due and not yet sent (0 when none)",
        )?;
        registry.register(Box::new(attempts.clone()))?;
        registry.register(Box::new(pending.clone()))?;
        registry.register(Box::new(oldest_pending_seconds.clone()))?;
        Ok(Self {
            attempts,
            pending,
            oldest_pending_seconds,
        })
    }

    pub fn observe(&self, channel: &str, attempted: &crate::db::models::delivery::Attempted) {
        use crate::db::models::delivery::Attempted;
        use crate::domain::notification::DeliveryStatus;
        let outcome = match attempted {
            Attempted::Sent => "sent",
            Attempted::Retry { .. } => "failed",
            Attempted::Final {
                status: DeliveryStatus::Unsubscribed,
                ..
            } => "unsubscribed",
            Attempted::Final { .. } => "dead",
        };
        self.attempts.with_label_values(&[channel, outcome]).inc();
    }

    pub fn backlog(&self, pending: i64, oldest_pending_seconds: i64) {
        self.pending.set(pending);
        self.oldest_pending_seconds.set(oldest_pending_seconds.max(0));
    }
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("zhuqi".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["method", "route"],
        )?;
        let pool_connections = IntGauge::new("db_pool_connections", "PostgreSQL pool connections open")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "PostgreSQL pool connections idle")?;
        let pool_max = IntGauge::new("db_pool_max_size", "PostgreSQL pool size limit")?;
        let redis_up = IntGauge::new("redis_up", "1 when Redis answered the last probe")?;
        let sign_in_batch_size = Histogram::with_opts(
            HistogramOpts::new(
                "sign_in_batch_size",
                "Sign-ins written per call of the sign-in writer",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]),
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(redis_up.clone()))?;
        let report_filings = IntCounterVec::new(
            Opts::new(
                "report_filings_total",
                "Daily report filings by path: at_once (a first filing in one statement) or transaction (revisions, refusals, replays)",
            ),
            &["path"],
        )?;
        registry.register(Box::new(sign_in_batch_size.clone()))?;
        registry.register(Box::new(report_filings.clone()))?;
        let notify = NotifyMetrics::new(&registry)?;
        Ok(Self {
            notify,
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            pool_max,
            redis_up,
            sign_in_batch_size,
            report_filings,
        })
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    /// The text exposition, with the pool and Redis gauges read at scrape time.
    pub fn render(&self, pool: &crate::db::PgPool, redis_up: bool) -> String {
        let state = pool.state();
        self.pool_connections.set(i64::from(state.connections));
        self.pool_idle.set(i64::from(state.idle_connections));
        self.pool_max.set(i64::from(pool.max_size()));
        self.redis_up.set(i64::from(redis_up));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
