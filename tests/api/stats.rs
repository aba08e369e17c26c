//! Dashboards, monthly reports and Excel ledgers: figures checked against hand-computed ones,
//! identical with and without Redis, repaired after drift, frozen once a month is over.

use std::io::Cursor;
use std::process::{Child, Command, Stdio};

use calamine::{Reader, Xlsx};
use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::{json, Value};

use crate::helpers::{database_url, redis_url, spawn_app, spawn_app_with, Options, TestApp, CRRC};

fn at_crrc(enterprise: &str) -> Value {
    json!({"enterprise_id": enterprise, "lat": CRRC.0, "lng": CRRC.1, "accuracy_m": 15})
}

fn report() -> Value {
    json!({
        "work_done": "走访车间，了解用工情况",
        "production": {"status": "normal", "capacity_pct": 90, "staff_on_duty": 1200, "staff_total": 1300, "staff_shortage": 10},
    })
}

async fn file(app: &TestApp, token: &str, enterprise: &str, description: &str) -> String {
    let filed = app
        .post(
            "/api/v1/problems",
            Some(token),
            json!({"enterprise_id": enterprise, "description": description}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    filed.body["id"].as_str().expect("id").to_owned()
}

async fn triage_and_assign(app: &TestApp, dispatcher: &str, id: &str) {
    app.triage_and_assign(dispatcher, id, "utilities", "ZZ-GDGS", Some(5))
        .await;
}

fn set_china_time(apps: &[&TestApp], y: i32, m: u32, d: u32, h: u32) {
    let at = Shanghai
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid")
        .with_timezone(&Utc);
    for app in apps {
        app.clock.set(at);
    }
}

#[tokio::test]
async fn the_overview_matches_figures_computed_by_hand() {
    let app = spawn_app().await;
    app.seed_demo();
    let (zhang, dispatcher) = (
        app.token("officer.zhang").await,
        app.token("hub.dispatcher").await,
    );
    let crrc = app.crrc().await;
    assert_eq!(
        app.post("/api/v1/sign-ins", Some(&zhang), at_crrc(&crrc))
            .await
            .status,
        201
    );
    let put = app
        .put(
            &format!("/api/v1/daily-reports/{crrc}/2026-11-20"),
            Some(&zhang),
            report(),
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.text);
    let assigned = file(&app, &zhang, &crrc, "厂区变压器容量不足，急需增容").await;
    file(&app, &zhang, &crrc, "焊工招聘困难，缺口三十人").await;
    triage_and_assign(&app, &dispatcher, &assigned).await;

    // Four demo officers are on assignment; one signed in and reported; two problems came in.
    let overview = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(overview.status, 200, "{}", overview.text);
    let want = json!({
        "region_code": "430200", "unit_id": null, "day": "2026-11-20",
        "officers_total": 4, "officers_signed_in": 1, "sign_in_rate": 0.25,
        "officers_reported": 1, "report_rate": 0.25,
        "problems_new": 2, "problems_open": 2, "problems_overdue": 0,
        "resolution_rate": 0.0, "on_time_rate": null,
        "benefits_month": {"problems": 0, "loan_yuan": 0, "fees_reduced_yuan": 0, "subsidies_yuan": 0,
                           "positions_filled": 0, "with_other": 0},
    });
    assert_eq!(overview.body, want);

    // The unit admin of ZZ-CZJ sees its two officers only.
    let czj = app.token("czj.admin").await;
    let unit = app.get("/api/v1/stats/overview", Some(&czj)).await;
    assert_eq!(unit.body["officers_total"], 2);
    assert_eq!(unit.body["sign_in_rate"], 0.5);

    // A month later the assigned problem is overdue; the earlier day keeps its figures.
    app.clock.advance(Duration::days(30));
    let dispatcher = app.token("hub.dispatcher").await;
    let later = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(later.body["problems_new"], 0);
    assert_eq!(later.body["problems_open"], 2);
    assert_eq!(later.body["problems_overdue"], 1);
    assert_eq!(later.body["officers_signed_in"], 0);
    let then = app
        .get("/api/v1/stats/overview?day=2026-11-20", Some(&dispatcher))
        .await;
    assert_eq!(then.body, want);

    let problems = app
        .get(
            "/api/v1/stats/problems?from=2026-11-01&to=2026-11-30",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(problems.status, 200, "{}", problems.text);
    assert_eq!(problems.body["total"], 2);
    assert_eq!(problems.body["by_status"], json!({"assigned": 1, "submitted": 1}));
    assert_eq!(problems.body["overdue_open"], 1);
    let departments = app
        .get(
            "/api/v1/stats/departments?from=2026-11-01&to=2026-11-30",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(departments.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        departments.body["items"][0]["department_name"],
        "国网株洲供电公司"
    );
    assert_eq!(departments.body["items"][0]["assigned"], 1);
    assert_eq!(departments.body["items"][0]["overdue_open"], 1);

    // On 20 November (a working day) 张伟 signed in, reported and raised both problems; 李娜
    // was on assignment and did nothing.
    let officers = app
        .get(
            "/api/v1/stats/officers?from=2026-11-20&to=2026-11-20",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(officers.status, 200, "{}", officers.text);
    let items = officers.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 4, "the four demo officers");
    assert_eq!(items[0]["name"], "张伟", "ranked first by report rate");
    let figures = |o: &Value| {
        [
            "working_days",
            "days_on_site",
            "signed_in_days",
            "sign_in_rate",
            "reported_days",
            "report_rate",
            "sign_ins",
            "reports",
            "problems_raised",
            "problems_solved",
            "problems_overdue",
        ]
        .map(|k| o[k].clone())
    };
    assert_eq!(
        figures(&items[0]),
        [
            json!(1),
            json!(1),
            json!(1),
            json!(1.0),
            json!(1),
            json!(1.0),
            json!(1),
            json!(1),
            json!(2),
            json!(0),
            json!(0)
        ]
    );
    let li = items.iter().find(|o| o["name"] == "李娜").expect("李娜");
    assert_eq!(
        (li["working_days"].clone(), li["sign_in_rate"].clone()),
        (json!(1), json!(0.0))
    );
}

#[tokio::test]
async fn stats_are_for_managers_and_stay_inside_their_region() {
    let app = spawn_app().await;
    app.seed_demo();
    app.create_admin("cs.admin", "430100", "长沙市");
    let zhang = app.token("officer.zhang").await;
    let denied = app.get("/api/v1/stats/overview", Some(&zhang)).await;
    assert_eq!((denied.status, denied.code()), (403, "stats.forbidden"));
    let changsha = app.token("cs.admin").await;
    let elsewhere = app
        .get("/api/v1/stats/overview?region_code=430200", Some(&changsha))
        .await;
    assert_eq!(elsewhere.status, 404);
    let dispatcher = app.token("hub.dispatcher").await;
    let backwards = app
        .get(
            "/api/v1/stats/problems?from=2026-11-10&to=2026-11-01",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(
        (backwards.status, backwards.code()),
        (400, "request.invalid_query")
    );
    let future = app
        .get("/api/v1/reports/monthly?month=2027-01", Some(&dispatcher))
        .await;
    assert_eq!((future.status, future.code()), (422, "report.month_not_started"));
    // An officer reads their own month, never another's.
    let own = app
        .get("/api/v1/reports/monthly?month=2026-11", Some(&zhang))
        .await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.body["officers"].as_array().map(Vec::len), Some(1));
    let li: String = {
        let li_token = app.token("officer.li").await;
        let me = app.get("/api/v1/me", Some(&li_token)).await;
        me.body["id"].as_str().expect("id").to_owned()
    };
    let other = app
        .get(
            &format!("/api/v1/reports/monthly?month=2026-11&officer_id={li}"),
            Some(&zhang),
        )
        .await;
    assert_eq!(other.status, 404);
}

/// The four dashboard answers as the caller sees them.
async fn dashboards(app: &TestApp, token: &str) -> Vec<Value> {
    let mut answers = Vec::new();
    for path in [
        "/api/v1/stats/overview",
        "/api/v1/stats/overview?day=2026-11-19",
        "/api/v1/stats/problems",
        "/api/v1/stats/departments",
        "/api/v1/stats/officers?sort=problems_raised",
    ] {
        let reply = app.get(path, Some(token)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        answers.push(reply.body);
    }
    answers
}

#[tokio::test]
async fn cached_and_uncached_answers_agree_after_a_mixed_workload() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let uncached = spawn_app_with(Options {
        redis_url: "redis://127.0.0.1:1/0".to_owned(),
        database_url: Some(database_url(&app.db_name)),
        ..Options::default()
    })
    .await;
    let (zhang, dispatcher) = (
        app.token("officer.zhang").await,
        app.token("hub.dispatcher").await,
    );
    let crrc = app.crrc().await;
    assert_eq!(
        dashboards(&app, &dispatcher).await,
        dashboards(&uncached, &dispatcher).await
    );
    // Served from Redis the second time: the answers are stored.
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}{{stats}}:fig:*", app.redis_prefix))
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 5, "{keys:?}");

    // Sign-ins, a report, new problems and lifecycle actions, each compared at once.
    app.post("/api/v1/sign-ins", Some(&zhang), at_crrc(&crrc)).await;
    assert_eq!(
        dashboards(&app, &dispatcher).await,
        dashboards(&uncached, &dispatcher).await
    );
    app.put(
        &format!("/api/v1/daily-reports/{crrc}/2026-11-20"),
        Some(&zhang),
        report(),
    )
    .await;
    let id = file(&app, &zhang, &crrc, "厂区变压器容量不足，急需增容").await;
    assert_eq!(
        dashboards(&app, &dispatcher).await,
        dashboards(&uncached, &dispatcher).await
    );
    triage_and_assign(&app, &dispatcher, &id).await;
    assert_eq!(
        dashboards(&app, &dispatcher).await,
        dashboards(&uncached, &dispatcher).await
    );
    set_china_time(&[&app, &uncached], 2026, 11, 20, 17);
    let dispatcher = app.token("hub.dispatcher").await;
    assert_eq!(
        dashboards(&app, &dispatcher).await,
        dashboards(&uncached, &dispatcher).await
    );
}

fn start_redis(port: u16) -> Child {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH (make test installs it)")
}

#[tokio::test]
async fn figures_stay_identical_with_redis_stopped_mid_run() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let mut redis = start_redis(port);
    let app = spawn_app_with(Options {
        redis_url: format!("redis://127.0.0.1:{port}/0"),
        ..Options::default()
    })
    .await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    // Let the background connection come up, then fill the cache.
    for _ in 0..50 {
        if app.get("/readyz", None).await.body["redis"] == "up" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let with_redis = dashboards(&app, &dispatcher).await;
    assert_eq!(dashboards(&app, &dispatcher).await, with_redis, "from the cache");
    redis.kill().expect("stop redis");
    redis.wait().expect("stopped");
    assert_eq!(dashboards(&app, &dispatcher).await, with_redis, "from PostgreSQL");
}

#[tokio::test]
async fn reconciliation_repairs_a_drifted_counter_and_a_tampered_answer() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let past = app
        .get("/api/v1/stats/overview?day=2026-11-19", Some(&dispatcher))
        .await;
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    // Yesterday's city counter lost its bumps, and the cached answer was garbled.
    let counter = format!("{}{{stats}}:430200:2026-11-19:sign_ins", app.redis_prefix);
    let _: () = redis::cmd("SET")
        .arg(&counter)
        .arg(1)
        .query_async(&mut conn)
        .await
        .expect("set");
    let key = format!(
        "{}{{stats}}:fig:overview:430200:-:2026-11-19:2026-11-19",
        app.redis_prefix
    );
    let stored: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("cached");
    let mut envelope: Value = serde_json::from_str(&stored).expect("json");
    envelope["value"]["problems_open"] = json!(999);
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg(envelope.to_string())
        .query_async(&mut conn)
        .await
        .expect("tamper");
    assert_eq!(
        app.get("/api/v1/stats/overview?day=2026-11-19", Some(&dispatcher))
            .await
            .body["problems_open"],
        999,
        "the tampered answer is served until reconciled"
    );

    let cache = connected_cache(&app).await;
    let outcome = zhuqi::stats::reconcile::run(&app.pool, &cache, app.clock.now())
        .await
        .expect("reconcile");
    assert!(outcome.counters_repaired >= 1, "{outcome:?}");
    assert_eq!(outcome.answers_repaired, 1, "{outcome:?}");
    let signed: i64 = redis::cmd("GET")
        .arg(&counter)
        .query_async(&mut conn)
        .await
        .expect("get");
    assert_eq!(
        signed,
        app.count("SELECT count(*) AS n FROM sign_ins WHERE day = '2026-11-19'")
    );
    assert_eq!(
        app.get("/api/v1/stats/overview?day=2026-11-19", Some(&dispatcher))
            .await
            .body,
        past.body
    );
    let again = zhuqi::stats::reconcile::run(&app.pool, &cache, app.clock.now())
        .await
        .expect("reconcile");
    assert_eq!(
        (again.counters_repaired, again.answers_repaired),
        (0, 0),
        "nothing left to repair"
    );
}

/// The server's cache as the reconciliation command would open it, once Redis answers.
async fn connected_cache(app: &TestApp) -> zhuqi::cache::Cache {
    let cache = zhuqi::cache::Cache::new(
        &redis_url(),
        std::time::Duration::from_millis(500),
        &app.redis_prefix,
    );
    cache.connect_in_background();
    while !cache.ping().await {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    cache
}

async fn redis_get(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query_async(conn).await.expect("get")
}

async fn redis_set(conn: &mut redis::aio::MultiplexedConnection, key: &str, value: &str) {
    let _: () = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query_async(conn)
        .await
        .expect("set");
}

#[tokio::test]
async fn the_top_of_a_ranking_is_cached_as_pages_retired_with_their_answer() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let stored = |what: &str, tail: &str| {
        format!(
            "{}{{stats}}:{what}:officers:430200:-:2026-11-13:2026-11-19{tail}",
            app.redis_prefix
        )
    };
    let path = "/api/v1/stats/officers?from=2026-11-13&to=2026-11-19&limit=2";
    let first = app.get(path, Some(&dispatcher)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(2));

    // The page is kept beside the answer, and served from there.
    let view = stored("view", ":ReportRate:0:2");
    let mut envelope: Value =
        serde_json::from_str(&redis_get(&mut conn, &view).await.expect("a cached page")).expect("json");
    assert_eq!(envelope["value"], first.body);
    envelope["value"]["items"] = json!([]);
    redis_set(&mut conn, &view, &envelope.to_string()).await;
    assert_eq!(app.get(path, Some(&dispatcher)).await.body["items"], json!([]));

    // The answer it came from drifted: reconciliation repairs it and forgets its pages.
    let answer = stored("fig", "");
    let mut envelope: Value =
        serde_json::from_str(&redis_get(&mut conn, &answer).await.expect("cached")).expect("json");
    envelope["value"][0]["sign_ins"] = json!(12345);
    redis_set(&mut conn, &answer, &envelope.to_string()).await;
    let cache = connected_cache(&app).await;
    let outcome = zhuqi::stats::reconcile::run(&app.pool, &cache, app.clock.now())
        .await
        .expect("reconcile");
    assert_eq!(outcome.answers_repaired, 1, "{outcome:?}");
    assert_eq!(redis_get(&mut conn, &view).await, None, "the page is forgotten");
    assert_eq!(app.get(path, Some(&dispatcher)).await.body, first.body);

    // Only the first rows' pages are kept.
    let deep = app.get(&format!("{path}&cursor=100"), Some(&dispatcher)).await;
    assert_eq!(deep.status, 200, "{}", deep.text);
    assert_eq!(
        redis_get(&mut conn, &stored("view", ":ReportRate:100:2")).await,
        None
    );

    // This month's page is retired by a sign-in like its answer.
    let month = "/api/v1/stats/officers?limit=50&sort=sign_in_rate";
    let before = app.get(month, Some(&dispatcher)).await;
    let view = format!(
        "{}{{stats}}:view:officers:430200:-:2026-11-01:2026-11-20:SignInRate:0:50",
        app.redis_prefix
    );
    assert!(redis_get(&mut conn, &view).await.is_some());
    let (_, signed) = app.sign_in_at("株洲旗滨玻璃有限公司").await;
    assert_eq!(signed.status, 201, "{}", signed.text);
    let after = app.get(month, Some(&dispatcher)).await;
    let sign_ins = |page: &Value| -> i64 {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|o| o["sign_ins"].as_i64().unwrap_or(0))
            .sum()
    };
    assert_eq!(sign_ins(&after.body), sign_ins(&before.body) + 1);
}

