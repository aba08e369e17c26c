use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_officer_reads_an_assigned_enterprise_but_not_another_officers() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let own = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let others = app.enterprise_id(&admin, "株洲千金药业").await;
    let zhang = app.token("officer.zhang").await;
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{own}"), Some(&zhang))
            .await
            .status,
        200
    );
    let reply = app
        .get(&format!("/api/v1/enterprises/{others}"), Some(&zhang))
        .await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"));
    let li = app.token("officer.li").await;
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{others}"), Some(&li))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{own}"), Some(&li))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_enterprise_contact_sees_only_their_enterprise_and_a_unit_admin_their_officers_enterprises() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let qianjin = app.enterprise_id(&admin, "株洲千金药业").await;
    let crrc = app.enterprise_id(&admin, "中车株洲电力机车有限公司").await;
    let ceramics = app.enterprise_id(&admin, "湖南华联瓷业").await;
    let contact = app.token("qianjin.contact").await;
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{qianjin}"), Some(&contact))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{crrc}"), Some(&contact))
            .await
            .status,
        404
    );
    // czj.admin's unit (财政局) sends officer.zhang and officer.li, not officer.wang (华联瓷业).
    let unit_admin = app.token("czj.admin").await;
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{crrc}"), Some(&unit_admin))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{ceramics}"), Some(&unit_admin))
            .await
            .status,
        404
    );
    // Departments reach enterprises only through problems (a later issue).
    let department = app.token("rsj.clerk").await;
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{crrc}"), Some(&department))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn an_officer_cannot_use_the_admin_console() {
    let app = spawn_app().await;
    app.seed_demo();
    let zhang = app.token("officer.zhang").await;
    let admin = app.token("demo.admin").await;
    let others = app.enterprise_id(&admin, "株洲千金药业").await;
    let read = app.get("/api/v1/admin/enterprises", Some(&zhang)).await;
    assert_eq!((read.status, read.code()), (403, "auth.role_required"));
    let write = app
        .patch(
            &format!("/api/v1/admin/enterprises/{others}"),
            Some(&zhang),
            json!({"name": "改名"}),
        )
        .await;
    assert_eq!(write.status, 403);
    let unchanged = app
        .get(&format!("/api/v1/admin/enterprises/{others}"), Some(&admin))
        .await;
    assert_eq!(unchanged.body["name"], "株洲千金药业股份有限公司");
}

#[tokio::test]
async fn an_admin_of_another_city_cannot_see_or_change_this_citys_roster() {
    let app = spawn_app().await;
    app.seed_demo();
    app.create_admin("cs.admin", "430100", "长沙市");
    let zz = app.token("demo.admin").await;
    let cs = app.token("cs.admin").await;
    let enterprise = app.enterprise_id(&zz, "株洲千金药业").await;
    let user = app
        .get("/api/v1/admin/users?username=officer.zhang", Some(&zz))
        .await
        .body["items"][0]["id"]
        .clone();
    let user = user.as_str().expect("id");
    assert_eq!(
        app.get(&format!("/api/v1/admin/enterprises/{enterprise}"), Some(&cs))
            .await
            .status,
        404
    );
    assert_eq!(
        app.patch(
            &format!("/api/v1/admin/enterprises/{enterprise}"),
            Some(&cs),
            json!({"name": "x"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.get(&format!("/api/v1/admin/users/{user}"), Some(&cs))
            .await
            .status,
        404
    );
    assert_eq!(
        app.put(
            &format!("/api/v1/admin/users/{user}/password"),
            Some(&cs),
            json!({"new_password": "hijacked-password"})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/admin/users/{user}/invite"),
            Some(&cs),
            json!({})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.get("/api/v1/admin/regions/430200", Some(&cs)).await.status,
        404
    );
    let list = app.get("/api/v1/admin/enterprises", Some(&cs)).await;
    assert_eq!(list.body["items"], json!([]));
    let moved = app
        .post("/api/v1/admin/enterprises", Some(&cs), json!({"credit_code": "9144030071526726XG", "name": "x", "region_code": "430211", "lat": 27.8, "lng": 113.1}))
        .await;
    assert_eq!((moved.status, moved.code()), (422, "validation.failed"));
}
