//! 交办会: many problems assigned in one sitting, numbered without gaps, with each
//! department's 交办单.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// Files `n` problems at 中车 as its officer; their ids.
async fn file_many(app: &TestApp, n: usize) -> Vec<String> {
    let (officer, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let mut ids = Vec::new();
    for i in 0..n {
        let filed = app
            .post(
                "/api/v1/problems",
                Some(&officer),
                json!({"enterprise_id": enterprise, "description": format!("第{i}号问题：厂区道路破损，货车通行困难")}),
            )
            .await;
        assert_eq!(filed.status, 201, "{}", filed.text);
        ids.push(filed.body["id"].as_str().expect("id").to_owned());
    }
    ids
}

async fn item(app: &TestApp, id: &str, lead: &str, co: &[&str]) -> Value {
    let mut co_handlers = Vec::new();
    for code in co {
        co_handlers.push(json!({ "department_id": app.unit_id(code).await }));
    }
    json!({
        "problem_id": id,
        "category": "utilities",
        "department_id": app.unit_id(lead).await,
        "co_handlers": co_handlers,
        "instructions": "请三个工作日内联系企业",
    })
}

fn numbers(app: &TestApp) -> Vec<String> {
    let mut conn = app.pool.get().expect("conn");
    use diesel::prelude::*;
    diesel::sql_query("SELECT number AS t FROM problems WHERE number IS NOT NULL ORDER BY number")
        .load::<Text>(&mut conn)
        .expect("numbers")
        .into_iter()
        .map(|t| t.t)
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

pub(crate) fn sheet_rows(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("sheet");
            let rows = range
                .rows()
                .map(|r| r.iter().map(ToString::to_string).collect())
                .collect();
            (name, rows)
        })
        .collect()
}

pub(crate) async fn download(app: &TestApp, path: &str, token: &str) -> (u16, Vec<u8>) {
    let (status, bytes, _) = app.bytes(path, token).await;
    (status, bytes)
}

