//! 惠企成效: benefits stated with an answer, checked, shown on the problem and summed.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::lifecycle::{assigned, file};

#[tokio::test]
async fn benefits_are_stated_with_the_answer_and_summed_by_category_department_and_region() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = assigned(&app, "企业扩产需增容，同时流动资金紧张").await;
    let clerk = app.token("gdgs.clerk").await;
    app.act(&clerk, &id, "accept", json!({})).await;
    let bad = app
        .post(
            &format!("/api/v1/problems/{id}/respond"),
            Some(&clerk),
            json!({"resolution": "已解决", "outcome": "resolved",
                   "benefits": {"loan_yuan": -5, "positions_filled": 2_000_000, "other": "字".repeat(501)}}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "validation.failed"));
    let fields: Vec<&str> = bad.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "benefits.loan_yuan",
            "benefits.positions_filled",
            "benefits.other"
        ]
    );
    assert_eq!(
        app.text(&format!("SELECT status AS t FROM problems WHERE id = '{id}'")),
        "in_progress"
    );

    let answered = app
        .post(
            &format!("/api/v1/problems/{id}/respond"),
            Some(&clerk),
            json!({"resolution": "已完成增容并协调银行续贷", "outcome": "resolved",
                   "benefits": {"loan_yuan": 20_000_000, "positions_filled": 30, "other": "  协调用电增容  "}}),
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    assert_eq!(
        answered.body["benefits"],
        json!({"loan_yuan": 20_000_000, "fees_reduced_yuan": null, "subsidies_yuan": null, "positions_filled": 30, "other": "协调用电增容"})
    );

    // An officer settles another on the spot, with fees reduced.
    let on_site = file(&app, "咨询社保缓缴政策").await;
    let (officer, _) = app.officer_at("中车株洲电力机车有限公司").await;
    let resolved = app
        .post(
            &format!("/api/v1/problems/{on_site}/resolve-on-site"),
            Some(&officer),
            json!({"resolution": "现场讲解并协助申请", "benefits": {"fees_reduced_yuan": 1_200_000}}),
        )
        .await;
    assert_eq!(resolved.status, 200, "{}", resolved.text);
    // And a third answer states none.
    let plain = assigned(&app, "道路破损").await;
    app.act(&clerk, &plain, "accept", json!({})).await;
    let none = app
        .act(
            &clerk,
            &plain,
            "respond",
            json!({"resolution": "已修复", "outcome": "resolved", "benefits": {"other": " "}}),
        )
        .await;
    assert_eq!(none.status, "responded");
    assert_eq!(
        app.text(&format!(
            "SELECT coalesce(benefit_other, 'null') AS t FROM problems WHERE id = '{plain}'"
        )),
        "null"
    );

    let dispatcher = app.token("hub.dispatcher").await;
    let path = "/api/v1/stats/benefits?from=2026-11-01&to=2026-11-30";
    let stats = app.get(path, Some(&dispatcher)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert_eq!(
        stats.body["totals"],
        json!({"problems": 2, "loan_yuan": 20_000_000, "fees_reduced_yuan": 1_200_000, "subsidies_yuan": 0, "positions_filled": 30, "with_other": 1})
    );
    let by_department = stats.body["by_department"].as_array().expect("by_department");
    assert_eq!(by_department[0]["department_name"], "国网株洲供电公司");
    assert_eq!(by_department[0]["loan_yuan"], 20_000_000);
    assert_eq!(
        by_department[1]["department_id"],
        serde_json::Value::Null,
        "the on-site resolution"
    );
    assert_eq!(by_department[1]["fees_reduced_yuan"], 1_200_000);
    let categories: Vec<(serde_json::Value, i64)> = stats.body["by_category"]
        .as_array()
        .expect("by_category")
        .iter()
        .map(|c| (c["category"].clone(), c["problems"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(
        categories,
        [(serde_json::Value::Null, 1), (json!("utilities"), 1)]
    );
    assert_eq!(stats.body["by_region"][0]["region_code"], "430204");
    assert_eq!(stats.body["by_region"][0]["problems"], 2);
    // The overview carries the month so far: the same sums.
    let overview = app.get("/api/v1/stats/overview", Some(&dispatcher)).await;
    assert_eq!(overview.body["benefits_month"], stats.body["totals"]);
    // The cached answer is the computed one.
    let again = app.get(path, Some(&dispatcher)).await;
    assert_eq!(again.body, stats.body);
    // A period before the answers has none.
    let earlier = app
        .get(
            "/api/v1/stats/benefits?from=2026-10-01&to=2026-10-31",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(earlier.body["totals"]["problems"], 0);
    let refused = app.get(path, Some(&officer)).await;
    assert_eq!((refused.status, refused.code()), (403, "stats.forbidden"));

    // The monthly report carries them per officer and unit, and keeps them once frozen.
    let monthly_path = "/api/v1/reports/monthly?month=2026-11";
    let monthly = app.get(monthly_path, Some(&dispatcher)).await;
    assert_eq!(monthly.status, 200, "{}", monthly.text);
    assert_eq!(monthly.body["totals"]["benefits"], stats.body["totals"]);
    let units_with_benefits: Vec<&serde_json::Value> = monthly.body["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| &u["benefits"])
        .filter(|b| b["problems"] != 0)
        .collect();
    assert_eq!(units_with_benefits, [&stats.body["totals"]], "the officer's unit");
    let own = app.get(monthly_path, Some(&officer)).await;
    assert_eq!(own.body["officers"][0]["benefits"], stats.body["totals"]);
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-12-01T11:00:00+08:00")
            .expect("instant")
            .into(),
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let frozen = app.get(monthly_path, Some(&dispatcher)).await;
    assert_eq!(frozen.body["frozen"], true, "{}", frozen.text);
    assert_eq!(frozen.body["totals"]["benefits"], stats.body["totals"]);
    assert_eq!(
        app.count("SELECT sum(benefit_loan_yuan)::int8 AS n FROM monthly_officer_figures"),
        20_000_000
    );
}

#[tokio::test]
async fn the_problem_ledger_carries_the_number_and_the_benefits() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = assigned(&app, "流动资金紧张，需续贷").await;
    let clerk = app.token("gdgs.clerk").await;
    app.act(&clerk, &id, "accept", json!({})).await;
    app.act(
        &clerk,
        &id,
        "respond",
        json!({"resolution": "已协调续贷", "outcome": "resolved", "benefits": {"loan_yuan": 6_078_000_000_i64, "subsidies_yuan": 140_200}}),
    )
    .await;
    let number = app.text(&format!("SELECT number AS t FROM problems WHERE id = '{id}'"));
    let dispatcher = app.token("hub.dispatcher").await;
    let response = app
        .client
        .get(app.url("/api/v1/exports/problems.xlsx"))
        .bearer_auth(&dispatcher)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.expect("bytes").to_vec();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("xlsx");
    let range = book.worksheet_range("全部").expect("sheet");
    let row: Vec<String> = range
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>())
        .find(|r| r[14] == number)
        .expect("the problem's row");
    assert_eq!(&row[15..], ["6078000000", "", "140200", "", ""]);
}
