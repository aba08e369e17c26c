//! Test helpers for the problem lifecycle: taking an action and reading the answer as a typed
//! problem, and the usual way into a department's hands (triage, then assign).

use serde::Deserialize;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// A problem as the API answers it, with the fields tests read most.
#[derive(Debug, Deserialize)]
pub struct ProblemBody {
    pub id: String,
    pub status: String,
    pub urgency: String,
    pub category: Option<String>,
    pub department_id: Option<String>,
    pub due_at: Option<String>,
    pub contact_due_at: Option<String>,
    pub escalation_level: i64,
    #[serde(default)]
    pub timeline: Vec<EventBody>,
}

/// One event of a problem's timeline.
#[derive(Debug, Deserialize)]
pub struct EventBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub actor_role: Option<String>,
    pub note: Option<String>,
    pub details: Option<Value>,
}

impl ProblemBody {
    /// The timeline's event types, oldest first.
    pub fn events(&self) -> Vec<&str> {
        self.timeline.iter().map(|e| e.kind.as_str()).collect()
    }
}

impl TestApp {
    /// Takes `action` (`triage`, `assign`, `accept`, …) on problem `id` as `token`'s holder and
    /// expects it to succeed; the problem as it now stands.
    pub async fn act(&self, token: &str, id: &str, action: &str, body: Value) -> ProblemBody {
        let reply = self
            .post(&format!("/api/v1/problems/{id}/{action}"), Some(token), body)
            .await;
        assert_eq!(reply.status, 200, "{action} {id}: {}", reply.text);
        serde_json::from_value(reply.body).expect("a problem")
    }

    /// Triages problem `id` as `category` and assigns it to the department with unit code
    /// `department` (its deadline the category's, unless `due_working_days` is given), as the
    /// dispatcher holding `token`.
    pub async fn triage_and_assign(
        &self,
        token: &str,
        id: &str,
        category: &str,
        department: &str,
        due_working_days: Option<u32>,
    ) -> ProblemBody {
        self.act(token, id, "triage", json!({ "category": category }))
            .await;
        let department_id = self.unit_id(department).await;
        let body = match due_working_days {
            Some(days) => json!({ "department_id": department_id, "due_working_days": days }),
            None => json!({ "department_id": department_id }),
        };
        self.act(token, id, "assign", body).await
    }
}

/// Files a problem at 中车 as its officer; returns its id.
pub async fn file(app: &TestApp, description: &str) -> String {
    let (officer, enterprise) = app.officer_at("中车株洲电力机车有限公司").await;
    let filed = app
        .post(
            "/api/v1/problems",
            Some(&officer),
            json!({"enterprise_id": enterprise, "description": description}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    filed.body["id"].as_str().expect("id").to_owned()
}

/// Files, triages as `utilities` and assigns to 国网株洲供电公司 with the category's policy.
pub async fn assigned(app: &TestApp, description: &str) -> String {
    let id = file(app, description).await;
    let dispatcher = app.token("hub.dispatcher").await;
    app.triage_and_assign(&dispatcher, &id, "utilities", "ZZ-GDGS", None)
        .await;
    id
}
