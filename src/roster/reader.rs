//! Reads an uploaded roster file (CSV with a header row, UTF-8 with or without BOM, or the
//! first sheet of an XLSX workbook) into rows of column → text.
//!
//! Both readers stream and stop at the first limit they pass: [`MAX_ROWS`] data rows,
//! [`MAX_COLUMNS`] columns, and for XLSX the sizes the archive declares (checked before
//! anything is decompressed: the zip reader never inflates an entry past its declared size).
//! Cells are read one by one, never as the sheet's whole rectangle, so a sheet with one cell
//! at A1 and one at XFD1048576 costs two cells, not seventeen billion.

use std::io::{Cursor, Read, Seek};

use calamine::{Data, DataRef, Reader as _, Xlsx};

use crate::domain::roster::Fields;

/// The most rows one import takes; the largest real roster (31,000 enterprises) fits.
pub const MAX_ROWS: usize = 100_000;
/// The most columns a row may reach; the widest import has eight.
pub const MAX_COLUMNS: usize = 64;
/// The most an XLSX archive may hold once decompressed (the sheet, shared strings, styles).
pub const MAX_XLSX_BYTES: u64 = 256 * 1024 * 1024;
/// The most entries an XLSX archive may hold (a workbook has about a dozen).
const MAX_XLSX_ENTRIES: usize = 1_000;

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
    /// Past a limit: rows, columns or the archive's size.
    #[error("{0}")]
    TooLarge(String),
}

/// A line of the file (1-based) and its cells.
type Record = (usize, Vec<String>);

/// Reads `bytes`, checking the header against the known and required columns.
pub fn read(bytes: &[u8], columns: &[&str], required: &[&str]) -> Result<Vec<Row>, ReadError> {
    let mut rows = Vec::new();
    let mut header: Option<Vec<String>> = None;
    let mut take = |(line, cells): Record| -> Result<(), ReadError> {
        let Some(header) = &header else {
            header = Some(checked_header(cells, columns, required)?);
            return Ok(());
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        if rows.len() == MAX_ROWS {
            return Err(too_many_rows());
        }
        let fields = header
            .iter()
            .zip(cells)
            .filter(|(h, v)| !h.is_empty() && !v.trim().is_empty())
            .map(|(h, v)| (h.clone(), v.trim().to_owned()))
            .collect();
        rows.push(Row { line, fields });
        Ok(())
    };
    match Format::sniff(bytes) {
        Format::Csv => read_csv(bytes, &mut take)?,
        Format::Xlsx => read_xlsx(bytes, &mut take)?,
    }
    if header.is_none() {
        return Err(ReadError::Unreadable("文件为空，缺少表头行".to_owned()));
    }
    Ok(rows)
}

fn too_many_rows() -> ReadError {
    ReadError::TooLarge(format!("文件行数超过上限 {MAX_ROWS}"))
}

fn too_many_columns() -> ReadError {
    ReadError::TooLarge(format!("文件列数超过上限 {MAX_COLUMNS}"))
}

fn checked_header(cells: Vec<String>, columns: &[&str], required: &[&str]) -> Result<Vec<String>, ReadError> {
    let header: Vec<String> = cells.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
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
    Ok(header)
}

/// Hands every record to `take` with its 1-based line number, counting lines as it goes.
fn read_csv(bytes: &[u8], take: &mut impl FnMut(Record) -> Result<(), ReadError>) -> Result<(), ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    // Lines up to `counted` are counted in `line`; each record counts only the bytes since.
    let (mut counted, mut line) = (0, 1);
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
        if record.len() > MAX_COLUMNS {
            return Err(too_many_columns());
        }
        // The reader skips blank lines without counting them, and its reported start may lie
        // on the blank lines before the record.
        let mut start = record
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(0)
            .clamp(counted, bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        line += bytes[counted..start].iter().filter(|&&b| b == b'\n').count();
        counted = start;
        take((line, record.iter().map(str::to_owned).collect()))?;
    }
    Ok(())
}

