//! Reading import files: CSV and JSON Lines, streamed one row at a time, and XLSX report
//! sheets read through a mapping ([`crate::xlsx`]).
//!
//! This module owns the file formats and nothing else: it turns a file into [`Row`]s whose
//! values sit in the slots of the file's [`Kind`] (so the header may name the columns in any
//! order), and reports problems of form — an unknown or missing column, a row with the wrong
//! number of fields, text that is not UTF-8, a line that is not a JSON object. What the values
//! mean is checked by [`crate::validate`], whatever the format. Memory stays flat in the file
//! size for CSV and JSON Lines: one record buffer is reused for every row. (A report sheet is
//! held in memory whole: sheets are a few hundred rows. So is a pipe or standard input, which
//! can be read only once: see [`crate::source`].)

use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ansinh_model::NumberLocale;
use serde_json::value::RawValue;

use crate::kind::Kind;
use crate::mapping::Mapping;
use crate::problem::Problem;
use crate::source::{Reader, Source};
use crate::xlsx;

/// How a file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
    /// A report sheet, read through its mapping; `None` until the run attaches the mapping
    /// (`--format xlsx` and the `.xlsx` extension name the format without it).
    Xlsx(Option<&'static Mapping>),
}

impl Format {
    /// The format named by the file's extension (`.csv`, `.jsonl`/`.ndjson`, `.xlsx`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        ext.parse().ok()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Xlsx(_) => "xlsx",
        }
    }

    /// This format, reading XLSX through `mapping` (other formats need none).
    pub fn with_mapping(self, mapping: Option<&'static Mapping>) -> Format {
        match self {
            Format::Xlsx(None) => Format::Xlsx(mapping),
            other => other,
        }
    }
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown format {0:?}; use one of: csv, jsonl, xlsx")]
pub struct UnknownFormat(String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "xlsx" => Ok(Format::Xlsx(None)),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// The most columns any kind has.
pub const MAX_COLUMNS: usize = 8;

/// One input row, its values in the slots of its kind ([`Kind::columns`]).
#[derive(Debug)]
pub struct Row<'a> {
    pub line: u64,
    values: &'a [Option<&'a str>],
    /// Slots whose value came as a number (a JSON number, a numeric sheet cell) rather than as
    /// text: already plain, whatever the number locale.
    plain_numbers: u32,
    /// The number locale of this row's text, when the file declares its own (a sheet's mapping).
    locale: Option<NumberLocale>,
    /// Where a column's value came from, when that is not the column itself (a sheet cell).
    places: &'a [(&'a str, &'a str)],
}

impl<'a> Row<'a> {
    pub fn new(line: u64, values: &'a [Option<&'a str>]) -> Self {
        Self {
            line,
            values,
            plain_numbers: 0,
            locale: None,
            places: &[],
        }
    }

    /// Marks the slots of `mask` (bit `n` for slot `n`) as numbers rather than text.
    pub fn with_plain_numbers(mut self, mask: u32) -> Self {
        self.plain_numbers = mask;
        self
    }

    /// Reads this row's number text in `locale` rather than the run's.
    pub fn with_locale(mut self, locale: Option<NumberLocale>) -> Self {
        self.locale = locale;
        self
    }

    /// Names where the values of columns came from: `(column, place)` pairs.
    pub fn with_places(mut self, places: &'a [(&'a str, &'a str)]) -> Self {
        self.places = places;
        self
    }

    /// The value in `slot`, trimmed; `None` when the column is absent or the cell blank.
    pub fn get(&self, slot: usize) -> Option<&'a str> {
        self.values
            .get(slot)
            .copied()
            .flatten()
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// Whether the value in `slot` came as a number (a JSON number, a numeric sheet cell)
    /// rather than as text.
    pub fn is_plain_number(&self, slot: usize) -> bool {
        slot < 32 && self.plain_numbers & (1 << slot) != 0
    }

    /// The number locale this row declares for its text, if it has its own.
    pub fn locale(&self) -> Option<NumberLocale> {
        self.locale
    }

    /// How a problem names the place of `column`: the column itself, or for a row of a report
    /// sheet the cell it came from (`Sheet1!C7`).
    pub fn place<'s>(&'s self, column: &'s str) -> &'s str {
        self.places
            .iter()
            .find(|(c, _)| *c == column)
            .map_or(column, |(_, place)| place)
    }
}

/// An open import file whose header (or first JSON line) has been read.
pub struct Input {
    label: Arc<str>,
    kind: Kind,
    inner: Inner,
    position: Arc<AtomicU64>,
}

enum Inner {
    Csv {
        reader: csv::Reader<NewlineLog<Counted>>,
        /// For each CSV column, the slot it fills.
        slots: Vec<usize>,
    },
    Jsonl {
        lines: BufReader<Counted>,
    },
    Xlsx(xlsx::Sheet),
}

