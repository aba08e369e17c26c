//! Load generator for the hub's queue: a region with N open problems (default 50,000) and C
//! dispatchers (default 8) claiming concurrently until the queue is empty. Reports claim
//! requests per second, p50/p99 latency, and checks that no problem was handed out twice.
//! Run through `benches/queue.sh`; numbers go to docs/performance.md.
//!
//! Environment: BENCH_URL, BENCH_DATABASE_URL, JWT_SECRET, BENCH_PROBLEMS (50000),
//! BENCH_CLAIMERS (8), BENCH_CLAIM_LIMIT (items per claim, 1).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness reports failures by panicking

use std::collections::HashSet;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{json, Value};
use uuid::Uuid;

mod support;

use support::{count, env};
use zhuqi::auth::jwt::{AccessClaims, JwtKeys};
use zhuqi::clock::Clock;
use zhuqi::config::Secret;
use zhuqi::domain::role::Role;

const REGION: &str = "439800";

/// The bench region: one enterprise, one officer who filed N problems (one in ten urgent),
/// and the dispatchers. Returns the dispatchers' ids.
fn setup(conn: &mut PgConnection, problems: i64, claimers: usize) -> Vec<Uuid> {
    diesel::sql_query(
        "INSERT INTO regions (code, name, path) VALUES ($1, '队列压测市', $1 || '/') ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(REGION)
    .execute(conn)
    .unwrap();
    let code = zhuqi::domain::credit_code::CreditCode::from_parts("91", REGION, "Q0000001").unwrap();
    diesel::sql_query(format!(
        "INSERT INTO enterprises (credit_code, name, region_code, lat, lng) VALUES ('{code}', '队列压测企业', '{REGION}', 27.8, 113.1) ON CONFLICT DO NOTHING"
    ))
    .execute(conn)
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO units (code, name, kind, region_code) VALUES ('QUEUE-UNIT', '压测派出单位', 'dispatching', '{REGION}')
         ON CONFLICT DO NOTHING"
    ))
    .execute(conn)
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO users (username, name, roles, region_code, unit_id)
         SELECT 'queue.d' || i, '压测调度员' || i, ARRAY['dispatcher'], '{REGION}', NULL FROM generate_series(0, {}) AS i
         UNION ALL SELECT 'queue.officer', '压测联络员', ARRAY['officer'], '{REGION}', (SELECT id FROM units WHERE code = 'QUEUE-UNIT')
         ON CONFLICT DO NOTHING",
        claimers - 1
    ))
    .execute(conn)
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO problems (enterprise_id, region_code, reporter_id, reporter_role, description_hash, title, description,
                               urgency, status, created_at, updated_at)
         SELECT e.id, '{REGION}', u.id, 'officer', md5(i::text), '压测问题' || i, '第' || i || '号：厂区道路破损影响货车通行',
                CASE WHEN i % 10 = 0 THEN 'urgent' ELSE 'normal' END, 'submitted',
                now() - make_interval(secs => i), now()
           FROM generate_series(1, {problems}) AS i
           JOIN enterprises e ON e.name = '队列压测企业'
           JOIN users u ON u.username = 'queue.officer'"
    ))
    .execute(conn)
    .unwrap();
    diesel::sql_query("ANALYZE problems").execute(conn).unwrap();
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let ids: Vec<Id> =
        diesel::sql_query("SELECT id FROM users WHERE username LIKE 'queue.d%' ORDER BY username")
            .load(conn)
            .unwrap();
    ids.into_iter().map(|i| i.id).collect()
}

#[tokio::main]
async fn main() {
    let base = env("BENCH_URL", "http://127.0.0.1:18080");
    let database_url = env(
        "BENCH_DATABASE_URL",
        "postgres://zhuqi@127.0.0.1:55432/zhuqi_bench",
    );
    let secret = env("JWT_SECRET", "bench-secret-bench-secret-bench-secret!!");
    let problems: i64 = env("BENCH_PROBLEMS", "50000").parse().unwrap();
    let claimers: usize = env("BENCH_CLAIMERS", "8").parse().unwrap();
    let limit: i64 = env("BENCH_CLAIM_LIMIT", "1").parse().unwrap();

    let mut conn = PgConnection::establish(&database_url).expect("bench database");
    let dispatchers = setup(&mut conn, problems, claimers);
    let keys = JwtKeys::new(&Secret::new(secret));
    let clock = Clock::system();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(claimers)
        .build()
        .unwrap();
    println!("queue of {problems} problems, {claimers} claimers, {limit} item(s) per claim");

    let started = Instant::now();
    let mut workers = Vec::new();
    for dispatcher in dispatchers {
        let token = keys.issue_access(
            &clock,
            AccessClaims::for_subject(dispatcher, vec![Role::Dispatcher], REGION.to_owned(), None, None),
        );
        let (client, url) = (client.clone(), format!("{base}/api/v1/hub/queue/claim"));
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut claimed = Vec::new();
            let mut failures = 0;
            loop {
                let sent = Instant::now();
                let reply = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"limit": limit, "lease_seconds": 3600}))
                    .send()
                    .await;
                let Ok(reply) = reply else {
                    failures += 1;
                    continue;
                };
                if !reply.status().is_success() {
                    failures += 1;
                    continue;
                }
                let body: Value = reply.json().await.unwrap();
                latencies.push(sent.elapsed());
                let items = body["items"].as_array().unwrap();
                if items.is_empty() {
                    break;
                }
                claimed.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            }
            (latencies, claimed, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut claimed: Vec<String> = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let (l, c, f) = worker.await.unwrap();
        latencies.extend(l);
        claimed.extend(c);
        failures += f;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let pick =
        |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    let distinct: HashSet<&String> = claimed.iter().collect();
    println!(
        "claims {:>6} requests in {:>6.2} s = {:>6.0} req/s ({:>6.0} items/s)   p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms   failed {}",
        latencies.len(),
        seconds,
        latencies.len() as f64 / seconds,
        claimed.len() as f64 / seconds,
        pick(0.5),
        pick(0.99),
        pick(1.0),
        failures
    );
    let leased = count(
        &mut conn,
        &format!("SELECT count(*) AS n FROM problems WHERE region_code = '{REGION}' AND lease_holder_id IS NOT NULL"),
    );
    println!(
        "items claimed {} (distinct {}), double claims {}, leased in the database {leased} of {problems}",
        claimed.len(),
        distinct.len(),
        claimed.len() - distinct.len()
    );
    assert_eq!(claimed.len(), distinct.len(), "an item was claimed twice");
    assert_eq!(leased, problems, "every problem claimed");
}
