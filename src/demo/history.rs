//! A week of the demo officers' work, ending yesterday, so the lists and dashboards have
//! something to show: sign-ins, daily reports and the problems some of them raise. Working
//! days only, with the gaps real weeks have.
//!
//! Each officer's visit to an enterprise on a day has a number (its [`Visit::draw`]); the
//! rules below read it, so the week is the same every time it is seeded and each kind of gap
//! turns up a few times.

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use diesel::PgConnection;

use super::roster::Files;
use crate::db::models::daily_report::DailyReport;
use crate::db::models::enterprise::Enterprise;
use crate::db::models::problem::{Filing, Problem};
use crate::db::models::sign_in::{NewSignIn, SignIn};
use crate::db::models::user::User;
use crate::domain::daily_report::{ProductionStatus, ValidReport};
use crate::domain::geo::GeoPoint;
use crate::domain::problem::{description_hash, Urgency, ValidProblem};
use crate::domain::role::Role;

/// How many days back the history reaches.
const DAYS: i64 = 7;

/// What officers write, as they write it.
const WORK_DONE: &[&str] = &[
    "走访生产车间，了解订单排产和用工情况",
    "与企业负责人座谈，梳理近期困难和诉求",
    "协助企业对接银行，了解流动资金贷款政策",
    "宣讲稳岗补贴和社保缓缴政策，指导企业申报",
    "跟进上周反映问题的办理进度，向企业反馈",
    "检查安全生产台账，提醒做好冬季用电安全",
];

/// (description, category) of problems officers raise, one in a few reports.
pub(super) const DEMO_PROBLEMS: &[(&str, &str)] = &[
    (
        "企业订单增加，急需熟练焊工和数控操作工约30名，希望人社部门组织专场招聘",
        "labor",
    ),
    (
        "流动资金紧张，申请2000万元技改贷款，希望金融部门协调银行加快审批",
        "financing",
    ),
    (
        "二车间10kV专线近期多次跳闸，影响连续生产，请供电公司排查",
        "utilities",
    ),
    ("新建厂房消防验收排队时间长，影响投产，请求加快办理", "approval"),
    ("研发费用加计扣除政策不清楚，希望税务部门上门辅导", "policy"),
    ("厂区门口道路破损，大货车进出困难，请求维修", "logistics"),
];

/// The category a demo problem belongs to (`other` for any other text).
pub(super) fn category_of(description: &str) -> &'static str {
    DEMO_PROBLEMS
        .iter()
        .find(|(text, _)| *text == description)
        .map_or("other", |(_, category)| category)
}

/// One officer at one of their enterprises on one day.
struct Visit {
    days_back: i64,
    /// The officer's place among the demo officers.
    officer: usize,
    /// The enterprise's place among the officer's.
    nth_enterprise: usize,
    /// The enterprise's place in the roster (larger ones come later).
    enterprise: usize,
}

impl Visit {
    /// The visit's number, which the rules read.
    fn draw(&self) -> usize {
        self.days_back as usize * 31 + self.officer * 7 + self.nth_enterprise
    }

    /// Officers miss a day now and then.
    fn missed(&self) -> bool {
        self.draw() % 11 == 0
    }

    /// Some sign in and do not report that day.
    fn unreported(&self) -> bool {
        self.draw() % 7 == 3
    }

    /// One report in four raises a problem.
    fn raised_problem(&self) -> Option<&'static str> {
        (self.draw() % 4 == 1).then(|| DEMO_PROBLEMS[(self.draw() / 4) % DEMO_PROBLEMS.len()].0)
    }

    /// Every other problem raised is urgent.
    fn urgent(&self) -> bool {
        self.draw() % 8 == 1
    }

    /// Some days a line is down.
    fn production(&self) -> ProductionStatus {
        if self.draw() % 9 == 0 {
            ProductionStatus::Partial
        } else {
            ProductionStatus::Normal
        }
    }

    /// Arrival between 08:00 and 08:49, China time.
    fn arrival_minute(&self) -> u32 {
        (self.draw() % 50) as u32
    }

    /// A few metres off the enterprise's point, as phones are (never outside the geofence).
    fn offset_deg(&self) -> f64 {
        (self.draw() % 5) as f64 * 0.0002
    }

    fn accuracy_m(&self) -> f64 {
        12.0 + (self.draw() % 30) as f64
    }

    /// The report's numbers: larger enterprises (later in the roster) employ more.
    fn report(&self) -> ValidReport {
        let staff_total = 200 + (self.enterprise as i32) * 150;
        ValidReport {
            work_done: WORK_DONE[self.draw() % WORK_DONE.len()].to_owned(),
            production_status: self.production(),
            capacity_pct: 75 + (self.draw() % 25) as i16,
            staff_on_duty: staff_total - 10 - (self.draw() % 20) as i32,
            staff_total,
            staff_shortage: (self.draw() % 15) as i32,
            difficulties: None,
        }
    }
}

