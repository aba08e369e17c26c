//! The hub's queue with leases, escalation of missed deadlines, and both with two server
//! instances on one database.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::helpers::{database_url, spawn_app, spawn_app_with, Options, TestApp};
use zhuqi::jobs::escalate;

/// Files `n` problems at 中车 as officer.zhang; returns their ids in filing order.
async fn file_many(app: &TestApp, n: usize, urgent_every: usize) -> Vec<String> {
    let zhang = app.token("officer.zhang").await;
    let enterprise = app.crrc().await;
    let mut ids = Vec::new();
    for i in 0..n {
        let urgency = if urgent_every > 0 && i % urgent_every == urgent_every - 1 {
            "urgent"
        } else {
            "normal"
        };
        let filed = app
            .post(
                "/api/v1/problems",
                Some(&zhang),
                json!({"enterprise_id": enterprise, "description": format!("第{i}号问题：厂区道路破损影响货车通行"), "urgency": urgency}),
            )
            .await;
        assert_eq!(filed.status, 201, "{}", filed.text);
        ids.push(filed.body["id"].as_str().expect("id").to_owned());
        // Distinct creation times, so "oldest first" is well defined.
        app.clock.advance(Duration::seconds(1));
    }
    ids
}

fn ids(reply: &serde_json::Value) -> Vec<String> {
    reply["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn the_queue_is_urgent_first_then_oldest_and_pages_with_a_cursor() {
    let app = spawn_app().await;
    app.seed_demo();
    let filed = file_many(&app, 6, 3).await;
    let dispatcher = app.token("hub.dispatcher").await;
    let first = app.get("/api/v1/hub/queue?limit=4", Some(&dispatcher)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let mut order = ids(&first.body);
    let cursor = first.body["next_cursor"].as_str().expect("more").to_owned();
    let second = app
        .get(
            &format!("/api/v1/hub/queue?limit=4&cursor={cursor}"),
            Some(&dispatcher),
        )
        .await;
    order.extend(ids(&second.body));
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
    // Items 2 and 5 are urgent.
    let expected: Vec<String> = [2, 5, 0, 1, 3, 4].iter().map(|&i| filed[i].clone()).collect();
    assert_eq!(order, expected);
    let zhang = app.token("officer.zhang").await;
    assert_eq!(app.get("/api/v1/hub/queue", Some(&zhang)).await.status, 403);
    assert_eq!(
        app.get("/api/v1/hub/queue?cursor=garbage", Some(&dispatcher))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn a_lease_hides_an_item_from_other_claimers_until_it_ends() {
    let app = spawn_app().await;
    app.seed_demo();
    let filed = file_many(&app, 3, 0).await;
    let a = app.token("hub.dispatcher").await;
    let b = app.another_dispatcher("hub.second").await;

    let mine = app
        .post(
            "/api/v1/hub/queue/claim",
            Some(&a),
            json!({"limit": 2, "lease_seconds": 120}),
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(ids(&mine.body), filed[..2].to_vec());
    assert!(mine.body["items"][0]["lease_expires_at"].is_string());
    let theirs = app
        .post("/api/v1/hub/queue/claim", Some(&b), json!({"limit": 5}))
        .await;
    assert_eq!(ids(&theirs.body), filed[2..].to_vec());

    // B may not triage what A holds; A may.
    let held = &filed[0];
    let blocked = app
        .post(
            &format!("/api/v1/problems/{held}/triage"),
            Some(&b),
            json!({"category": "logistics"}),
        )
        .await;
    assert_eq!((blocked.status, blocked.code()), (409, "problem.leased"));

    // A's second item: the lease runs out and B can take it.
    app.clock.advance(Duration::seconds(121));
    let b = app.token("hub.second").await;
    let taken = app
        .post("/api/v1/hub/queue/claim", Some(&b), json!({"limit": 5}))
        .await;
    let taken = ids(&taken.body);
    assert!(
        taken.contains(&filed[1]) && taken.contains(&filed[0]),
        "{taken:?}"
    );

    // Triage by the holder ends the lease.
    let triaged = app
        .post(
            &format!("/api/v1/problems/{}/triage", filed[1]),
            Some(&b),
            json!({"category": "logistics"}),
        )
        .await;
    assert_eq!(triaged.status, 200, "{}", triaged.text);
    assert_eq!(triaged.body["lease_holder_id"], serde_json::Value::Null);

    let bad = app
        .post("/api/v1/hub/queue/claim", Some(&b), json!({"limit": 0}))
        .await;
    assert_eq!((bad.status, bad.code()), (422, "validation.failed"));
    let bad = app
        .post(
            "/api/v1/hub/queue/claim",
            Some(&b),
            json!({"lease_seconds": 99999}),
        )
        .await;
    assert_eq!(bad.status, 422);
}

#[tokio::test]
async fn two_instances_never_hand_one_item_to_two_claimers() {
    let app = spawn_app().await;
    app.seed_demo();
    let filed = file_many(&app, 40, 7).await;
    let twin = spawn_app_with(Options {
        database_url: Some(database_url(&app.db_name)),
        ..Options::default()
    })
    .await;
    twin.clock.set(app.clock.now());
    let mut tokens = Vec::new();
    for i in 0..8 {
        tokens.push(app.another_dispatcher(&format!("hub.claimer{i}")).await);
    }
    let claims = tokens.iter().enumerate().map(|(i, token)| {
        let instance = if i % 2 == 0 { &app } else { &twin };
        instance.post(
            "/api/v1/hub/queue/claim",
            Some(token),
            json!({"limit": 6, "lease_seconds": 600}),
        )
    });
    let replies = futures_util::future::join_all(claims).await;
    let mut seen = HashSet::new();
    let mut total = 0;
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.text);
        for id in ids(&reply.body) {
            total += 1;
            assert!(seen.insert(id.clone()), "{id} claimed twice");
        }
    }
    assert_eq!(total, 40, "every item claimed once: 8 claimers × 6 > 40");
    assert_eq!(seen, filed.into_iter().collect::<HashSet<_>>());
    assert_eq!(
        app.count("SELECT count(*) AS n FROM problems WHERE lease_holder_id IS NOT NULL"),
        40
    );
}

/// Assigns a problem to 国网株洲供电公司 (utilities: contact in 3, answer in 5 working days).
async fn assign(app: &TestApp, id: &str) {
    let dispatcher = app.token("hub.dispatcher").await;
    app.triage_and_assign(&dispatcher, id, "utilities", "ZZ-GDGS", None)
        .await;
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

fn tick(app: &TestApp, now: DateTime<Utc>) -> escalate::Pass {
    let mut conn = app.pool.get().expect("conn");
    escalate::tick(&mut conn, now).expect("tick")
}

#[tokio::test]
async fn missed_deadlines_escalate_one_level_each_once() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file_many(&app, 1, 0).await.remove(0);
    assign(&app, &id).await;
    let level = |app: &TestApp| {
        app.count(&format!(
            "SELECT escalation_level::bigint AS n FROM problems WHERE id = '{id}'"
        ))
    };
    let outbox = |audience: &str| {
        app.count(&format!(
            "SELECT count(*) AS n FROM notification_outbox WHERE problem_id = '{id}' AND kind = 'problem.escalated' AND audience = '{audience}'"
        ))
    };

    // Contact due Wednesday 25 November 23:59:59: nothing before, level 1 after.
    assert_eq!(tick(&app, at("2026-11-25T23:59:00+08:00")).escalations, 0);
    assert_eq!(tick(&app, at("2026-11-26T00:01:00+08:00")).escalations, 1);
    assert_eq!(level(&app), 1);
    assert_eq!(outbox("department"), 1);
    // Running again changes nothing.
    assert_eq!(
        tick(&app, at("2026-11-26T00:02:00+08:00")),
        escalate::Pass::default()
    );
    assert_eq!(outbox("department"), 1);

    // Signing for it late does not undo level 1; the answer is due Friday 27th.
    app.clock.set(at("2026-11-26T09:00:00+08:00"));
    let clerk = app.token("gdgs.clerk").await;
    app.post(&format!("/api/v1/problems/{id}/accept"), Some(&clerk), json!({}))
        .await;
    assert_eq!(tick(&app, at("2026-11-28T08:00:00+08:00")).escalations, 1);
    assert_eq!(level(&app), 2);
    assert_eq!(outbox("department_leadership"), 1);
    assert_eq!(outbox("dispatching_unit"), 1, "officer.zhang's dispatching unit");

    // Five working days after the due date (Friday 4 December) it reaches the hub.
    assert_eq!(tick(&app, at("2026-12-04T20:00:00+08:00")).escalations, 0);
    assert_eq!(tick(&app, at("2026-12-05T08:00:00+08:00")).escalations, 1);
    assert_eq!(level(&app), 3);
    let hub_unit = app.unit_id("ZZ-HUB").await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM notification_outbox WHERE problem_id = '{id}' AND audience = 'hub_leadership' AND recipient_unit_id = '{hub_unit}'"
        )),
        1
    );
    assert_eq!(
        tick(&app, at("2026-12-20T08:00:00+08:00")).escalations,
        0,
        "level 3 is the top"
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let problem = app
        .get(&format!("/api/v1/problems/{id}"), Some(&dispatcher))
        .await;
    let escalated: Vec<i64> = problem.body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["type"] == "escalated")
        .map(|e| e["details"]["level"].as_i64().expect("level"))
        .collect();
    assert_eq!(escalated, vec![1, 2, 3]);
    assert_eq!(problem.body["escalation_level"], 3);
}

