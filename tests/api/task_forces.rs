//! 专班: task forces own enterprises; their leader reads and dispatches those problems.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::lifecycle::file;

async fn user_id(app: &TestApp, username: &str) -> String {
    app.text(&format!(
        "SELECT id::text AS t FROM users WHERE username = '{username}'"
    ))
}

/// 中车 task force: led by czj.admin, with 人社局 and 供电公司, officer.zhang, owning 中车.
async fn create(app: &TestApp) -> Value {
    let admin = app.token("demo.admin").await;
    let body = json!({
        "name": "轨道交通装备专班",
        "leader_id": user_id(app, "czj.admin").await,
        "department_ids": [app.unit_id("ZZ-RSJ").await, app.unit_id("ZZ-GDGS").await],
        "officer_ids": [user_id(app, "officer.zhang").await],
        "enterprise_ids": [app.crrc().await],
    });
    let created = app.post("/api/v1/admin/task-forces", Some(&admin), body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.body
}

#[tokio::test]
async fn a_task_force_is_checked_whole_and_an_enterprise_has_at_most_one() {
    let app = spawn_app().await;
    app.seed_demo();
    let created = create(&app).await;
    assert_eq!(created["figures"]["enterprises"], 1);
    assert_eq!(created["region_code"], "430200");
    let admin = app.token("demo.admin").await;
    let crrc = app.crrc().await;
    let body = json!({
        "name": "  ",
        "leader_id": uuid::Uuid::new_v4(),
        "department_ids": [app.unit_id("ZZ-HUB").await],
        "officer_ids": [user_id(&app, "gdgs.clerk").await],
        "enterprise_ids": [crrc, crrc],
    });
    let refused = app.post("/api/v1/admin/task-forces", Some(&admin), body).await;
    let fields: Vec<(&str, &str)> = refused.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or_default(),
                e["code"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        fields,
        [
            ("name", "required"),
            ("leader_id", "unknown"),
            ("department_ids[0]", "unknown"),
            ("officer_ids[0]", "unknown"),
            ("enterprise_ids[0]", "unknown"),
            ("enterprise_ids[1]", "duplicate"),
        ]
    );
    let again = app
        .post(
            "/api/v1/admin/task-forces",
            Some(&admin),
            json!({"name": "轨道交通装备专班", "leader_id": user_id(&app, "czj.admin").await,
                   "enterprise_ids": [app.enterprise_id(&admin, "中国航发南方工业有限公司").await]}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "conflict.duplicate"));
    let dispatcher = app.token("hub.dispatcher").await;
    let not_admin = app
        .post(
            "/api/v1/admin/task-forces",
            Some(&dispatcher),
            json!({"name": "x", "leader_id": crrc, "enterprise_ids": [crrc]}),
        )
        .await;
    assert_eq!(not_admin.status, 403);
    assert_eq!(app.count("SELECT count(*) AS n FROM task_forces"), 1);
}

#[tokio::test]
async fn the_leader_sees_and_dispatches_the_task_forces_problems_and_no_others() {
    let app = spawn_app().await;
    app.seed_demo();
    let force = create(&app).await;
    let id = force["id"].as_str().expect("id").to_owned();
    let owned = file(&app, "订单激增，急需焊工30名").await;
    let (officer, other_enterprise) = app.officer_at("株洲旗滨玻璃有限公司").await;
    let elsewhere = app
        .post(
            "/api/v1/problems",
            Some(&officer),
            json!({"enterprise_id": other_enterprise, "description": "药品注册审批慢"}),
        )
        .await;
    let elsewhere = elsewhere.body["id"].as_str().expect("id").to_owned();

    let leader = app.token("czj.admin").await;
    let read = app.get(&format!("/api/v1/problems/{owned}"), Some(&leader)).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(
        read.body["task_force"],
        json!({"id": id, "name": "轨道交通装备专班"})
    );
    // The leader assigns it, as the hub would.
    let assigned = app
        .triage_and_assign(&leader, &owned, "labor", "ZZ-RSJ", None)
        .await;
    assert_eq!(assigned.status, "assigned");
    // Another enterprise's problem is not theirs to read or dispatch.
    let hidden = app
        .get(&format!("/api/v1/problems/{elsewhere}"), Some(&leader))
        .await;
    assert_eq!(hidden.status, 404);
    let refused = app
        .post(
            &format!("/api/v1/problems/{elsewhere}/triage"),
            Some(&leader),
            json!({"category": "approval"}),
        )
        .await;
    assert_eq!(refused.status, 404);
    let dispatcher = app.token("hub.dispatcher").await;
    let other = app
        .get(&format!("/api/v1/problems/{elsewhere}"), Some(&dispatcher))
        .await;
    assert_eq!(other.body["task_force"], Value::Null);

    let list = app
        .get(&format!("/api/v1/task-forces/{id}/problems"), Some(&leader))
        .await;
    assert_eq!(list.status, 200);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, [owned.as_str()]);
    let figures = app.get(&format!("/api/v1/task-forces/{id}"), Some(&leader)).await;
    assert_eq!(
        figures.body["figures"],
        json!({"enterprises": 1, "problems": 1, "open": 1, "overdue": 0, "closed": 0})
    );
    // The member officer reads it too; an officer outside it and a department do not.
    let zhang = app.token("officer.zhang").await;
    assert_eq!(
        app.get(&format!("/api/v1/task-forces/{id}"), Some(&zhang))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/api/v1/task-forces", Some(&zhang)).await.body["items"][0]["id"],
        id.as_str()
    );
    let li = app.token("officer.wang").await;
    assert_eq!(
        app.get(&format!("/api/v1/task-forces/{id}/problems"), Some(&li))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/api/v1/task-forces", Some(&li)).await.body["items"],
        json!([])
    );
    let clerk = app.token("rsj.clerk").await;
    assert_eq!(
        app.get(&format!("/api/v1/task-forces/{id}"), Some(&clerk))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get("/api/v1/task-forces", Some(&dispatcher)).await.body["items"][0]["name"],
        "轨道交通装备专班"
    );
}

