//! 牵头 / 协办: a lead department with co-handling departments, each on its own deadline.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use zhuqi::jobs::escalate;

use crate::helpers::{spawn_app, TestApp};
use crate::lifecycle::file;

/// Files a problem at 中车, triages it as `utilities` and assigns it to 供电公司 as lead with
/// 人社局 (contact in 2 working days) and 工信局 (the default 3) co-handling. Returns its id.
async fn co_handled(app: &TestApp) -> String {
    let id = file(app, "厂区变压器容量不足，扩产线需增容，同时缺电工20名").await;
    let dispatcher = app.token("hub.dispatcher").await;
    app.act(&dispatcher, &id, "triage", json!({ "category": "utilities" }))
        .await;
    let body = json!({
        "department_id": app.unit_id("ZZ-GDGS").await,
        "due_working_days": 10,
        "co_handlers": [
            { "department_id": app.unit_id("ZZ-RSJ").await, "contact_working_days": 2 },
            { "department_id": app.unit_id("ZZ-GXJ").await },
        ],
    });
    let assigned = app.act(&dispatcher, &id, "assign", body).await;
    assert_eq!(assigned.status, "assigned");
    id
}

async fn problem(app: &TestApp, token: &str, id: &str) -> Value {
    let read = app.get(&format!("/api/v1/problems/{id}"), Some(token)).await;
    assert_eq!(read.status, 200, "{}", read.text);
    read.body
}

