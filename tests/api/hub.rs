//! The problem lifecycle through the API, as dispatchers, departments, officers and enterprise
//! contacts drive it (交办 → 办理 → 反馈 → 评价 → 销号).

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::spawn_app;
use crate::lifecycle::{assigned, file};

fn events(problem: &Value) -> Vec<String> {
    problem["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_owned())
        .collect()
}

#[tokio::test]
async fn the_whole_loop_from_filing_to_closing() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file(&app, "园区近一周频繁停电，二车间生产线多次中断，请供电公司协调").await;
    let dispatcher = app.token("hub.dispatcher").await;

    // The queue shows it with the classifier's suggestion.
    let queue = app.get("/api/v1/hub/queue", Some(&dispatcher)).await;
    assert_eq!(queue.status, 200, "{}", queue.text);
    let item = &queue.body["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["suggested_category"], "utilities");
    assert!(item["confidence"].as_f64().expect("confidence") > 0.5);
    assert!(item["similar"].is_array());

    let triaged = app
        .post(
            &format!("/api/v1/problems/{id}/triage"),
            Some(&dispatcher),
            json!({"category": "utilities", "urgency": "normal"}),
        )
        .await;
    assert_eq!(triaged.status, 200, "{}", triaged.text);
    assert_eq!(triaged.body["status"], "triaged");
    assert_eq!(triaged.body["category"], "utilities");

    // Friday 2026-11-20 10:00: contact by the 3rd working day (Wed 25th), answer by the 5th
    // (utilities: 5 working days; Fri 27th).
    let gdgs = app.unit_id("ZZ-GDGS").await;
    let assigned = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": gdgs, "instructions": "请三日内联系企业"}),
        )
        .await;
    assert_eq!(assigned.status, 200, "{}", assigned.text);
    let problem = &assigned.body;
    assert_eq!(problem["status"], "assigned");
    assert_eq!(problem["department_id"], gdgs.as_str());
    assert_eq!(problem["contact_due_at"], "2026-11-25T23:59:59+08:00");
    assert_eq!(problem["due_at"], "2026-11-27T23:59:59+08:00");
    assert_eq!(problem["due_working_days"], 5);
    assert_eq!(problem["calendar_provisional"], false);
    assert!(problem["calendar_version"].as_i64().expect("version") > 0);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM notification_outbox WHERE problem_id = '{id}' AND kind = 'problem.assigned' AND recipient_unit_id = '{gdgs}'"
        )),
        1
    );

    // The department sees it in its own list; another department does not.
    let clerk = app.token("gdgs.clerk").await;
    let mine = app.get("/api/v1/problems", Some(&clerk)).await;
    assert_eq!(mine.body["items"][0]["id"], id.as_str());
    let other = app.token("rsj.clerk").await;
    assert_eq!(
        app.get("/api/v1/problems", Some(&other)).await.body["items"],
        json!([])
    );
    assert_eq!(
        app.get(&format!("/api/v1/problems/{id}"), Some(&other))
            .await
            .status,
        404
    );

    let accepted = app.act(&clerk, &id, "accept", json!({})).await;
    assert_eq!(accepted.status, "in_progress");

    let responded = app
        .act(
            &clerk,
            &id,
            "respond",
            json!({"resolution": "已更换故障开关，专线恢复稳定供电", "outcome": "resolved"}),
        )
        .await;
    assert_eq!(responded.status, "responded");

    let zhang = app.token("officer.zhang").await;
    let rating = json!({"rating": "satisfied", "comment": "很及时"});
    assert_eq!(app.act(&zhang, &id, "evaluate", rating).await.status, "evaluated");

    let closed = app.act(&dispatcher, &id, "close", json!({})).await;
    assert_eq!(closed.status, "closed");
    assert_eq!(
        closed.events(),
        vec![
            "submitted",
            "triaged",
            "assigned",
            "accepted",
            "responded",
            "evaluated",
            "closed"
        ]
    );
    let roles: Vec<&str> = closed
        .timeline
        .iter()
        .map(|e| e.actor_role.as_deref().expect("role"))
        .collect();
    assert_eq!(
        roles,
        vec![
            "officer",
            "dispatcher",
            "dispatcher",
            "department",
            "department",
            "officer",
            "dispatcher"
        ]
    );
    let response = &closed.timeline[4];
    assert_eq!(response.note.as_deref(), Some("已更换故障开关，专线恢复稳定供电"));
    assert_eq!(
        response.details.as_ref().map(|d| &d["outcome"]),
        Some(&json!("resolved"))
    );
    assert!(closed.department_id.is_some() && closed.due_at.is_some() && closed.contact_due_at.is_some());
    assert_eq!(
        (closed.urgency.as_str(), closed.category.as_deref()),
        ("normal", Some("utilities"))
    );
    assert_eq!(closed.escalation_level, 0);
    assert_eq!(closed.id, id);
}

