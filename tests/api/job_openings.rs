//! 用工需求: openings kept by the enterprise's officer or contact, checked whole, read by whoever
//! reads the enterprise, and summed and exported for the human-resources bureau.

use serde_json::{json, Value};

use crate::assignment_meetings::{download, sheet_rows};
use crate::helpers::{spawn_app, TestApp};

fn opening(job_type: &str, positions: i64, filled: i64) -> Value {
    json!({"job_type": job_type, "positions": positions, "filled": filled,
           "wage_min": 6000, "wage_max": 9000, "deadline": "2026-12-31", "note": "需持证上岗"})
}

async fn record(app: &TestApp, token: &str, enterprise: &str, body: Value) -> Value {
    let created = app
        .post(
            &format!("/api/v1/enterprises/{enterprise}/job-openings"),
            Some(token),
            body,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body
}

fn fields(reply: &crate::helpers::Reply) -> Vec<&str> {
    reply.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect()
}

#[tokio::test]
async fn openings_are_kept_by_the_officer_or_contact_and_checked_whole() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, crrc) = app.officer_at("中车株洲电力机车有限公司").await;
    let welders = record(
        &app,
        &officer,
        &crrc,
        json!({"job_type": "welder", "title": " 二保焊焊工 ", "positions": 30, "filled": 12,
        "wage_min": 6000, "wage_max": 9000, "deadline": "2026-12-31"}),
    )
    .await;
    assert_eq!(
        (
            welders["status"].as_str(),
            welders["to_fill"].as_i64(),
            welders["title"].as_str()
        ),
        (Some("partly_filled"), Some(18), Some("二保焊焊工"))
    );
    assert_eq!(welders["job_type_label"], "电焊工");

    let path = format!("/api/v1/enterprises/{crrc}/job-openings");
    let bad = app
        .post(
            &path,
            Some(&officer),
            json!({"job_type": "welder", "positions": 0, "filled": 5, "wage_min": 9000, "wage_max": 6000}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "validation.failed"));
    assert_eq!(fields(&bad), ["positions", "filled", "wage_max"]);
    let unknown = app
        .post(
            &path,
            Some(&officer),
            json!({"job_type": "astronaut", "positions": 1}),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (400, "request.invalid_body"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM job_openings"),
        1,
        "nothing half-written"
    );
    // A retry with the same key is the same opening, once.
    let first = app
        .keyed(
            reqwest::Method::POST,
            &path,
            &officer,
            "opening-1",
            &opening("driver", 2, 0),
        )
        .await;
    let again = app
        .keyed(
            reqwest::Method::POST,
            &path,
            &officer,
            "opening-1",
            &opening("driver", 2, 0),
        )
        .await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.count("SELECT count(*) AS n FROM job_openings"), 2);

    // Kept current whole: all filled, then withdrawn.
    let id = welders["id"].as_str().expect("id");
    let put_path = format!("/api/v1/job-openings/{id}");
    let filled = app
        .put(
            &put_path,
            Some(&officer),
            json!({"job_type": "welder", "positions": 30, "filled": 30}),
        )
        .await;
    assert_eq!(filled.status, 200, "{}", filled.text);
    assert_eq!(
        (filled.body["status"].as_str(), filled.body["wage_min"].as_i64()),
        (Some("filled"), None)
    );
    let over = app
        .put(
            &put_path,
            Some(&officer),
            json!({"job_type": "welder", "positions": 30, "filled": 31}),
        )
        .await;
    assert_eq!(fields(&over), ["filled"]);

    // Who reads and who keeps: another enterprise's officer sees nothing; the hub reads but
    // does not keep; the enterprise's own contact keeps its own.
    let wang = app.token("officer.wang").await;
    assert_eq!(app.get(&path, Some(&wang)).await.status, 404);
    let stranger = app.post(&path, Some(&wang), opening("welder", 1, 0)).await;
    assert_eq!((stranger.status, stranger.code()), (404, "not_found"));
    assert_eq!(
        app.put(&put_path, Some(&wang), opening("welder", 1, 0))
            .await
            .status,
        404
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let list = app.get(&path, Some(&dispatcher)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    // Both were recorded at the same (test-clock) instant: compare them in any order.
    let mut listed: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    listed.sort_unstable();
    let mut expected = [first.body["id"].as_str().expect("id"), id];
    expected.sort_unstable();
    assert_eq!(listed, expected);
    let hub_write = app.post(&path, Some(&dispatcher), opening("welder", 1, 0)).await;
    assert_eq!((hub_write.status, hub_write.code()), (403, "auth.role_required"));
    let qianjin = app.text("SELECT id::text AS t FROM enterprises WHERE name = '株洲千金药业股份有限公司'");
    let contact = app.token("qianjin.contact").await;
    record(&app, &contact, &qianjin, opening("general_worker", 10, 0)).await;
    assert_eq!(
        app.get(&path, Some(&contact)).await.status,
        404,
        "not their enterprise"
    );
}

#[tokio::test]
async fn the_bureau_gets_the_openings_summed_and_in_a_ledger() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, crrc) = app.officer_at("中车株洲电力机车有限公司").await;
    record(&app, &officer, &crrc, opening("welder", 30, 30)).await;
    record(&app, &officer, &crrc, opening("general_worker", 10, 2)).await;
    let withdrawn = json!({"job_type": "sales", "positions": 4, "withdrawn": true});
    record(&app, &officer, &crrc, withdrawn).await;
    let (wang, qibin) = app.officer_at("株洲旗滨玻璃有限公司").await;
    record(&app, &wang, &qibin, opening("technician", 5, 0)).await;

    // Hand-computed: withdrawn left out; 45 sought, 32 filled, 13 to fill at two enterprises.
    let clerk = app.token("rsj.clerk").await;
    let stats = app.get("/api/v1/stats/jobs", Some(&clerk)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert_eq!(
        stats.body["totals"],
        json!({"openings": 3, "positions": 45, "filled": 32, "to_fill": 13})
    );
    assert_eq!(stats.body["enterprises_seeking"], 2);
    let by_type: Vec<(&str, i64)> = stats.body["by_job_type"]
        .as_array()
        .expect("by_job_type")
        .iter()
        .map(|t| {
            (
                t["job_type"].as_str().unwrap_or_default(),
                t["to_fill"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(by_type, [("general_worker", 8), ("technician", 5), ("welder", 0)]);
    let regions: Vec<&str> = stats.body["by_region"]
        .as_array()
        .expect("by_region")
        .iter()
        .filter_map(|r| r["region_code"].as_str())
        .collect();
    assert_eq!(regions, ["430204", "430281"]);
    let district = app
        .get("/api/v1/stats/jobs?region_code=430281", Some(&clerk))
        .await;
    assert_eq!(
        district.body["totals"],
        json!({"openings": 1, "positions": 5, "filled": 0, "to_fill": 5})
    );
    let refused = app.get("/api/v1/stats/jobs", Some(&officer)).await;
    assert_eq!((refused.status, refused.code()), (403, "stats.forbidden"));

    let (status, bytes) = download(&app, "/api/v1/exports/job-openings.xlsx", &clerk).await;
    assert_eq!(status, 200);
    let sheets = sheet_rows(&bytes);
    let (name, rows) = &sheets[0];
    assert_eq!(name, "用工需求");
    assert_eq!(rows[0][0], "企业");
    assert_eq!(rows.len(), 5, "a header and every opening, withdrawn too");
    let statuses: Vec<&str> = rows[1..].iter().map(|r| r[9].as_str()).collect();
    assert!(
        statuses.contains(&"已撤销") && statuses.contains(&"已招满"),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_demo_city_has_openings_at_three_enterprises() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    let stats = app.get("/api/v1/stats/jobs", Some(&dispatcher)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert_eq!(
        stats.body["totals"],
        json!({"openings": 4, "positions": 58, "filled": 20, "to_fill": 38})
    );
    assert_eq!(stats.body["enterprises_seeking"], 2);
}

#[tokio::test]
async fn the_report_draft_shows_the_openings_still_recruiting_beside_the_shortage() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, crrc) = app.officer_at("中车株洲电力机车有限公司").await;
    let draft_path = format!("/api/v1/daily-reports/{crrc}/2026-11-20/draft");
    let before = app.get(&draft_path, Some(&officer)).await;
    assert_eq!(before.body["job_openings"], json!({"openings": 0, "to_fill": 0}));

    record(&app, &officer, &crrc, opening("welder", 30, 12)).await;
    record(&app, &officer, &crrc, opening("technician", 5, 0)).await;
    // Neither filled, withdrawn nor past its deadline counts.
    record(&app, &officer, &crrc, opening("driver", 3, 3)).await;
    let withdrawn = record(&app, &officer, &crrc, opening("inspector", 4, 0)).await;
    let mut body = opening("inspector", 4, 0);
    body["withdrawn"] = json!(true);
    let put = app
        .put(
            &format!("/api/v1/job-openings/{}", withdrawn["id"].as_str().expect("id")),
            Some(&officer),
            body,
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let mut lapsed = opening("mechanic", 6, 0);
    lapsed["deadline"] = json!("2026-11-19");
    record(&app, &officer, &crrc, lapsed).await;

    let draft = app.get(&draft_path, Some(&officer)).await;
    assert_eq!(draft.body["job_openings"], json!({"openings": 2, "to_fill": 23}));
    let today = app.get("/api/v1/me/today", Some(&officer)).await;
    let item = today.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == crrc.as_str())
        .expect("中车 on the home screen");
    assert_eq!(
        item["draft"]["job_openings"],
        json!({"openings": 2, "to_fill": 23})
    );
}
