//! The mini-program SDK (`sdk/`) end to end against this server: `make test` builds the SDK
//! (`npm test --prefix sdk` compiles `build/test/e2e/morning.js`), and this test runs it in Node
//! as a newly rostered officer's first morning — WeChat login and bind through the fake WeChat,
//! today, sign-in, and a report with a problem whose answer the "network" loses, then a problem
//! written offline and sent after a restart — and checks that the server holds exactly one of
//! each.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, CRRC};

#[tokio::test]
async fn an_officers_first_morning_through_the_sdk_files_everything_exactly_once() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sdk/build/test/e2e/morning.js");
    assert!(
        script.exists(),
        "{} is missing: `make test` builds the SDK (npm ci and npm test in sdk/)",
        script.display()
    );
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let created = app
        .post(
            "/api/v1/admin/users",
            Some(&admin),
            json!({"username": "officer.sdk", "name": "宋晓", "phone": "13907335511", "roles": ["officer"],
                   "unit_code": "ZZ-CZJ", "region_code": "430200"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let invite = created.body["invite_code"].as_str().expect("invite").to_owned();
    let credit = app.text("SELECT credit_code AS t FROM enterprises WHERE name = '中车株洲电力机车有限公司'");
    let assigned = app
        .post(
            "/api/v1/admin/assignments",
            Some(&admin),
            json!({"officer_username": "officer.sdk", "enterprise_credit_code": credit, "start_day": "2026-11-01"}),
        )
        .await;
    assert_eq!(assigned.status, 201, "{}", assigned.text);

    let (address, lat, lng) = (app.address.clone(), CRRC.0.to_string(), CRRC.1.to_string());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".to_owned()))
            .arg(script)
            .env("ZHUQI_BASE_URL", address)
            .env("ZHUQI_WX_CODE", "code-openid-sdk-officer")
            .env("ZHUQI_PHONE", "13907335511")
            .env("ZHUQI_INVITE", invite)
            .env("ZHUQI_LAT", lat)
            .env("ZHUQI_LNG", lng)
            .output()
    })
    .await
    .expect("joined")
    .expect("node runs (Node 20 is on the machine)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the SDK's morning failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .expect("the script's summary line");

    let officer = app.text("SELECT id::text AS t FROM users WHERE username = 'officer.sdk'");
    let count = |sql: &str| app.count(&sql.replace("$officer", &officer));
    assert_eq!(
        count("SELECT count(*) AS n FROM sign_ins WHERE officer_id = '$officer'"),
        1
    );
    assert_eq!(
        count("SELECT count(*) AS n FROM daily_reports WHERE officer_id = '$officer'"),
        1
    );
    assert_eq!(
        count("SELECT count(*) AS n FROM daily_report_revisions r JOIN daily_reports d ON d.id = r.report_id WHERE d.officer_id = '$officer'"),
        1,
        "the lost answer's retry was replayed, not filed again"
    );
    let problems = summary["problem_ids"].as_array().expect("problem ids");
    assert_eq!(
        count("SELECT count(*) AS n FROM problems WHERE reporter_id = '$officer'"),
        problems.len() as i64
    );
    assert_eq!(
        problems.len(),
        2,
        "the report's problem and the one written offline: {summary}"
    );
    assert_eq!(
        app.text(&format!(
            "SELECT id::text AS t FROM daily_reports WHERE officer_id = '{officer}'"
        )),
        summary["report_id"].as_str().expect("report id")
    );
    // The upload whose answer was lost is one file, attached to the report's problem.
    assert_eq!(
        app.text(&format!(
            "SELECT string_agg(a.id::text || ' ' || a.media_type || ' ' || a.problem_id::text, ',') AS t \
               FROM attachments a WHERE a.uploaded_by = '{officer}'"
        )),
        format!(
            "{} application/pdf {}",
            summary["attachment_id"].as_str().expect("attachment id"),
            problems[0].as_str().expect("problem id")
        )
    );
    assert_eq!(
        app.text("SELECT wechat_openid AS t FROM users WHERE username = 'officer.sdk'"),
        "openid-sdk-officer"
    );
}
