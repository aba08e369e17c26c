use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

fn report(work_done: &str) -> Value {
    json!({
        "work_done": work_done,
        "production": {"status": "partial", "capacity_pct": 85, "staff_on_duty": 1200, "staff_total": 1350, "staff_shortage": 40},
        "difficulties": "焊工缺口较大",
    })
}

fn set_china_time(app: &TestApp, y: i32, m: u32, d: u32, h: u32, min: u32) {
    let at = Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid")
        .with_timezone(&Utc);
    app.clock.set(at);
}

#[tokio::test]
async fn a_report_is_filed_then_revised_and_every_revision_is_kept() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let path = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    let first = app
        .put(&path, Some(&zhang), report("走访总装车间，了解订单与用工情况"))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["revision"], 1);
    let mut revised = report("走访总装车间，了解订单与用工情况；下午协调供电");
    revised["production"]["capacity_pct"] = json!(90);
    let second = app.put(&path, Some(&zhang), revised.clone()).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.body["revision"], 2);
    assert_eq!(second.body["id"], first.body["id"]);
    let resend = app.put(&path, Some(&zhang), revised).await;
    assert_eq!(
        resend.body["revision"], 2,
        "an identical resend is not a revision"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_report_revisions"), 2);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM daily_report_revisions WHERE revision = 2 AND changed_fields = ARRAY['work_done', 'production.capacity_pct']"),
        1
    );
    let read = app.get(&path, Some(&zhang)).await;
    assert_eq!(read.body["revision"], 2);
    assert_eq!(read.body["production"]["capacity_pct"], 90);
}

#[tokio::test]
async fn chinese_text_round_trips_unchanged() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let text = "「订单」排到明年三月 —— 需要焊工×30、电工×5；\n负责人：王总 📞 “尽快”";
    let path = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    app.put(&path, Some(&zhang), report(text)).await;
    let read = app.get(&path, Some(&zhang)).await;
    assert_eq!(read.body["work_done"], text);
}

#[tokio::test]
async fn problems_in_a_report_enter_the_queue_once() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let path = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    let mut body = report("走访");
    body["problems"] =
        json!([{"description": "企业急需熟练焊工30名，希望人社部门组织专场招聘", "urgency": "urgent"}]);
    let first = app.put(&path, Some(&zhang), body.clone()).await;
    assert_eq!(first.body["problem_ids"].as_array().map(Vec::len), Some(1));
    // The revision repeats the problem (with other spacing) and adds a new one.
    app.clock.advance(Duration::minutes(30));
    body["problems"] = json!([
        {"description": "企业急需熟练焊工30名， 希望人社部门组织专场招聘"},
        {"description": "10kV 专线检修影响二车间用电，需供电公司协调", "category": "utilities"}
    ]);
    let second = app.put(&path, Some(&zhang), body.clone()).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.body["problem_ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(second.body["revision"], 2);
    let resend = app.put(&path, Some(&zhang), body).await;
    assert_eq!(resend.body["revision"], 2, "nothing new, no revision");
    let listed = app
        .get(
            "/api/v1/daily-reports?from=2026-11-20&to=2026-11-20",
            Some(&zhang),
        )
        .await;
    assert_eq!(listed.body["items"][0]["problem_ids"], second.body["problem_ids"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM problems"), 2);
    let problem = app
        .get(
            &format!(
                "/api/v1/problems/{}",
                second.body["problem_ids"][0].as_str().unwrap_or("")
            ),
            Some(&zhang),
        )
        .await;
    assert_eq!(problem.body["status"], "submitted");
    assert_eq!(problem.body["urgency"], "urgent");
    assert_eq!(problem.body["source_report_id"], first.body["id"]);
    assert_eq!(problem.body["timeline"][0]["type"], "submitted");
}

#[tokio::test]
async fn yesterday_can_be_filed_until_ten_and_older_days_never() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    set_china_time(&app, 2026, 11, 21, 9, 59);
    let zhang = app.token("officer.zhang").await;
    let yesterday = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    assert_eq!(
        app.put(&yesterday, Some(&zhang), report("补报")).await.status,
        201
    );
    set_china_time(&app, 2026, 11, 21, 10, 0);
    let zhang = app.token("officer.zhang").await;
    let closed = app.put(&yesterday, Some(&zhang), report("再改")).await;
    assert_eq!((closed.status, closed.code()), (422, "report.closed"));
    let long_past = app
        .put(
            &format!("/api/v1/daily-reports/{enterprise}/2026-10-01"),
            Some(&zhang),
            report("补"),
        )
        .await;
    assert_eq!(long_past.code(), "report.closed");
    let tomorrow = app
        .put(
            &format!("/api/v1/daily-reports/{enterprise}/2026-11-22"),
            Some(&zhang),
            report("预报"),
        )
        .await;
    assert_eq!(tomorrow.code(), "report.closed");
}

#[tokio::test]
async fn numbers_are_range_checked_and_text_length_limited() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let path = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    let mut body = report("走访");
    body["production"]["capacity_pct"] = json!(120);
    body["production"]["staff_on_duty"] = json!(2000);
    body["work_done"] = json!("长".repeat(2001));
    let reply = app.put(&path, Some(&zhang), body).await;
    assert_eq!((reply.status, reply.code()), (422, "validation.failed"));
    let columns: Vec<&str> = reply.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        columns,
        ["work_done", "production.capacity_pct", "production.staff_on_duty"]
    );
    let mut wrong_status = report("走访");
    wrong_status["production"]["status"] = json!("closed");
    assert_eq!(
        app.put(&path, Some(&zhang), wrong_status).await.code(),
        "request.invalid_body"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_reports"), 0);
}

