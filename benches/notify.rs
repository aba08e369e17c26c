//! Notifications under load, run through `benches/notify.sh`; numbers go to
//! docs/performance.md.
//!
//! `BENCH_MODE=drain`: one instance's delivery rate. BENCH_MESSAGES reminders (default 20,000)
//! to the officers of a city of their own, a long-term template for them, and the fake WeChat
//! answering each send after BENCH_LATENCY_MS (default 20); the worker's pass runs until every
//! push is sent, under NOTIFY_MAX_PER_MINUTE (default 6000, 0 for none): messages per minute,
//! and that each was sent once.
//!
//! `BENCH_MODE=reminders`: the reminder run at 10:00 of a working day for BENCH_OFFICERS
//! (default 24,000) officers without a sign-in: its time and the statements it sent.
//!
//! Environment: BENCH_DATABASE_URL (a database of its own), REDIS_URL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness reports failures by panicking

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::TimeZone;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;

mod support;

use support::{build_city, count, env, City};
use zhuqi::clock::Clock;
use zhuqi::config::Settings;
use zhuqi::demo::fake_wechat::FakeWeChat;
use zhuqi::state::AppState;

const DRAIN_CITY: City = City {
    region: "439801",
    region_name: "推送压测市",
    unit: "BENCH-NOTIFY",
    unit_name: "推送压测单位",
    officer: "bench.n",
    officer_name: "推送联络员",
    phone: "197",
    enterprise_name: "推送压测企业",
    credit: 'N',
};

const REMINDER_CITY: City = City {
    region: "439802",
    region_name: "提醒压测市",
    unit: "BENCH-REMIND",
    unit_name: "提醒压测单位",
    officer: "bench.r",
    officer_name: "提醒联络员",
    phone: "196",
    enterprise_name: "提醒压测企业",
    credit: 'R',
};

fn main() {
    let database_url = env(
        "BENCH_DATABASE_URL",
        "postgres://zhuqi@127.0.0.1:55432/zhuqi_bench_notify",
    );
    let mut conn = PgConnection::establish(&database_url).expect("database");
    zhuqi::db::migrate(&mut conn).expect("migrations");
    match env("BENCH_MODE", "drain").as_str() {
        "drain" => drain(&database_url, &mut conn),
        "reminders" => reminders(&mut conn),
        other => panic!("BENCH_MODE {other}: expected drain or reminders"),
    }
}

fn drain(database_url: &str, conn: &mut PgConnection) {
    let messages: usize = env("BENCH_MESSAGES", "20000").parse().unwrap();
    let latency: u64 = env("BENCH_LATENCY_MS", "20").parse().unwrap();
    let officers = 2000.min(messages);
    build_city(conn, &DRAIN_CITY, officers);
    diesel::sql_query(format!(
        "UPDATE users SET wechat_openid = 'o-' || username WHERE username LIKE '{}%'",
        DRAIN_CITY.officer
    ))
    .execute(conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO notification_templates (kind, template_id, fields, long_term, enabled, updated_at)
         VALUES ('officer.sign_in_missing', 'BENCH-SIGN-IN', '{\"thing1\": \"name\", \"date2\": \"day\"}', true, true, now())
         ON CONFLICT (kind) DO UPDATE SET long_term = true, enabled = true",
    )
    .execute(conn)
    .unwrap();
    let per_officer = messages.div_ceil(officers);
    diesel::sql_query(format!(
        "INSERT INTO notification_outbox (kind, recipient_user_id, audience, region_code, payload, created_at, dedupe_key)
         SELECT 'officer.sign_in_missing', u.id, 'user', u.region_code,
                jsonb_build_object('day', '2026-11-20', 'name', u.name), now(), 'bench:' || u.id || ':' || n || ':' || now()
           FROM users u CROSS JOIN generate_series(1, {per_officer}) AS n
          WHERE u.username LIKE '{}%'
          LIMIT {messages}",
        DRAIN_CITY.officer
    ))
    .execute(conn)
    .unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fake = FakeWeChat::start("bench", "bench").expect("fake");
        fake.state.latency_ms.store(latency, Ordering::SeqCst);
        let vars = BTreeMap::from([
            ("DATABASE_URL", database_url.to_owned()),
            ("REDIS_URL", env("REDIS_URL", "redis://127.0.0.1:56379/0")),
            ("REDIS_KEY_PREFIX", "bench-notify:".to_owned()),
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("JWT_SECRET", "bench-secret-bench-secret-bench-secret!!".to_owned()),
            ("WECHAT_APPID", "bench".to_owned()),
            ("WECHAT_SECRET", "bench".to_owned()),
            ("WECHAT_API_BASE", fake.base.clone()),
            ("NOTIFY_QUIET_HOURS", "off".to_owned()),
            ("NOTIFY_MAX_PER_MINUTE", env("NOTIFY_MAX_PER_MINUTE", "6000")),
        ]);
        let settings = Settings::from_lookup(|name| vars.get(name).cloned()).unwrap();
        let state = AppState::new(settings, Clock::system()).unwrap();
        state.cache.connect_in_background();
        let started = Instant::now();
        let mut conn = state.notify_pool.get().expect("connection");
        let expanded = zhuqi::notify::expand::tick(&mut conn, chrono::Utc::now()).expect("expansion");
        drop(conn);
        let expansion = started.elapsed();
        assert_eq!(expanded.deliveries, messages, "one push per message");
        loop {
            zhuqi::jobs::notify::pass(&state).await;
            if fake.sends().len() >= messages || started.elapsed().as_secs() > 900 {
                break;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let sends = fake.sends();
        let mut ids: Vec<i64> = sends.iter().map(|s| s.push_id).collect();
        ids.sort_unstable();
        ids.dedup();
        println!(
            "drain: {} messages, fake latency {latency} ms, limit {}/minute, {:.1} s (of which expansion {:.1} s): {:.0} messages/minute, {} sent twice",
            sends.len(),
            env("NOTIFY_MAX_PER_MINUTE", "6000"),
            seconds,
            expansion.as_secs_f64(),
            sends.len() as f64 / seconds * 60.0,
            sends.len() - ids.len()
        );
    });
}

/// Counts the statements a connection sends.
struct Counter(Arc<AtomicUsize>);

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn reminders(conn: &mut PgConnection) {
    let officers: usize = env("BENCH_OFFICERS", "24000").parse().unwrap();
    let built = Instant::now();
    build_city(conn, &REMINDER_CITY, officers);
    println!(
        "city of {officers} officers built in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    // Friday 20 November 2026, 10:00 in China: a working day.
    let at = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc);
    let statements = Arc::new(AtomicUsize::new(0));
    conn.set_instrumentation(Counter(statements.clone()));
    let started = Instant::now();
    let reminded = zhuqi::jobs::reminders::tick(conn, at).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let sent = statements.load(Ordering::SeqCst);
    let again = Instant::now();
    let second = zhuqi::jobs::reminders::tick(conn, at + chrono::Duration::minutes(1)).unwrap();
    println!(
        "reminder run at 10:00: {} sign-in reminders written in {:.2} s with {sent} statements; the next minute's pass: {} written in {:.3} s",
        reminded.sign_ins,
        seconds,
        second.sign_ins,
        again.elapsed().as_secs_f64()
    );
    let expand = Instant::now();
    let expanded = zhuqi::notify::expand::tick(conn, at).unwrap();
    println!(
        "expansion of them: {} events into {} inbox entries in {:.1} s; outbox now {} rows",
        expanded.events,
        expanded.notifications,
        expand.elapsed().as_secs_f64(),
        count(conn, "SELECT count(*) AS n FROM notification_outbox")
    );
}
