//! 问题台账: every problem the caller may see under the list's filters, on an 全部 sheet and on
//! one sheet per category.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::names::Names;
use super::{in_pages, local_date_text, Cell, Ledger, XlsxFile, PAGE};
use crate::db::models::category::Category;
use crate::db::models::problem::{Problem, ProblemFilter};
use crate::db::models::scoped::RecordScope;
use crate::domain::lifecycle::Rating;
use crate::error::AppError;

pub const HEADER: [&str; 20] = [
    "编号",
    "企业",
    "区县",
    "类别",
    "问题描述",
    "提出人",
    "提出日期",
    "承办部门",
    "交办日期",
    "办理时限",
    "状态",
    "办理结果",
    "评价",
    "是否超期",
    "交办编号",
    "贷款(元)",
    "减免税费(元)",
    "补贴(元)",
    "解决用工(人)",
    "其他成效",
];

/// The sheets of a ledger by name, as Excel takes them: at most 31 characters, none of
/// `[]:*?/\\`, not starting or ending with an apostrophe, not `History`, and unique without
/// regard to case. A category whose name breaks a rule gets its code, then its code numbered.
#[derive(Default)]
pub(super) struct SheetNames(std::collections::HashSet<String>);

impl SheetNames {
    fn usable(&self, name: &str) -> bool {
        name.chars().count() <= 31
            && !name.trim().is_empty()
            && !name.contains(['[', ']', ':', '*', '?', '/', '\\'])
            && !name.starts_with('\'')
            && !name.ends_with('\'')
            && !name.eq_ignore_ascii_case("History")
            && !self.0.contains(&name.to_lowercase())
    }

    /// Takes `name`, else `code`, else `code` with a number.
    pub(super) fn take(&mut self, name: &str, code: &str) -> String {
        let chosen = [name.to_owned(), code.to_owned()]
            .into_iter()
            .chain((2..).map(|n| format!("{code}_{n}")))
            .find(|candidate| self.usable(candidate))
            .unwrap_or_else(|| code.to_owned());
        self.0.insert(chosen.to_lowercase());
        chosen
    }
}

/// Answered after its due date, or still unanswered past it.
fn overdue(p: &Problem, now: DateTime<Utc>) -> bool {
    match (p.due_at, p.responded_at) {
        (Some(due), Some(responded)) => responded > due,
        (Some(due), None) => p.closed_at.is_none() && due < now,
        _ => false,
    }
}

/// The workbook, as bytes. Reads in one repeatable-read snapshot so the sheets agree.
pub fn export(
    conn: &mut PgConnection,
    scope: &RecordScope,
    filter: &ProblemFilter,
    now: DateTime<Utc>,
) -> Result<XlsxFile, AppError> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let mut ledger = Ledger::new();
            let mut taken = SheetNames::default();
            let all = ledger.sheet(&taken.take("全部", "all"), &HEADER)?;
            let unclassified = taken.take("未分类", "unclassified");
            let categories = Category::all(conn)?;
            let mut sheets: HashMap<Option<String>, usize> = HashMap::new();
            let mut category_names: HashMap<String, String> = HashMap::new();
            for category in categories {
                let name = taken.take(&category.name, &category.code);
                sheets.insert(Some(category.code.clone()), ledger.sheet(&name, &HEADER)?);
                category_names.insert(category.code, category.name);
            }
            sheets.insert(None, ledger.sheet(&unclassified, &HEADER)?);
            let mut names = Names::default();
            in_pages(
                conn,
                |conn, after| Problem::list(conn, scope, filter, after, PAGE),
                |p| (p.created_at, p.id),
                |conn, rows| {
                    names.load(
                        conn,
                        rows.iter().map(|p| p.enterprise_id),
                        rows.iter().map(|p| p.reporter_id),
                        rows.iter().filter_map(|p| p.department_id),
                    )?;
                    for p in rows {
                        let id = p.id.to_string();
                        let resolution = match (p.outcome, p.resolution.as_deref()) {
                            (Some(outcome), Some(text)) => format!("【{}】{text}", outcome.label()),
                            (Some(outcome), None) => outcome.label().to_owned(),
                            (None, _) => String::new(),
                        };
                        let category = p.category.as_ref().and_then(|c| category_names.get(c));
                        let created = local_date_text(p.created_at);
                        let assigned = p.assigned_at.map(local_date_text);
                        let due = p.due_at.map(local_date_text);
                        let cells = [
                            Cell::from(&id),
                            Cell::from(names.enterprise(p.enterprise_id)),
                            Cell::from(names.enterprise_region(p.enterprise_id)),
                            Cell::from(category.map(String::as_str)),
                            Cell::from(&p.description),
                            Cell::from(names.user(p.reporter_id)),
                            Cell::from(&created),
                            Cell::from(names.unit(p.department_id)),
                            Cell::from(assigned.as_ref()),
                            Cell::from(due.as_ref()),
                            Cell::from(p.status.label()),
                            Cell::from(&resolution),
                            Cell::from(p.rating.map(Rating::label)),
                            Cell::from(if overdue(p, now) { "是" } else { "否" }),
                            Cell::from(p.number.as_ref()),
                            Cell::from(p.benefit_loan_yuan),
                            Cell::from(p.benefit_fees_reduced_yuan),
                            Cell::from(p.benefit_subsidies_yuan),
                            Cell::from(p.benefit_positions_filled.map(i64::from)),
                            Cell::from(p.benefit_other.as_ref()),
                        ];
                        ledger.row(all, &cells)?;
                        if let Some(&sheet) = sheets.get(&p.category) {
                            ledger.row(sheet, &cells)?;
                        }
                    }
                    Ok(())
                },
            )?;
            ledger.finish()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_gets_a_sheet_name_excel_takes() {
        let mut taken = SheetNames::default();
        assert_eq!(taken.take("全部", "all"), "全部");
        assert_eq!(taken.take("水电气暖", "utilities"), "水电气暖");
        assert_eq!(taken.take("水电气暖", "power"), "power", "a duplicate name");
        assert_eq!(taken.take("'引号'", "quoted"), "quoted");
        assert_eq!(taken.take("history", "hist"), "hist");
        assert_eq!(taken.take("融资/贷款", "financing"), "financing");
        assert_eq!(taken.take("全部", "all"), "all");
        assert_eq!(taken.take("全部", "all"), "all_2", "even the code may be taken");
        assert_eq!(taken.take(&"长".repeat(32), "long"), "long");
    }
}