#[tokio::test]
async fn an_officer_cannot_read_or_write_another_officers_report() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let path = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    app.put(&path, Some(&zhang), report("走访")).await;
    let li = app.token("officer.li").await;
    assert_eq!(app.get(&path, Some(&li)).await.status, 404);
    let write = app.put(&path, Some(&li), report("冒名")).await;
    assert_eq!((write.status, write.code()), (403, "report.not_assigned"));
    assert_eq!(
        app.get("/api/v1/daily-reports", Some(&li)).await.body["items"],
        json!([])
    );
    let unit_admin = app.token("czj.admin").await;
    assert_eq!(app.get(&path, Some(&unit_admin)).await.body["work_done"], "走访");
    let contact = app.token("qianjin.contact").await;
    assert_eq!(app.get(&path, Some(&contact)).await.status, 404);
}

#[tokio::test]
async fn the_same_report_replayed_with_the_same_key_gives_one_report_and_the_same_response() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let path = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    let mut body = report("走访");
    body["problems"] = json!([{"description": "融资需求：流动资金贷款2000万元"}]);
    let key = uuid::Uuid::new_v4().to_string();
    let send = || app.keyed(reqwest::Method::PUT, &path, &zhang, &key, &body);
    let first = send().await;
    let second = send().await;
    assert_eq!(first.status, 201);
    assert_eq!(second.status, 201, "the stored status, not a revision's 200");
    assert_eq!(first.text, second.text);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_reports"), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_report_revisions"), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM problems"), 1);

    let mut other = body.clone();
    other["work_done"] = json!("另一份内容");
    let reused = app.keyed(reqwest::Method::PUT, &path, &zhang, &key, &other).await;
    assert_eq!((reused.status, reused.code()), (422, "idempotency.key_reused"));

    // A retry that arrives after the filing window closed still gets its stored answer.
    set_china_time(&app, 2026, 11, 21, 11, 0);
    let zhang = app.token("officer.zhang").await;
    let late = app.keyed(reqwest::Method::PUT, &path, &zhang, &key, &body).await;
    assert_eq!(late.status, 201, "{}", late.text);
}

