//! Loading observations and targets: the part of a run that must be fast.
//!
//! A reader thread parses and validates the files and cuts the rows into chunks of
//! [`CHUNK_ROWS`], each sorted by primary key. As long as the chunks' key ranges do not
//! overlap (input sorted, or nearly, by region, indicator, period — what nightly jobs send),
//! each chunk is compared with the stored rows of its key range on the comparison
//! connection: one digest query says "all unchanged" for the common case; an empty range
//! means "all new"; otherwise the range is read and compared row by row. New rows are
//! `LOAD DATA`-ed straight into the table and changed rows into a temporary table, on the
//! data connection inside the run's transaction; changed rows are applied (with history) at
//! the end. Rows with the same key are adjacent within a sorted chunk, and disjoint chunks
//! cannot share a key, so the same-key check needs no memory beyond one chunk. When chunks
//! do overlap, the reader starts over and sorts all rows in memory (see [`Message::Restart`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ansinh_model::{NumberLocale, Period};
use ansinh_store::AsyncMysqlConnection;
use ansinh_store::import::{self as db, InfileBuffers, KeyRange, SeriesTable};
use tokio::sync::mpsc;

use crate::kind::Kind;
use crate::problem::Problem;
use crate::read::{Format, Input};
use crate::reference::Reference;
use crate::validate::{SeriesKey, SeriesRow, Validator};

/// Rows per chunk: enough that a digest query is worth its round trip, few enough that a
/// chunk's rows (and the stored rows of its range) are a few megabytes.
pub const CHUNK_ROWS: usize = 8192;

/// Bytes of `LOAD DATA` input gathered before a statement is sent.
const LOAD_BYTES: usize = 8 << 20;

/// One file of the run that holds observations or targets.
#[derive(Debug, Clone)]
pub struct SeriesFile {
    pub path: PathBuf,
    pub label: Arc<str>,
    pub format: Format,
    pub file_no: u16,
}

