//! 惠企政策: the library admins write (one by one or a file at a time, all or nothing), that
//! everyone searches with short Chinese queries, and that says which policies apply to an
//! enterprise.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

fn tax_refund() -> Value {
    json!({
        "title": "关于进一步加大增值税期末留抵退税政策实施力度的公告",
        "issuer": "财政部 税务总局",
        "doc_number": "财政部 税务总局公告2022年第14号",
        "level": "national",
        "effective_from": "2022-04-01",
        "industries": ["轨道交通装备", "医药制造"],
        "sizes": ["small", "micro"],
        "benefit_kind": "tax",
        "summary": "符合条件的制造业企业可以按月向主管税务机关申请退还增量留抵税额",
        "full_text": "一、加大小微企业增值税期末留抵退税政策力度……",
    })
}

fn workbook(rows: &[[&str; 8]]) -> Vec<u8> {
    let header = [
        "title",
        "issuer",
        "level",
        "effective_from",
        "benefit_kind",
        "summary",
        "doc_number",
        "industries",
    ];
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, text) in (0u16..).zip(header) {
        sheet.write_string(0, col, text).expect("write");
    }
    for (row, cells) in (1u32..).zip(rows) {
        for (col, text) in (0u16..).zip(cells) {
            sheet.write_string(row, col, *text).expect("write");
        }
    }
    workbook.save_to_buffer().expect("xlsx")
}

async fn import(app: &TestApp, token: &str, bytes: Vec<u8>) -> crate::helpers::Reply {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("policies.xlsx"),
    );
    app.send(
        app.client
            .post(app.url("/api/v1/admin/policies/import"))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

fn titles(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["title"].as_str())
        .collect()
}