#[tokio::test]
async fn the_draft_carries_yesterdays_numbers_and_lists_open_problems() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let mut body = report("走访");
    body["problems"] = json!([{"description": "厂区道路需要维修"}]);
    app.put(
        &format!("/api/v1/daily-reports/{enterprise}/2026-11-20"),
        Some(&zhang),
        body,
    )
    .await;
    app.clock.advance(Duration::days(1));
    let zhang = app.token("officer.zhang").await;
    let draft = app
        .get(
            &format!("/api/v1/daily-reports/{enterprise}/2026-11-21/draft"),
            Some(&zhang),
        )
        .await;
    assert_eq!(draft.status, 200, "{}", draft.text);
    assert_eq!(draft.body["revision"], Value::Null);
    assert_eq!(draft.body["open"], true);
    assert_eq!(draft.body["production"]["staff_total"], 1350);
    assert_eq!(draft.body["work_done"], "");
    assert_eq!(draft.body["open_problems"][0]["title"], "厂区道路需要维修");
    let li = app.token("officer.li").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/daily-reports/{enterprise}/2026-11-21/draft"),
            Some(&li)
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn the_missing_list_names_officers_without_a_sign_in_or_a_report() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    app.post(
        "/api/v1/sign-ins",
        Some(&zhang),
        json!({"enterprise_id": enterprise, "lat": 27.8885, "lng": 113.1655}),
    )
    .await;
    app.put(
        &format!("/api/v1/daily-reports/{enterprise}/2026-11-20"),
        Some(&zhang),
        report("走访"),
    )
    .await;
    let unit_admin = app.token("czj.admin").await;
    let missing = app
        .get("/api/v1/daily-reports/missing?day=2026-11-20", Some(&unit_admin))
        .await;
    assert_eq!(missing.status, 200, "{}", missing.text);
    assert_eq!(missing.body["working_day"], true);
    let names: Vec<&str> = missing.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["李娜"],
        "张伟 signed in and reported; 王强 and 刘洋 belong to other units"
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let all = app
        .get("/api/v1/daily-reports/missing?day=2026-11-20", Some(&dispatcher))
        .await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(3));
    let weekend = app
        .get("/api/v1/daily-reports/missing?day=2026-11-21", Some(&dispatcher))
        .await;
    assert_eq!(weekend.body["working_day"], false);
    assert_eq!(weekend.body["items"], json!([]));
    let officer = app.get("/api/v1/daily-reports/missing", Some(&zhang)).await;
    assert_eq!(officer.status, 403);
}

#[tokio::test]
async fn me_enterprises_shows_todays_state_per_enterprise() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    app.post(
        "/api/v1/sign-ins",
        Some(&zhang),
        json!({"enterprise_id": enterprise, "lat": 27.8885, "lng": 113.1655}),
    )
    .await;
    let mine = app.get("/api/v1/me/enterprises", Some(&zhang)).await;
    assert_eq!(mine.status, 200);
    let items = mine.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    let crrc = items.iter().find(|i| i["id"] == json!(enterprise)).expect("crrc");
    assert_eq!(crrc["sign_in"]["within_geofence"], true);
    assert_eq!(crrc["report"], Value::Null);
}

#[tokio::test]
async fn a_report_naming_an_unknown_category_is_refused_whole() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let mut body = report("走访");
    body["problems"] = json!([
        {"description": "厂区道路需要维修", "category": "logistics"},
        {"description": "招工难", "category": "nonsense"}
    ]);
    let refused = app
        .put(
            &format!("/api/v1/daily-reports/{enterprise}/2026-11-20"),
            Some(&zhang),
            body,
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "problem.unknown_category"),
        "{}",
        refused.text
    );
    // Nothing half-written: neither the report nor its first problem.
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_reports"), 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM problems"), 0);
}

#[tokio::test]
async fn two_first_filings_at_once_make_one_report_and_one_revision() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let path = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    // Two phones of one officer (or a retry with a fresh key) file the day's first report at
    // the same moment: one creates it, the other waits for it and revises it; neither fails.
    for round in 0..5 {
        app.exec("TRUNCATE daily_reports, problems CASCADE");
        let mut a = report("上午走访总装车间");
        a["problems"] = json!([{"description": format!("融资需求：第{round}轮流动资金贷款")}]);
        let b = report("下午走访总装车间");
        let (first, second) = tokio::join!(app.put(&path, Some(&zhang), a), app.put(&path, Some(&zhang), b));
        let mut statuses = [first.status, second.status];
        statuses.sort();
        assert_eq!(statuses, [200, 201], "{} / {}", first.text, second.text);
        assert_eq!(first.body["id"], second.body["id"]);
        assert_eq!(app.count("SELECT count(*) AS n FROM daily_reports"), 1);
        assert_eq!(app.count("SELECT count(*) AS n FROM daily_report_revisions"), 2);
        assert_eq!(app.count("SELECT count(*) AS n FROM problems"), 1);
        let revised = if first.status == 200 { &first } else { &second };
        assert_eq!(revised.body["revision"], 2);
        assert_eq!(revised.body["problem_ids"].as_array().map(Vec::len), Some(1));
    }
}