fn co_status(problem: &Value, name: &str) -> String {
    problem["co_handlers"]
        .as_array()
        .expect("co_handlers")
        .iter()
        .find(|c| c["department_name"] == name)
        .map(|c| c["status"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn co_handlers_sign_for_and_give_opinions_before_the_lead_responds_for_all() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = co_handled(&app).await;
    let (lead, rsj, gxj) = (
        app.token("gdgs.clerk").await,
        app.token("rsj.clerk").await,
        app.token("gxj.clerk").await,
    );
    let read = problem(&app, &rsj, &id).await;
    let co = read["co_handlers"].as_array().expect("co_handlers");
    assert_eq!(co.len(), 2);
    assert_eq!(co[0]["department_name"], "株洲市人力资源和社会保障局");
    assert_eq!(co[0]["contact_working_days"], 2);
    assert_eq!(co[1]["contact_working_days"], 3);
    // Friday 2026-11-20: two working days is Tuesday, three is Wednesday.
    assert_eq!(co[0]["contact_due_at"], "2026-11-24T23:59:59+08:00");
    assert_eq!(co[1]["contact_due_at"], "2026-11-25T23:59:59+08:00");
    assert_eq!(co[0]["due_at"], read["due_at"]);

    // A co-handler is not the lead: the lead's actions stay the lead's.
    let not_lead = app
        .post(&format!("/api/v1/problems/{id}/accept"), Some(&rsj), json!({}))
        .await;
    assert_eq!((not_lead.status, not_lead.code()), (403, "problem.not_allowed"));
    // And the lead is not a co-handler.
    let not_co = app
        .post(
            &format!("/api/v1/problems/{id}/co-handling/opinion"),
            Some(&lead),
            json!({"opinion": "x"}),
        )
        .await;
    assert_eq!((not_co.status, not_co.code()), (403, "problem.not_allowed"));

    app.act(&lead, &id, "accept", json!({})).await;
    app.act(&rsj, &id, "co-handling/accept", json!({})).await;
    let twice = app
        .post(
            &format!("/api/v1/problems/{id}/co-handling/accept"),
            Some(&rsj),
            json!({}),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (409, "problem.invalid_transition"));

    let early = app
        .post(
            &format!("/api/v1/problems/{id}/respond"),
            Some(&lead),
            json!({"resolution": "已完成增容", "outcome": "resolved"}),
        )
        .await;
    assert_eq!(
        (early.status, early.code()),
        (409, "problem.co_opinions_pending"),
        "{}",
        early.text
    );
    assert_eq!(
        early.body["error"]["details"]["departments"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    let opinion = "已对接职业技术学院，定向输送电工20名";
    let after = app
        .act(&rsj, &id, "co-handling/opinion", json!({"opinion": opinion}))
        .await;
    assert_eq!(after.events().last(), Some(&"co_opinion"));
    assert_eq!(
        after.timeline.last().and_then(|e| e.note.clone()).as_deref(),
        Some(opinion)
    );
    // 工信局 opines without signing first: the opinion counts as its contact.
    app.act(
        &gxj,
        &id,
        "co-handling/opinion",
        json!({"opinion": "纳入重点项目协调"}),
    )
    .await;

    let read = problem(&app, &lead, &id).await;
    assert_eq!(co_status(&read, "株洲市人力资源和社会保障局"), "opined");
    assert_eq!(read["co_handlers"][0]["opinion"], opinion);
    assert!(read["co_handlers"][1]["contacted_at"].is_string());

    let responded = app
        .act(
            &lead,
            &id,
            "respond",
            json!({"resolution": "已完成增容，电工已到岗", "outcome": "resolved"}),
        )
        .await;
    assert_eq!(responded.status, "responded");
    let details = responded
        .timeline
        .last()
        .and_then(|e| e.details.clone())
        .expect("details");
    assert_eq!(details["co_opinions"].as_array().map(Vec::len), Some(2));
    let kinds = responded.events();
    assert_eq!(
        kinds,
        [
            "submitted",
            "triaged",
            "assigned",
            "accepted",
            "co_accepted",
            "co_opinion",
            "co_opinion",
            "responded"
        ]
    );
    // Each co-handler heard of the assignment as the lead did, with its own contact date.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'problem.assigned' AND payload->>'role' = 'co_handler'"),
        2
    );
}

#[tokio::test]
async fn a_co_handler_that_returns_its_part_no_longer_holds_up_the_lead() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = co_handled(&app).await;
    let (lead, rsj, gxj) = (
        app.token("gdgs.clerk").await,
        app.token("rsj.clerk").await,
        app.token("gxj.clerk").await,
    );
    app.act(&lead, &id, "accept", json!({})).await;
    let blank = app
        .post(
            &format!("/api/v1/problems/{id}/co-handling/return"),
            Some(&gxj),
            json!({"reason": "  "}),
        )
        .await;
    assert_eq!((blank.status, blank.code()), (422, "validation.failed"));
    app.act(
        &gxj,
        &id,
        "co-handling/return",
        json!({"reason": "不涉及工信职能"}),
    )
    .await;
    app.act(
        &rsj,
        &id,
        "co-handling/opinion",
        json!({"opinion": "已安排招聘会"}),
    )
    .await;
    let late = app
        .post(
            &format!("/api/v1/problems/{id}/co-handling/opinion"),
            Some(&gxj),
            json!({"opinion": "补充"}),
        )
        .await;
    assert_eq!((late.status, late.code()), (409, "problem.invalid_transition"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'problem.returned' AND payload->>'role' = 'co_handler'"),
        1
    );
    app.act(
        &lead,
        &id,
        "respond",
        json!({"resolution": "已解决", "outcome": "resolved"}),
    )
    .await;
}

#[tokio::test]
async fn co_handlers_are_checked_whole_at_assignment_and_nothing_is_written() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file(&app, "融资需求：流动资金贷款2000万元").await;
    let dispatcher = app.token("hub.dispatcher").await;
    app.act(&dispatcher, &id, "triage", json!({ "category": "utilities" }))
        .await;
    let (lead, rsj) = (app.unit_id("ZZ-GDGS").await, app.unit_id("ZZ-RSJ").await);
    let hub = app.unit_id("ZZ-HUB").await;
    let body = json!({
        "department_id": lead,
        "co_handlers": [
            { "department_id": lead },
            { "department_id": rsj },
            { "department_id": rsj },
            { "department_id": hub },
            { "department_id": uuid::Uuid::new_v4() },
            { "department_id": rsj, "contact_working_days": 0 },
        ],
    });
    let refused = app
        .post(&format!("/api/v1/problems/{id}/assign"), Some(&dispatcher), body)
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "validation.failed"),
        "{}",
        refused.text
    );
    let errors: Vec<(String, String)> = refused.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("co_handlers[0].department_id", "invalid"),
        ("co_handlers[2].department_id", "duplicate"),
        ("co_handlers[3].department_id", "unknown"),
        ("co_handlers[4].department_id", "unknown"),
        ("co_handlers[5].department_id", "duplicate"),
    ]
    .iter()
    .map(|(f, c)| (f.to_string(), c.to_string()))
    .collect();
    assert_eq!(errors, expected);
    let too_many: Vec<Value> = (0..11).map(|_| json!({ "department_id": rsj })).collect();
    let refused = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": lead, "co_handlers": too_many}),
        )
        .await;
    assert_eq!(refused.body["error"]["details"]["errors"][0]["code"], "too_many");
    let zero = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": lead, "co_handlers": [{"department_id": rsj, "contact_working_days": 0}]}),
        )
        .await;
    assert_eq!(
        zero.body["error"]["details"]["errors"][0]["field"],
        "co_handlers[0].contact_working_days"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM problem_co_handlers"), 0);
    assert_eq!(
        app.text(&format!("SELECT status AS t FROM problems WHERE id = '{id}'")),
        "triaged"
    );
}