#[tokio::test]
async fn admins_write_the_library_and_everyone_searches_it_with_short_queries() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let created = app
        .post("/api/v1/admin/policies", Some(&admin), tax_refund())
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["region_code"], "430200");
    assert_eq!(created.body["sizes"], json!(["micro", "small"]));
    let again = app
        .post("/api/v1/admin/policies", Some(&admin), tax_refund())
        .await;
    assert_eq!(
        (again.status, again.code()),
        (409, "conflict.duplicate"),
        "same number"
    );
    let mut bad = tax_refund();
    bad["title"] = json!(" ");
    bad["effective_to"] = json!("2021-01-01");
    bad["regions"] = json!(["4302"]);
    let refused = app.post("/api/v1/admin/policies", Some(&admin), bad).await;
    assert_eq!((refused.status, refused.code()), (422, "validation.failed"));
    // A text one character too long is refused as too long, not as too large a body.
    let mut long = tax_refund();
    long["doc_number"] = json!("株政发〔2026〕99号");
    long["full_text"] = json!("政".repeat(100_001));
    let too_long = app.post("/api/v1/admin/policies", Some(&admin), long).await;
    assert_eq!((too_long.status, too_long.code()), (422, "validation.failed"));
    // The same with every character escaped as a surrogate pair (12 bytes each: 1.2 MB), keyed.
    let mut without_text = tax_refund();
    without_text["doc_number"] = json!("株政发〔2026〕98号");
    without_text.as_object_mut().expect("object").remove("full_text");
    let escaped = format!(
        "{{\"full_text\":\"{}\",{}",
        "\\ud83d\\ude00".repeat(100_001),
        &serde_json::to_string(&without_text).expect("json")[1..]
    );
    assert!(escaped.len() > 1_200_000);
    let request = app
        .client
        .post(app.url("/api/v1/admin/policies"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .header("idempotency-key", "escaped-long-text")
        .body(escaped);
    let too_long = app.send(request).await;
    assert_eq!(
        (too_long.status, too_long.code()),
        (422, "validation.failed"),
        "{}",
        too_long.text
    );
    let officer = app.token("officer.zhang").await;
    assert_eq!(
        app.post("/api/v1/admin/policies", Some(&officer), tax_refund())
            .await
            .status,
        403
    );

    // A file: two good rows and one bad one → nothing written, the bad row's faults named.
    let rows = [
        [
            "株洲市稳岗返还实施细则",
            "株洲市人力资源和社会保障局",
            "city",
            "2026-01-01",
            "subsidy",
            "对不裁员或少裁员的企业返还失业保险费",
            "株人社发〔2026〕3号",
            "",
        ],
        [
            "技改贷款贴息办法",
            "株洲市工业和信息化局",
            "galactic",
            "2026-13-01",
            "finance",
            "技改项目贷款按实际利息的50%给予贴息",
            "",
            "轨道交通装备;陶瓷制造",
        ],
        [
            "首台套奖励办法",
            "湖南省工业和信息化厅",
            "provincial",
            "2025-06-01",
            "subsidy",
            "首台（套）重大技术装备给予奖励",
            "湘工信〔2025〕88号",
            "轨道交通装备",
        ],
    ];
    let bad_file = import(&app, &admin, workbook(&rows)).await;
    assert_eq!(
        (bad_file.status, bad_file.code()),
        (422, "import.invalid_rows"),
        "{}",
        bad_file.text
    );
    let faults: Vec<(i64, &str)> = bad_file.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap_or(0),
                e["field"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(faults, [(3, "level"), (3, "effective_from")]);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM policies"),
        1,
        "nothing written"
    );
    let mut fixed = rows;
    fixed[1][2] = "city";
    fixed[1][3] = "2026-03-01";
    let imported = import(&app, &admin, workbook(&fixed)).await;
    assert_eq!(imported.status, 200, "{}", imported.text);
    assert_eq!(imported.body, json!({"rows": 3, "created": 3, "updated": 0}));
    let reimported = import(&app, &admin, workbook(&fixed)).await;
    assert_eq!(
        reimported.body,
        json!({"rows": 3, "created": 1, "updated": 2}),
        "numbered rows update their policy; the unnumbered one is added again"
    );

    // Short queries: a word, two characters, one character; and filters.
    for (q, expected) in [
        (
            "留抵退税",
            vec!["关于进一步加大增值税期末留抵退税政策实施力度的公告"],
        ),
        ("贴息", vec!["技改贷款贴息办法", "技改贷款贴息办法"]),
        ("稳岗", vec!["株洲市稳岗返还实施细则"]),
        ("首台套", vec!["首台套奖励办法"]),
    ] {
        let found = app
            .get(
                &format!("/api/v1/policies?q={}", crate::helpers::urlencode(q)),
                Some(&officer),
            )
            .await;
        assert_eq!(found.status, 200, "{}", found.text);
        assert_eq!(titles(&found.body), expected, "{q}");
    }
    let nothing = app
        .get(
            &format!("/api/v1/policies?q={}", crate::helpers::urlencode("光伏")),
            Some(&officer),
        )
        .await;
    assert_eq!(titles(&nothing.body), Vec::<&str>::new());
    let provincial = app.get("/api/v1/policies?level=provincial", Some(&officer)).await;
    assert_eq!(titles(&provincial.body), ["首台套奖励办法"]);
    let bad_level = app.get("/api/v1/policies?level=galactic", Some(&officer)).await;
    assert_eq!(bad_level.status, 400);
    let id = created.body["id"].as_str().expect("id");
    let one = app.get(&format!("/api/v1/policies/{id}"), Some(&officer)).await;
    assert_eq!(
        one.body["full_text"],
        "一、加大小微企业增值税期末留抵退税政策力度……"
    );
    let list = app.get("/api/v1/policies", Some(&officer)).await;
    assert!(
        list.body["items"][0].get("full_text").is_none(),
        "lists leave the text out"
    );
}

#[tokio::test]
async fn an_enterprise_sees_the_policies_that_apply_to_it() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    let post = |body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let r = app.post("/api/v1/admin/policies", Some(&admin), body).await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
    };
    post(tax_refund()).await;
    let mut ceramics = tax_refund();
    ceramics["title"] = json!("陶瓷产业扶持办法");
    ceramics["doc_number"] = json!("醴政发〔2026〕1号");
    ceramics["industries"] = json!([]);
    ceramics["sizes"] = json!([]);
    ceramics["regions"] = json!(["430281"]);
    post(ceramics).await;
    let mut expired = tax_refund();
    expired["title"] = json!("已废止的老政策");
    expired["doc_number"] = json!("株政发〔2020〕9号");
    expired["effective_from"] = json!("2020-01-01");
    expired["effective_to"] = json!("2020-12-31");
    post(expired).await;

    let mut every_size = tax_refund();
    every_size["title"] = json!("制造业留抵退税（各类规模）");
    every_size["doc_number"] = json!("财政部 税务总局公告2022年第21号");
    every_size["sizes"] = json!([]);
    post(every_size).await;

    // 中车 is large: the small and micro enterprises' refund is not for it.
    let (officer, crrc) = app.officer_at("中车株洲电力机车有限公司").await;
    let crrc_policies = app
        .get(&format!("/api/v1/enterprises/{crrc}/policies"), Some(&officer))
        .await;
    assert_eq!(crrc_policies.status, 200, "{}", crrc_policies.text);
    assert_eq!(
        titles(&crrc_policies.body),
        ["制造业留抵退税（各类规模）"],
        "its industry, its region, its size, in force"
    );
    // The same industry and region, its size not in the roster: offered both.
    let institute =
        app.text("SELECT id::text AS t FROM enterprises WHERE name = '中车株洲电力机车研究所有限公司'");
    let institute_policies = app
        .get(
            &format!("/api/v1/enterprises/{institute}/policies"),
            Some(&officer),
        )
        .await;
    let mut found = titles(&institute_policies.body);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "关于进一步加大增值税期末留抵退税政策实施力度的公告",
            "制造业留抵退税（各类规模）"
        ]
    );
    let (wang, qibin) = app.officer_at("株洲旗滨玻璃有限公司").await;
    let qibin_policies = app
        .get(&format!("/api/v1/enterprises/{qibin}/policies"), Some(&wang))
        .await;
    assert_eq!(
        titles(&qibin_policies.body),
        ["陶瓷产业扶持办法"],
        "醴陵's, any industry"
    );
    // An officer of another enterprise reads neither the enterprise nor its policies.
    let not_theirs = app
        .get(&format!("/api/v1/enterprises/{crrc}/policies"), Some(&wang))
        .await;
    assert_eq!(not_theirs.status, 404);
}

