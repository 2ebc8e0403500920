//! Reading import files: CSV and JSON Lines, streamed one row at a time, and XLSX report
//! sheets read through a mapping.
//!
//! This module owns the file formats and nothing else: it turns a file into [`Row`]s whose
//! values sit in the slots of the file's [`Kind`] (so the header may name the columns in any
//! order), and reports problems of form — an unknown or missing column, a row with the wrong
//! number of fields, text that is not UTF-8, a line that is not a JSON object. What the values
//! mean is checked by [`crate::validate`], whatever the format. Memory stays flat in the file
//! size for CSV and JSON Lines: one record buffer is reused for every row. (A report sheet is
//! held in memory whole: sheets are a few hundred rows. So is a pipe or standard input, which
//! can be read only once: see [`source`].)
//!
//! [`Input`] opens a file of any format and hands its rows on; one module per format reads
//! it (`csv`, `jsonl`, `xlsx`), each knowing only the shared [`Row`] and header rules of
//! `row`, never this dispatcher or another format.

mod csv;
mod jsonl;
mod row;
pub mod source;
mod xlsx;

#[cfg(test)]
mod tests;

use std::io;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use self::csv::CsvFile;
use self::jsonl::JsonlFile;
pub use self::row::{MAX_COLUMNS, Row};
use self::source::{Reader, Source};
use self::xlsx::Sheet;
use crate::kind::Kind;
use crate::mapping::Mapping;
use crate::problem::Problem;

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

/// An open import file whose header (or first JSON line) has been read.
pub struct Input {
    label: Arc<str>,
    kind: Kind,
    inner: Inner,
    position: Arc<AtomicU64>,
}

enum Inner {
    Csv(CsvFile<Counted>),
    Jsonl(JsonlFile<Counted>),
    Xlsx(Sheet),
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
        let counted = Counted {
            file,
            position: Arc::clone(&position),
        };
        let (kind, inner) = match format {
            Format::Csv => {
                let (kind, file) = CsvFile::open(counted, &label, kind)?;
                (kind, Inner::Csv(file))
            }
            Format::Jsonl => {
                let (kind, file) = JsonlFile::open(counted, &label, kind)?;
                (kind, Inner::Jsonl(file))
            }
            Format::Xlsx(None) => {
                return Err(vec![Problem::new(
                    &label,
                    0,
                    "",
                    "an XLSX report sheet is read through a mapping file that says which cells hold which figures: give --mapping MAP.json (or set ANSINH_IMPORT_MAPPING)",
                    None,
                )]);
            }
            Format::Xlsx(Some(mapping)) => match kind {
                Some(kind) if kind != Kind::Observations => {
                    return Err(vec![Problem::new(
                        &label,
                        0,
                        "",
                        format!(
                            "a report sheet holds observations; --kind {kind} does not apply to it"
                        ),
                        None,
                    )]);
                }
                _ => {
                    // Read whole when opened: all of it is behind.
                    let file = counted.file;
                    position.store(file.size(), Ordering::Relaxed);
                    (
                        Kind::Observations,
                        Inner::Xlsx(Sheet::open(file, &label, mapping)?),
                    )
                }
            },
        };
        Ok(Input {
            label,
            kind,
            inner,
            position,
        })
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
        let (label, kind) = (&self.label, self.kind);
        match &mut self.inner {
            Inner::Csv(file) => file.for_each_row(label, kind, problems, &mut on_row),
            Inner::Jsonl(file) => file.for_each_row(label, kind, problems, &mut on_row),
            Inner::Xlsx(sheet) => sheet.for_each_row(label, problems, &mut on_row),
        }
    }
}
