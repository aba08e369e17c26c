//! Load generator for the officer's day: a morning peak of session refreshes, home screens and
//! sign-ins and an evening peak of daily reports with problems, replayed by N officers with real
//! tokens against a running server. Run through `benches/run.sh`, which starts everything and
//! measures the PostgreSQL insert ceiling with pgbench in the same run; numbers go to
//! docs/performance.md.
//!
//! Environment: BENCH_URL (server), BENCH_DATABASE_URL (its database), JWT_SECRET (the
//! server's), BENCH_OFFICERS (default 3000), BENCH_CONNECTIONS (default 64).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness reports failures by panicking

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

mod support;

use support::{build_city, count, env, publish_sessions, City};
use zhuqi::auth::jwt::{AccessClaims, JwtKeys};
use zhuqi::auth::secrets::sha256_hex;
use zhuqi::clock::Clock;
use zhuqi::config::Secret;
use zhuqi::db::models::refresh_token::NewRefreshToken;
use zhuqi::domain::role::Role;

const REGION: &str = "439900";

struct Officer {
    token: String,
    /// A refresh token of its own session, as a phone keeps from its sign-in.
    refresh: String,
    enterprise_id: Uuid,
    lat: f64,
    lng: f64,
}

/// The bench city: one region, one unit, N enterprises and N officers, each assigned to one.
const CITY: City = City {
    region: REGION,
    region_name: "压测市",
    unit: "BENCH-UNIT",
    unit_name: "压测派出单位",
    officer: "bench.o",
    officer_name: "压测联络员",
    phone: "199",
    enterprise_name: "压测企业",
    credit: 'B',
};

struct Summary {
    name: &'static str,
    requests: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    statuses: Vec<(u16, usize)>,
}

impl Summary {
    fn print(&self) {
        println!(
            "{:<22} {:>6} requests in {:>6.2} s = {:>7.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms   statuses {:?}",
            self.name,
            self.requests,
            self.seconds,
            self.requests as f64 / self.seconds,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.statuses
        );
    }
}

