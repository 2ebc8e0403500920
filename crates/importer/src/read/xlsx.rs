//! Reading a provincial report sheet (XLSX) through its [`Mapping`]: each non-blank cell of a
//! mapped column (or row) becomes one observations [`Row`], with the region from the region
//! column (or the header row) and the indicator, unit, period, qualifier and source from the
//! mapping. The rows then go through the same validation and loading as a CSV file's.
//!
//! This module owns what is particular to spreadsheets: finding the sheet and the mapped
//! columns, turning cells into text without losing exactness (see [`exact_decimal`]), refusing
//! cells that hold no figure (dates, TRUE/FALSE, errors, formulas without a stored result), and
//! naming the cell in every problem: `report.xlsx:7:Sheet1!C7: reason ("value")` — the line is
//! the sheet row, the column the cell. The whole sheet is read into memory: report sheets are
//! a few hundred rows.

use std::io::{BufReader, Read, Seek};
use std::sync::Arc;

use ansinh_model::{Decimal, fold_name};
use calamine::{Data, Range, Reader, StyleRange};
use rust_decimal::RoundingStrategy;

use super::row::{MAX_COLUMNS, Row};
use crate::kind::Kind;
use crate::mapping::{Layout, Locator, Mapping, Regions, Series, column_name};
use crate::problem::Problem;

/// The significant digits a spreadsheet number holds: Excel keeps 15 (digits typed beyond the
/// fifteenth become zeros) and shows at most 15.
pub const SHEET_DIGITS: u32 = 15;

/// Why a numeric cell cannot be read as a decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellNumberError {
    #[error("is not a finite number")]
    NotFinite,
    #[error("cannot be held exactly as a decimal (more than 28 digits); write the figure as text")]
    OutOfRange,
}

/// The exact decimal a person typed into a numeric cell, from the binary number the file holds.
///
/// A spreadsheet stores numbers as IEEE 754 doubles, which cannot hold most decimals: typing
/// `94.56` stores the double nearest to 94.56, and a file may spell it `94.56` or, as some
/// writers do, `94.560000000000002`; calamine reads either into that same double. Rust's
/// `Display` of an `f64` prints the *shortest* decimal that reads back into the same double,
/// and any decimal of at most 15 significant digits survives the trip decimal → double →
/// shortest decimal unchanged (15 is `f64::DIGITS`: two such decimals never share a double).
/// A spreadsheet keeps no more than 15 significant digits of what is typed, so for every
/// typed figure the shortest representation is the typed figure, exactly.
///
/// Doubles that come from binary arithmetic — a formula such as `=0.1+0.2` — have a shortest
/// representation of 16 or 17 digits (`0.30000000000000004`); they are rounded to 15
/// significant digits, which is what the spreadsheet itself shows (`0.3`), so such artifacts
/// never reach the database. A figure that needs more than 15 significant digits cannot be a
/// numeric cell at all; it must be written as text. Infinities and NaN are refused.
pub fn exact_decimal(value: f64) -> Result<Decimal, CellNumberError> {
    if !value.is_finite() {
        return Err(CellNumberError::NotFinite);
    }
    // `{}` of an f64 is the shortest round-trip form and never uses an exponent.
    let shortest = value.to_string();
    let decimal = Decimal::from_str_exact(&shortest).map_err(|_| CellNumberError::OutOfRange)?;
    let rounded = decimal
        .round_sf_with_strategy(SHEET_DIGITS, RoundingStrategy::MidpointAwayFromZero)
        .ok_or(CellNumberError::OutOfRange)?;
    Ok(rounded.normalize())
}

/// Whether a number format code shows the value as a percentage (`0%`, `0.00%`, `#,##0.0%`):
/// a `%` outside quoted text, escapes and `[...]` sections.
pub fn is_percent_format(code: &str) -> bool {
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => return true,
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                }
            }
            '[' => {
                for q in chars.by_ref() {
                    if q == ']' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                chars.next();
            }
            _ => {}
        }
    }
    false
}

