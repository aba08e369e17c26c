//! The hub console through HTTP as a browser uses it: the session cookie, CSRF refusals,
//! what each role sees, scope, idle timeout, and the labels of every form control.

use std::collections::BTreeMap;

use chrono::Duration;

use crate::helpers::{spawn_app, TestApp, PASSWORD};
use crate::lifecycle::{assigned, file};

/// A cookie jar and a client that does not follow redirects, so each answer can be read.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: u16,
    location: String,
    set_cookies: Vec<String>,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let request = if jar.is_empty() {
            request
        } else {
            request.header("cookie", jar.join("; "))
        };
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for cookie in &set_cookies {
            let pair = cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Page {
            status,
            location,
            set_cookies,
            body: response.text().await.expect("body"),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(self.app.url(path));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(self.app.url(path)).form(form);
        self.send(request).await
    }

    /// Posts a multipart form with one file, as a file input sends it.
    async fn upload(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str)) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        let part = reqwest::multipart::Part::bytes(file.1.as_bytes().to_vec()).file_name(file.0.to_owned());
        let request = self
            .client
            .post(self.app.url(path))
            .multipart(form.part("file", part));
        self.send(request).await
    }

    /// Signs in through the form; the page it lands on.
    async fn sign_in(&mut self, username: &str) -> Page {
        let form = self.get("/console/login").await;
        let token = hidden(&form.body, "token");
        let signed = self
            .post(
                "/console/login",
                &[("username", username), ("password", PASSWORD), ("token", &token)],
            )
            .await;
        assert_eq!(
            (signed.status, signed.location.as_str()),
            (303, "/console"),
            "{}",
            signed.body
        );
        signed
    }
}

/// The value of the first hidden field `name` of a page.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .map(|i| i + marker.len())
        .expect("hidden field");
    body[start..].split('"').next().unwrap_or_default().to_owned()
}