/// The server's `report_filings_total` of a path, from `/metrics`.
async fn filings(app: &TestApp, path: &str) -> i64 {
    let metrics = app.get("/metrics", None).await;
    metrics
        .text
        .lines()
        .find_map(|line| line.strip_prefix(&format!("zhuqi_report_filings_total{{path=\"{path}\"}} ")))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_first_filing_in_one_statement_writes_what_the_transaction_would() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let path = format!("/api/v1/daily-reports/{enterprise}/2026-11-20");
    let labour_bureau = app.unit_id("ZZ-RSJ").await;
    let mut body = report("走访总装车间");
    body["problems"] = json!([
        {"description": "变压器容量不足，急需增容", "urgency": "urgent"},
        {"description": "焊工缺口三十人，请协助招聘", "departments_requested": [&labour_bureau], "category": "labor"},
        {"description": " 变压器容量不足，急需增容 "}
    ]);
    let first = app
        .keyed(reqwest::Method::PUT, &path, &zhang, "first", &body)
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(filings(&app, "at_once").await, 1);
    let ids = first.body["problem_ids"].as_array().expect("ids").clone();
    assert_eq!(ids.len(), 2, "the same problem twice is filed once");
    let read = app.get(&path, Some(&zhang)).await;
    assert_eq!(read.body, first.body, "the 201 is the report as stored");
    assert_eq!(
        app.text(&format!(
            "SELECT string_agg(p.status || ':' || p.reporter_role || ':' || p.urgency || ':' || \
                    (p.suggested_category IS NOT NULL)::text || ':' || e.event_type || ':' || e.actor_role, ',' \
                    ORDER BY p.urgency) AS t \
               FROM problems p JOIN problem_events e ON e.problem_id = p.id WHERE p.source_report_id = '{}'",
            first.body["id"].as_str().expect("id")
        )),
        "submitted:officer:normal:true:submitted:officer,submitted:officer:urgent:true:submitted:officer"
    );
    assert_eq!(
        app.text(
            "SELECT category || ':' || departments_requested[1]::text AS t FROM problems WHERE category IS NOT NULL"
        ),
        format!("labor:{labour_bureau}")
    );
    assert_eq!(
        app.text("SELECT body->>'work_done' AS t FROM daily_report_revisions WHERE revision = 1"),
        "走访总装车间"
    );
    let replay = app
        .keyed(reqwest::Method::PUT, &path, &zhang, "first", &body)
        .await;
    assert_eq!((replay.status, replay.text.clone()), (201, first.text.clone()));
    assert_eq!(replay.headers["idempotent-replayed"], "true");

    // A revision goes through the transaction: the day's problems stay, a new one is added.
    body["work_done"] = json!("走访总装车间，复核用电");
    body["problems"] = json!([{"description": "厂区道路破损"}]);
    let revised = app.put(&path, Some(&zhang), body).await;
    assert_eq!(
        (revised.status, revised.body["revision"].as_i64()),
        (200, Some(2)),
        "{}",
        revised.text
    );
    assert_eq!(revised.body["problem_ids"].as_array().map(Vec::len), Some(3));
    assert_eq!(filings(&app, "at_once").await, 1);
    assert_eq!(
        filings(&app, "transaction").await,
        2,
        "the replay and the revision"
    );
    // Another officer's first filing on a day they are not assigned is refused as before.
    let li = app.token("officer.li").await;
    let refused = app.put(&path, Some(&li), report("走访")).await;
    assert_eq!((refused.status, refused.code()), (403, "report.not_assigned"));
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_reports"), 1);
}