#[tokio::test]
async fn a_newly_overdue_problem_escalates_behind_five_hundred_already_at_their_level() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file_many(&app, 1, 0).await.remove(0);
    assign(&app, &id).await;
    // 500 copies whose contact deadline passed a day earlier and that already escalated for it:
    // older than the new one, and with nothing more to do until their answer is late.
    let columns = app.text(
        "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) AS t \
           FROM information_schema.columns WHERE table_name = 'problems' AND is_generated = 'NEVER'",
    );
    app.exec(&format!(
        "INSERT INTO problems ({columns}) SELECT {columns} FROM ( \
           SELECT (jsonb_populate_record(p, jsonb_build_object( \
             'id', gen_random_uuid(), 'contact_due_at', p.contact_due_at - interval '1 day', \
             'escalation_level', 1, 'number', NULL))).* \
           FROM problems p, generate_series(1, 500) WHERE p.id = '{id}') copies"
    ));

    let pass = tick(&app, at("2026-11-26T08:00:00+08:00"));

    assert_eq!(pass.escalations, 1, "{pass:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT escalation_level::bigint AS n FROM problems WHERE id = '{id}'"
        )),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM problems WHERE escalation_level = 1"),
        501,
        "the copies are left as they were"
    );
}

#[tokio::test]
async fn two_instances_escalating_at_once_escalate_each_problem_once() {
    let app = spawn_app().await;
    app.seed_demo();
    let filed = file_many(&app, 12, 0).await;
    for id in &filed {
        assign(&app, id).await;
    }
    let twin = spawn_app_with(Options {
        database_url: Some(database_url(&app.db_name)),
        ..Options::default()
    })
    .await;
    // Both instances run the job at the same moment, several times over.
    let now = at("2026-11-26T08:00:00+08:00");
    let runs: Vec<_> = (0..6)
        .map(|i| {
            let pool = if i % 2 == 0 {
                app.pool.clone()
            } else {
                twin.pool.clone()
            };
            std::thread::spawn(move || {
                let mut conn = pool.get().expect("conn");
                escalate::tick(&mut conn, now).expect("tick")
            })
        })
        .collect();
    let passes: Vec<escalate::Pass> = runs.into_iter().map(|r| r.join().expect("run")).collect();
    assert_eq!(
        passes.iter().map(|p| p.escalations).sum::<usize>(),
        12,
        "{passes:?}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM problem_escalations"), 12);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM problem_events WHERE event_type = 'escalated'"),
        12
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'problem.escalated'"),
        12
    );
}
