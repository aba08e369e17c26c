//! The demo city's policy library (惠企政策): a national tax refund, a province's award for
//! first-of-a-kind equipment, the city's job-retention refund and 醴陵's ceramics support; and
//! 中车's officer's check-offs of two of them.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::CITY;
use crate::db::models::policy::Policy;
use crate::db::models::policy_checkoff::Checkoff;
use crate::db::models::user::User;
use crate::domain::policy::{EnterpriseSize, PolicyBenefit, PolicyInput, PolicyLevel};
use crate::domain::policy_checkoff::{CheckoffInput, CheckoffStatus};
use crate::schema::enterprises;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn library() -> Vec<PolicyInput> {
    let policy = |title: &str, issuer: &str, number: &str, level, benefit, summary: &str| PolicyInput {
        title: title.to_owned(),
        issuer: issuer.to_owned(),
        doc_number: Some(number.to_owned()),
        level,
        effective_from: day(2026, 1, 1),
        effective_to: None,
        industries: Vec::new(),
        sizes: Vec::new(),
        regions: Vec::new(),
        benefit_kind: benefit,
        summary: summary.to_owned(),
        full_text: None,
    };
    vec![
        PolicyInput {
            industries: vec![
                "轨道交通装备".to_owned(),
                "医药制造".to_owned(),
                "玻璃制造".to_owned(),
            ],
            effective_from: day(2022, 4, 1),
            ..policy(
                "关于进一步加大增值税期末留抵退税政策实施力度的公告",
                "财政部 税务总局",
                "财政部 税务总局公告2022年第14号",
                PolicyLevel::National,
                PolicyBenefit::Tax,
                "符合条件的制造业等行业企业，可以自2022年4月纳税申报期起向主管税务机关申请退还增量留抵税额",
            )
        },
        PolicyInput {
            industries: vec!["轨道交通装备".to_owned(), "航空发动机".to_owned()],
            ..policy(
                "湖南省首台（套）重大技术装备奖励办法",
                "湖南省工业和信息化厅",
                "湘工信装备〔2026〕12号",
                PolicyLevel::Provincial,
                PolicyBenefit::Subsidy,
                "对经认定的首台（套）重大技术装备，按销售价格的一定比例给予研制单位奖励",
            )
        },
        policy(
            "株洲市失业保险稳岗返还实施细则",
            "株洲市人力资源和社会保障局",
            "株人社发〔2026〕3号",
            PolicyLevel::City,
            PolicyBenefit::Fee,
            "上年度未裁员或裁员率不高于规定比例的参保企业，按实际缴纳失业保险费的一定比例返还",
        ),
        // Meant for small and micro enterprises only: 玉祥瓷业 and 攸县农产品 are offered it,
        // 中车 and 旗滨 are not.
        PolicyInput {
            sizes: vec![EnterpriseSize::Small, EnterpriseSize::Micro],
            ..policy(
                "株洲市小微企业融资担保降费奖补办法",
                "株洲市财政局",
                "株财金〔2026〕5号",
                PolicyLevel::City,
                PolicyBenefit::Finance,
                "对为小微企业提供融资担保且年化担保费率不超过1%的机构给予奖补，降低小微企业融资成本",
            )
        },
        PolicyInput {
            regions: vec!["430281".to_owned()],
            ..policy(
                "醴陵市陶瓷产业高质量发展扶持办法",
                "醴陵市人民政府",
                "醴政发〔2026〕1号",
                PolicyLevel::County,
                PolicyBenefit::Subsidy,
                "对醴陵市陶瓷、玻璃企业的技术改造、品牌建设和市场开拓给予奖补",
            )
        },
    ]
}

pub fn seed(conn: &mut PgConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    let admin = User::find_by_username(conn, super::DEMO_ADMIN)?.context("the demo admin")?;
    let mut ids = Vec::new();
    for input in library() {
        let input = input
            .validate()
            .map_err(|errors| anyhow::anyhow!("demo policy invalid: {errors:?}"))?;
        ids.push(Policy::insert(conn, CITY.0, &input, admin.id, now)?.id);
    }
    // 中车's officer went through the tax refund (granted) and the job-retention refund
    // (explained) with the company.
    let (crrc, region_code): (uuid::Uuid, String) = enterprises::table
        .filter(enterprises::credit_code.eq("91430204MA4L00013Q"))
        .select((enterprises::id, enterprises::region_code))
        .first(conn)?;
    let officer = User::find_by_username(conn, "officer.zhang")?.context("officer.zhang")?;
    let words = [
        (ids[0], CheckoffStatus::Explained, day(2026, 11, 3), None),
        (
            ids[0],
            CheckoffStatus::Applying,
            day(2026, 11, 6),
            Some(3_000_000),
        ),
        (
            ids[0],
            CheckoffStatus::Granted,
            day(2026, 11, 17),
            Some(2_400_000),
        ),
        (ids[2], CheckoffStatus::Explained, day(2026, 11, 10), None),
    ];
    for (policy, status, on, amount_yuan) in words {
        let input = CheckoffInput {
            status,
            day: on,
            amount_yuan,
            note: None,
        };
        Checkoff::record(conn, crrc, policy, &region_code, &input, officer.id, now)?;
    }
    Ok(())
}
