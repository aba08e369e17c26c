//! Reads an uploaded roster file (CSV with a header row, UTF-8 with or without BOM, or the
//! first sheet of an XLSX workbook) into rows of column → text.

use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};

use crate::domain::roster::Fields;

/// The most rows one import takes; the largest real roster (31,000 enterprises) fits.
pub const MAX_ROWS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// XLSX files are ZIP archives; anything else is read as CSV.
    pub fn sniff(bytes: &[u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// One data row: its line in the file (the header is line 1, as a spreadsheet shows it).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub fields: Fields,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Unreadable(String),
    #[error("缺少必需的列：{}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("无法识别的列：{}", .0.join(", "))]
    UnknownColumns(Vec<String>),
    #[error("文件行数超过上限 {MAX_ROWS}")]
    TooManyRows,
}

/// Reads `bytes`, checking the header against the known and required columns.
pub fn read(bytes: &[u8], columns: &[&str], required: &[&str]) -> Result<Vec<Row>, ReadError> {
    let table = match Format::sniff(bytes) {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    };
    let mut lines = table.into_iter();
    let Some((_, header)) = lines.next() else {
        return Err(ReadError::Unreadable("文件为空，缺少表头行".to_owned()));
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let unknown: Vec<String> = header
        .iter()
        .filter(|h| !h.is_empty() && !columns.contains(&h.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(ReadError::UnknownColumns(unknown));
    }
    let missing: Vec<String> = required
        .iter()
        .filter(|c| !header.iter().any(|h| h == *c))
        .map(|c| (*c).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(ReadError::MissingColumns(missing));
    }
    let mut rows = Vec::new();
    for (line, cells) in lines {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(ReadError::TooManyRows);
        }
        let fields = header
            .iter()
            .zip(cells)
            .filter(|(h, v)| !h.is_empty() && !v.trim().is_empty())
            .map(|(h, v)| (h.clone(), v.trim().to_owned()))
            .collect();
        rows.push(Row { line, fields });
    }
    Ok(rows)
}

/// Every record with its 1-based line number.
fn read_csv(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut table = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                ReadError::Unreadable(format!(
                    "第{line}行不是 UTF-8 编码；请在 Excel 中另存为“CSV UTF-8”，或直接上传 XLSX"
                ))
            } else {
                ReadError::Unreadable(format!("第{line}行无法解析为 CSV：{e}"))
            }
        })?;
        // The reader skips blank lines without counting them; count newlines up to the record.
        // Its reported start may lie on the blank lines before it.
        let mut start = record
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(0)
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        let line = bytes[..start].iter().filter(|&&b| b == b'\n').count() + 1;
        table.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(table)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, ReadError> {
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| ReadError::Unreadable(format!("无法读取 XLSX 文件：{e}")))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| ReadError::Unreadable("XLSX 文件没有工作表".to_owned()))?
        .map_err(|e| ReadError::Unreadable(format!("无法读取第一个工作表：{e}")))?;
    // Sheets may start below row 1; line numbers follow the sheet, as the user sees it.
    let first_row = range.start().map(|(row, _)| row as usize).unwrap_or(0);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| (first_row + i + 1, cells.iter().map(cell_text).collect()))
        .collect())
}

/// A cell as the text a CSV export would hold.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Phone numbers and codes typed into Excel become floats: print integers without ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => excel_day(dt.as_f64()),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Excel's day serial (days since 1899-12-30) as YYYY-MM-DD.
fn excel_day(serial: f64) -> String {
    chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(serial.floor() as i64)))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[&str] = &["code", "name", "parent_code"];

    #[test]
    fn csv_with_bom_and_chinese_reads_with_line_numbers() {
        let file = "\u{feff}code,name,parent_code\n430200,株洲市,430000\n\n430211,天元区,430200\n";
        let rows = read(file.as_bytes(), COLUMNS, &["code", "name"]).expect("readable");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].fields["name"], "株洲市");
        assert_eq!(rows[1].line, 4);
    }

    #[test]
    fn missing_and_unknown_columns_are_named() {
        assert_eq!(
            read(b"code,parent_code\n", COLUMNS, &["code", "name"]),
            Err(ReadError::MissingColumns(vec!["name".into()]))
        );
        assert_eq!(
            read(b"code,name,colour\n", COLUMNS, &["code"]),
            Err(ReadError::UnknownColumns(vec!["colour".into()]))
        );
    }

    #[test]
    fn non_utf8_csv_is_explained() {
        let gbk_zhuzhou = b"code,name\n430200,\xd6\xea\xd6\xde\xca\xd0\n";
        assert!(
            matches!(read(gbk_zhuzhou, COLUMNS, &["code"]), Err(ReadError::Unreadable(m)) if m.contains("UTF-8"))
        );
    }

    #[test]
    fn excel_serials_become_dates() {
        assert_eq!(excel_day(46023.0), "2026-01-01");
    }
}