#[tokio::test]
async fn the_monthly_report_of_a_closed_month_does_not_change_after_a_later_edit() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let czj = app.unit_id("ZZ-CZJ").await;
    let path = format!("/api/v1/reports/monthly?month=2026-11&unit_id={czj}");
    let live = app.get(&path, Some(&dispatcher)).await;
    assert_eq!(live.status, 200, "{}", live.text);
    assert_eq!(live.body["frozen"], false);
    assert!(
        live.body["totals"]["sign_ins"].as_i64().unwrap_or(0) > 0,
        "{}",
        live.text
    );

    // 1 December, after the last reports closed: November is frozen on first read.
    app.clock.set(
        Shanghai
            .with_ymd_and_hms(2026, 12, 1, 10, 30, 0)
            .single()
            .expect("t")
            .with_timezone(&Utc),
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let frozen = app.get(&path, Some(&dispatcher)).await;
    assert_eq!(frozen.body["frozen"], true);
    assert!(frozen.body["frozen_at"]
        .as_str()
        .is_some_and(|t| t.ends_with("+08:00")));
    // Overdue counts are taken at the month's end; the month's activity is as it was.
    for figure in ["sign_ins", "reports", "days_on_site", "problems_raised"] {
        assert_eq!(
            frozen.body["totals"][figure], live.body["totals"][figure],
            "{figure}"
        );
    }
    // A late correction to November's data does not change the published month.
    app.exec("DELETE FROM sign_ins WHERE day BETWEEN '2026-11-01' AND '2026-11-30'");
    let after = app.get(&path, Some(&dispatcher)).await;
    assert_eq!(after.body, frozen.body);
    let stats = app
        .get(
            "/api/v1/stats/officers?from=2026-11-01&to=2026-11-30",
            Some(&dispatcher),
        )
        .await;
    assert!(stats.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|o| o["sign_ins"] == 0));
}

