//! Notifications: the kinds there are, who hears of each, how each is worded, and when a push
//! may go out (quiet hours, retries). Pure: `notify` does the reading, writing and sending.
//!
//! An event's payload is a flat JSON object of named values (`title`, `due_at` …); each kind
//! lists the names it carries ([`NotificationKind::values`]), which are also the names a
//! city's WeChat template maps its fields to.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Asia::Shanghai;
use serde_json::{json, Value};

use super::lifecycle::Outcome;
use super::role::Role;
use super::subscribe_field::{self, FieldKind};
use super::vocabulary::vocabulary;

vocabulary! {
    /// What a notification announces.
    pub enum NotificationKind {
        /// 交办: a problem was assigned to a department.
        ProblemAssigned = "problem.assigned",
        /// The contact deadline falls due on the next working day.
        ContactDue = "problem.contact_due",
        /// The due date falls on the next working day.
        DueSoon = "problem.due_soon",
        /// 督办: a deadline was missed.
        Escalated = "problem.escalated",
        /// The department answered; the enterprise and its officer are asked to rate it.
        Responded = "problem.responded",
        /// A department gave a misrouted problem back to the hub.
        Returned = "problem.returned",
        /// A department asks for a later due date.
        ExtensionRequested = "extension.requested",
        /// The hub approved or refused an extension.
        ExtensionDecided = "extension.decided",
        /// An officer has not signed in by the region's reminder time.
        SignInMissing = "officer.sign_in_missing",
        /// An officer has not filed today's report by the region's reminder time.
        ReportMissing = "officer.report_missing",
        /// 催报: a unit admin's list of their officers without a sign-in or report.
        MissingDigest = "unit.missing_digest",
        /// The day's summary (日总结) for dispatchers and leaders, once it is frozen.
        DailyFigures = "region.daily_figures",
    }
}

impl NotificationKind {
    /// The obligations of a department or the hub: pushed whatever the user muted.
    pub fn mandatory(self) -> bool {
        use NotificationKind::*;
        matches!(
            self,
            ProblemAssigned
                | ContactDue
                | DueSoon
                | Escalated
                | Returned
                | ExtensionRequested
                | ExtensionDecided
        )
    }

    /// Also posted to the addressed unit's group robot.
    pub fn to_robot(self) -> bool {
        use NotificationKind::*;
        matches!(
            self,
            ProblemAssigned | ContactDue | DueSoon | Escalated | MissingDigest | DailyFigures
        )
    }

    /// Pushed in quiet hours too: a missed deadline does not wait for the morning.
    pub fn urgent(self) -> bool {
        self == NotificationKind::Escalated
    }

    /// The named values its payload carries: what a template's fields may be filled from.
    pub fn values(self) -> &'static [&'static str] {
        use NotificationKind::*;
        match self {
            ProblemAssigned => &[
                "title",
                "enterprise",
                "department",
                "contact_due_at",
                "due_at",
                "status",
            ],
            ContactDue => &["title", "enterprise", "contact_due_at", "status"],
            DueSoon => &["title", "enterprise", "due_at", "status"],
            Escalated => &["title", "enterprise", "level", "reason", "due_at", "status"],
            Responded => &["title", "department", "outcome", "responded_at", "status"],
            Returned => &["title", "department", "reason", "status"],
            ExtensionRequested => &["title", "department", "requested_due_at", "reason", "status"],
            ExtensionDecided => &["title", "decision", "due_at", "status"],
            SignInMissing | ReportMissing => &["day", "name", "status"],
            MissingDigest => &["day", "unit", "without_sign_in", "without_report", "status"],
            DailyFigures => &[
                "day",
                "region",
                "sign_ins",
                "reports",
                "new_problems",
                "closed",
                "open_problems",
                "overdue",
                "status",
            ],
        }
    }

    /// Its name in the console and in messages.
    pub fn label(self) -> &'static str {
        use NotificationKind::*;
        match self {
            ProblemAssigned => "问题交办",
            ContactDue => "联系时限提醒",
            DueSoon => "办理时限提醒",
            Escalated => "逾期督办",
            Responded => "办理答复",
            Returned => "问题退回",
            ExtensionRequested => "延期申请",
            ExtensionDecided => "延期审批",
            SignInMissing => "签到提醒",
            ReportMissing => "日报提醒",
            MissingDigest => "催报汇总",
            DailyFigures => "每日数据",
        }
    }
}