/// Sends one request per officer through `connections` concurrent workers.
async fn wave<F>(
    name: &'static str,
    officers: Arc<Vec<Officer>>,
    connections: usize,
    client: reqwest::Client,
    build: F,
) -> Summary
where
    F: Fn(&reqwest::Client, &Officer, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let build = Arc::new(build);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (officers, next, client, build) = (officers.clone(), next.clone(), client.clone(), build.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut statuses = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(officer) = officers.get(i) else { break };
                let sent = Instant::now();
                let status = match build(&client, officer, i).send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                latencies.push(sent.elapsed());
                statuses.push(status);
            }
            (latencies, statuses)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut statuses: Vec<u16> = Vec::new();
    for worker in workers {
        let (l, s) = worker.await.unwrap();
        latencies.extend(l);
        statuses.extend(s);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let pick =
        |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    let mut counted: Vec<(u16, usize)> = Vec::new();
    for s in statuses {
        match counted.iter_mut().find(|(code, _)| *code == s) {
            Some((_, n)) => *n += 1,
            None => counted.push((s, 1)),
        }
    }
    counted.sort();
    Summary {
        name,
        requests: latencies.len(),
        seconds,
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
        statuses: counted,
    }
}

/// The Idempotency-Key header, or none for an empty key.
fn key_header(key: String) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(value) = reqwest::header::HeaderValue::from_str(&key) {
        if !key.is_empty() {
            headers.insert("idempotency-key", value);
        }
    }
    headers
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; this harness takes its settings from the environment.
    let base = env("BENCH_URL", "http://127.0.0.1:18080");
    let database_url = env(
        "BENCH_DATABASE_URL",
        "postgres://zhuqi@127.0.0.1:55432/zhuqi_bench",
    );
    let secret = env("JWT_SECRET", "bench-secret-bench-secret-bench-secret!!");
    let n: usize = env("BENCH_OFFICERS", "3000").parse().unwrap();
    let with_keys = env("BENCH_IDEMPOTENCY_KEYS", "1") == "1";
    let connections: usize = env("BENCH_CONNECTIONS", "64").parse().unwrap();

    let mut conn = PgConnection::establish(&database_url).expect("bench database");
    let pairs = build_city(&mut conn, &CITY, n);
    assert_eq!(pairs.len(), n, "setup made one assignment per officer");
    let keys = JwtKeys::new(&Secret::new(secret));
    let clock = Clock::system();
    // Each officer's session, as a sign-in would have stored it (only the digest is kept).
    let now = clock.now();
    let refresh: Vec<String> = pairs
        .iter()
        .map(|(officer_id, ..)| format!("bench-refresh-{officer_id}-{}", Uuid::new_v4().simple()))
        .collect();
    let digests: Vec<String> = refresh.iter().map(|t| sha256_hex(t)).collect();
    let sessions: Vec<NewRefreshToken> = pairs
        .iter()
        .zip(&digests)
        .map(|((officer_id, ..), digest)| NewRefreshToken {
            user_id: *officer_id,
            family_id: Uuid::new_v4(),
            token_hash: digest,
            issued_at: now,
            expires_at: now + chrono::Duration::days(30),
            family_started_at: now,
        })
        .collect();
    for chunk in sessions.chunks(1000) {
        diesel::insert_into(zhuqi::schema::refresh_tokens::table)
            .values(chunk)
            .execute(&mut conn)
            .expect("bench sessions");
    }
    let officers: Arc<Vec<Officer>> = Arc::new(
        pairs
            .iter()
            .copied()
            .zip(refresh)
            .map(|((officer_id, enterprise_id, lat, lng), refresh)| Officer {
                refresh,
                token: keys.issue_access(
                    &clock,
                    AccessClaims::for_subject(officer_id, vec![Role::Officer], REGION.to_owned(), None, None),
                ),
                enterprise_id,
                lat,
                lng,
            })
            .collect(),
    );
    // A token comes from a login, which tells Redis its session generation; minted here, so
    // tell it the same (else every first request would read the users row instead).
    publish_sessions(
        &env("BENCH_REDIS_URL", "redis://127.0.0.1:56379/0"),
        &env("BENCH_REDIS_PREFIX", "bench:"),
        pairs.iter().map(|(officer_id, ..)| *officer_id),
    )
    .await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let day = clock.today();
    // Each request carries an Idempotency-Key, as the mini-program sends one.
    let sign_in_key = move |i: usize| {
        if with_keys {
            format!("bench-sign-in-{day}-{i}")
        } else {
            String::new()
        }
    };
    let report_key = move |i: usize| {
        if with_keys {
            format!("bench-report-{day}-{i}")
        } else {
            String::new()
        }
    };

    println!("officers {n}, connections {connections}, day {day}, idempotency keys {with_keys}");
    // The app starts by refreshing its session, then opens on the home screen (GET /me/today)
    // before the sign-in.
    let base_r = base.clone();
    let refreshes = wave(
        "morning refreshes",
        officers.clone(),
        connections,
        client.clone(),
        move |c, o, _| {
            c.post(format!("{base_r}/api/v1/auth/refresh"))
                .json(&json!({"refresh_token": o.refresh}))
        },
    )
    .await;
    refreshes.print();

    let base_t = base.clone();
    let screens = wave(
        "morning home screens",
        officers.clone(),
        connections,
        client.clone(),
        move |c, o, _| c.get(format!("{base_t}/api/v1/me/today")).bearer_auth(&o.token),
    )
    .await;
    screens.print();
    let base_a = base.clone();
    let morning =
        wave(
            "morning sign-ins",
            officers.clone(),
            connections,
            client.clone(),
            move |c, o, i| {
                c.post(format!("{base_a}/api/v1/sign-ins"))
            .bearer_auth(&o.token)
            .headers(key_header(sign_in_key(i)))
            .json(&json!({"enterprise_id": o.enterprise_id, "lat": o.lat, "lng": o.lng, "accuracy_m": 20}))
            },
        )
        .await;
    morning.print();
    let base_b = base.clone();
    let retries =
        wave(
            "sign-in retries",
            officers.clone(),
            connections,
            client.clone(),
            move |c, o, i| {
                c.post(format!("{base_b}/api/v1/sign-ins"))
            .bearer_auth(&o.token)
            .headers(key_header(sign_in_key(i)))
            .json(&json!({"enterprise_id": o.enterprise_id, "lat": o.lat, "lng": o.lng, "accuracy_m": 20}))
            },
        )
        .await;
    retries.print();
    // After the sign-in the screen is fetched again (changed: a 200 with its new ETag).
    let base_s = base.clone();
    let after = wave(
        "screens after sign-in",
        officers.clone(),
        connections,
        client.clone(),
        move |c, o, _| c.get(format!("{base_s}/api/v1/me/today")).bearer_auth(&o.token),
    )
    .await;
    after.print();
    let base_c = base.clone();
    let evening = wave("evening reports", officers.clone(), connections, client.clone(), move |c, o, i| {
        c.put(format!("{base_c}/api/v1/daily-reports/{}/{day}", o.enterprise_id))
            .bearer_auth(&o.token)
            .headers(key_header(report_key(i)))
            .json(&json!({
                "work_done": "走访车间，了解生产和用工情况",
                "production": {"status": "normal", "capacity_pct": 90, "staff_on_duty": 180, "staff_total": 200, "staff_shortage": 5},
                "problems": [{"description": format!("压测问题{i}：企业需要招聘熟练焊工")}]
            }))
    })
    .await;
    evening.print();

    let region_filter = format!("region_code = '{REGION}' AND day = '{day}'");
    let sign_ins = count(
        &mut conn,
        &format!("SELECT count(*) AS n FROM sign_ins WHERE {region_filter}"),
    );
    let distinct = count(
        &mut conn,
        &format!(
            "SELECT count(DISTINCT (officer_id, enterprise_id)) AS n FROM sign_ins WHERE {region_filter}"
        ),
    );
    let reports = count(
        &mut conn,
        &format!("SELECT count(*) AS n FROM daily_reports WHERE {region_filter}"),
    );
    let problems = count(
        &mut conn,
        &format!("SELECT count(*) AS n FROM problems WHERE region_code = '{REGION}'"),
    );
    println!("database: {sign_ins} sign-ins ({distinct} distinct), {reports} reports, {problems} problems");
    assert_eq!(
        (sign_ins, distinct, reports),
        (n as i64, n as i64, n as i64),
        "every request answered once, no duplicates"
    );
    assert_eq!(problems, n as i64, "one problem per report");
}