fn sheet_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let range = book.worksheet_range(sheet).expect("sheet");
    range
        .rows()
        .map(|row| row.iter().map(ToString::to_string).collect())
        .collect()
}

async fn download(app: &TestApp, path: &str, token: &str) -> Vec<u8> {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    response.bytes().await.expect("bytes").to_vec()
}

#[tokio::test]
async fn ledgers_open_in_excel_with_their_columns_and_the_lists_filters() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let bytes = download(&app, "/api/v1/exports/problems.xlsx", &dispatcher).await;
    let all = sheet_rows(&bytes, "全部");
    assert_eq!(
        all[0],
        [
            "编号",
            "企业",
            "区县",
            "类别",
            "问题描述",
            "提出人",
            "提出日期",
            "承办部门",
            "交办日期",
            "办理时限",
            "状态",
            "办理结果",
            "评价",
            "是否超期",
            "交办编号",
            "贷款(元)",
            "减免税费(元)",
            "补贴(元)",
            "解决用工(人)",
            "其他成效"
        ]
    );
    assert_eq!(
        all.len() as i64 - 1,
        app.count("SELECT count(*) AS n FROM problems")
    );
    let utilities = sheet_rows(&bytes, "水电气暖");
    assert_eq!(
        utilities.len() as i64 - 1,
        app.count("SELECT count(*) AS n FROM problems WHERE category = 'utilities'")
    );
    // The list's filters apply, and an officer's ledger holds only what the officer sees.
    let submitted = download(
        &app,
        "/api/v1/exports/problems.xlsx?status=submitted",
        &dispatcher,
    )
    .await;
    assert!(sheet_rows(&submitted, "全部")[1..]
        .iter()
        .all(|row| row[10] == "待分类"));
    let zhang = app.token("officer.zhang").await;
    let own = download(&app, "/api/v1/exports/problems.xlsx", &zhang).await;
    let listed = app.get("/api/v1/problems?limit=100", Some(&zhang)).await;
    assert_eq!(
        sheet_rows(&own, "全部").len() - 1,
        listed.body["items"].as_array().map_or(0, Vec::len)
    );

    let reports = download(
        &app,
        "/api/v1/exports/daily-reports.xlsx?from=2026-11-16",
        &dispatcher,
    )
    .await;
    let rows = sheet_rows(&reports, "日报台账");
    assert_eq!(rows[0][0], "日期");
    assert_eq!(
        rows.len() as i64 - 1,
        app.count("SELECT count(*) AS n FROM daily_reports WHERE day >= '2026-11-16'")
    );
    assert!(rows[1..].iter().all(|r| r[0].as_str() >= "2026-11-16"));

    // More than one page of rows (1,000 per query), all on the 全部 sheet, none twice.
    app.exec(
        "INSERT INTO problems (id, enterprise_id, region_code, reporter_id, reporter_role, description_hash,
                               title, description, urgency, departments_requested, status, created_at, updated_at)
         SELECT gen_random_uuid(), p.enterprise_id, p.region_code, p.reporter_id, p.reporter_role, md5(g::text),
                p.title, p.description || g, p.urgency, p.departments_requested, 'submitted',
                p.created_at - g * interval '1 second', p.updated_at
           FROM (SELECT * FROM problems LIMIT 1) p, generate_series(1, 2100) g",
    );
    let big = download(&app, "/api/v1/exports/problems.xlsx", &dispatcher).await;
    let rows = sheet_rows(&big, "全部");
    let ids: std::collections::HashSet<&String> = rows[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(ids.len() as i64, app.count("SELECT count(*) AS n FROM problems"));
    assert_eq!(ids.len(), rows.len() - 1);

    let too_long = app
        .get(
            "/api/v1/exports/daily-reports.xlsx?from=2026-01-01&to=2026-11-20",
            Some(&dispatcher),
        )
        .await;
    assert_eq!((too_long.status, too_long.code()), (400, "request.invalid_query"));

    let monthly = download(
        &app,
        "/api/v1/exports/officers-monthly.xlsx?month=2026-11",
        &dispatcher,
    )
    .await;
    let officers = sheet_rows(&monthly, "联络员");
    assert_eq!(officers[0][0], "联络员");
    assert_eq!(officers.len() - 1, 4, "the four demo officers");
    assert_eq!(
        sheet_rows(&monthly, "单位").last().map(|r| r[0].clone()),
        Some("合计".to_owned())
    );
}