vocabulary! {
    /// Who, of the addressed unit (or user, or the problem's side), hears of an event.
    pub enum Audience {
        /// The department's clerks.
        Department = "department",
        /// The department's clerks and its unit admins (督办 level 2).
        DepartmentLeadership = "department_leadership",
        /// The admins of the officer's dispatching unit.
        DispatchingUnit = "dispatching_unit",
        /// The hub's dispatchers (督办 level 3).
        HubLeadership = "hub_leadership",
        /// The hub's dispatchers: of the addressed hub unit, or over the event's region.
        Hub = "hub",
        /// The problem's enterprise contacts and the officers assigned to its enterprise.
        EnterpriseSide = "enterprise_side",
        /// One user, named by the event.
        User = "user",
        /// A unit's admins.
        UnitAdmins = "unit_admins",
    }
}

impl Audience {
    /// The roles that make a user of the addressed unit one of this audience.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Audience::Department => &[Role::Department],
            Audience::DepartmentLeadership => &[Role::Department, Role::UnitAdmin],
            Audience::DispatchingUnit | Audience::UnitAdmins => &[Role::UnitAdmin],
            Audience::HubLeadership | Audience::Hub => &[Role::Dispatcher],
            Audience::EnterpriseSide => &[Role::Enterprise, Role::Officer],
            Audience::User => &[],
        }
    }
}

vocabulary! {
    /// How a push leaves the server.
    pub enum Channel {
        /// A WeChat subscribe message to one user.
        Wechat = "wechat",
        /// A post to a unit's group robot.
        Robot = "robot",
    }
}

vocabulary! {
    /// Where a push stands.
    pub enum DeliveryStatus {
        /// Waiting for its (next) attempt.
        Pending = "pending",
        Sent = "sent",
        /// Given up: too many attempts, or refused for good (bad template data).
        Dead = "dead",
        /// WeChat says the user has no subscription left (43101): never retried.
        Unsubscribed = "unsubscribed",
    }
}

vocabulary! {
    /// The kind of a unit's group robot.
    pub enum RobotPlatform {
        /// 钉钉 custom robot, signed ("加签") with its secret.
        DingTalk = "dingtalk",
        /// 企业微信 group robot; the key in its webhook is its secret.
        WeCom = "wecom",
    }
}

/// What a notification points at, for the inbox and the mini-program page it opens.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Problem(String),
    DailyReport(NaiveDate),
    MissingReports(NaiveDate),
    Figures(NaiveDate),
}

impl Link {
    pub fn to_json(&self) -> Value {
        match self {
            Link::Problem(id) => json!({ "type": "problem", "id": id }),
            Link::DailyReport(day) => json!({ "type": "daily_report", "day": day }),
            Link::MissingReports(day) => json!({ "type": "missing_reports", "day": day }),
            Link::Figures(day) => json!({ "type": "figures", "day": day }),
        }
    }

    /// A template's page with `{problem_id}` and `{day}` filled in.
    pub fn page(&self, pattern: &str) -> String {
        let (problem, day) = match self {
            Link::Problem(id) => (id.clone(), String::new()),
            Link::DailyReport(day) | Link::MissingReports(day) | Link::Figures(day) => {
                (String::new(), day.to_string())
            }
        };
        pattern.replace("{problem_id}", &problem).replace("{day}", &day)
    }
}

/// A notification in words: the inbox entry, the robot post, and the values for a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub title: String,
    pub body: String,
    pub link: Option<Link>,
    /// Each named value as text for a template field of `kind`: instants as China time.
    pub values: BTreeMap<&'static str, FieldValue>,
}

/// A named value as it may fill a template field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(String),
    Instant(DateTime<Utc>),
    Day(NaiveDate),
}

