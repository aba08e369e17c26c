//! Settings read once from the environment at start-up and passed down; never global.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::domain::notification::QuietHours;

/// A value that must never reach a log line: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that needs it (a connection, a signature).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Secret<String>,
    pub database_pool_size: u32,
    /// Connections for long work (exports, imports, dashboard computations), apart from the
    /// pool that serves the officers' requests, so a long export never takes their share.
    pub database_bulk_pool_size: u32,
    /// Read replicas (streaming standbys) for the reads that tolerate lag: dashboards,
    /// exports, ledgers (`db::replicas`); none by default.
    pub database_read_urls: Vec<Secret<String>>,
    /// A replica further behind the primary than this is skipped.
    pub database_read_max_lag: Duration,
    pub redis_url: Secret<String>,
    /// How long any single Redis call may take before the caller falls back to Postgres.
    pub redis_timeout: Duration,
    /// Prefix of every Redis key, so tests (and several deployments) can share one server.
    pub redis_key_prefix: String,
    pub bind_addr: SocketAddr,
    pub jwt_secret: Secret<String>,
    pub wechat_appid: String,
    pub wechat_secret: Secret<String>,
    pub wechat_api_base: String,
    pub log_format: LogFormat,
    /// Reverse proxies whose `X-Forwarded-For` is believed (none by default: the socket's
    /// address is the client's).
    pub trusted_proxies: Vec<IpNet>,
    /// Client networks that may read `/metrics` without a token.
    pub metrics_allow: Vec<IpNet>,
    /// A bearer token that opens `/metrics` from anywhere (for a scraper off the host).
    pub metrics_token: Option<Secret<String>>,
    /// Connections of the notification worker and the reminder jobs, apart from the requests'.
    pub database_notify_pool_size: u32,
    /// When only urgent pushes go out (China time); `None` when switched off.
    pub quiet_hours: Option<QuietHours>,
    /// The hosts a unit's group robot may be registered at (the server posts to them).
    pub robot_webhook_hosts: Vec<String>,
    /// How long one push (a WeChat send, a robot post) may take before it counts as failed.
    pub notify_timeout: Duration,
    /// The most pushes one instance sends a minute (0: as fast as they go), so a burst of
    /// reminders never takes the CPU and disk the officers' requests need.
    pub notify_per_minute: u32,
    /// Where attachments' files are kept: a directory (`.local/objects` by default), or
    /// `s3://bucket/prefix` with the `AWS_*` variables (see `attachments::store`).
    pub object_store_url: String,
    /// The S3 settings of an `s3://` store that were given (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT`
    /// …, see [`S3_SETTINGS`]), applied over what the environment holds.
    pub object_store_options: Vec<(&'static str, Secret<String>)>,
}

/// The variables an `s3://` object store is configured by (besides the rest of `AWS_*`, which
/// the store's builder reads from the process environment itself).
pub const S3_SETTINGS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
];

/// An IP network in CIDR notation; a bare address is a network of one.
pub type IpNet = ipnet::IpNet;

/// Parses a comma-separated list of CIDRs or addresses (`10.0.0.0/8, ::1`).
pub fn parse_networks(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item} is not an address or a CIDR network"))
        })
        .collect()
}

/// `OBJECT_STORE_URL`, checked: a directory (`.local/objects` when unset), `file:///dir`,
/// `s3://bucket/prefix` or `memory://`. Also read alone by `zhuqi seed-demo`, which needs only
/// the database and the store.
pub fn object_store_url(value: Option<String>) -> Result<String, ConfigError> {
    let url = value
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| ".local/objects".to_owned());
    match url.split_once("://").map(|(scheme, _)| scheme) {
        None | Some("file" | "memory") => Ok(url),
        Some("s3") if url.len() > "s3://".len() => Ok(url),
        Some(_) => Err(ConfigError::Malformed {
            name: "OBJECT_STORE_URL",
            why: "expected a directory, file:///dir, s3://bucket/prefix or memory://".to_owned(),
        }),
    }
}

