//! 日总结 on paper: one A4 portrait worksheet a leader can print — the day's figures, what
//! changed since the previous working day, new problems by category, the urgent ones, what was
//! closed and what it was worth, what is overdue, and the slowest departments.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use super::XlsxFile;
use crate::domain::benefit::Benefits;
use crate::error::AppError;
use crate::stats::benefits::BenefitSums;
use crate::stats::daily::{DailySummary, SummaryProblem};

/// A4 in Excel's paper codes.
const A4: u8 = 9;
const WIDTHS: [f64; 6] = [6.0, 19.0, 24.0, 34.0, 16.0, 14.0];
const LAST_COL: u16 = (WIDTHS.len() - 1) as u16;

struct Formats {
    title: Format,
    section: Format,
    head: Format,
    cell: Format,
    plain: Format,
}

/// Writes rows one after the other.
struct Page<'a> {
    sheet: &'a mut Worksheet,
    f: &'a Formats,
    row: u32,
}

impl Page<'_> {
    fn line(&mut self, text: &str, format: &Format) -> Result<(), AppError> {
        self.sheet
            .merge_range(self.row, 0, self.row, LAST_COL, text, format)?;
        self.row += 1;
        Ok(())
    }

    fn section(&mut self, text: &str) -> Result<(), AppError> {
        self.row += 1;
        let format = self.f.section.clone();
        self.line(text, &format)
    }

    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) -> Result<(), AppError> {
        if rows.is_empty() {
            let format = self.f.plain.clone();
            return self.line("无", &format);
        }
        for (col, text) in (0u16..).zip(header) {
            self.sheet
                .write_string_with_format(self.row, col, *text, &self.f.head)?;
        }
        self.row += 1;
        for values in rows {
            for (col, value) in (0u16..).zip(values) {
                self.sheet
                    .write_string_with_format(self.row, col, value, &self.f.cell)?;
            }
            self.row += 1;
        }
        Ok(())
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

fn benefits_text(b: &Benefits) -> String {
    let mut parts = Vec::new();
    if let Some(v) = b.loan_yuan {
        parts.push(format!("贷款{v}元"));
    }
    if let Some(v) = b.fees_reduced_yuan {
        parts.push(format!("减免税费{v}元"));
    }
    if let Some(v) = b.subsidies_yuan {
        parts.push(format!("补贴{v}元"));
    }
    if let Some(v) = b.positions_filled {
        parts.push(format!("解决用工{v}人"));
    }
    if let Some(v) = &b.other {
        parts.push(v.clone());
    }
    parts.join("；")
}

fn sums_text(s: &BenefitSums) -> String {
    format!(
        "成效合计（{}件）：贷款{}元，减免税费{}元，补贴{}元，解决用工{}人，其他成效{}件",
        s.problems, s.loan_yuan, s.fees_reduced_yuan, s.subsidies_yuan, s.positions_filled, s.with_other
    )
}

fn problem_rows(list: &[SummaryProblem], last: impl Fn(&SummaryProblem) -> [String; 2]) -> Vec<Vec<String>> {
    list.iter()
        .enumerate()
        .map(|(n, p)| {
            let [fifth, sixth] = last(p);
            vec![
                (n + 1).to_string(),
                p.number.clone().unwrap_or_default(),
                p.enterprise.clone(),
                p.title.clone(),
                fifth,
                sixth,
            ]
        })
        .collect()
}

/// The workbook of one region's day.
pub fn export(s: &DailySummary) -> Result<XlsxFile, AppError> {
    let mut workbook = Workbook::new();
    let border = |f: Format| {
        f.set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap()
    };
    let f = Formats {
        title: Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center),
        section: Format::new().set_bold().set_font_size(12),
        head: border(Format::new().set_bold().set_align(FormatAlign::Center)),
        cell: border(Format::new()),
        plain: Format::new().set_text_wrap(),
    };
    let sheet = workbook.add_worksheet();
    sheet.set_name("日总结")?;
    sheet.set_paper_size(A4);
    sheet.set_portrait();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    sheet.set_footer("&C第 &P 页，共 &N 页");
    for (col, width) in (0u16..).zip(WIDTHS) {
        sheet.set_column_width(col, width)?;
    }
    let mut page = Page { sheet, f: &f, row: 0 };
    page.line(&format!("{}日总结", s.region_name), &f.title)?;
    let state = match s.frozen_at {
        Some(at) => format!("{} 定稿", at.format("%Y-%m-%d %H:%M")),
        None => "未定稿，数据实时变化".to_owned(),
    };
    page.line(
        &format!("{}（数据截至 {}，{}）", s.day, s.as_of.format("%H:%M"), state),
        &f.plain,
    )?;

    let d = &s.figures;
    page.section("一、总体情况")?;
    let figures = [
        ("应驻企联络员", d.officers_total.to_string()),
        (
            "已签到 / 签到率",
            format!("{}人 / {}", d.officers_signed_in, percent(d.sign_in_rate)),
        ),
        (
            "已报日报 / 日报率",
            format!("{}人 / {}", d.officers_reported, percent(d.report_rate)),
        ),
        (
            "新增问题（其中紧急）",
            format!("{}件（{}件）", d.problems_new, d.problems_urgent_new),
        ),
        (
            "今日办结（其中化解）",
            format!("{}件（{}件）", d.problems_closed, d.problems_solved),
        ),
        ("在办问题", format!("{}件", d.problems_open)),
        (
            "逾期问题（其中新增）",
            format!("{}件（{}件）", d.problems_overdue, d.problems_newly_overdue),
        ),
    ];
    for (label, value) in figures {
        page.sheet.merge_range(page.row, 0, page.row, 2, label, &f.cell)?;
        page.sheet
            .merge_range(page.row, 3, page.row, LAST_COL, &value, &f.cell)?;
        page.row += 1;
    }

    page.section(&format!("二、较上一工作日（{}）", s.previous_day))?;
    for change in &s.changes {
        let mark = if change.notable { "★ " } else { "" };
        page.line(&format!("{mark}{}", change.text), &f.plain)?;
    }

    page.section("三、新增问题分类")?;
    let categories: Vec<Vec<String>> = s
        .new_by_category
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let name = c.category_name.clone().or_else(|| c.category.clone());
            vec![
                (n + 1).to_string(),
                name.unwrap_or_else(|| "待分类".to_owned()),
                format!("{}件", c.count),
            ]
        })
        .collect();
    page.table(&["序号", "类别", "件数"], &categories)?;

    page.section(&format!("四、新增紧急问题（{}件）", d.problems_urgent_new))?;
    let urgent = problem_rows(&s.urgent, |p| {
        [
            p.category_name.clone().unwrap_or_default(),
            p.status.label().to_owned(),
        ]
    });
    page.table(&["序号", "交办编号", "企业", "问题", "类别", "状态"], &urgent)?;

    page.section(&format!("五、今日办结（{}件）", d.problems_closed))?;
    let closed = problem_rows(&s.closed, |p| {
        let outcome = p.outcome.map(|o| o.label()).unwrap_or_default();
        let benefits = p.benefits.as_ref().map(benefits_text).unwrap_or_default();
        [
            p.department.clone().unwrap_or_default(),
            format!("{outcome}\n{benefits}").trim().to_owned(),
        ]
    });
    page.table(
        &["序号", "交办编号", "企业", "问题", "承办部门", "结果与成效"],
        &closed,
    )?;
    page.line(&sums_text(&s.closed_benefits), &f.plain)?;

    page.section(&format!("六、逾期问题（{}件）", d.problems_overdue))?;
    let overdue = problem_rows(&s.overdue, |p| {
        [
            p.department.clone().unwrap_or_default(),
            p.working_days_overdue
                .map(|n| format!("{n}个工作日"))
                .unwrap_or_default(),
        ]
    });
    page.table(
        &["序号", "交办编号", "企业", "问题", "承办部门", "已逾期"],
        &overdue,
    )?;

    page.section("七、办理最慢的部门")?;
    let slowest: Vec<Vec<String>> = s
        .slowest_departments
        .iter()
        .enumerate()
        .map(|(n, d)| {
            vec![
                (n + 1).to_string(),
                d.department.clone(),
                format!("在办{}件", d.open),
                format!("逾期{}件", d.overdue),
                format!("最长逾期{}个工作日", d.most_working_days_overdue),
            ]
        })
        .collect();
    page.table(&["序号", "部门", "在办", "逾期", "最长逾期"], &slowest)?;
    XlsxFile::save(&mut workbook)
}