/// How a cell reference names the sheet: quoted when the name is not a plain word, as a
/// spreadsheet writes it (`Sheet1!C7`, `'Lâm Đồng 2025'!C7`).
fn sheet_prefix(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if plain {
        format!("{name}!")
    } else {
        format!("'{}'!", name.replace('\'', "''"))
    }
}

/// What a cell holds, as text for a row.
enum Cell {
    Blank,
    /// Text, read later in the row's number locale.
    Text(String),
    /// A number, already an exact plain decimal.
    Number(String),
}

/// An opened report sheet, its series located.
pub struct Sheet {
    mapping: &'static Mapping,
    /// `Sheet1!` or `'Lâm Đồng'!`.
    prefix: String,
    cells: Range<Data>,
    formulas: Range<String>,
    styles: StyleRange,
    /// Each series with the (0-based) column — regions as rows — or row — regions as columns —
    /// that holds its cells, in sheet order.
    located: Vec<(u32, &'static Series)>,
}

impl Sheet {
    /// Reads the mapped sheet of the workbook in `file` and finds every series on it; a missing
    /// sheet or a header the sheet does not have is reported, all at once.
    pub fn open(
        file: impl Read + Seek,
        label: &Arc<str>,
        mapping: &'static Mapping,
    ) -> Result<Sheet, Vec<Problem>> {
        let whole = |reason: String| vec![Problem::new(label, 0, "", reason, None)];
        let mut workbook = calamine::Xlsx::new(BufReader::new(file))
            .map_err(|e| whole(format!("not a readable XLSX workbook: {e}")))?;
        let names = workbook.sheet_names();
        let wanted = fold_name(&mapping.sheet);
        let name = match names.iter().find(|n| **n == mapping.sheet) {
            Some(name) => name.clone(),
            None => {
                let close: Vec<&String> = names.iter().filter(|n| fold_name(n) == wanted).collect();
                match close.as_slice() {
                    [one] => (*one).clone(),
                    _ => {
                        return Err(whole(format!(
                            "no sheet named {:?} (the sheet of mapping {}); the workbook's sheets are: {}",
                            mapping.sheet,
                            mapping.label,
                            names
                                .iter()
                                .map(|n| format!("{n:?}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
            }
        };
        let read_failed =
            |e: calamine::XlsxError| whole(format!("cannot read sheet {name:?}: {e}"));
        let cells = workbook.worksheet_range(&name).map_err(read_failed)?;
        let formulas = workbook.worksheet_formula(&name).map_err(read_failed)?;
        let styles = workbook.worksheet_style(&name).map_err(read_failed)?;
        let mut sheet = Sheet {
            mapping,
            prefix: sheet_prefix(&name),
            cells,
            formulas,
            styles,
            located: Vec::with_capacity(mapping.series.len()),
        };
        let mut problems = Vec::new();
        for series in &mapping.series {
            match sheet.locate(label, series) {
                Ok(at) => sheet.located.push((at, series)),
                Err(problem) => problems.push(problem),
            }
        }
        for (i, &(at, series)) in sheet.located.iter().enumerate() {
            if let Some((_, other)) = sheet.located[..i].iter().find(|(a, _)| *a == at) {
                problems.push(Problem::new(
                    label,
                    0,
                    "",
                    format!(
                        "series[{}] and series[{}] of mapping {} are both {}; one cell is one figure",
                        other.ordinal,
                        series.ordinal,
                        mapping.label,
                        sheet.line_name(at)
                    ),
                    None,
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        sheet.located.sort_by_key(|&(at, _)| at);
        Ok(sheet)
    }

    /// `column C` or `row 5`.
    fn line_name(&self, at: u32) -> String {
        match self.mapping.layout {
            Layout::RegionsAsRows => format!("column {}", column_name(at)),
            Layout::RegionsAsColumns => format!("row {}", at + 1),
        }
    }

    /// The column (or row) of a series: its position, or the one whose header is its text.
    fn locate(&self, label: &Arc<str>, series: &Series) -> Result<u32, Problem> {
        let header = match &series.at {
            Locator::Column(at) | Locator::Row(at) => return Ok(*at),
            Locator::Header(header) => header,
        };
        let wanted = fold_name(header);
        let header_row = self.mapping.header_row;
        // The headers: the header row's cells, or (regions as columns) the label column's.
        let (candidates, place, line): (Vec<(u32, String)>, String, u64) =
            match (self.mapping.layout, self.mapping.label_column) {
                (Layout::RegionsAsColumns, Some(column)) => (
                    self.text_cells((header_row + 1..=self.last_row()).map(|r| (r, column)))
                        .map(|((r, _), text)| (r, text))
                        .collect(),
                    format!("{}{col}:{col}", self.prefix, col = column_name(column)),
                    0,
                ),
                _ => (
                    self.text_cells((0..=self.last_column()).map(|c| (header_row, c)))
                        .map(|((_, c), text)| (c, text))
                        .collect(),
                    format!("{}{row}:{row}", self.prefix, row = header_row + 1),
                    u64::from(header_row) + 1,
                ),
            };
        let found: Vec<u32> = candidates
            .iter()
            .filter(|(_, text)| fold_name(text) == wanted)
            .map(|(at, _)| *at)
            .collect();
        let what = match self.mapping.layout {
            Layout::RegionsAsRows => "column headed",
            Layout::RegionsAsColumns => "row labelled",
        };
        match found.as_slice() {
            [at] => Ok(*at),
            [] => Err(Problem::new(
                label,
                line,
                place,
                format!(
                    "no {what} {header:?} (series[{}] of mapping {}); found: {}",
                    series.ordinal,
                    self.mapping.label,
                    candidates
                        .iter()
                        .map(|(at, text)| format!("{} {text:?}", self.line_name(*at)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(header),
            )),
            several => Err(Problem::new(
                label,
                line,
                place,
                format!(
                    "{what} {header:?} (series[{}] of mapping {}) is ambiguous: {}; give the position instead",
                    series.ordinal,
                    self.mapping.label,
                    several
                        .iter()
                        .map(|at| self.line_name(*at))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                Some(header),
            )),
        }
    }

    /// The non-blank cells among `positions`, as text.
    fn text_cells(
        &self,
        positions: impl Iterator<Item = (u32, u32)>,
    ) -> impl Iterator<Item = ((u32, u32), String)> {
        positions.filter_map(|pos| {
            let text = match self.cells.get_value(pos)? {
                Data::String(s) => s.trim().to_owned(),
                Data::Int(i) => i.to_string(),
                Data::Float(f) => exact_decimal(*f).ok()?.to_string(),
                other => other.to_string(),
            };
            (!text.is_empty()).then_some((pos, text))
        })
    }

    fn last_row(&self) -> u32 {
        self.cells.end().map_or(0, |(row, _)| row)
    }

    fn last_column(&self) -> u32 {
        self.cells.end().map_or(0, |(_, column)| column)
    }

    /// `Sheet1!C7` for a 0-based position.
    fn cell_ref(&self, (row, column): (u32, u32)) -> String {
        format!("{}{}{}", self.prefix, column_name(column), row + 1)
    }

    /// Calls `on_row` for every figure of the sheet, in sheet order: row by row, left to right
    /// (regions as rows), or series row by series row, left to right (regions as columns).
    pub fn for_each_row(
        &self,
        label: &Arc<str>,
        problems: &mut Vec<Problem>,
        on_row: &mut impl FnMut(&Row<'_>),
    ) {
        let before = problems.len();
        let mut figures = 0u64;
        let header_row = self.mapping.header_row;
        match self.mapping.regions {
            Regions::InColumn(region_column) => {
                for row in header_row + 1..=self.last_row() {
                    // Read once the row has a figure: rows of notes or totals without a mapped
                    // figure are no concern of the import.
                    let mut region: Option<Option<Cell>> = None;
                    for &(column, series) in &self.located {
                        let Some(value) = self.value(label, (row, column), series, problems) else {
                            continue;
                        };
                        let region = region.get_or_insert_with(|| {
                            self.region(label, (row, region_column), problems)
                        });
                        if let Some(region) = region {
                            figures += 1;
                            self.emit(
                                series,
                                u64::from(row) + 1,
                                (region, (row, region_column)),
                                (&value, (row, column)),
                                on_row,
                            );
                        }
                    }
                }
            }
            Regions::InHeaderRowFrom(first) => {
                let last = self.last_column();
                // Each region cell is read (and a bad one reported) once, not once per series.
                let mut regions: Vec<Option<Option<Cell>>> = (first..=last).map(|_| None).collect();
                for &(row, series) in &self.located {
                    for column in first..=last {
                        let Some(value) = self.value(label, (row, column), series, problems) else {
                            continue;
                        };
                        let region = regions[(column - first) as usize].get_or_insert_with(|| {
                            self.region(label, (header_row, column), problems)
                        });
                        if let Some(region) = region {
                            figures += 1;
                            self.emit(
                                series,
                                u64::from(row) + 1,
                                (region, (header_row, column)),
                                (&value, (row, column)),
                                on_row,
                            );
                        }
                    }
                }
            }
        }
        if figures == 0 && problems.len() == before {
            problems.push(Problem::new(
                label,
                0,
                "",
                format!(
                    "no figures: the cells of the mapped {} below row {} of sheet {:?} are all blank; check header_row and the series of mapping {}",
                    match self.mapping.layout {
                        Layout::RegionsAsRows => "columns",
                        Layout::RegionsAsColumns => "rows",
                    },
                    header_row + 1,
                    self.mapping.sheet,
                    self.mapping.label
                ),
                None,
            ));
        }
    }

    /// One observations row: the region and value from their cells, the rest from the mapping.
    fn emit(
        &self,
        series: &Series,
        line: u64,
        (region, region_at): (&Cell, (u32, u32)),
        (value, value_at): (&Cell, (u32, u32)),
        on_row: &mut impl FnMut(&Row<'_>),
    ) {
        let kind = Kind::Observations;
        let slot = |column: &str| kind.slot(column).unwrap_or(MAX_COLUMNS);
        let text = |cell: &Cell| match cell {
            Cell::Blank => None,
            Cell::Text(text) | Cell::Number(text) => Some(text.clone()),
        };
        let (region, value_text) = (text(region), text(value));
        let mut values: [Option<&str>; MAX_COLUMNS] = [None; MAX_COLUMNS];
        for (column, value) in [
            ("region", region.as_deref()),
            ("indicator", Some(series.indicator.as_str())),
            ("period", Some(series.period.as_str())),
            ("value", value_text.as_deref()),
            ("unit", Some(series.unit.as_str())),
            ("qualifier", series.qualifier.as_deref()),
            ("source", series.source.as_deref()),
            ("note", series.note.as_deref()),
        ] {
            if let Some(v) = values.get_mut(slot(column)) {
                *v = value;
            }
        }

        let value_ref = self.cell_ref(value_at);
        let region_ref = self.cell_ref(region_at);
        let from_mapping: Vec<(&str, String)> =
            ["indicator", "period", "unit", "qualifier", "source", "note"]
                .into_iter()
                .map(|column| (column, format!("{column} for {value_ref}")))
                .collect();
        let mut places: Vec<(&str, &str)> = vec![("region", &region_ref), ("value", &value_ref)];
        places.extend(from_mapping.iter().map(|(c, p)| (*c, p.as_str())));

        let plain = match value {
            Cell::Number(_) => 1 << slot("value"),
            _ => 0,
        };
        let width = kind.columns().count();
        on_row(
            &Row::new(line, &values[..width])
                .with_plain_numbers(plain)
                .with_locale(series.number_locale)
                .with_places(&places),
        );
    }

    /// The region code of a row (or column); `None` when its cell holds something that is no
    /// code (reported here, once).
    fn region(
        &self,
        label: &Arc<str>,
        at: (u32, u32),
        problems: &mut Vec<Problem>,
    ) -> Option<Cell> {
        let line = u64::from(at.0) + 1;
        let bad = |what: String, shown: String, problems: &mut Vec<Problem>| {
            problems.push(Problem::new(
                label,
                line,
                self.cell_ref(at),
                format!("a region code is text such as 68 or BHXH-KV25; this cell holds {what}"),
                Some(&shown),
            ));
            None
        };
        match self.cells.get_value(at).unwrap_or(&Data::Empty) {
            Data::Empty => Some(Cell::Blank),
            Data::String(s) => Some(Cell::Text(s.trim().to_owned())),
            // Codes typed as numbers: 68 is 68. (A code with a leading zero, 01 Hà Nội, needs a
            // text cell; the number 1 is reported as an unknown code, not guessed.)
            Data::Int(i) => Some(Cell::Text(i.to_string())),
            Data::Float(f) => match exact_decimal(*f) {
                Ok(d) => Some(Cell::Text(d.to_string())),
                Err(e) => bad(format!("a number that {e}"), f.to_string(), problems),
            },
            Data::Bool(b) => bad("TRUE/FALSE".to_owned(), b.to_string(), problems),
            Data::DateTime(d) => bad("a date".to_owned(), d.to_string(), problems),
            Data::DateTimeIso(s) | Data::DurationIso(s) => {
                bad("a date or time".to_owned(), s.clone(), problems)
            }
            Data::Error(e) => bad(format!("the error {e}"), e.to_string(), problems),
        }
    }

    /// The figure of one cell of a series; `None` when the cell is blank (no figure) or holds
    /// something that is no figure (reported here).
    fn value(
        &self,
        label: &Arc<str>,
        at: (u32, u32),
        series: &Series,
        problems: &mut Vec<Problem>,
    ) -> Option<Cell> {
        let line = u64::from(at.0) + 1;
        let mut bad = |reason: String, shown: Option<String>| {
            problems.push(Problem::new(
                label,
                line,
                self.cell_ref(at),
                reason,
                shown.as_deref(),
            ));
            None
        };
        let number =
            |decimal: Decimal,
             shown: String,
             bad: &mut dyn FnMut(String, Option<String>) -> Option<Cell>| {
                if !self.is_percent(at) {
                    return Some(Cell::Number(decimal.to_string()));
                }
                // A cell formatted as a percentage holds a hundredth of what it shows: 0.9456
                // shows as 94.56%, which is the figure in unit percent.
                if !series.is_percent() {
                    return bad(
                        format!(
                            "the cell is formatted as a percentage but series[{}] of the mapping gives unit {}; format it as a number, or correct the unit",
                            series.ordinal, series.unit
                        ),
                        Some(shown),
                    );
                }
                match decimal.checked_mul(Decimal::ONE_HUNDRED) {
                    Some(shown) => Some(Cell::Number(shown.normalize().to_string())),
                    None => bad(CellNumberError::OutOfRange.to_string(), Some(shown)),
                }
            };
        match self.cells.get_value(at).unwrap_or(&Data::Empty) {
            Data::Empty => match self.formulas.get_value(at).map(|f| f.trim()) {
                Some(formula) if !formula.is_empty() => bad(
                    "holds a formula but no stored result (the file was written by a program that does not compute formulas); open it in a spreadsheet program and save it, or write the figure".to_owned(),
                    Some(format!("={formula}")),
                ),
                _ => None,
            },
            Data::String(s) if s.trim().is_empty() => None,
            Data::String(s) => Some(Cell::Text(s.clone())),
            Data::Int(i) => number(Decimal::from(*i), i.to_string(), &mut bad),
            Data::Float(f) => match exact_decimal(*f) {
                Ok(decimal) => number(decimal, f.to_string(), &mut bad),
                Err(e) => bad(format!("the number {e}"), Some(f.to_string())),
            },
            Data::Bool(b) => bad(
                "holds TRUE/FALSE, not a figure".to_owned(),
                Some(b.to_string()),
            ),
            Data::DateTime(d) => bad(
                "is formatted as a date or time, not as a number; format the cell as a number".to_owned(),
                Some(d.to_string()),
            ),
            Data::DateTimeIso(s) | Data::DurationIso(s) => bad(
                "holds a date or time, not a figure".to_owned(),
                Some(s.clone()),
            ),
            Data::Error(e) => bad(
                format!("holds the error {e}, not a figure; correct the formula or write the figure"),
                Some(e.to_string()),
            ),
        }
    }

    fn is_percent(&self, at: (u32, u32)) -> bool {
        self.styles
            .get(at)
            .and_then(|style| style.number_format.as_ref())
            .is_some_and(|format| is_percent_format(&format.format_code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(value: f64) -> String {
        exact_decimal(value).unwrap().to_string()
    }

    #[test]
    fn typed_figures_come_back_as_typed() {
        assert_eq!(dec(94.56), "94.56");
        assert_eq!(dec(17.1), "17.1");
        assert_eq!(dec(3818.0), "3818");
        assert_eq!(dec(1_229_935.0), "1229935");
        assert_eq!(dec(0.9456), "0.9456");
        assert_eq!(dec(-5.0), "-5");
        assert_eq!(dec(-0.0), "0");
        assert_eq!(dec(0.0000001), "0.0000001");
        assert_eq!(dec(3_818_000_000_000.0), "3818000000000");
        // The same double however the file spells it: 17 digits as some writers store it.
        assert_eq!(dec("94.560000000000002".parse().unwrap()), "94.56");
        // Every decimal of up to 15 significant digits survives the trip.
        for text in [
            "123456789012345",
            "1.23456789012345",
            "0.000123456789012345",
            "99.99",
            "100.69",
            "42.71",
        ] {
            let typed: f64 = text.parse().unwrap();
            assert_eq!(dec(typed), text, "{text}");
        }
    }

    #[test]
    fn binary_arithmetic_artifacts_never_appear() {
        assert_eq!(0.1 + 0.2, 0.30000000000000004);
        assert_eq!(dec(0.1 + 0.2), "0.3");
        assert_eq!(dec(94.56 / 100.0 * 100.0), "94.56");
        assert_eq!(dec(1.1 * 1.1), "1.21");
        assert_eq!(dec(1229935.0 / 1360000.0 * 100.0), "90.4363970588235");
        for a in 1..200 {
            let x = f64::from(a) * 0.01 + 0.07;
            let text = dec(x);
            let significant = text.trim_start_matches(['-', '0', '.']).replace('.', "");
            assert!(significant.len() <= 15, "{x} -> {text}");
        }
    }

    #[test]
    fn what_no_decimal_holds_is_refused() {
        assert_eq!(exact_decimal(f64::NAN), Err(CellNumberError::NotFinite));
        assert_eq!(
            exact_decimal(f64::INFINITY),
            Err(CellNumberError::NotFinite)
        );
        assert_eq!(exact_decimal(1e30), Err(CellNumberError::OutOfRange));
        assert_eq!(exact_decimal(1e-30), Err(CellNumberError::OutOfRange));
    }

    #[test]
    fn percent_formats_are_told_from_others() {
        for code in ["0%", "0.00%", "#,##0.0%", "[Red]0.0%"] {
            assert!(is_percent_format(code), "{code}");
        }
        for code in [
            "General",
            "0.00",
            "#,##0",
            "0.0\"%\"",
            "0\\%",
            "[$%-409]0",
            "dd/mm/yyyy",
        ] {
            assert!(!is_percent_format(code), "{code}");
        }
    }

    #[test]
    fn sheet_names_are_quoted_as_a_spreadsheet_does() {
        assert_eq!(sheet_prefix("Sheet1"), "Sheet1!");
        assert_eq!(sheet_prefix("Lâm_Đồng"), "Lâm_Đồng!");
        assert_eq!(sheet_prefix("Lam Dong 2025-05"), "'Lam Dong 2025-05'!");
        assert_eq!(sheet_prefix("2025"), "'2025'!");
        assert_eq!(sheet_prefix("Bob's"), "'Bob''s'!");
    }
}