#[tokio::test]
async fn wrong_roles_get_403_wrong_states_409_and_strangers_404() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file(&app, "企业申请的技改贷款银行迟迟未放款").await;
    let zhang = app.token("officer.zhang").await;
    let dispatcher = app.token("hub.dispatcher").await;
    let gdgs = app.unit_id("ZZ-GDGS").await;

    // The officer can see the problem but may not triage it.
    let by_officer = app
        .post(
            &format!("/api/v1/problems/{id}/triage"),
            Some(&zhang),
            json!({"category": "financing"}),
        )
        .await;
    assert_eq!(
        (by_officer.status, by_officer.code()),
        (403, "problem.not_allowed")
    );
    // Assigning before triage is the wrong state.
    let early = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": gdgs}),
        )
        .await;
    assert_eq!((early.status, early.code()), (409, "problem.invalid_transition"));
    // A department that does not have it cannot even see it.
    let clerk = app.token("gdgs.clerk").await;
    assert_eq!(
        app.post(&format!("/api/v1/problems/{id}/accept"), Some(&clerk), json!({}))
            .await
            .status,
        404
    );
    // Another officer neither.
    let li = app.token("officer.li").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/problems/{id}/resolve-on-site"),
            Some(&li),
            json!({"resolution": "x"})
        )
        .await
        .status,
        404
    );
    // Nor a dispatcher of another city.
    app.create_admin("cs.dispatcher", "430100", "长沙市");
    app.exec("UPDATE users SET roles = '{dispatcher}' WHERE username = 'cs.dispatcher'");
    let stranger = app.token("cs.dispatcher").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/problems/{id}/triage"),
            Some(&stranger),
            json!({"category": "financing"})
        )
        .await
        .status,
        404
    );
    // An unknown category is a 422, and nothing changed.
    let unknown = app
        .post(
            &format!("/api/v1/problems/{id}/triage"),
            Some(&dispatcher),
            json!({"category": "nonsense"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (422, "problem.unknown_category")
    );
    let still = app
        .get(&format!("/api/v1/problems/{id}"), Some(&dispatcher))
        .await;
    assert_eq!(still.body["status"], "submitted");
    assert_eq!(events(&still.body), vec!["submitted"]);

    app.post(
        &format!("/api/v1/problems/{id}/triage"),
        Some(&dispatcher),
        json!({"category": "financing"}),
    )
    .await;
    // A dispatching unit is not a department.
    let hub_unit = app.unit_id("ZZ-HUB").await;
    let not_department = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": hub_unit}),
        )
        .await;
    assert_eq!(
        (not_department.status, not_department.code()),
        (422, "problem.unknown_department")
    );
    let too_long = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": gdgs, "due_working_days": 0}),
        )
        .await;
    assert_eq!((too_long.status, too_long.code()), (422, "validation.failed"));
    let ok = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": gdgs}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // Financing policy: 15 working days from Friday 20 November → Friday 11 December.
    assert_eq!(ok.body["due_at"], "2026-12-11T23:59:59+08:00");

    // Responding before signing for it, rating before a response, closing an open problem.
    let respond = app
        .post(
            &format!("/api/v1/problems/{id}/respond"),
            Some(&clerk),
            json!({"resolution": "已办", "outcome": "resolved"}),
        )
        .await;
    assert_eq!(
        (respond.status, respond.code()),
        (409, "problem.invalid_transition")
    );
    let rate = app
        .post(
            &format!("/api/v1/problems/{id}/evaluate"),
            Some(&zhang),
            json!({"rating": "satisfied"}),
        )
        .await;
    assert_eq!((rate.status, rate.code()), (409, "problem.invalid_transition"));
    let close = app
        .post(
            &format!("/api/v1/problems/{id}/close"),
            Some(&dispatcher),
            json!({}),
        )
        .await;
    assert_eq!((close.status, close.code()), (409, "problem.invalid_transition"));
    // A department may not rate or close; a missing resolution is refused.
    assert_eq!(
        app.post(&format!("/api/v1/problems/{id}/close"), Some(&clerk), json!({}))
            .await
            .status,
        403
    );
    app.post(&format!("/api/v1/problems/{id}/accept"), Some(&clerk), json!({}))
        .await;
    let blank = app
        .post(
            &format!("/api/v1/problems/{id}/respond"),
            Some(&clerk),
            json!({"resolution": "  ", "outcome": "resolved"}),
        )
        .await;
    assert_eq!((blank.status, blank.code()), (422, "validation.failed"));
    let bad_outcome = app
        .post(
            &format!("/api/v1/problems/{id}/respond"),
            Some(&clerk),
            json!({"resolution": "已办", "outcome": "done"}),
        )
        .await;
    assert_eq!(bad_outcome.status, 400);
}