impl FieldValue {
    /// The value as a field of `kind` takes it; `None` when nothing acceptable is left.
    pub fn fit(&self, kind: FieldKind) -> Option<String> {
        let text = match (self, kind) {
            (FieldValue::Instant(at), FieldKind::Date) => subscribe_field::date(*at),
            (FieldValue::Instant(at), _) => subscribe_field::time(*at),
            (FieldValue::Day(day), FieldKind::CharacterString | FieldKind::Number) => day.to_string(),
            (FieldValue::Day(day), _) => day.format("%Y年%-m月%-d日").to_string(),
            (FieldValue::Text(text), _) => text.clone(),
        };
        kind.fit(&text)
    }

    fn display(&self) -> String {
        match self {
            FieldValue::Instant(at) => subscribe_field::time(*at),
            FieldValue::Day(day) => day.format("%Y年%-m月%-d日").to_string(),
            FieldValue::Text(text) => text.clone(),
        }
    }
}

/// Why a template could not be filled: the message stays in the inbox only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    #[error("template field {0} is not a WeChat field key")]
    UnknownKey(String),
    #[error("template field {key} names {value}, which this message does not carry")]
    Missing { key: String, value: String },
    #[error("template field {key}: nothing of “{value}” fits a {kind} field")]
    Unfit {
        key: String,
        value: String,
        kind: FieldKind,
    },
}

impl Rendered {
    /// A template's `data`: each field key filled from the value it names, fitted to its kind.
    pub fn fill(&self, fields: &BTreeMap<String, String>) -> Result<Value, FillError> {
        let mut data = serde_json::Map::new();
        for (key, name) in fields {
            let kind = FieldKind::of_key(key).ok_or_else(|| FillError::UnknownKey(key.clone()))?;
            let value = self.values.get(name.as_str()).ok_or_else(|| FillError::Missing {
                key: key.clone(),
                value: name.clone(),
            })?;
            let fitted = value.fit(kind).ok_or_else(|| FillError::Unfit {
                key: key.clone(),
                value: value.display(),
                kind,
            })?;
            data.insert(key.clone(), json!({ "value": fitted }));
        }
        Ok(Value::Object(data))
    }

    /// The group robot's post: a heading, the body, and what kind of message it is.
    pub fn markdown(&self, kind: NotificationKind) -> String {
        format!("### {}\n\n{}\n\n> {}", self.title, self.body, kind.label())
    }
}

/// Reads an event's payload by name.
struct Payload<'a>(&'a Value);

impl Payload<'_> {
    fn text(&self, name: &str) -> String {
        match self.0.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    fn instant(&self, name: &str) -> Option<DateTime<Utc>> {
        let text = self.0.get(name)?.as_str()?;
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    fn day(&self, name: &str) -> Option<NaiveDate> {
        self.0.get(name)?.as_str()?.parse().ok()
    }
}

/// Words of a `reason` of an escalation.
fn reason_label(reason: &str) -> &'static str {
    match reason {
        "contact_overdue" => "超过联系时限未联系企业",
        "response_overdue" => "超过办理时限未答复",
        "still_overdue" => "超期5个工作日仍未答复",
        _ => "办理逾期",
    }
}

/// Words a kind says of itself in a status (`phrase`) field.
fn status_word(kind: NotificationKind, payload: &Payload) -> &'static str {
    use NotificationKind::*;
    match kind {
        ProblemAssigned => "已交办",
        ContactDue | DueSoon => "即将到期",
        Escalated => "逾期督办",
        Responded => "已答复",
        Returned => "已退回",
        ExtensionRequested => "待审批",
        ExtensionDecided if payload.text("decision") == "approved" => "已批准",
        ExtensionDecided => "未批准",
        SignInMissing => "未签到",
        ReportMissing => "未填报",
        MissingDigest => "催报",
        DailyFigures => "日报送",
    }
}