/// A file that publishes how far into it reading has got, for the progress display.
struct Counted {
    file: Reader,
    position: Arc<AtomicU64>,
}

impl io::Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.position.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl io::Seek for Counted {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let at = self.file.seek(to)?;
        self.position.store(at, Ordering::Relaxed);
        Ok(at)
    }
}

impl Input {
    /// Opens `path` and reads its header. `label` is how problems name the file. The kind is
    /// `kind` when given, else detected from the header; a header that names no kind, a
    /// column the kind does not have, or lacks a required one is reported, all at once.
    pub fn open(
        path: &Path,
        label: Arc<str>,
        format: Format,
        kind: Option<Kind>,
    ) -> Result<Input, Vec<Problem>> {
        Self::open_source(&Source::File(path.to_path_buf()), label, format, kind)
    }

    /// [`Input::open`] for a file of a run, which may have been read into memory already (a
    /// pipe, a FIFO, standard input).
    pub fn open_source(
        source: &Source,
        label: Arc<str>,
        format: Format,
        kind: Option<Kind>,
    ) -> Result<Input, Vec<Problem>> {
        let file = source.reader().map_err(|e| {
            vec![Problem::new(
                &label,
                0,
                "",
                format!("cannot open: {e}"),
                None,
            )]
        })?;
        let position = Arc::new(AtomicU64::new(0));
        match format {
            Format::Csv => open_csv(Counted { file, position }, label, kind),
            Format::Jsonl => open_jsonl(Counted { file, position }, label, kind),
            Format::Xlsx(None) => Err(vec![Problem::new(
                &label,
                0,
                "",
                "an XLSX report sheet is read through a mapping file that says which cells hold which figures: give --mapping MAP.json (or set ANSINH_IMPORT_MAPPING)",
                None,
            )]),
            Format::Xlsx(Some(mapping)) => match kind {
                Some(kind) if kind != Kind::Observations => Err(vec![Problem::new(
                    &label,
                    0,
                    "",
                    format!(
                        "a report sheet holds observations; --kind {kind} does not apply to it"
                    ),
                    None,
                )]),
                _ => {
                    // Read whole when opened: all of it is behind.
                    position.store(file.size(), Ordering::Relaxed);
                    Ok(Input {
                        inner: Inner::Xlsx(xlsx::Sheet::open(file, &label, mapping)?),
                        label,
                        kind: Kind::Observations,
                        position,
                    })
                }
            },
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn label(&self) -> &Arc<str> {
        &self.label
    }

    /// How many bytes of the file have been read so far, updated as reading goes on (a
    /// report sheet is read whole when it is opened).
    pub fn position(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.position)
    }

    /// Calls `on_row` for every data row, in file order. Problems of form go to `problems`
    /// and the row is skipped; reading goes on to the end of the file.
    pub fn for_each_row(&mut self, problems: &mut Vec<Problem>, mut on_row: impl FnMut(&Row<'_>)) {
        let width = self.kind.columns().count();
        match &mut self.inner {
            Inner::Csv { reader, slots } => {
                let mut record = csv::ByteRecord::new();
                loop {
                    match reader.read_byte_record(&mut record) {
                        Ok(false) => break,
                        Ok(true) => {}
                        Err(e) => {
                            let line = e.position().map_or(0, |p| p.line());
                            problems.push(Problem::new(
                                &self.label,
                                line,
                                "",
                                csv_reason(&e),
                                None,
                            ));
                            if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                                break;
                            }
                            continue;
                        }
                    }
                    let line = record_line(reader, &record);
                    if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty()) {
                        continue; // a blank line
                    }
                    if record.len() != slots.len() {
                        problems.push(Problem::new(
                            &self.label,
                            line,
                            "",
                            format!(
                                "row has {} fields but the header has {} columns",
                                record.len(),
                                slots.len()
                            ),
                            None,
                        ));
                        continue;
                    }
                    let mut values: [Option<&str>; MAX_COLUMNS] = [None; MAX_COLUMNS];
                    let mut utf8_ok = true;
                    for (field, &slot) in record.iter().zip(slots.iter()) {
                        match std::str::from_utf8(field) {
                            Ok(text) => values[slot] = Some(text),
                            Err(_) => {
                                utf8_ok = false;
                                problems.push(Problem::new(
                                    &self.label,
                                    line,
                                    self.kind.columns().nth(slot).unwrap_or_default(),
                                    "not valid UTF-8 (save the file as UTF-8)",
                                    Some(&String::from_utf8_lossy(field)),
                                ));
                            }
                        }
                    }
                    if utf8_ok {
                        on_row(&Row::new(line, &values[..width]));
                    }
                }
            }
            Inner::Jsonl { lines } => {
                let mut text = String::new();
                let mut line = 0u64;
                loop {
                    text.clear();
                    match lines.read_line(&mut text) {
                        Ok(0) => break,
                        Ok(_) => line += 1,
                        Err(e) => {
                            problems.push(Problem::new(
                                &self.label,
                                line + 1,
                                "",
                                format!("cannot read: {e}"),
                                None,
                            ));
                            break;
                        }
                    }
                    let body = strip_bom(text.trim_end_matches(['\n', '\r']));
                    if body.trim().is_empty() {
                        continue;
                    }
                    jsonl_row(&self.label, self.kind, line, body, problems, &mut on_row);
                }
            }
            Inner::Xlsx(sheet) => sheet.for_each_row(&self.label, problems, &mut on_row),
        }
    }
}