#[tokio::test]
async fn dissatisfied_reopens_to_the_same_department_with_new_deadlines() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = assigned(&app, "园区频繁停电影响生产").await;
    let clerk = app.token("gdgs.clerk").await;
    app.post(&format!("/api/v1/problems/{id}/accept"), Some(&clerk), json!({}))
        .await;
    app.post(
        &format!("/api/v1/problems/{id}/respond"),
        Some(&clerk),
        json!({"resolution": "已检修线路", "outcome": "resolved"}),
    )
    .await;

    // A week later the enterprise contact... here the assigned officer rates it dissatisfied.
    app.clock.advance(Duration::days(7));
    let zhang = app.token("officer.zhang").await;
    let rated = app
        .post(
            &format!("/api/v1/problems/{id}/evaluate"),
            Some(&zhang),
            json!({"rating": "dissatisfied", "comment": "仍然停电"}),
        )
        .await;
    assert_eq!(rated.status, 200, "{}", rated.text);
    let problem = &rated.body;
    assert_eq!(problem["status"], "reopened");
    assert_eq!(problem["reopen_count"], 1);
    assert_eq!(problem["rating"], "dissatisfied");
    assert_eq!(problem["department_id"], app.unit_id("ZZ-GDGS").await.as_str());
    // Reopened on Friday 27 November: 5 working days again → Friday 4 December.
    assert_eq!(problem["due_at"], "2026-12-04T23:59:59+08:00");
    assert_eq!(problem["contacted_at"], Value::Null);
    assert_eq!(
        events(problem)[5..],
        ["evaluated".to_owned(), "reopened".to_owned()]
    );

    // The department handles it again.
    let clerk = app.token("gdgs.clerk").await;
    let again = app
        .post(&format!("/api/v1/problems/{id}/accept"), Some(&clerk), json!({}))
        .await;
    assert_eq!(again.body["status"], "in_progress", "{}", again.text);
}

