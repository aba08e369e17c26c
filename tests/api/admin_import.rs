use serde_json::json;

use crate::helpers::{spawn_app, TestApp};
use zhuqi::domain::credit_code::CreditCode;

fn code(body: &str, district: &str) -> String {
    CreditCode::from_parts("91", district, body)
        .expect("valid")
        .to_string()
}

fn roster() -> Vec<(&'static str, String)> {
    let (a, b) = (code("MA4K0001", "430211"), code("MA4K0002", "430281"));
    vec![
        ("regions", "code,name,parent_code\n430281,醴陵市,430200\n430211,天元区,430200\n".to_owned()),
        (
            "units",
            "code,name,kind,region_code\nZZ-HUB,株洲市驻企办,hub,430200\nZZ-RSJ,株洲市人社局,department,430200\nZZ-CZJ,株洲市财政局,dispatching,430200\n"
                .to_owned(),
        ),
        (
            "enterprises",
            format!(
                "credit_code,name,region_code,industry,address,lat,lng,geofence_m\n\
                 {a},株洲千金药业股份有限公司,430211,医药制造,\"天元区株洲大道801号\",27.8306,113.0875,\n\
                 {b},湖南华联瓷业股份有限公司,430281,陶瓷制造,醴陵市陶瓷科技工业园,27.6530,113.5080,800\n"
            ),
        ),
        (
            "users",
            format!(
                "username,name,phone,roles,unit_code,region_code,enterprise_credit_code\n\
                 officer.zhang,张伟,13807330011,officer,ZZ-CZJ,430200,\n\
                 hub.zhou,周调度,13807330001,dispatcher;officer,ZZ-HUB,430200,\n\
                 qianjin.feng,冯千金,13807330031,enterprise,,430211,{a}\n"
            ),
        ),
        (
            "assignments",
            format!(
                "officer_username,enterprise_credit_code,start_day,end_day\n\
                 officer.zhang,{a},2026-01-01,\nofficer.zhang,{b},2026-01-01,2026-12-31\n"
            ),
        ),
    ]
}

async fn admin(app: &TestApp) -> String {
    app.create_admin("zz.admin", "430200", "株洲市");
    app.token("zz.admin").await
}

#[tokio::test]
async fn importing_the_roster_creates_everything_and_hands_out_invite_codes() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    for (kind, csv) in roster() {
        let reply = app.import_csv(kind, &token, &csv).await;
        assert_eq!(reply.status, 200, "{kind}: {}", reply.text);
        assert_eq!(reply.body["created"], reply.body["rows"], "{kind}");
        if kind == "users" {
            let codes = reply.body["invite_codes"].as_array().expect("codes");
            assert_eq!(codes.len(), 3);
            assert_eq!(codes[0]["invite_code"].as_str().map(str::len), Some(10));
        }
    }
    let enterprise = app.get("/api/v1/admin/enterprises?name=千金", Some(&token)).await;
    assert_eq!(enterprise.body["items"][0]["address"], "天元区株洲大道801号");
    assert_eq!(enterprise.body["items"][0]["geofence_m"], 500);
    let user = app
        .get("/api/v1/admin/users?username=hub.zhou", Some(&token))
        .await;
    assert_eq!(user.body["items"][0]["roles"], json!(["officer", "dispatcher"]));
    assert_eq!(user.body["items"][0]["unit_code"], "ZZ-HUB");
    assert_eq!(app.count("SELECT count(*) AS n FROM assignments"), 2);
    // Invite codes are stored as digests only.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE length(invite_code_hash) = 64"),
        3
    );
}

