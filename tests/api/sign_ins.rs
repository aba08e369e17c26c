use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, CRRC};

fn at_crrc(enterprise: &str) -> Value {
    json!({"enterprise_id": enterprise, "lat": CRRC.0, "lng": CRRC.1, "accuracy_m": 15})
}

#[tokio::test]
async fn an_officer_signs_in_once_a_day_and_a_repeat_returns_the_first_record() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let first = app
        .post("/api/v1/sign-ins", Some(&zhang), at_crrc(&enterprise))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.body["within_geofence"], true);
    assert_eq!(first.body["distance_m"], 0.0);
    assert_eq!(first.body["day"], "2026-11-20");
    assert_eq!(
        first.body["signed_at"], "2026-11-20T10:00:00+08:00",
        "server time, China offset"
    );
    app.clock.advance(Duration::minutes(90));
    let again = app
        .post("/api/v1/sign-ins", Some(&zhang), at_crrc(&enterprise))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["signed_at"], first.body["signed_at"]);
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_ins"), 1);
}

#[tokio::test]
async fn a_sign_in_at_half_past_seven_china_time_lands_on_the_china_date() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    // 07:30 on 21 November in China is still 20 November in UTC.
    app.clock.set(
        Utc.with_ymd_and_hms(2026, 11, 20, 23, 30, 0)
            .single()
            .expect("valid"),
    );
    let zhang = app.token("officer.zhang").await;
    let reply = app
        .post("/api/v1/sign-ins", Some(&zhang), at_crrc(&enterprise))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["day"], "2026-11-21");
    assert_eq!(reply.body["signed_at"], "2026-11-21T07:30:00+08:00");
}

#[tokio::test]
async fn outside_the_geofence_needs_a_remark_and_is_flagged_as_field_work() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    // About 1.1 km north of the site.
    let away = json!({"enterprise_id": enterprise, "lat": CRRC.0 + 0.01, "lng": CRRC.1});
    let refused = app.post("/api/v1/sign-ins", Some(&zhang), away.clone()).await;
    assert_eq!((refused.status, refused.code()), (422, "signin.out_of_range"));
    let distance = refused.body["error"]["details"]["distance_m"]
        .as_f64()
        .expect("distance");
    assert!((1000.0..1200.0).contains(&distance), "{distance}");
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_ins"), 0);

    let mut field = away;
    field["remark"] = json!("在园区管委会协调用电问题（外勤）");
    let accepted = app.post("/api/v1/sign-ins", Some(&zhang), field).await;
    assert_eq!(accepted.status, 201, "{}", accepted.text);
    assert_eq!(accepted.body["within_geofence"], false);
    assert_eq!(accepted.body["remark"], "在园区管委会协调用电问题（外勤）");
}

#[tokio::test]
async fn a_poor_fix_is_refused() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let mut body = at_crrc(&enterprise);
    body["accuracy_m"] = json!(1500);
    let reply = app.post("/api/v1/sign-ins", Some(&zhang), body).await;
    assert_eq!((reply.status, reply.code()), (422, "signin.inaccurate"));
    let mut nonsense = at_crrc(&enterprise);
    nonsense["lat"] = json!(123.0);
    assert_eq!(
        app.post("/api/v1/sign-ins", Some(&zhang), nonsense).await.code(),
        "validation.failed"
    );
}

#[tokio::test]
async fn a_wgs84_fix_is_converted_before_measuring() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let mut body = at_crrc(&enterprise);
    body["coord"] = json!("wgs84");
    body["remark"] = json!("GPS");
    let reply = app.post("/api/v1/sign-ins", Some(&zhang), body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let distance = reply.body["distance_m"].as_f64().expect("distance");
    assert!(
        (100.0..800.0).contains(&distance),
        "the GCJ-02 shift, not zero: {distance}"
    );
    assert_ne!(reply.body["lat"], json!(CRRC.0));
}

