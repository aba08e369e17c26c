//! Test harness: a real server on a free port with its own database (cloned from a migrated
//! template), its own Redis key prefix, and its own fake WeChat API.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::web;
use chrono::{DateTime, TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::{json, Value};
use uuid::Uuid;

use zhuqi::clock::Clock;
use zhuqi::config::Settings;
use zhuqi::db::{self, PgPool};
use zhuqi::demo;
use zhuqi::startup::Application;
use zhuqi::state::AppState;

pub const PASSWORD: &str = demo::DEMO_PASSWORD;

fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://zhuqi@127.0.0.1:55432/postgres".to_owned())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379/0".to_owned())
}

/// The URL of database `name` on the test server.
pub fn database_url(name: &str) -> String {
    let base = server_url();
    let (server, _) = base.rsplit_once('/').unwrap_or((&base, ""));
    format!("{server}/{name}")
}

/// A migrated template database, made once per test process; each test clones it.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("zhuqi_tpl_{}", std::process::id());
        let mut server =
            PgConnection::establish(&server_url()).expect("test PostgreSQL reachable (make test starts it)");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut server)
            .expect("drop");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut server)
            .expect("create template");
        let mut conn = PgConnection::establish(&database_url(&name)).expect("template reachable");
        db::migrate(&mut conn).expect("migrations apply");
        name
    })
}

pub use zhuqi::demo::fake_wechat::{FakeWeChat, Scripted, ROBOT_SECRET};

pub struct TestApp {
    pub address: String,
    pub db_name: String,
    pub pool: PgPool,
    /// The server's pool for long work (exports, imports, dashboard computations).
    pub bulk_pool: PgPool,
    /// The server's Redis cache (to play an outage's lost writes).
    pub cache: zhuqi::cache::Cache,
    pub clock: Clock,
    pub client: reqwest::Client,
    pub wechat: FakeWeChat,
    pub redis_prefix: String,
    /// The server's state, for tests that run its jobs (`jobs::notify::pass`).
    pub state: web::Data<AppState>,
    /// The settings the server was built with, for a second instance on the same data.
    pub settings: Settings,
    /// This test's object store (attachments' files), a directory removed with the app.
    pub objects_dir: std::path::PathBuf,
}

/// 2026-11-20 10:00 in China (a Friday, a working day).
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0)
        .single()
        .expect("valid")
}

pub struct Options {
    pub redis_url: String,
    /// Where the server looks for WeChat; `None` means this test's fake.
    pub wechat_base: Option<String>,
    /// A database URL instead of this test's own database (to simulate an outage).
    pub database_url: Option<String>,
    /// More environment for the server (`TRUSTED_PROXIES`, `METRICS_TOKEN` …).
    pub env: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            redis_url: redis_url(),
            wechat_base: None,
            database_url: None,
            env: Vec::new(),
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    // Logs only when asked (`TEST_LOG=1 cargo test`), so failures stay readable.
    if std::env::var_os("TEST_LOG").is_some() {
        zhuqi::telemetry::init(zhuqi::config::LogFormat::Text);
    }
    let template = template();
    let db_name = format!("zhuqi_test_{}", Uuid::new_v4().simple());
    {
        let mut server = PgConnection::establish(&server_url()).expect("server");
        diesel::sql_query(format!("CREATE DATABASE {db_name} TEMPLATE {template}"))
            .execute(&mut server)
            .expect("clone template");
    }
    let wechat = FakeWeChat::start("wx-test", "wechat-secret").expect("fake WeChat");
    let redis_prefix = format!("test:{}:", Uuid::new_v4().simple());
    let objects_dir = std::env::temp_dir().join("zhuqi-test-objects").join(&db_name);
    let mut env: HashMap<&str, String> = HashMap::from([
        (
            "DATABASE_URL",
            options
                .database_url
                .clone()
                .unwrap_or_else(|| database_url(&db_name)),
        ),
        ("DATABASE_POOL_SIZE", "4".to_owned()),
        ("REDIS_URL", options.redis_url),
        ("REDIS_KEY_PREFIX", redis_prefix.clone()),
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("JWT_SECRET", "test-secret-test-secret-test-secret!".to_owned()),
        ("WECHAT_APPID", "wx-test".to_owned()),
        ("WECHAT_SECRET", "wechat-secret".to_owned()),
        (
            "WECHAT_API_BASE",
            options.wechat_base.unwrap_or_else(|| wechat.base.clone()),
        ),
        ("LOG_FORMAT", "text".to_owned()),
        ("ROBOT_WEBHOOK_HOSTS", "127.0.0.1".to_owned()),
        ("NOTIFY_TIMEOUT_MS", "500".to_owned()),
        ("OBJECT_STORE_URL", objects_dir.display().to_string()),
    ]);
    env.extend(options.env);
    let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings");
    let clock = Clock::fixed(default_now());
    let state = web::Data::new(AppState::new(settings.clone(), clock.clone()).expect("state"));
    let pool = state.pool.clone();
    let bulk_pool = state.bulk_pool.clone();
    let cache = state.cache.clone();
    let app = Application::build(state.clone()).expect("build");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        db_name,
        pool,
        bulk_pool,
        cache,
        clock,
        client: reqwest::Client::new(),
        wechat,
        redis_prefix,
        state,
        settings,
        objects_dir,
    }
}

