//! Notifications: each kind produced by its event, delivered once (also with two instances),
//! retried and dead-lettered, held in quiet hours, cut to WeChat's field limits, and in the
//! recipient's inbox; reminders follow the official calendar.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Options, Scripted, TestApp, CRRC, ROBOT_SECRET};
use crate::lifecycle::assigned;

const ASSIGNED_TEMPLATE: &str = "TPL-ASSIGNED-0001";

fn china(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid")
        .with_timezone(&Utc)
}

async fn set_template(app: &TestApp, kind: &str, body: Value) {
    let admin = app.token("demo.admin").await;
    let put = app
        .put(
            &format!("/api/v1/admin/notification-templates/{kind}"),
            Some(&admin),
            body,
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
}

/// The demo city, its old events forgotten, with the assignment template, 国网株洲供电公司's
/// DingTalk robot, and its clerk on WeChat with `credits` accepted subscriptions.
async fn city(app: &TestApp, long_term: bool, credits: usize) {
    app.seed_demo();
    app.forget_outbox();
    set_template(
        app,
        "problem.assigned",
        json!({
            "template_id": ASSIGNED_TEMPLATE,
            "page": "pages/problem/detail?id={problem_id}",
            "fields": {"thing1": "title", "thing2": "enterprise", "time3": "due_at", "phrase4": "status"},
            "long_term": long_term,
        }),
    )
    .await;
    let admin = app.token("demo.admin").await;
    let unit = app.unit_id("ZZ-GDGS").await;
    let robot = app
        .put(
            &format!("/api/v1/admin/units/{unit}/robot"),
            Some(&admin),
            json!({
                "platform": "dingtalk",
                "webhook": format!("{}/robot/send?access_token=gdgs-group", app.wechat.base),
                "secret": ROBOT_SECRET,
            }),
        )
        .await;
    assert_eq!(robot.status, 200, "{}", robot.text);
    app.exec("UPDATE users SET wechat_openid = 'o-gdgs-clerk' WHERE username = 'gdgs.clerk'");
    let clerk = app.token("gdgs.clerk").await;
    for _ in 0..credits {
        let accepted = app
            .post(
                "/api/v1/me/subscriptions",
                Some(&clerk),
                json!({"results": [{"template_id": ASSIGNED_TEMPLATE, "accepted": true}]}),
            )
            .await;
        assert_eq!(accepted.status, 200, "{}", accepted.text);
    }
}

fn push_states(app: &TestApp) -> Vec<(String, String, i64)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        channel: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        attempts: i64,
    }
    use diesel::RunQueryDsl;
    let mut conn = app.pool.get().expect("conn");
    diesel::sql_query(
        "SELECT channel, status, attempts::bigint AS attempts FROM notification_deliveries ORDER BY id",
    )
    .load::<Row>(&mut conn)
    .expect("pushes")
    .into_iter()
    .map(|r| (r.channel, r.status, r.attempts))
    .collect()
}

