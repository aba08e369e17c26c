//! Load generator and referee of the fault drills (docs/reliability.md). Run through
//! `benches/drills.sh`, which starts PostgreSQL, Redis and `zhuqi serve` on ports of their own
//! and tells this harness, through the environment, which drill it plays:
//!
//! - `pg-restart`: a wave of sign-ins while PostgreSQL is stopped (fast) and started again;
//! - `sigterm`: a wave of sign-ins while the server is sent SIGTERM;
//! - `redis-kill`: a wave of sign-ins, daily reports and dashboard reads while Redis is killed
//!   (SIGKILL) and started again; then a quiet check of the dashboard after a second restart;
//! - `balancer`: a wave of sign-ins, daily reports and dashboard reads through nginx (HTTPS) in
//!   front of three instances while one of them is killed (SIGKILL) and started again; the
//!   client resends what got an error (a 502 from nginx, a 503, a 409 `idempotency.in_progress`,
//!   a broken connection) with the same Idempotency-Key, as the phone does.
//!
//! The harness creates the city (N officers, each assigned to one enterprise, and a dispatcher
//! of the region), sends the wave at a fixed rate through `DRILL_CONNECTIONS` connections,
//! runs the fault command (`DRILL_FAULT_CMD`, whose `MARK <name> <epoch ms>` lines time the
//! fault) `DRILL_FAULT_AT` seconds into it, records every request's outcome (status,
//! `Retry-After`, error code, returned id, transport error) into `DRILL_OUT/requests.csv`,
//! then checks the database and prints the verdict: the last line is `VERDICT PASS` or
//! `VERDICT FAIL`, and the exit status says the same.
//!
//! Environment: DRILL_NAME, DRILL_URL, DRILL_DATABASE_URL, JWT_SECRET, DRILL_OUT,
//! DRILL_OFFICERS (4000), DRILL_RATE (officers per second, 250; 0: as fast as the connections go), DRILL_CONNECTIONS (64),
//! DRILL_TIMEOUT_S (client timeout, 15), DRILL_ATTEMPTS (tries per request on a 503, 3),
//! DRILL_FAULT_AT (seconds, 4), DRILL_FAULT_CMD, DRILL_RECOVERY_LIMIT_S (10),
//! DRILL_SHUTDOWN_LIMIT_S (30), DRILL_REDIS_URL and DRILL_REDIS_PREFIX (the server's, to publish the
//! minted tokens' session generations as a login would); for `redis-kill` also DRILL_COMPARE_URL (a server on the same
//! database without Redis), DRILL_REDIS_KILL_CMD and DRILL_REDIS_START_CMD; for `balancer` also
//! DRILL_CA_CERT (a PEM certificate to trust), DRILL_RESOLVE (`host:port=ip:port`, the
//! balancer's name and where it is), DRILL_LOCAL_ADDR (the client's own address, so that the
//! instances can tell it from the balancer's) and DRILL_HELD_BACK (officers who send nothing, 20).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness reports failures by panicking

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Text};
use serde_json::{json, Value};
use uuid::Uuid;

mod support;

use support::{build_city, count, env, publish_sessions, City};
use zhuqi::auth::jwt::{AccessClaims, JwtKeys};
use zhuqi::clock::Clock;
use zhuqi::config::Secret;
use zhuqi::domain::role::Role;

const REGION: &str = "439900";

/// Milliseconds since the Unix epoch: the clock the fault commands' marks use too.
fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

// ---------------------------------------------------------------------------------------------
// The city

struct Officer {
    index: usize,
    id: Uuid,
    token: String,
    enterprise_id: Uuid,
    lat: f64,
    lng: f64,
}

/// The drills' city: one region, one dispatching unit, `n` enterprises and `n` officers.
const CITY: City = City {
    region: REGION,
    region_name: "演练市",
    unit: "DRILL-UNIT",
    unit_name: "演练派出单位",
    officer: "drill.o",
    officer_name: "演练联络员",
    phone: "198",
    enterprise_name: "演练企业",
    credit: 'D',
};

/// The city and a dispatcher of its region; returns the officers in index order and the
/// dispatcher's id.
fn setup(conn: &mut PgConnection, n: usize) -> (Vec<(Uuid, Uuid, f64, f64)>, Uuid) {
    let pairs = build_city(conn, &CITY, n);
    diesel::sql_query(format!(
        "INSERT INTO users (username, name, roles, region_code)
         VALUES ('drill.dispatcher', '演练调度员', ARRAY['dispatcher', 'admin'], '{REGION}')
         ON CONFLICT DO NOTHING"
    ))
    .execute(conn)
    .unwrap();

    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let dispatcher = diesel::sql_query("SELECT id FROM users WHERE username = 'drill.dispatcher'")
        .get_result::<Id>(conn)
        .unwrap()
        .id;
    (pairs, dispatcher)
}

// ---------------------------------------------------------------------------------------------
// Requests and their outcomes

#[derive(Debug, Clone)]
struct Outcome {
    kind: &'static str,
    /// Sent as X-Request-Id, so the server's log can be searched for the request.
    request_id: String,
    officer: usize,
    attempt: u32,
    sent_ms: f64,
    done_ms: f64,
    /// 0: no HTTP answer (see `error`).
    status: u16,
    retry_after: Option<String>,
    code: Option<String>,
    id: Option<Uuid>,
    /// The transport error's class (`refused`, `reset`, `closed`, `timeout`, `other`) and text.
    error: Option<(&'static str, String)>,
    /// The answer's body when it is a dashboard figure.
    body: Option<Value>,
    /// The answer's X-Request-Id (the server's, or nginx's error page has none).
    echoed_id: Option<String>,
    /// The answer replays an earlier one (`Idempotent-Replayed`).
    replayed: bool,
}

impl Outcome {
    fn acknowledged(&self) -> bool {
        matches!(self.status, 200 | 201) && self.id.is_some()
    }

    fn latency_ms(&self) -> f64 {
        self.done_ms - self.sent_ms
    }
}

/// The class of a transport error, from its chain of causes.
fn classify(e: &reqwest::Error) -> (&'static str, String) {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    let lower = text.to_lowercase();
    let class = if e.is_timeout() {
        "timeout"
    } else if lower.contains("connection refused") {
        "refused"
    } else if lower.contains("reset") {
        "reset"
    } else if lower.contains("closed") || lower.contains("incomplete") || lower.contains("eof") {
        "closed"
    } else {
        "other"
    };
    (class, text.replace([',', '\n'], ";"))
}

static REQUEST_SEQUENCE: AtomicUsize = AtomicUsize::new(0);

async fn send(kind: &'static str, officer: usize, attempt: u32, request: reqwest::RequestBuilder) -> Outcome {
    let request_id = format!(
        "drill-{kind}-{officer}-{attempt}-{}",
        REQUEST_SEQUENCE.fetch_add(1, Ordering::Relaxed)
    );
    let request = request.header("x-request-id", &request_id);
    let sent_ms = now_ms();
    let mut outcome = Outcome {
        kind,
        request_id,
        officer,
        attempt,
        sent_ms,
        done_ms: sent_ms,
        status: 0,
        retry_after: None,
        code: None,
        id: None,
        error: None,
        body: None,
        echoed_id: None,
        replayed: false,
    };
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            outcome.retry_after = header("retry-after");
            outcome.echoed_id = header("x-request-id");
            outcome.replayed = header("idempotent-replayed").is_some();
            match response.bytes().await {
                Ok(bytes) => {
                    outcome.status = status;
                    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    outcome.code = body["error"]["code"].as_str().map(str::to_owned);
                    outcome.id = body["id"].as_str().and_then(|s| s.parse().ok());
                    if kind == "overview" {
                        outcome.body = Some(body);
                    }
                }
                Err(e) => outcome.error = Some(classify(&e)),
            }
        }
        Err(e) => outcome.error = Some(classify(&e)),
    }
    outcome.done_ms = now_ms();
    outcome
}

