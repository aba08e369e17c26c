use serde_json::json;

use crate::helpers::spawn_app;
use zhuqi::domain::credit_code::CreditCode;

#[tokio::test]
async fn an_admin_creates_reads_updates_and_finds_an_enterprise_by_credit_code() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let credit = CreditCode::from_parts("91", "430211", "CRUD0001")
        .expect("valid")
        .to_string();
    let created = app
        .post(
            "/api/v1/admin/enterprises",
            Some(&admin),
            json!({"credit_code": credit.to_lowercase(), "name": "株洲新能源科技有限公司", "region_code": "430211",
                   "lat": 27.83, "lng": 113.09, "address": "天元区“动力谷”"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["credit_code"], credit);
    assert_eq!(created.body["address"], "天元区“动力谷”");
    let id = created.body["id"].as_str().expect("id");

    let found = app
        .get(
            &format!("/api/v1/admin/enterprises?credit_code={credit}"),
            Some(&admin),
        )
        .await;
    assert_eq!(found.body["items"][0]["id"], id);

    let patched = app
        .patch(
            &format!("/api/v1/admin/enterprises/{id}"),
            Some(&admin),
            json!({"geofence_m": 300}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["geofence_m"], 300);
    assert_eq!(patched.body["name"], "株洲新能源科技有限公司");

    let duplicate = app
        .post(
            "/api/v1/admin/enterprises",
            Some(&admin),
            json!({"credit_code": credit, "name": "重复", "region_code": "430211", "lat": 27.8, "lng": 113.1}),
        )
        .await;
    assert_eq!(
        (duplicate.status, duplicate.code()),
        (409, "enterprise.credit_code_taken")
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM audit_log WHERE object_type = 'enterprise' AND action = 'enterprise.update'"), 1);
}

#[tokio::test]
async fn an_invalid_credit_code_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let reply = app
        .post(
            "/api/v1/admin/enterprises",
            Some(&admin),
            json!({"credit_code": "91430211MA4L00010A", "name": "x", "region_code": "430211", "lat": 27.8, "lng": 113.1}),
        )
        .await;
    assert_eq!((reply.status, reply.code()), (422, "validation.failed"));
    assert_eq!(
        reply.body["error"]["details"]["errors"][0]["field"],
        "credit_code"
    );
    let unknown = app
        .post(
            "/api/v1/admin/enterprises",
            Some(&admin),
            json!({"colour": "red"}),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (400, "request.invalid_body"));
}

#[tokio::test]
async fn units_regions_and_assignments_are_managed_by_natural_keys() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let unit = app
        .post(
            "/api/v1/admin/units",
            Some(&admin),
            json!({"code": "ZZ-SWJ2", "name": "株洲市商务局", "kind": "department", "region_code": "430200"}),
        )
        .await;
    assert_eq!(unit.status, 201, "{}", unit.text);
    let by_code = app.get("/api/v1/admin/units?code=ZZ-SWJ2", Some(&admin)).await;
    assert_eq!(by_code.body["items"][0]["name"], "株洲市商务局");
    let taken = app
        .post(
            "/api/v1/admin/units",
            Some(&admin),
            json!({"code": "ZZ-SWJ2", "name": "again", "kind": "hub", "region_code": "430200"}),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "unit.code_taken"));

    let region = app
        .post(
            "/api/v1/admin/regions",
            Some(&admin),
            json!({"code": "430299", "name": "测试新区", "parent_code": "430200"}),
        )
        .await;
    assert_eq!(region.status, 201, "{}", region.text);
    let renamed = app
        .patch(
            "/api/v1/admin/regions/430299",
            Some(&admin),
            json!({"name": "株洲新区"}),
        )
        .await;
    assert_eq!(renamed.body["name"], "株洲新区");

    let credit = app
        .get("/api/v1/admin/enterprises?name=千金", Some(&admin))
        .await
        .body["items"][0]["credit_code"]
        .clone();
    let assignment = app
        .post("/api/v1/admin/assignments", Some(&admin), json!({"officer_username": "officer.wang", "enterprise_credit_code": credit, "start_day": "2026-11-01"}))
        .await;
    assert_eq!(assignment.status, 201, "{}", assignment.text);
    assert_eq!(assignment.body["officer_username"], "officer.wang");
    let again = app
        .post("/api/v1/admin/assignments", Some(&admin), json!({"officer_username": "officer.wang", "enterprise_credit_code": credit, "start_day": "2026-11-01"}))
        .await;
    assert_eq!((again.status, again.code()), (409, "assignment.exists"));
    let id = assignment.body["id"].as_str().expect("id");
    let early = app
        .patch(
            &format!("/api/v1/admin/assignments/{id}"),
            Some(&admin),
            json!({"end_day": "2026-10-01"}),
        )
        .await;
    assert_eq!((early.status, early.code()), (422, "validation.failed"));
    let ended = app
        .patch(
            &format!("/api/v1/admin/assignments/{id}"),
            Some(&admin),
            json!({"end_day": "2026-11-30"}),
        )
        .await;
    assert_eq!(ended.body["end_day"], "2026-11-30");
    let empty = app
        .patch(
            &format!("/api/v1/admin/assignments/{id}"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(empty.status, 400);
    let not_officer = app
        .post("/api/v1/admin/assignments", Some(&admin), json!({"officer_username": "rsj.clerk", "enterprise_credit_code": credit, "start_day": "2026-11-01"}))
        .await;
    assert_eq!(not_officer.code(), "validation.failed");
}

#[tokio::test]
async fn a_created_user_gets_a_one_time_invite_code_and_the_phone_must_be_unique() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let user = app
        .post("/api/v1/admin/users", Some(&admin), json!({"username": "officer.new", "name": "新联络员", "phone": "13807339999", "roles": ["officer"], "unit_code": "ZZ-KJJ", "region_code": "430200"}))
        .await;
    assert_eq!(user.status, 201, "{}", user.text);
    assert_eq!(user.body["invite_pending"], true);
    assert_eq!(user.body["invite_code"].as_str().map(str::len), Some(10));
    let same_phone = app
        .post("/api/v1/admin/users", Some(&admin), json!({"username": "officer.dup", "name": "重复", "phone": "13807339999", "roles": ["officer"], "unit_code": "ZZ-KJJ", "region_code": "430200"}))
        .await;
    assert_eq!((same_phone.status, same_phone.code()), (422, "validation.failed"));
    let no_unit = app
        .post("/api/v1/admin/users", Some(&admin), json!({"username": "officer.nounit", "name": "无单位", "phone": "13807338888", "roles": ["officer"], "region_code": "430200"}))
        .await;
    assert_eq!(
        no_unit.body["error"]["details"]["errors"][0]["field"],
        "unit_code"
    );
}

#[tokio::test]
async fn lists_page_with_a_cursor_and_refuse_bad_limits() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/enterprises?limit=5&cursor={c}"),
            None => "/api/v1/admin/enterprises?limit=5".to_owned(),
        };
        let page = app.get(&path, Some(&admin)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        for item in page.body["items"].as_array().expect("items") {
            seen.push(item["id"].as_str().expect("id").to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 12);
    seen.dedup();
    assert_eq!(seen.len(), 12);
    for bad in ["limit=0", "limit=101", "cursor=not-a-cursor", "limit=ten"] {
        let reply = app
            .get(&format!("/api/v1/admin/enterprises?{bad}"), Some(&admin))
            .await;
        assert_eq!(reply.status, 400, "{bad}");
    }
    let default = app.get("/api/v1/admin/users", Some(&admin)).await;
    assert_eq!(default.body["items"].as_array().map(Vec::len), Some(13));
}

#[tokio::test]
async fn a_retried_create_with_the_same_key_creates_once_and_keeps_no_invite_code() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let body = json!({"username": "officer.retry", "name": "重试", "phone": "13807337777", "roles": ["officer"], "unit_code": "ZZ-KJJ", "region_code": "430200"});
    let send = || {
        app.keyed(
            reqwest::Method::POST,
            "/api/v1/admin/users",
            &admin,
            "create-officer-retry",
            &body,
        )
    };
    let first = send().await;
    let second = send().await;
    assert_eq!(first.status, 201, "{}", first.text);
    // The answer held an invite code: shown once, never stored for a replay.
    assert_eq!(
        (second.status, second.code()),
        (409, "idempotency.not_replayable")
    );
    let code = first.body["invite_code"].as_str().expect("invite code");
    assert!(!second.text.contains(code));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'officer.retry'"),
        1
    );
    // Without a key a resend is a new request, refused as a duplicate.
    let without_key = app.post("/api/v1/admin/users", Some(&admin), body.clone()).await;
    assert_eq!(without_key.status, 422, "{}", without_key.text);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'officer.retry'"),
        1
    );
}

