use std::sync::Arc;

use chrono::{Duration, SubsecRound, TimeZone, Utc};
use serde_json::{json, Value};
use zhuqi::db::models::sign_in::SignIn;
use zhuqi::domain::geo::GeoPoint;
use zhuqi::signin::batch;
use zhuqi::signin::{Declined, KeyedAttempt, SignInAttempt, SignInOutcome, SignInQueue};

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
        let key = format!("{}{{stats}}:{region}:2026-11-20:sign_ins", app.redis_prefix);
        let value: Option<i64> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("get");
        assert_eq!(value, Some(1), "{key}: a repeat does not count twice");
    }
}

/// officer.zhang's id and 中车株洲's id, position and geofence.
fn zhang_at_crrc(app: &crate::helpers::TestApp) -> (uuid::Uuid, uuid::Uuid, GeoPoint, i32) {
    use diesel::sql_types::{Double, Integer, Uuid as SqlUuid};
    use diesel::{QueryableByName, RunQueryDsl};
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
    let mut conn = app.pool.get().expect("conn");
    let site: Site = diesel::sql_query(
        "SELECT u.id AS officer, e.id AS enterprise, e.lat, e.lng, e.geofence_m
           FROM users u JOIN assignments a ON a.officer_id = u.id JOIN enterprises e ON e.id = a.enterprise_id
          WHERE u.username = 'officer.zhang' AND e.name = '中车株洲电力机车有限公司'",
    )
    .get_result(&mut conn)
    .expect("officer.zhang at CRRC");
    let location = GeoPoint {
        lat: site.lat,
        lng: site.lng,
    };
    (site.officer, site.enterprise, location, site.geofence_m)
}

fn attempt(
    officer: uuid::Uuid,
    enterprise: uuid::Uuid,
    point: GeoPoint,
    day: chrono::NaiveDate,
    remark: Option<&str>,
) -> Arc<SignInAttempt> {
    let now = Utc::now().trunc_subsecs(6);
    Arc::new(SignInAttempt {
        id: uuid::Uuid::new_v4(),
        officer_id: officer,
        enterprise_id: enterprise,
        point,
        accuracy_m: Some(10.0),
        remark: remark.map(str::to_owned),
        device_id: None,
        now,
        day,
    })
}

/// The batch measures in SQL, the transactional path in Rust (`GeoPoint::distance_m`): the
/// same operations in the same order, so the same metres to the last bit, and the same side
/// of the geofence. 300 field sign-ins on 300 days, written in one batch.
#[tokio::test]
async fn the_database_and_the_rust_measure_the_same_distance() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, enterprise, crrc, geofence_m) = zhang_at_crrc(&app);
    let first_day = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("day");
    let batch: Vec<KeyedAttempt> = (0..300_u32)
        .map(|i| {
            // From on the spot to ~25 km away, in every direction.
            let (angle, reach) = (f64::from(i) * 2.399_963, f64::from(i * i % 997) / 997.0);
            let phone = GeoPoint {
                lat: crrc.lat + reach.powi(3) * 0.22 * angle.sin(),
                lng: crrc.lng + reach.powi(3) * 0.25 * angle.cos(),
            };
            let day = first_day + chrono::Days::new(u64::from(i));
            (attempt(officer, enterprise, phone, day, Some("外勤")), None)
        })
        .collect();
    let mut conn = app.pool.get().expect("conn");
    let answers = batch::write(&mut conn, &batch).expect("one batch");
    assert_eq!(answers.len(), 300);
    let mut inside = 0;
    for (i, ((attempt, _), answer)) in batch.iter().zip(&answers).enumerate() {
        let SignInOutcome::Written(written, _) = answer else {
            panic!("{i}: {answer:?}");
        };
        let expected = attempt.point.distance_m(crrc);
        assert_eq!(
            written.distance_m.to_bits(),
            expected.to_bits(),
            "{i}: SQL {} m, Rust {expected} m",
            written.distance_m
        );
        assert_eq!(written.within_geofence, expected <= f64::from(geofence_m), "{i}");
        let stored = SignIn::find(&mut conn, attempt.id)
            .expect("read")
            .expect("written");
        assert_eq!(stored.distance_m.to_bits(), expected.to_bits(), "{i}");
        inside += usize::from(written.within_geofence);
    }
    assert!(
        inside > 10 && inside < 290,
        "both sides of the geofence: {inside}"
    );
}