/// Sends a request, and again after `Retry-After` while it is answered 503, at most
/// `attempts` times in all (a phone's retries, with the same Idempotency-Key). With `resend`,
/// also after a broken connection, a 502 or 504 (nginx's: the instance died under the request)
/// and a 409 `idempotency.in_progress` (the first try is still running somewhere), 1 s later.
async fn send_with_retries<F>(
    kind: &'static str,
    officer: usize,
    attempts: u32,
    resend: bool,
    build: F,
) -> Vec<Outcome>
where
    F: Fn() -> reqwest::RequestBuilder,
{
    let mut outcomes = Vec::new();
    for attempt in 1..=attempts {
        let outcome = send(kind, officer, attempt, build()).await;
        let retry_after = || outcome.retry_after.as_deref().and_then(|s| s.parse::<u64>().ok());
        let wait = if outcome.status == 503 {
            Some(retry_after().unwrap_or(2))
        } else if resend
            && (outcome.error.is_some()
                || matches!(outcome.status, 502 | 504)
                || (outcome.status == 409 && outcome.code.as_deref() == Some("idempotency.in_progress")))
        {
            Some(retry_after().unwrap_or(1))
        } else {
            None
        };
        outcomes.push(outcome);
        match wait {
            Some(seconds) if attempt < attempts => tokio::time::sleep(Duration::from_secs(seconds)).await,
            _ => break,
        }
    }
    outcomes
}

fn key_header(key: &str) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "idempotency-key",
        reqwest::header::HeaderValue::from_str(key).unwrap(),
    );
    headers
}

// ---------------------------------------------------------------------------------------------
// The fault

/// Runs `command` with bash after `at`; its `MARK <name> <epoch ms>` lines become marks.
fn run_fault(command: String, at: Instant) -> std::thread::JoinHandle<BTreeMap<String, f64>> {
    std::thread::spawn(move || {
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        let mut marks = BTreeMap::new();
        marks.insert("fault_started".to_owned(), now_ms());
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(&command)
            .output()
            .expect("running the fault command");
        let stdout = String::from_utf8_lossy(&output.stdout);
        for line in stdout.lines() {
            eprintln!("  fault | {line}");
            let mut words = line.split_whitespace();
            if let (Some("MARK"), Some(name), Some(ms)) = (words.next(), words.next(), words.next()) {
                if let Ok(ms) = ms.parse::<f64>() {
                    marks.insert(name.to_owned(), ms);
                }
            }
        }
        for line in String::from_utf8_lossy(&output.stderr).lines() {
            eprintln!("  fault ! {line}");
        }
        assert!(output.status.success(), "the fault command failed: {command}");
        marks.insert("fault_done".to_owned(), now_ms());
        marks
    })
}

fn run_command(command: &str) -> BTreeMap<String, f64> {
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(command)
        .output()
        .expect("running a command");
    let mut marks = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        eprintln!("  cmd   | {line}");
        let mut words = line.split_whitespace();
        if let (Some("MARK"), Some(name), Some(ms)) = (words.next(), words.next(), words.next()) {
            if let Ok(ms) = ms.parse::<f64>() {
                marks.insert(name.to_owned(), ms);
            }
        }
    }
    assert!(output.status.success(), "command failed: {command}");
    marks
}

// ---------------------------------------------------------------------------------------------
// Reporting

/// What a drill found; any failure fails the drill.
#[derive(Default)]
struct Verdict {
    failures: Vec<String>,
    facts: Vec<(String, String)>,
}

impl Verdict {
    fn fact(&mut self, name: &str, value: impl std::fmt::Display) {
        println!("  {name:<44} {value}");
        self.facts.push((name.to_owned(), value.to_string()));
    }

    fn require(&mut self, ok: bool, what: impl Into<String>) {
        let what = what.into();
        if ok {
            println!("  ok    {what}");
        } else {
            println!("  FAIL  {what}");
            self.failures.push(what);
        }
    }
}

fn seconds(ms: f64) -> String {
    format!("{:.2} s", ms / 1000.0)
}

/// Statuses and transport errors of one kind of request.
fn tally(outcomes: &[&Outcome]) -> String {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for o in outcomes {
        let label = match (&o.error, o.status) {
            (Some((class, _)), _) => format!("transport:{class}"),
            (None, 503) if o.retry_after.is_some() => format!("503({})+RA", o.code.as_deref().unwrap_or("?")),
            (None, 503) => format!("503({})-noRA", o.code.as_deref().unwrap_or("?")),
            (None, s) if s >= 400 => format!("{s}({})", o.code.as_deref().unwrap_or("?")),
            (None, s) => s.to_string(),
        };
        *by.entry(label).or_default() += 1;
    }
    by.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn percentile(mut values: Vec<f64>, q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 - 1.0) * q).round() as usize]
}

