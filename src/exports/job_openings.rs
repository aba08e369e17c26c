//! 用工需求台账: every job opening of a region subtree with its enterprise, for the
//! human-resources bureau (withdrawn ones too, marked so).

use super::{local_date_text, Cell, Ledger, XlsxFile};
use crate::db::models::job_opening::{EnterpriseLine, JobOpening};
use crate::domain::job_opening::JobStatus;
use crate::error::AppError;

const HEADER: [&str; 15] = [
    "企业",
    "统一社会信用代码",
    "区域代码",
    "行业",
    "工种",
    "岗位名称",
    "需求人数",
    "已到岗",
    "待招",
    "状态",
    "月薪下限（元）",
    "月薪上限（元）",
    "截止日期",
    "备注",
    "更新日期",
];

pub fn export(openings: &[(JobOpening, EnterpriseLine)]) -> Result<XlsxFile, AppError> {
    let mut ledger = Ledger::new();
    let sheet = ledger.sheet("用工需求", &HEADER)?;
    for (o, e) in openings {
        let status = JobStatus::of(o.positions, o.filled, o.withdrawn);
        let deadline = o.deadline.map(|d| d.to_string());
        let updated = local_date_text(o.updated_at);
        ledger.row(
            sheet,
            &[
                Cell::from(&e.name),
                Cell::from(&e.credit_code),
                Cell::from(&o.region_code),
                Cell::from(&e.industry),
                Cell::from(o.job_type.label()),
                Cell::from(o.title.as_ref()),
                Cell::from(i64::from(o.positions)),
                Cell::from(i64::from(o.filled)),
                Cell::from(i64::from(o.positions - o.filled)),
                Cell::from(status.label()),
                Cell::from(o.wage_min.map(i64::from)),
                Cell::from(o.wage_max.map(i64::from)),
                Cell::from(deadline.as_ref()),
                Cell::from(o.note.as_ref()),
                Cell::from(&updated),
            ],
        )?;
    }
    ledger.finish()
}
