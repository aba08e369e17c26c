//! A fake of the WeChat server API and of DingTalk/WeCom group robots, for the tests, the
//! demo day (`zhuqi demo-day`) and the benchmarks: it logs users in (`code-<openid>`), issues
//! access tokens, takes subscribe messages and robot posts and records them, checks DingTalk
//! signatures, and fails on demand ([`Scripted`]). Never pointed at by a real deployment.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};

/// What the fake WeChat answers for a `js_code`: `code-<openid>` succeeds for that openid;
/// the named codes return WeChat's error codes.
async fn fake_code2session(
    query: web::Query<HashMap<String, String>>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    state.calls.fetch_add(1, Ordering::SeqCst);
    if query.get("appid") != Some(&state.appid) || query.get("secret") != Some(&state.secret) {
        return HttpResponse::Ok().json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    let code = query.get("js_code").cloned().unwrap_or_default();
    let body = match code.as_str() {
        "invalid" => json!({"errcode": 40029, "errmsg": "invalid code"}),
        "used" => json!({"errcode": 40163, "errmsg": "code been used"}),
        "limited" => json!({"errcode": 45011, "errmsg": "api minute-quota reach limit"}),
        "risky" => json!({"errcode": 40226, "errmsg": "high risk user"}),
        "busy" => json!({"errcode": -1, "errmsg": "system error"}),
        "garbage" => {
            return HttpResponse::Ok()
                .content_type("text/plain")
                .body("<html>oops</html>")
        }
        "http500" => return HttpResponse::InternalServerError().finish(),
        other => match other.strip_prefix("code-") {
            // WeChat labels its JSON text/plain.
            Some(openid) => {
                return HttpResponse::Ok()
                    .content_type("text/plain")
                    .body(json!({"openid": openid, "session_key": "SESSION-KEY-NEVER-LEAVES"}).to_string())
            }
            None => json!({"errcode": 40029, "errmsg": "invalid code"}),
        },
    };
    HttpResponse::Ok().json(body)
}

/// A scripted answer of the fake's `subscribe/send`, taken in order before the normal ones.
#[derive(Debug, Clone, Copy)]
pub enum Scripted {
    /// Answer this errcode.
    Errcode(i64),
    /// Issue a new token first, so the caller's is no longer valid (40001).
    RotateToken,
    /// Answer after this many milliseconds (longer than the sender waits: a timeout).
    Delay(u64),
}

/// One subscribe message the fake accepted.
#[derive(Debug, Clone)]
pub struct FakeSend {
    pub push_id: i64,
    pub body: Value,
}

/// One robot post the fake received.
#[derive(Debug, Clone)]
pub struct FakePost {
    pub push_id: i64,
    /// The robot's key (`access_token` of a DingTalk webhook, `key` of a WeCom one).
    pub target: String,
    pub body: Value,
    /// The DingTalk signature checked out against [`ROBOT_SECRET`] (WeCom posts: always).
    pub signed: bool,
}

/// The signing secret the fake DingTalk robot checks against.
pub const ROBOT_SECRET: &str = "SECfake0000000000000000000000000000000000000000000000000000000000";

#[derive(Default)]
pub struct FakeState {
    appid: String,
    secret: String,
    pub calls: AtomicUsize,
    pub tokens_issued: AtomicUsize,
    token: std::sync::Mutex<Option<String>>,
    pub script: std::sync::Mutex<std::collections::VecDeque<Scripted>>,
    pub sends: std::sync::Mutex<Vec<FakeSend>>,
    pub posts: std::sync::Mutex<Vec<FakePost>>,
    /// Milliseconds every send takes (a real server's latency).
    pub latency_ms: std::sync::atomic::AtomicU64,
}

impl FakeState {
    fn record_post(&self, req: &actix_web::HttpRequest, target: Option<&String>, body: Value, signed: bool) {
        self.posts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(FakePost {
                push_id: push_id(req),
                target: target.cloned().unwrap_or_default(),
                body,
                signed,
            });
    }

    fn issue_token(&self) -> String {
        let n = self.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
        let token = format!("token-{n}");
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        token
    }
}

async fn fake_stable_token(body: web::Json<Value>, state: web::Data<FakeState>) -> HttpResponse {
    if body["appid"] != state.appid.as_str()
        || body["secret"] != state.secret.as_str()
        || body["grant_type"] != "client_credential"
    {
        return HttpResponse::Ok().json(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    let current = state.token.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let token = match current {
        Some(token) if body["force_refresh"] != true => token,
        _ => state.issue_token(),
    };
    HttpResponse::Ok().json(json!({"access_token": token, "expires_in": 7200}))
}

fn push_id(req: &actix_web::HttpRequest) -> i64 {
    req.headers()
        .get("X-Zhuqi-Push-Id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

async fn fake_subscribe_send(
    req: actix_web::HttpRequest,
    query: web::Query<HashMap<String, String>>,
    body: web::Json<Value>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    let latency = state.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let scripted = state.script.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
    match scripted {
        Some(Scripted::Errcode(errcode)) => {
            return HttpResponse::Ok().json(json!({"errcode": errcode, "errmsg": "scripted"}))
        }
        Some(Scripted::RotateToken) => {
            state.issue_token();
        }
        Some(Scripted::Delay(ms)) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
        None => {}
    }
    let current = state.token.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if query.get("access_token") != current.as_ref() {
        return HttpResponse::Ok().json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    state
        .sends
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(FakeSend {
            push_id: push_id(&req),
            body: body.into_inner(),
        });
    HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"}))
}

/// A DingTalk robot that checks the signature (`timestamp`, `sign` in the query).
async fn fake_dingtalk(
    req: actix_web::HttpRequest,
    query: web::Query<HashMap<String, String>>,
    body: web::Json<Value>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    let signed = match (query.get("timestamp"), query.get("sign")) {
        (Some(timestamp), Some(sign)) => {
            let expected = timestamp
                .parse()
                .ok()
                .and_then(|ms| crate::notify::robot::dingtalk_sign(ROBOT_SECRET, ms));
            expected.as_deref() == Some(sign.as_str())
        }
        _ => false,
    };
    state.record_post(&req, query.get("access_token"), body.into_inner(), signed);
    if signed {
        HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"}))
    } else {
        HttpResponse::Ok().json(json!({"errcode": 310000, "errmsg": "sign not match"}))
    }
}

async fn fake_wecom(
    req: actix_web::HttpRequest,
    query: web::Query<HashMap<String, String>>,
    body: web::Json<Value>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    state.record_post(&req, query.get("key"), body.into_inner(), true);
    HttpResponse::Ok().json(json!({"errcode": 0, "errmsg": "ok"}))
}

pub struct FakeWeChat {
    pub base: String,
    pub state: web::Data<FakeState>,
}

impl FakeWeChat {
    pub fn sends(&self) -> Vec<FakeSend> {
        self.state.sends.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn posts(&self) -> Vec<FakePost> {
        self.state.posts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn script(&self, answers: &[Scripted]) {
        self.state
            .script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(answers.iter().copied());
    }
}

impl FakeWeChat {
    /// Starts the fake on a free local port, for the mini-program `appid` and its `secret`.
    pub fn start(appid: &str, secret: &str) -> std::io::Result<FakeWeChat> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(FakeState {
            appid: appid.to_owned(),
            secret: secret.to_owned(),
            ..FakeState::default()
        });
        let data = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/sns/jscode2session", web::get().to(fake_code2session))
                .route("/cgi-bin/stable_token", web::post().to(fake_stable_token))
                .route(
                    "/cgi-bin/message/subscribe/send",
                    web::post().to(fake_subscribe_send),
                )
                .route("/robot/send", web::post().to(fake_dingtalk))
                .route("/cgi-bin/webhook/send", web::post().to(fake_wecom))
        })
        .workers(2)
        .listen(listener)?
        .run();
        tokio::spawn(server);
        Ok(FakeWeChat {
            base: format!("http://127.0.0.1:{port}"),
            state,
        })
    }
}