#[tokio::test]
async fn only_assigned_enterprises_take_a_sign_in() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let others = app.enterprise_id(&admin, "株洲千金药业").await;
    let zhang = app.token("officer.zhang").await;
    let reply = app
        .post(
            "/api/v1/sign-ins",
            Some(&zhang),
            json!({"enterprise_id": others, "lat": 27.8306, "lng": 113.0875}),
        )
        .await;
    assert_eq!((reply.status, reply.code()), (403, "signin.not_assigned"));
    let unknown = app
        .post(
            "/api/v1/sign-ins",
            Some(&zhang),
            json!({"enterprise_id": uuid::Uuid::new_v4(), "lat": 27.8, "lng": 113.1}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let dispatcher = app.token("hub.dispatcher").await;
    let wrong_role = app
        .post("/api/v1/sign-ins", Some(&dispatcher), at_crrc(&others))
        .await;
    assert_eq!(
        (wrong_role.status, wrong_role.code()),
        (403, "auth.role_required")
    );
}

#[tokio::test]
async fn a_sign_in_from_a_new_device_is_flagged_not_refused() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let mut body = at_crrc(&enterprise);
    body["device_id"] = json!("iphone-13-zhang");
    let first = app.post("/api/v1/sign-ins", Some(&zhang), body.clone()).await;
    assert_eq!(
        first.body["new_device"], false,
        "the first device is the baseline"
    );
    app.clock.advance(Duration::days(1));
    let zhang = app.token("officer.zhang").await;
    body["device_id"] = json!("unknown-android");
    let second = app.post("/api/v1/sign-ins", Some(&zhang), body).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body["new_device"], true);
}

