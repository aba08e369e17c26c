//! 联络员月报表: a month's figures (`stats::monthly`), one sheet by unit and one by officer.

use super::{Cell, Ledger, XlsxFile};
use crate::domain::officer_rating::EnterpriseRatings;
use crate::error::AppError;
use crate::stats::benefits::BenefitSums;
use crate::stats::figures::OfficerStats;
use crate::stats::monthly::{MonthlyReport, UnitMonth};

const UNIT_HEADER: [&str; 23] = [
    "单位",
    "联络员人数",
    "应驻企工作日",
    "驻企天数",
    "签到工作日",
    "签到率",
    "报告工作日",
    "报告率",
    "签到次数",
    "日报数",
    "提出问题",
    "化解问题",
    "超期问题",
    "满意",
    "基本满意",
    "不满意",
    "成效问题",
    "贷款（元）",
    "减免税费（元）",
    "补贴（元）",
    "解决用工（人）",
    "企业评价（次）",
    "企业评价均分",
];

const OFFICER_HEADER: [&str; 25] = [
    "联络员",
    "单位",
    "区域代码",
    "应驻企工作日",
    "驻企天数",
    "签到工作日",
    "签到率",
    "报告工作日",
    "报告率",
    "签到次数",
    "日报数",
    "提出问题",
    "化解问题",
    "超期问题",
    "满意",
    "基本满意",
    "不满意",
    "满意率",
    "成效问题",
    "贷款（元）",
    "减免税费（元）",
    "补贴（元）",
    "解决用工（人）",
    "企业评价（次）",
    "企业评价均分",
];

/// 惠企成效's and 企业评价's cells, at the end of both sheets' rows.
fn benefit_and_rating_cells(b: &BenefitSums, r: &EnterpriseRatings) -> [Cell<'static>; 7] {
    [
        Cell::from(b.problems),
        Cell::from(b.loan_yuan),
        Cell::from(b.fees_reduced_yuan),
        Cell::from(b.subsidies_yuan),
        Cell::from(b.positions_filled),
        Cell::from(r.count),
        Cell::from(r.overall),
    ]
}

fn unit_row<'a>(name: &'a str, u: &UnitMonth) -> Vec<Cell<'a>> {
    let mut row = vec![
        Cell::from(name),
        Cell::from(u.officers),
        Cell::from(u.working_days),
        Cell::from(u.days_on_site),
        Cell::from(u.signed_in_days),
        Cell::from(u.sign_in_rate),
        Cell::from(u.reported_days),
        Cell::from(u.report_rate),
        Cell::from(u.sign_ins),
        Cell::from(u.reports),
        Cell::from(u.problems_raised),
        Cell::from(u.problems_solved),
        Cell::from(u.problems_overdue),
        Cell::from(u.ratings.satisfied),
        Cell::from(u.ratings.basically_satisfied),
        Cell::from(u.ratings.dissatisfied),
    ];
    row.extend(benefit_and_rating_cells(&u.benefits, &u.enterprise_ratings));
    row
}

fn officer_row(o: &OfficerStats) -> Vec<Cell<'_>> {
    let mut row = vec![
        Cell::from(&o.name),
        Cell::from(o.unit_name.as_ref()),
        Cell::from(&o.region_code),
        Cell::from(o.working_days),
        Cell::from(o.days_on_site),
        Cell::from(o.signed_in_days),
        Cell::from(o.sign_in_rate),
        Cell::from(o.reported_days),
        Cell::from(o.report_rate),
        Cell::from(o.sign_ins),
        Cell::from(o.reports),
        Cell::from(o.problems_raised),
        Cell::from(o.problems_solved),
        Cell::from(o.problems_overdue),
        Cell::from(o.ratings.satisfied),
        Cell::from(o.ratings.basically_satisfied),
        Cell::from(o.ratings.dissatisfied),
        Cell::from(o.satisfaction_rate),
    ];
    row.extend(benefit_and_rating_cells(&o.benefits, &o.enterprise_ratings));
    row
}

/// The workbook of a monthly report whose `officers` are all listed.
pub fn export(report: &MonthlyReport) -> Result<XlsxFile, AppError> {
    let mut ledger = Ledger::new();
    let units = ledger.sheet("单位", &UNIT_HEADER)?;
    for unit in &report.units {
        ledger.row(
            units,
            &unit_row(unit.unit_name.as_deref().unwrap_or("（无单位）"), unit),
        )?;
    }
    ledger.row(units, &unit_row("合计", &report.totals))?;
    let officers = ledger.sheet("联络员", &OFFICER_HEADER)?;
    for officer in &report.officers {
        ledger.row(officers, &officer_row(officer))?;
    }
    ledger.finish()
}