#[tokio::test]
async fn every_dashboard_answer_has_the_shape_the_spec_gives() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let czj = app.unit_id("ZZ-CZJ").await;
    let zhang = app.token("officer.zhang").await;
    for (template, path, token) in [
        (
            "/api/v1/stats/overview",
            "/api/v1/stats/overview".to_owned(),
            &dispatcher,
        ),
        (
            "/api/v1/stats/problems",
            "/api/v1/stats/problems".to_owned(),
            &dispatcher,
        ),
        (
            "/api/v1/stats/departments",
            "/api/v1/stats/departments".to_owned(),
            &dispatcher,
        ),
        (
            "/api/v1/stats/officers",
            "/api/v1/stats/officers".to_owned(),
            &dispatcher,
        ),
        (
            "/api/v1/reports/monthly",
            format!("/api/v1/reports/monthly?month=2026-11&unit_id={czj}"),
            &dispatcher,
        ),
        (
            "/api/v1/reports/monthly",
            "/api/v1/reports/monthly".to_owned(),
            &zhang,
        ),
    ] {
        let reply = app.get(&path, Some(token)).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        let disagreements = crate::spec::disagreements(template, &reply.body);
        assert!(disagreements.is_empty(), "{path}: {disagreements:#?}");
    }
}

#[tokio::test]
async fn rankings_page_with_limit_and_cursor_like_every_list() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let all = app
        .get("/api/v1/stats/officers?sort=name&limit=100", Some(&dispatcher))
        .await;
    assert_eq!(all.body["next_cursor"], Value::Null);
    let names: Vec<Value> = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["name"].clone())
        .collect();
    assert_eq!(names.len(), 4);

    let first = app
        .get("/api/v1/stats/officers?sort=name&limit=3", Some(&dispatcher))
        .await;
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(3));
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(
            &format!("/api/v1/stats/officers?sort=name&limit=3&cursor={cursor}"),
            Some(&dispatcher),
        )
        .await;
    assert_eq!(second.body["next_cursor"], Value::Null);
    let paged: Vec<Value> = first.body["items"]
        .as_array()
        .into_iter()
        .chain(second.body["items"].as_array())
        .flatten()
        .map(|o| o["name"].clone())
        .collect();
    assert_eq!(paged, names, "the pages together are the whole list, in order");

    let bad = app
        .get("/api/v1/stats/departments?cursor=abc", Some(&dispatcher))
        .await;
    assert_eq!((bad.status, bad.code()), (400, "request.invalid_cursor"));
    let too_many = app
        .get("/api/v1/stats/officers?limit=101", Some(&dispatcher))
        .await;
    assert_eq!((too_many.status, too_many.code()), (400, "request.invalid_limit"));
}