/// Every visible form control has a label naming its id; the page has a title and zh-CN.
fn assert_accessible(body: &str) {
    assert!(body.contains("<html lang=\"zh-CN\">"), "lang");
    assert!(
        body.contains("<title>") && !body.contains("<title></title>"),
        "title"
    );
    for tag in ["<input", "<select", "<textarea"] {
        for control in body.split(tag).skip(1) {
            let control = control.split('>').next().unwrap_or_default();
            if control.contains("type=\"hidden\"") {
                continue;
            }
            let id = control
                .split("id=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("{tag}{control}> has no id"));
            assert!(body.contains(&format!("for=\"{id}\"")), "no label for #{id}");
        }
    }
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_the_form_needs_its_token() {
    let app = spawn_app().await;
    app.seed_demo();
    let mut browser = Browser::new(&app);
    let form = browser.get("/console/login").await;
    assert_eq!(form.status, 200);
    assert_accessible(&form.body);
    // Without the sign-in form's cookie (another site's form): refused.
    let forged = Browser::new(&app)
        .post(
            "/console/login",
            &[
                ("username", "hub.dispatcher"),
                ("password", PASSWORD),
                ("token", "guess"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let wrong = browser
        .post(
            "/console/login",
            &[
                ("username", "hub.dispatcher"),
                ("password", "wrong"),
                ("token", &hidden(&form.body, "token")),
            ],
        )
        .await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("用户名或密码错误"));

    let signed = browser.sign_in("hub.dispatcher").await;
    let session = signed
        .set_cookies
        .iter()
        .find(|c| c.starts_with("zhuqi_console="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(session.contains(flag), "{session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: not Secure");
    let home = browser.get("/console").await;
    assert_eq!((home.status, home.location.as_str()), (303, "/console/queue"));
    let queue = browser.get("/console/queue").await;
    assert_eq!(queue.status, 200);
    assert_accessible(&queue.body);

    // Signing out needs the session's token, and ends the session.
    assert_eq!(browser.post("/console/logout", &[]).await.status, 403);
    let csrf = hidden(&queue.body, "csrf");
    let out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/console/login"));
    let after = browser.get("/console/queue").await;
    assert_eq!((after.status, after.location.as_str()), (303, "/console/login"));
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes_or_when_the_user_is_disabled() {
    let app = spawn_app().await;
    app.seed_demo();
    let mut browser = Browser::new(&app);
    browser.sign_in("hub.dispatcher").await;
    app.clock.advance(Duration::minutes(29));
    assert_eq!(browser.get("/console/queue").await.status, 200, "still there");
    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        browser.get("/console/queue").await.status,
        200,
        "each page restarts the idle time"
    );
    app.clock.advance(Duration::minutes(31));
    assert_eq!(browser.get("/console/queue").await.status, 303, "idle too long");

    browser.sign_in("hub.dispatcher").await;
    app.exec("UPDATE users SET active = false WHERE username = 'hub.dispatcher'");
    assert_eq!(browser.get("/console/queue").await.status, 303, "disabled");
}

#[tokio::test]
async fn a_dispatcher_claims_triages_and_assigns_and_the_clerk_answers_in_the_console() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file(&app, "园区近一周频繁停电，二车间生产线多次中断，请供电公司协调").await;
    let mut dispatcher = Browser::new(&app);
    dispatcher.sign_in("hub.dispatcher").await;
    let queue = dispatcher.get("/console/queue").await;
    assert!(queue.body.contains("园区近一周频繁停电"), "{}", queue.body);
    let csrf = hidden(&queue.body, "csrf");
    assert_eq!(
        dispatcher.post("/console/queue/claim", &[]).await.status,
        403,
        "no token"
    );
    let claimed = dispatcher.post("/console/queue/claim", &[("csrf", &csrf)]).await;
    assert_eq!(claimed.status, 303);
    assert!(dispatcher
        .get("/console/queue")
        .await
        .body
        .contains("<strong>我</strong>"));

    let page = dispatcher.get(&format!("/console/problems/{id}")).await;
    assert_eq!(page.status, 200);
    assert_accessible(&page.body);
    assert!(page.body.contains("分类并交办"));
    assert!(
        !page.body.contains("反馈办理结果"),
        "no dead buttons: a dispatcher does not respond"
    );
    let gdgs = app.unit_id("ZZ-GDGS").await;
    let path = format!("/console/problems/{id}");
    let forged = dispatcher
        .post(
            &path,
            &[
                ("action", "triage_assign"),
                ("category", "utilities"),
                ("department_id", &gdgs),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "a form without the session's token");
    let done = dispatcher
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("action", "triage_assign"),
                ("category", "utilities"),
                ("department_id", &gdgs),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    let after = dispatcher.get(&done.location).await;
    assert!(after.body.contains("已分类并交办"), "{}", after.body);
    assert!(after.body.contains("国网株洲供电公司"));

    // The clerk of another department does not see it; the department's clerk answers it.
    let mut other = Browser::new(&app);
    other.sign_in("rsj.clerk").await;
    assert_eq!(other.get(&path).await.status, 404);
    assert_eq!(
        other.get("/console/queue").await.status,
        404,
        "no queue for clerks"
    );
    let mut clerk = Browser::new(&app);
    clerk.sign_in("gdgs.clerk").await;
    let mine = clerk.get("/console/department").await;
    assert!(mine.body.contains("园区近一周频繁停电"));
    let page = clerk.get(&path).await;
    assert!(page.body.contains("签收") && !page.body.contains("分类并交办"));
    let csrf = hidden(&page.body, "csrf");
    assert_eq!(
        clerk
            .post(&path, &[("csrf", &csrf), ("action", "accept")])
            .await
            .status,
        303
    );
    let responded = clerk
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("action", "respond"),
                ("outcome", "resolved"),
                ("resolution", "已安排线路检修，恢复双回路供电"),
            ],
        )
        .await;
    let answered = clerk.get(&responded.location).await;
    assert!(answered.body.contains("已反馈"), "{}", answered.body);
    // A second answer is refused by the state machine and said on the page.
    let again = clerk
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("action", "respond"),
                ("outcome", "resolved"),
                ("resolution", "再次"),
            ],
        )
        .await;
    let refused = clerk.get(&again.location).await;
    assert!(refused.body.contains("不能执行此操作"), "{}", refused.body);
    let api = app
        .get(
            &format!("/api/v1/problems/{id}"),
            Some(&app.token("hub.dispatcher").await),
        )
        .await;
    assert_eq!(api.body["status"], "responded");
}

#[tokio::test]
async fn an_overdue_problem_is_shown_in_red_on_the_department_page() {
    let app = spawn_app().await;
    app.seed_demo();
    assigned(&app, "变压器增容申请进展缓慢").await;
    app.clock.advance(Duration::days(30));
    let mut clerk = Browser::new(&app);
    clerk.sign_in("gdgs.clerk").await;
    let page = clerk.get("/console/department").await;
    assert!(page.body.contains("class=\"overdue\""), "{}", page.body);
    assert!(page.body.contains("（已逾期）"));
}

#[tokio::test]
async fn ledgers_download_with_the_forms_filters_for_what_the_viewer_may_see() {
    let app = spawn_app().await;
    app.seed_demo();
    assigned(&app, "变压器增容申请进展缓慢").await;
    let mut dispatcher = Browser::new(&app);
    dispatcher.sign_in("hub.dispatcher").await;
    let page = dispatcher.get("/console/ledgers").await;
    assert_eq!(page.status, 200);
    assert_accessible(&page.body);
    // "全部" sends empty fields; they mean no filter.
    let all = dispatcher
        .get("/console/exports/problems.xlsx?status=&overdue=")
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.body.starts_with("PK"), "an XLSX (zip) file");
    let assigned_only = dispatcher
        .get("/console/exports/problems.xlsx?status=assigned")
        .await;
    assert_eq!(assigned_only.status, 200);
    let bad = dispatcher
        .get("/console/exports/problems.xlsx?status=nonsense")
        .await;
    assert_eq!(bad.status, 400);
    let reports = dispatcher
        .get("/console/exports/daily-reports.xlsx?from=2026-11-01&to=2026-11-20")
        .await;
    assert_eq!(reports.status, 200);
    // Signed out: to the sign-in page, no file.
    let stranger = Browser::new(&app).get("/console/exports/problems.xlsx").await;
    assert_eq!(
        (stranger.status, stranger.location.as_str()),
        (303, "/console/login")
    );
}

#[tokio::test]
async fn the_dashboard_draws_the_days_figures_and_follows_a_sign_in() {
    let app = spawn_app().await;
    app.seed_demo();
    let mut leader = Browser::new(&app);
    leader.sign_in("hub.dispatcher").await;
    let before = leader.get("/console/dashboard").await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert_accessible(&before.body);
    assert!(before.body.contains("<svg role=\"img\""));
    assert!(before.body.contains("签到率"));
    let signed_in = |body: &str| -> String {
        let marker = "已签到</span><span id=\"signed_in\">";
        let start = body.find(marker).expect("signed-in figure") + marker.len();
        body[start..].split('<').next().unwrap_or_default().to_owned()
    };
    assert_eq!(signed_in(&before.body), "0");
    let (officer, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let signed = app
        .post(
            "/api/v1/sign-ins",
            Some(&officer),
            serde_json::json!({"enterprise_id": enterprise, "lat": crate::helpers::CRRC.0, "lng": crate::helpers::CRRC.1}),
        )
        .await;
    assert_eq!(signed.status, 201, "{}", signed.text);
    let after = leader.get("/console/dashboard").await;
    assert_eq!(signed_in(&after.body), "1", "the figures follow the day");
    // A clerk reads no dashboard.
    let mut clerk = Browser::new(&app);
    clerk.sign_in("gdgs.clerk").await;
    assert_eq!(clerk.get("/console/dashboard").await.status, 403);
}

#[tokio::test]
async fn the_dashboards_charts_link_to_their_lists_for_the_picked_region_and_period() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = assigned(&app, "厂区道路被施工车辆长期占用，原料车辆无法进出").await;
    let mut leader = Browser::new(&app);
    leader.sign_in("hub.dispatcher").await;
    let page = leader
        .get("/console/dashboard?from=2026-11-01&to=2026-11-20")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_accessible(&page.body);
    for chart in ["rates", "categories", "weeks", "departments", "officers"] {
        assert!(page.body.contains(&format!("id=\"chart-{chart}\"")), "{chart}");
    }
    assert!(
        page.body.contains("<option value=\"430281\">醴陵市</option>"),
        "the region picker"
    );
    // The category's bar leads to the problems of that category, the department's to its own.
    let category_link = "/console/problems?region_code=430200&#38;category=utilities";
    assert!(page.body.contains(category_link), "{}", page.body);
    let gdgs = app.unit_id("ZZ-GDGS").await;
    assert!(page.body.contains(&format!("department_id={gdgs}")));
    let list = leader.get(&category_link.replace("&#38;", "&")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_accessible(&list.body);
    assert!(
        list.body.contains(&format!("/console/problems/{id}")),
        "{}",
        list.body
    );
    // The list's ledger carries its filters.
    assert!(list
        .body
        .contains("<input type=\"hidden\" name=\"category\" value=\"utilities\">"));
    let ledger = leader
        .get("/console/exports/problems.xlsx?category=utilities&region_code=430200")
        .await;
    assert_eq!(ledger.status, 200);
    let other = leader
        .get("/console/problems?region_code=430200&category=other&status=")
        .await;
    assert_eq!(other.status, 200, "an empty select is no filter: {}", other.body);
    assert!(!other.body.contains(&format!("/console/problems/{id}")));
    // Four weeks ending on `to`, the last with the problem.
    let weeks = page.body.split("id=\"chart-weeks\"").nth(1).unwrap_or_default();
    assert!(weeks.contains("11-14–11-20"), "{weeks}");

    // Another region: its own figures; a period too long is refused on the page.
    let county = leader.get("/console/dashboard?region=430281").await;
    assert_eq!(county.status, 200);
    assert!(county.body.contains("数据看板 · 醴陵市"));
    let too_long = leader
        .get("/console/dashboard?from=2025-01-01&to=2026-11-20")
        .await;
    assert_eq!(too_long.status, 400);
    // A county's admin cannot pick the city.
    app.create_admin("ll.admin", "430281", "醴陵市");
    let mut county_admin = Browser::new(&app);
    county_admin.sign_in("ll.admin").await;
    assert_eq!(
        county_admin.get("/console/dashboard?region=430200").await.status,
        404
    );
    assert_eq!(county_admin.get("/console/dashboard").await.status, 200);
}

#[tokio::test]
async fn an_admin_checks_a_roster_file_before_importing_it_and_reissues_an_invite() {
    let app = spawn_app().await;
    app.seed_demo();
    let mut admin = Browser::new(&app);
    admin.sign_in("demo.admin").await;
    let page = admin.get("/console/roster").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_accessible(&page.body);
    let csrf = hidden(&page.body, "csrf");
    let users = || app.count("SELECT count(*) AS n FROM users");
    let before = users();

    // A file with broken rows: each shown with its line, nothing written.
    let broken = "username,name,phone,roles,unit_code,region_code,enterprise_credit_code\n\
                  zz.newcomer,陶新,13807339901,officer,ZZ-CZJ,430200,\n\
                  officer.chen,陈晨,not-a-phone,officer,ZZ-CZJ,430200,\n\
                  officer.wu,吴敏,13807339903,boss,ZZ-CZJ,430200,\n";
    let fields = [("csrf", csrf.as_str()), ("kind", "users")];
    let refused = admin
        .upload("/console/roster/check", &fields, ("users.csv", broken))
        .await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert!(refused.body.contains("check-refused"), "{}", refused.body);
    assert!(
        refused.body.contains("<td>3</td><td>phone</td>"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("<td>4</td><td>roles</td>"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("确认导入"));
    assert_eq!(users(), before, "a check writes nothing");

    // A clean file: a summary and a confirmation; only the confirmation writes.
    let clean = "username,name,phone,roles,unit_code,region_code,enterprise_credit_code\n\
                 zz.newcomer,陶新,13807339901,officer,ZZ-CZJ,430200,\n";
    let forged = admin
        .upload(
            "/console/roster/check",
            &[("kind", "users")],
            ("users.csv", clean),
        )
        .await;
    assert_eq!(forged.status, 403, "a check needs the session's token");
    let checked = admin
        .upload("/console/roster/check", &fields, ("users.csv", clean))
        .await;
    assert!(
        checked.body.contains("检查通过：1 行，将新增 1"),
        "{}",
        checked.body
    );
    assert_eq!(users(), before);
    let upload = hidden(&checked.body, "upload");
    let imported = admin
        .post("/console/roster/import", &[("csrf", &csrf), ("upload", &upload)])
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert!(
        imported.body.contains("人员已导入：1 行，新增 1"),
        "{}",
        imported.body
    );
    assert!(
        imported.body.contains("<td>zz.newcomer</td><td><code>"),
        "the invite code, once"
    );
    assert_eq!(users(), before + 1);
    let again = admin
        .post("/console/roster/import", &[("csrf", &csrf), ("upload", &upload)])
        .await;
    assert_eq!(again.status, 422, "a checked file is imported once");
    assert_eq!(users(), before + 1);

    // Search, and a new invite code for the user found.
    let found = admin.get("/console/roster?q=%E9%99%B6%E6%96%B0").await;
    assert!(
        found.body.contains("<td>zz.newcomer</td><td>陶新</td>"),
        "{}",
        found.body
    );
    let liu = app.text("SELECT id::text AS t FROM users WHERE username = 'zz.newcomer'");
    let old_digest = app.text("SELECT invite_code_hash AS t FROM users WHERE username = 'zz.newcomer'");
    let reissued = admin
        .post(&format!("/console/roster/users/{liu}/invite"), &[("csrf", &csrf)])
        .await;
    assert!(
        reissued.body.contains("已为 zz.newcomer 重新发放邀请码"),
        "{}",
        reissued.body
    );
    assert_ne!(
        app.text("SELECT invite_code_hash AS t FROM users WHERE username = 'zz.newcomer'"),
        old_digest
    );
    let enterprises = admin.get("/console/roster?e=%E4%B8%AD%E8%BD%A6").await;
    assert!(enterprises.body.contains("中车株洲电力机车有限公司"));

    // An admin of a county sees and manages only the county's people; others have no roster.
    app.create_admin("ll.admin", "430281", "醴陵市");
    let mut county = Browser::new(&app);
    county.sign_in("ll.admin").await;
    let outside = county.get("/console/roster?q=zz.newcomer").await;
    assert!(!outside.body.contains("<td>zz.newcomer</td>"), "{}", outside.body);
    let csrf = hidden(&outside.body, "csrf");
    let refused = county
        .post(&format!("/console/roster/users/{liu}/invite"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, 404);
    let mut dispatcher = Browser::new(&app);
    dispatcher.sign_in("hub.dispatcher").await;
    assert_eq!(dispatcher.get("/console/roster").await.status, 404);
}
