//! The properties the fuzz targets check, one function per target. Each takes the fuzzer's
//! bytes, runs the parser on them, and panics when a property fails; a parser that panics on
//! its own fails too. `cargo fuzz` drives them with libFuzzer (see `docs/fuzzing.md`), and
//! `tests/corpus.rs` replays the committed corpus through them on every `cargo test`.
//!
//! What must hold, whatever the input:
//! - [`period`]: a period that parses has `start <= end` and displays as a text that parses
//!   back to the same period; a date that parses displays back to itself.
//! - [`number`]: a number one locale reads is read back, from its plain, en and vi renderings,
//!   as the same value; a text without separators means the same in every locale.
//! - [`rows`]: a file of any kind in CSV or JSON Lines is either read or refused with
//!   problems that name a line of the file; every row accepted holds a value its unit allows.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use ansinh_importer::kind::Kind;
use ansinh_importer::problem::Problem;
use ansinh_importer::read::{Format, Input};
use ansinh_importer::reference::Reference;
use ansinh_importer::reference::fixtures;
use ansinh_importer::validate::{SeriesRow, Validator, fits_value_column};
use ansinh_model::{Decimal, NumberLocale, Period, format_decimal, parse_date, parse_number};

/// Period texts: see the module documentation.
pub fn period(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(period) = Period::parse(text) {
        assert!(period.start() <= period.end(), "{text:?} runs backwards");
        let shown = period.to_string();
        assert_eq!(
            Period::parse(&shown),
            Ok(period),
            "{text:?} displays as {shown:?}, which does not read back"
        );
    }
    if let Ok(date) = parse_date(text) {
        assert_eq!(parse_date(&date.to_string()), Ok(date), "date {text:?}");
        assert_eq!(
            Period::parse(text),
            Ok(Period::instant(date)),
            "day {text:?}"
        );
    }
}

/// Number texts: see the module documentation.
pub fn number(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let locales = [NumberLocale::Plain, NumberLocale::En, NumberLocale::Vi];
    let read = locales.map(|locale| parse_number(text, locale));
    for (locale, value) in locales.iter().zip(&read) {
        let Ok(value) = value else { continue };
        for (shown_in, shown) in [
            (NumberLocale::Plain, format_decimal(*value)),
            (NumberLocale::En, grouped(*value, ',', '.')),
            (NumberLocale::Vi, grouped(*value, '.', ',')),
        ] {
            assert_eq!(
                parse_number(&shown, shown_in).as_ref(),
                Ok(value),
                "{text:?} read in {locale} as {value}, written in {shown_in} as {shown:?}"
            );
        }
    }
    if !text.contains(['.', ',']) {
        assert!(
            read.iter().all(|value| value.is_ok() == read[0].is_ok()
                && value.as_ref().ok() == read[0].as_ref().ok()),
            "{text:?} has no separator but the locales read it differently: {read:?}"
        );
    }
}

/// `value` written with `group` between thousands and `decimal` before the fraction.
fn grouped(value: Decimal, group: char, decimal: char) -> String {
    let plain = format_decimal(value);
    let (sign, unsigned) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let mut text = String::from(sign);
    for (i, digit) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            text.push(group);
        }
        text.push(digit);
    }
    if !fraction.is_empty() {
        text.push(decimal);
        text.push_str(fraction);
    }
    text
}

/// Import files: the first byte chooses the format (even: CSV, odd: JSON Lines) and the
/// number locale; the rest is the file. See the module documentation.
pub fn rows(data: &[u8]) {
    let Some((&choice, content)) = data.split_first() else {
        return;
    };
    let format = if choice % 2 == 0 {
        Format::Csv
    } else {
        Format::Jsonl
    };
    let locale =
        [NumberLocale::Plain, NumberLocale::En, NumberLocale::Vi][usize::from(choice / 2) % 3];
    let file = TempFile::with(content);
    // Lines a problem may name: the file's physical lines, and one past the end for a
    // last line without a newline.
    let lines = content.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let label: Arc<str> = Arc::from("fuzz.input");
    let located = |problem: &Problem| {
        assert_eq!(problem.file, label, "{problem}");
        assert!(
            !problem.reason.is_empty(),
            "a problem without a reason: {problem:?}"
        );
        assert!(
            problem.line <= lines,
            "{problem} names a line past the file's {lines}"
        );
    };

    let mut input = match Input::open(&file.path, Arc::clone(&label), format, None) {
        Ok(input) => input,
        Err(problems) => {
            assert!(!problems.is_empty(), "refused without a problem");
            problems.iter().for_each(located);
            return;
        }
    };
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    let reference = REFERENCE.get_or_init(fixtures::reference);
    let kind = input.kind();
    let mut validator = Validator::new(reference, locale, Arc::clone(&label), 0);
    let mut problems = Vec::new();
    let mut found = Vec::new();
    input.for_each_row(&mut problems, |row| {
        assert!(
            row.line >= 1 && row.line <= lines,
            "row at line {}",
            row.line
        );
        match kind {
            Kind::Observations | Kind::Targets => {
                if let Some(series) = validator.series(kind, row, &mut found) {
                    check_series(reference, &series);
                }
            }
            Kind::Indicators => drop(validator.indicator(row, &mut found)),
            Kind::Regions => drop(validator.region(row, &mut found)),
            Kind::RegionMembers => drop(validator.member(row, &mut found)),
            Kind::Lineage => drop(validator.lineage(row, &mut found)),
        }
    });
    problems.iter().chain(&found).for_each(located);
}

fn check_series(reference: &Reference, series: &SeriesRow) {
    let code = reference
        .indicator_code(series.key.indicator)
        .expect("an accepted row's indicator is known");
    let unit = reference.indicator(code).expect("known").indicator.unit;
    assert!(
        unit.check_value(series.value).is_ok(),
        "accepted {} {unit} for {code}",
        series.value
    );
    assert!(
        fits_value_column(series.value),
        "accepted {} that the column rounds",
        series.value
    );
    assert!(
        series.key.start <= series.key.end,
        "accepted a period running backwards"
    );
}

/// The fuzzer's bytes as a file, since the importer reads files; removed when dropped.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn with(content: &[u8]) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "ansinh-fuzz-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file = std::fs::File::create(&path).expect("creating a temporary file");
        file.write_all(content).expect("writing a temporary file");
        Self { path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
