//! `GET /api/v1/me/today`: the officer's home screen in one answer, its ETag and 304, and that
//! it shows only the caller's own enterprises.

use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, CRRC};

async fn today(app: &TestApp, token: &str, etag: Option<&str>) -> crate::helpers::Reply {
    let mut request = app.client.get(app.url("/api/v1/me/today")).bearer_auth(token);
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    app.send(request).await
}

/// The screen's entry for `enterprise`.
fn item<'a>(screen: &'a serde_json::Value, enterprise: &str) -> &'a serde_json::Value {
    screen["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == enterprise))
        .unwrap_or_else(|| panic!("{enterprise} on the screen: {screen}"))
}

fn etag(reply: &crate::helpers::Reply) -> String {
    reply
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned()
}

#[tokio::test]
async fn the_home_screen_follows_the_morning_and_costs_a_304_when_unchanged() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let first = today(&app, &officer, None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        crate::spec::disagreements("/api/v1/me/today", &first.body),
        Vec::<String>::new()
    );
    assert_eq!(first.body["day"], "2026-11-20");
    assert_eq!(first.body["working_day"], true, "a Friday");
    let crrc = item(&first.body, &enterprise);
    assert_eq!(crrc["sign_in"], serde_json::Value::Null);
    assert_eq!(crrc["report"]["state"], "none");
    assert_eq!(crrc["report"]["closes_at"], "2026-11-21T10:00:00+08:00");
    assert_eq!(crrc["draft"]["open"], true);

    // Gzipped for a phone that accepts it (wx.request does), with the same validator.
    let zipped = app
        .client
        .get(app.url("/api/v1/me/today"))
        .bearer_auth(&officer)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("sent");
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(
        zipped.headers()["etag"].to_str().ok(),
        Some(etag(&first).as_str())
    );
    assert_eq!(zipped.headers()["vary"], "Accept-Encoding");
    let bytes = zipped.bytes().await.expect("body");
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(bytes.len() < first.text.len());
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut unzipped)
        .expect("gunzip");
    assert_eq!(unzipped, first.text, "the same answer");
    // A client that refuses gzip gets it plain.
    let plain = app
        .client
        .get(app.url("/api/v1/me/today"))
        .bearer_auth(&officer)
        .header("accept-encoding", "gzip;q=0, identity")
        .send()
        .await
        .expect("sent");
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.expect("text"), first.text);

    // Unchanged: 304 without a body; the same answer again has the same tag.
    let tag = etag(&first);
    let again = today(&app, &officer, Some(&tag)).await;
    assert_eq!(again.status, 304);
    assert!(again.text.is_empty());
    assert_eq!(etag(&again), tag);

    // A sign-in and a report change the screen.
    let signed = app
        .post(
            "/api/v1/sign-ins",
            Some(&officer),
            json!({"enterprise_id": enterprise, "lat": CRRC.0, "lng": CRRC.1}),
        )
        .await;
    assert_eq!(signed.status, 201, "{}", signed.text);
    let after = today(&app, &officer, Some(&tag)).await;
    assert_eq!(after.status, 200, "a changed screen is sent again");
    assert_ne!(etag(&after), tag);
    let crrc = item(&after.body, &enterprise);
    assert_eq!(crrc["sign_in"]["id"], signed.body["id"]);
    let filed = app
        .put(
            &format!("/api/v1/daily-reports/{enterprise}/2026-11-20"),
            Some(&officer),
            json!({
                "work_done": "走访总装车间",
                "production": {"status": "normal", "capacity_pct": 95, "staff_on_duty": 1300, "staff_total": 1350, "staff_shortage": 0},
                "difficulties": null,
            }),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    let screen = today(&app, &officer, None).await.body;
    let report = &item(&screen, &enterprise)["report"];
    assert_eq!(report["state"], "filed");
    assert_eq!(report["revision"], 1);
    assert_eq!(report["id"], filed.body["id"]);

    // The next day: the production is carried over into a prefilled draft; a Saturday is no
    // working day.
    let saturday = Shanghai
        .with_ymd_and_hms(2026, 11, 21, 8, 0, 0)
        .single()
        .expect("valid")
        .with_timezone(&Utc);
    app.clock.set(saturday);
    let officer = app
        .token(&app.text(&format!(
            "SELECT u.username AS t FROM users u JOIN assignments a ON a.officer_id = u.id \
          WHERE a.enterprise_id = '{enterprise}' LIMIT 1"
        )))
        .await;
    let next = today(&app, &officer, None).await;
    assert_eq!(next.body["working_day"], false, "{}", next.text);
    let crrc = item(&next.body, &enterprise);
    assert_eq!(crrc["report"]["state"], "prefilled");
    assert_eq!(crrc["draft"]["production"]["capacity_pct"], 95);
}

#[tokio::test]
async fn the_home_screen_is_the_officers_own_and_only_officers_have_one() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let other = app.text(&format!(
        "SELECT u.username AS t FROM users u WHERE 'officer' = ANY(u.roles) AND NOT EXISTS \
           (SELECT 1 FROM assignments a WHERE a.officer_id = u.id AND a.enterprise_id = '{enterprise}') \
          ORDER BY u.username LIMIT 1"
    ));
    let other = app.token(&other).await;
    let theirs = today(&app, &other, None).await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert!(
        !theirs.text.contains(&enterprise),
        "another officer's enterprise is not on the screen"
    );
    let mine = today(&app, &officer, None).await;
    assert!(mine.text.contains(&enterprise));
    let dispatcher = app.token("hub.dispatcher").await;
    let refused = today(&app, &dispatcher, None).await;
    assert_eq!((refused.status, refused.code()), (403, "auth.role_required"));
    let anonymous = app.get("/api/v1/me/today", None).await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn the_working_day_follows_the_official_calendar_not_the_weekday() {
    let app = spawn_app().await;
    app.seed_demo();
    let username =
        app.text("SELECT u.username AS t FROM users u JOIN assignments a ON a.officer_id = u.id LIMIT 1");
    for (day, worked) in [(1, false), (9, true), (10, true), (11, false)] {
        // 2026-10-01 (Thursday) National Day; 10-09 a Friday; 10-10 the make-up Saturday; 10-11 Sunday.
        let at = Shanghai
            .with_ymd_and_hms(2026, 10, day, 9, 0, 0)
            .single()
            .expect("valid")
            .with_timezone(&Utc);
        app.clock.set(at);
        let token = app.token(&username).await;
        let screen = today(&app, &token, None).await;
        assert_eq!(screen.status, 200, "{}", screen.text);
        assert_eq!(screen.body["working_day"], worked, "2026-10-{day:02}");
    }
}