impl TestApp {
    /// A second instance's state on the same database, Redis and clock (its own pools, its
    /// own token cache in memory, its own sender).
    pub fn twin(&self) -> web::Data<AppState> {
        web::Data::new(AppState::new(self.settings.clone(), self.clock.clone()).expect("twin state"))
    }

    /// Runs the notification worker's pass once (expand the outbox, send what is due).
    pub async fn notify(&self) {
        zhuqi::jobs::notify::pass(&self.state).await;
    }

    /// Marks every event so far as expanded, so a test sees only what it causes.
    pub fn forget_outbox(&self) {
        self.exec("UPDATE notification_outbox SET expanded_at = now() WHERE expanded_at IS NULL");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.objects_dir);
        let name = self.db_name.clone();
        // Dropping a database needs a blocking connection; do it off the async runtime.
        let _ = std::thread::spawn(move || {
            if let Ok(mut server) = PgConnection::establish(&server_url()) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut server);
            }
        })
        .join();
    }
}

/// A response as tests read it.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request; an error answer must be one the spec documents for the operation.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("request builds");
        let (method, path) = (request.method().to_string(), request.url().path().to_owned());
        let response = self.client.execute(request).await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some(code) = body["error"]["code"].as_str().filter(|_| status >= 400) {
            crate::spec::assert_documented_error(&method, &path, status, code, &body);
        }
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// A download as raw bytes, with its status and headers (files are not JSON).
    pub async fn bytes(&self, path: &str, token: &str) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("download");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, response.bytes().await.expect("bytes").to_vec(), headers)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn json(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Value) -> Reply {
        let mut request = self.client.request(method, self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.json(reqwest::Method::POST, path, token, body).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.json(reqwest::Method::PATCH, path, token, body).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.json(reqwest::Method::PUT, path, token, body).await
    }

    /// Uploads a roster file as a raw body.
    pub async fn import(
        &self,
        kind: &str,
        token: &str,
        content_type: &str,
        file: Vec<u8>,
        dry_run: bool,
    ) -> Reply {
        let request = self
            .client
            .post(self.url(&format!("/api/v1/admin/import/{kind}?dry_run={dry_run}")))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(file);
        self.send(request).await
    }

    pub async fn import_csv(&self, kind: &str, token: &str, csv: &str) -> Reply {
        self.import(kind, token, "text/csv", csv.as_bytes().to_vec(), false)
            .await
    }

    /// Password login; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) -> Value {
        let reply = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(reply.status, 200, "login of {username}: {}", reply.text);
        reply.body
    }

    pub async fn token(&self, username: &str) -> String {
        self.login(username, PASSWORD).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Seeds the demo city (株洲市 with its officers, units, enterprises), without history.
    pub fn seed_demo(&self) {
        self.seed_demo_with(demo::History::None);
    }

    pub fn seed_demo_with(&self, history: demo::History) {
        let mut conn = self.pool.get().expect("conn");
        let store = &self.state.attachments.store;
        demo::seed_demo(&mut conn, store, self.clock.today(), self.clock.now(), history).expect("seed");
    }

    /// Creates an admin of another region, e.g. 430100 长沙市, for scope tests.
    pub fn create_admin(&self, username: &str, region_code: &str, region_name: &str) {
        let mut conn = self.pool.get().expect("conn");
        zhuqi::cli::create_admin::create_admin(
            &mut conn,
            username,
            PASSWORD,
            region_code,
            Some(region_name),
            None,
        )
        .expect("admin");
    }

    /// Runs a statement directly (test set-up that no endpoint offers, like moving time).
    pub fn exec(&self, sql: &str) {
        let mut conn = self.pool.get().expect("conn");
        diesel::sql_query(sql).execute(&mut conn).expect("exec");
    }

    /// A second dispatcher of the demo city (the demo has one), signed in.
    pub async fn another_dispatcher(&self, username: &str) -> String {
        self.create_admin(username, "430200", "株洲市");
        self.exec(&format!(
            "UPDATE users SET roles = '{{dispatcher}}' WHERE username = '{username}'"
        ));
        self.token(username).await
    }

    /// The id of a demo unit by its code (ZZ-GDGS …).
    pub async fn unit_id(&self, code: &str) -> String {
        let admin = self.token("demo.admin").await;
        let found = self
            .get(&format!("/api/v1/admin/units?code={code}"), Some(&admin))
            .await;
        found.body["items"][0]["id"].as_str().expect("unit").to_owned()
    }

    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.pool.get().expect("conn");
        diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .expect("count")
            .n
    }

    /// The one text value a query returns (as column `t`).
    pub fn text(&self, sql: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        let mut conn = self.pool.get().expect("conn");
        diesel::sql_query(sql)
            .get_result::<Text>(&mut conn)
            .expect("text")
            .t
    }

    /// The id of an enterprise of the demo city by credit-code body (see data/demo/enterprises.csv).
    pub async fn enterprise_id(&self, admin_token: &str, name: &str) -> String {
        let reply = self
            .get(
                &format!("/api/v1/admin/enterprises?name={}", urlencode(name)),
                Some(admin_token),
            )
            .await;
        reply.body["items"][0]["id"]
            .as_str()
            .expect("enterprise exists")
            .to_owned()
    }
}

