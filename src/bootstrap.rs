//! One-off commands that set a database up: `create-admin` and `seed-demo`.

mod hub;

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Context};
use chrono::{Duration, NaiveDate};
use diesel::{Connection, PgConnection};

use crate::auth::password;
use crate::auth::scope::RegionScope;
use crate::db::models::region::{NewRegion, Region};
use crate::db::models::user::{User, UserFields};
use crate::domain::credit_code::CreditCode;
use crate::domain::region_code::{child_path, RegionCode};
use crate::domain::role::Role;
use crate::domain::roster::{
    AssignmentRecord, EnterpriseRecord, Fields, RegionRecord, UnitRecord, UserRecord,
};
use crate::error::AppError;
use crate::roster::save::{SaveError, Saved, Writer};

fn app_error(e: AppError) -> anyhow::Error {
    anyhow!("{}: {}", e.code(), e)
}

fn save_error(e: SaveError) -> anyhow::Error {
    match e {
        SaveError::App(e) => app_error(e),
        SaveError::Fields(errors) => anyhow!(
            "invalid record: {}",
            errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// Creates (or updates) an admin of `region_code`; creates the region when it is new.
pub fn create_admin(
    conn: &mut PgConnection,
    username: &str,
    password_text: &str,
    region_code: &str,
    region_name: Option<&str>,
    name: Option<&str>,
) -> anyhow::Result<(User, bool)> {
    let code = RegionCode::parse(region_code).context("--region-code must be a 6-digit GB/T 2260 code")?;
    let hash = password::hash(password_text).map_err(app_error)?;
    conn.transaction(|conn| {
        if Region::find(conn, code.as_str())?.is_none() {
            let Some(region_name) = region_name.map(str::trim).filter(|n| !n.is_empty()) else {
                bail!("region {code} does not exist yet: pass --region-name (e.g. --region-name 株洲市)");
            };
            let path = child_path(None, &code);
            Region::insert(
                conn,
                &NewRegion {
                    code: code.as_str(),
                    name: region_name,
                    parent_code: None,
                    path: &path,
                },
            )?;
        }
        let existing = User::find_by_username(conn, username)?;
        let created = existing.is_none();
        let user = match existing {
            Some(user) => {
                let mut roles = user.roles.clone();
                if !roles.contains(&Role::Admin) {
                    roles.push(Role::Admin);
                }
                User::update(
                    conn,
                    user.id,
                    &UserFields {
                        username: &user.username,
                        name: &user.name,
                        phone: user.phone.as_deref(),
                        roles,
                        unit_id: user.unit_id,
                        region_code: code.as_str(),
                        enterprise_id: user.enterprise_id,
                    },
                )?
            }
            None => User::insert(
                conn,
                &UserFields {
                    username,
                    name: name.unwrap_or(username),
                    phone: None,
                    roles: vec![Role::Admin],
                    unit_id: None,
                    region_code: code.as_str(),
                    enterprise_id: None,
                },
            )
            .map_err(|e| app_error(e.into()))?,
        };
        User::set_password_hash(conn, user.id, &hash)?;
        crate::db::models::audit::record::<(), ()>(
            conn,
            None,
            if created {
                "user.create_admin"
            } else {
                "user.reset_admin"
            },
            "user",
            &user.id.to_string(),
            None,
            None,
        )?;
        Ok((user, created))
    })
}

pub const DEMO_PASSWORD: &str = "zhuqi-demo-2026";
pub const DEMO_ADMIN: &str = "demo.admin";

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const DISTRICTS: &[(&str, &str)] = &[
    ("430202", "荷塘区"),
    ("430203", "芦淞区"),
    ("430204", "石峰区"),
    ("430211", "天元区"),
    ("430212", "渌口区"),
    ("430223", "攸县"),
    ("430224", "茶陵县"),
    ("430225", "炎陵县"),
    ("430281", "醴陵市"),
];

const UNITS: &[(&str, &str, &str)] = &[
    ("ZZ-HUB", "株洲市驻企办", "hub"),
    ("ZZ-RSJ", "株洲市人力资源和社会保障局", "department"),
    ("ZZ-SWJ", "国家税务总局株洲市税务局", "department"),
    ("ZZ-GDGS", "国网株洲供电公司", "department"),
    ("ZZ-JRJ", "株洲市地方金融监督管理局", "department"),
    ("ZZ-GXJ", "株洲市工业和信息化局", "department"),
    ("ZZ-ZRZYJ", "株洲市自然资源和规划局", "department"),
    ("ZZ-SCJGJ", "株洲市市场监督管理局", "department"),
    ("ZZ-CZJ", "株洲市财政局", "dispatching"),
    ("ZZ-KJJ", "株洲市科学技术局", "dispatching"),
    ("ZZ-FGW", "株洲市发展和改革委员会", "dispatching"),
];

/// (org code body, name, district, industry, address, lat, lng) — GCJ-02 coordinates of the
/// real sites; the credit codes are synthetic but carry valid check characters.
const ENTERPRISES: &[(&str, &str, &str, &str, &str, f64, f64)] = &[
    (
        "MA4L0001",
        "中车株洲电力机车有限公司",
        "430204",
        "轨道交通装备",
        "石峰区田心高科园",
        27.8885,
        113.1655,
    ),
    (
        "MA4L0002",
        "中车株洲电力机车研究所有限公司",
        "430204",
        "轨道交通装备",
        "石峰区时代路169号",
        27.8706,
        113.1552,
    ),
    (
        "MA4L0003",
        "中国航发南方工业有限公司",
        "430203",
        "航空发动机",
        "芦淞区董家塅",
        27.7882,
        113.1433,
    ),
    (
        "MA4L0004",
        "株洲千金药业股份有限公司",
        "430211",
        "医药制造",
        "天元区株洲大道801号",
        27.8306,
        113.0875,
    ),
    (
        "MA4L0005",
        "株洲旗滨玻璃有限公司",
        "430281",
        "玻璃制造",
        "醴陵市经济开发区",
        27.6470,
        113.4970,
    ),
    (
        "MA4L0006",
        "湖南华联瓷业股份有限公司",
        "430281",
        "陶瓷制造",
        "醴陵市陶瓷科技工业园",
        27.6530,
        113.5080,
    ),
    (
        "MA4L0007",
        "株洲硬质合金集团有限公司",
        "430202",
        "有色金属",
        "荷塘区钻石路288号",
        27.8540,
        113.1760,
    ),
    (
        "MA4L0008",
        "株洲时代新材料科技股份有限公司",
        "430211",
        "新材料",
        "天元区海天路18号",
        27.8380,
        113.0990,
    ),
    (
        "MA4L0009",
        "株洲宏达电子股份有限公司",
        "430211",
        "电子元器件",
        "天元区黄河南路",
        27.8230,
        113.0950,
    ),
    (
        "MA4L0010",
        "醴陵市玉祥瓷业有限公司",
        "430281",
        "陶瓷制造",
        "醴陵市东富镇",
        27.6600,
        113.4850,
    ),
    (
        "MA4L0011",
        "攸县农产品加工有限公司",
        "430223",
        "农副食品加工",
        "攸县联星街道",
        27.0040,
        113.3450,
    ),
    (
        "MA4L0012",
        "炎陵黄桃产业开发有限公司",
        "430225",
        "农业",
        "炎陵县霞阳镇",
        26.4890,
        113.7720,
    ),
];

/// (username, name, phone, roles, unit code, index of the enterprise a contact speaks for)
type DemoUser = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<usize>,
);

const USERS: &[DemoUser] = &[
    (
        "hub.dispatcher",
        "周调度",
        "13807330001",
        "dispatcher",
        "ZZ-HUB",
        None,
    ),
    ("czj.admin", "陈管理", "13807330002", "unit_admin", "ZZ-CZJ", None),
    ("officer.zhang", "张伟", "13807330011", "officer", "ZZ-CZJ", None),
    ("officer.li", "李娜", "13807330012", "officer", "ZZ-CZJ", None),
    ("officer.wang", "王强", "13807330013", "officer", "ZZ-KJJ", None),
    ("officer.liu", "刘洋", "13807330014", "officer", "ZZ-FGW", None),
    ("rsj.clerk", "赵人社", "13807330021", "department", "ZZ-RSJ", None),
    ("swj.clerk", "钱税务", "13807330022", "department", "ZZ-SWJ", None),
    (
        "gdgs.clerk",
        "孙供电",
        "13807330023",
        "department",
        "ZZ-GDGS",
        None,
    ),
    ("jrj.clerk", "吴金融", "13807330024", "department", "ZZ-JRJ", None),
    ("gxj.clerk", "郑工信", "13807330025", "department", "ZZ-GXJ", None),
    (
        "qianjin.contact",
        "冯千金",
        "13807330031",
        "enterprise",
        "",
        Some(3),
    ),
];

/// Officer username → indexes of the enterprises they look after.
const ASSIGNMENTS: &[(&str, &[usize])] = &[
    ("officer.zhang", &[0, 1, 6]),
    ("officer.li", &[3, 7, 8]),
    ("officer.wang", &[4, 5, 9]),
    ("officer.liu", &[2, 10, 11]),
];

fn credit_code(index: usize) -> anyhow::Result<CreditCode> {
    let (body, _, district, ..) = ENTERPRISES[index];
    CreditCode::from_parts("91", district, body).context("demo credit code")
}

/// Whether `seed_demo` adds a week of sign-ins, reports and problems to the roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    Week,
    None,
}

/// Seeds the demo city; returns the text to print (logins and invite codes).
pub fn seed_demo(
    conn: &mut PgConnection,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
    history: History,
) -> anyhow::Result<String> {
    if User::find_by_username(conn, DEMO_ADMIN)?.is_some() {
        return Ok(logins_text(None));
    }
    let (admin, _) = create_admin(
        conn,
        DEMO_ADMIN,
        DEMO_PASSWORD,
        "430200",
        Some("株洲市"),
        Some("演示管理员"),
    )?;
    let admin_caller = crate::auth::Caller {
        user_id: admin.id,
        roles: vec![crate::domain::role::Role::Admin],
        region_code: "430200".to_owned(),
        unit_id: None,
        enterprise_id: None,
    };
    let hash = password::hash(DEMO_PASSWORD).map_err(app_error)?;
    let invites = conn.transaction::<_, anyhow::Error, _>(|conn| {
        let scope = RegionScope::of(conn, &admin_caller).map_err(app_error)?;
        let writer = Writer {
            actor: admin.id,
            scope: &scope,
        };
        for (code, name) in DISTRICTS {
            let rec = RegionRecord::parse(&fields(&[
                ("code", code),
                ("name", name),
                ("parent_code", "430200"),
            ]))
            .map_err(|e| save_error(SaveError::Fields(e)))?;
            writer.save_region(conn, None, &rec).map_err(save_error)?;
        }
        for (code, name, kind) in UNITS {
            let rec = UnitRecord::parse(&fields(&[
                ("code", code),
                ("name", name),
                ("kind", kind),
                ("region_code", "430200"),
            ]))
            .map_err(|e| save_error(SaveError::Fields(e)))?;
            writer.save_unit(conn, None, &rec).map_err(save_error)?;
        }
        for (i, (_, name, district, industry, address, lat, lng)) in ENTERPRISES.iter().enumerate() {
            let code = credit_code(i)?;
            let (lat, lng) = (lat.to_string(), lng.to_string());
            let rec = EnterpriseRecord::parse(&fields(&[
                ("credit_code", code.as_str()),
                ("name", name),
                ("region_code", district),
                ("industry", industry),
                ("address", address),
                ("lat", &lat),
                ("lng", &lng),
            ]))
            .map_err(|e| save_error(SaveError::Fields(e)))?;
            writer.save_enterprise(conn, None, &rec).map_err(save_error)?;
        }
        let mut invites = Vec::new();
        for (username, name, phone, roles, unit, enterprise) in USERS {
            let credit = enterprise.map(credit_code).transpose()?;
            let rec = UserRecord::parse(&fields(&[
                ("username", username),
                ("name", name),
                ("phone", phone),
                ("roles", roles),
                ("unit_code", unit),
                ("region_code", "430200"),
                (
                    "enterprise_credit_code",
                    credit.as_ref().map(CreditCode::as_str).unwrap_or(""),
                ),
            ]))
            .map_err(|e| save_error(SaveError::Fields(e)))?;
            let Saved::Created(user) = writer.save_user(conn, None, &rec).map_err(save_error)? else {
                bail!("demo user {username} already existed");
            };
            User::set_password_hash(conn, user.id, &hash)?;
            let (code, _) = writer.issue_invite(conn, &user, now).map_err(save_error)?;
            invites.push((username.to_string(), phone.to_string(), code));
        }
        let start = (today - Duration::days(90)).to_string();
        for (officer, enterprises) in ASSIGNMENTS {
            for &i in *enterprises {
                let code = credit_code(i)?;
                let rec = AssignmentRecord::parse(&fields(&[
                    ("officer_username", officer),
                    ("enterprise_credit_code", code.as_str()),
                    ("start_day", &start),
                ]))
                .map_err(|e| save_error(SaveError::Fields(e)))?;
                writer.save_assignment(conn, &rec).map_err(save_error)?;
            }
        }
        if history == History::Week {
            seed_history(conn, today)?;
            hub::seed(conn, now)?;
        }
        Ok(invites)
    })?;
    Ok(logins_text(Some(&invites)))
}

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
const DEMO_PROBLEMS: &[(&str, &str)] = &[
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

/// A week of sign-ins, reports and problems for the demo officers, ending yesterday, so the
/// lists and dashboards have something to show. Working days only; a few gaps on purpose.
fn seed_history(conn: &mut PgConnection, today: NaiveDate) -> anyhow::Result<()> {
    use crate::db::models::daily_report::DailyReport;
    use crate::db::models::enterprise::Enterprise;
    use crate::db::models::problem::{Filing, Problem};
    use crate::db::models::sign_in::{NewSignIn, SignIn};
    use crate::domain::daily_report::{ProductionStatus, ValidReport};
    use crate::domain::problem::{description_hash, Urgency, ValidProblem};
    use chrono::{Datelike, TimeZone, Weekday};
    use chrono_tz::Asia::Shanghai;

    for back in 1..=7_i64 {
        let day = today - Duration::days(back);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for (o, (officer, enterprises)) in ASSIGNMENTS.iter().enumerate() {
            let officer = User::find_by_username(conn, officer)?.context("demo officer")?;
            for (e, &index) in enterprises.iter().enumerate() {
                let seed = (back as usize) * 31 + o * 7 + e;
                // Some officers miss a day now and then, as real ones do.
                if seed % 11 == 0 {
                    continue;
                }
                let enterprise = Enterprise::find_by_credit_code(conn, credit_code(index)?.as_str())?
                    .context("demo enterprise")?;
                let local = Shanghai
                    .from_local_datetime(&day.and_hms_opt(8, (seed % 50) as u32, 0).context("time")?)
                    .single()
                    .context("local time")?
                    .with_timezone(&chrono::Utc);
                let offset = (seed % 5) as f64 * 0.0002;
                let (lat, lng) = (enterprise.lat + offset, enterprise.lng);
                let distance_m =
                    crate::domain::geo::GeoPoint { lat, lng }.distance_m(crate::domain::geo::GeoPoint {
                        lat: enterprise.lat,
                        lng: enterprise.lng,
                    });
                SignIn::insert_first(
                    conn,
                    &NewSignIn {
                        officer_id: officer.id,
                        enterprise_id: enterprise.id,
                        region_code: &enterprise.region_code,
                        day,
                        signed_at: local,
                        lat,
                        lng,
                        accuracy_m: Some(12.0 + (seed % 30) as f64),
                        distance_m,
                        within_geofence: true,
                        remark: None,
                        device_id: None,
                        new_device: false,
                    },
                )?;
                if seed % 7 == 3 {
                    continue; // signed in but did not report
                }
                let staff_total = 200 + (index as i32) * 150;
                let content = ValidReport {
                    work_done: WORK_DONE[seed % WORK_DONE.len()].to_owned(),
                    production_status: if seed % 9 == 0 {
                        ProductionStatus::Partial
                    } else {
                        ProductionStatus::Normal
                    },
                    capacity_pct: 75 + (seed % 25) as i16,
                    staff_on_duty: staff_total - 10 - (seed % 20) as i32,
                    staff_total,
                    staff_shortage: (seed % 15) as i32,
                    difficulties: None,
                };
                let report_at = local + Duration::hours(9);
                let Some(report) = DailyReport::insert(
                    conn,
                    officer.id,
                    enterprise.id,
                    &enterprise.region_code,
                    day,
                    &content,
                    report_at,
                )?
                else {
                    continue;
                };
                DailyReport::record_revision(
                    conn,
                    &report,
                    officer.id,
                    serde_json::to_value(&content)?,
                    Vec::new(),
                )?;
                if seed % 4 == 1 {
                    let (description, _category) = DEMO_PROBLEMS[(seed / 4) % DEMO_PROBLEMS.len()];
                    let problem = ValidProblem {
                        title: description.chars().take(30).collect(),
                        description: description.to_owned(),
                        description_hash: description_hash(description),
                        category: None,
                        urgency: if seed % 8 == 1 {
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
                        reporter_role: crate::domain::role::Role::Officer,
                        source_report_id: Some(report.id),
                        at: report_at,
                    };
                    let suggestion = crate::hub::classifier::shipped().classify(&problem.description);
                    Problem::file(conn, &filing, &problem, suggestion.as_ref())?;
                }
            }
        }
    }
    Ok(())
}

fn logins_text(invites: Option<&[(String, String, String)]>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Demo city 株洲市 (430200) is ready. Console logins (password for all: {DEMO_PASSWORD}):"
    );
    let _ = writeln!(out, "  {DEMO_ADMIN:<18} admin of 株洲市");
    for (username, name, _, roles, unit, _) in USERS {
        let _ = writeln!(out, "  {username:<18} {roles:<11} {name} {unit}");
    }
    match invites {
        Some(invites) => {
            let _ = writeln!(out, "WeChat bind (phone + one-time invite code, valid 14 days):");
            for (username, phone, code) in invites {
                let _ = writeln!(out, "  {username:<18} {phone} {code}");
            }
        }
        None => {
            let _ = writeln!(out, "(already seeded; invite codes were printed the first time, reissue with POST /api/v1/admin/users/{{id}}/invite)");
        }
    }
    out
}