#[tokio::test]
async fn re_importing_the_same_files_is_harmless() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    for (kind, csv) in roster() {
        app.import_csv(kind, &token, &csv).await;
    }
    let audit_before = app.count("SELECT count(*) AS n FROM audit_log");
    for (kind, csv) in roster() {
        let reply = app.import_csv(kind, &token, &csv).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(
            reply.body["unchanged"], reply.body["rows"],
            "{kind}: {}",
            reply.text
        );
        assert_eq!(reply.body["invite_codes"], json!([]));
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM audit_log"), audit_before);
    assert_eq!(app.count("SELECT count(*) AS n FROM users"), 4);
}

#[tokio::test]
async fn an_invalid_credit_code_rejects_the_whole_file_with_row_errors() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let (_, regions) = &roster()[0];
    app.import_csv("regions", &token, regions).await;
    let good = code("MA4K0001", "430211");
    let csv = format!(
        "credit_code,name,region_code,lat,lng\n{good},好企业,430211,27.8,113.1\n91430211MA4L00010A,坏代码企业,430211,27.8,113.1\n{},,430211,200,113.1\n",
        code("MA4K0003", "430211")
    );
    let reply = app.import_csv("enterprises", &token, &csv).await;
    assert_eq!(
        (reply.status, reply.code()),
        (422, "import.invalid_rows"),
        "{}",
        reply.text
    );
    let errors = reply.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors");
    let located: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["row"].as_u64().unwrap_or(0), e["field"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(located, vec![(3, "credit_code"), (4, "name"), (4, "lat")]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM enterprises"),
        0,
        "nothing half-written"
    );
}

#[tokio::test]
async fn a_dry_run_validates_without_writing() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let (_, regions) = &roster()[0];
    let reply = app
        .import("regions", &token, "text/csv", regions.as_bytes().to_vec(), true)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["dry_run"], true);
    assert_eq!(reply.body["created"], 2);
    assert_eq!(app.count("SELECT count(*) AS n FROM regions"), 1);
}

#[tokio::test]
async fn an_xlsx_file_with_the_same_columns_imports_and_a_multipart_upload_works() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in ["code", "name", "parent_code"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).expect("write");
    }
    sheet.write_number(1, 0, 430211.0).expect("write");
    sheet.write_string(1, 1, "天元区").expect("write");
    sheet.write_number(1, 2, 430200.0).expect("write");
    let bytes = workbook.save_to_buffer().expect("xlsx");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("regions.xlsx"),
    );
    let reply = app
        .send(
            app.client
                .post(app.url("/api/v1/admin/import/regions"))
                .bearer_auth(&token)
                .multipart(form),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["created"], 1);
    let region = app.get("/api/v1/admin/regions/430211", Some(&token)).await;
    assert_eq!(region.body["name"], "天元区");
}

#[tokio::test]
async fn bad_files_get_clear_errors() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let missing = app.import_csv("enterprises", &token, "credit_code,name\n").await;
    assert_eq!((missing.status, missing.code()), (400, "import.missing_columns"));
    let unknown = app.import_csv("regions", &token, "code,name,colour\n").await;
    assert_eq!((unknown.status, unknown.code()), (400, "import.unknown_columns"));
    let gbk = app
        .import(
            "regions",
            &token,
            "text/csv",
            b"code,name\n430211,\xcc\xec\xd4\xaa\n".to_vec(),
            false,
        )
        .await;
    assert_eq!((gbk.status, gbk.code()), (400, "import.unreadable"));
    let kind = app.import_csv("planets", &token, "code\n").await;
    assert_eq!(kind.status, 404);
    let pdf = app
        .import("regions", &token, "application/pdf", b"%PDF".to_vec(), false)
        .await;
    assert_eq!(pdf.status, 415);
}

#[tokio::test]
async fn a_sheet_with_cells_at_a1_and_xfd1048576_is_refused_without_harm() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "code").expect("write");
    sheet.write_string(1_048_575, 16_383, "x").expect("write");
    let bomb = workbook.save_to_buffer().expect("xlsx");
    assert!(bomb.len() < 10_000, "two cells: a small file");

    let reply = app
        .import(
            "regions",
            &token,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bomb,
            false,
        )
        .await;

    assert_eq!(
        (reply.status, reply.code()),
        (422, "import.too_large"),
        "{}",
        reply.text
    );
    assert_eq!(reply.body["error"]["details"]["max_columns"], 64);
    assert_eq!(app.get("/healthz", None).await.status, 200, "the server lives on");
}

