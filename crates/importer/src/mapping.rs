//! The mapping file that says how to read a provincial report sheet (XLSX): which sheet, which
//! row holds the headers, where the region codes are, and which column (or row) holds which
//! indicator, for which period, in which unit.
//!
//! A mapping is JSON because `serde_json` is already how the importer reads JSON Lines: no new
//! parser, and any job that writes a report can write its mapping. JSON has no comments, so a
//! mapping may carry a free-text `description`. Unknown fields are refused (a misspelt
//! `qualifer` must not silently drop the qualifier), and everything that can be checked without
//! the workbook and the database — column letters, indicator code syntax, units, periods,
//! qualifiers, number locales — is checked when the mapping is read, every problem at once.
//! What needs the catalog (is the indicator known, does the unit fit it) is checked per row by
//! [`crate::validate`], like any other import row.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ansinh_model::{IndicatorCode, InputUnit, NumberLocale, Period, Qualifier};
use serde::Deserialize;

/// Excel's last column (XFD) and last row.
const MAX_COLUMN: u32 = 16_383;
const MAX_ROW: u32 = 1_048_576;

/// How a report sheet is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One region per row, one series per column (the usual provincial table).
    RegionsAsRows,
    /// The transpose: one series (indicator) per row, one region per column.
    RegionsAsColumns,
}

/// Where the cells of one series are: a column (regions as rows) or a row (regions as
/// columns), given by position or by the text of its header (label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
    /// A 0-based column index (`"column": "C"`).
    Column(u32),
    /// A 0-based row index (`"row": 5`).
    Row(u32),
    /// The text of the series' header cell: in the header row (regions as rows) or in the
    /// label column (regions as columns). Compared without regard to case, diacritics or
    /// spacing.
    Header(String),
}

/// One series of figures: an indicator for one period in one unit, one cell per region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// Its position in the mapping's `series` list, for messages (`series[2]`).
    pub ordinal: usize,
    pub at: Locator,
    pub indicator: String,
    pub unit: String,
    pub period: String,
    pub qualifier: Option<String>,
    pub source: Option<String>,
    pub note: Option<String>,
    /// How text cells write numbers; `None` is the run's `--number-locale`.
    pub number_locale: Option<NumberLocale>,
}

impl Series {
    /// Whether the series is given in percent (a cell formatted as a percentage then holds a
    /// hundredth of the figure).
    pub fn is_percent(&self) -> bool {
        self.unit == InputUnit::Percent.as_str()
    }
}

/// Where the region codes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regions {
    /// Regions as rows: this (0-based) column of every row below the header row.
    InColumn(u32),
    /// Regions as columns: the header row's cells from this (0-based) column rightwards.
    InHeaderRowFrom(u32),
}

/// A checked mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The mapping file as named on the command line.
    pub label: String,
    pub sheet: String,
    pub layout: Layout,
    /// 0-based index of the header row: column headers (regions as rows) or region codes
    /// (regions as columns). Data starts on the row below it.
    pub header_row: u32,
    pub regions: Regions,
    /// Regions as columns: the (0-based) column whose text names each row, for `header`.
    pub label_column: Option<u32>,
    pub series: Vec<Series>,
}

/// Everything wrong with a mapping file, each with the field it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MappingError {
    pub file: String,
    pub problems: Vec<String>,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{problem}", self.file)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    #[allow(dead_code)] // free text for the people who maintain the mapping
    description: Option<String>,
    sheet: String,
    #[serde(default)]
    layout: Option<String>,
    header_row: u32,
    #[serde(default)]
    region_column: Option<String>,
    #[serde(default)]
    first_region_column: Option<String>,
    #[serde(default)]
    label_column: Option<String>,
    #[serde(default)]
    number_locale: Option<String>,
    #[serde(default)]
    source: Option<String>,
    series: Vec<RawSeries>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    #[serde(default)]
    column: Option<String>,
    #[serde(default)]
    row: Option<u32>,
    #[serde(default)]
    header: Option<String>,
    indicator: String,
    unit: String,
    period: String,
    #[serde(default)]
    qualifier: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    number_locale: Option<String>,
}