#[tokio::test]
async fn the_monthly_report_comes_as_excel_by_accept_header_or_by_path() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let by_accept = app
        .client
        .get(app.url("/api/v1/reports/monthly?month=2026-11"))
        .bearer_auth(&dispatcher)
        .header("accept", xlsx)
        .send()
        .await
        .expect("report");
    assert_eq!(by_accept.status(), 200);
    assert_eq!(by_accept.headers()["content-type"], xlsx);
    let by_accept = by_accept.bytes().await.expect("bytes");
    assert_eq!(sheet_rows(&by_accept, "联络员").len() - 1, 4);
    let by_path = download(&app, "/api/v1/reports/monthly.xlsx?month=2026-11", &dispatcher).await;
    assert_eq!(sheet_rows(&by_path, "单位"), sheet_rows(&by_accept, "单位"));
    // JSON stays the answer for everyone else.
    let json = app
        .get("/api/v1/reports/monthly?month=2026-11", Some(&dispatcher))
        .await;
    assert_eq!(json.body["month"], "2026-11");
}

#[tokio::test]
async fn only_recent_periods_are_cached() {
    let app = spawn_app().await;
    app.seed_demo();
    let dispatcher = app.token("hub.dispatcher").await;
    for path in [
        "/api/v1/stats/overview?day=2026-11-19",
        "/api/v1/stats/overview?day=2025-03-03",
    ] {
        assert_eq!(app.get(path, Some(&dispatcher)).await.status, 200);
    }
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let cached = |day: &str| format!("{}{{stats}}:fig:overview:430200:-:{day}:{day}", app.redis_prefix);
    let recent: i64 = redis::cmd("EXISTS")
        .arg(cached("2026-11-19"))
        .query_async(&mut conn)
        .await
        .expect("exists");
    let old: i64 = redis::cmd("EXISTS")
        .arg(cached("2025-03-03"))
        .query_async(&mut conn)
        .await
        .expect("exists");
    assert_eq!((recent, old), (1, 0), "a day long past is computed, not kept");
}

