//! Excel ledgers (台账). Rows are read from PostgreSQL a page at a time inside one read-only
//! snapshot and written straight to disk by a constant-memory workbook, and the finished file
//! is streamed from disk, so an export of the whole city needs the memory of one page, not of
//! the ledger.

pub mod assignment_sheet;
pub mod daily_reports;
pub mod daily_summary;
pub mod job_openings;
pub mod officers_monthly;
pub mod policy_checkoffs;
pub mod problems;

mod names;

use diesel::{PgConnection, QueryResult};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::error::AppError;

pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Whether a client's `Accept` header asks for the workbook only (names Excel and not JSON):
/// reports that are JSON by default then answer with their workbook.
pub fn wants_only_xlsx(accept: Option<&actix_web::http::header::HeaderValue>) -> bool {
    accept
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(XLSX_CONTENT_TYPE) && !accept.contains("application/json"))
}

/// Rows read per query while exporting.
const PAGE: i64 = 1000;

impl From<XlsxError> for AppError {
    fn from(e: XlsxError) -> Self {
        AppError::Internal(anyhow::anyhow!("writing the Excel file: {e}"))
    }
}

/// Reads a list a page at a time (the list functions fetch one row more than asked, to say
/// that more follow) and hands each page to `write`, until the list is exhausted.
fn in_pages<R, C>(
    conn: &mut PgConnection,
    mut fetch: impl FnMut(&mut PgConnection, Option<C>) -> QueryResult<Vec<R>>,
    cursor_of: impl Fn(&R) -> C,
    mut write: impl FnMut(&mut PgConnection, &[R]) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let mut after = None;
    loop {
        let mut rows = fetch(conn, after)?;
        let more = rows.len() as i64 > PAGE;
        rows.truncate(PAGE as usize);
        write(conn, &rows)?;
        match rows.last() {
            Some(last) if more => after = Some(cursor_of(last)),
            _ => return Ok(()),
        }
    }
}

/// A finished workbook on disk and its size.
#[derive(Debug)]
pub struct XlsxFile {
    pub file: std::fs::File,
    pub len: u64,
}

impl XlsxFile {
    /// Writes the workbook to an unnamed temporary file, open for reading: it disappears
    /// once sent (or dropped).
    pub fn save(workbook: &mut Workbook) -> Result<XlsxFile, AppError> {
        let io = |e: std::io::Error| AppError::Internal(e.into());
        let named = tempfile::NamedTempFile::new().map_err(io)?;
        workbook.save(named.path())?;
        let file = named.reopen().map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(XlsxFile { file, len })
    }
}

/// A workbook being written, sheet by sheet, row by row.
pub struct Ledger {
    workbook: Workbook,
    bold: Format,
    /// The next row of each sheet, by sheet index.
    next_row: Vec<u32>,
}

/// One cell's value.
pub enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Empty,
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Self {
        Cell::Text(s)
    }
}

impl<'a> From<&'a String> for Cell<'a> {
    fn from(s: &'a String) -> Self {
        Cell::Text(s)
    }
}

impl<'a> From<Option<&'a String>> for Cell<'a> {
    fn from(s: Option<&'a String>) -> Self {
        s.map_or(Cell::Empty, |s| Cell::Text(s))
    }
}

impl<'a> From<Option<&'a str>> for Cell<'a> {
    fn from(s: Option<&'a str>) -> Self {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

impl From<i64> for Cell<'_> {
    #[expect(clippy::cast_precision_loss, reason = "ledger counts are far below 2^52")]
    fn from(n: i64) -> Self {
        Cell::Number(n as f64)
    }
}

impl From<Option<i64>> for Cell<'_> {
    fn from(n: Option<i64>) -> Self {
        n.map_or(Cell::Empty, Cell::from)
    }
}

impl From<Option<f64>> for Cell<'_> {
    fn from(n: Option<f64>) -> Self {
        n.map_or(Cell::Empty, Cell::Number)
    }
}

impl Ledger {
    pub fn new() -> Self {
        Self {
            workbook: Workbook::new(),
            bold: Format::new().set_bold(),
            next_row: Vec::new(),
        }
    }

    /// Adds a sheet with its header row; returns its index.
    pub fn sheet(&mut self, name: &str, header: &[&str]) -> Result<usize, AppError> {
        let index = self.next_row.len();
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        for (col, title) in (0u16..).zip(header) {
            sheet.write_string_with_format(0, col, *title, &self.bold)?;
            sheet.set_column_width(col, column_width(title))?;
        }
        sheet.set_freeze_panes(1, 0)?;
        self.next_row.push(1);
        Ok(index)
    }

    fn worksheet(&mut self, index: usize) -> Result<&mut Worksheet, AppError> {
        Ok(self.workbook.worksheet_from_index(index)?)
    }

    /// Appends a row to a sheet.
    pub fn row(&mut self, index: usize, cells: &[Cell<'_>]) -> Result<(), AppError> {
        let row = self.next_row.get(index).copied().unwrap_or(1);
        let sheet = self.worksheet(index)?;
        for (col, cell) in (0u16..).zip(cells) {
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(row, col, *s)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(row, col, *n)?;
                }
                Cell::Empty => {}
            }
        }
        if let Some(next) = self.next_row.get_mut(index) {
            *next += 1;
        }
        Ok(())
    }

    /// The finished file, open for reading; it has no name on disk any more, so it disappears
    /// once sent (or dropped).
    pub fn finish(mut self) -> Result<XlsxFile, AppError> {
        XlsxFile::save(&mut self.workbook)
    }
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

/// Wide enough for the title, wider for the free-text columns.
fn column_width(title: &str) -> f64 {
    match title {
        "问题描述" | "办理结果" | "当日工作" | "困难和问题" => 48.0,
        "编号" => 38.0,
        "企业" => 28.0,
        _ => 14.0,
    }
}

/// 2026-11-21, the China-local date of an instant.
pub fn local_date_text(at: chrono::DateTime<chrono::Utc>) -> String {
    crate::domain::deadline::local_date(at).to_string()
}
