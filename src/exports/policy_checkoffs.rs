//! 政策落实台账: every enterprise–policy pair's current standing in a region, as its officer
//! last recorded it.

use super::{local_date_text, Cell, Ledger, XlsxFile};
use crate::db::models::policy_checkoff::LedgerLine;
use crate::error::AppError;

const HEADER: [&str; 11] = [
    "企业",
    "统一社会信用代码",
    "区域代码",
    "政策",
    "文号",
    "落实情况",
    "日期",
    "金额（元）",
    "备注",
    "联络员",
    "记录日期",
];

pub fn export(lines: &[LedgerLine]) -> Result<XlsxFile, AppError> {
    let mut ledger = Ledger::new();
    let sheet = ledger.sheet("政策落实", &HEADER)?;
    for line in lines {
        let c = &line.checkoff;
        let day = c.day.to_string();
        let recorded = local_date_text(c.recorded_at);
        ledger.row(
            sheet,
            &[
                Cell::from(&line.enterprise),
                Cell::from(&line.credit_code),
                Cell::from(&line.region_code),
                Cell::from(&line.policy),
                Cell::from(line.doc_number.as_ref()),
                Cell::from(c.status.label()),
                Cell::from(&day),
                Cell::from(c.amount_yuan),
                Cell::from(c.note.as_ref()),
                Cell::from(&line.officer),
                Cell::from(&recorded),
            ],
        )?;
    }
    ledger.finish()
}