#[tokio::test]
async fn a_task_force_is_changed_whole_counted_in_the_stats_and_dissolved() {
    let app = spawn_app().await;
    app.seed_demo();
    let force = create(&app).await;
    let id = force["id"].as_str().expect("id").to_owned();
    let owned = file(&app, "订单激增，急需焊工30名").await;
    let admin = app.token("demo.admin").await;
    let dispatcher = app.token("hub.dispatcher").await;
    let stats_path = "/api/v1/stats/task-forces?from=2026-11-01&to=2026-11-30";
    let stats = app.get(stats_path, Some(&dispatcher)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    let row = &stats.body["items"][0];
    assert_eq!(
        (row["name"].as_str(), row["leader_name"].as_str()),
        (Some("轨道交通装备专班"), Some("陈管理"))
    );
    assert_eq!(
        (row["enterprises"].as_i64(), row["problems"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(row["resolution_rate"], 0.0);
    assert_eq!(row["on_time_rate"], Value::Null);

    // Changed whole: renamed, a second enterprise, no officers; faults listed as on creation.
    let nanfang = app.enterprise_id(&admin, "中国航发南方工业有限公司").await;
    let path = format!("/api/v1/admin/task-forces/{id}");
    let body = json!({"name": "轨道交通与航空装备专班", "leader_id": user_id(&app, "czj.admin").await,
                      "department_ids": [app.unit_id("ZZ-RSJ").await],
                      "enterprise_ids": [app.crrc().await, nanfang]});
    let changed = app.put(&path, Some(&admin), body.clone()).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["name"], "轨道交通与航空装备专班");
    assert_eq!(changed.body["officer_ids"], json!([]));
    assert_eq!(changed.body["figures"]["enterprises"], 2);
    let bad = app
        .put(
            &path,
            Some(&admin),
            json!({"name": "", "leader_id": user_id(&app, "czj.admin").await, "enterprise_ids": []}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "validation.failed"));
    assert_eq!(
        app.text(&format!("SELECT name AS t FROM task_forces WHERE id = '{id}'")),
        "轨道交通与航空装备专班",
        "nothing half-written"
    );
    let unknown = app
        .put(
            &format!("/api/v1/admin/task-forces/{}", uuid::Uuid::new_v4()),
            Some(&admin),
            body.clone(),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    assert_eq!(app.put(&path, Some(&dispatcher), body).await.status, 403);
    // Another task force cannot take 中车 while this one owns it.
    let rival = app
        .post(
            "/api/v1/admin/task-forces",
            Some(&admin),
            json!({"name": "另一个专班", "leader_id": user_id(&app, "czj.admin").await, "enterprise_ids": [app.crrc().await]}),
        )
        .await;
    assert_eq!((rival.status, rival.code()), (422, "validation.failed"));
    // The stats follow the change at once (the admin write retires cached answers).
    let stats = app.get(stats_path, Some(&dispatcher)).await;
    assert_eq!(stats.body["items"][0]["name"], "轨道交通与航空装备专班");
    assert_eq!(stats.body["items"][0]["enterprises"], 2);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'task_force.%'"),
        2
    );

    // Dissolved once however often it is sent with its key; then gone for everyone.
    let dissolve = format!("/api/v1/admin/task-forces/{id}/dissolve");
    let first = app
        .keyed(reqwest::Method::POST, &dissolve, &admin, "dissolve-1", &json!({}))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["name"], "轨道交通与航空装备专班");
    let replay = app
        .keyed(reqwest::Method::POST, &dissolve, &admin, "dissolve-1", &json!({}))
        .await;
    assert_eq!((replay.status, &replay.body), (200, &first.body));
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    let bare = app
        .send(app.client.post(app.url(&dissolve)).bearer_auth(&admin))
        .await;
    assert_eq!(
        (bare.status, bare.code()),
        (404, "not_found"),
        "already dissolved"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM task_force_enterprises"), 0);
    let problem = app
        .get(&format!("/api/v1/problems/{owned}"), Some(&dispatcher))
        .await;
    assert_eq!(problem.body["task_force"], Value::Null);
    let leader = app.token("czj.admin").await;
    assert_eq!(
        app.get(&format!("/api/v1/task-forces/{id}"), Some(&leader))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(stats_path, Some(&dispatcher)).await.body["items"],
        json!([])
    );
    // 中车 is free for another task force.
    let freed = app
        .post(
            "/api/v1/admin/task-forces",
            Some(&admin),
            json!({"name": "另一个专班", "leader_id": user_id(&app, "czj.admin").await, "enterprise_ids": [app.crrc().await]}),
        )
        .await;
    assert_eq!(freed.status, 201, "{}", freed.text);
}
