//! Reading files of every format through [`Input`], as a run does: the lines problems name,
//! the header's columns, exact JSON numbers, and report sheets read through their mappings.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Format, Input};
use crate::kind::Kind;
use crate::problem::Problem;

/// Each data row's line and its values, in column order.
type LinesAndValues = Vec<(u64, Vec<Option<String>>)>;

/// Reads a whole file into memory: the detected kind, every row, and the problems.
fn rows_of(path: &Path, format: Format) -> (Option<Kind>, LinesAndValues, Vec<Problem>) {
    let label: Arc<str> = Arc::from(path.display().to_string());
    let mut input = match Input::open(path, label, format, None) {
        Ok(input) => input,
        Err(problems) => return (None, Vec::new(), problems),
    };
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let width = input.kind().columns().count();
    input.for_each_row(&mut problems, |row| {
        rows.push((
            row.line,
            (0..width).map(|s| row.get(s).map(str::to_owned)).collect(),
        ))
    });
    (Some(input.kind()), rows, problems)
}

#[test]
fn csv_lines_are_physical_lines_for_lf_crlf_blank_lines_and_multiline_fields() {
    for newline in ["\n", "\r\n"] {
        let text = [
            "group,member",
            "BHXH-KV25,68",
            "",
            "\"BHXH-KV25",
            "\",60",
            "BHXH-KV25,67",
        ]
        .join(newline);
        let path = write(&format!("lines{}.csv", newline.len()), text.as_bytes());
        let (_, rows, problems) = rows_of(&path, Format::Csv);
        assert!(problems.is_empty());
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 4, 6], "newline {newline:?}");
    }
}

/// A file of a test, removed when dropped.
struct TempFile(std::path::PathBuf);

impl std::ops::Deref for TempFile {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes `bytes` to a new file named after `name` (its extension picks the format).
fn write(name: &str, bytes: &[u8]) -> TempFile {
    static WRITTEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let number = WRITTEN.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "ansinh-read-{}-{number}-{name}",
        std::process::id()
    ));
    std::fs::write(&path, bytes).unwrap();
    TempFile(path)
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[test]
fn csv_with_bom_crlf_quotes_and_columns_in_any_order() {
    let path = write(
        "a.csv",
        "\u{feff}value,period,region,indicator,source\r\n\"1,229,935\",2025-01/2025-05,68,hi_participants,\"baolamdong.vn, 2025\"\r\n\r\n94.56,2024,68,hi_coverage_rate,\r\n".as_bytes(),
    );
    let (kind, rows, problems) = rows_of(&path, Format::Csv);
    assert_eq!(kind, Some(Kind::Observations));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, 2);
    assert_eq!(
        rows[0].1[..4],
        [
            s("68"),
            s("hi_participants"),
            s("2025-01/2025-05"),
            s("1,229,935")
        ]
    );
    assert_eq!(rows[0].1[6], s("baolamdong.vn, 2025"));
    assert_eq!(rows[1].0, 4);
    assert_eq!(rows[1].1[6], None);
}

#[test]
fn csv_header_problems_are_all_reported() {
    let path = write("b.csv", b"region,indicator,period,value,qualifer,region\n");
    let (_, _, problems) = rows_of(&path, Format::Csv);
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(text[0].contains(":1:qualifer: unknown column"), "{text:?}");
    assert!(
        text[1].contains(":1:region: column appears twice"),
        "{text:?}"
    );
}

#[test]
fn csv_row_with_wrong_field_count_is_named_and_reading_goes_on() {
    let path = write(
        "c.csv",
        b"group,member\nBHXH-KV25,68\nBHXH-KV25\nBHXH-KV25,60\n",
    );
    let (kind, rows, problems) = rows_of(&path, Format::Csv);
    assert_eq!(kind, Some(Kind::RegionMembers));
    assert_eq!(rows.len(), 2);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 3);
}