#[tokio::test]
async fn a_meeting_assigns_numbers_and_prints_each_departments_sheet() {
    let app = spawn_app().await;
    app.seed_demo();
    let ids = file_many(&app, 4).await;
    let dispatcher = app.token("hub.dispatcher").await;
    let body = json!({
        "title": "11月第3次交办会",
        "items": [
            item(&app, &ids[0], "ZZ-GDGS", &["ZZ-RSJ"]).await,
            item(&app, &ids[1], "ZZ-GDGS", &[]).await,
            item(&app, &ids[2], "ZZ-RSJ", &["ZZ-GDGS", "ZZ-GXJ"]).await,
            item(&app, &ids[3], "ZZ-JRJ", &[]).await,
        ],
    });
    let held = app.post("/api/v1/hub/assignments", Some(&dispatcher), body).await;
    assert_eq!(held.status, 201, "{}", held.text);
    let items = held.body["items"].as_array().expect("items");
    let got: Vec<&str> = items.iter().filter_map(|i| i["number"].as_str()).collect();
    assert_eq!(
        got,
        [
            "430204-2026-000001",
            "430204-2026-000002",
            "430204-2026-000003",
            "430204-2026-000004"
        ]
    );
    assert_eq!(held.body["failed"], json!([]));
    let sheets: Vec<(String, i64, i64)> = held.body["sheets"]
        .as_array()
        .expect("sheets")
        .iter()
        .map(|s| {
            (
                s["department_name"].as_str().unwrap_or_default().to_owned(),
                s["lead"].as_i64().unwrap_or(-1),
                s["co_handling"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert!(
        sheets.contains(&("国网株洲供电公司".to_owned(), 2, 1)),
        "{sheets:?}"
    );
    assert!(
        sheets.contains(&("株洲市人力资源和社会保障局".to_owned(), 1, 1)),
        "{sheets:?}"
    );
    assert_eq!(sheets.len(), 4);

    let problem = app
        .get(&format!("/api/v1/problems/{}", ids[2]), Some(&dispatcher))
        .await;
    assert_eq!(problem.body["number"], "430204-2026-000003");
    assert_eq!(problem.body["status"], "assigned");
    assert_eq!(problem.body["co_handlers"].as_array().map(Vec::len), Some(2));

    let batch = held.body["id"].as_str().expect("id").to_owned();
    let again = app
        .get(&format!("/api/v1/hub/assignments/{batch}"), Some(&dispatcher))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["items"], held.body["items"]);
    let list = app.get("/api/v1/hub/assignments", Some(&dispatcher)).await;
    assert_eq!(list.body["items"][0]["id"], batch.as_str());
    assert_eq!(list.body["items"][0]["item_count"], 4);

    // The dispatcher prints every department's sheet; a clerk only their own.
    let (status, bytes) = download(
        &app,
        &format!("/api/v1/hub/assignments/{batch}/sheets.xlsx"),
        &dispatcher,
    )
    .await;
    assert_eq!(status, 200);
    let all = sheet_rows(&bytes);
    assert_eq!(all.len(), 4);
    let clerk = app.token("rsj.clerk").await;
    let (status, bytes) = download(
        &app,
        &format!("/api/v1/hub/assignments/{batch}/sheets.xlsx"),
        &clerk,
    )
    .await;
    assert_eq!(status, 200);
    let own = sheet_rows(&bytes);
    assert_eq!(own.len(), 1);
    let (name, rows) = &own[0];
    assert_eq!(name, "株洲市人力资源和社会保障局");
    assert_eq!(rows[0][0], "交 办 单");
    assert!(
        rows[2][0].starts_with("11月第3次交办会（2026-11-20交办，共2项）"),
        "{:?}",
        rows[2]
    );
    assert_eq!(rows[3][1], "交办编号");
    let lines: Vec<(&str, &str)> = rows[4..].iter().map(|r| (r[1].as_str(), r[6].as_str())).collect();
    assert_eq!(
        lines,
        [("430204-2026-000001", "协办"), ("430204-2026-000003", "牵头")]
    );
    assert!(rows[4][2].starts_with("中车株洲电力机车有限公司"));
    let swj = app.token("swj.clerk").await;
    let (status, _) = download(
        &app,
        &format!("/api/v1/hub/assignments/{batch}/sheets.xlsx"),
        &swj,
    )
    .await;
    assert_eq!(status, 404, "a department the meeting gave nothing");
    let officer = app.token("officer.zhang").await;
    let (status, _) = download(
        &app,
        &format!("/api/v1/hub/assignments/{batch}/sheets.xlsx"),
        &officer,
    )
    .await;
    assert_eq!(status, 404);
    let refused = app
        .get(&format!("/api/v1/hub/assignments/{batch}"), Some(&clerk))
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn one_bad_item_refuses_the_whole_meeting_and_takes_no_number() {
    let app = spawn_app().await;
    app.seed_demo();
    let ids = file_many(&app, 3).await;
    let dispatcher = app.token("hub.dispatcher").await;
    let mut not_triaged = item(&app, &ids[1], "ZZ-GDGS", &[]).await;
    not_triaged.as_object_mut().expect("object").remove("category");
    let body = json!({
        "title": "交办会",
        "items": [
            item(&app, &ids[0], "ZZ-GDGS", &[]).await,
            not_triaged,
            item(&app, &ids[2], "ZZ-HUB", &[]).await,
            item(&app, &ids[0], "ZZ-GDGS", &[]).await,
        ],
    });
    let refused = app
        .post("/api/v1/hub/assignments", Some(&dispatcher), body.clone())
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "assignment.items_invalid"),
        "{}",
        refused.text
    );
    let failures: Vec<(i64, &str)> = refused.body["error"]["details"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| {
            (
                f["index"].as_i64().unwrap_or(-1),
                f["code"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        [
            (1, "problem.invalid_transition"),
            (2, "problem.unknown_department"),
            (3, "validation.failed")
        ]
    );
    assert_eq!(
        numbers(&app),
        Vec::<String>::new(),
        "nothing written, no number taken"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM assignment_batches"), 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM problems WHERE status = 'submitted'"),
        3
    );

    // Without all_or_nothing the good item is kept and the others reported.
    let mut partial = body;
    partial["all_or_nothing"] = json!(false);
    let kept = app
        .post("/api/v1/hub/assignments", Some(&dispatcher), partial)
        .await;
    assert_eq!(kept.status, 201, "{}", kept.text);
    assert_eq!(kept.body["item_count"], 1);
    assert_eq!(kept.body["failed"].as_array().map(Vec::len), Some(3));
    assert_eq!(numbers(&app), ["430204-2026-000001"]);
}

#[tokio::test]
async fn a_meeting_is_checked_before_anything_is_tried() {
    let app = spawn_app().await;
    app.seed_demo();
    let dispatcher = app.token("hub.dispatcher").await;
    let ids = file_many(&app, 1).await;
    let one = item(&app, &ids[0], "ZZ-GDGS", &[]).await;
    for (body, field, code) in [
        (json!({"title": " ", "items": [one.clone()]}), "title", "required"),
        (json!({"title": "会", "items": []}), "items", "required"),
        (
            json!({"title": "会", "items": vec![one.clone(); 1001]}),
            "items",
            "too_many",
        ),
    ] {
        let refused = app.post("/api/v1/hub/assignments", Some(&dispatcher), body).await;
        assert_eq!((refused.status, refused.code()), (422, "validation.failed"));
        assert_eq!(refused.body["error"]["details"]["errors"][0]["field"], field);
        assert_eq!(refused.body["error"]["details"]["errors"][0]["code"], code);
    }
    let clerk = app.token("gdgs.clerk").await;
    let forbidden = app
        .post(
            "/api/v1/hub/assignments",
            Some(&clerk),
            json!({"title": "会", "items": [one]}),
        )
        .await;
    assert_eq!(forbidden.status, 403);
}

#[tokio::test]
async fn numbers_have_no_gaps_under_concurrent_assignment() {
    let app = spawn_app().await;
    app.seed_demo();
    let ids = file_many(&app, 24).await;
    let dispatcher = app.token("hub.dispatcher").await;
    let mut meetings = Vec::new();
    for (m, chunk) in ids.chunks(6).enumerate() {
        let mut items = Vec::new();
        for id in chunk {
            items.push(item(&app, id, "ZZ-GDGS", &["ZZ-RSJ"]).await);
        }
        // The last meeting fails at its last item, after numbering the others: its numbers
        // must come back.
        if m == 3 {
            items.last_mut().expect("item")["department_id"] = json!(app.unit_id("ZZ-HUB").await);
        }
        meetings.push(json!({ "title": format!("第{m}次交办会"), "items": items }));
    }
    let sends = meetings
        .iter()
        .map(|body| app.post("/api/v1/hub/assignments", Some(&dispatcher), body.clone()));
    let replies = futures_util::future::join_all(sends).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 201, 201, 422]);
    let expected: Vec<String> = (1..=18).map(|n| format!("430204-2026-{n:06}")).collect();
    assert_eq!(numbers(&app), expected);
}

#[tokio::test]
async fn the_demo_city_has_a_meeting_of_thirty_a_task_force_and_benefits() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let list = app.get("/api/v1/hub/assignments", Some(&dispatcher)).await;
    assert_eq!(list.status, 200);
    let meeting = &list.body["items"][0];
    assert_eq!(meeting["item_count"], 30);
    let id = meeting["id"].as_str().expect("id");
    let full = app
        .get(&format!("/api/v1/hub/assignments/{id}"), Some(&dispatcher))
        .await;
    let co_handled = full.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["co_handler_ids"].as_array().is_some_and(|c| !c.is_empty()))
        .count();
    assert_eq!(co_handled, 10);
    let (status, bytes) = download(
        &app,
        &format!("/api/v1/hub/assignments/{id}/sheets.xlsx"),
        &dispatcher,
    )
    .await;
    assert_eq!(status, 200);
    assert!(sheet_rows(&bytes).len() >= 3);
    // And a task force owning the two 中车 companies, whose leader sees their problems.
    let forces = app.get("/api/v1/task-forces", Some(&dispatcher)).await;
    assert_eq!(forces.body["items"][0]["name"], "轨道交通装备专班");
    assert_eq!(forces.body["items"][0]["figures"]["enterprises"], 2);
    let leader = app.token("czj.admin").await;
    let id = forces.body["items"][0]["id"].as_str().expect("id");
    let owned = app
        .get(&format!("/api/v1/task-forces/{id}/problems"), Some(&leader))
        .await;
    assert!(!owned.body["items"].as_array().expect("items").is_empty());
    // Resolved demo problems state what they were worth.
    let benefits = app
        .get(
            "/api/v1/stats/benefits?from=2026-11-01&to=2026-11-30",
            Some(&dispatcher),
        )
        .await;
    assert!(
        benefits.body["totals"]["problems"].as_i64().unwrap_or(0) > 0,
        "{}",
        benefits.text
    );
}