#[tokio::test]
async fn exports_and_dashboards_never_take_the_officers_connections() {
    let app = spawn_app().await;
    app.seed_demo();
    // Every connection of the budget for long work is busy.
    let held: Vec<_> = (0..2)
        .map(|_| app.bulk_pool.get().expect("bulk connection"))
        .collect();
    let officer = app.token("officer.zhang").await;
    let enterprise = app.crrc().await;
    let dispatcher = app.token("hub.dispatcher").await;
    let (export, sign_in) = tokio::join!(
        app.get("/api/v1/exports/problems.xlsx", Some(&dispatcher)),
        app.post(
            "/api/v1/sign-ins",
            Some(&officer),
            json!({"enterprise_id": enterprise, "lat": CRRC.0, "lng": CRRC.1}),
        )
    );
    assert_eq!(sign_in.status, 201, "{}", sign_in.text);
    assert_eq!(
        (export.status, export.code()),
        (503, "database.unavailable"),
        "the export waits for its own budget, then gives up"
    );
    drop(held);
    assert_eq!(
        app.get("/api/v1/exports/problems.xlsx", Some(&dispatcher))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_write_whose_bumps_were_lost_retires_cached_answers_once_redis_answers_again() {
    let app = spawn_app().await;
    app.seed_demo();
    let dispatcher = app.token("hub.dispatcher").await;
    let before = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(before.status, 200);
    let signed_in = before.body["officers_signed_in"].as_i64().expect("count");
    // A sign-in committed while Redis was unreachable: written, its generation bumps lost.
    app.exec(
        "INSERT INTO sign_ins (id, officer_id, enterprise_id, region_code, day, signed_at, lat, lng, distance_m, within_geofence)
         SELECT gen_random_uuid(), a.officer_id, a.enterprise_id, e.region_code, DATE '2026-11-20', now(), e.lat, e.lng, 0, true
           FROM assignments a JOIN enterprises e ON e.id = a.enterprise_id
           JOIN users u ON u.id = a.officer_id WHERE u.username = 'officer.zhang' LIMIT 1",
    );
    zhuqi::cache::stats::lost_bumps(&app.cache).await;
    // Redis answers again, with the old answer and the old generations still in it.
    let after = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(
        after.body["officers_signed_in"].as_i64(),
        Some(signed_in + 1),
        "{}",
        after.text
    );
}