#[tokio::test]
async fn an_assignment_reaches_the_departments_inbox_wechat_and_group_robot_once() {
    let app = spawn_app().await;
    city(&app, false, 1).await;
    let description = "新建厂房的变压器增容申请已经三个月没有批复，影响新生产线投产，请供电公司尽快协调";
    let id = assigned(&app, description).await;
    app.notify().await;

    let sends = app.wechat.sends();
    assert_eq!(sends.len(), 1, "{sends:?}");
    let message = &sends[0].body;
    assert_eq!(message["touser"], "o-gdgs-clerk");
    assert_eq!(message["template_id"], ASSIGNED_TEMPLATE);
    assert_eq!(message["page"], format!("pages/problem/detail?id={id}"));
    let title = message["data"]["thing1"]["value"].as_str().expect("thing");
    assert_eq!(title.chars().count(), 20, "{title}");
    assert!(title.ends_with('…'), "{title}");
    assert_eq!(message["data"]["thing2"]["value"], "中车株洲电力机车有限公司");
    let due = message["data"]["time3"]["value"].as_str().expect("time");
    assert!(due.ends_with(" 23:59") && due.contains('年'), "{due}");
    assert_eq!(message["data"]["phrase4"]["value"], "已交办");

    let posts = app.wechat.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].signed, "the robot's signature checks out");
    assert_eq!(posts[0].body["msgtype"], "markdown");
    assert!(posts[0].body["markdown"]["text"]
        .as_str()
        .expect("text")
        .contains("新交办问题"));
    assert_ne!(sends[0].push_id, posts[0].push_id, "each push has its own id");

    let clerk = app.token("gdgs.clerk").await;
    let inbox = app.get("/api/v1/me/notifications", Some(&clerk)).await;
    assert_eq!(inbox.status, 200, "{}", inbox.text);
    let items = inbox.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "problem.assigned");
    assert_eq!(items[0]["link"], json!({"type": "problem", "id": id}));
    assert!(items[0]["read_at"].is_null());
    assert_eq!(
        app.get("/api/v1/me", Some(&clerk)).await.body["unread_notifications"],
        1
    );

    let metrics = app.get("/metrics", None).await;
    assert!(
        metrics
            .text
            .contains("zhuqi_notification_pushes_total{channel=\"wechat\",outcome=\"sent\"} 1"),
        "{}",
        metrics.text
    );

    // Nothing is sent twice, and nothing more without another acceptance.
    app.notify().await;
    assert_eq!(app.wechat.sends().len(), 1);
    let mut states = push_states(&app);
    states.sort();
    assert_eq!(
        states,
        vec![
            ("robot".to_owned(), "sent".to_owned(), 1),
            ("wechat".to_owned(), "sent".to_owned(), 1)
        ]
    );
    assigned(&app, "双回路供电接入方案需要确认").await;
    app.notify().await;
    assert_eq!(app.wechat.sends().len(), 1, "the one acceptance was used");
    assert_eq!(app.wechat.posts().len(), 2, "the group hears of every assignment");
    let unread = app
        .get("/api/v1/me/notifications?unread=true", Some(&clerk))
        .await;
    assert_eq!(unread.body["items"].as_array().expect("items").len(), 2);

    // Another user can neither read nor mark it; the clerk can.
    let notification = items[0]["id"].as_str().expect("id");
    let other = app.token("rsj.clerk").await;
    let foreign = app
        .post(
            &format!("/api/v1/me/notifications/{notification}/read"),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(foreign.status, 404);
    assert_eq!(
        app.get("/api/v1/me/notifications", Some(&other)).await.body["items"],
        json!([])
    );
    let read = app
        .post(
            &format!("/api/v1/me/notifications/{notification}/read"),
            Some(&clerk),
            json!({}),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert!(read.body["read_at"].is_string());
    let all = app
        .post("/api/v1/me/notifications/read-all", Some(&clerk), json!({}))
        .await;
    assert_eq!(all.body["marked"], 1);
    assert_eq!(
        app.get("/api/v1/me", Some(&clerk)).await.body["unread_notifications"],
        0
    );
}

#[tokio::test]
async fn wechat_errors_are_retried_refreshed_or_dead_lettered_as_they_deserve() {
    let app = spawn_app().await;
    city(&app, true, 0).await;
    let clerk_pushes = |app: &TestApp| {
        push_states(app)
            .into_iter()
            .filter(|(channel, _, _)| channel == "wechat")
            .map(|(_, status, attempts)| (status, attempts))
            .collect::<Vec<_>>()
    };

    // 40001: the token is refreshed once and the message sent.
    app.wechat.script(&[Scripted::RotateToken]);
    assigned(&app, "变压器增容").await;
    app.notify().await;
    assert_eq!(app.wechat.sends().len(), 1);
    assert_eq!(clerk_pushes(&app), vec![("sent".to_owned(), 1)]);

    // 43101: the user has no subscription; never retried, still in the inbox.
    app.wechat.script(&[Scripted::Errcode(43101)]);
    assigned(&app, "线路改造").await;
    app.notify().await;
    // 47003: bad template data; dead at once.
    app.wechat.script(&[Scripted::Errcode(47003)]);
    assigned(&app, "电费结算").await;
    app.notify().await;
    assert_eq!(
        clerk_pushes(&app)[1..],
        [("unsubscribed".to_owned(), 1), ("dead".to_owned(), 1)]
    );
    app.clock.advance(Duration::hours(2));
    app.notify().await;
    assert_eq!(app.wechat.sends().len(), 1, "neither is tried again");

    // -1 and a timeout: retried after a backoff, then sent.
    app.wechat.script(&[Scripted::Errcode(-1)]);
    assigned(&app, "停电检修通知").await;
    app.notify().await;
    app.wechat.script(&[Scripted::Delay(1500)]);
    assigned(&app, "临时用电").await;
    app.notify().await;
    assert_eq!(
        clerk_pushes(&app)[3..],
        [("pending".to_owned(), 1), ("pending".to_owned(), 1)]
    );
    let error = app.text("SELECT last_error AS t FROM notification_deliveries WHERE channel = 'wechat' ORDER BY id OFFSET 3 LIMIT 1");
    assert!(error.contains("-1"), "{error}");
    app.notify().await;
    assert_eq!(app.wechat.sends().len(), 1, "not before the backoff has passed");
    app.clock.advance(Duration::minutes(2));
    app.notify().await;
    assert_eq!(
        clerk_pushes(&app)[3..],
        [("sent".to_owned(), 2), ("sent".to_owned(), 2)]
    );

    // A push that failed too often is given up.
    app.wechat.script(&[Scripted::Errcode(-1)]);
    assigned(&app, "配电房搬迁").await;
    app.notify().await;
    app.exec("UPDATE notification_deliveries SET attempts = 7, next_attempt_at = '2020-01-01' WHERE status = 'pending'");
    app.wechat.script(&[Scripted::Errcode(-1)]);
    app.notify().await;
    assert_eq!(clerk_pushes(&app)[5..], [("dead".to_owned(), 8)]);

    // Every one of them is in the clerk's inbox all the same.
    let clerk = app.token("gdgs.clerk").await;
    let inbox = app.get("/api/v1/me/notifications?limit=100", Some(&clerk)).await;
    assert_eq!(inbox.body["items"].as_array().expect("items").len(), 6);
    // Pages of the inbox follow each other without gaps or repeats, newest first.
    let first = app.get("/api/v1/me/notifications?limit=4", Some(&clerk)).await;
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(
            &format!("/api/v1/me/notifications?limit=4&cursor={cursor}"),
            Some(&clerk),
        )
        .await;
    assert!(second.body["next_cursor"].is_null());
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|n| n["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let paged: Vec<String> = ids(&first.body).into_iter().chain(ids(&second.body)).collect();
    assert_eq!(paged, ids(&inbox.body));
}

#[tokio::test]
async fn quiet_hours_hold_ordinary_pushes_until_morning_but_not_escalations() {
    let app = spawn_app().await;
    city(&app, true, 0).await;
    app.clock.set(china(2026, 11, 20, 23, 0));
    let id = assigned(&app, "夜间报修的供电故障").await;
    app.notify().await;
    assert!(app.wechat.sends().is_empty(), "held in quiet hours");
    assert!(app.wechat.posts().is_empty());
    let clerk = app.token("gdgs.clerk").await;
    assert_eq!(
        app.get("/api/v1/me/notifications", Some(&clerk)).await.body["items"][0]["kind"],
        "problem.assigned",
        "the inbox does not wait"
    );

    // Past the contact deadline (Wednesday 25th, end of day), at night: 督办 goes out at once.
    app.clock.set(china(2026, 11, 26, 0, 30));
    let pass = {
        let mut conn = app.pool.get().expect("conn");
        zhuqi::jobs::escalate::tick(&mut conn, app.clock.now()).expect("escalate")
    };
    assert_eq!(pass.escalations, 1);
    app.notify().await;
    let posts = app.wechat.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].body["markdown"]["text"]
        .as_str()
        .expect("text")
        .contains("逾期督办"));
    assert!(
        app.wechat.sends().is_empty(),
        "no template for escalations: inbox and robot only"
    );

    app.clock.set(china(2026, 11, 26, 7, 30));
    app.notify().await;
    assert_eq!(
        app.wechat.sends().len(),
        1,
        "the morning brings what the night held"
    );
    assert_eq!(app.wechat.posts().len(), 2);
    assert_eq!(
        app.wechat.sends()[0].body["page"],
        format!("pages/problem/detail?id={id}")
    );
}