/// The line a CSV record starts on.
///
/// The csv crate's positions count a CRLF's `\n` into the next record, so they are off by
/// one or more; this counts the newlines before the record's last byte instead and steps
/// back over the newlines quoted inside its fields.
fn record_line(reader: &mut csv::Reader<NewlineLog<Counted>>, record: &csv::ByteRecord) -> u64 {
    let end = reader.position().byte();
    let end_line = 1 + reader.get_mut().newlines_before(end.saturating_sub(1));
    let inner = record.iter().flatten().filter(|&&b| b == b'\n').count() as u64;
    end_line.saturating_sub(inner)
}

/// A reader that remembers where the newlines it has passed on are, so a byte offset can be
/// turned into a line number. Offsets below the last query are forgotten: memory stays at
/// the newlines of one read-ahead buffer.
struct NewlineLog<R> {
    inner: R,
    read: u64,
    pending: std::collections::VecDeque<u64>,
    counted: u64,
}

impl<R> NewlineLog<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            read: 0,
            pending: std::collections::VecDeque::new(),
            counted: 0,
        }
    }

    /// How many newlines there are before byte offset `pos`; `pos` must not decrease
    /// between calls.
    fn newlines_before(&mut self, pos: u64) -> u64 {
        while self.pending.front().is_some_and(|&at| at < pos) {
            self.pending.pop_front();
            self.counted += 1;
        }
        self.counted
    }
}