#[tokio::test]
async fn the_demo_city_has_a_library_an_officer_goes_through() {
    let app = spawn_app().await;
    app.seed_demo_with(zhuqi::demo::History::Week);
    let (officer, qibin) = app.officer_at("株洲旗滨玻璃有限公司").await;
    let applicable = app
        .get(&format!("/api/v1/enterprises/{qibin}/policies"), Some(&officer))
        .await;
    assert_eq!(applicable.status, 200, "{}", applicable.text);
    let mut found = titles(&applicable.body);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "关于进一步加大增值税期末留抵退税政策实施力度的公告",
            "株洲市失业保险稳岗返还实施细则",
            "醴陵市陶瓷产业高质量发展扶持办法",
        ]
    );
    // A small enterprise is also offered the small and micro enterprises' policy.
    let (officer, yuxiang) = app.officer_at("醴陵市玉祥瓷业有限公司").await;
    let small = app
        .get(&format!("/api/v1/enterprises/{yuxiang}/policies"), Some(&officer))
        .await;
    assert!(
        titles(&small.body).contains(&"株洲市小微企业融资担保降费奖补办法"),
        "{}",
        small.text
    );
    let dispatcher = app.token("hub.dispatcher").await;
    let stats = app
        .get(
            "/api/v1/stats/policies?from=2026-11-01&to=2026-11-30",
            Some(&dispatcher),
        )
        .await;
    assert_eq!(stats.body["totals"]["granted_yuan"], 2_400_000, "{}", stats.text);
    assert_eq!(stats.body["totals"]["explained"], 2);
}

