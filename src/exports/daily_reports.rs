//! 日报台账: every daily report the caller may see under the list's filters, newest day first.

use diesel::prelude::*;

use super::names::Names;
use super::{in_pages, Cell, Ledger, XlsxFile, PAGE};
use crate::clock::wire_time;
use crate::db::models::daily_report::{DailyReport, ReportFilter};
use crate::db::models::scoped::RecordScope;
use crate::domain::daily_report::ProductionStatus;
use crate::error::AppError;

pub const HEADER: [&str; 14] = [
    "日期",
    "企业",
    "区县",
    "联络员",
    "生产状态",
    "产能利用率(%)",
    "在岗人数",
    "职工总数",
    "缺工人数",
    "当日工作",
    "困难和问题",
    "修订次数",
    "首次提交",
    "最后修改",
];

fn production_label(status: ProductionStatus) -> &'static str {
    match status {
        ProductionStatus::Normal => "正常生产",
        ProductionStatus::Partial => "部分生产",
        ProductionStatus::Suspended => "停产",
    }
}

pub fn export(
    conn: &mut PgConnection,
    scope: &RecordScope,
    filter: &ReportFilter,
) -> Result<XlsxFile, AppError> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let mut ledger = Ledger::new();
            let sheet = ledger.sheet("日报台账", &HEADER)?;
            let mut names = Names::default();
            in_pages(
                conn,
                |conn, after| DailyReport::list(conn, scope, filter, after, PAGE),
                |r| (r.day, r.id),
                |conn, rows| {
                    names.load(
                        conn,
                        rows.iter().map(|r| r.enterprise_id),
                        rows.iter().map(|r| r.officer_id),
                        [],
                    )?;
                    for r in rows {
                        let day = r.day.to_string();
                        let (submitted, updated) = (
                            wire_time(r.submitted_at).to_rfc3339(),
                            wire_time(r.updated_at).to_rfc3339(),
                        );
                        ledger.row(
                            sheet,
                            &[
                                Cell::from(&day),
                                Cell::from(names.enterprise(r.enterprise_id)),
                                Cell::from(names.enterprise_region(r.enterprise_id)),
                                Cell::from(names.user(r.officer_id)),
                                Cell::from(production_label(r.production_status)),
                                Cell::from(i64::from(r.capacity_pct)),
                                Cell::from(i64::from(r.staff_on_duty)),
                                Cell::from(i64::from(r.staff_total)),
                                Cell::from(i64::from(r.staff_shortage)),
                                Cell::from(&r.work_done),
                                Cell::from(r.difficulties.as_ref()),
                                Cell::from(i64::from(r.revision)),
                                Cell::from(&submitted),
                                Cell::from(&updated),
                            ],
                        )?;
                    }
                    Ok(())
                },
            )?;
            ledger.finish()
        })
}