#[tokio::test]
async fn the_audit_log_keeps_no_phone_number_or_openid_in_clear() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let user = app
        .get("/api/v1/admin/users?username=officer.li", Some(&admin))
        .await;
    let id = user.body["items"][0]["id"].as_str().expect("id").to_owned();
    app.exec(&format!(
        "UPDATE users SET wechat_openid = 'o-secret-openid' WHERE id = '{id}'"
    ));
    let changed = app
        .patch(
            &format!("/api/v1/admin/users/{id}"),
            Some(&admin),
            json!({"phone": "13912345678"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let logged = app.text(&format!(
        "SELECT string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' ') AS t \
         FROM audit_log WHERE object_id = '{id}'"
    ));
    assert!(logged.contains("139****5678"), "{logged}");
    assert!(
        !logged.contains("13912345678") && !logged.contains("13807330012"),
        "{logged}"
    );
    assert!(!logged.contains("o-secret-openid"), "{logged}");
}

#[tokio::test]
async fn a_district_admin_does_not_manage_the_staff_of_a_city_unit() {
    let app = spawn_app().await;
    app.seed_demo();
    let city = app.token("demo.admin").await;
    app.post(
        "/api/v1/admin/regions",
        Some(&city),
        json!({"code": "430211", "name": "天元区", "parent_code": "430200"}),
    )
    .await;
    // A clerk of a city department who lives in the district.
    let user = app
        .get("/api/v1/admin/users?username=rsj.clerk", Some(&city))
        .await;
    let id = user.body["items"][0]["id"].as_str().expect("id").to_owned();
    app.exec(&format!(
        "UPDATE users SET region_code = '430211' WHERE id = '{id}'"
    ));
    app.create_admin("tianyuan.admin", "430211", "天元区");
    let district = app.token("tianyuan.admin").await;
    let read = app
        .get(&format!("/api/v1/admin/users/{id}"), Some(&district))
        .await;
    assert_eq!(read.status, 404, "{}", read.text);
    let password = app
        .put(
            &format!("/api/v1/admin/users/{id}/password"),
            Some(&district),
            json!({"new_password": "区里改的密码2026"}),
        )
        .await;
    assert_eq!(password.status, 404);
    assert_eq!(
        app.get(&format!("/api/v1/admin/users/{id}"), Some(&city))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn roster_fields_must_have_their_json_types() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    for (path, body) in [
        (
            "/api/v1/admin/regions",
            json!({"code": "430299", "name": 5, "parent_code": "430200"}),
        ),
        (
            "/api/v1/admin/regions",
            json!({"code": "430299", "name": true, "parent_code": "430200"}),
        ),
        (
            "/api/v1/admin/users",
            json!({"username": "x.y", "name": "某", "roles": "officer", "unit_code": "ZZ-KJJ", "region_code": "430200"}),
        ),
    ] {
        let reply = app.post(path, Some(&admin), body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "request.invalid_body"),
            "{body}: {}",
            reply.text
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM regions WHERE code = '430299'"),
        0
    );
}
