//! `AppState`: everything a handler needs, built once per server and shared as one
//! `web::Data`.

use std::time::Duration;

use crate::auth::jwt::JwtKeys;
use crate::cache::failures::FailureCounter;
use crate::cache::Cache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::sign_in_queue::SignInQueue;
use crate::db::PgPool;
use crate::hub::classifier::SharedClassifier;
use crate::stats::in_flight::InFlight;
use crate::telemetry::Metrics;
use crate::wechat::WeChatClient;

pub struct AppState {
    pub pool: PgPool,
    pub cache: Cache,
    pub wechat: WeChatClient,
    pub jwt: JwtKeys,
    pub clock: Clock,
    pub settings: Settings,
    pub metrics: Metrics,
    /// Wrong passwords per username and client address (10 in 15 minutes).
    pub login_failures: FailureCounter,
    /// Wrong invite codes per phone number (10 in 15 minutes).
    pub bind_failures: FailureCounter,
    /// Suggests a category for each new problem; learns from the hub's triage.
    pub classifier: SharedClassifier,
    /// Dashboard answers being computed, shared by the callers waiting for them.
    pub stats_in_flight: InFlight,
    /// The morning peak's sign-ins, written a batch at a time.
    pub sign_ins: SignInQueue,
}

pub const FAILURE_LIMIT: i64 = 10;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

impl AppState {
    pub fn new(settings: Settings, pool: PgPool, clock: Clock) -> anyhow::Result<Self> {
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
        Ok(Self {
            sign_ins: SignInQueue::start(pool.clone(), metrics.sign_in_batch_size.clone())?,
            metrics,
            jwt: JwtKeys::new(&settings.jwt_secret),
            login_failures: FailureCounter::new(
                cache.clone(),
                "login_failures",
                FAILURE_LIMIT,
                FAILURE_WINDOW,
            ),
            bind_failures: FailureCounter::new(cache.clone(), "bind_failures", FAILURE_LIMIT, FAILURE_WINDOW),
            classifier: SharedClassifier::default(),
            stats_in_flight: InFlight::default(),
            pool,
            cache,
            wechat,
            clock,
            settings,
        })
    }
}
