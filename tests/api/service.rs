use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let reply = app.get("/healthz", None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_postgres_and_redis() {
    let app = spawn_app().await;
    // Redis connects in the background; give it a moment before asking.
    let mut reply = app.get("/readyz", None).await;
    for _ in 0..20 {
        if reply.body["redis"] == "up" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        reply = app.get("/readyz", None).await;
    }
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["postgres"], "up");
    assert_eq!(reply.body["redis"], "up");
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_show_the_pool() {
    let app = spawn_app().await;
    app.get("/healthz", None).await;
    let reply = app.get("/metrics", None).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .text
            .contains(r#"zhuqi_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("zhuqi_http_request_duration_seconds_bucket"));
    assert!(reply.text.contains("zhuqi_db_pool_max_size 4"));
    assert!(
        reply.text.contains("zhuqi_sign_in_batch_size_count 0"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn the_spec_is_served_as_yaml() {
    let app = spawn_app().await;
    let reply = app.get("/api-spec/openapi.yaml", None).await;
    assert_eq!(reply.status, 200);
    assert!(reply.text.lines().any(|l| l.starts_with("openapi: 3.1")));
    assert!(reply.headers["content-type"]
        .to_str()
        .unwrap_or("")
        .contains("yaml"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_plain_incoming_one_is_kept() {
    let app = spawn_app().await;
    let generated = app.get("/healthz", None).await;
    assert_eq!(generated.headers["x-request-id"].len(), 36);
    let kept = app
        .send(
            app.client
                .get(app.url("/nowhere"))
                .header("x-request-id", "trace-42"),
        )
        .await;
    assert_eq!(kept.headers["x-request-id"], "trace-42");
    let replaced = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "bad id with spaces"),
        )
        .await;
    assert_ne!(replaced.headers["x-request-id"], "bad id with spaces");
}