#[tokio::test]
async fn the_officer_goes_through_the_policies_and_the_bureaus_get_the_figures() {
    let app = spawn_app().await;
    app.seed_demo();
    let admin = app.token("demo.admin").await;
    // For every size: 中车 is a large enterprise.
    let mut refund = tax_refund();
    refund["sizes"] = json!([]);
    let created = app.post("/api/v1/admin/policies", Some(&admin), refund).await;
    let policy = created.body["id"].as_str().expect("id").to_owned();
    let mut second = tax_refund();
    second["sizes"] = json!([]);
    second["title"] = json!("株洲市失业保险稳岗返还实施细则");
    second["doc_number"] = json!("株人社发〔2026〕3号");
    second["industries"] = json!([]);
    let second = app.post("/api/v1/admin/policies", Some(&admin), second).await;
    let second = second.body["id"].as_str().expect("id").to_owned();
    let (officer, crrc) = app.officer_at("中车株洲电力机车有限公司").await;
    let path = format!("/api/v1/enterprises/{crrc}/policies/{policy}/check-off");

    let bad = app
        .put(
            &path,
            Some(&officer),
            json!({"status": "explained", "day": "2026-11-21", "amount_yuan": 5}),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "validation.failed"));
    let words = [
        json!({"status": "explained", "day": "2026-11-02"}),
        json!({"status": "applying", "day": "2026-11-05", "amount_yuan": 2_000_000}),
        json!({"status": "granted", "day": "2026-11-18", "amount_yuan": 1_200_000, "note": " 已到账 "}),
    ];
    for word in &words {
        let said = app.put(&path, Some(&officer), word.clone()).await;
        assert_eq!(said.status, 200, "{}", said.text);
    }
    let other = format!("/api/v1/enterprises/{crrc}/policies/{second}/check-off");
    let explained = app
        .put(
            &other,
            Some(&officer),
            json!({"status": "explained", "day": "2026-11-10"}),
        )
        .await;
    assert_eq!(explained.status, 200, "{}", explained.text);
    // A correction of the same word counts once.
    app.put(
        &other,
        Some(&officer),
        json!({"status": "explained", "day": "2026-11-11"}),
    )
    .await;

    let mine = app
        .get(&format!("/api/v1/enterprises/{crrc}/policies"), Some(&officer))
        .await;
    let standing: Vec<(&str, &str)> = mine.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["title"].as_str().unwrap_or_default(),
                p["check_off"]["status"].as_str().unwrap_or("none"),
            )
        })
        .collect();
    assert!(
        standing.contains(&("关于进一步加大增值税期末留抵退税政策实施力度的公告", "granted")),
        "{standing:?}"
    );
    let history = app
        .get(
            &format!("/api/v1/enterprises/{crrc}/policies/{policy}/check-offs"),
            Some(&officer),
        )
        .await;
    let statuses: Vec<&str> = history.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["granted", "applying", "explained"],
        "newest first, every word kept"
    );
    assert_eq!(history.body["items"][0]["note"], "已到账");

    // Scope: another enterprise's officer neither reads nor writes; the hub reads, not writes.
    let wang = app.token("officer.wang").await;
    assert_eq!(app.put(&path, Some(&wang), words[0].clone()).await.status, 404);
    let dispatcher = app.token("hub.dispatcher").await;
    let hub = app.put(&path, Some(&dispatcher), words[0].clone()).await;
    assert_eq!((hub.status, hub.code()), (403, "auth.role_required"));

    // Hand-computed: one pair explained per policy (the correction counts once), one applied
    // for 2,000,000, one granted 1,200,000.
    let clerk = app.token("rsj.clerk").await;
    let stats = app
        .get(
            "/api/v1/stats/policies?from=2026-11-01&to=2026-11-30",
            Some(&clerk),
        )
        .await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert_eq!(
        stats.body["totals"],
        json!({"not_applicable": 0, "explained": 2, "applying": 1, "granted": 1, "refused": 0,
               "granted_yuan": 1_200_000, "applying_yuan": 2_000_000})
    );
    assert_eq!(stats.body["by_region"][0]["region_code"], "430204");
    let early = app
        .get(
            "/api/v1/stats/policies?from=2026-11-01&to=2026-11-03",
            Some(&clerk),
        )
        .await;
    assert_eq!(early.body["totals"]["explained"], 1);
    assert_eq!(early.body["totals"]["granted"], 0);
    assert_eq!(
        app.get("/api/v1/stats/policies", Some(&officer)).await.status,
        403
    );

    let (status, bytes) =
        crate::assignment_meetings::download(&app, "/api/v1/exports/policy-checkoffs.xlsx", &clerk).await;
    assert_eq!(status, 200);
    let sheets = crate::assignment_meetings::sheet_rows(&bytes);
    let (name, rows) = &sheets[0];
    assert_eq!(name, "政策落实");
    assert_eq!(rows.len(), 3, "a header and the two pairs");
    assert!(
        rows[1..].iter().any(|r| r[5] == "已兑现" && r[7] == "1200000"),
        "{rows:?}"
    );
}