#[tokio::test]
async fn a_co_handling_department_sees_the_problem_and_others_do_not() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = co_handled(&app).await;
    let rsj = app.token("rsj.clerk").await;
    let listed = app.get("/api/v1/problems", Some(&rsj)).await;
    assert_eq!(listed.status, 200);
    let ids: Vec<&str> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    // 税务局 is neither lead nor co-handler.
    let swj = app.token("swj.clerk").await;
    let hidden = app.get(&format!("/api/v1/problems/{id}"), Some(&swj)).await;
    assert_eq!(hidden.status, 404);
    let acting = app
        .post(
            &format!("/api/v1/problems/{id}/co-handling/opinion"),
            Some(&swj),
            json!({"opinion": "x"}),
        )
        .await;
    assert_eq!(acting.status, 404);

    // When the lead returns the problem to the hub, the assignment ends for everyone.
    let lead = app.token("gdgs.clerk").await;
    app.act(&lead, &id, "return", json!({"reason": "应由发改委牵头"}))
        .await;
    let gone = app.get(&format!("/api/v1/problems/{id}"), Some(&rsj)).await;
    assert_eq!(gone.status, 404);
    let dispatcher = app.token("hub.dispatcher").await;
    assert_eq!(problem(&app, &dispatcher, &id).await["co_handlers"], json!([]));
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

#[tokio::test]
async fn each_co_handler_escalates_on_its_own_deadlines() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = co_handled(&app).await;
    let (lead, gxj) = (app.token("gdgs.clerk").await, app.token("gxj.clerk").await);
    app.act(&lead, &id, "accept", json!({})).await;
    app.act(&gxj, &id, "co-handling/accept", json!({})).await;
    let tick = |now: DateTime<Utc>| {
        let mut conn = app.pool.get().expect("conn");
        escalate::tick(&mut conn, now).expect("tick")
    };
    // Wednesday: 人社局's contact date (Tuesday) has passed; 工信局 signed, the lead too.
    assert_eq!(tick(at("2026-11-25T10:00:00+08:00")).escalations, 1);
    assert_eq!(
        tick(at("2026-11-25T10:01:00+08:00")).escalations,
        0,
        "once per level"
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let read = problem(&app, &dispatcher, &id).await;
    assert_eq!(read["escalation_level"], 0, "the lead is on time");
    assert_eq!(read["co_handlers"][0]["escalation_level"], 1);
    assert_eq!(read["co_handlers"][1]["escalation_level"], 0);
    let escalated: Vec<&Value> = read["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["type"] == "escalated")
        .collect();
    assert_eq!(escalated.len(), 1);
    assert_eq!(escalated[0]["details"]["role"], "co_handler");
    assert_eq!(
        escalated[0]["details"]["department_id"],
        json!(app.unit_id("ZZ-RSJ").await)
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'problem.escalated' AND payload->>'role' = 'co_handler'"),
        1
    );
}

#[tokio::test]
async fn the_departments_view_counts_lead_and_co_handling_apart() {
    let app = spawn_app().await;
    app.seed_demo();
    let first = co_handled(&app).await;
    let second = co_handled(&app).await;
    let (lead, rsj, gxj) = (
        app.token("gdgs.clerk").await,
        app.token("rsj.clerk").await,
        app.token("gxj.clerk").await,
    );
    app.act(
        &rsj,
        &first,
        "co-handling/opinion",
        json!({"opinion": "已安排招聘会"}),
    )
    .await;
    app.act(
        &gxj,
        &first,
        "co-handling/opinion",
        json!({"opinion": "纳入重点项目"}),
    )
    .await;
    app.act(
        &gxj,
        &second,
        "co-handling/return",
        json!({"reason": "不涉及工信职能"}),
    )
    .await;
    app.act(&lead, &first, "accept", json!({})).await;
    app.act(
        &lead,
        &first,
        "respond",
        json!({"resolution": "已解决", "outcome": "resolved"}),
    )
    .await;
    // 人社局 files its opinion on the second after the lead's due date (ten working days).
    app.clock.set(at("2026-12-07T09:00:00+08:00"));
    let rsj = app.token("rsj.clerk").await;
    app.act(
        &rsj,
        &second,
        "co-handling/opinion",
        json!({"opinion": "补充意见"}),
    )
    .await;

    let dispatcher = app.token("hub.dispatcher").await;
    let view = app
        .get(
            "/api/v1/stats/departments?from=2026-11-01&to=2026-12-31",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(view.status, 200, "{}", view.text);
    let row = |name: &str| -> Value {
        view.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|d| d["department_name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let gdgs = row("国网株洲供电公司");
    assert_eq!(
        (gdgs["assigned"].as_i64(), gdgs["responded_on_time"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (gdgs["co_handled"].as_i64(), gdgs["co_on_time_rate"].clone()),
        (Some(0), Value::Null)
    );
    let rsj_row = row("株洲市人力资源和社会保障局");
    assert_eq!(rsj_row["assigned"], 0);
    assert_eq!(
        (
            rsj_row["co_handled"].as_i64(),
            rsj_row["co_opined"].as_i64(),
            rsj_row["co_opined_on_time"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(rsj_row["co_on_time_rate"], 0.5);
    let gxj_row = row("株洲市工业和信息化局");
    assert_eq!(
        (gxj_row["co_handled"].as_i64(), gxj_row["co_opined"].as_i64()),
        (Some(1), Some(1)),
        "the returned part is left out"
    );
}