#[tokio::test]
async fn a_return_puts_the_problem_back_in_the_queue() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = assigned(&app, "企业用工缺口大，招不到熟练焊工").await;
    let clerk = app.token("gdgs.clerk").await;
    let missing_reason = app
        .post(
            &format!("/api/v1/problems/{id}/return"),
            Some(&clerk),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(missing_reason.status, 422);
    // A NUL in the reason (which PostgreSQL cannot store, in text nor in the notification's
    // JSON) is the client's mistake, said as such, and nothing is written.
    let events = app.count(&format!(
        "SELECT count(*) AS n FROM problem_events WHERE problem_id = '{id}'"
    ));
    let nul = app
        .post(
            &format!("/api/v1/problems/{id}/return"),
            Some(&clerk),
            json!({"reason": "不属于\u{0}本单位职责"}),
        )
        .await;
    assert_eq!(
        (nul.status, nul.code()),
        (422, "validation.failed"),
        "{}",
        nul.text
    );
    assert_eq!(nul.body["error"]["details"]["errors"][0]["field"], "reason");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM problem_events WHERE problem_id = '{id}'"
        )),
        events
    );
    let returned = app
        .post(
            &format!("/api/v1/problems/{id}/return"),
            Some(&clerk),
            json!({"reason": "不属于供电公司职责，建议转人社局"}),
        )
        .await;
    assert_eq!(returned.status, 200, "{}", returned.text);
    assert_eq!(returned.body["status"], "returned");
    let dispatcher = app.token("hub.dispatcher").await;
    let queue = app.get("/api/v1/hub/queue", Some(&dispatcher)).await;
    assert!(queue.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|i| i["id"] == id.as_str()));
    // Triage again and assign to the right department.
    app.post(
        &format!("/api/v1/problems/{id}/triage"),
        Some(&dispatcher),
        json!({"category": "labor"}),
    )
    .await;
    let rsj = app.unit_id("ZZ-RSJ").await;
    let reassigned = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": rsj}),
        )
        .await;
    assert_eq!(
        reassigned.body["department_id"],
        rsj.as_str(),
        "{}",
        reassigned.text
    );
    // The first department no longer has it.
    assert_eq!(
        app.post(&format!("/api/v1/problems/{id}/accept"), Some(&clerk), json!({}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_officer_resolves_on_site_and_an_unrated_response_closes_after_five_working_days() {
    let app = spawn_app().await;
    app.seed_demo();
    let on_site = file(&app, "企业咨询研发费用加计扣除政策").await;
    let zhang = app.token("officer.zhang").await;
    let resolved = app
        .post(
            &format!("/api/v1/problems/{on_site}/resolve-on-site"),
            Some(&zhang),
            json!({"resolution": "现场讲解政策并协助填报"}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.text);
    assert_eq!(resolved.body["status"], "closed");
    assert_eq!(resolved.body["outcome"], "resolved_on_site");

    let id = assigned(&app, "变压器增容申请进展缓慢").await;
    let clerk = app.token("gdgs.clerk").await;
    app.post(&format!("/api/v1/problems/{id}/accept"), Some(&clerk), json!({}))
        .await;
    app.post(
        &format!("/api/v1/problems/{id}/respond"),
        Some(&clerk),
        json!({"resolution": "已纳入增容计划", "outcome": "long_term"}),
    )
    .await;
    let dispatcher = app.token("hub.dispatcher").await;
    let early = app
        .post(
            &format!("/api/v1/problems/{id}/close"),
            Some(&dispatcher),
            json!({}),
        )
        .await;
    assert_eq!((early.status, early.code()), (409, "problem.invalid_transition"));
    // Responded Friday 20 November; five working days end Friday 27 November.
    app.clock.advance(Duration::days(7));
    let dispatcher = app.token("hub.dispatcher").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/problems/{id}/close"),
            Some(&dispatcher),
            json!({})
        )
        .await
        .status,
        409
    );
    app.clock.advance(Duration::days(1));
    let dispatcher = app.token("hub.dispatcher").await;
    let closed = app
        .post(
            &format!("/api/v1/problems/{id}/close"),
            Some(&dispatcher),
            json!({}),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    assert_eq!(closed.body["rating"], Value::Null);
}

#[tokio::test]
async fn a_department_asks_for_more_time_and_the_hub_decides() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = assigned(&app, "新建厂房需要接入双回路供电").await;
    let clerk = app.token("gdgs.clerk").await;
    let dispatcher = app.token("hub.dispatcher").await;
    let none = app
        .post(
            &format!("/api/v1/problems/{id}/extension/approve"),
            Some(&dispatcher),
            json!({}),
        )
        .await;
    assert_eq!((none.status, none.code()), (409, "extension.none_pending"));
    let earlier = app
        .post(
            &format!("/api/v1/problems/{id}/extension"),
            Some(&clerk),
            json!({"requested_due_at": "2026-11-26", "reason": "需要施工"}),
        )
        .await;
    assert_eq!((earlier.status, earlier.code()), (422, "validation.failed"));
    let asked = app
        .post(
            &format!("/api/v1/problems/{id}/extension"),
            Some(&clerk),
            json!({"requested_due_at": "2026-12-18", "reason": "线路改造需要停电施工窗口"}),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    assert_eq!(asked.body["extensions"][0]["status"], "pending");
    let twice = app
        .post(
            &format!("/api/v1/problems/{id}/extension"),
            Some(&clerk),
            json!({"requested_due_at": "2026-12-25", "reason": "再延"}),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (409, "extension.pending"));
    // Only a dispatcher decides.
    assert_eq!(
        app.post(
            &format!("/api/v1/problems/{id}/extension/approve"),
            Some(&clerk),
            json!({})
        )
        .await
        .status,
        403
    );
    let approved = app
        .post(
            &format!("/api/v1/problems/{id}/extension/approve"),
            Some(&dispatcher),
            json!({"note": "同意"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["due_at"], "2026-12-18T23:59:59+08:00");
    assert_eq!(approved.body["extensions"][0]["status"], "approved");

    let asked = app
        .post(
            &format!("/api/v1/problems/{id}/extension"),
            Some(&clerk),
            json!({"requested_due_at": "2027-01-08T18:00:00+08:00", "reason": "材料未到"}),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    let refused = app
        .post(
            &format!("/api/v1/problems/{id}/extension/refuse"),
            Some(&dispatcher),
            json!({}),
        )
        .await;
    assert_eq!(
        refused.body["due_at"], "2026-12-18T23:59:59+08:00",
        "{}",
        refused.text
    );
    let kinds = events(&refused.body);
    assert_eq!(
        kinds[kinds.len() - 4..],
        [
            "extension_requested",
            "extension_approved",
            "extension_requested",
            "extension_refused"
        ]
        .map(String::from)
    );
}

#[tokio::test]
async fn duplicates_of_one_systemic_problem_are_shown_together_and_merged() {
    let app = spawn_app().await;
    app.seed_demo();
    let first = file(&app, "园区近期频繁停电，生产线多次中断").await;
    // The same complaint from another enterprise (千金药业, by its contact).
    let admin = app.token("demo.admin").await;
    let qianjin = app.enterprise_id(&admin, "株洲千金药业").await;
    let contact = app.token("qianjin.contact").await;
    let second = app
        .post(
            "/api/v1/problems",
            Some(&contact),
            json!({"enterprise_id": qianjin, "description": "园区频繁停电，生产线中断，损失较大"}),
        )
        .await;
    let second = second.body["id"].as_str().expect("id").to_owned();
    let dispatcher = app.token("hub.dispatcher").await;
    let queue = app.get("/api/v1/hub/queue", Some(&dispatcher)).await;
    let item = queue.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == second.as_str())
        .expect("in queue")
        .clone();
    assert_eq!(item["similar"][0]["id"], first.as_str(), "{item}");
    assert!(item["similar"][0]["similarity"].as_f64().expect("score") >= 0.3);

    let into_itself = app
        .post(
            &format!("/api/v1/problems/{second}/merge"),
            Some(&dispatcher),
            json!({"into_id": second}),
        )
        .await;
    assert_eq!(
        (into_itself.status, into_itself.code()),
        (422, "problem.merge_target_invalid")
    );
    let merged = app
        .post(
            &format!("/api/v1/problems/{second}/merge"),
            Some(&dispatcher),
            json!({"into_id": first}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(merged.body["status"], "merged");
    assert_eq!(merged.body["merged_into_id"], first.as_str());
    let target = app
        .get(&format!("/api/v1/problems/{first}"), Some(&dispatcher))
        .await;
    assert_eq!(events(&target.body), vec!["submitted", "merged_in"]);
    let found = crate::spec::disagreements("/api/v1/problems/{id}", &target.body);
    assert!(found.is_empty(), "the timeline as the spec types it: {found:#?}");
    // Each enterprise reads its own timeline, which names nothing of the other's problem.
    let theirs = app
        .get(&format!("/api/v1/problems/{second}"), Some(&contact))
        .await;
    assert_eq!(theirs.status, 200);
    let first_title = target.body["title"].as_str().expect("title");
    assert!(!theirs.text.contains(first_title), "{}", theirs.text);
    let zhang = app.token("officer.zhang").await;
    let ours = app.get(&format!("/api/v1/problems/{first}"), Some(&zhang)).await;
    let second_title = theirs.body["title"].as_str().expect("title");
    assert!(
        !ours.text.contains(second_title) && !ours.text.contains(&qianjin),
        "{}",
        ours.text
    );
    // A merged problem is final.
    let again = app
        .post(
            &format!("/api/v1/problems/{second}/triage"),
            Some(&dispatcher),
            json!({"category": "utilities"}),
        )
        .await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn the_classifier_suggests_and_learns_from_the_hubs_triage() {
    let app = spawn_app().await;
    app.seed_demo();
    let zhang = app.token("officer.zhang").await;
    let enterprise = app.crrc().await;
    let loan = app
        .post(
            "/api/v1/problems",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "description": "流动资金紧张，申请的贷款银行迟迟不放款"}),
        )
        .await;
    assert_eq!(loan.body["suggested_category"], "financing", "{}", loan.text);
    let unknown = app
        .post(
            "/api/v1/problems",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "description": "贷款难", "category": "nonsense"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (422, "problem.unknown_category")
    );
    assert!(loan.body["confidence"].as_f64().expect("confidence") > 0.5);

    // A phrase the shipped corpus has never seen, confirmed by a dispatcher as 物流交通.
    let novel = "嘉禾物流园夜间卸货许可卡点";
    let first = file(&app, novel).await;
    let dispatcher = app.token("hub.dispatcher").await;
    for _ in 0..3 {
        let id = file(&app, novel).await;
        app.post(
            &format!("/api/v1/problems/{id}/triage"),
            Some(&dispatcher),
            json!({"category": "logistics"}),
        )
        .await;
    }
    let after = app
        .post(
            "/api/v1/problems",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "description": novel}),
        )
        .await;
    assert_eq!(after.body["suggested_category"], "logistics", "{}", after.text);
    let before = app
        .get(&format!("/api/v1/problems/{first}"), Some(&dispatcher))
        .await;
    assert!(
        before.body["confidence"].as_f64() < after.body["confidence"].as_f64(),
        "{} vs {}",
        before.body["confidence"],
        after.body["confidence"]
    );
}

#[tokio::test]
async fn only_an_admin_of_the_top_region_changes_the_city_wide_categories_and_calendar() {
    let app = spawn_app().await;
    app.seed_demo();
    let city = app.token("demo.admin").await;
    let district = app
        .post(
            "/api/v1/admin/regions",
            Some(&city),
            json!({"code": "430211", "name": "天元区", "parent_code": "430200"}),
        )
        .await;
    assert!(matches!(district.status, 201 | 409), "{}", district.text);
    app.create_admin("tianyuan.admin", "430211", "天元区");
    let district_admin = app.token("tianyuan.admin").await;
    let categories = app.get("/api/v1/admin/categories", Some(&city)).await;
    let mut items = categories.body["items"].clone();
    for item in items.as_array_mut().expect("items") {
        item.as_object_mut().map(|o| o.remove("updated_at"));
    }

    let refused = app
        .put(
            "/api/v1/admin/categories",
            Some(&district_admin),
            json!({"items": items}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "admin.top_region_required")
    );
    let calendar = app
        .put(
            "/api/v1/calendar/2027",
            Some(&district_admin),
            json!({"notice": "国办发明电〔2026〕测试号", "days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]}),
        )
        .await;
    assert_eq!(
        (calendar.status, calendar.code()),
        (403, "admin.top_region_required")
    );
    let empty = app
        .put("/api/v1/admin/categories", Some(&city), json!({"items": []}))
        .await;
    assert_eq!(
        (empty.status, empty.code()),
        (422, "validation.failed"),
        "no list leaves no category"
    );
    let other_retired = app
        .put(
            "/api/v1/admin/categories",
            Some(&city),
            json!({"items": [{"code": "other", "name": "其他", "due_working_days": 15, "urgent_due_working_days": 5, "active": false}]}),
        )
        .await;
    assert_eq!(other_retired.status, 422, "{}", other_retired.text);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM categories WHERE active"),
        13,
        "nothing was retired"
    );
    let kept = app
        .put("/api/v1/admin/categories", Some(&city), json!({"items": items}))
        .await;
    assert_eq!(kept.status, 200, "{}", kept.text);
}

#[tokio::test]
async fn an_officer_whose_assignment_ended_reads_but_no_longer_resolves_or_rates() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file(&app, "企业用电负荷不足，需要增容").await;
    let zhang = app.token("officer.zhang").await;
    let crrc = app.crrc().await;
    app.exec(&format!(
        "UPDATE assignments SET start_day = '2026-01-01', end_day = '2026-11-19' \
         WHERE enterprise_id = '{crrc}' AND officer_id = (SELECT id FROM users WHERE username = 'officer.zhang')"
    ));
    let read = app.get(&format!("/api/v1/problems/{id}"), Some(&zhang)).await;
    assert_eq!(read.status, 200, "an officer still reads what they filed");
    let resolved = app
        .post(
            &format!("/api/v1/problems/{id}/resolve-on-site"),
            Some(&zhang),
            json!({"resolution": "现场协调解决"}),
        )
        .await;
    assert_eq!(
        (resolved.status, resolved.code()),
        (403, "problem.not_allowed"),
        "{}",
        resolved.text
    );
    let status = app.get(&format!("/api/v1/problems/{id}"), Some(&zhang)).await;
    assert_eq!(status.body["status"], "submitted");
}

#[tokio::test]
async fn categories_are_read_by_dispatchers_and_replaced_by_admins() {
    let app = spawn_app().await;
    app.seed_demo();
    let dispatcher = app.token("hub.dispatcher").await;
    let listed = app.get("/api/v1/admin/categories", Some(&dispatcher)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let codes: Vec<&str> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        vec![
            "financing",
            "labor",
            "cost_reduction",
            "policy",
            "approval",
            "utilities",
            "logistics",
            "supply_chain",
            "market",
            "epidemic",
            "safety",
            "dispute",
            "other"
        ]
    );
    assert_eq!(listed.body["items"][0]["name"], "融资贷款");
    let zhang = app.token("officer.zhang").await;
    assert_eq!(
        app.get("/api/v1/admin/categories", Some(&zhang)).await.status,
        403
    );
    assert_eq!(
        app.put(
            "/api/v1/admin/categories",
            Some(&dispatcher),
            json!({"items": []})
        )
        .await
        .status,
        403
    );

    let admin = app.token("demo.admin").await;
    let gdgs = app.unit_id("ZZ-GDGS").await;
    let hub_unit = app.unit_id("ZZ-HUB").await;
    let bad = app
        .put(
            "/api/v1/admin/categories",
            Some(&admin),
            json!({"items": [
                {"code": "utilities", "name": "水电气暖", "default_department_id": hub_unit, "due_working_days": 5, "urgent_due_working_days": 2},
                {"code": "other", "name": "其他", "default_department_id": null, "due_working_days": 15, "urgent_due_working_days": 5}
            ]}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (422, "validation.failed"),
        "{}",
        bad.text
    );
    assert_eq!(
        bad.body["error"]["details"]["errors"][0]["field"],
        "items[0].default_department_id"
    );
    let no_other = app
        .put(
            "/api/v1/admin/categories",
            Some(&admin),
            json!({"items": [{"code": "utilities", "name": "水电气暖", "default_department_id": null, "due_working_days": 5, "urgent_due_working_days": 2}]}),
        )
        .await;
    assert_eq!(no_other.status, 422);

    let replaced = app
        .put(
            "/api/v1/admin/categories",
            Some(&admin),
            json!({"items": [
                {"code": "utilities", "name": "水电气暖（能源保障）", "keywords": ["停电", "供气"], "default_department_id": gdgs, "due_working_days": 4, "urgent_due_working_days": 1},
                {"code": "other", "name": "其他", "default_department_id": null, "due_working_days": 15, "urgent_due_working_days": 5}
            ]}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    let items = replaced.body["items"].as_array().expect("items");
    assert_eq!(items[0]["name"], "水电气暖（能源保障）");
    assert_eq!(items[0]["default_department_id"], gdgs.as_str());
    let retired = items.iter().find(|c| c["code"] == "financing").expect("kept");
    assert_eq!(retired["active"], false);
    // A retired category cannot be chosen at triage; the new policy sets the deadline.
    let id = file(&app, "企业贷款难").await;
    let dispatcher = app.token("hub.dispatcher").await;
    let retired = app
        .post(
            &format!("/api/v1/problems/{id}/triage"),
            Some(&dispatcher),
            json!({"category": "financing"}),
        )
        .await;
    assert_eq!(retired.status, 422);
    app.post(
        &format!("/api/v1/problems/{id}/triage"),
        Some(&dispatcher),
        json!({"category": "utilities"}),
    )
    .await;
    let assigned = app
        .post(
            &format!("/api/v1/problems/{id}/assign"),
            Some(&dispatcher),
            json!({"department_id": gdgs}),
        )
        .await;
    assert_eq!(assigned.body["due_working_days"], 4, "{}", assigned.text);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE action = 'categories.replace'"),
        1
    );
}

#[tokio::test]
async fn department_and_overdue_filters_narrow_the_list() {
    let app = spawn_app().await;
    app.seed_demo();
    let late = assigned(&app, "专线跳闸频繁").await;
    let _fresh = file(&app, "招工难").await;
    let dispatcher = app.token("hub.dispatcher").await;
    let gdgs = app.unit_id("ZZ-GDGS").await;
    let by_department = app
        .get(
            &format!("/api/v1/problems?department_id={gdgs}"),
            Some(&dispatcher),
        )
        .await;
    let ids: Vec<&str> = by_department.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert!(ids.contains(&late.as_str()));
    assert!(by_department.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|p| p["department_id"] == gdgs.as_str()));
    let none_late = app.get("/api/v1/problems?overdue=true", Some(&dispatcher)).await;
    assert!(!none_late.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|p| p["id"] == late.as_str()));
    app.clock.advance(Duration::days(8));
    let dispatcher = app.token("hub.dispatcher").await;
    let overdue = app.get("/api/v1/problems?overdue=true", Some(&dispatcher)).await;
    let item = overdue.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["id"] == late.as_str())
        .expect("late")
        .clone();
    assert_eq!(item["overdue"], true);
    let on_time = app.get("/api/v1/problems?overdue=false", Some(&dispatcher)).await;
    assert!(!on_time.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|p| p["id"] == late.as_str()));
    assert_eq!(
        app.get("/api/v1/problems?status=done", Some(&dispatcher))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn a_resent_transition_with_its_key_is_replayed_not_repeated() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file(&app, "二车间专线跳闸").await;
    let dispatcher = app.token("hub.dispatcher").await;
    app.post(
        &format!("/api/v1/problems/{id}/triage"),
        Some(&dispatcher),
        json!({"category": "utilities"}),
    )
    .await;
    let gdgs = app.unit_id("ZZ-GDGS").await;
    let body = json!({"department_id": gdgs, "instructions": "请尽快联系企业"});
    let path = format!("/api/v1/problems/{id}/assign");
    let first = app
        .keyed(reqwest::Method::POST, &path, &dispatcher, "assign-key-1", &body)
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    // The phone lost the answer and sends it again: the same answer, nothing done twice.
    let again = app
        .keyed(reqwest::Method::POST, &path, &dispatcher, "assign-key-1", &body)
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body);
    assert!(again.headers.get("idempotent-replayed").is_some());
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM problem_events WHERE problem_id = '{id}' AND event_type = 'assigned'"
        )),
        1
    );
    // Without the key the repeat is a wrong-state error, not a second assignment.
    let unkeyed = app.post(&path, Some(&dispatcher), body).await;
    assert_eq!(unkeyed.status, 409);
}
