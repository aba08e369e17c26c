//! 日总结: a region's working day summed up live before its figures time, frozen after it (by
//! the first reader or by the reminders job, which announces it), identical from Redis or
//! PostgreSQL, compared with the previous working day, printable, and only for those who lead.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::{json, Value};

use crate::assignment_meetings::{download, sheet_rows};
use crate::helpers::{redis_url, spawn_app, TestApp};
use crate::lifecycle::{assigned, file};

const PATH: &str = "/api/v1/reports/daily";

fn china(d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(2026, 11, d, h, min, 0)
        .single()
        .expect("valid")
        .with_timezone(&Utc)
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p["problem_id"].as_str())
        .collect()
}

fn change<'a>(summary: &'a Value, figure: &str) -> &'a Value {
    summary["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["figure"] == figure)
        .expect("every figure is compared")
}

async fn redis_copy(app: &TestApp, key: &str) -> Option<String> {
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    redis::cmd("GET")
        .arg(format!("{}{key}", app.redis_prefix))
        .query_async(&mut conn)
        .await
        .expect("GET")
}

async fn forget_redis_copy(app: &TestApp, key: &str) {
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{}{key}", app.redis_prefix))
        .query_async(&mut conn)
        .await
        .expect("DEL");
}

/// Today (Friday 2026-11-20): an urgent problem raised, one settled on the spot with a benefit,
/// one two working days overdue and one that fell overdue this morning, both with 国网株洲供电公司.
async fn a_day_of_work(app: &TestApp) -> (String, String, String, String) {
    let (officer, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let urgent = app
        .post(
            "/api/v1/problems",
            Some(&officer),
            json!({"enterprise_id": enterprise, "title": "专线跳闸", "description": "二车间专线频繁跳闸，整线停产", "urgency": "urgent"}),
        )
        .await;
    assert_eq!(urgent.status, 201, "{}", urgent.text);
    let urgent = urgent.body["id"].as_str().expect("id").to_owned();
    let settled = file(app, "咨询社保缓缴政策").await;
    let resolved = app
        .post(
            &format!("/api/v1/problems/{settled}/resolve-on-site"),
            Some(&officer),
            json!({"resolution": "现场讲解并协助申请", "benefits": {"fees_reduced_yuan": 1_200_000}}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.text);
    let late = assigned(app, "厂区变压器需要增容").await;
    let newly_late = assigned(app, "园区道路照明损坏").await;
    app.exec(&format!(
        "UPDATE problems SET due_at = '2026-11-18 23:59:59+08' WHERE id = '{late}'"
    ));
    app.exec(&format!(
        "UPDATE problems SET due_at = '2026-11-20 09:00:00+08' WHERE id = '{newly_late}'"
    ));
    (urgent, settled, late, newly_late)
}

#[tokio::test]
async fn a_working_day_is_live_before_its_figures_time_and_frozen_after_it() {
    let app = spawn_app().await;
    app.seed_demo();
    let (urgent, settled, late, newly_late) = a_day_of_work(&app).await;
    let dispatcher = app.token("hub.dispatcher").await;

    let live = app.get(PATH, Some(&dispatcher)).await;
    assert_eq!(live.status, 200, "{}", live.text);
    assert_eq!(live.body["day"], "2026-11-20");
    assert_eq!(live.body["region_code"], "430200");
    assert_eq!(live.body["frozen"], false);
    assert_eq!(live.body["frozen_at"], Value::Null);
    assert_eq!(live.body["as_of"], "2026-11-20T10:00:00+08:00");
    assert_eq!(live.body["previous_day"], "2026-11-19");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM daily_summaries"),
        0,
        "a live summary is not stored"
    );

    // 18:05: summed up as of 18:00 by this first read, and stored.
    app.clock.set(china(20, 18, 5));
    let dispatcher = app.token("hub.dispatcher").await;
    let frozen = app.get(PATH, Some(&dispatcher)).await;
    assert_eq!(frozen.status, 200, "{}", frozen.text);
    let s = &frozen.body;
    assert_eq!(s["frozen"], true);
    assert_eq!(s["as_of"], "2026-11-20T18:00:00+08:00");
    assert_eq!(s["frozen_at"], "2026-11-20T18:05:00+08:00");
    let f = &s["figures"];
    assert_eq!(f["problems_new"], 4);
    assert_eq!(f["problems_urgent_new"], 1);
    assert_eq!(ids(&s["urgent"]), [urgent.as_str()]);
    assert_eq!(
        (f["problems_closed"].as_i64(), f["problems_solved"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(ids(&s["closed"]), [settled.as_str()]);
    // Settled on the spot by the officer: an outcome no department gives (found by the fuzzer).
    assert_eq!(s["closed"][0]["outcome"], "resolved_on_site");
    assert_eq!(crate::spec::disagreements(PATH, s), Vec::<String>::new());
    assert_eq!(s["closed"][0]["benefits"]["fees_reduced_yuan"], 1_200_000);
    assert_eq!(s["closed_benefits"]["fees_reduced_yuan"], 1_200_000);
    assert_eq!(s["closed_benefits"]["problems"], 1);
    assert_eq!(
        (
            f["problems_overdue"].as_i64(),
            f["problems_newly_overdue"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        ids(&s["overdue"]),
        [late.as_str(), newly_late.as_str()],
        "longest overdue first"
    );
    assert_eq!(s["overdue"][0]["working_days_overdue"], 2);
    assert_eq!(s["overdue"][0]["department"], "国网株洲供电公司");
    assert_eq!(s["overdue"][1]["working_days_overdue"], 0);
    assert_eq!(
        s["slowest_departments"],
        json!([{"department_id": app.unit_id("ZZ-GDGS").await, "department": "国网株洲供电公司",
                "open": 2, "overdue": 2, "most_working_days_overdue": 2}])
    );
    let categories: i64 = s["new_by_category"]
        .as_array()
        .expect("categories")
        .iter()
        .filter_map(|c| c["count"].as_i64())
        .sum();
    assert_eq!(categories, 4, "every new problem in one category count");
    // Nothing of this existed at the previous working day's figures time.
    let overdue = change(s, "problems_overdue");
    assert_eq!(
        (overdue["previous"].as_f64(), overdue["change"].as_f64()),
        (Some(0.0), Some(2.0))
    );
    assert_eq!(overdue["notable"], true);
    assert_eq!(overdue["text"], "逾期问题 2 件，比上一工作日多 2 件");
    assert_eq!(s["changes"][0]["notable"], true, "notable changes first");
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_summaries"), 1);

    // Later work changes nothing in it.
    app.clock.set(china(20, 19, 0));
    file(&app, "晚间新报的问题").await;
    app.exec(&format!("UPDATE problems SET due_at = NULL WHERE id = '{late}'"));
    let again = app.get(PATH, Some(&dispatcher)).await;
    assert_eq!(again.text, frozen.text, "frozen");

    // Identical from Redis or PostgreSQL: the copy is the stored summary, byte for byte.
    let key = "summary:daily:430200:2026-11-20";
    let copy = redis_copy(&app, key).await.expect("kept in Redis");
    assert_eq!(copy, frozen.text);
    forget_redis_copy(&app, key).await;
    let from_postgres = app.get(PATH, Some(&dispatcher)).await;
    assert_eq!(from_postgres.text, frozen.text, "from PostgreSQL");
    assert_eq!(
        redis_copy(&app, key).await.as_deref(),
        Some(frozen.text.as_str()),
        "copied again"
    );
    let stored = app.text(&format!(
        "SELECT (body = $${}$$::jsonb)::text AS t FROM daily_summaries",
        frozen.text
    ));
    assert_eq!(stored, "true", "the stored body is the answer");
}

#[tokio::test]
async fn the_reminders_job_freezes_each_hubs_region_and_announces_the_frozen_figures() {
    let app = spawn_app().await;
    app.seed_demo();
    app.forget_outbox();
    a_day_of_work(&app).await;
    let tick = |at: DateTime<Utc>| {
        app.clock.set(at);
        let mut conn = app.pool.get().expect("conn");
        zhuqi::jobs::reminders::tick(&mut conn, at).expect("reminders")
    };
    assert_eq!(tick(china(20, 17, 59)).figures, 0, "not before 18:00");
    assert_eq!(app.count("SELECT count(*) AS n FROM daily_summaries"), 0);
    assert_eq!(tick(china(20, 18, 0)).figures, 1);
    assert_eq!(tick(china(20, 18, 1)).figures, 0, "once a day");
    let stored: Value = serde_json::from_str(&app.text(
        "SELECT body::text AS t FROM daily_summaries WHERE region_code = '430200' AND day = '2026-11-20'",
    ))
    .expect("json");
    let payload: Value = serde_json::from_str(
        &app.text("SELECT payload::text AS t FROM notification_outbox WHERE kind = 'region.daily_figures'"),
    )
    .expect("json");
    let f = &stored["figures"];
    assert_eq!(stored["frozen_at"], "2026-11-20T18:00:00+08:00");
    assert_eq!(payload["new_problems"], f["problems_new"]);
    assert_eq!(payload["closed"], f["problems_closed"]);
    assert_eq!(payload["overdue"], f["problems_overdue"]);
    assert_eq!(payload["sign_ins"], f["officers_signed_in"]);

    // A region that switched the announcement off is still summed up, silently.
    let admin = app.token("demo.admin").await;
    let off = app
        .put(
            "/api/v1/admin/regions/430200/notification-settings",
            Some(&admin),
            json!({"disabled_kinds": ["region.daily_figures"], "sign_in_reminder_at": "10:00",
                   "report_reminder_at": "19:00", "digest_at": "10:30", "figures_at": "17:30"}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(tick(china(23, 17, 30)).figures, 0);
    assert_eq!(
        app.text("SELECT to_char(as_of AT TIME ZONE 'Asia/Shanghai', 'HH24:MI') AS t FROM daily_summaries WHERE day = '2026-11-23'"),
        "17:30",
        "at the region's own figures time"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_outbox WHERE kind = 'region.daily_figures'"),
        1
    );
}

#[tokio::test]
async fn a_summary_is_for_the_hub_and_admins_of_working_days_that_have_begun() {
    let app = spawn_app().await;
    app.seed_demo();
    let dispatcher = app.token("hub.dispatcher").await;
    for (who, code) in [
        ("officer.zhang", "stats.forbidden"),
        ("czj.admin", "stats.forbidden"),
        ("gdgs.clerk", "stats.forbidden"),
    ] {
        let token = app.token(who).await;
        let refused = app.get(PATH, Some(&token)).await;
        assert_eq!((refused.status, refused.code()), (403, code), "{who}");
    }
    let district = app
        .get(&format!("{PATH}?region_code=430204"), Some(&dispatcher))
        .await;
    assert_eq!(district.status, 200, "{}", district.text);
    assert_eq!(district.body["region_code"], "430204");
    app.create_admin("cs.admin", "430100", "长沙市");
    let other_city = app.token("cs.admin").await;
    let outside = app
        .get(&format!("{PATH}?region_code=430200"), Some(&other_city))
        .await;
    assert_eq!((outside.status, outside.code()), (404, "not_found"));

    let saturday = app
        .get(&format!("{PATH}?day=2026-11-14"), Some(&dispatcher))
        .await;
    assert_eq!(
        (saturday.status, saturday.code()),
        (422, "report.not_working_day")
    );
    assert_eq!(saturday.body["error"]["details"]["day"], "2026-11-14");
    let monday = app
        .get(&format!("{PATH}?day=2026-11-23"), Some(&dispatcher))
        .await;
    assert_eq!((monday.status, monday.code()), (422, "report.day_not_started"));
    for bad in ["?day=2019-12-31", "?day=20261120", "?day=", "?region_code="] {
        let refused = app.get(&format!("{PATH}{bad}"), Some(&dispatcher)).await;
        assert_eq!(
            (refused.status, refused.code()),
            (400, "request.invalid_query"),
            "{bad}"
        );
    }
    // On a Saturday the default is the Friday before, frozen by then.
    app.clock.set(china(21, 9, 0));
    let dispatcher = app.token("hub.dispatcher").await;
    let weekend = app.get(PATH, Some(&dispatcher)).await;
    assert_eq!(weekend.status, 200, "{}", weekend.text);
    assert_eq!(
        (weekend.body["day"].as_str(), weekend.body["frozen"].as_bool()),
        (Some("2026-11-20"), Some(true))
    );
}

#[tokio::test]
async fn the_summary_prints_on_a4_and_the_demo_has_the_last_working_days() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let dispatcher = app.token("hub.dispatcher").await;
    // The demo froze the five working days before today, each against the one before.
    let days: Vec<String> = app
        .text("SELECT string_agg(day::text, ',' ORDER BY day) AS t FROM daily_summaries WHERE region_code = '430200'")
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(
        days,
        [
            "2026-11-13",
            "2026-11-16",
            "2026-11-17",
            "2026-11-18",
            "2026-11-19"
        ]
    );
    let thursday = app
        .get(&format!("{PATH}?day=2026-11-19"), Some(&dispatcher))
        .await;
    assert_eq!(thursday.status, 200, "{}", thursday.text);
    assert_eq!(thursday.body["frozen"], true);
    assert!(
        thursday.body["figures"]["officers_signed_in"].as_i64() > Some(0),
        "{}",
        thursday.text
    );
    let report_rate = change(&thursday.body, "report_rate");
    assert!(
        report_rate["previous"].is_number(),
        "compared with the Wednesday's: {report_rate}"
    );

    let (status, bytes) = download(&app, &format!("{PATH}.xlsx?day=2026-11-19"), &dispatcher).await;
    assert_eq!(status, 200);
    let sheets = sheet_rows(&bytes);
    assert_eq!(sheets.len(), 1);
    let (name, rows) = &sheets[0];
    assert_eq!(name, "日总结");
    assert_eq!(rows[0][0], "株洲市日总结");
    let text: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    for section in [
        "一、总体情况",
        "二、较上一工作日（2026-11-18）",
        "三、新增问题分类",
        "七、办理最慢的部门",
    ] {
        assert!(text.contains(&section), "{section} in {text:?}");
    }
    // Asking the JSON path for Excel only gives the same workbook.
    let negotiated = app
        .client
        .get(app.url(&format!("{PATH}?day=2026-11-19")))
        .bearer_auth(&dispatcher)
        .header(
            "Accept",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .send()
        .await
        .expect("workbook");
    assert_eq!(negotiated.status(), 200);
    assert_eq!(
        negotiated.headers()["content-disposition"],
        "attachment; filename=\"daily-430200-2026-11-19.xlsx\""
    );
}