/// One batch, every outcome: each attempt is answered on its own, and only the plain first
/// sign-in leaves rows behind.
#[tokio::test]
async fn a_batch_answers_each_sign_in_on_its_own() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, enterprise, crrc, _) = zhang_at_crrc(&app);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("day");
    let key = |k: &str| Some((k.to_owned(), format!("fingerprint-{k}")));
    let far = GeoPoint {
        lat: crrc.lat + 0.05,
        lng: crrc.lng,
    };
    let other = diesel::RunQueryDsl::get_result::<EnterpriseId>(
        diesel::sql_query(format!(
            "SELECT id FROM enterprises e WHERE NOT EXISTS
               (SELECT 1 FROM assignments a WHERE a.enterprise_id = e.id AND a.officer_id = '{officer}') LIMIT 1"
        )),
        &mut app.pool.get().expect("conn"),
    )
    .expect("another enterprise")
    .id;
    let first = attempt(officer, enterprise, crrc, today, None);
    let batch: Vec<KeyedAttempt> = vec![
        (Arc::clone(&first), key("k1")),
        // Tapped again under a new key: already signed in (its key's record is not kept).
        (attempt(officer, enterprise, crrc, today, None), key("k2")),
        // The first one resent: the key's record names the first sign-in.
        (attempt(officer, enterprise, crrc, today, None), key("k1")),
        (attempt(officer, other, crrc, today, None), key("k3")),
        (
            attempt(officer, uuid::Uuid::new_v4(), crrc, today, None),
            key("k4"),
        ),
        // Tomorrow, 5.5 km away, no remark: out of range.
        (
            attempt(officer, enterprise, far, today.succ_opt().expect("day"), None),
            key("k5"),
        ),
    ];
    let answers = batch::write(&mut app.pool.get().expect("conn"), &batch).expect("batch");
    assert!(
        matches!(&answers[0], SignInOutcome::Written(s, _) if s.id == first.id),
        "{:?}",
        answers[0]
    );
    assert!(
        matches!(answers[1], SignInOutcome::Declined(Declined::SignedInBefore)),
        "{:?}",
        answers[1]
    );
    match &answers[2] {
        SignInOutcome::Stored(record, Some(named)) => {
            assert_eq!(record.response_row, Some(first.id));
            assert_eq!(record.request_hash, "fingerprint-k1");
            assert_eq!(named.id, first.id);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(answers[3], SignInOutcome::NotAssigned),
        "{:?}",
        answers[3]
    );
    assert!(
        matches!(answers[4], SignInOutcome::NoEnterprise),
        "{:?}",
        answers[4]
    );
    assert!(
        matches!(answers[5], SignInOutcome::Declined(Declined::OutOfRange { distance_m }) if distance_m > 5000.0),
        "{:?}",
        answers[5]
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_ins"), 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM idempotency_records WHERE key LIKE 'k%'"),
        1,
        "only the written sign-in's key is kept"
    );
}