/// Counters the progress display reads.
#[derive(Debug, Default)]
pub struct Progress {
    pub rows: AtomicU64,
    pub bytes: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SeriesCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// What the reader sends.
enum Message {
    Chunk(Vec<SeriesRow>),
    /// Chunks overlapped: everything sent so far is void; all rows follow again, sorted.
    Restart,
}

/// What the reader found: problems of single rows and the data rows of each file.
struct ReaderResult {
    problems: Vec<Problem>,
    rows_per_file: Vec<(u16, u64)>,
}

fn key_tuple(key: &SeriesKey) -> (u32, u32, ansinh_model::NaiveDate, ansinh_model::NaiveDate) {
    (key.region, key.indicator, key.end, key.start)
}

/// Reads the files on this thread and sends sorted chunks.
fn read_files(
    files: &[SeriesFile],
    kind: Kind,
    reference: &Reference,
    locale: NumberLocale,
    progress: &Progress,
    tx: &mpsc::Sender<Message>,
) -> ReaderResult {
    let mut sorted_in_memory = false;
    loop {
        let mut problems = Vec::new();
        let mut rows_per_file = Vec::new();
        let mut chunk: Vec<SeriesRow> = Vec::with_capacity(CHUNK_ROWS);
        let mut all: Vec<SeriesRow> = Vec::new();
        // Key ranges of the chunks sent so far, by first key.
        let mut ranges: BTreeMap<SeriesKey, SeriesKey> = BTreeMap::new();
        let mut overlap = false;
        for file in files {
            let mut input =
                match Input::open(&file.path, Arc::clone(&file.label), file.format, Some(kind)) {
                    Ok(input) => input,
                    Err(p) => {
                        problems.extend(p);
                        continue;
                    }
                };
            let mut validator =
                Validator::new(reference, locale, Arc::clone(&file.label), file.file_no);
            let mut rows = 0u64;
            let mut row_problems = Vec::new();
            let mut form_problems = Vec::new();
            input.for_each_row(&mut form_problems, |row| {
                rows += 1;
                if rows.is_multiple_of(4096) {
                    progress.rows.fetch_add(4096, Ordering::Relaxed);
                }
                if overlap {
                    return;
                }
                let Some(typed) = validator.series(kind, row, &mut row_problems) else {
                    return;
                };
                if sorted_in_memory {
                    all.push(typed);
                    return;
                }
                chunk.push(typed);
                if chunk.len() >= CHUNK_ROWS {
                    overlap |= !send_chunk(std::mem::take(&mut chunk), &mut ranges, tx);
                    chunk.reserve(CHUNK_ROWS);
                }
            });
            progress.rows.fetch_add(rows % 4096, Ordering::Relaxed);
            problems.extend(form_problems);
            problems.extend(row_problems);
            rows_per_file.push((file.file_no, rows));
            if overlap {
                break;
            }
        }
        if !overlap && !chunk.is_empty() {
            overlap |= !send_chunk(std::mem::take(&mut chunk), &mut ranges, tx);
        }
        if overlap {
            tracing::info!(
                "input is not sorted by region, indicator, period; sorting it in memory"
            );
            if tx.blocking_send(Message::Restart).is_err() {
                return ReaderResult {
                    problems,
                    rows_per_file,
                };
            }
            progress.rows.store(0, Ordering::Relaxed);
            sorted_in_memory = true;
            continue;
        }
        if sorted_in_memory {
            all.sort_by(|a, b| a.key.cmp(&b.key).then(a.origin.cmp(&b.origin)));
            let mut rest = all.as_slice();
            while !rest.is_empty() {
                // Never split a key between chunks: same-key rows must meet in one chunk.
                let mut end = rest.len().min(CHUNK_ROWS);
                while end < rest.len() && rest[end].key == rest[end - 1].key {
                    end += 1;
                }
                if tx
                    .blocking_send(Message::Chunk(rest[..end].to_vec()))
                    .is_err()
                {
                    break;
                }
                rest = &rest[end..];
            }
        }
        return ReaderResult {
            problems,
            rows_per_file,
        };
    }
}

/// Sorts and sends a chunk; `false` when its key range overlaps one sent before.
fn send_chunk(
    mut chunk: Vec<SeriesRow>,
    ranges: &mut BTreeMap<SeriesKey, SeriesKey>,
    tx: &mpsc::Sender<Message>,
) -> bool {
    chunk.sort_by(|a, b| a.key.cmp(&b.key).then(a.origin.cmp(&b.origin)));
    let (first, last) = (chunk[0].key, chunk[chunk.len() - 1].key);
    let before = ranges.range(..=last).next_back();
    if before.is_some_and(|(_, &end)| end >= first) {
        return false;
    }
    ranges.insert(first, last);
    let _ = tx.blocking_send(Message::Chunk(chunk));
    true
}

/// Loads the observations (or targets) files of a run on `data` (inside the run's
/// transaction, after a savepoint) comparing on `compare`. Row problems and same-key
/// conflicts go to `problems`; writing stops at the first problem, as the run will roll back.
#[allow(clippy::too_many_arguments)]
pub async fn load(
    kind: Kind,
    files: Vec<SeriesFile>,
    labels: &[Arc<str>],
    reference: Arc<Reference>,
    locale: NumberLocale,
    data: &mut AsyncMysqlConnection,
    compare: &mut AsyncMysqlConnection,
    buffers: &InfileBuffers,
    run_id: u64,
    progress: Arc<Progress>,
    problems: &mut Vec<Problem>,
    file_rows: &mut BTreeMap<u16, u64>,
) -> Result<SeriesCounts, ansinh_store::StoreError> {
    let table = match kind {
        Kind::Targets => SeriesTable::Targets,
        _ => SeriesTable::Observations,
    };
    if files.is_empty() {
        return Ok(SeriesCounts::default());
    }
    let savepoint = "SAVEPOINT ansinh_series";
    diesel_async::SimpleAsyncConnection::batch_execute(data, savepoint).await?;

    let (tx, mut rx) = mpsc::channel::<Message>(4);
    let reader = {
        let reference = Arc::clone(&reference);
        let progress = Arc::clone(&progress);
        std::thread::spawn(move || read_files(&files, kind, &reference, locale, &progress, &tx))
    };

    let mut state = Comparer::new(table, &reference, labels);
    let mut writer = Writer::new(table);
    let mut text = String::new();
    while let Some(message) = rx.recv().await {
        match message {
            Message::Restart => {
                diesel_async::SimpleAsyncConnection::batch_execute(
                    data,
                    "ROLLBACK TO SAVEPOINT ansinh_series",
                )
                .await?;
                state = Comparer::new(table, &reference, labels);
                writer = Writer::new(table);
            }
            Message::Chunk(chunk) => {
                let verdict = state.compare(compare, chunk, &mut text).await?;
                if state.conflicts.is_empty() {
                    writer.add(data, buffers, verdict).await?;
                }
            }
        }
    }
    let result = reader.join().map_err(|_| {
        ansinh_store::StoreError::Corrupt("the file reader thread panicked".to_owned())
    })?;
    problems.extend(result.problems);
    problems.append(&mut state.conflicts);
    for (file_no, rows) in result.rows_per_file {
        *file_rows.entry(file_no).or_default() += rows;
    }
    if problems.is_empty() {
        writer.finish(data, buffers).await?;
        if writer.changed > 0 {
            db::apply_changes(data, table, run_id).await?;
        }
    }
    Ok(SeriesCounts {
        inserted: writer.inserted,
        updated: writer.changed,
        unchanged: state.unchanged,
    })
}

/// New and changed rows of one chunk.
struct Verdict {
    new: Vec<SeriesRow>,
    changed: Vec<SeriesRow>,
}

struct Comparer<'a> {
    table: SeriesTable,
    reference: &'a Reference,
    labels: &'a [Arc<str>],
    unchanged: u64,
    conflicts: Vec<Problem>,
}