/// Renders an event of `kind` from its payload.
pub fn render(kind: NotificationKind, payload: &Value) -> Rendered {
    use NotificationKind::*;
    let p = Payload(payload);
    let mut values: BTreeMap<&'static str, FieldValue> = BTreeMap::new();
    for name in kind.values() {
        let value = if let Some(at) = p.instant(name) {
            FieldValue::Instant(at)
        } else if let Some(day) = p.day(name) {
            FieldValue::Day(day)
        } else {
            FieldValue::Text(p.text(name))
        };
        values.insert(name, value);
    }
    let label = |name: &str, words: &str| FieldValue::Text(format!("{words}{}", p.text(name)));
    match kind {
        Escalated => {
            values.insert(
                "reason",
                FieldValue::Text(reason_label(&p.text("reason")).to_owned()),
            );
            values.insert("level", label("level", "级别"));
        }
        Responded => {
            let outcome = p
                .text("outcome")
                .parse::<Outcome>()
                .map_or("已答复", Outcome::label);
            values.insert("outcome", FieldValue::Text(outcome.to_owned()));
        }
        ExtensionDecided => {
            let decided = if p.text("decision") == "approved" {
                "已批准"
            } else {
                "未批准"
            };
            values.insert("decision", FieldValue::Text(decided.to_owned()));
        }
        _ => {}
    }
    values.insert("status", FieldValue::Text(status_word(kind, &p).to_owned()));
    let shown = |name: &str| values.get(name).map(FieldValue::display).unwrap_or_default();
    let title = p.text("title");
    let problem = || Some(Link::Problem(p.text("problem_id")));
    let day = p.day("day");
    let (heading, body, link) = match kind {
        ProblemAssigned => (
            "新交办问题".to_owned(),
            format!(
                "{}：{}。请于{}前联系企业，{}前办结答复。",
                p.text("enterprise"),
                title,
                shown("contact_due_at"),
                shown("due_at")
            ),
            problem(),
        ),
        ContactDue => (
            "联系时限将至".to_owned(),
            format!("{title}：请于{}前联系企业。", shown("contact_due_at")),
            problem(),
        ),
        DueSoon => (
            "办理时限将至".to_owned(),
            format!("{title}：请于{}前办结答复。", shown("due_at")),
            problem(),
        ),
        Escalated => (
            format!("逾期督办（{}级）", p.text("level")),
            format!("{title}：{}。", shown("reason")),
            problem(),
        ),
        Responded => (
            "问题已答复，请评价".to_owned(),
            format!(
                "{title}：{}已答复（{}），请评价办理结果。",
                p.text("department"),
                shown("outcome")
            ),
            problem(),
        ),
        Returned => (
            "问题被退回".to_owned(),
            format!(
                "{title}：{}退回，理由：{}",
                p.text("department"),
                p.text("reason")
            ),
            problem(),
        ),
        ExtensionRequested => (
            "延期申请待审批".to_owned(),
            format!(
                "{title}：{}申请延期至{}，理由：{}",
                p.text("department"),
                shown("requested_due_at"),
                p.text("reason")
            ),
            problem(),
        ),
        ExtensionDecided => (
            format!("延期申请{}", shown("decision")),
            format!(
                "{title}：延期申请{}，办理时限{}。",
                shown("decision"),
                shown("due_at")
            ),
            problem(),
        ),
        SignInMissing => (
            "今日尚未签到".to_owned(),
            format!(
                "{}，今天（{}）您还没有在驻点企业签到。",
                p.text("name"),
                shown("day")
            ),
            day.map(Link::DailyReport),
        ),
        ReportMissing => (
            "今日尚未填报日报".to_owned(),
            format!(
                "{}，今天（{}）的驻企日报还没有填报。",
                p.text("name"),
                shown("day")
            ),
            day.map(Link::DailyReport),
        ),
        MissingDigest => (
            "催报汇总".to_owned(),
            format!(
                "{}：今日未签到{}人{}；上一工作日未报日报{}人{}。",
                p.text("unit"),
                p.text("without_sign_in"),
                names(payload, "names_without_sign_in"),
                p.text("without_report"),
                names(payload, "names_without_report"),
            ),
            day.map(Link::MissingReports),
        ),
        DailyFigures => (
            format!("{}日总结", p.text("region")),
            format!(
                "{}：签到{}人，报日报{}人，新增问题{}个，办结{}个，在办{}个，逾期{}个。",
                shown("day"),
                p.text("sign_ins"),
                p.text("reports"),
                p.text("new_problems"),
                p.text("closed"),
                p.text("open_problems"),
                p.text("overdue")
            ),
            day.map(Link::Figures),
        ),
    };
    Rendered {
        title: heading,
        body,
        link,
        values,
    }
}