/// 中车株洲电力机车有限公司 in the demo city (GCJ-02), assigned to officer.zhang.
pub const CRRC: (f64, f64) = (27.8885, 113.1655);

impl TestApp {
    /// The id of 中车株洲电力机车有限公司 (the demo must be seeded).
    pub async fn crrc(&self) -> String {
        let admin = self.token("demo.admin").await;
        self.enterprise_id(&admin, "中车株洲电力机车有限公司").await
    }

    /// A signed-in officer who looks after the enterprise named `name`, and the enterprise's
    /// id: tests say where they act, not which demo officer happens to be there.
    pub async fn officer_at(&self, name: &str) -> (String, String) {
        let username = self.text(&format!(
            "SELECT u.username AS t FROM users u JOIN assignments a ON a.officer_id = u.id \
               JOIN enterprises e ON e.id = a.enterprise_id \
              WHERE e.name = '{name}' AND a.end_day IS NULL ORDER BY u.username LIMIT 1"
        ));
        let enterprise = self.text(&format!(
            "SELECT id::text AS t FROM enterprises WHERE name = '{name}'"
        ));
        (self.token(&username).await, enterprise)
    }

    /// The officer who looks after the enterprise named `name` signs in there, at its stored
    /// position; their token and the answer.
    pub async fn sign_in_at(&self, name: &str) -> (String, Reply) {
        let (token, enterprise) = self.officer_at(name).await;
        let at = self.text(&format!(
            "SELECT lat || ',' || lng AS t FROM enterprises WHERE name = '{name}'"
        ));
        let (lat, lng) = at.split_once(',').expect("position");
        let body = serde_json::json!({"enterprise_id": enterprise, "lat": lat.parse::<f64>().expect("lat"),
                                      "lng": lng.parse::<f64>().expect("lng")});
        let reply = self.post("/api/v1/sign-ins", Some(&token), body).await;
        (token, reply)
    }

    /// A JSON request carrying an `Idempotency-Key`.
    pub async fn keyed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
    ) -> Reply {
        let request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("idempotency-key", key);
        self.send(request.json(body)).await
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