/// A batch that fails (here: one remark PostgreSQL cannot store) is written again one sign-in
/// at a time: the bad one gets its error, the others are written.
#[tokio::test]
async fn one_bad_sign_in_does_not_fail_the_others_of_its_batch() {
    let app = spawn_app().await;
    app.seed_demo();
    let (officer, enterprise, crrc, _) = zhang_at_crrc(&app);
    let queue = SignInQueue::start(
        app.pool.clone(),
        prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("batches", "test"))
            .expect("histogram"),
    )
    .expect("writer");
    let day = |n| chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("day") + chrono::Days::new(n);
    let (good, bad, also_good) = (
        attempt(officer, enterprise, crrc, day(0), None),
        attempt(officer, enterprise, crrc, day(1), Some("车间\u{0}")),
        attempt(officer, enterprise, crrc, day(2), None),
    );
    // Queued together, so they share a batch unless the writer is quicker than the queue.
    let answers = futures_util::future::join_all([
        queue.sign_in(Arc::clone(&good), None),
        queue.sign_in(bad, None),
        queue.sign_in(Arc::clone(&also_good), None),
    ])
    .await;
    assert!(
        matches!(&answers[0], Ok(SignInOutcome::Written(s, _)) if s.id == good.id),
        "{:?}",
        answers[0]
    );
    assert!(
        matches!(&answers[1], Err(e) if e.code().as_str() == "validation.failed"),
        "{:?}",
        answers[1]
    );
    assert!(
        matches!(&answers[2], Ok(SignInOutcome::Written(s, _)) if s.id == also_good.id),
        "{:?}",
        answers[2]
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM sign_ins"), 2);
}

#[derive(diesel::QueryableByName)]
struct EnterpriseId {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
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
    // Both went through the sign-in writer, one batch each.
    let metrics = app.get("/metrics", None).await.text;
    assert!(metrics.contains("zhuqi_sign_in_batch_size_count 2"), "{metrics}");
    assert!(metrics.contains("zhuqi_sign_in_batch_size_sum 2"), "{metrics}");
}

/// The sign-in writer with the database stalled under it: a full queue answers 503 at once
/// instead of growing, and a drain writes what was queued before it stops.
#[tokio::test]
async fn a_full_sign_in_queue_answers_503_and_a_drain_writes_what_was_queued() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    use zhuqi::signin::queue::CAPACITY;

    let app = spawn_app().await;
    app.seed_demo();
    let enterprise: uuid::Uuid = app.crrc().await.parse().expect("uuid");
    let officer: uuid::Uuid = app
        .text("SELECT id::text AS t FROM users WHERE username = 'officer.zhang'")
        .parse()
        .expect("uuid");
    let queue = Arc::new(
        SignInQueue::start(
            app.pool.clone(),
            prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("test_batches", "test"))
                .expect("histogram"),
        )
        .expect("writer"),
    );
    // Stall the writer: its first batch waits for this lock.
    let mut holder = PgConnection::establish(&crate::helpers::database_url(&app.db_name)).expect("conn");
    diesel::sql_query("BEGIN").execute(&mut holder).expect("begin");
    diesel::sql_query("LOCK TABLE sign_ins IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .expect("lock");
    let now = app.clock.now();
    let attempt = |i: i64| {
        Arc::new(SignInAttempt {
            id: uuid::Uuid::new_v4(),
            officer_id: officer,
            enterprise_id: enterprise,
            point: GeoPoint::from_device(CRRC.0, CRRC.1, zhuqi::domain::geo::Datum::Gcj02).expect("point"),
            accuracy_m: None,
            remark: None,
            device_id: None,
            now,
            day: zhuqi::clock::local_day(now) + chrono::Duration::days(i),
        })
    };
    let waiting: Vec<_> = (0..(CAPACITY as i64 + 200))
        .map(|i| {
            let queue = Arc::clone(&queue);
            let attempt = attempt(i);
            tokio::spawn(async move { queue.sign_in(attempt, None).await })
        })
        .collect();
    // Those past the capacity (and the batch being written) are refused at once.
    let mut refused = 0;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        refused = waiting.iter().filter(|t| t.is_finished()).count();
        if refused > 0 {
            break;
        }
    }
    assert!(
        refused > 0 && refused <= 200,
        "{refused} answered while the database stalls"
    );
    diesel::sql_query("COMMIT").execute(&mut holder).expect("unlock");
    queue.drain().await;
    let mut busy = 0;
    for task in waiting {
        if let Err(e) = task.await.expect("task") {
            assert_eq!(e.code().as_str(), "signin.busy");
            busy += 1;
        }
    }
    assert!((1..=200).contains(&busy), "{busy}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM sign_ins"),
        (CAPACITY as i64 + 200) - busy as i64,
        "every sign-in that was queued is written"
    );
}