fn write_csv(path: &str, outcomes: &[Outcome], origin: f64) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        file,
        "kind,request_id,officer,attempt,sent_s,done_s,latency_ms,status,retry_after,code,id,error_class,error"
    )
    .unwrap();
    for o in outcomes {
        let (class, text) = o.error.clone().unwrap_or(("", String::new()));
        writeln!(
            file,
            "{},{},{},{},{:.3},{:.3},{:.1},{},{},{},{},{},{}",
            o.kind,
            o.request_id,
            o.officer,
            o.attempt,
            (o.sent_ms - origin) / 1000.0,
            (o.done_ms - origin) / 1000.0,
            o.latency_ms(),
            o.status,
            o.retry_after.as_deref().unwrap_or(""),
            o.code.as_deref().unwrap_or(""),
            o.id.map(|i| i.to_string()).unwrap_or_default(),
            class,
            text
        )
        .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// The database afterwards

#[derive(Debug, Default)]
struct Stored {
    sign_ins: i64,
    sign_in_keys: i64,
    sign_in_officers: i64,
    reports: i64,
    report_keys: i64,
    problems: i64,
    acked_sign_ins_found: i64,
    acked_reports_found: i64,
    missing_sign_ins: Vec<Uuid>,
    missing_reports: Vec<Uuid>,
}

fn connect(url: &str) -> PgConnection {
    for _ in 0..100 {
        if let Ok(conn) = PgConnection::establish(url) {
            return conn;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    PgConnection::establish(url).expect("drill database")
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

fn missing(conn: &mut PgConnection, table: &str, ids: &[Uuid]) -> Vec<Uuid> {
    diesel::sql_query(format!(
        "SELECT x AS id FROM unnest($1::uuid[]) AS x WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = x)"
    ))
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .load::<IdRow>(conn)
    .unwrap()
    .into_iter()
    .map(|r| r.id)
    .collect()
}

fn check_database(conn: &mut PgConnection, day: NaiveDate, outcomes: &[Outcome]) -> Stored {
    let acked = |kind: &str| -> Vec<Uuid> {
        let set: HashSet<Uuid> = outcomes
            .iter()
            .filter(|o| o.kind == kind && o.acknowledged())
            .filter_map(|o| o.id)
            .collect();
        set.into_iter().collect()
    };
    let (sign_in_ids, report_ids) = (acked("sign_in"), acked("report"));
    let filter = format!("region_code = '{REGION}' AND day = '{day}'");
    let missing_sign_ins = missing(conn, "sign_ins", &sign_in_ids);
    let missing_reports = missing(conn, "daily_reports", &report_ids);
    Stored {
        sign_ins: count(conn, &format!("SELECT count(*) AS n FROM sign_ins WHERE {filter}")),
        sign_in_keys: count(
            conn,
            &format!("SELECT count(DISTINCT (officer_id, enterprise_id, day)) AS n FROM sign_ins WHERE {filter}"),
        ),
        sign_in_officers: count(conn, &format!("SELECT count(DISTINCT officer_id) AS n FROM sign_ins WHERE {filter}")),
        reports: count(conn, &format!("SELECT count(*) AS n FROM daily_reports WHERE {filter}")),
        report_keys: count(
            conn,
            &format!("SELECT count(DISTINCT (officer_id, enterprise_id, day)) AS n FROM daily_reports WHERE {filter}"),
        ),
        problems: count(conn, &format!("SELECT count(*) AS n FROM problems WHERE region_code = '{REGION}'")),
        acked_sign_ins_found: (sign_in_ids.len() - missing_sign_ins.len()) as i64,
        acked_reports_found: (report_ids.len() - missing_reports.len()) as i64,
        missing_sign_ins,
        missing_reports,
    }
}

/// Every acknowledged sign-in (and report) is stored, once.
fn judge_storage(verdict: &mut Verdict, stored: &Stored, outcomes: &[Outcome]) {
    let acked_officers: HashSet<usize> = outcomes
        .iter()
        .filter(|o| o.kind == "sign_in" && o.acknowledged())
        .map(|o| o.officer)
        .collect();
    let acked_ids = stored.acked_sign_ins_found + stored.missing_sign_ins.len() as i64;
    verdict.fact(
        "sign-ins acknowledged (officers / distinct ids)",
        format!("{} / {acked_ids}", acked_officers.len()),
    );
    verdict.fact(
        "sign-ins stored (rows / distinct keys / officers)",
        format!(
            "{} / {} / {}",
            stored.sign_ins, stored.sign_in_keys, stored.sign_in_officers
        ),
    );
    verdict.fact(
        "stored without an acknowledgement",
        stored.sign_in_officers - acked_officers.len() as i64,
    );
    verdict.require(
        stored.missing_sign_ins.is_empty(),
        format!(
            "every acknowledged sign-in is stored ({} of {acked_ids}; missing {:?})",
            stored.acked_sign_ins_found,
            &stored.missing_sign_ins[..stored.missing_sign_ins.len().min(5)]
        ),
    );
    verdict.require(
        acked_ids == acked_officers.len() as i64,
        "one sign-in id per acknowledged officer (retries got the same record)",
    );
    verdict.require(
        stored.sign_ins == stored.sign_in_keys,
        format!(
            "no duplicate sign-ins ({} rows, {} distinct officer/enterprise/day)",
            stored.sign_ins, stored.sign_in_keys
        ),
    );
    if outcomes.iter().any(|o| o.kind == "report") {
        let acked_reports = stored.acked_reports_found + stored.missing_reports.len() as i64;
        verdict.fact(
            "reports acknowledged / stored (rows / keys)",
            format!("{acked_reports} / {} / {}", stored.reports, stored.report_keys),
        );
        verdict.fact("problems stored", stored.problems);
        verdict.require(
            stored.missing_reports.is_empty(),
            format!(
                "every acknowledged report is stored ({} of {acked_reports})",
                stored.acked_reports_found
            ),
        );
        verdict.require(
            stored.reports == stored.report_keys,
            format!(
                "no duplicate reports ({} rows, {} keys)",
                stored.reports, stored.report_keys
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The wave

struct Wave {
    base: String,
    client: reqwest::Client,
    officers: Arc<Vec<Officer>>,
    dispatcher_token: String,
    day: NaiveDate,
    rate: f64,
    connections: usize,
    attempts: u32,
    mixed: bool,
    /// Resend after any error, not only a 503 (see `send_with_retries`).
    resend: bool,
}

fn sign_in_request(
    client: &reqwest::Client,
    base: &str,
    day: NaiveDate,
    o: &Officer,
) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/v1/sign-ins"))
        .bearer_auth(&o.token)
        .headers(key_header(&format!("drill-sign-in-{day}-{}", o.index)))
        .json(&json!({"enterprise_id": o.enterprise_id, "lat": o.lat, "lng": o.lng, "accuracy_m": 20}))
}

fn report_request(
    client: &reqwest::Client,
    base: &str,
    day: NaiveDate,
    o: &Officer,
) -> reqwest::RequestBuilder {
    client
        .put(format!("{base}/api/v1/daily-reports/{}/{day}", o.enterprise_id))
        .bearer_auth(&o.token)
        .headers(key_header(&format!("drill-report-{day}-{}", o.index)))
        .json(&json!({
            "work_done": "走访车间，了解生产和用工情况",
            "production": {"status": "normal", "capacity_pct": 90, "staff_on_duty": 180, "staff_total": 200, "staff_shortage": 5},
            "problems": [{"description": format!("演练问题{}：企业需要招聘熟练焊工", o.index)}]
        }))
}

fn overview_request(client: &reqwest::Client, base: &str, token: &str) -> reqwest::RequestBuilder {
    client
        .get(format!("{base}/api/v1/stats/overview"))
        .bearer_auth(token)
}

/// Every officer once, at `rate` a second, through `connections` workers; with `mixed`, each
/// officer files a report after signing in, and four readers poll the dashboard meanwhile.
/// A poller reads /readyz every 100 ms until `stop_readyz` is set (after the wave).
async fn run_wave(
    wave: Arc<Wave>,
    stop_readyz: Arc<AtomicBool>,
) -> (Vec<Outcome>, tokio::task::JoinHandle<Vec<Outcome>>) {
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let readyz = {
        let (base, stop) = (wave.base.clone(), stop_readyz.clone());
        let client = client_builder().timeout(Duration::from_secs(5)).build().unwrap();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                outcomes.push(send("readyz", 0, 1, client.get(format!("{base}/readyz"))).await);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            outcomes
        })
    };
    let mut readers = Vec::new();
    if wave.mixed {
        for r in 0..4 {
            let (wave, done) = (wave.clone(), done.clone());
            readers.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    let request = || overview_request(&wave.client, &wave.base, &wave.dispatcher_token);
                    outcomes
                        .extend(send_with_retries("overview", r, wave.attempts, wave.resend, request).await);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                outcomes
            }));
        }
    }
    let mut workers = Vec::new();
    for _ in 0..wave.connections {
        let (wave, next) = (wave.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(officer) = wave.officers.get(i) else {
                    break;
                };
                if wave.rate > 0.0 {
                    tokio::time::sleep_until((start + Duration::from_secs_f64(i as f64 / wave.rate)).into())
                        .await;
                }
                let request = || sign_in_request(&wave.client, &wave.base, wave.day, officer);
                outcomes.extend(send_with_retries("sign_in", i, wave.attempts, wave.resend, request).await);
                if wave.mixed {
                    let request = || report_request(&wave.client, &wave.base, wave.day, officer);
                    outcomes
                        .extend(send_with_retries("report", i, wave.attempts, wave.resend, request).await);
                }
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for worker in workers {
        outcomes.extend(worker.await.unwrap());
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        outcomes.extend(reader.await.unwrap());
    }
    (outcomes, readyz)
}

/// The first outcome of `kind` with `status` sent at or after `after` (epoch ms).
fn first_after(outcomes: &[Outcome], kind: &str, status: u16, after: f64) -> Option<f64> {
    outcomes
        .iter()
        .filter(|o| o.kind == kind && o.status == status && o.sent_ms >= after)
        .map(|o| o.done_ms)
        .min_by(f64::total_cmp)
}

/// The first answer of `kind` with `status` received at or after `after`.
fn first_answered_after(outcomes: &[Outcome], kind: &str, status: u16, after: f64) -> Option<f64> {
    outcomes
        .iter()
        .filter(|o| o.kind == kind && o.status == status && o.done_ms >= after)
        .map(|o| o.done_ms)
        .min_by(f64::total_cmp)
}

/// Each kind's requests (as `requests` calls them), answers and latencies, as facts.
fn kind_facts(verdict: &mut Verdict, outcomes: &[Outcome], kinds: &[&str], requests: &str) {
    for kind in kinds {
        let of_kind: Vec<&Outcome> = outcomes.iter().filter(|o| o.kind == *kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let latencies: Vec<f64> = of_kind
            .iter()
            .filter(|o| o.error.is_none())
            .map(|o| o.latency_ms())
            .collect();
        verdict.fact(&format!("{kind}: {requests}"), of_kind.len());
        verdict.fact(&format!("{kind}: answers"), tally(&of_kind));
        verdict.fact(
            &format!("{kind}: latency p50 / p99 / max"),
            format!(
                "{:.1} / {:.1} / {:.1} ms",
                percentile(latencies.clone(), 0.5),
                percentile(latencies.clone(), 0.99),
                percentile(latencies, 1.0)
            ),
        );
    }
}

/// `which` 503s (those `counted` picks) carry Retry-After, and no request hung past the client
/// timeout.
fn require_retry_after_and_no_hang(
    verdict: &mut Verdict,
    relevant: &[&Outcome],
    which: &str,
    counted: fn(&Outcome) -> bool,
) {
    let no_retry_after = relevant
        .iter()
        .filter(|o| o.status == 503 && counted(o) && o.retry_after.is_none())
        .count();
    verdict.require(
        no_retry_after == 0,
        format!("{which} carries Retry-After ({no_retry_after} without)"),
    );
    let timeouts = relevant
        .iter()
        .filter(|o| matches!(o.error, Some(("timeout", _))))
        .count();
    verdict.require(
        timeouts == 0,
        format!("no request hung past the client timeout ({timeouts} did)"),
    );
}

/// Rules every drill keeps: no 500, every 503 with Retry-After, nothing past the client timeout.
fn judge_answers(verdict: &mut Verdict, outcomes: &[Outcome], kinds: &[&str], allow_transport_errors: bool) {
    kind_facts(verdict, outcomes, kinds, "requests");
    let relevant: Vec<&Outcome> = outcomes.iter().filter(|o| kinds.contains(&o.kind)).collect();
    let unexpected: Vec<&&Outcome> = relevant
        .iter()
        .filter(|o| o.error.is_none() && !matches!(o.status, 200 | 201 | 503))
        .collect();
    verdict.require(
        unexpected.is_empty(),
        format!(
            "only 200/201/503 answers ({} others{})",
            unexpected.len(),
            unexpected
                .first()
                .map(|o| format!(", e.g. {} {:?} on {}", o.status, o.code, o.kind))
                .unwrap_or_default()
        ),
    );
    require_retry_after_and_no_hang(verdict, &relevant, "every 503", |_| true);
    if !allow_transport_errors {
        let transport = relevant.iter().filter(|o| o.error.is_some()).count();
        verdict.require(
            transport == 0,
            format!(
                "every request got an HTTP answer ({transport} transport errors{})",
                relevant
                    .iter()
                    .find_map(|o| o.error.as_ref())
                    .map(|(c, t)| format!(", e.g. {c}: {t}"))
                    .unwrap_or_default()
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The drills

fn judge_pg_restart(
    verdict: &mut Verdict,
    outcomes: &[Outcome],
    marks: &BTreeMap<String, f64>,
    limit_s: f64,
) {
    judge_answers(verdict, outcomes, &["sign_in"], false);
    let (Some(&stopping), Some(&down), Some(&up)) =
        (marks.get("pg_stopping"), marks.get("pg_down"), marks.get("pg_up"))
    else {
        verdict.require(
            false,
            format!("the fault command marked pg_stopping, pg_down and pg_up ({marks:?})"),
        );
        return;
    };
    verdict.fact("PostgreSQL stop took", seconds(down - stopping));
    verdict.fact("PostgreSQL down for (stopped → accepting)", seconds(up - down));
    let unavailable: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.kind == "sign_in" && o.status == 503)
        .collect();
    if let (Some(first), Some(last)) = (
        unavailable.iter().map(|o| o.done_ms).min_by(f64::total_cmp),
        unavailable.iter().map(|o| o.done_ms).max_by(f64::total_cmp),
    ) {
        verdict.fact(
            "503s answered from / to (relative to the stop)",
            format!(
                "{:+.2} s / {:+.2} s",
                (first - stopping) / 1000.0,
                (last - stopping) / 1000.0
            ),
        );
    }
    let officers_503: HashSet<usize> = unavailable.iter().map(|o| o.officer).collect();
    let acked: HashSet<usize> = outcomes
        .iter()
        .filter(|o| o.kind == "sign_in" && o.acknowledged())
        .map(|o| o.officer)
        .collect();
    verdict.fact(
        "officers answered 503 at least once / of them later acknowledged",
        format!(
            "{} / {}",
            officers_503.len(),
            officers_503.intersection(&acked).count()
        ),
    );
    let first_201 = first_answered_after(outcomes, "sign_in", 201, up);
    let first_201_sent = first_after(outcomes, "sign_in", 201, up);
    let ready = first_after(outcomes, "readyz", 200, up);
    for (name, at) in [
        ("PostgreSQL up → first 201 answered", first_201),
        (
            "PostgreSQL up → first 201 to a request sent after",
            first_201_sent,
        ),
        ("PostgreSQL up → GET /readyz 200", ready),
    ] {
        match at {
            Some(at) => verdict.fact(name, seconds(at - up)),
            None => verdict.fact(name, "never"),
        }
    }
    verdict.require(
        first_201.is_some_and(|at| at - up <= limit_s * 1000.0),
        format!("sign-ins served again within {limit_s} s of PostgreSQL's return, without a restart"),
    );
    verdict.require(
        ready.is_some_and(|at| at - up <= limit_s * 1000.0),
        format!("/readyz 200 within {limit_s} s of PostgreSQL's return"),
    );
}

fn judge_sigterm(verdict: &mut Verdict, outcomes: &[Outcome], marks: &BTreeMap<String, f64>, limit_s: f64) {
    judge_answers(verdict, outcomes, &["sign_in"], true);
    let Some(&term) = marks.get("sigterm") else {
        verdict.require(false, format!("the fault command marked sigterm ({marks:?})"));
        return;
    };
    match marks.get("exited") {
        Some(&exited) => {
            verdict.fact("SIGTERM → process gone", seconds(exited - term));
            verdict.require(
                exited - term <= limit_s * 1000.0,
                format!("the server exits within {limit_s} s"),
            );
        }
        None => verdict.require(false, format!("the server exits within {limit_s} s (it did not)")),
    }
    // Requests sent before the signal and not answered when it went.
    let signal = marks.get("sigterm_sending").copied().unwrap_or(term);
    let sign_ins: Vec<&Outcome> = outcomes.iter().filter(|o| o.kind == "sign_in").collect();
    let in_flight: Vec<&Outcome> = sign_ins
        .iter()
        .copied()
        .filter(|o| o.sent_ms < signal && o.done_ms >= signal)
        .collect();
    verdict.fact("sign-ins in flight at SIGTERM", in_flight.len());
    verdict.fact("  … how they ended", tally(&in_flight));
    let cut_off: Vec<&Outcome> = in_flight.iter().copied().filter(|o| o.error.is_some()).collect();
    if !cut_off.is_empty() {
        let sent_before: Vec<String> = cut_off
            .iter()
            .map(|o| format!("{:.1}", signal - o.sent_ms))
            .collect();
        verdict.fact(
            "  … cut off ones: sent ms before the signal",
            sent_before.join(" "),
        );
        let finished = server_log_statuses(&env("DRILL_SERVER_LOG", ""));
        let handled: Vec<String> = cut_off
            .iter()
            .filter_map(|o| {
                finished
                    .get(&o.request_id)
                    .map(|s| format!("{} → {s}", o.request_id))
            })
            .collect();
        verdict.fact(
            "  … cut off ones the server had finished",
            format!("{} of {} {}", handled.len(), cut_off.len(), handled.join(", ")),
        );
    }
    let after: Vec<&Outcome> = sign_ins.iter().copied().filter(|o| o.sent_ms >= signal).collect();
    verdict.fact("sign-ins sent after SIGTERM", after.len());
    verdict.fact("  … how they ended", tally(&after));
    if let Some(last) = sign_ins
        .iter()
        .filter(|o| o.status == 201)
        .map(|o| o.done_ms)
        .max_by(f64::total_cmp)
    {
        verdict.fact(
            "last 201 answered (relative to SIGTERM)",
            format!("{:+.3} s", (last - signal) / 1000.0),
        );
    }
    let in_flight_unexpected = in_flight
        .iter()
        .filter(|o| o.error.is_none() && o.status != 201)
        .count();
    verdict.require(
        in_flight_unexpected == 0,
        format!("every sign-in in flight at SIGTERM that was answered got its 201 ({in_flight_unexpected} did not)"),
    );
}

/// The status of every request the server's log says it finished, by request id.
fn server_log_statuses(path: &str) -> std::collections::HashMap<String, u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|line| line.contains("request finished"))
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|v| {
            Some((
                v["span"]["request_id"].as_str()?.to_owned(),
                v["status"].as_u64()?,
            ))
        })
        .collect()
}

/// GET the overview from `base` as the dispatcher.
async fn overview(client: &reqwest::Client, base: &str, token: &str) -> Outcome {
    send("overview", 0, 1, overview_request(client, base, token)).await
}

/// What the overview's activity figures must be, from the database.
fn database_overview(conn: &mut PgConnection, day: NaiveDate) -> (i64, i64, i64) {
    let signed = diesel::sql_query(
        "SELECT count(DISTINCT officer_id) AS n FROM sign_ins WHERE region_code = $1 AND day = $2",
    )
    .bind::<Text, _>(REGION)
    .bind::<Date, _>(day);
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let signed = signed.get_result::<N>(conn).unwrap().n;
    let reported = diesel::sql_query(
        "SELECT count(DISTINCT officer_id) AS n FROM daily_reports WHERE region_code = $1 AND day = $2",
    )
    .bind::<Text, _>(REGION)
    .bind::<Date, _>(day)
    .get_result::<N>(conn)
    .unwrap()
    .n;
    let new = diesel::sql_query(
        "SELECT count(*) AS n FROM problems WHERE region_code = $1 AND (created_at AT TIME ZONE 'Asia/Shanghai')::date = $2",
    )
    .bind::<Text, _>(REGION)
    .bind::<Date, _>(day)
    .get_result::<N>(conn)
    .unwrap()
    .n;
    (signed, reported, new)
}

/// The overview from the server with Redis, from the one without, and from the database agree.
async fn compare_overviews(
    verdict: &mut Verdict,
    wave: &Wave,
    compare_url: &str,
    conn: &mut PgConnection,
    label: &str,
) -> bool {
    let a = overview(&wave.client, &wave.base, &wave.dispatcher_token).await;
    let b = overview(&wave.client, compare_url, &wave.dispatcher_token).await;
    let (signed, reported, new) = database_overview(conn, wave.day);
    let (va, vb) = (
        a.body.clone().unwrap_or_default(),
        b.body.clone().unwrap_or_default(),
    );
    let fields = |v: &Value| {
        format!(
            "signed_in {} reported {} problems_new {} open {} total {}",
            v["officers_signed_in"],
            v["officers_reported"],
            v["problems_new"],
            v["problems_open"],
            v["officers_total"]
        )
    };
    verdict.fact(&format!("{label}: overview with Redis"), fields(&va));
    verdict.fact(&format!("{label}: overview without Redis"), fields(&vb));
    verdict.fact(
        &format!("{label}: database"),
        format!("signed_in {signed} reported {reported} problems_new {new}"),
    );
    a.status == 200
        && b.status == 200
        && va == vb
        && va["officers_signed_in"] == json!(signed)
        && va["officers_reported"] == json!(reported)
        && va["problems_new"] == json!(new)
}

async fn judge_redis(
    verdict: &mut Verdict,
    wave: &Wave,
    outcomes: &[Outcome],
    marks: &BTreeMap<String, f64>,
    conn: &mut PgConnection,
) {
    judge_answers(verdict, outcomes, &["sign_in", "report", "overview"], false);
    if let (Some(&killed), Some(&up)) = (marks.get("redis_killed"), marks.get("redis_up")) {
        verdict.fact("Redis down for (SIGKILL → PONG)", seconds(up - killed));
        let during: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.kind != "readyz" && o.sent_ms >= killed && o.sent_ms < up)
            .collect();
        verdict.fact("requests sent while Redis was down", during.len());
        verdict.fact("  … how they ended", tally(&during));
        // Throughput: answers received per second in the outage, against the seconds before it.
        let answered_between = |from: f64, to: f64| {
            outcomes
                .iter()
                .filter(|o| matches!(o.kind, "sign_in" | "report") && o.done_ms >= from && o.done_ms < to)
                .count() as f64
                / ((to - from) / 1000.0)
        };
        verdict.fact(
            "sign-ins + reports answered per second before / during the outage",
            format!(
                "{:.0} / {:.0}",
                answered_between(killed - (up - killed), killed),
                answered_between(killed, up)
            ),
        );
        let slow: Vec<f64> = during.iter().map(|o| o.latency_ms()).collect();
        verdict.fact(
            "  … latency p99 / max",
            format!(
                "{:.1} / {:.1} ms",
                percentile(slow.clone(), 0.99),
                percentile(slow, 1.0)
            ),
        );
    } else {
        verdict.require(
            false,
            format!("the fault command marked redis_killed and redis_up ({marks:?})"),
        );
    }
    let errors = outcomes
        .iter()
        .filter(|o| o.kind != "readyz" && (o.error.is_some() || o.status >= 400))
        .count();
    verdict.require(errors == 0, format!("no error answers at all ({errors})"));
    let compare_url = env("DRILL_COMPARE_URL", "");
    let same = compare_overviews(verdict, wave, &compare_url, conn, "after the wave").await;
    verdict.require(
        same,
        "after the wave the overview equals the one computed without Redis and the database's counts",
    );
}

/// After the wave: a cached answer, Redis killed, K sign-ins while it is down, Redis back with
/// its data (append-only file): is the answer cached before the outage still served?
async fn quiet_redis_restart(verdict: &mut Verdict, wave: &Wave, extra: &[Officer], conn: &mut PgConnection) {
    println!("-- 3b: Redis restarted with its data after writes made while it was down");
    let compare_url = env("DRILL_COMPARE_URL", "");
    // Cached answers live to the end of their minute: start early in one.
    let second = (now_ms() / 1000.0) as u64 % 60;
    if second > 35 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
    let cached = overview(&wave.client, &wave.base, &wave.dispatcher_token).await;
    let _ = overview(&wave.client, &wave.base, &wave.dispatcher_token).await;
    let before = cached.body.clone().unwrap_or_default()["officers_signed_in"].clone();
    run_command(&env("DRILL_REDIS_KILL_CMD", "false"));
    let mut acked = 0;
    for officer in extra {
        let o = send(
            "sign_in",
            officer.index,
            1,
            sign_in_request(&wave.client, &wave.base, wave.day, officer),
        )
        .await;
        if o.status == 201 {
            acked += 1;
        }
    }
    let marks = run_command(&env("DRILL_REDIS_START_CMD", "false"));
    let up = marks.get("redis_up").copied().unwrap_or_else(now_ms);
    verdict.fact("3b: overview's signed_in before the outage", &before);
    verdict.fact("3b: sign-ins acknowledged while Redis was down", acked);
    // Read until the answers agree, at most to the end of the next minute.
    let mut first_stale = None;
    let mut last_stale = None;
    let mut reads = 0;
    let mut stale_reads = 0;
    loop {
        let a = overview(&wave.client, &wave.base, &wave.dispatcher_token).await;
        let b = overview(&wave.client, &compare_url, &wave.dispatcher_token).await;
        reads += 1;
        let (va, vb) = (a.body.unwrap_or_default(), b.body.unwrap_or_default());
        if a.status != 200 || va != vb {
            stale_reads += 1;
            first_stale.get_or_insert((
                now_ms(),
                va["officers_signed_in"].clone(),
                vb["officers_signed_in"].clone(),
            ));
            last_stale = Some(now_ms());
        } else if now_ms() - up > 3000.0 {
            break;
        }
        if now_ms() - up > 75_000.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    verdict.fact(
        "3b: reads after Redis came back / stale",
        format!("{reads} / {stale_reads}"),
    );
    if let (Some((_, stale, fresh)), Some(last)) = (&first_stale, last_stale) {
        verdict.fact(
            "3b: stale answer (signed_in with Redis vs without)",
            format!(
                "{stale} vs {fresh}, served until {} after Redis came back",
                seconds(last - up)
            ),
        );
    }
    verdict.require(
        stale_reads == 0,
        "3b: no answer cached before the outage is served after it (writes made while Redis was down count)",
    );
    let same = compare_overviews(verdict, wave, &compare_url, conn, "3b at the end").await;
    verdict.require(
        same,
        "3b: in the end the overview equals the one without Redis and the database's counts",
    );
}

/// A client as the environment asks: trusting `DRILL_CA_CERT`, resolving the host named in
/// `DRILL_RESOLVE` (`host=ip`) to that address (the balancer's certificate names the host, as
/// the phones' requests do) and sending from `DRILL_LOCAL_ADDR`.
fn client_builder() -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder();
    let ca = env("DRILL_CA_CERT", "");
    if !ca.is_empty() {
        let pem = std::fs::read(&ca).expect("reading DRILL_CA_CERT");
        builder =
            builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("DRILL_CA_CERT is PEM"));
    }
    if let Some((host, ip)) = env("DRILL_RESOLVE", "").split_once('=') {
        // Port 0: the URL's port is used.
        let ip: std::net::IpAddr = ip.parse().expect("DRILL_RESOLVE is host=ip");
        builder = builder.resolve(host, std::net::SocketAddr::new(ip, 0));
    }
    let local = env("DRILL_LOCAL_ADDR", "");
    if !local.is_empty() {
        builder = builder.local_address(Some(local.parse().expect("DRILL_LOCAL_ADDR is an address")));
    }
    builder
}

/// `ARRAY[…]::uuid[]` of the ids, for the checks' queries.
fn uuid_array(ids: impl IntoIterator<Item = Uuid>) -> String {
    let quoted: Vec<String> = ids.into_iter().map(|id| format!("'{id}'")).collect();
    format!("ARRAY[{}]::uuid[]", quoted.join(","))
}

/// Whether `o` is a failed try the phone resends (see `send_with_retries`).
fn resendable(o: &Outcome) -> bool {
    o.error.is_some()
        || (502..=504).contains(&o.status)
        || (o.status == 409 && o.code.as_deref() == Some("idempotency.in_progress"))
}

/// Three instances behind nginx, one killed and started again in the middle of the wave.
fn judge_balancer(
    verdict: &mut Verdict,
    wave: &Wave,
    outcomes: &[Outcome],
    marks: &BTreeMap<String, f64>,
    held_back: &[Officer],
    conn: &mut PgConnection,
) {
    let kinds = ["sign_in", "report", "overview"];
    kind_facts(verdict, outcomes, &kinds, "requests (resends included)");
    let relevant: Vec<&Outcome> = outcomes.iter().filter(|o| kinds.contains(&o.kind)).collect();
    let writes: Vec<&Outcome> = relevant
        .iter()
        .copied()
        .filter(|o| matches!(o.kind, "sign_in" | "report"))
        .collect();
    let acknowledged = writes.iter().filter(|o| o.acknowledged()).count();
    let resends = writes.iter().filter(|o| o.attempt > 1).count();
    let replayed = writes.iter().filter(|o| o.acknowledged() && o.replayed).count();
    verdict.fact(
        "writes: requests / acknowledged / resends",
        format!("{} / {acknowledged} / {resends}", writes.len()),
    );
    verdict.fact("  … acknowledgements that replayed an earlier answer", replayed);

    // What the clients saw go wrong, and when, against the kill.
    let failed: Vec<&Outcome> = relevant
        .iter()
        .copied()
        .filter(|o| resendable(o) || o.status >= 400)
        .collect();
    verdict.fact("errors seen by clients (all kinds)", failed.len());
    if !failed.is_empty() {
        verdict.fact("  … which", tally(&failed));
    }
    match (marks.get("kill_sending"), marks.get("killed")) {
        (Some(&kill), Some(&killed)) => {
            verdict.fact("SIGKILL → process gone", seconds(killed - kill));
            if let Some(&ready) = marks.get("restarted_ready") {
                verdict.fact(
                    "SIGKILL → instance started again and ready",
                    seconds(ready - kill),
                );
            }
            if let (Some(first), Some(last)) = (
                failed.iter().map(|o| o.done_ms).min_by(f64::total_cmp),
                failed.iter().map(|o| o.done_ms).max_by(f64::total_cmp),
            ) {
                verdict.fact(
                    "errors answered from / to (relative to the kill)",
                    format!(
                        "{:+.2} s / {:+.2} s",
                        (first - kill) / 1000.0,
                        (last - kill) / 1000.0
                    ),
                );
            }
            let in_flight = writes
                .iter()
                .filter(|o| o.sent_ms < kill && o.done_ms >= kill)
                .count();
            verdict.fact("writes in flight at the kill", in_flight);
            // A kill after the last write or before the first tests nothing: the wave's size
            // and DRILL_FAULT_AT must put it in the middle.
            let (before, after) = (
                writes.iter().filter(|o| o.sent_ms < kill).count(),
                writes.iter().filter(|o| o.sent_ms >= kill).count(),
            );
            verdict.require(
                before > 0 && after > 0,
                format!(
                    "the kill fell in the middle of the wave ({before} writes sent before it, {after} after)"
                ),
            );
            // Recovered: from the kill to the first write sent after it whose answer came
            // without an error, and from the kill to the last error any client saw.
            if let Some(first_ok) = writes
                .iter()
                .filter(|o| o.sent_ms >= kill && o.acknowledged())
                .map(|o| o.done_ms)
                .min_by(f64::total_cmp)
            {
                verdict.fact(
                    "kill → first write sent after it acknowledged",
                    seconds(first_ok - kill),
                );
            }
            let last_error = failed
                .iter()
                .map(|o| o.done_ms)
                .max_by(f64::total_cmp)
                .map_or(0.0, |last| (last - kill).max(0.0));
            verdict.fact("kill → last error a client saw", seconds(last_error));
        }
        _ => verdict.require(
            false,
            format!("the fault command marked kill_sending and killed ({marks:?})"),
        ),
    }

    // The answers an instance gives are 2xx, 503 with Retry-After or a 409 for a resend that
    // overtook its first try; nginx's own (no error code) are 502 and 504 for a request the dead
    // instance had. A 500, or a 502 from an instance, is a fault.
    let unexpected: Vec<&&Outcome> = relevant
        .iter()
        .filter(|o| o.error.is_none())
        .filter(|o| {
            !(matches!(o.status, 200 | 201 | 503)
                || (o.status == 409 && o.code.as_deref() == Some("idempotency.in_progress"))
                || (matches!(o.status, 502 | 504) && o.code.is_none()))
        })
        .collect();
    verdict.require(
        unexpected.is_empty(),
        format!(
            "only 2xx, 503, 409 idempotency.in_progress and nginx's 502/504 ({} others{})",
            unexpected.len(),
            unexpected
                .first()
                .map(|o| format!(", e.g. {} {:?} on {} {}", o.status, o.code, o.kind, o.request_id))
                .unwrap_or_default()
        ),
    );
    // nginx's own 503s carry no error code; the instances' do.
    require_retry_after_and_no_hang(verdict, &relevant, "every 503 of an instance", |o| {
        o.code.is_some()
    });
    let not_echoed: Vec<&&Outcome> = relevant
        .iter()
        .filter(|o| matches!(o.status, 200 | 201) && o.echoed_id.as_deref() != Some(o.request_id.as_str()))
        .collect();
    verdict.require(
        not_echoed.is_empty(),
        format!(
            "every 2xx answer carries the X-Request-Id the client sent ({} do not{})",
            not_echoed.len(),
            not_echoed
                .first()
                .map(|o| format!(", e.g. {} → {:?}", o.request_id, o.echoed_id))
                .unwrap_or_default()
        ),
    );

    // In the end (after the resends) every officer's sign-in and report is acknowledged.
    for kind in ["sign_in", "report"] {
        let acked: HashSet<usize> = writes
            .iter()
            .filter(|o| o.kind == kind && o.acknowledged())
            .map(|o| o.officer)
            .collect();
        let errored: HashSet<usize> = writes
            .iter()
            .filter(|o| o.kind == kind && resendable(o))
            .map(|o| o.officer)
            .collect();
        verdict.fact(
            &format!("{kind}: officers with an error / of them acknowledged on a resend"),
            format!("{} / {}", errored.len(), errored.intersection(&acked).count()),
        );
        verdict.require(
            acked.len() == wave.officers.len(),
            format!(
                "every officer's {kind} acknowledged after resends ({} of {})",
                acked.len(),
                wave.officers.len()
            ),
        );
    }

    // Nothing stored that was never sent: the held-back officers sent nothing, and every
    // stored row belongs to an officer whose request of that kind went out.
    let sent = |kind: &str| -> Vec<Uuid> {
        let indexes: HashSet<usize> = writes
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.officer)
            .collect();
        wave.officers
            .iter()
            .filter(|o| indexes.contains(&o.index))
            .map(|o| o.id)
            .collect()
    };
    let day = wave.day;
    let region = REGION;
    let held = uuid_array(held_back.iter().map(|o| o.id));
    let held_rows = count(
        conn,
        &format!(
            "SELECT (SELECT count(*) FROM sign_ins WHERE officer_id = ANY({held}))
                  + (SELECT count(*) FROM daily_reports WHERE officer_id = ANY({held}))
                  + (SELECT count(*) FROM problems WHERE reporter_id = ANY({held})) AS n"
        ),
    );
    verdict.require(
        held_rows == 0,
        format!(
            "nothing stored for the {} officers who sent nothing ({held_rows} rows)",
            held_back.len()
        ),
    );
    let unsent_sign_ins = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM sign_ins WHERE region_code = '{region}' AND day = '{day}'
                AND officer_id <> ALL({})",
            uuid_array(sent("sign_in"))
        ),
    );
    let unsent_reports = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM daily_reports WHERE region_code = '{region}' AND day = '{day}'
                AND officer_id <> ALL({})",
            uuid_array(sent("report"))
        ),
    );
    verdict.require(
        unsent_sign_ins + unsent_reports == 0,
        format!("no sign-in or report stored that was never sent ({unsent_sign_ins} sign-ins, {unsent_reports} reports)"),
    );
    // Each report files one problem: as many problems as reports, one per report.
    let reports = count(
        conn,
        &format!("SELECT count(*) AS n FROM daily_reports WHERE region_code = '{region}' AND day = '{day}'"),
    );
    let problems = count(
        conn,
        &format!("SELECT count(*) AS n FROM problems WHERE region_code = '{region}'"),
    );
    let problem_reports = count(
        conn,
        &format!("SELECT count(DISTINCT source_report_id) AS n FROM problems WHERE region_code = '{region}'"),
    );
    let problem_texts = count(
        conn,
        &format!("SELECT count(DISTINCT description_hash) AS n FROM problems WHERE region_code = '{region}'"),
    );
    let orphans = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM problems p WHERE p.region_code = '{region}'
                AND NOT EXISTS (SELECT 1 FROM daily_reports r WHERE r.id = p.source_report_id)"
        ),
    );
    verdict.fact(
        "problems filed from reports (rows / distinct reports / distinct texts)",
        format!("{problems} / {problem_reports} / {problem_texts}"),
    );
    verdict.require(
        problems == reports && problem_reports == reports && problem_texts == reports && orphans == 0,
        format!(
            "one problem per stored report, none duplicated ({problems} problems for {reports} reports, \
             {problem_reports} distinct reports, {problem_texts} distinct texts, {orphans} without their report)"
        ),
    );
    // The notifications the filings queued: none twice.
    let outbox = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM notification_outbox o JOIN problems p ON p.id = o.problem_id
              WHERE p.region_code = '{region}'"
        ),
    );
    let outbox_distinct = count(
        conn,
        &format!(
            "SELECT count(DISTINCT (o.kind, o.problem_id, o.audience, o.recipient_unit_id, o.recipient_user_id)) AS n
               FROM notification_outbox o JOIN problems p ON p.id = o.problem_id WHERE p.region_code = '{region}'"
        ),
    );
    verdict.require(
        outbox == outbox_distinct,
        format!(
            "no notification of the filed problems queued twice ({outbox} rows, {outbox_distinct} distinct)"
        ),
    );
}