impl<R: io::Read> io::Read for NewlineLog<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            self.pending.push_back(self.read + i as u64);
        }
        self.read += n as u64;
        Ok(n)
    }
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(e) => format!("cannot read: {e}"),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("row has {len} fields but the header has {expected_len} columns")
        }
        _ => format!("malformed CSV: {e}"),
    }
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Maps header names to slots of the kind (given or detected); reports every column that is
/// unknown, repeated or missing.
fn header_slots(
    label: &Arc<str>,
    names: &[String],
    kind: Option<Kind>,
) -> Result<(Kind, Vec<usize>), Vec<Problem>> {
    let kind = match kind.or_else(|| Kind::detect(names.iter().map(String::as_str))) {
        Some(kind) => kind,
        None => {
            return Err(vec![Problem::new(
                label,
                1,
                "",
                format!(
                    "cannot tell the kind of file from its columns; expected the required columns of one of: {} (or give --kind)",
                    Kind::ALL
                        .iter()
                        .map(|k| format!("{k} ({})", k.required().join(",")))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                Some(&names.join(",")),
            )]);
        }
    };
    let mut problems = Vec::new();
    let mut slots = Vec::with_capacity(names.len());
    for name in names {
        match kind.slot(name.trim()) {
            Some(slot) if slots.contains(&slot) => problems.push(Problem::new(
                label,
                1,
                name.trim(),
                "column appears twice",
                None,
            )),
            Some(slot) => slots.push(slot),
            None => problems.push(Problem::new(
                label,
                1,
                name.trim(),
                format!(
                    "unknown column for {kind}; columns are: {}",
                    kind.columns().collect::<Vec<_>>().join(", ")
                ),
                None,
            )),
        }
    }
    for required in kind.required() {
        if !names.iter().any(|n| n.trim() == *required) {
            problems.push(Problem::new(
                label,
                1,
                *required,
                format!("missing required column for {kind}"),
                None,
            ));
        }
    }
    if problems.is_empty() {
        Ok((kind, slots))
    } else {
        Err(problems)
    }
}

fn open_csv(file: Counted, label: Arc<str>, kind: Option<Kind>) -> Result<Input, Vec<Problem>> {
    let position = Arc::clone(&file.position);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(NewlineLog::new(file));
    let header = reader
        .byte_headers()
        .map_err(|e| vec![Problem::new(&label, 1, "", csv_reason(&e), None)])?;
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(vec![Problem::new(
            &label,
            1,
            "",
            "the file is empty: expected a header row",
            None,
        )]);
    }
    let names = header
        .iter()
        .map(|h| {
            std::str::from_utf8(h)
                .map(|s| strip_bom(s).to_owned())
                .map_err(|_| {
                    vec![Problem::new(
                        &label,
                        1,
                        "",
                        "header is not valid UTF-8",
                        None,
                    )]
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (kind, slots) = header_slots(&label, &names, kind)?;
    Ok(Input {
        label,
        kind,
        inner: Inner::Csv { reader, slots },
        position,
    })
}

fn open_jsonl(file: Counted, label: Arc<str>, kind: Option<Kind>) -> Result<Input, Vec<Problem>> {
    let position = Arc::clone(&file.position);
    let mut lines = BufReader::with_capacity(256 * 1024, file);
    let kind = match kind {
        Some(kind) => kind,
        None => {
            // The first object's fields name the kind; read it, then rewind.
            let mut text = String::new();
            let mut line = 0;
            loop {
                text.clear();
                let n = lines.read_line(&mut text).map_err(|e| {
                    vec![Problem::new(
                        &label,
                        line + 1,
                        "",
                        format!("cannot read: {e}"),
                        None,
                    )]
                })?;
                line += 1;
                if n == 0 {
                    return Err(vec![Problem::new(&label, 1, "", "the file is empty", None)]);
                }
                if !strip_bom(text.trim()).is_empty() {
                    break;
                }
            }
            let fields: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(strip_bom(text.trim())).map_err(|e| {
                    vec![Problem::new(
                        &label,
                        line,
                        "",
                        format!("not a JSON object: {e}"),
                        None,
                    )]
                })?;
            let names: Vec<String> = fields.keys().cloned().collect();
            let (kind, _) = header_slots(&label, &names, None)?;
            io::Seek::rewind(lines.get_mut()).map_err(|e| {
                vec![Problem::new(
                    &label,
                    0,
                    "",
                    format!("cannot read: {e}"),
                    None,
                )]
            })?;
            lines = BufReader::with_capacity(256 * 1024, lines.into_inner());
            kind
        }
    };
    Ok(Input {
        label,
        kind,
        inner: Inner::Jsonl { lines },
        position,
    })
}

fn jsonl_row(
    label: &Arc<str>,
    kind: Kind,
    line: u64,
    body: &str,
    problems: &mut Vec<Problem>,
    on_row: &mut impl FnMut(&Row<'_>),
) {
    let fields: Vec<(String, &RawValue)> =
        match serde_json::from_str::<std::collections::BTreeMap<String, &RawValue>>(body) {
            Ok(map) => map.into_iter().collect(),
            Err(e) => {
                problems.push(Problem::new(
                    label,
                    line,
                    "",
                    format!("not a JSON object: {e}"),
                    None,
                ));
                return;
            }
        };
    let width = kind.columns().count();
    let mut owned: Vec<Option<String>> = vec![None; width];
    let mut json_numbers = 0u32;
    let mut ok = true;
    for (name, raw) in &fields {
        let Some(slot) = kind.slot(name) else {
            ok = false;
            problems.push(Problem::new(
                label,
                line,
                name.as_str(),
                format!(
                    "unknown field for {kind}; fields are: {}",
                    kind.columns().collect::<Vec<_>>().join(", ")
                ),
                None,
            ));
            continue;
        };
        let text = raw.get().trim();
        match text.as_bytes().first() {
            Some(b'"') => match serde_json::from_str::<String>(text) {
                Ok(s) => owned[slot] = Some(s),
                Err(e) => {
                    ok = false;
                    problems.push(Problem::new(
                        label,
                        line,
                        name.as_str(),
                        format!("bad JSON string: {e}"),
                        None,
                    ));
                }
            },
            Some(b'-' | b'0'..=b'9') => {
                owned[slot] = Some(text.to_owned());
                json_numbers |= 1 << slot;
            }
            _ if text == "null" => {}
            _ => {
                ok = false;
                problems.push(Problem::new(
                    label,
                    line,
                    name.as_str(),
                    "expected a string or a number",
                    Some(text),
                ));
            }
        }
    }
    if ok {
        let values: Vec<Option<&str>> = owned.iter().map(|v| v.as_deref()).collect();
        on_row(&Row::new(line, &values).with_plain_numbers(json_numbers));
    }
}

/// Each data row's line and its values, in column order.
#[cfg(test)]
type LinesAndValues = Vec<(u64, Vec<Option<String>>)>;

/// Reads a whole file into memory: the detected kind, every row, and the problems; for tests.
#[cfg(test)]
pub(crate) fn rows_of(path: &Path, format: Format) -> (Option<Kind>, LinesAndValues, Vec<Problem>) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