#[tokio::test]
async fn a_csv_past_the_row_limit_is_refused_as_too_large() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let mut file = String::from("code,name,parent_code\n");
    for i in 0..=100_000 {
        file.push_str(&format!("{i},区{i},430200\n"));
    }
    let reply = app.import_csv("regions", &token, &file).await;
    assert_eq!(
        (reply.status, reply.code()),
        (422, "import.too_large"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn rows_outside_the_admins_region_are_refused() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    app.create_admin("cs.admin", "430100", "长沙市");
    let reply = app
        .import_csv(
            "units",
            &token,
            "code,name,kind,region_code\nCS-RSJ,长沙市人社局,department,430100\n",
        )
        .await;
    assert_eq!((reply.status, reply.code()), (422, "import.invalid_rows"));
    assert_eq!(
        reply.body["error"]["details"]["errors"][0]["field"],
        "region_code"
    );
}

#[tokio::test]
async fn only_admins_may_import() {
    let app = spawn_app().await;
    app.seed_demo();
    let officer = app.token("officer.zhang").await;
    let reply = app.import_csv("regions", &officer, "code,name\n").await;
    assert_eq!((reply.status, reply.code()), (403, "auth.role_required"));
}

#[tokio::test]
async fn an_enterprises_size_is_read_in_either_language_and_a_wrong_one_refuses_the_file() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let (_, regions) = &roster()[0];
    app.import_csv("regions", &token, regions).await;
    let (small, large, unknown) = (
        code("MA4K0005", "430211"),
        code("MA4K0006", "430211"),
        code("MA4K0007", "430211"),
    );
    let bad = app
        .import_csv(
            "enterprises",
            &token,
            &format!("credit_code,name,region_code,lat,lng,size\n{small},小企业,430211,27.8,113.1,巨型\n"),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "import.invalid_rows"));
    assert_eq!(bad.body["error"]["details"]["errors"][0]["field"], "size");
    assert_eq!(app.count("SELECT count(*) AS n FROM enterprises"), 0);
    let good = app
        .import_csv(
            "enterprises",
            &token,
            &format!(
                "credit_code,name,region_code,lat,lng,size\n{small},小企业,430211,27.8,113.1,小型企业\n\
                 {large},大企业,430211,27.8,113.1,Large\n{unknown},未知企业,430211,27.8,113.1,\n"
            ),
        )
        .await;
    assert_eq!(good.status, 200, "{}", good.text);
    let sizes = app.text(
        "SELECT string_agg(name || ':' || coalesce(size, '-'), ',' ORDER BY credit_code) AS t FROM enterprises",
    );
    assert_eq!(sizes, "小企业:small,大企业:large,未知企业:-");
    // The admin's API reads and changes it; null makes it unknown again.
    let id = app.text(&format!(
        "SELECT id::text AS t FROM enterprises WHERE credit_code = '{large}'"
    ));
    let read = app
        .get(&format!("/api/v1/admin/enterprises/{id}"), Some(&token))
        .await;
    assert_eq!(read.body["size"], "large");
    let cleared = app
        .patch(
            &format!("/api/v1/admin/enterprises/{id}"),
            Some(&token),
            json!({"size": null}),
        )
        .await;
    assert_eq!(
        (cleared.status, cleared.body["size"].clone()),
        (200, json!(null)),
        "{}",
        cleared.text
    );
    let medium = app
        .patch(
            &format!("/api/v1/admin/enterprises/{id}"),
            Some(&token),
            json!({"size": "中型"}),
        )
        .await;
    assert_eq!(medium.body["size"], "medium");
}
