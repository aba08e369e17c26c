//! `AppState`: everything a handler needs, built once per server and shared as one
//! `web::Data`.

use std::time::Duration;

use crate::attachments::store::Store;
use crate::attachments::Attachments;
use crate::auth::jwt::JwtKeys;
use crate::auth::password::Hasher;
use crate::cache::limiter::{AttemptLimiter, OnSuccess};
use crate::cache::Cache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::replicas::Replicas;
use crate::db::PgPool;
use crate::hub::classifier::SharedClassifier;
use crate::notify::deliver::Deliverer;
use crate::notify::seal::Sealer;
use crate::signin::SignInQueue;
use crate::stats::in_flight::InFlight;
use crate::telemetry::Metrics;
use crate::wechat::subscribe::SubscribeSender;
use crate::wechat::token::AccessTokens;
use crate::wechat::WeChatClient;

pub struct AppState {
    /// Connections for requests and the sign-in writer.
    pub pool: PgPool,
    /// Connections for long work: exports, imports, dashboard computations, reconciliation.
    pub bulk_pool: PgPool,
    /// Read replicas for the reads that tolerate lag; they fall back to `bulk_pool`.
    pub replicas: Replicas,
    pub cache: Cache,
    pub wechat: WeChatClient,
    pub jwt: JwtKeys,
    pub clock: Clock,
    pub settings: Settings,
    pub metrics: Metrics,
    /// Failed sign-ins of any kind per client address (50 in 15 minutes): bounds the password
    /// hashing and invite-code guessing one client can cause, whatever names it tries.
    pub ip_failures: AttemptLimiter,
    /// Wrong passwords per username and client address (10 in 15 minutes).
    pub login_failures: AttemptLimiter,
    /// Wrong invite codes per phone number (10 in 15 minutes).
    pub bind_failures: AttemptLimiter,
    pub hasher: Hasher,
    /// The HMAC key of `Idempotency-Key` fingerprints (see `idempotency`).
    pub fingerprint_key: Vec<u8>,
    /// Suggests a category for each new problem; learns from the hub's triage.
    pub classifier: SharedClassifier,
    /// Dashboard answers being computed, shared by the callers waiting for them.
    pub stats_in_flight: InFlight<std::sync::Arc<crate::stats::Computed<Box<serde_json::value::RawValue>>>>,
    /// The morning peak's sign-ins, written a batch at a time.
    pub sign_ins: SignInQueue,
    /// Connections of the notification worker and the reminder jobs.
    pub notify_pool: PgPool,
    /// Sends the pushes (WeChat subscribe messages, group robots).
    pub deliverer: Deliverer,
    /// Seals robot webhooks and secrets at rest.
    pub sealer: Sealer,
    /// Photos and documents: the object store and the turns at cleaning photos.
    pub attachments: Attachments,
}

pub const FAILURE_LIMIT: i64 = 10;
pub const IP_FAILURE_LIMIT: i64 = 50;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

impl AppState {
    /// Builds the state; the pools are made from the settings without connecting.
    pub fn new(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let pool = crate::db::pool(settings.database_url.expose(), settings.database_pool_size);
        let bulk_pool = crate::db::pool(settings.database_url.expose(), settings.database_bulk_pool_size);
        let read_urls: Vec<String> = settings
            .database_read_urls
            .iter()
            .map(|u| u.expose().clone())
            .collect();
        let replicas = Replicas::new(
            &read_urls,
            settings.database_bulk_pool_size,
            settings.database_read_max_lag,
        );
        let cache = Cache::new(
            settings.redis_url.expose(),
            settings.redis_timeout,
            &settings.redis_key_prefix,
        );
        let wechat = WeChatClient::new(
            &settings.wechat_api_base,
            &settings.wechat_appid,
            settings.wechat_secret.clone(),
        )?;
        let metrics = Metrics::new()?;
        let notify_pool = crate::db::pool(settings.database_url.expose(), settings.database_notify_pool_size);
        let sealer = Sealer::new(settings.jwt_secret.expose());
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(settings.notify_timeout)
            .build()?;
        let tokens = AccessTokens::new(
            http.clone(),
            &settings.wechat_api_base,
            &settings.wechat_appid,
            settings.wechat_secret.clone(),
            cache.clone(),
        );
        let deliverer = Deliverer {
            wechat: SubscribeSender::new(http.clone(), &settings.wechat_api_base, tokens),
            http,
            sealer: sealer.clone(),
            quiet: settings.quiet_hours,
            metrics: metrics.notify.clone(),
            lease: settings.notify_timeout * 3 + Duration::from_secs(30),
            per_minute: settings.notify_per_minute,
        };
        Ok(Self {
            sign_ins: SignInQueue::start(pool.clone(), metrics.sign_in_batch_size.clone())?,
            metrics,
            jwt: JwtKeys::new(&settings.jwt_secret),
            ip_failures: AttemptLimiter::new(
                cache.clone(),
                "ip_failures",
                IP_FAILURE_LIMIT,
                FAILURE_WINDOW,
                OnSuccess::Keep,
            ),
            login_failures: AttemptLimiter::new(
                cache.clone(),
                "login_failures",
                FAILURE_LIMIT,
                FAILURE_WINDOW,
                OnSuccess::Forget,
            ),
            bind_failures: AttemptLimiter::new(
                cache.clone(),
                "bind_failures",
                FAILURE_LIMIT,
                FAILURE_WINDOW,
                OnSuccess::Forget,
            ),
            hasher: Hasher::default(),
            fingerprint_key: crate::idempotency::fingerprint_key(settings.jwt_secret.expose()),
            classifier: SharedClassifier::default(),
            stats_in_flight: InFlight::default(),
            pool,
            bulk_pool,
            replicas,
            notify_pool,
            deliverer,
            sealer,
            attachments: Attachments::new(Store::open_with(
                &settings.object_store_url,
                &settings.object_store_options,
            )?),
            cache,
            wechat,
            clock,
            settings,
        })
    }
}
