//! The hub console in a real browser: Debian's chromium, headless at 1366×768, driven through
//! chromium-driver (WebDriver; `make test` installs both). A dispatcher signs in, claims and
//! triages from the keyboard, a clerk signs for and answers, the enterprise's rating (through
//! the API) shows up, and a leader sees the dashboard follow the day. Every page visited is
//! checked for a title, `lang="zh-CN"` and a label on each form control, and saved as a
//! screenshot under `target/console-screenshots/` for a reviewer.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, CRRC, PASSWORD};
use crate::lifecycle::{assigned, file};

/// A chromium-driver of this test's own and a headless chromium session through it; both end
/// when the test does.
struct Chrome {
    driver: Child,
    client: Client,
    /// The test's name, prefixing its screenshots.
    name: &'static str,
    shots: usize,
}

fn program(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

impl Chrome {
    async fn start(name: &'static str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{chromedriver}: {e} (make test installs chromium and chromium-driver)")
            });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": program("CHROMIUM", "/usr/bin/chromium"),
                // Root in CI has no user namespace sandbox; /dev/shm is small in containers.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,768", "--lang=zh-CN"]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut attempts = 0;
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                // The driver takes a moment to listen.
                Err(e) if attempts < 50 => {
                    attempts += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromium-driver on {url}: {e}"),
            }
        };
        Self {
            driver,
            client,
            name,
            shots: 0,
        }
    }

    async fn open(&self, app: &TestApp, path: &str) {
        self.client.goto(&app.url(path)).await.expect("goto");
    }

    async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("{css} on {}: {e}", self.path().await),
        }
    }

    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    /// Types into the field labelled by `css`.
    async fn fill(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.expect("type");
    }

    /// Clicks and waits for the page the click leads to.
    async fn click(&self, css: &str) {
        let before = self.client.find(Locator::Css("html")).await.expect("page");
        self.find(css).await.click().await.expect("click");
        self.until_replaced(before).await;
    }

    /// Presses keys on the page itself (no field focused), as a user at the keyboard does.
    async fn press(&self, keys: &str) {
        self.find("body").await.send_keys(keys).await.expect("keys");
    }

    /// Waits until the document `before` belongs to is gone (a navigation happened).
    async fn until_replaced(&self, before: Element) {
        for _ in 0..100 {
            if before.tag_name().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no navigation from {}", self.path().await);
    }

    async fn sign_in(&self, app: &TestApp, username: &str) {
        self.open(app, "/console/login").await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.click("form button[type=submit]").await;
        assert!(
            !self.path().await.ends_with("/login"),
            "{username} signed in: {}",
            self.body().await
        );
    }

    async fn sign_out(&self) {
        self.click("header form button").await;
        assert_eq!(self.path().await, "/console/login");
    }

    /// Checks the page in the browser — a title, `lang="zh-CN"`, a label for every visible
    /// form control — and saves a screenshot of it.
    async fn look(&mut self, what: &str) {
        let problems = self
            .client
            .execute(
                r#"
                const problems = [];
                if (document.documentElement.lang !== "zh-CN") problems.push("lang " + document.documentElement.lang);
                if (!document.title.trim()) problems.push("no title");
                for (const c of document.querySelectorAll("input, select, textarea")) {
                  if (c.type === "hidden") continue;
                  const named = (c.labels && c.labels.length > 0) || c.getAttribute("aria-label");
                  if (!named) problems.push("no label: " + c.outerHTML);
                }
                return problems;
                "#,
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(problems, json!([]), "{what} at {}", self.path().await);
        self.shots += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(
            dir.join(format!("{}-{:02}-{what}.png", self.name, self.shots)),
            png,
        )
        .expect("screenshot written");
    }

    async fn end(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // A failed test still stops its driver (its browser goes with it).
        let _ = self.driver.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_triages_from_the_keyboard_a_clerk_answers_and_the_rating_shows() {
    let app = spawn_app().await;
    app.seed_demo();
    let id = file(&app, "园区近一周频繁停电，二车间生产线多次中断，请供电公司协调").await;
    let mut chrome = Chrome::start("lifecycle").await;

    chrome.sign_in(&app, "hub.dispatcher").await;
    assert_eq!(chrome.path().await, "/console/queue");
    assert!(chrome.body().await.contains("园区近一周频繁停电"));
    chrome.look("queue").await;
    // c claims the next items, from the keyboard.
    let queue = chrome.client.find(Locator::Css("html")).await.expect("page");
    chrome.press("c").await;
    chrome.until_replaced(queue).await;
    assert!(
        chrome.text("tr[data-href] td:nth-child(5)").await.contains('我'),
        "the claim shows who holds the item"
    );
    chrome.look("claimed").await;

    // Without the mouse: j selects the first row, Enter opens it, t goes to the first field.
    chrome.press("j").await;
    let queue = chrome.client.find(Locator::Css("html")).await.expect("page");
    chrome.press(&Key::Enter.to_string()).await;
    chrome.until_replaced(queue).await;
    assert_eq!(chrome.path().await, format!("/console/problems/{id}"));
    chrome.press("t").await;
    let focused = chrome.client.active_element().await.expect("focus");
    assert_eq!(focused.attr("id").await.expect("id").as_deref(), Some("category"));
    chrome.look("problem").await;
    chrome
        .find("#category")
        .await
        .select_by_value("utilities")
        .await
        .expect("category");
    let gdgs = app.unit_id("ZZ-GDGS").await;
    chrome
        .find("#department_id")
        .await
        .select_by_value(&gdgs)
        .await
        .expect("department");
    chrome.fill("#instructions", "请三个工作日内联系企业").await;
    chrome.click("form.action button[type=submit]").await;
    assert_eq!(chrome.text("p.message").await, "已分类并交办");
    assert!(chrome.body().await.contains("国网株洲供电公司"));
    chrome.look("assigned").await;
    chrome.sign_out().await;

    // The department's clerk signs for it and answers.
    chrome.sign_in(&app, "gdgs.clerk").await;
    assert_eq!(chrome.path().await, "/console/department");
    chrome.look("department").await;
    chrome.click(&format!("a[href='/console/problems/{id}']")).await;
    assert!(
        !chrome.body().await.contains("分类并交办"),
        "no dead buttons: a clerk does not assign"
    );
    chrome.fill("#accept_note", "已电话联系企业").await;
    chrome.click("form.action:has(#accept_note) button").await;
    assert_eq!(chrome.text("p.message").await, "已签收");
    chrome
        .find("#outcome")
        .await
        .select_by_value("resolved")
        .await
        .expect("outcome");
    chrome.fill("#resolution", "已安排线路检修，恢复双回路供电").await;
    chrome.click("form.action:has(#resolution) button").await;
    assert_eq!(chrome.text("p.message").await, "已反馈");
    chrome.look("responded").await;

    // The officer rates the answer through the API; the clerk's page shows it.
    let (officer, _) = app.officer_at("中车株洲电力机车有限公司").await;
    let rated = app
        .post(
            &format!("/api/v1/problems/{id}/evaluate"),
            Some(&officer),
            json!({"rating": "satisfied", "comment": "供电已恢复，感谢"}),
        )
        .await;
    assert_eq!(rated.status, 200, "{}", rated.text);
    chrome.client.refresh().await.expect("reload");
    assert_eq!(chrome.text("#rating").await, "满意：供电已恢复，感谢");
    chrome.look("rated").await;
    chrome.end().await;
}

/// The signed-in figure on the dashboard's overview.
async fn signed_in(chrome: &Chrome) -> i64 {
    chrome.text("#signed_in").await.trim().parse().expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_sees_the_dashboard_follow_the_day() {
    let app = spawn_app().await;
    app.seed_demo();
    assigned(&app, "厂区道路被施工车辆长期占用，原料车辆无法进出").await;
    let mut chrome = Chrome::start("dashboard").await;
    chrome.sign_in(&app, "demo.admin").await;
    chrome.open(&app, "/console/dashboard").await;
    assert!(chrome
        .find("svg[role=img]")
        .await
        .is_displayed()
        .await
        .expect("shown"));
    let before = signed_in(&chrome).await;
    chrome.look("before").await;

    let (officer, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let signed: Value = app
        .post(
            "/api/v1/sign-ins",
            Some(&officer),
            json!({"enterprise_id": enterprise, "lat": CRRC.0, "lng": CRRC.1}),
        )
        .await
        .body;
    assert!(signed["id"].is_string(), "{signed}");
    chrome.client.refresh().await.expect("reload");
    assert_eq!(signed_in(&chrome).await, before + 1, "the figures follow the day");
    chrome.look("after").await;

    // A bar leads to the list behind it.
    chrome.click("#chart-categories a").await;
    assert_eq!(chrome.path().await, "/console/problems");
    assert!(chrome
        .text("#problems")
        .await
        .contains("厂区道路被施工车辆长期占用"));
    chrome.look("list").await;
    chrome.end().await;
}