#[tokio::test]
async fn two_instances_send_each_push_once() {
    let app = spawn_app().await;
    app.seed_demo();
    app.forget_outbox();
    set_template(
        &app,
        "officer.sign_in_missing",
        json!({"template_id": "TPL-SIGN-IN", "fields": {"thing1": "name", "date2": "day"}, "long_term": true}),
    )
    .await;
    app.exec("UPDATE users SET wechat_openid = 'o-' || username WHERE username LIKE 'officer.%'");
    // 400 reminders, as a week of reminder runs would write them.
    app.exec(
        "INSERT INTO notification_outbox (kind, recipient_user_id, audience, region_code, payload, created_at, dedupe_key)
         SELECT 'officer.sign_in_missing', u.id, 'user', u.region_code,
                jsonb_build_object('day', '2026-11-20', 'name', u.name), now(), 'test:' || u.id || ':' || n
           FROM users u CROSS JOIN generate_series(1, 100) AS n WHERE u.username LIKE 'officer.%'",
    );
    app.wechat
        .state
        .latency_ms
        .store(5, std::sync::atomic::Ordering::SeqCst);
    let twin = app.twin();
    tokio::join!(
        zhuqi::jobs::notify::pass(&app.state),
        zhuqi::jobs::notify::pass(&twin)
    );
    let sends = app.wechat.sends();
    let mut ids: Vec<i64> = sends.iter().map(|s| s.push_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(sends.len(), 400, "every push sent");
    assert_eq!(ids.len(), 400, "none twice");
    assert_eq!(app.count("SELECT count(*) AS n FROM notifications"), 400);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_deliveries WHERE status = 'sent'"),
        400
    );
}

