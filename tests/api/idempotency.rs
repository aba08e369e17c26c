use chrono::Duration;
use diesel::RunQueryDsl;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_repeat_while_the_first_still_runs_is_409_in_progress() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let enterprise = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let session = app.login("officer.zhang", crate::helpers::PASSWORD).await;
    let token = session["access_token"].as_str().expect("token");
    let user_id = session["user"]["id"].as_str().expect("id");
    // Hold the key's lock the way a running first request does.
    let mut holder = app.pool.get().expect("conn");
    diesel::sql_query(format!(
        "SELECT pg_advisory_lock(hashtextextended('idempotency:{user_id}:key-1', 7411))"
    ))
    .execute(&mut holder)
    .expect("lock");
    let body = json!({"enterprise_id": enterprise, "description": "园区道路破损"});
    let busy = app
        .keyed(reqwest::Method::POST, "/api/v1/problems", token, "key-1", &body)
        .await;
    assert_eq!((busy.status, busy.code()), (409, "idempotency.in_progress"));
    diesel::sql_query("SELECT pg_advisory_unlock_all()")
        .execute(&mut holder)
        .expect("unlock");
    let done = app
        .keyed(reqwest::Method::POST, "/api/v1/problems", token, "key-1", &body)
        .await;
    assert_eq!(done.status, 201);
}

/// A sign-in is written in one statement, so a simultaneous resend does not see it "in
/// progress": it waits the few milliseconds the statement takes and gets the same answer.
#[tokio::test]
async fn simultaneous_resends_of_a_sign_in_give_one_sign_in_and_one_answer() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let token = app.token("officer.zhang").await;
    let body = json!({"enterprise_id": enterprise, "lat": 27.8885, "lng": 113.1655, "device_id": "phone-1"});
    let sends = (0..12).map(|_| {
        app.keyed(
            reqwest::Method::POST,
            "/api/v1/sign-ins",
            &token,
            "morning-1",
            &body,
        )
    });
    let replies = futures_util::future::join_all(sends).await;
    let first = &replies[0];
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(reply.body, first.body);
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_ins"), 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM idempotency_records WHERE key = 'morning-1'"),
        1
    );
    // A resend under a new key (the phone restarted) gets the day's first record with 200.
    let later = app
        .keyed(
            reqwest::Method::POST,
            "/api/v1/sign-ins",
            &token,
            "morning-2",
            &body,
        )
        .await;
    assert_eq!(later.status, 200, "{}", later.text);
    assert_eq!(later.body["id"], first.body["id"]);
    assert_eq!(later.body["signed_at"], first.body["signed_at"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_ins"), 1);
}

#[tokio::test]
async fn keys_are_scoped_to_the_caller() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let enterprise = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let zhang = app.token("officer.zhang").await;
    let contact = app.token("qianjin.contact").await;
    let own = app.enterprise_id(&admin, "株洲千金药业").await;
    let a = app
        .keyed(
            reqwest::Method::POST,
            "/api/v1/problems",
            &zhang,
            "shared",
            &json!({"enterprise_id": enterprise, "description": "甲"}),
        )
        .await;
    let b = app
        .keyed(
            reqwest::Method::POST,
            "/api/v1/problems",
            &contact,
            "shared",
            &json!({"enterprise_id": own, "description": "乙"}),
        )
        .await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_ne!(a.body["id"], b.body["id"]);
    let blank = app
        .keyed(
            reqwest::Method::POST,
            "/api/v1/problems",
            &contact,
            "",
            &json!({}),
        )
        .await;
    assert_eq!(blank.code(), "idempotency.key_invalid");
}

#[tokio::test]
async fn records_are_kept_a_day_and_pruned_after_two() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let enterprise = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let zhang = app.token("officer.zhang").await;
    let body = json!({"enterprise_id": enterprise, "description": "保留测试"});
    app.keyed(reqwest::Method::POST, "/api/v1/problems", &zhang, "k", &body)
        .await;
    let mut conn = app.pool.get().expect("conn");
    let later = app.clock.now() + Duration::hours(24);
    assert_eq!(
        zhuqi::jobs::prune_idempotency::tick(&mut conn, later).expect("tick"),
        0
    );
    let much_later = app.clock.now() + Duration::hours(49);
    assert_eq!(
        zhuqi::jobs::prune_idempotency::tick(&mut conn, much_later).expect("tick"),
        1
    );
    assert_eq!(
        zhuqi::jobs::prune_idempotency::tick(&mut conn, much_later).expect("tick"),
        0
    );
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_422_whatever_the_json_media_type() {
    let app = spawn_app().await;
    app.seed_demo();
    let token = app.token("officer.zhang").await;
    let enterprise = app.crrc().await;
    let send = |description: &str| {
        app.send(
            app.client
                .post(app.url("/api/v1/problems"))
                .bearer_auth(&token)
                .header("idempotency-key", "vendor-json-1")
                .header("content-type", "application/vnd.zhuqi+json")
                .body(json!({"enterprise_id": enterprise, "description": description}).to_string()),
        )
    };
    let first = send("园区道路破损影响货车通行").await;
    assert_eq!(first.status, 201, "{}", first.text);
    let other = send("厂区停电三天，生产停滞").await;
    assert_eq!(
        (other.status, other.code()),
        (422, "idempotency.key_reused"),
        "{}",
        other.text
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM problems"), 1);
}

#[tokio::test]
async fn an_invite_code_is_shown_once_and_never_kept_for_a_replay() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let user = app
        .get("/api/v1/admin/users?username=officer.li", Some(&admin))
        .await;
    let id = user.body["items"][0]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/admin/users/{id}/invite");
    let first = app
        .keyed(reqwest::Method::POST, &path, &admin, "invite-1", &json!({}))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let code = first.body["invite_code"].as_str().expect("code").to_owned();
    let again = app
        .keyed(reqwest::Method::POST, &path, &admin, "invite-1", &json!({}))
        .await;
    assert_eq!((again.status, again.code()), (409, "idempotency.not_replayable"));
    assert!(!again.text.contains(&code));
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM idempotency_records WHERE key = 'invite-1' AND response_body IS NULL"
        ),
        1
    );
}