#[test]
fn jsonl_numbers_stay_exact_and_fields_map_to_slots() {
    let path = write(
        "d.jsonl",
        b"{\"region\":\"68\",\"indicator\":\"hi_coverage_rate\",\"period\":\"2024\",\"value\":94.56}\n\n{\"value\":1229935.123456789012,\"period\":\"2025-05\",\"region\":\"68\",\"indicator\":\"hi_participants\",\"note\":null}\n{\"oops\":1}\nnot json\n",
    );
    let (kind, rows, problems) = rows_of(&path, Format::Jsonl);
    assert_eq!(kind, Some(Kind::Observations));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].1[3], s("94.56"));
    assert_eq!(rows[1].0, 3);
    assert_eq!(rows[1].1[3], s("1229935.123456789012"));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!((problems[0].line, problems[0].column.as_str()), (4, "oops"));
    assert_eq!(problems[1].line, 5);
}

/// Report sheets read through their mappings, from the example and fixture workbooks.
mod sheets {
    use std::path::PathBuf;
    use std::sync::Arc;

    use ansinh_model::Decimal;

    use crate::kind::Kind;
    use crate::mapping::Mapping;
    use crate::read::{Format, Input};

    fn repo(path: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path)
    }

    /// Every row of `sheet` read through `mapping`: (line, region, indicator, period, value,
    /// unit, qualifier, plain number?, locale, place of the value), and the problems.
    fn read(sheet: &str, mapping: &str) -> (Vec<String>, Vec<String>) {
        let mapping = Mapping::load(&repo(mapping)).unwrap().leak();
        let label: Arc<str> = Arc::from(sheet.rsplit('/').next().unwrap());
        let mut input = match Input::open(&repo(sheet), label, Format::Xlsx(Some(mapping)), None) {
            Ok(input) => input,
            Err(problems) => {
                return (
                    Vec::new(),
                    problems.iter().map(ToString::to_string).collect(),
                );
            }
        };
        assert_eq!(input.kind(), Kind::Observations);
        let mut rows = Vec::new();
        let mut problems = Vec::new();
        input.for_each_row(&mut problems, |row| {
            let cell = |slot| row.get(slot).unwrap_or("-");
            rows.push(format!(
                "{} {} {} {} {} {} {} {} {:?} {}",
                row.line,
                cell(0),
                cell(1),
                cell(2),
                cell(3),
                cell(4),
                cell(5),
                if row.is_plain_number(3) {
                    "number"
                } else {
                    "text"
                },
                row.locale(),
                row.place("value"),
            ));
        });
        (rows, problems.iter().map(ToString::to_string).collect())
    }

    const EXAMPLE: &str = "examples/xlsx/lam-dong-2025-05.xlsx";
    const EXAMPLE_MAPPING: &str = "examples/xlsx/lam-dong-2025-05.mapping.json";
    const TRANSPOSED: &str = "examples/xlsx/lam-dong-2025-05-transposed.xlsx";
    const TRANSPOSED_MAPPING: &str = "examples/xlsx/lam-dong-2025-05-transposed.mapping.json";
    const MISTAKES: &str = "tests/fixtures/xlsx/lam-dong-2025-05-mistakes.xlsx";

    #[test]
    fn the_example_sheet_becomes_one_row_per_figure_with_the_cell_named() {
        let (rows, problems) = read(EXAMPLE, EXAMPLE_MAPPING);
        assert!(problems.is_empty(), "{problems:#?}");
        // 21 figures of Lâm Đồng on row 5, the national average on row 6; the footnote on
        // row 8 has no figure in a mapped column and is no row.
        assert_eq!(rows.len(), 22, "{rows:#?}");
        let place = "'Báo cáo 5-2025'";
        assert_eq!(
            rows[0],
            format!("5 68 hi_coverage_rate 2024 94.56 percent - number Some(Vi) {place}!C5")
        );
        assert_eq!(
            rows[2],
            format!(
                "5 68 contributions_collected 2024 3818 billion_vnd more_than number Some(Vi) {place}!E5"
            )
        );
        assert_eq!(
            rows[7],
            format!(
                "5 68 hi_participants 2025-01/2025-05 1229935 persons - number Some(Vi) {place}!J5"
            )
        );
        assert_eq!(
            rows[21],
            format!("6 VN si_coverage_rate 2024 42.71 percent - number Some(Vi) {place}!D6")
        );
    }

    /// (region, indicator, period, value as a decimal) of every row, read as the validator
    /// reads the number text.
    fn figures(rows: &[String]) -> Vec<(String, String, String, Decimal)> {
        let mut figures: Vec<_> = rows
            .iter()
            .map(|row| {
                let f: Vec<&str> = row.split(' ').collect();
                let locale = if f[7] == "number" {
                    ansinh_model::NumberLocale::Plain
                } else {
                    ansinh_model::NumberLocale::Vi
                };
                let value = ansinh_model::parse_number(f[4], locale).unwrap();
                (f[1].to_owned(), f[2].to_owned(), f[3].to_owned(), value)
            })
            .collect();
        figures.sort();
        figures
    }

    #[test]
    fn the_transpose_with_vi_text_and_percentage_cells_holds_the_same_figures() {
        let (rows, problems) = read(TRANSPOSED, TRANSPOSED_MAPPING);
        assert!(problems.is_empty(), "{problems:#?}");
        let place = "'Báo cáo 5-2025'";
        // A percentage cell holding 0.9456 is the figure 94.56 in unit percent.
        assert_eq!(
            rows[0],
            format!("5 68 hi_coverage_rate 2024 94.56 percent - number Some(Vi) {place}!D5")
        );
        assert_eq!(
            rows[2],
            format!("6 VN si_coverage_rate 2024 42.71 percent - number Some(Vi) {place}!E6")
        );
        // Text in the vi locale stays text, read by the validator in the mapping's locale.
        assert!(
            rows.contains(&format!(
                "12 68 hi_participants 2025-01/2025-05 1.229.935 persons - text Some(Vi) {place}!D12"
            )),
            "{rows:#?}"
        );
        let (example, _) = read(EXAMPLE, EXAMPLE_MAPPING);
        assert_eq!(figures(&rows), figures(&example));
    }

    #[test]
    fn cells_that_hold_no_figure_are_named() {
        let (rows, problems) = read(MISTAKES, EXAMPLE_MAPPING);
        let place = "'Báo cáo 5-2025'";
        assert_eq!(
            problems,
            [
                format!(
                    "lam-dong-2025-05-mistakes.xlsx:5:{place}!E5: holds the error #DIV/0!, not a figure; correct the formula or write the figure (\"#DIV/0!\")"
                ),
                format!(
                    "lam-dong-2025-05-mistakes.xlsx:5:{place}!F5: holds a formula but no stored result (the file was written by a program that does not compute formulas); open it in a spreadsheet program and save it, or write the figure (\"=333*1\")"
                ),
            ]
        );
        // The other cells still become rows, for the validator to judge.
        assert_eq!(rows.len(), 20);
    }

    #[test]
    fn the_validator_names_the_cell_of_every_problem() {
        let mapping = Mapping::load(&repo(EXAMPLE_MAPPING)).unwrap().leak();
        let label: Arc<str> = Arc::from("mistakes.xlsx");
        let mut input = Input::open(
            &repo(MISTAKES),
            Arc::clone(&label),
            Format::Xlsx(Some(mapping)),
            None,
        )
        .unwrap();
        let reference = crate::reference::fixtures::reference();
        let mut validator = crate::validate::Validator::new(
            &reference,
            ansinh_model::NumberLocale::Plain,
            label,
            0,
        );
        let mut problems = Vec::new();
        let mut form = Vec::new();
        let mut valid = Vec::new();
        input.for_each_row(&mut form, |row| {
            valid.extend(validator.series(Kind::Observations, row, &mut problems));
        });
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |start: &str| {
            assert!(
                problems.iter().any(|p| p.starts_with(start)),
                "no problem starting {start:?} in {problems:#?}"
            )
        };
        let place = "'Báo cáo 5-2025'";
        has(&format!(
            "mistakes.xlsx:5:{place}!C5: 104.5 is outside 0 to 100"
        ));
        // The mapping's vi locale, not the run's plain one, reads the text cell.
        has(&format!("mistakes.xlsx:5:{place}!J5: "));
        has(&format!(
            "mistakes.xlsx:6:{place}!A6: unknown region code 99"
        ));
        // What comes from the mapping names the cell it was needed for.
        has(&format!(
            "mistakes.xlsx:5:indicator for {place}!G5: unknown indicator"
        ));
        // Numbers typed in the sheet are exact whatever the locale: 17.1, 90.44, 18.43.
        let values: Vec<String> = valid.iter().map(|r| r.value.to_string()).collect();
        assert!(values.contains(&"17.1".to_owned()), "{values:?}");
        assert!(values.contains(&"90.44".to_owned()), "{values:?}");
    }

    fn open_with(mapping: &str) -> Vec<String> {
        let mapping = Mapping::from_json("m.json", mapping).unwrap().leak();
        let label: Arc<str> = Arc::from("t.xlsx");
        match Input::open(&repo(TRANSPOSED), label, Format::Xlsx(Some(mapping)), None) {
            Ok(mut input) => {
                let mut problems = Vec::new();
                input.for_each_row(&mut problems, |_| {});
                problems.iter().map(ToString::to_string).collect()
            }
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_mapping_the_sheet_does_not_fit_is_reported() {
        let problems = open_with(
            r#"{"sheet": "Sheet1", "header_row": 4, "region_column": "A",
                "series": [{"column": "D", "indicator": "population", "unit": "persons", "period": "2024"}]}"#,
        );
        assert_eq!(
            problems,
            [
                "t.xlsx:0:: no sheet named \"Sheet1\" (the sheet of mapping m.json); the workbook's sheets are: \"Báo cáo 5-2025\""
            ]
        );
        // The sheet is found without regard to case and diacritics; a label must exist once.
        let problems = open_with(
            r#"{"sheet": "bao cao 5-2025", "layout": "regions_as_columns", "header_row": 4,
                "first_region_column": "D", "label_column": "B",
                "series": [{"header": "Tỷ lệ bao phủ BHTN", "indicator": "ui_coverage_rate", "unit": "percent", "period": "2024"}]}"#,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("t.xlsx:0:'Báo cáo 5-2025'!B:B: no row labelled \"Tỷ lệ bao phủ BHTN\" (series[0] of mapping m.json); found: row 5 \"Tỷ lệ bao phủ BHYT 2024 (%)\""),
            "{problems:?}"
        );
        // Labels match without regard to case, diacritics and spacing.
        let problems = open_with(
            r#"{"sheet": "Báo cáo 5-2025", "layout": "regions_as_columns", "header_row": 4,
                "first_region_column": "D", "label_column": "B",
                "series": [{"header": "ty le bao phu  BHYT 2024 (%)", "indicator": "hi_coverage_rate", "unit": "percent", "period": "2024"}]}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_percentage_cell_in_a_series_of_another_unit_is_refused() {
        let problems = open_with(
            r#"{"sheet": "Báo cáo 5-2025", "layout": "regions_as_columns", "header_row": 4,
                "first_region_column": "D",
                "series": [{"row": 5, "indicator": "hi_participants", "unit": "persons", "period": "2024"}]}"#,
        );
        assert_eq!(
            problems,
            [
                "t.xlsx:5:'Báo cáo 5-2025'!D5: the cell is formatted as a percentage but series[0] of the mapping gives unit persons; format it as a number, or correct the unit (\"0.9456\")"
            ]
        );
    }

    #[test]
    fn a_mapping_that_finds_no_figure_says_so() {
        let problems = open_with(
            r#"{"sheet": "Báo cáo 5-2025", "header_row": 30, "region_column": "A",
                "series": [{"column": "D", "indicator": "population", "unit": "persons", "period": "2024"}]}"#,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("t.xlsx:0:: no figures"),
            "{problems:?}"
        );
    }

    #[test]
    fn an_xlsx_file_without_a_mapping_says_what_to_add() {
        let Err(problems) = Input::open(
            &repo(EXAMPLE),
            Arc::from("r.xlsx"),
            Format::from_path(std::path::Path::new(EXAMPLE)).unwrap(),
            None,
        ) else {
            panic!("opened without a mapping");
        };
        assert!(problems[0].to_string().contains("give --mapping MAP.json"));
    }
}
