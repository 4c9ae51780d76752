//! Tables out of VenueCode: check-ins of a venue, alerts, tracing results — as CSV (UTF-8 with a
//! byte-order mark, so spreadsheet programs on Chinese Windows read 中文 correctly) and as Excel
//! `.xlsx` (a bold header row, frozen below it, columns sized to their content, times as real
//! Excel dates). Written by maintained libraries (`csv`, `rust_xlsxwriter`), not by hand.
//!
//! Invariants: every row has as many cells as the header; nothing here decides what a reader may
//! see (the callers put only masked identity in the cells); times are local (the caller's zone)
//! and written as dates, never as text, in `.xlsx`.

use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// A local date and time.
    Time(NaiveDateTime),
    Empty,
}

impl Cell {
    /// Text, or empty when absent.
    pub fn opt(v: Option<&str>) -> Cell {
        v.map_or(Cell::Empty, |s| Cell::Text(s.to_string()))
    }

    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Time(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A table: a name (the sheet's), a header and rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    pub fn parse(s: &str) -> Option<FileFormat> {
        match s {
            "csv" => Some(FileFormat::Csv),
            "xlsx" => Some(FileFormat::Xlsx),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("row {row} has {got} cells, the header {want}")]
    Ragged { row: usize, got: usize, want: usize },
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing Excel: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("the table has more rows than a worksheet holds ({0})")]
    TooManyRows(usize),
}

/// The most rows one worksheet holds (Excel's limit, less the header).
pub const MAX_XLSX_ROWS: usize = 1_048_575;

fn check(t: &Table) -> Result<(), ExportError> {
    for (i, r) in t.rows.iter().enumerate() {
        if r.len() != t.header.len() {
            return Err(ExportError::Ragged {
                row: i,
                got: r.len(),
                want: t.header.len(),
            });
        }
    }
    Ok(())
}

/// The table as CSV bytes (UTF-8 with a byte-order mark).
pub fn to_csv(t: &Table) -> Result<Vec<u8>, ExportError> {
    check(t)?;
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(&t.header)?;
    for r in &t.rows {
        w.write_record(r.iter().map(Cell::text))?;
    }
    w.into_inner()
        .map_err(|e| ExportError::Csv(csv::Error::from(e.into_error())))
}

/// The table as an `.xlsx` workbook.
pub fn to_xlsx(t: &Table) -> Result<Vec<u8>, ExportError> {
    check(t)?;
    if t.rows.len() > MAX_XLSX_ROWS {
        return Err(ExportError::TooManyRows(t.rows.len()));
    }
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let name: String = t
        .name
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    if !name.is_empty() {
        sheet.set_name(name)?;
    }
    let bold = Format::new().set_bold();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    // Widths in characters: CJK counts double.
    let width = |s: &str| -> usize { s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum() };
    let mut widths: Vec<usize> = t.header.iter().map(|h| width(h)).collect();
    for (c, h) in t.header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = (r + 1) as u32;
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, col, s)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, col, *n)?;
                }
                Cell::Time(t) => {
                    let d =
                        ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)?
                            .and_hms(t.hour() as u16, t.minute() as u8, t.second())?;
                    sheet.write_datetime_with_format(r, col, &d, &when)?;
                }
                Cell::Empty => {}
            }
            let w = match cell {
                Cell::Time(_) => 19,
                other => width(&other.text()),
            };
            widths[c] = widths[c].max(w);
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w).clamp(6, 60) as f64 + 2.0)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(book.save_to_buffer()?)
}

/// The table in `format`.
pub fn write(t: &Table, format: FileFormat) -> Result<Vec<u8>, ExportError> {
    match format {
        FileFormat::Csv => to_csv(t),
        FileFormat::Xlsx => to_xlsx(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn table() -> Table {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        Table {
            name: "签到记录 2026-12-01".into(),
            header: vec!["时间".into(), "出入口".into(), "姓名".into(), "体温".into()],
            rows: vec![
                vec![
                    Cell::Time(t("2026-12-01 08:30:05")),
                    Cell::Text("北门".into()),
                    Cell::Text("张*".into()),
                    Cell::Number(36.5),
                ],
                vec![
                    Cell::Time(t("2026-12-01 09:00:00")),
                    Cell::Text("南门, 侧门".into()),
                    Cell::Empty,
                    Cell::Empty,
                ],
            ],
        }
    }

    #[test]
    fn xlsx_reads_back_with_dates_as_dates() {
        let bytes = to_xlsx(&table()).unwrap();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let names = book.sheet_names();
        assert_eq!(names, ["签到记录 2026-12-01"]);
        let range = book.worksheet_range(&names[0]).unwrap();
        assert_eq!(range.height(), 3);
        assert_eq!(range.get((0, 1)), Some(&Data::String("出入口".into())));
        let Some(Data::DateTime(d)) = range.get((1, 0)) else {
            panic!("a date: {:?}", range.get((1, 0)));
        };
        assert_eq!(d.as_datetime().unwrap().to_string(), "2026-12-01 08:30:05");
        assert_eq!(range.get((1, 3)), Some(&Data::Float(36.5)));
        assert_eq!(range.get((2, 1)), Some(&Data::String("南门, 侧门".into())));
    }

    #[test]
    fn csv_quotes_what_it_must_and_starts_with_a_bom() {
        let bytes = to_csv(&table()).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "时间,出入口,姓名,体温");
        assert_eq!(lines[1], "2026-12-01 08:30:05,北门,张*,36.5");
        assert_eq!(lines[2], "2026-12-01 09:00:00,\"南门, 侧门\",,");
    }

    #[test]
    fn a_ragged_row_is_refused() {
        let mut t = table();
        t.rows[1].pop();
        assert!(matches!(
            to_csv(&t),
            Err(ExportError::Ragged { row: 1, .. })
        ));
        assert!(matches!(to_xlsx(&t), Err(ExportError::Ragged { .. })));
    }
}