impl<'a> Comparer<'a> {
    fn new(table: SeriesTable, reference: &'a Reference, labels: &'a [Arc<str>]) -> Self {
        Self {
            table,
            reference,
            labels,
            unchanged: 0,
            conflicts: Vec::new(),
        }
    }

    fn source_id(&self, row: &SeriesRow) -> Result<Option<u32>, ()> {
        match &row.source {
            None => Ok(None),
            Some(name) => self.reference.source(name).map(Some).ok_or(()),
        }
    }

    fn digest(&self, row: &SeriesRow, text: &mut String) -> u64 {
        let (qualifier, note) = match self.table {
            SeriesTable::Observations => (row.qualifier.code(), row.note.as_deref()),
            SeriesTable::Targets => (0, None),
        };
        db::row_digest(
            key_tuple(&row.key),
            row.value,
            qualifier,
            self.source_id(row),
            note,
            text,
        )
    }

    /// Drops repeated rows of a sorted chunk; a key given twice with different content is a
    /// conflict naming both lines.
    fn dedup(&mut self, chunk: Vec<SeriesRow>) -> Vec<SeriesRow> {
        let mut out: Vec<SeriesRow> = Vec::with_capacity(chunk.len());
        for row in chunk {
            match out.last() {
                Some(prev) if prev.key == row.key => {
                    if prev.same_content(&row) {
                        self.unchanged += 1;
                    } else {
                        let prev = prev.clone();
                        self.conflict(&prev, &row);
                    }
                }
                _ => out.push(row),
            }
        }
        out
    }

    fn conflict(&mut self, first: &SeriesRow, second: &SeriesRow) {
        let period = Period::from_bounds(first.key.start, first.key.end).map_or_else(
            |_| format!("{}/{}", first.key.start, first.key.end),
            |p| p.to_string(),
        );
        let what = format!(
            "region {}, indicator {}, period {period}; a stock's period is the day it ends",
            self.reference.region_code(first.key.region).unwrap_or("?"),
            self.reference
                .indicator_code(first.key.indicator)
                .unwrap_or("?"),
        );
        let label = |row: &SeriesRow| Arc::clone(&self.labels[usize::from(row.origin.file)]);
        let column = if self.table == SeriesTable::Targets {
            "target"
        } else {
            "value"
        };
        for (row, other) in [(first, second), (second, first)] {
            self.conflicts.push(Problem::new(
                &label(row),
                row.origin.line,
                column,
                format!(
                    "same key as {}:{} ({what}) but a different value ({})",
                    label(other),
                    other.origin.line,
                    other.value.normalize(),
                ),
                Some(&row.value.normalize().to_string()),
            ));
        }
    }