#[tokio::test]
async fn a_keyed_meeting_larger_than_an_ordinary_body_is_held_once() {
    let app = spawn_app().await;
    app.seed_demo();
    let ids = file_many(&app, 12).await;
    let dispatcher = app.token("hub.dispatcher").await;
    let mut items = Vec::new();
    for id in &ids {
        let mut one = item(&app, id, "ZZ-GDGS", &[]).await;
        one["instructions"] = json!("请".repeat(2000));
        items.push(one);
    }
    let body = json!({ "title": "长篇交办意见的交办会", "items": items });
    assert!(
        body.to_string().len() > 64 * 1024,
        "above the ordinary routes' limit"
    );
    let key = uuid::Uuid::new_v4().to_string();
    let first = app
        .keyed(
            reqwest::Method::POST,
            "/api/v1/hub/assignments",
            &dispatcher,
            &key,
            &body,
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = app
        .keyed(
            reqwest::Method::POST,
            "/api/v1/hub/assignments",
            &dispatcher,
            &key,
            &body,
        )
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.count("SELECT count(*) AS n FROM assignment_batches"), 1);
    assert_eq!(numbers(&app).len(), 12);
}

#[tokio::test]
async fn a_meetings_triage_teaches_the_classifier_as_a_single_triage_does() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    // A phrase the shipped corpus has never seen, confirmed by the meeting as 物流交通.
    let novel = "嘉禾物流园夜间卸货许可卡点";
    let file = |officer: String, enterprise: String| {
        let app = &app;
        async move {
            let filed = app
                .post(
                    "/api/v1/problems",
                    Some(&officer),
                    json!({"enterprise_id": enterprise, "description": novel}),
                )
                .await;
            assert_eq!(filed.status, 201, "{}", filed.text);
            filed.body
        }
    };
    let before = file(officer.clone(), enterprise.clone()).await;
    let department = app.unit_id("ZZ-GDGS").await;
    let mut items =
        vec![json!({"problem_id": before["id"], "category": "logistics", "department_id": department})];
    for _ in 0..2 {
        let filed = file(officer.clone(), enterprise.clone()).await;
        items.push(json!({"problem_id": filed["id"], "category": "logistics", "department_id": department}));
    }
    let dispatcher = app.token("hub.dispatcher").await;
    let held = app
        .post(
            "/api/v1/hub/assignments",
            Some(&dispatcher),
            json!({"title": "物流专题交办会", "items": items}),
        )
        .await;
    assert_eq!(held.status, 201, "{}", held.text);
    // The same text is suggested with more confidence than before the meeting (the classifier
    // is deterministic: without learning, the two would be equal).
    let after = file(officer, enterprise).await;
    assert_eq!(after["suggested_category"], "logistics", "{after}");
    let confidence = |p: &Value| p["confidence"].as_f64().expect("confidence");
    assert!(confidence(&after) > confidence(&before), "{before} vs {after}");
}

#[tokio::test]
async fn two_meetings_naming_the_same_problems_in_opposite_orders_queue_instead_of_deadlocking() {
    let app = spawn_app().await;
    app.seed_demo();
    let dispatcher = app.token("hub.dispatcher").await;
    for round in 0..3 {
        let ids = file_many(&app, 12).await;
        let mut items = Vec::new();
        for id in &ids {
            items.push(item(&app, id, "ZZ-GDGS", &[]).await);
        }
        let forward = json!({ "title": format!("第{round}轮甲"), "items": items });
        items.reverse();
        let backward = json!({ "title": format!("第{round}轮乙"), "items": items });
        let (a, b) = futures_util::future::join(
            app.post("/api/v1/hub/assignments", Some(&dispatcher), forward),
            app.post("/api/v1/hub/assignments", Some(&dispatcher), backward),
        )
        .await;
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 422], "round {round}: {} / {}", a.text, b.text);
        let refused = if a.status == 422 { &a } else { &b };
        assert_eq!(refused.code(), "assignment.items_invalid");
    }
}