fn remind(app: &TestApp, at: DateTime<Utc>) -> zhuqi::jobs::reminders::Reminded {
    app.clock.set(at);
    let mut conn = app.pool.get().expect("conn");
    zhuqi::jobs::reminders::tick(&mut conn, at).expect("reminders")
}

#[tokio::test]
async fn officers_are_reminded_on_official_working_days_only() {
    let app = spawn_app().await;
    app.seed_demo();
    app.forget_outbox();
    let officers = app.count("SELECT count(DISTINCT officer_id) AS n FROM assignments WHERE end_day IS NULL");
    assert!(officers >= 3);
    // 张伟 signs in before ten.
    let (zhang, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let signed = app
        .post(
            "/api/v1/sign-ins",
            Some(&zhang),
            json!({"enterprise_id": enterprise, "lat": CRRC.0, "lng": CRRC.1, "accuracy_m": 15}),
        )
        .await;
    assert_eq!(signed.status, 201, "{}", signed.text);

    assert_eq!(
        remind(&app, china(2026, 11, 20, 9, 59)).sign_ins,
        0,
        "not before ten"
    );
    let at_ten = remind(&app, china(2026, 11, 20, 10, 0));
    assert_eq!(at_ten.sign_ins as i64, officers - 1, "everyone but 张伟");
    assert_eq!(remind(&app, china(2026, 11, 20, 10, 1)).sign_ins, 0, "once a day");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_outbox o JOIN users u ON u.id = o.recipient_user_id WHERE u.username = 'officer.zhang'"),
        0
    );
    // Holidays and weekends: none; the make-up Saturday of the National Day holiday: yes.
    assert_eq!(remind(&app, china(2026, 11, 21, 10, 0)).sign_ins, 0, "a Saturday");
    assert_eq!(
        remind(&app, china(2026, 10, 1, 10, 0)).sign_ins,
        0,
        "National Day"
    );
    assert_eq!(
        remind(&app, china(2026, 10, 10, 10, 0)).sign_ins as i64,
        officers,
        "a make-up working day"
    );
    // Reports at seven in the evening.
    assert_eq!(remind(&app, china(2026, 11, 20, 18, 59)).reports, 0);
    assert_eq!(remind(&app, china(2026, 11, 20, 19, 0)).reports as i64, officers);

    app.notify().await;
    let li = app.token("officer.li").await;
    let inbox = app.get("/api/v1/me/notifications", Some(&li)).await;
    let kinds: Vec<&str> = inbox.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "officer.report_missing",
            "officer.sign_in_missing",
            "officer.sign_in_missing"
        ]
    );
    assert_eq!(
        inbox.body["items"][0]["link"],
        json!({"type": "daily_report", "day": "2026-11-20"})
    );
}