    async fn compare(
        &mut self,
        conn: &mut AsyncMysqlConnection,
        chunk: Vec<SeriesRow>,
        text: &mut String,
    ) -> Result<Verdict, ansinh_store::StoreError> {
        let chunk = self.dedup(chunk);
        let range = KeyRange {
            first: key_tuple(&chunk[0].key),
            last: key_tuple(&chunk[chunk.len() - 1].key),
        };
        let stored = db::digest_range(conn, self.table, &range).await?;
        if stored.count == 0 {
            return Ok(Verdict {
                new: chunk,
                changed: Vec::new(),
            });
        }
        if stored.count == chunk.len() as u64 {
            let digest = chunk
                .iter()
                .fold(0u64, |acc, row| acc ^ self.digest(row, text));
            if digest == stored.digest {
                self.unchanged += chunk.len() as u64;
                return Ok(Verdict {
                    new: Vec::new(),
                    changed: Vec::new(),
                });
            }
        }
        let stored = db::fetch_range(conn, self.table, &range).await?;
        let mut stored = stored.into_iter().peekable();
        let mut verdict = Verdict {
            new: Vec::new(),
            changed: Vec::new(),
        };
        for row in chunk {
            let key = key_tuple(&row.key);
            while stored.peek().is_some_and(|s| s.key() < key) {
                stored.next();
            }
            match stored.peek() {
                Some(s) if s.key() == key => {
                    let same = s.decimal()? == row.value
                        && (self.table == SeriesTable::Targets
                            || (s.qualifier == row.qualifier.code()
                                && s.note.as_deref() == row.note.as_deref()))
                        && self.source_id(&row) == Ok(s.source_id);
                    if same {
                        self.unchanged += 1;
                    } else {
                        verdict.changed.push(row);
                    }
                }
                _ => verdict.new.push(row),
            }
        }
        Ok(verdict)
    }
}

/// Gathers rows into `LOAD DATA` input and sends it in large statements.
struct Writer {
    table: SeriesTable,
    new_buf: Vec<u8>,
    changed_buf: Vec<u8>,
    sources: std::collections::HashMap<Arc<str>, u32>,
    inserted: u64,
    changed: u64,
    change_table_ready: bool,
}

impl Writer {
    fn new(table: SeriesTable) -> Self {
        Self {
            table,
            new_buf: Vec::new(),
            changed_buf: Vec::new(),
            sources: std::collections::HashMap::new(),
            inserted: 0,
            changed: 0,
            change_table_ready: false,
        }
    }

    async fn source_id(
        &mut self,
        conn: &mut AsyncMysqlConnection,
        row: &SeriesRow,
    ) -> Result<Option<u32>, ansinh_store::StoreError> {
        let Some(name) = &row.source else {
            return Ok(None);
        };
        if let Some(&id) = self.sources.get(name) {
            return Ok(Some(id));
        }
        let id = db::ensure_source(conn, name).await?;
        self.sources.insert(Arc::clone(name), id);
        Ok(Some(id))
    }

    async fn add(
        &mut self,
        conn: &mut AsyncMysqlConnection,
        buffers: &InfileBuffers,
        verdict: Verdict,
    ) -> Result<(), ansinh_store::StoreError> {
        for (rows, changed) in [(verdict.new, false), (verdict.changed, true)] {
            for row in rows {
                let source_id = self.source_id(conn, &row).await?;
                let buf = if changed {
                    &mut self.changed_buf
                } else {
                    &mut self.new_buf
                };
                db::append_load_row(
                    self.table,
                    buf,
                    key_tuple(&row.key),
                    row.value,
                    row.qualifier.code(),
                    source_id,
                    row.note.as_deref(),
                );
                if changed {
                    self.changed += 1;
                } else {
                    self.inserted += 1;
                }
            }
        }
        if self.new_buf.len() >= LOAD_BYTES {
            db::load_new_rows(conn, buffers, self.table, std::mem::take(&mut self.new_buf)).await?;
        }
        if self.changed_buf.len() >= LOAD_BYTES {
            self.flush_changes(conn, buffers).await?;
        }
        Ok(())
    }

    async fn flush_changes(
        &mut self,
        conn: &mut AsyncMysqlConnection,
        buffers: &InfileBuffers,
    ) -> Result<(), ansinh_store::StoreError> {
        if !self.change_table_ready {
            db::create_change_table(conn, self.table).await?;
            self.change_table_ready = true;
        }
        db::load_changes(
            conn,
            buffers,
            self.table,
            std::mem::take(&mut self.changed_buf),
        )
        .await
    }

    async fn finish(
        &mut self,
        conn: &mut AsyncMysqlConnection,
        buffers: &InfileBuffers,
    ) -> Result<(), ansinh_store::StoreError> {
        if !self.new_buf.is_empty() {
            db::load_new_rows(conn, buffers, self.table, std::mem::take(&mut self.new_buf)).await?;
        }
        if !self.changed_buf.is_empty() {
            self.flush_changes(conn, buffers).await?;
        }
        Ok(())
    }
}