#[tokio::test]
async fn officers_see_only_their_own_sign_ins_and_their_unit_admin_sees_both() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    app.post("/api/v1/sign-ins", Some(&zhang), at_crrc(&enterprise))
        .await;
    let li = app.token("officer.li").await;
    let li_list = app.get("/api/v1/sign-ins", Some(&li)).await;
    assert_eq!(li_list.status, 200);
    assert_eq!(li_list.body["items"], json!([]));
    let own = app.get("/api/v1/sign-ins?day=2026-11-20", Some(&zhang)).await;
    assert_eq!(own.body["items"].as_array().map(Vec::len), Some(1));
    let unit_admin = app.token("czj.admin").await;
    assert_eq!(
        app.get("/api/v1/sign-ins", Some(&unit_admin)).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let wang = app.token("officer.wang").await;
    assert_eq!(
        app.get("/api/v1/sign-ins", Some(&wang)).await.body["items"],
        json!([])
    );
    let dispatcher = app.token("hub.dispatcher").await;
    assert_eq!(
        app.get("/api/v1/sign-ins", Some(&dispatcher)).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn a_committed_sign_in_bumps_the_region_and_city_counters() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    app.post("/api/v1/sign-ins", Some(&zhang), at_crrc(&enterprise))
        .await;
    app.post("/api/v1/sign-ins", Some(&zhang), at_crrc(&enterprise))
        .await;
    let client = redis::Client::open(crate::helpers::redis_url()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    for region in ["430204", "430200"] {
        let key = format!("{}stats:{region}:2026-11-20:sign_ins", app.redis_prefix);
        let value: Option<i64> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("get");
        assert_eq!(value, Some(1), "{key}: a repeat does not count twice");
    }
}

/// The morning peak's path measures in SQL (`sign_in_once`), the transactional path in Rust
/// (`GeoPoint::distance_m`): the same operations in the same order, so the same metres to the
/// last bit, and the same side of the geofence.
#[tokio::test]
async fn the_database_and_the_rust_measure_the_same_distance() {
    use diesel::sql_types::{Bool, Date, Double, Integer, Text, Uuid as SqlUuid};
    use diesel::{QueryableByName, RunQueryDsl};
    use zhuqi::domain::geo::GeoPoint;

    #[derive(QueryableByName)]
    struct Site {
        #[diesel(sql_type = SqlUuid)]
        officer: uuid::Uuid,
        #[diesel(sql_type = SqlUuid)]
        enterprise: uuid::Uuid,
        #[diesel(sql_type = Double)]
        lat: f64,
        #[diesel(sql_type = Double)]
        lng: f64,
        #[diesel(sql_type = Integer)]
        geofence_m: i32,
    }
    #[derive(QueryableByName)]
    struct Measured {
        #[diesel(sql_type = Text)]
        outcome: String,
        #[diesel(sql_type = Double)]
        distance: f64,
        #[diesel(sql_type = Bool)]
        inside: bool,
    }

    let app = spawn_app().await;
    app.seed_demo();
    let mut conn = app.pool.get().expect("conn");
    let site: Site = diesel::sql_query(
        "SELECT u.id AS officer, e.id AS enterprise, e.lat, e.lng, e.geofence_m
           FROM users u JOIN assignments a ON a.officer_id = u.id JOIN enterprises e ON e.id = a.enterprise_id
          WHERE u.username = 'officer.zhang' AND e.name = '中车株洲电力机车有限公司'",
    )
    .get_result(&mut conn)
    .expect("officer.zhang at CRRC");
    let enterprise = GeoPoint {
        lat: site.lat,
        lng: site.lng,
    };
    let first_day = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("day");
    for i in 0..300_u32 {
        // From on the spot to ~25 km away, in every direction, a new day each (one per day).
        let (angle, reach) = (f64::from(i) * 2.399_963, f64::from(i * i % 997) / 997.0);
        let phone = GeoPoint {
            lat: site.lat + reach.powi(3) * 0.22 * angle.sin(),
            lng: site.lng + reach.powi(3) * 0.25 * angle.cos(),
        };
        let measured: Measured = diesel::sql_query(
            "SELECT outcome, distance, inside FROM sign_in_once(gen_random_uuid(), $1, $2, $3, now(),
                    $4, $5, NULL, '外勤', NULL, NULL, NULL)",
        )
        .bind::<SqlUuid, _>(site.officer)
        .bind::<SqlUuid, _>(site.enterprise)
        .bind::<Date, _>(first_day + chrono::Days::new(u64::from(i)))
        .bind::<Double, _>(phone.lat)
        .bind::<Double, _>(phone.lng)
        .get_result(&mut conn)
        .expect("sign_in_once");
        let expected = phone.distance_m(enterprise);
        assert_eq!(measured.outcome, "written");
        assert_eq!(
            measured.distance.to_bits(),
            expected.to_bits(),
            "{i}: SQL {} m, Rust {expected} m",
            measured.distance
        );
        assert_eq!(measured.inside, expected <= f64::from(site.geofence_m), "{i}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_ins"), 300);
}

/// A first sign-in's key record names the sign-in instead of copying its JSON; a resend gets
/// that row rendered again, the same bytes as the first answer.
#[tokio::test]
async fn a_resent_sign_in_gets_the_first_answer_byte_for_byte() {
    let app = spawn_app().await;
    app.seed_demo();
    let enterprise = app.crrc().await;
    let zhang = app.token("officer.zhang").await;
    let body = json!({"enterprise_id": enterprise, "lat": CRRC.0 + 0.001, "lng": CRRC.1,
                      "accuracy_m": 12.5, "remark": "上午在车间", "device_id": "phone-7"});
    let send = || app.keyed(reqwest::Method::POST, "/api/v1/sign-ins", &zhang, "dawn-1", &body);
    let first = send().await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(first.headers.get("idempotent-replayed").is_none());
    app.clock.advance(Duration::minutes(3));
    let again = send().await;
    assert_eq!(again.status, 201);
    assert_eq!(again.text, first.text, "the same bytes");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let id = first.body["id"].as_str().expect("id");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM idempotency_records
              WHERE key = 'dawn-1' AND response_body IS NULL AND response_row = '{id}'"
        )),
        1
    );
    assert_eq!(first.body["remark"], "上午在车间");
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_ins"), 1);
}
