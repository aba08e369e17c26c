//! 企业评价联络员: an enterprise's contact rates the officers stationed with it each month; the
//! officers' figures show counts and means, never who rated what.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

fn officer<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .expect("officers")
        .iter()
        .find(|o| o["name"] == name)
        .expect("the officer")
}

#[tokio::test]
async fn a_contact_rates_their_officers_monthly_and_officers_see_only_means() {
    let app = spawn_app().await;
    app.seed_demo();
    let contact = app.token("qianjin.contact").await;
    let rateable = app.get("/api/v1/me/officer-ratings", Some(&contact)).await;
    assert_eq!(rateable.status, 200, "{}", rateable.text);
    assert_eq!(rateable.body["month"], "2026-11");
    assert_eq!(rateable.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rateable.body["items"][0]["name"], "李娜");
    assert_eq!(rateable.body["items"][0]["rating"], Value::Null);
    let li = rateable.body["items"][0]["officer_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/api/v1/me/officer-ratings/{li}");

    let bad = app
        .put(
            &path,
            Some(&contact),
            json!({"presence": 0, "responsiveness": 4, "help": 6}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "validation.failed"));
    let fields: Vec<&str> = bad.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["presence", "help"]);
    let zhang = app.text("SELECT id::text AS t FROM users WHERE username = 'officer.zhang'");
    let elsewhere = app
        .put(
            &format!("/api/v1/me/officer-ratings/{zhang}"),
            Some(&contact),
            json!({"presence": 5, "responsiveness": 5, "help": 5}),
        )
        .await;
    assert_eq!(
        (elsewhere.status, elsewhere.code()),
        (404, "not_found"),
        "not stationed here"
    );
    let first = app
        .put(
            &path,
            Some(&contact),
            json!({"presence": 2, "responsiveness": 2, "help": 2}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let rated = app
        .put(
            &path,
            Some(&contact),
            json!({"presence": 5, "responsiveness": 4, "help": 5, "comment": "  常驻企业，问题跟得紧 "}),
        )
        .await;
    assert_eq!(rated.status, 200, "{}", rated.text);
    assert_eq!(rated.body["comment"], "常驻企业，问题跟得紧");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM officer_ratings"),
        1,
        "the second replaced the first"
    );
    let again = app.get("/api/v1/me/officer-ratings", Some(&contact)).await;
    assert_eq!(again.body["items"][0]["rating"]["presence"], 5);
    let officer_token = app.token("officer.li").await;
    let not_a_contact = app
        .put(
            &path,
            Some(&officer_token),
            json!({"presence": 5, "responsiveness": 5, "help": 5}),
        )
        .await;
    assert_eq!(
        (not_a_contact.status, not_a_contact.code()),
        (403, "auth.role_required")
    );

    // A second rating of the month (another contact of an enterprise she serves): (3, 4, 2).
    app.exec(&format!(
        "INSERT INTO officer_ratings (officer_id, enterprise_id, rater_id, month, presence, responsiveness, help, created_at, updated_at)
         SELECT '{li}', e.id, u.id, '2026-11-01', 3, 4, 2, now(), now()
           FROM enterprises e, users u WHERE e.name = '株洲千金药业股份有限公司' AND u.username = 'demo.admin'"
    ));
    // Hand-computed over (5, 4, 5) and (3, 4, 2): 4.0, 4.0, 3.5; all three 23 / 6 = 3.83.
    let expected = json!({"count": 2, "presence": 4.0, "responsiveness": 4.0, "help": 3.5, "overall": 3.83});
    let dispatcher = app.token("hub.dispatcher").await;
    let ranking = app
        .get(
            "/api/v1/stats/officers?from=2026-11-01&to=2026-11-30&sort=name",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(
        officer(&ranking.body["items"], "李娜")["enterprise_ratings"],
        expected
    );
    let own = app
        .get("/api/v1/reports/monthly?month=2026-11", Some(&officer_token))
        .await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.body["officers"][0]["enterprise_ratings"], expected);
    assert!(
        !own.text.contains("冯千金") && !own.text.contains("问题跟得紧"),
        "never who rated what: {}",
        own.text
    );
    // The month frozen keeps them.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-12-01T11:00:00+08:00")
            .expect("instant")
            .into(),
    );
    let officer_token = app.token("officer.li").await;
    let frozen = app
        .get("/api/v1/reports/monthly?month=2026-11", Some(&officer_token))
        .await;
    assert_eq!(frozen.body["frozen"], true, "{}", frozen.text);
    assert_eq!(frozen.body["officers"][0]["enterprise_ratings"], expected);
}