/// A configuration problem, phrased as the one line an operator sees before the process exits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("configuration error: {0} is not set")]
    Missing(&'static str),
    #[error("configuration error: {name} is malformed: {why}")]
    Malformed { name: &'static str, why: String },
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply an environment of their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let malformed = |name: &'static str, why: &str| ConfigError::Malformed {
            name,
            why: why.to_owned(),
        };

        let database_url = required("DATABASE_URL")?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(malformed("DATABASE_URL", "expected postgres://user@host:port/db"));
        }
        // One or more, separated by commas or spaces.
        let database_read_urls: Vec<String> = get("DATABASE_READ_URL")
            .unwrap_or_default()
            .split([',', ' ', '\n'])
            .filter(|u| !u.trim().is_empty())
            .map(|u| u.trim().to_owned())
            .collect();
        if database_read_urls
            .iter()
            .any(|u| !(u.starts_with("postgres://") || u.starts_with("postgresql://")))
        {
            return Err(malformed(
                "DATABASE_READ_URL",
                "expected postgres://user@host:port/db, several separated by commas",
            ));
        }
        let database_read_max_lag = match get("DATABASE_READ_MAX_LAG_SECONDS") {
            None => Duration::from_secs(30),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=3600).contains(n))
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    malformed("DATABASE_READ_MAX_LAG_SECONDS", "expected seconds from 1 to 3600")
                })?,
        };
        let redis_url = required("REDIS_URL")?;
        if !(redis_url.starts_with("redis://")
            || redis_url.starts_with("rediss://")
            || redis_url.starts_with(crate::cache::CLUSTER_SCHEME))
        {
            return Err(malformed(
                "REDIS_URL",
                "expected redis://host:port/db, or redis-cluster://host:port,host:port for a Redis Cluster",
            ));
        }
        let bind_addr = get("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
            .parse()
            .map_err(|_| malformed("BIND_ADDR", "expected host:port, e.g. 127.0.0.1:8080"))?;
        let jwt_secret = required("JWT_SECRET")?;
        if jwt_secret.len() < 32 {
            return Err(malformed("JWT_SECRET", "must be at least 32 bytes"));
        }
        let wechat_appid = required("WECHAT_APPID")?;
        let wechat_secret = required("WECHAT_SECRET")?;
        let wechat_api_base = get("WECHAT_API_BASE")
            .unwrap_or_else(|| "https://api.weixin.qq.com".to_owned())
            .trim_end_matches('/')
            .to_owned();
        if reqwest::Url::parse(&wechat_api_base).is_err() {
            return Err(malformed("WECHAT_API_BASE", "expected an http(s) URL"));
        }
        let database_pool_size = match get("DATABASE_POOL_SIZE") {
            None => 4,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=200).contains(n))
                .ok_or_else(|| malformed("DATABASE_POOL_SIZE", "expected a number from 1 to 200"))?,
        };
        let redis_timeout = match get("REDIS_TIMEOUT_MS") {
            None => Duration::from_millis(250),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .map(Duration::from_millis)
                .ok_or_else(|| malformed("REDIS_TIMEOUT_MS", "expected milliseconds from 1 to 10000"))?,
        };
        let database_bulk_pool_size = match get("DATABASE_BULK_POOL_SIZE") {
            None => 2,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=50).contains(n))
                .ok_or_else(|| malformed("DATABASE_BULK_POOL_SIZE", "expected a number from 1 to 50"))?,
        };
        let database_notify_pool_size = match get("DATABASE_NOTIFY_POOL_SIZE") {
            None => 2,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=20).contains(n))
                .ok_or_else(|| malformed("DATABASE_NOTIFY_POOL_SIZE", "expected a number from 1 to 20"))?,
        };
        let quiet_hours = match get("NOTIFY_QUIET_HOURS") {
            None => Some(QuietHours::default()),
            Some(v) => QuietHours::parse(&v)
                .ok_or_else(|| malformed("NOTIFY_QUIET_HOURS", "expected HH:MM-HH:MM (China time) or off"))?,
        };
        let notify_timeout = match get("NOTIFY_TIMEOUT_MS") {
            None => Duration::from_secs(10),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (100..=60_000).contains(n))
                .map(Duration::from_millis)
                .ok_or_else(|| malformed("NOTIFY_TIMEOUT_MS", "expected milliseconds from 100 to 60000"))?,
        };
        let notify_per_minute =
            match get("NOTIFY_MAX_PER_MINUTE") {
                None => 6000,
                Some(v) => v.parse::<u32>().ok().filter(|n| *n <= 1_000_000).ok_or_else(|| {
                    malformed("NOTIFY_MAX_PER_MINUTE", "expected a number (0 for no limit)")
                })?,
            };
        let robot_webhook_hosts = get("ROBOT_WEBHOOK_HOSTS")
            .unwrap_or_else(|| "oapi.dingtalk.com, qyapi.weixin.qq.com".to_owned())
            .split(',')
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect();
        let networks = |name: &'static str, default: &str| {
            parse_networks(&get(name).unwrap_or_else(|| default.to_owned()))
                .map_err(|why| malformed(name, &why))
        };
        let trusted_proxies = networks("TRUSTED_PROXIES", "")?;
        let metrics_allow = networks("METRICS_ALLOW", "127.0.0.0/8, ::1")?;
        let metrics_token = get("METRICS_TOKEN").map(Secret::new);
        if metrics_token.as_ref().is_some_and(|t| t.expose().len() < 16) {
            return Err(malformed("METRICS_TOKEN", "must be at least 16 characters"));
        }
        let object_store_url = object_store_url(get("OBJECT_STORE_URL"))?;
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(_) => return Err(malformed("LOG_FORMAT", "expected json or text")),
        };
        Ok(Self {
            database_url: Secret::new(database_url),
            database_pool_size,
            database_bulk_pool_size,
            database_read_urls: database_read_urls.into_iter().map(Secret::new).collect(),
            database_read_max_lag,
            redis_url: Secret::new(redis_url),
            redis_timeout,
            redis_key_prefix: get("REDIS_KEY_PREFIX").unwrap_or_else(|| "zhuqi:".to_owned()),
            bind_addr,
            jwt_secret: Secret::new(jwt_secret),
            wechat_appid,
            wechat_secret: Secret::new(wechat_secret),
            wechat_api_base,
            log_format,
            trusted_proxies,
            metrics_allow,
            metrics_token,
            database_notify_pool_size,
            quiet_hours,
            robot_webhook_hosts,
            notify_timeout,
            notify_per_minute,
            object_store_url,
            object_store_options: S3_SETTINGS
                .iter()
                .filter_map(|name| get(name).map(|v| (*name, Secret::new(v))))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const COMPLETE: &[(&str, &str)] = &[
        ("DATABASE_URL", "postgres://zhuqi:pw@127.0.0.1:5432/zhuqi"),
        ("REDIS_URL", "redis://127.0.0.1:6379/0"),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ("WECHAT_APPID", "wx123"),
        ("WECHAT_SECRET", "s3cret"),
    ];

    #[test]
    fn complete_environment_gives_defaults_for_the_optional_variables() {
        let settings = Settings::from_lookup(env(COMPLETE)).expect("valid");
        assert_eq!(settings.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.wechat_api_base, "https://api.weixin.qq.com");
        assert_eq!(settings.database_pool_size, 4);
        assert_eq!(settings.object_store_url, ".local/objects");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert!(
            settings.trusted_proxies.is_empty(),
            "no proxy is believed unless named"
        );
        assert_eq!(
            settings.metrics_allow,
            parse_networks("127.0.0.0/8,::1").expect("valid")
        );
        assert!(settings.metrics_token.is_none());
    }

    #[test]
    fn networks_are_cidrs_or_bare_addresses() {
        let nets = parse_networks(" 10.0.0.0/8, 192.168.1.7 ,::1").expect("valid");
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"192.168.1.7".parse::<IpAddr>().expect("ip")));
        assert!(!nets[1].contains(&"192.168.1.8".parse::<IpAddr>().expect("ip")));
        assert!(parse_networks("10.0.0.0/33").is_err());
        assert!(parse_networks("proxy.local").is_err());
    }

    #[test]
    fn each_missing_required_variable_is_named() {
        for (name, _) in COMPLETE {
            let without: Vec<_> = COMPLETE.iter().copied().filter(|(k, _)| k != name).collect();
            let err = Settings::from_lookup(env(&without)).expect_err("missing");
            assert_eq!(err.to_string(), format!("configuration error: {name} is not set"));
        }
    }

    #[test]
    fn malformed_values_are_named() {
        for (name, bad) in [
            ("BIND_ADDR", "localhost"),
            ("JWT_SECRET", "short"),
            ("DATABASE_URL", "mysql://x"),
            ("REDIS_URL", "127.0.0.1:6379"),
            ("DATABASE_POOL_SIZE", "0"),
            ("LOG_FORMAT", "xml"),
            ("TRUSTED_PROXIES", "10.0.0.0/8,nonsense"),
            ("METRICS_ALLOW", "300.1.1.1"),
            ("METRICS_TOKEN", "short"),
            ("DATABASE_BULK_POOL_SIZE", "0"),
            ("OBJECT_STORE_URL", "gs://bucket"),
            ("OBJECT_STORE_URL", "s3://"),
            ("DATABASE_READ_URL", "postgres://a@h/db,mysql://b"),
            ("DATABASE_READ_MAX_LAG_SECONDS", "0"),
        ] {
            let mut pairs: Vec<_> = COMPLETE.iter().copied().filter(|(k, _)| *k != name).collect();
            pairs.push((name, bad));
            let err = Settings::from_lookup(env(&pairs)).expect_err("malformed");
            assert!(
                err.to_string()
                    .starts_with(&format!("configuration error: {name} is malformed")),
                "{err}"
            );
        }
    }

    #[test]
    fn secrets_never_print() {
        let settings = Settings::from_lookup(env(COMPLETE)).expect("valid");
        let printed = format!("{settings:?}");
        assert!(!printed.contains("s3cret"));
        assert!(!printed.contains("0123456789abcdef"));
        assert!(!printed.contains(":pw@"));
    }

    #[test]
    fn read_replicas_are_listed_by_commas_and_a_cluster_is_a_redis_url() {
        let mut pairs: Vec<_> = COMPLETE.to_vec();
        pairs.push((
            "DATABASE_READ_URL",
            "postgres://z@10.0.2.11:5432/zhuqi, postgres://z@10.0.2.12:5432/zhuqi",
        ));
        pairs.retain(|(k, _)| *k != "REDIS_URL");
        pairs.push(("REDIS_URL", "redis-cluster://10.0.2.21:6379,10.0.2.22:6379"));
        let settings = Settings::from_lookup(env(&pairs)).expect("valid");
        assert_eq!(settings.database_read_urls.len(), 2);
        assert_eq!(settings.database_read_max_lag, Duration::from_secs(30));
        let without = Settings::from_lookup(env(COMPLETE)).expect("valid");
        assert!(without.database_read_urls.is_empty());
    }
}