#[tokio::test]
async fn a_region_sets_its_own_times_and_switches_kinds_off() {
    let app = spawn_app().await;
    app.seed_demo();
    app.forget_outbox();
    let admin = app.token("demo.admin").await;
    let path = "/api/v1/admin/regions/430200/notification-settings";
    let defaults = app.get(path, Some(&admin)).await;
    assert_eq!(defaults.status, 200, "{}", defaults.text);
    assert_eq!(defaults.body["sign_in_reminder_at"], "10:00");
    assert!(defaults.body["inherited_from"].is_null());
    let set = app
        .put(
            path,
            Some(&admin),
            json!({
                "disabled_kinds": ["officer.report_missing"],
                "sign_in_reminder_at": "09:00", "report_reminder_at": "19:00",
                "digest_at": "10:30", "figures_at": "18:00",
            }),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    let district = app
        .get("/api/v1/admin/regions/430202/notification-settings", Some(&admin))
        .await;
    assert_eq!(district.body["inherited_from"], "430200");
    assert_eq!(district.body["sign_in_reminder_at"], "09:00");
    let bad = app
        .put(
            path,
            Some(&admin),
            json!({"disabled_kinds": [], "sign_in_reminder_at": "25:00",
            "report_reminder_at": "19:00", "digest_at": "10:30", "figures_at": "18:00"}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);

    assert!(
        remind(&app, china(2026, 11, 20, 9, 0)).sign_ins > 0,
        "at the region's nine o'clock"
    );
    // The 催报 digest to the dispatching unit's admin, and the day's figures to the hub.
    let digest = remind(&app, china(2026, 11, 20, 10, 30));
    assert!(digest.digests >= 1, "{digest:?}");
    let figures = remind(&app, china(2026, 11, 20, 18, 0));
    assert_eq!(figures.figures, 1);
    assert_eq!(
        remind(&app, china(2026, 11, 20, 19, 30)).reports,
        0,
        "switched off"
    );
    app.notify().await;
    let czj = app.token("czj.admin").await;
    let inbox = app.get("/api/v1/me/notifications", Some(&czj)).await;
    let body = inbox.body["items"][0]["body"].as_str().expect("body");
    assert_eq!(inbox.body["items"][0]["kind"], "unit.missing_digest");
    assert!(
        body.contains("株洲市财政局") && body.contains("张伟") && body.contains("李娜"),
        "{body}"
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let inbox = app.get("/api/v1/me/notifications", Some(&dispatcher)).await;
    assert_eq!(inbox.body["items"][0]["kind"], "region.daily_figures");
    assert!(inbox.body["items"][0]["body"]
        .as_str()
        .expect("body")
        .contains("签到"));

    // The hub's WeCom group gets the figures as markdown.
    let admin = app.token("demo.admin").await;
    let hub = app.unit_id("ZZ-HUB").await;
    let wecom = app
        .put(
            &format!("/api/v1/admin/units/{hub}/robot"),
            Some(&admin),
            json!({"platform": "wecom", "webhook": format!("{}/cgi-bin/webhook/send?key=hub-group", app.wechat.base)}),
        )
        .await;
    assert_eq!(wecom.status, 200, "{}", wecom.text);
    assert_eq!(remind(&app, china(2026, 11, 23, 18, 0)).figures, 1);
    app.notify().await;
    let posts = app.wechat.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].target, "hub-group");
    assert!(posts[0].body["markdown"]["content"]
        .as_str()
        .expect("content")
        .contains("株洲市日总结"));

    // Another city's admin reaches none of it.
    app.create_admin("cs.admin", "430100", "长沙市");
    let stranger = app.token("cs.admin").await;
    assert_eq!(app.get(path, Some(&stranger)).await.status, 404);
}

#[tokio::test]
async fn deadlines_are_reminded_a_working_day_ahead_and_the_lifecycle_notifies_each_side() {
    let app = spawn_app().await;
    city(&app, true, 0).await;
    let id = assigned(&app, "厂区供电线路老化需要改造").await;
    // Contact is due by Wednesday 25th: reminded on Tuesday at nine, once.
    assert_eq!(remind(&app, china(2026, 11, 24, 8, 59)).deadlines, 0);
    assert_eq!(remind(&app, china(2026, 11, 24, 9, 0)).deadlines, 1);
    assert_eq!(remind(&app, china(2026, 11, 24, 9, 5)).deadlines, 0);
    let kinds = |app: &TestApp| {
        app.text(&format!(
            "SELECT string_agg(kind, ',' ORDER BY id) AS t FROM notification_outbox WHERE problem_id = '{id}'"
        ))
    };
    assert_eq!(kinds(&app), "problem.assigned,problem.contact_due");

    // The department asks for more time, the hub decides, the department answers.
    let clerk = app.token("gdgs.clerk").await;
    let dispatcher = app.token("hub.dispatcher").await;
    app.act(&clerk, &id, "accept", json!({})).await;
    let asked = app
        .post(
            &format!("/api/v1/problems/{id}/extension"),
            Some(&clerk),
            json!({"requested_due_at": "2026-12-31", "reason": "需要停电施工窗口"}),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    let approved = app
        .post(
            &format!("/api/v1/problems/{id}/extension/approve"),
            Some(&dispatcher),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    app.act(
        &clerk,
        &id,
        "respond",
        json!({"outcome": "resolved", "resolution": "已完成线路改造"}),
    )
    .await;
    assert_eq!(
        kinds(&app),
        "problem.assigned,problem.contact_due,extension.requested,extension.decided,problem.responded"
    );
    app.notify().await;
    let kinds_of = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|n| n["kind"].as_str().expect("kind").to_owned())
            .collect()
    };
    let hub = app.get("/api/v1/me/notifications", Some(&dispatcher)).await;
    assert_eq!(kinds_of(&hub.body), ["extension.requested"]);
    let department = app.get("/api/v1/me/notifications", Some(&clerk)).await;
    assert_eq!(
        kinds_of(&department.body),
        ["extension.decided", "problem.contact_due", "problem.assigned"]
    );
    let (officer, _) = app.officer_at("中车株洲电力机车有限公司").await;
    let side = app.get("/api/v1/me/notifications", Some(&officer)).await;
    assert_eq!(kinds_of(&side.body), ["problem.responded"]);
    assert!(side.body["items"][0]["body"]
        .as_str()
        .expect("body")
        .contains("请评价"));

    // A return of a misrouted problem reaches the hub.
    app.clock.advance(Duration::minutes(10));
    let other = assigned(&app, "用电报装流程咨询").await;
    app.post(
        &format!("/api/v1/problems/{other}/return"),
        Some(&clerk),
        json!({"reason": "不属于本单位职责"}),
    )
    .await;
    app.notify().await;
    let hub = app.get("/api/v1/me/notifications", Some(&dispatcher)).await;
    assert_eq!(kinds_of(&hub.body)[0], "problem.returned");
}

#[tokio::test]
async fn users_mute_what_is_not_mandatory_and_each_acceptance_is_one_send() {
    let app = spawn_app().await;
    city(&app, false, 0).await;
    let clerk = app.token("gdgs.clerk").await;
    let settings = app.get("/api/v1/me/notification-settings", Some(&clerk)).await;
    assert_eq!(settings.body, json!({"muted_kinds": []}));
    let mandatory = app
        .put(
            "/api/v1/me/notification-settings",
            Some(&clerk),
            json!({"muted_kinds": ["problem.assigned"]}),
        )
        .await;
    assert_eq!((mandatory.status, mandatory.code()), (422, "validation.failed"));
    assert_eq!(
        mandatory.body["error"]["details"]["errors"][0]["field"],
        "muted_kinds[0]"
    );

    // An accepted subscription sent twice with one key counts once; without a key, twice.
    let once = json!({"results": [{"template_id": ASSIGNED_TEMPLATE, "accepted": true}]});
    for _ in 0..2 {
        let reply = app
            .keyed(
                reqwest::Method::POST,
                "/api/v1/me/subscriptions",
                &clerk,
                "accept-1",
                &once,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["items"][0]["remaining"], 1);
    }
    let rejected = app
        .post(
            "/api/v1/me/subscriptions",
            Some(&clerk),
            json!({"results": [{"template_id": ASSIGNED_TEMPLATE, "accepted": false}]}),
        )
        .await;
    assert_eq!(
        rejected.body["items"][0]["remaining"], 1,
        "a rejection allows nothing"
    );
    let unknown = app
        .post(
            "/api/v1/me/subscriptions",
            Some(&clerk),
            json!({"results": [{"template_id": "TPL-NOT-OURS", "accepted": true}]}),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (422, "validation.failed"));

    // An officer mutes the sign-in reminder: it lands in the inbox, unpushed.
    set_template(
        &app,
        "officer.sign_in_missing",
        json!({"template_id": "TPL-SIGN-IN", "fields": {"thing1": "name", "date2": "day"}, "long_term": true}),
    )
    .await;
    app.exec(
        "UPDATE users SET wechat_openid = 'o-' || username WHERE username IN ('officer.li', 'officer.zhang')",
    );
    let li = app.token("officer.li").await;
    let muted = app
        .put(
            "/api/v1/me/notification-settings",
            Some(&li),
            json!({"muted_kinds": ["officer.sign_in_missing"]}),
        )
        .await;
    assert_eq!(muted.status, 200, "{}", muted.text);
    remind(&app, china(2026, 11, 20, 10, 0));
    app.notify().await;
    let sent_to: Vec<String> = app
        .wechat
        .sends()
        .iter()
        .map(|s| s.body["touser"].as_str().expect("touser").to_owned())
        .collect();
    assert!(sent_to.contains(&"o-officer.zhang".to_owned()), "{sent_to:?}");
    assert!(!sent_to.contains(&"o-officer.li".to_owned()), "{sent_to:?}");
    let inbox = app.get("/api/v1/me/notifications", Some(&li)).await;
    assert_eq!(inbox.body["items"][0]["kind"], "officer.sign_in_missing");
}

#[tokio::test]
async fn templates_and_robots_are_configured_by_the_right_admins_and_secrets_never_come_back() {
    let app = spawn_app().await;
    city(&app, false, 0).await;
    let admin = app.token("demo.admin").await;
    let unit = app.unit_id("ZZ-GDGS").await;
    let robot = app
        .get(&format!("/api/v1/admin/units/{unit}/robot"), Some(&admin))
        .await;
    assert_eq!(robot.status, 200, "{}", robot.text);
    assert_eq!(robot.body["platform"], "dingtalk");
    assert_eq!(robot.body["has_secret"], true);
    assert!(
        !robot.text.contains("gdgs-group") && !robot.text.contains(ROBOT_SECRET),
        "{}",
        robot.text
    );
    assert_eq!(robot.body["webhook_hint"], "127.0.0.1/…roup");
    // Nothing of the webhook or the secret is readable in the database or the audit log.
    let stored = app.text(&format!(
        "SELECT encode(webhook_sealed, 'escape') || encode(secret_sealed, 'escape') AS t FROM unit_robots WHERE unit_id = '{unit}'"
    ));
    assert!(!stored.contains("gdgs-group") && !stored.contains("SECfake"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_log WHERE after::text LIKE '%gdgs-group%' OR after::text LIKE '%SECfake%'"),
        0
    );
    let elsewhere = app
        .put(
            &format!("/api/v1/admin/units/{unit}/robot"),
            Some(&admin),
            json!({"platform": "wecom", "webhook": "https://example.com/cgi-bin/webhook/send?key=x"}),
        )
        .await;
    assert_eq!((elsewhere.status, elsewhere.code()), (422, "validation.failed"));
    assert_eq!(
        elsewhere.body["error"]["details"]["errors"][0]["field"],
        "webhook"
    );

    let templates = app
        .get("/api/v1/admin/notification-templates", Some(&admin))
        .await;
    assert_eq!(templates.body["items"][0]["kind"], "problem.assigned");
    assert_eq!(templates.body["kinds"].as_array().expect("kinds").len(), 12);
    let wrong = app
        .put(
            "/api/v1/admin/notification-templates/problem.assigned",
            Some(&admin),
            json!({"template_id": "T", "fields": {"name1": "title", "thing2": "reason"}}),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (422, "validation.failed"));
    let fields: Vec<&str> = wrong.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["fields.name1", "fields.thing2"]);

    // A district admin may not change the city's templates, nor reach another city's units.
    let district = app
        .post(
            "/api/v1/admin/regions",
            Some(&admin),
            json!({"code": "430211", "name": "天元区", "parent_code": "430200"}),
        )
        .await;
    assert!(matches!(district.status, 201 | 409), "{}", district.text);
    app.create_admin("tianyuan.admin", "430211", "天元区");
    let district_admin = app.token("tianyuan.admin").await;
    let refused = app
        .put(
            "/api/v1/admin/notification-templates/problem.assigned",
            Some(&district_admin),
            json!({"template_id": "T", "fields": {"thing1": "title"}}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "admin.top_region_required")
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/admin/units/{unit}/robot"),
            Some(&district_admin)
        )
        .await
        .status,
        404
    );
    // An officer is no admin.
    let (officer, _) = app.officer_at("中车株洲电力机车有限公司").await;
    assert_eq!(
        app.get("/api/v1/admin/notification-templates", Some(&officer))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn the_demo_day_sends_each_kind_of_a_working_day_to_the_fakes() {
    let server = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://zhuqi@127.0.0.1:55432/postgres".to_owned());
    let database = format!("zhuqi_test_{}", uuid::Uuid::new_v4().simple());
    let report = zhuqi::demo::day::run(&server, &database, &crate::helpers::redis_url(), |_| {})
        .await
        .expect("the demo day runs");
    let _ = std::thread::spawn(move || {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut conn) = diesel::PgConnection::establish(&server) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                .execute(&mut conn);
        }
    })
    .join();
    for kind in [
        "problem.assigned",
        "problem.due_soon",
        "problem.responded",
        "officer.sign_in_missing",
        "officer.report_missing",
        "unit.missing_digest",
        "region.daily_figures",
    ] {
        assert!(
            report.by_kind.get(kind).is_some_and(|n| *n > 0),
            "{kind}: {:?}",
            report.by_kind
        );
    }
    assert!(report.wechat >= 10 && report.robot >= 5, "{report:?}");
    assert!(report.all_signed, "every robot post is signed");
    assert!(
        report.lines.iter().any(|l| l.starts_with("10:00  微信  张伟")),
        "{:#?}",
        report.lines
    );
}

#[tokio::test]
async fn instances_share_one_access_token_and_keep_sending_without_redis() {
    let app = spawn_app().await;
    city(&app, true, 0).await;
    assigned(&app, "变压器增容").await;
    app.notify().await;
    let twin = app.twin();
    assigned(&app, "线路改造").await;
    zhuqi::jobs::notify::pass(&twin).await;
    assert_eq!(app.wechat.sends().len(), 2);
    assert_eq!(
        app.wechat
            .state
            .tokens_issued
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the second instance took the token from Redis"
    );

    let lonely = spawn_app_with(Options {
        redis_url: "redis://127.0.0.1:1/0".to_owned(),
        ..Options::default()
    })
    .await;
    city(&lonely, true, 0).await;
    assigned(&lonely, "变压器增容").await;
    lonely.notify().await;
    assigned(&lonely, "线路改造").await;
    lonely.notify().await;
    assert_eq!(lonely.wechat.sends().len(), 2, "sent without Redis");
    assert_eq!(
        lonely
            .wechat
            .state
            .tokens_issued
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the instance kept its token in memory"
    );
}