#[tokio::main]
async fn main() {
    let drill = env("DRILL_NAME", "pg-restart");
    let base = env("DRILL_URL", "http://127.0.0.1:18180");
    let database_url = env(
        "DRILL_DATABASE_URL",
        "postgres://zhuqi@127.0.0.1:55532/zhuqi_drill",
    );
    let secret = env("JWT_SECRET", "drill-secret-drill-secret-drill-secret!!");
    let out = env("DRILL_OUT", "/tmp");
    let n: usize = env("DRILL_OFFICERS", "4000").parse().unwrap();
    let rate: f64 = env("DRILL_RATE", "250").parse().unwrap();
    let connections: usize = env("DRILL_CONNECTIONS", "64").parse().unwrap();
    let timeout_s: u64 = env("DRILL_TIMEOUT_S", "15").parse().unwrap();
    let attempts: u32 = env("DRILL_ATTEMPTS", "3").parse().unwrap();
    let fault_at: f64 = env("DRILL_FAULT_AT", "4").parse().unwrap();
    let fault_cmd = env("DRILL_FAULT_CMD", "true");
    let recovery_limit: f64 = env("DRILL_RECOVERY_LIMIT_S", "10").parse().unwrap();
    let shutdown_limit: f64 = env("DRILL_SHUTDOWN_LIMIT_S", "30").parse().unwrap();
    let balancer = drill == "balancer";
    let mixed = drill == "redis-kill" || balancer;
    // The quiet check of the Redis drill signs in officers kept out of the wave; the balancer
    // drill's held-back officers send nothing at all.
    let extra = match drill.as_str() {
        "redis-kill" => 20,
        "balancer" => env("DRILL_HELD_BACK", "20").parse().unwrap(),
        _ => 0,
    };

    let mut conn = connect(&database_url);
    let (pairs, dispatcher) = setup(&mut conn, n + extra);
    assert_eq!(pairs.len(), n + extra, "setup made one assignment per officer");
    let keys = JwtKeys::new(&Secret::new(secret));
    let clock = Clock::system();
    let mut users: Vec<Uuid> = pairs.iter().map(|(officer_id, ..)| *officer_id).collect();
    users.push(dispatcher);
    publish_sessions(
        &env("DRILL_REDIS_URL", "redis://127.0.0.1:56479/0"),
        &env("DRILL_REDIS_PREFIX", "drill:"),
        users,
    )
    .await;
    let mut officers: Vec<Officer> = pairs
        .into_iter()
        .enumerate()
        .map(|(index, (officer_id, enterprise_id, lat, lng))| Officer {
            index,
            id: officer_id,
            token: keys.issue_access(
                &clock,
                AccessClaims::for_subject(officer_id, vec![Role::Officer], REGION.to_owned(), None, None),
            ),
            enterprise_id,
            lat,
            lng,
        })
        .collect();
    let extra_officers = officers.split_off(n);
    let dispatcher_token = keys.issue_access(
        &clock,
        AccessClaims::for_subject(
            dispatcher,
            vec![Role::Dispatcher, Role::Admin],
            REGION.to_owned(),
            None,
            None,
        ),
    );
    let client = client_builder()
        .pool_max_idle_per_host(connections + 8)
        .timeout(Duration::from_secs(timeout_s))
        .build()
        .unwrap();
    let day = clock.today();
    let wave = Arc::new(Wave {
        base,
        client,
        officers: Arc::new(officers),
        dispatcher_token,
        day,
        rate,
        connections,
        attempts,
        mixed,
        resend: balancer,
    });
    println!(
        "drill {drill}: {n} officers at {rate}/s through {connections} connections, fault at {fault_at} s, \
         client timeout {timeout_s} s, up to {attempts} tries on a 503, day {day}"
    );

    let origin = now_ms();
    let fault = run_fault(fault_cmd, Instant::now() + Duration::from_secs_f64(fault_at));
    let stop_readyz = Arc::new(AtomicBool::new(false));
    let (mut outcomes, readyz) = run_wave(wave.clone(), stop_readyz.clone()).await;
    let wave_seconds = (now_ms() - origin) / 1000.0;
    let marks = tokio::task::spawn_blocking(move || fault.join().expect("the fault thread"))
        .await
        .unwrap();
    // After PostgreSQL's return, wait (bounded) for the server to say it is ready again.
    if let Some(&up) = marks.get("pg_up") {
        let deadline = now_ms() + 30_000.0;
        while now_ms() < deadline {
            let probe = send("readyz", 0, 1, wave.client.get(format!("{}/readyz", wave.base))).await;
            let ready = probe.status == 200 && probe.sent_ms >= up;
            outcomes.push(probe);
            if ready {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    stop_readyz.store(true, Ordering::Relaxed);
    outcomes.extend(readyz.await.unwrap());
    outcomes.sort_by(|a, b| a.sent_ms.total_cmp(&b.sent_ms));
    println!("wave done in {wave_seconds:.1} s; marks (s from the wave's start):");
    for (name, at) in &marks {
        println!("  {name:<16} {:+.3}", (at - origin) / 1000.0);
    }

    let mut verdict = Verdict::default();
    match drill.as_str() {
        "pg-restart" => judge_pg_restart(&mut verdict, &outcomes, &marks, recovery_limit),
        "sigterm" => judge_sigterm(&mut verdict, &outcomes, &marks, shutdown_limit),
        "redis-kill" => {
            let mut conn = connect(&database_url);
            judge_redis(&mut verdict, &wave, &outcomes, &marks, &mut conn).await;
        }
        "balancer" => {
            let mut conn = connect(&database_url);
            judge_balancer(&mut verdict, &wave, &outcomes, &marks, &extra_officers, &mut conn);
        }
        other => panic!("unknown drill {other}"),
    }
    let mut conn = connect(&database_url);
    let stored = check_database(&mut conn, day, &outcomes);
    judge_storage(&mut verdict, &stored, &outcomes);
    if drill == "redis-kill" {
        quiet_redis_restart(&mut verdict, &wave, &extra_officers, &mut conn).await;
    }
    write_csv(&format!("{out}/requests.csv"), &outcomes, origin);
    let mut summary = String::new();
    for (name, value) in &verdict.facts {
        let _ = writeln!(summary, "{name}\t{value}");
    }
    for failure in &verdict.failures {
        let _ = writeln!(summary, "FAILED\t{failure}");
    }
    std::fs::write(format!("{out}/summary.tsv"), summary).unwrap();
    if verdict.failures.is_empty() {
        println!("VERDICT PASS");
    } else {
        println!("VERDICT FAIL: {}", verdict.failures.join("; "));
        std::process::exit(1);
    }
}
