//! 交办单: the letter an assignment meeting sends each department — its problems, their
//! enterprises and liaison officers, the instructions and the dates — one worksheet per
//! department, laid out to print on A4 landscape (header repeated on every page, fitted to the
//! page width).

use std::collections::HashMap;

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use uuid::Uuid;

use super::problems::SheetNames;
use super::{local_date_text, XlsxFile};
use crate::db::models::assignment_batch::{AssignmentBatch, SheetLine};
use crate::error::AppError;

const HEADER: [(&str, f64); 10] = [
    ("序号", 5.0),
    ("交办编号", 19.0),
    ("企业", 22.0),
    ("问题", 42.0),
    ("驻企联络员", 11.0),
    ("联系电话", 13.0),
    ("办理方式", 9.0),
    ("交办意见", 24.0),
    ("联系时限", 11.0),
    ("办结时限", 11.0),
];

/// A4 in Excel's paper codes.
const A4: u8 = 9;

/// The workbook of `departments` (id, name), each with its lines of the batch.
pub fn write(
    batch: &AssignmentBatch,
    departments: &[(Uuid, String)],
    lines: &[SheetLine],
) -> Result<XlsxFile, AppError> {
    let mut workbook = Workbook::new();
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let subtitle = Format::new().set_align(FormatAlign::Left);
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let mut names = SheetNames::default();
    let by_department = lines_by_department(departments, lines);
    for (id, name) in departments {
        let sheet = workbook.add_worksheet();
        sheet.set_name(names.take(name, &id.to_string()[..8]))?;
        sheet.set_paper_size(A4);
        sheet.set_landscape();
        sheet.set_print_fit_to_pages(1, 0);
        sheet.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
        sheet.set_footer("&C第 &P 页，共 &N 页");
        sheet.set_repeat_rows(3, 3)?;
        let last_col = (HEADER.len() - 1) as u16;
        sheet.merge_range(0, 0, 0, last_col, "交 办 单", &title)?;
        sheet.merge_range(1, 0, 1, last_col, &format!("承办单位：{name}"), &subtitle)?;
        let meeting = format!(
            "{}（{}交办，共{}项）",
            batch.title,
            local_date_text(batch.created_at),
            by_department.get(id).map_or(0, Vec::len)
        );
        sheet.merge_range(2, 0, 2, last_col, &meeting, &subtitle)?;
        for (col, (text, width)) in (0u16..).zip(HEADER) {
            sheet.write_string_with_format(3, col, text, &head)?;
            sheet.set_column_width(col, width)?;
        }
        for (row, (n, line, lead)) in (4u32..).zip(
            by_department
                .get(id)
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(n, (l, lead))| (n, l, lead)),
        ) {
            let item = &line.item;
            let problem = if line.title == line.description {
                line.description.clone()
            } else {
                format!("{}\n{}", line.title, line.description)
            };
            let values = [
                (n + 1).to_string(),
                item.number.clone(),
                format!("{}\n{}", line.enterprise, line.enterprise_address),
                problem,
                line.reporter.clone(),
                line.reporter_phone.clone().unwrap_or_default(),
                if *lead { "牵头" } else { "协办" }.to_owned(),
                item.instructions.clone().unwrap_or_default(),
                local_date_text(item.contact_due_at),
                local_date_text(item.due_at),
            ];
            for (col, value) in (0u16..).zip(values) {
                sheet.write_string_with_format(row, col, value, &cell)?;
            }
        }
    }
    XlsxFile::save(&mut workbook)
}

/// Each department's lines in the meeting's order, with whether it leads them.
fn lines_by_department<'a>(
    departments: &[(Uuid, String)],
    lines: &'a [SheetLine],
) -> HashMap<Uuid, Vec<(&'a SheetLine, bool)>> {
    let mut by: HashMap<Uuid, Vec<(&SheetLine, bool)>> =
        departments.iter().map(|(id, _)| (*id, Vec::new())).collect();
    for line in lines {
        if let Some(v) = by.get_mut(&line.item.department_id) {
            v.push((line, true));
        }
        for co in &line.item.co_handler_ids {
            if let Some(v) = by.get_mut(co) {
                v.push((line, false));
            }
        }
    }
    by
}
