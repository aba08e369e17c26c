use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_officer_files_a_problem_that_others_cannot_see() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let enterprise = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let zhang = app.token("officer.zhang").await;
    let filed = app
        .post("/api/v1/problems", Some(&zhang), json!({"enterprise_id": enterprise, "title": "专线供电", "description": "二车间专线频繁跳闸，影响生产", "urgency": "urgent"}))
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    assert_eq!(filed.body["status"], "submitted");
    assert_eq!(filed.body["reporter_role"], "officer");
    assert_eq!(filed.body["description"], "二车间专线频繁跳闸，影响生产");
    assert!(filed.body.get("suggested_category").is_some() && filed.body.get("confidence").is_some());
    assert_eq!(filed.body["timeline"].as_array().map(Vec::len), Some(1));
    let id = filed.body["id"].as_str().expect("id");
    let li = app.token("officer.li").await;
    assert_eq!(
        app.get(&format!("/api/v1/problems/{id}"), Some(&li)).await.status,
        404
    );
    assert_eq!(
        app.get("/api/v1/problems", Some(&li)).await.body["items"],
        json!([])
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let queue = app
        .get("/api/v1/problems?status=submitted", Some(&dispatcher))
        .await;
    assert_eq!(queue.body["items"][0]["id"], id);
    let elsewhere = app
        .get("/api/v1/problems?region_code=430281", Some(&dispatcher))
        .await;
    assert_eq!(elsewhere.body["items"], json!([]));
}

#[tokio::test]
async fn an_enterprise_contact_files_for_their_own_enterprise_only() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let own = app.enterprise_id(&admin, "株洲千金药业").await;
    let other = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let contact = app.token("qianjin.contact").await;
    let filed = app
        .post(
            "/api/v1/problems",
            Some(&contact),
            json!({"enterprise_id": own, "description": "新厂房消防验收进度慢"}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    assert_eq!(filed.body["reporter_role"], "enterprise");
    let refused = app
        .post(
            "/api/v1/problems",
            Some(&contact),
            json!({"enterprise_id": other, "description": "x"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "problem.not_your_enterprise")
    );
    // The officer who looks after 千金药业 sees what its contact filed.
    let li = app.token("officer.li").await;
    assert_eq!(
        app.get("/api/v1/problems", Some(&li)).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let department = app.token("rsj.clerk").await;
    let wrong_role = app
        .post(
            "/api/v1/problems",
            Some(&department),
            json!({"enterprise_id": own, "description": "x"}),
        )
        .await;
    assert_eq!(wrong_role.status, 403);
    let bad = app
        .post(
            "/api/v1/problems",
            Some(&contact),
            json!({"enterprise_id": own, "description": "x", "colour": "red"}),
        )
        .await;
    assert_eq!(bad.code(), "request.invalid_body");
}

#[tokio::test]
async fn problem_lists_page_newest_first() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let enterprise = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let zhang = app.token("officer.zhang").await;
    for i in 0..5 {
        app.clock.advance(chrono::Duration::minutes(1));
        app.post(
            "/api/v1/problems",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "description": format!("问题{i}")}),
        )
        .await;
    }
    let first = app.get("/api/v1/problems?limit=3", Some(&zhang)).await;
    assert_eq!(first.body["items"][0]["description"], "问题4");
    let cursor = first.body["next_cursor"].as_str().expect("more");
    let second = app
        .get(&format!("/api/v1/problems?limit=3&cursor={cursor}"), Some(&zhang))
        .await;
    let rest: Vec<&str> = second.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["description"].as_str())
        .collect();
    assert_eq!(rest, ["问题1", "问题0"]);
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_list_without_a_limit_returns_twenty_and_a_cursor() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let enterprise = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let zhang = app.token("officer.zhang").await;
    for i in 0..21 {
        app.post(
            "/api/v1/problems",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "description": format!("第{i}个问题")}),
        )
        .await;
    }
    let page = app.get("/api/v1/problems", Some(&zhang)).await;
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(20));
    assert!(page.body["next_cursor"].is_string());
}