/// Reads a column name (`A`, `c`, `AA`, … `XFD`) as a 0-based index.
pub fn parse_column(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let number = text.bytes().fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    (number - 1 <= MAX_COLUMN).then_some(number - 1)
}

/// The name of a 0-based column index: 0 → `A`, 26 → `AA`.
pub fn column_name(index: u32) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Blank optional text is absent.
fn optional(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

impl Mapping {
    /// Reads and checks the mapping file at `path`.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MappingError {
            file: label.clone(),
            problems: vec![format!(" cannot read the mapping file: {e}")],
        })?;
        Mapping::from_json(&label, &text)
    }

    /// Checks the mapping in `text`; `label` names the file in problems.
    pub fn from_json(label: &str, text: &str) -> Result<Mapping, MappingError> {
        let fail = |problems: Vec<String>| MappingError {
            file: label.to_owned(),
            problems,
        };
        let raw: RawMapping =
            serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
                fail(vec![format!(
                    "{}:{}: {}",
                    e.line(),
                    e.column(),
                    json_reason(&e)
                )])
            })?;
        let mut problems = Vec::new();
        let mut problem =
            |field: &str, reason: String| problems.push(format!(" {field}: {reason}"));

        let layout = match raw.layout.as_deref().map(str::trim) {
            None | Some("regions_as_rows") => Layout::RegionsAsRows,
            Some("regions_as_columns") => Layout::RegionsAsColumns,
            Some(other) => {
                problem(
                    "layout",
                    format!(
                        "unknown layout {other:?}; use regions_as_rows (one region per row, one indicator per column) or regions_as_columns (the transpose)"
                    ),
                );
                Layout::RegionsAsRows
            }
        };
        let sheet = raw.sheet.trim().to_owned();
        if sheet.is_empty() {
            problem(
                "sheet",
                "is empty; name the worksheet, as on its tab".to_owned(),
            );
        }
        if raw.header_row == 0 || raw.header_row > MAX_ROW {
            problem(
                "header_row",
                format!(
                    "{} is not a row number; rows are numbered from 1, as the spreadsheet shows them",
                    raw.header_row
                ),
            );
        }
        let header_row = raw.header_row.saturating_sub(1);

        let mut column = |field: &str, text: Option<&str>| -> Option<u32> {
            let text = text?;
            let index = parse_column(text);
            if index.is_none() {
                problem(
                    field,
                    format!("{text:?} is not a column; use its letters, A to XFD"),
                );
            }
            index
        };
        let region_column = column("region_column", raw.region_column.as_deref());
        let first_region_column = column("first_region_column", raw.first_region_column.as_deref());
        let label_column = column("label_column", raw.label_column.as_deref());
        let (regions, required, misplaced): (_, _, &[(&str, bool)]) = match layout {
            Layout::RegionsAsRows => (
                region_column.map(Regions::InColumn),
                (
                    "region_column",
                    raw.region_column.is_some(),
                    "the column that holds the region codes (e.g. \"A\")",
                ),
                &[
                    ("first_region_column", raw.first_region_column.is_some()),
                    ("label_column", raw.label_column.is_some()),
                ],
            ),
            Layout::RegionsAsColumns => (
                first_region_column.map(Regions::InHeaderRowFrom),
                (
                    "first_region_column",
                    raw.first_region_column.is_some(),
                    "the first column whose header-row cell holds a region code (e.g. \"C\")",
                ),
                &[("region_column", raw.region_column.is_some())],
            ),
        };
        for &(field, given) in misplaced {
            if given {
                problem(
                    field,
                    format!("does not apply to layout {}", layout_name(layout)),
                );
            }
        }
        let (field, given, what) = required;
        if !given {
            problem(field, format!("is missing; name {what}"));
        }
        if let (Some(label), Some(Regions::InHeaderRowFrom(first))) = (label_column, regions)
            && label >= first
        {
            problem(
                "label_column",
                "must be left of first_region_column: every column from first_region_column on is a region".to_owned(),
            );
        }

        let default_locale = raw
            .number_locale
            .as_deref()
            .and_then(|t| locale("number_locale", t, &mut problem));
        let default_source = optional(raw.source);

        if raw.series.is_empty() {
            problem(
                "series",
                "is empty; list the columns (or rows) to import".to_owned(),
            );
        }
        let mut series = Vec::with_capacity(raw.series.len());
        for (ordinal, s) in raw.series.into_iter().enumerate() {
            let field = |name: &str| format!("series[{ordinal}].{name}");
            let at = match (layout, s.column, s.row, optional(s.header)) {
                (Layout::RegionsAsRows, Some(letters), None, None) => {
                    match parse_column(&letters) {
                        Some(index) if Some(index) == region_column => {
                            problem(&field("column"), format!("{letters} is the region column"));
                            None
                        }
                        Some(index) => Some(Locator::Column(index)),
                        None => {
                            problem(
                                &field("column"),
                                format!("{letters:?} is not a column; use its letters, A to XFD"),
                            );
                            None
                        }
                    }
                }
                (Layout::RegionsAsColumns, None, Some(row), None) => {
                    if row <= raw.header_row || row > MAX_ROW {
                        problem(
                            &field("row"),
                            format!(
                                "{row} is not a data row; data rows come after header_row {}",
                                raw.header_row
                            ),
                        );
                        None
                    } else {
                        Some(Locator::Row(row - 1))
                    }
                }
                (Layout::RegionsAsColumns, None, None, Some(header)) if label_column.is_none() => {
                    problem(
                        &field("header"),
                        format!(
                            "finding a row by its label {header:?} needs label_column (the column that names each row)"
                        ),
                    );
                    None
                }
                (_, None, None, Some(header)) => Some(Locator::Header(header)),
                (Layout::RegionsAsRows, _, Some(_), _) => {
                    problem(
                        &field("row"),
                        "does not apply to layout regions_as_rows; give column (letters) or header (its text)".to_owned(),
                    );
                    None
                }
                (Layout::RegionsAsColumns, Some(_), _, _) => {
                    problem(
                        &field("column"),
                        "does not apply to layout regions_as_columns; give row (its number) or header (its label)".to_owned(),
                    );
                    None
                }
                (Layout::RegionsAsRows, None, None, None) => {
                    problem(
                        &field("column"),
                        "is missing; say where the series is with column (letters) or header (its text)".to_owned(),
                    );
                    None
                }
                (Layout::RegionsAsColumns, None, None, None) => {
                    problem(
                        &field("row"),
                        "is missing; say where the series is with row (its number) or header (its label)".to_owned(),
                    );
                    None
                }
                _ => {
                    problem(
                        &field("header"),
                        "give either the position or the header text of the series, not both"
                            .to_owned(),
                    );
                    None
                }
            };
            let indicator = match IndicatorCode::parse(&s.indicator) {
                Ok(code) => Some(code.as_str().to_owned()),
                Err(e) => {
                    problem(&field("indicator"), e.to_string());
                    None
                }
            };
            let unit = match InputUnit::from_str(&s.unit) {
                Ok(unit) => Some(unit.as_str().to_owned()),
                Err(e) => {
                    problem(&field("unit"), e.to_string());
                    None
                }
            };
            let period = match Period::parse(&s.period) {
                Ok(_) => Some(s.period.trim().to_owned()),
                Err(e) => {
                    problem(&field("period"), e.to_string());
                    None
                }
            };
            let qualifier = match optional(s.qualifier) {
                None => Some(None),
                Some(text) => match Qualifier::from_str(&text) {
                    Ok(q) => Some(Some(q.as_str().to_owned())),
                    Err(e) => {
                        problem(&field("qualifier"), e.to_string());
                        None
                    }
                },
            };
            let number_locale = match s.number_locale.as_deref() {
                None => Some(default_locale),
                Some(text) => locale(&field("number_locale"), text, &mut problem).map(Some),
            };
            if let (
                Some(at),
                Some(indicator),
                Some(unit),
                Some(period),
                Some(qualifier),
                Some(number_locale),
            ) = (at, indicator, unit, period, qualifier, number_locale)
            {
                series.push(Series {
                    ordinal,
                    at,
                    indicator,
                    unit,
                    period,
                    qualifier,
                    source: optional(s.source).or_else(|| default_source.clone()),
                    note: optional(s.note),
                    number_locale,
                });
            }
        }
        // One cell is one figure: two series on the same column or row would import it twice.
        for (i, a) in series.iter().enumerate() {
            if let Some(b) = series[..i].iter().find(|b| b.at == a.at) {
                problem(
                    &format!("series[{}]", a.ordinal),
                    format!("is at the same place as series[{}]", b.ordinal),
                );
            }
        }

        match regions {
            Some(regions) if problems.is_empty() => Ok(Mapping {
                label: label.to_owned(),
                sheet,
                layout,
                header_row,
                regions,
                label_column,
                series,
            }),
            _ => Err(fail(problems)),
        }
    }

    /// Keeps the mapping for the rest of the process. A run carries it inside the file's
    /// [`crate::read::Format`], which is `Copy` and crosses to the reader thread; one mapping
    /// per process run is a few hundred bytes.
    pub fn leak(self) -> &'static Mapping {
        Box::leak(Box::new(self))
    }
}

fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::RegionsAsRows => "regions_as_rows",
        Layout::RegionsAsColumns => "regions_as_columns",
    }
}

fn locale(field: &str, text: &str, problem: &mut impl FnMut(&str, String)) -> Option<NumberLocale> {
    NumberLocale::from_str(text)
        .map_err(|e| problem(field, e.to_string()))
        .ok()
}

/// serde_json's message without its own " at line L column C" (the location is printed first).
fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAM_DONG: &str = r#"{
        "description": "Lam Dong, May 2025",
        "sheet": "Lam Dong 2025-05",
        "header_row": 4,
        "region_column": "A",
        "number_locale": "vi",
        "source": "baolamdong.vn 2025-05",
        "series": [
            {"column": "C", "indicator": "hi_coverage_rate", "unit": "percent", "period": "2024"},
            {"header": "Thu BHXH, BHYT, BHTN 2024 (tỷ đồng)", "indicator": "contributions_collected",
             "unit": "billion_vnd", "period": "2024", "qualifier": "more_than", "number_locale": "en"}
        ]
    }"#;

    #[test]
    fn columns_are_named_as_the_spreadsheet_names_them() {
        for (name, index) in [
            ("A", 0),
            ("z", 25),
            ("AA", 26),
            ("AZ", 51),
            ("BA", 52),
            ("XFD", 16_383),
        ] {
            assert_eq!(parse_column(name), Some(index), "{name}");
            assert_eq!(column_name(index), name.to_ascii_uppercase());
        }
        for bad in ["", "A1", "XFE", "ZZZZ", "Ä"] {
            assert_eq!(parse_column(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_mapping_reads_into_located_series_with_defaults_applied() {
        let m = Mapping::from_json("m.json", LAM_DONG).unwrap();
        assert_eq!(m.sheet, "Lam Dong 2025-05");
        assert_eq!(m.layout, Layout::RegionsAsRows);
        assert_eq!(m.header_row, 3);
        assert_eq!(m.regions, Regions::InColumn(0));
        assert_eq!(m.series.len(), 2);
        let rate = &m.series[0];
        assert_eq!(rate.at, Locator::Column(2));
        assert_eq!(
            (
                rate.indicator.as_str(),
                rate.unit.as_str(),
                rate.period.as_str()
            ),
            ("hi_coverage_rate", "percent", "2024")
        );
        assert!(rate.is_percent());
        assert_eq!(rate.qualifier, None);
        assert_eq!(rate.source.as_deref(), Some("baolamdong.vn 2025-05"));
        assert_eq!(rate.number_locale, Some(NumberLocale::Vi));
        let money = &m.series[1];
        assert_eq!(
            money.at,
            Locator::Header("Thu BHXH, BHYT, BHTN 2024 (tỷ đồng)".to_owned())
        );
        assert_eq!(money.qualifier.as_deref(), Some("more_than"));
        assert_eq!(money.number_locale, Some(NumberLocale::En));
    }

    #[test]
    fn the_transpose_locates_series_by_row_or_label() {
        let m = Mapping::from_json(
            "t.json",
            r#"{"sheet": "S", "layout": "regions_as_columns", "header_row": 2,
                "first_region_column": "C", "label_column": "A",
                "series": [
                  {"row": 3, "indicator": "hi_participants", "unit": "persons", "period": "2025-01/2025-05"},
                  {"header": "Tỷ lệ bao phủ BHYT", "indicator": "hi_coverage_rate", "unit": "percent", "period": "2024"}
                ]}"#,
        )
        .unwrap();
        assert_eq!(m.regions, Regions::InHeaderRowFrom(2));
        assert_eq!(m.label_column, Some(0));
        assert_eq!(m.series[0].at, Locator::Row(2));
        assert_eq!(m.series[1].number_locale, None);
    }

    fn problems(json: &str) -> Vec<String> {
        Mapping::from_json("m.json", json)
            .unwrap_err()
            .to_string()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_problem_of_a_mapping_is_named_with_its_field() {
        let err = problems(
            r#"{"sheet": " ", "header_row": 0, "region_column": "1",
                "series": [
                  {"column": "C", "indicator": "HI rate", "unit": "litres", "period": "2024-13", "qualifier": "roughly"},
                  {"row": 5, "indicator": "hi_participants", "unit": "persons", "period": "2024"},
                  {"column": "D", "indicator": "hi_participants", "unit": "persons", "period": "2024", "number_locale": "fr"}
                ]}"#,
        );
        let fields: Vec<String> = err
            .iter()
            .map(|e| {
                let mut parts = e.splitn(3, ": ");
                (parts.next().unwrap(), parts.next().unwrap())
            })
            .map(|(file, field)| format!("{file}: {field}"))
            .collect();
        assert_eq!(
            fields,
            [
                "m.json: sheet",
                "m.json: header_row",
                "m.json: region_column",
                "m.json: series[0].indicator",
                "m.json: series[0].unit",
                "m.json: series[0].period",
                "m.json: series[0].qualifier",
                "m.json: series[1].row",
                "m.json: series[2].number_locale",
            ],
            "{err:#?}"
        );
    }

    #[test]
    fn a_misspelt_field_or_bad_json_is_located() {
        let err = problems(
            "{\"sheet\": \"S\", \"header_row\": 1, \"region_column\": \"A\",\n \"series\": [{\"column\": \"B\", \"indicator\": \"population\", \"unit\": \"persons\", \"period\": \"2024\", \"qualifer\": \"about\"}]}",
        );
        assert_eq!(err.len(), 1);
        assert!(
            err[0].starts_with("m.json:2:") && err[0].contains("unknown field `qualifer`"),
            "{err:?}"
        );
        let err = problems("{\"sheet\": \"S\",");
        assert!(err[0].starts_with("m.json:1:"), "{err:?}");
    }

    #[test]
    fn layout_specific_fields_are_checked() {
        let err = problems(
            r#"{"sheet": "S", "header_row": 1, "series": [{"column": "A", "indicator": "population", "unit": "persons", "period": "2024"}]}"#,
        );
        assert!(err[0].contains("region_column: is missing"), "{err:?}");
        let err = problems(
            r#"{"sheet": "S", "header_row": 1, "region_column": "A", "series": [{"column": "A", "indicator": "population", "unit": "persons", "period": "2024"}, {"column": "a", "indicator": "population", "unit": "persons", "period": "2025"}]}"#,
        );
        assert!(
            err[0].contains("series[0].column: A is the region column"),
            "{err:?}"
        );
        let err = problems(
            r#"{"sheet": "S", "header_row": 2, "layout": "regions_as_columns", "first_region_column": "B", "label_column": "C",
                "series": [{"row": 2, "indicator": "population", "unit": "persons", "period": "2024"},
                           {"header": "x", "column": "D", "indicator": "population", "unit": "persons", "period": "2024"}]}"#,
        );
        assert!(
            err.iter()
                .any(|e| e.contains("label_column: must be left of")),
            "{err:?}"
        );
        assert!(
            err.iter()
                .any(|e| e.contains("series[0].row: 2 is not a data row")),
            "{err:?}"
        );
        assert!(
            err.iter()
                .any(|e| e.contains("series[1].column: does not apply")),
            "{err:?}"
        );
        let err = problems(
            r#"{"sheet": "S", "header_row": 1, "region_column": "A", "series": [
                {"column": "B", "indicator": "population", "unit": "persons", "period": "2024"},
                {"column": "B", "indicator": "population", "unit": "persons", "period": "2025"}]}"#,
        );
        assert!(
            err[0].contains("series[1]: is at the same place as series[0]"),
            "{err:?}"
        );
    }
}