/// Writes the week ending the day before `today`.
pub fn seed(conn: &mut PgConnection, roster: &Files, today: NaiveDate) -> anyhow::Result<()> {
    let mut officers: Vec<&str> = Vec::new();
    for pairing in &roster.pairings {
        if !officers.contains(&pairing.officer.as_str()) {
            officers.push(&pairing.officer);
        }
    }
    for days_back in 1..=DAYS {
        let day = today - Duration::days(days_back);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for (officer, username) in officers.iter().enumerate() {
            let user = User::find_by_username(conn, username)?.context("demo officer")?;
            let theirs = roster.pairings.iter().filter(|p| p.officer == *username);
            for (nth_enterprise, pairing) in theirs.enumerate() {
                let visit = Visit {
                    days_back,
                    officer,
                    nth_enterprise,
                    enterprise: roster
                        .enterprises
                        .iter()
                        .position(|code| *code == pairing.credit_code)
                        .context("a paired enterprise is in the roster")?,
                };
                if visit.missed() {
                    continue;
                }
                let enterprise = Enterprise::find_by_credit_code(conn, &pairing.credit_code)?
                    .context("demo enterprise")?;
                write_visit(conn, &visit, &user, &enterprise, day)?;
            }
        }
    }
    Ok(())
}

/// The visit's sign-in, and unless it went unreported its report (and the problem it raised).
fn write_visit(
    conn: &mut PgConnection,
    visit: &Visit,
    officer: &User,
    enterprise: &Enterprise,
    day: NaiveDate,
) -> anyhow::Result<()> {
    let arrived = Shanghai
        .from_local_datetime(&day.and_hms_opt(8, visit.arrival_minute(), 0).context("time")?)
        .single()
        .context("local time")?
        .with_timezone(&Utc);
    let site = GeoPoint {
        lat: enterprise.lat,
        lng: enterprise.lng,
    };
    let phone = GeoPoint {
        lat: enterprise.lat + visit.offset_deg(),
        lng: enterprise.lng,
    };
    SignIn::insert_first(
        conn,
        &NewSignIn {
            officer_id: officer.id,
            enterprise_id: enterprise.id,
            region_code: &enterprise.region_code,
            day,
            signed_at: arrived,
            lat: phone.lat,
            lng: phone.lng,
            accuracy_m: Some(visit.accuracy_m()),
            distance_m: phone.distance_m(site),
            within_geofence: true,
            remark: None,
            device_id: None,
            new_device: false,
        },
    )?;
    if visit.unreported() {
        return Ok(());
    }
    let content = visit.report();
    let reported = arrived + Duration::hours(9);
    let Some(report) = DailyReport::insert(
        conn,
        officer.id,
        enterprise.id,
        &enterprise.region_code,
        day,
        &content,
        reported,
    )?
    else {
        return Ok(());
    };
    DailyReport::record_revision(
        conn,
        &report,
        officer.id,
        serde_json::to_value(&content)?,
        Vec::new(),
    )?;
    if let Some(description) = visit.raised_problem() {
        let problem = ValidProblem {
            title: description.chars().take(30).collect(),
            description: description.to_owned(),
            description_hash: description_hash(description),
            category: None,
            urgency: if visit.urgent() {
                Urgency::Urgent
            } else {
                Urgency::Normal
            },
            departments_requested: Vec::new(),
        };
        let filing = Filing {
            enterprise_id: enterprise.id,
            region_code: &enterprise.region_code,
            reporter_id: officer.id,
            reporter_role: Role::Officer,
            source_report_id: Some(report.id),
            at: reported,
        };
        let suggestion = crate::hub::classifier::shipped().classify(&problem.description);
        Problem::file(conn, &filing, &problem, suggestion.as_ref())?;
    }
    Ok(())
}