/// `（张伟、李娜）` from a payload's list of names; nothing for an empty list.
fn names(payload: &Value, field: &str) -> String {
    let listed: Vec<&str> = payload
        .get(field)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if listed.is_empty() {
        String::new()
    } else {
        format!("（{}）", listed.join("、"))
    }
}

/// Hours in which only urgent pushes go out (China time); the span may cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for QuietHours {
    /// 22:00 to 07:30.
    fn default() -> Self {
        Self {
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(7, 30, 0).unwrap_or_default(),
        }
    }
}

impl QuietHours {
    /// `22:00-07:30`; `off` for none.
    pub fn parse(text: &str) -> Option<Option<QuietHours>> {
        if text.trim() == "off" {
            return Some(None);
        }
        let (start, end) = text.split_once('-')?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
        let (start, end) = (time(start)?, time(end)?);
        (start != end).then_some(Some(QuietHours { start, end }))
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&Shanghai).time();
        let local = NaiveTime::from_hms_opt(local.hour(), local.minute(), local.second()).unwrap_or(local);
        if self.start < self.end {
            self.start <= local && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }
}

/// Attempts after which a push is given up (dead).
pub const MAX_ATTEMPTS: i32 = 8;

/// How long to wait before attempt `attempts + 1`, after `attempts` failed ones: 30 s doubling
/// to at most an hour, spread by `jitter` (0 to 1) over half to one and a half times that, so
/// the pushes that failed together do not all come back together.
pub fn retry_after(attempts: i32, jitter: f64) -> Duration {
    let doublings = attempts.clamp(1, 16) - 1;
    let base = (30_i64 << doublings).min(3600);
    let spread = 0.5 + jitter.clamp(0.0, 1.0);
    Duration::milliseconds((base as f64 * 1000.0 * spread) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn china(h: u32, m: u32) -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(2026, 11, 20, h, m, 0)
            .single()
            .expect("valid")
            .with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_cross_midnight_in_china_time() {
        let quiet = QuietHours::default();
        assert!(quiet.contains(china(22, 0)));
        assert!(quiet.contains(china(23, 59)));
        assert!(quiet.contains(china(3, 0)));
        assert!(quiet.contains(china(7, 29)));
        assert!(!quiet.contains(china(7, 30)));
        assert!(!quiet.contains(china(12, 0)));
        assert!(!quiet.contains(china(21, 59)));
        let lunch = QuietHours::parse("12:00-13:30").expect("parses").expect("some");
        assert!(lunch.contains(china(12, 30)));
        assert!(!lunch.contains(china(14, 0)));
        assert_eq!(QuietHours::parse("off"), Some(None));
        assert_eq!(QuietHours::parse("22:00"), None);
        assert_eq!(QuietHours::parse("25:00-07:00"), None);
    }

    #[test]
    fn retries_double_from_half_a_minute_to_an_hour_with_jitter() {
        assert_eq!(retry_after(1, 0.5), Duration::seconds(30));
        assert_eq!(retry_after(2, 0.5), Duration::seconds(60));
        assert_eq!(retry_after(3, 0.5), Duration::seconds(120));
        assert_eq!(retry_after(8, 0.5), Duration::seconds(3600));
        assert_eq!(retry_after(40, 0.5), Duration::seconds(3600));
        assert_eq!(retry_after(1, 0.0), Duration::seconds(15));
        assert_eq!(retry_after(1, 1.0), Duration::seconds(45));
    }

    #[test]
    fn mandatory_kinds_are_the_obligations() {
        assert!(NotificationKind::ProblemAssigned.mandatory());
        assert!(NotificationKind::Escalated.mandatory());
        assert!(!NotificationKind::SignInMissing.mandatory());
        assert!(!NotificationKind::DailyFigures.mandatory());
        assert!(NotificationKind::ALL
            .iter()
            .all(|k| k.values().contains(&"status")));
    }

    fn assigned() -> Value {
        json!({
            "problem_id": "0b7e6d9c-0000-4000-8000-000000000001",
            "title": "变压器增容申请三个月未批复，影响新生产线投产",
            "enterprise": "株洲中车时代电气",
            "department": "国网株洲供电公司",
            "contact_due_at": "2026-11-25T23:59:59+08:00",
            "due_at": "2026-12-04T23:59:59+08:00",
        })
    }

    #[test]
    fn an_assignment_reads_with_its_deadlines_in_china_time_and_links_the_problem() {
        let rendered = render(NotificationKind::ProblemAssigned, &assigned());
        assert_eq!(rendered.title, "新交办问题");
        assert_eq!(
            rendered.body,
            "株洲中车时代电气：变压器增容申请三个月未批复，影响新生产线投产。请于2026年11月25日 23:59前联系企业，2026年12月4日 23:59前办结答复。"
        );
        assert_eq!(
            rendered.link,
            Some(Link::Problem("0b7e6d9c-0000-4000-8000-000000000001".to_owned()))
        );
        assert_eq!(
            rendered
                .link
                .as_ref()
                .map(|l| l.page("pages/problem/detail?id={problem_id}")),
            Some("pages/problem/detail?id=0b7e6d9c-0000-4000-8000-000000000001".to_owned())
        );
    }

    #[test]
    fn a_template_is_filled_with_each_value_fitted_to_its_field() {
        let rendered = render(NotificationKind::ProblemAssigned, &assigned());
        let fields = BTreeMap::from([
            ("thing1".to_owned(), "title".to_owned()),
            ("time2".to_owned(), "due_at".to_owned()),
            ("date3".to_owned(), "contact_due_at".to_owned()),
            ("phrase4".to_owned(), "status".to_owned()),
            ("thing5".to_owned(), "enterprise".to_owned()),
        ]);
        let data = rendered.fill(&fields).expect("fills");
        assert_eq!(data["thing1"]["value"], "变压器增容申请三个月未批复，影响新生产…");
        assert_eq!(
            data["thing1"]["value"].as_str().map(|t| t.chars().count()),
            Some(20)
        );
        assert_eq!(data["time2"]["value"], "2026年12月4日 23:59");
        assert_eq!(data["date3"]["value"], "2026年11月25日");
        assert_eq!(data["phrase4"]["value"], "已交办");
        assert_eq!(data["thing5"]["value"], "株洲中车时代电气");
    }

    #[test]
    fn a_template_that_names_what_the_message_lacks_is_not_filled() {
        let rendered = render(NotificationKind::ProblemAssigned, &assigned());
        let missing = BTreeMap::from([("thing1".to_owned(), "reason".to_owned())]);
        assert!(matches!(rendered.fill(&missing), Err(FillError::Missing { .. })));
        let unknown = BTreeMap::from([("name1".to_owned(), "title".to_owned())]);
        assert!(matches!(rendered.fill(&unknown), Err(FillError::UnknownKey(_))));
        // A phrase takes Chinese characters only: an ASCII value leaves nothing.
        let unfit = BTreeMap::from([("phrase1".to_owned(), "department".to_owned())]);
        let ascii = render(
            NotificationKind::ProblemAssigned,
            &json!({ "department": "HR-42", "title": "x" }),
        );
        assert!(matches!(ascii.fill(&unfit), Err(FillError::Unfit { .. })));
    }

    #[test]
    fn escalations_name_their_level_and_reason() {
        let rendered = render(
            NotificationKind::Escalated,
            &json!({ "problem_id": "p", "title": "用工短缺", "level": 2, "reason": "response_overdue" }),
        );
        assert_eq!(rendered.title, "逾期督办（2级）");
        assert_eq!(rendered.body, "用工短缺：超过办理时限未答复。");
    }

    #[test]
    fn a_digest_lists_the_officers_by_name() {
        let rendered = render(
            NotificationKind::MissingDigest,
            &json!({
                "day": "2026-11-20", "unit": "市财政局",
                "without_sign_in": 2, "names_without_sign_in": ["张伟", "李娜"],
                "without_report": 0, "names_without_report": [],
            }),
        );
        assert_eq!(
            rendered.body,
            "市财政局：今日未签到2人（张伟、李娜）；上一工作日未报日报0人。"
        );
        assert_eq!(
            rendered.link,
            Some(Link::MissingReports(
                NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid")
            ))
        );
    }
}