/// Refuses an archive that declares more entries or more decompressed bytes than a roster
/// needs, before calamine opens it.
fn check_archive(bytes: &[u8]) -> Result<(), ReadError> {
    let unreadable = |e: zip::result::ZipError| ReadError::Unreadable(format!("无法读取 XLSX 文件：{e}"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    if archive.len() > MAX_XLSX_ENTRIES {
        return Err(ReadError::TooLarge(format!(
            "XLSX 文件包含 {} 个部件，超过上限 {MAX_XLSX_ENTRIES}",
            archive.len()
        )));
    }
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        // The central directory's size, which the zip reader then holds each entry to.
        let size = archive.by_index_raw(index).map_err(unreadable)?.size();
        total = total.saturating_add(size);
        if total > MAX_XLSX_BYTES {
            return Err(ReadError::TooLarge(format!(
                "XLSX 文件解压后超过 {} MiB",
                MAX_XLSX_BYTES / 1024 / 1024
            )));
        }
    }
    Ok(())
}

/// Hands every row of the first sheet to `take`, with the sheet's row number as its line.
fn read_xlsx(bytes: &[u8], take: &mut impl FnMut(Record) -> Result<(), ReadError>) -> Result<(), ReadError> {
    check_archive(bytes)?;
    let mut workbook = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| ReadError::Unreadable(format!("无法读取 XLSX 文件：{e}")))?;
    let first = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| ReadError::Unreadable("XLSX 文件没有工作表".to_owned()))?;
    read_sheet(&mut workbook, &first, take)
}

fn read_sheet<RS: Read + Seek>(
    workbook: &mut Xlsx<RS>,
    name: &str,
    take: &mut impl FnMut(Record) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let unreadable = |e: calamine::XlsxError| ReadError::Unreadable(format!("无法读取第一个工作表：{e}"));
    let mut cells = workbook.worksheet_cells_reader(name).map_err(unreadable)?;
    // The sheet's declared used range (the cells are checked again: it may lie).
    if cells.dimensions().end.1 as usize >= MAX_COLUMNS {
        return Err(too_many_columns());
    }
    // Rows are in sheet order; a row is handed on when the next one starts.
    let mut current: Option<(u32, Vec<String>)> = None;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        if column as usize >= MAX_COLUMNS {
            return Err(too_many_columns());
        }
        if current.as_ref().is_some_and(|(r, _)| *r != row) {
            if let Some((r, texts)) = current.take() {
                take((r as usize + 1, texts))?;
            }
        }
        let (_, texts) = current.get_or_insert_with(|| (row, Vec::new()));
        let column = column as usize;
        if texts.len() <= column {
            texts.resize(column + 1, String::new());
        }
        texts[column] = cell_ref_text(cell.get_value());
    }
    if let Some((r, texts)) = current {
        take((r as usize + 1, texts))?;
    }
    Ok(())
}

fn cell_ref_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::SharedString(s) => (*s).to_owned(),
        other => cell_text(&Data::from(other.clone())),
    }
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
    fn a_long_csv_counts_lines_in_one_pass_and_stops_at_the_row_limit() {
        let mut file = String::from("code,name\n");
        for i in 0..=MAX_ROWS {
            file.push_str(&format!("{i},n\n"));
            if i == 10 {
                file.push_str("\n\n");
            }
        }
        assert_eq!(read(file.as_bytes(), COLUMNS, &["code"]), Err(too_many_rows()));
        let short: String = file.lines().take(20).map(|l| format!("{l}\n")).collect();
        let rows = read(short.as_bytes(), COLUMNS, &["code"]).expect("readable");
        assert_eq!(rows[10].line, 12);
        assert_eq!(rows[11].line, 15, "the blank lines are counted");
    }

    /// An archive whose one entry inflates to more than a roster ever needs.
    fn inflating_archive(entry: &str, bytes: u64) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(entry, options).expect("entry");
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..bytes.div_ceil(zeros.len() as u64) {
            zip.write_all(&zeros).expect("write");
        }
        zip.finish().expect("zip").into_inner()
    }

    #[test]
    fn an_archive_that_inflates_past_the_limit_is_refused_before_it_is_opened() {
        let bomb = inflating_archive("xl/sharedStrings.xml", MAX_XLSX_BYTES + 1);
        assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());
        assert!(matches!(
            read(&bomb, COLUMNS, &["code"]),
            Err(ReadError::TooLarge(why)) if why.contains("MiB")
        ));
    }

    #[test]
    fn excel_serials_become_dates() {
        assert_eq!(excel_day(46023.0), "2026-01-01");
    }
}
