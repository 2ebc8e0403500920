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
//! do overlap, the reader starts over and sorts all rows in memory (see `Message::Restart`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ansinh_model::{NumberLocale, Qualifier};
use ansinh_store::AsyncMysqlConnection;
use ansinh_store::import::{self as db, InfileBuffers, KeyRange, SeriesTable};
use tokio::sync::mpsc;

use crate::diff::{Diff, DiffKey, Figure, Insert, Update, period_text};
use crate::kind::Kind;
use crate::problem::Problem;
use crate::read::source::Source;
use crate::read::{Format, Input};
use crate::reference::Reference;
use crate::validate::{SeriesKey, SeriesRow, Validator};

/// Rows per chunk: enough that a digest query is worth its round trip, few enough that a
/// chunk's rows (and the stored rows of its range) are a few megabytes.
pub const CHUNK_ROWS: usize = 8192;

/// Chunks the reader may be ahead of the comparison.
const READ_AHEAD_CHUNKS: usize = 4;

/// Bytes of new rows per piece of the streamed `LOAD DATA`.
const PIECE_BYTES: usize = 256 << 10;

/// Pieces sent and not yet taken by the driver.
const PIECES_IN_FLIGHT: usize = 4;

/// Bytes of changed rows gathered before they are loaded into the change table.
const CHANGE_BYTES: usize = 8 << 20;

/// One file of the run that holds observations or targets.
#[derive(Debug, Clone)]
pub struct SeriesFile {
    pub source: Source,
    pub label: Arc<str>,
    pub format: Format,
    pub file_no: u16,
}

/// Counters the progress display reads.
#[derive(Debug, Default)]
pub struct Progress {
    /// Rows of observations and targets read so far.
    pub rows: AtomicU64,
    /// Bytes of the observations and targets files read so far.
    pub bytes: AtomicU64,
    /// The size of the run's observations and targets files, once the run has looked at them.
    pub total_bytes: AtomicU64,
}

#[derive(Debug, Default, Clone)]
pub struct SeriesCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// The rows that change, when the run was asked for them.
    pub diff: Option<Diff>,
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
        // Bytes of the files read to the end before this one.
        let mut done_bytes = 0u64;
        for file in files {
            let mut input = match Input::open_source(
                &file.source,
                Arc::clone(&file.label),
                file.format,
                Some(kind),
            ) {
                Ok(input) => input,
                Err(p) => {
                    problems.extend(p);
                    continue;
                }
            };
            let mut validator =
                Validator::new(reference, locale, Arc::clone(&file.label), file.file_no);
            let position = input.position();
            let mut rows = 0u64;
            let mut row_problems = Vec::new();
            let mut form_problems = Vec::new();
            input.for_each_row(&mut form_problems, |row| {
                rows += 1;
                if rows.is_multiple_of(4096) {
                    progress.rows.fetch_add(4096, Ordering::Relaxed);
                    progress.bytes.store(
                        done_bytes + position.load(Ordering::Relaxed),
                        Ordering::Relaxed,
                    );
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
            done_bytes += position.load(Ordering::Relaxed);
            progress.bytes.store(done_bytes, Ordering::Relaxed);
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
            progress.bytes.store(0, Ordering::Relaxed);
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

/// Why feeding the streamed load of new rows stopped: the data connection is needed.
enum Pause {
    /// All input is read, checked and written (changed rows may still wait in the writer).
    Done,
    /// The reader starts over with sorted input: roll back to the savepoint.
    Restart,
    /// These sources are not stored yet; the verdict waiting in `pending` needs them.
    Sources(Vec<Arc<str>>),
    /// Enough changed rows to load into the change table.
    Changes,
}

/// Loads the observations (or targets) files of a run on `data` (inside the run's
/// transaction, after a savepoint) comparing on `compare`. Row problems and same-key
/// conflicts go to `problems`; writing stops at the first conflict, as the run will roll back.
///
/// New rows go to the server as one streamed `LOAD DATA` while the reader and the comparison
/// go on; the stream is cut only when the data connection is needed for something else (a
/// source to store, a batch of changed rows, a restart).
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
    diff: bool,
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
    // Into an empty table every row is new: nothing to compare (a first import, a backfill).
    let into_empty = db::table_is_empty(compare, table).await?;
    if into_empty {
        tracing::info!(table = ?table, "the table is empty: every row is new");
    }

    let (tx, mut rx) = mpsc::channel::<Message>(READ_AHEAD_CHUNKS);
    let reader = {
        let reference = Arc::clone(&reference);
        let progress = Arc::clone(&progress);
        std::thread::spawn(move || read_files(&files, kind, &reference, locale, &progress, &tx))
    };

    let mut state = Comparer::new(table, &reference, labels, into_empty, diff);
    let mut writer = Writer::new(table, Arc::clone(&reference));
    let mut pending: Option<Verdict> = None;
    loop {
        let (pieces_tx, pieces_rx) = mpsc::channel::<Vec<u8>>(PIECES_IN_FLIGHT);
        let (loaded, fed) = tokio::join!(
            db::load_new_rows(data, buffers, table, pieces_rx),
            feed(
                &mut rx,
                &mut state,
                &mut writer,
                &mut pending,
                compare,
                pieces_tx
            ),
        );
        // A failed load closes the stream, so the feeder fails too: the load's error is the
        // cause.
        loaded?;
        match fed? {
            Pause::Done => break,
            Pause::Restart => {
                diesel_async::SimpleAsyncConnection::batch_execute(
                    data,
                    "ROLLBACK TO SAVEPOINT ansinh_series",
                )
                .await?;
                state = Comparer::new(table, &reference, labels, into_empty, diff);
                writer = Writer::new(table, Arc::clone(&reference));
                pending = None;
            }
            Pause::Sources(names) => {
                for name in names {
                    let id = db::ensure_source(data, &name).await?;
                    writer.sources.insert(name, id);
                }
            }
            Pause::Changes => writer.flush_changes(data, buffers).await?,
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
        if !writer.changed_buf.is_empty() {
            writer.flush_changes(data, buffers).await?;
        }
        if writer.changed > 0 {
            db::apply_changes(data, table, run_id).await?;
        }
    }
    Ok(SeriesCounts {
        inserted: writer.inserted,
        updated: writer.changed,
        unchanged: state.unchanged,
        diff: state.diff,
    })
}

/// Takes chunks from the reader, compares them and writes their rows (new ones to `out`)
/// until the data connection is needed.
async fn feed(
    rx: &mut mpsc::Receiver<Message>,
    state: &mut Comparer<'_>,
    writer: &mut Writer,
    pending: &mut Option<Verdict>,
    compare: &mut AsyncMysqlConnection,
    out: mpsc::Sender<Vec<u8>>,
) -> Result<Pause, ansinh_store::StoreError> {
    loop {
        let verdict = match pending.take() {
            Some(verdict) => verdict,
            None => match rx.recv().await {
                None => {
                    writer.send_new(&out).await?;
                    return Ok(Pause::Done);
                }
                Some(Message::Restart) => return Ok(Pause::Restart),
                Some(Message::Chunk(chunk)) => {
                    let verdict = state.compare(compare, chunk).await?;
                    if !state.conflicts.is_empty() {
                        // The run is rejected; keep reading to find every problem.
                        continue;
                    }
                    verdict
                }
            },
        };
        let missing = writer.missing_sources(&verdict);
        if !missing.is_empty() {
            *pending = Some(verdict);
            writer.send_new(&out).await?;
            return Ok(Pause::Sources(missing));
        }
        writer.add(verdict, &out).await?;
        if writer.changed_buf.len() >= CHANGE_BYTES {
            writer.send_new(&out).await?;
            return Ok(Pause::Changes);
        }
    }
}

/// A row and its [`db::row_digest`], when its source was known as it was compared.
struct Digested {
    row: SeriesRow,
    digest: Option<u64>,
}

/// New and changed rows of one chunk.
struct Verdict {
    new: Vec<Digested>,
    changed: Vec<Digested>,
}

struct Comparer<'a> {
    table: SeriesTable,
    reference: &'a Reference,
    labels: &'a [Arc<str>],
    /// The table held no rows when the run began: every row is new, nothing is read back.
    all_new: bool,
    unchanged: u64,
    conflicts: Vec<Problem>,
    /// The rows that change, compared with what is stored; `None` unless asked for.
    diff: Option<Diff>,
    text: Vec<u8>,
}

impl<'a> Comparer<'a> {
    fn new(
        table: SeriesTable,
        reference: &'a Reference,
        labels: &'a [Arc<str>],
        all_new: bool,
        diff: bool,
    ) -> Self {
        Self {
            table,
            reference,
            labels,
            all_new,
            unchanged: 0,
            conflicts: Vec::new(),
            diff: diff.then(Diff::default),
            text: Vec::new(),
        }
    }

    /// Lists `row` among the diff's inserts, when a diff is kept and has room.
    fn note_insert(&mut self, row: &SeriesRow) {
        let targets = self.table == SeriesTable::Targets;
        if let Some(diff) = &mut self.diff
            && diff.lists_insert()
        {
            diff.inserts.push(Insert {
                key: DiffKey::new(targets, &row.key, self.reference),
                new: Figure::new_row(targets, row),
            });
        }
    }

    /// Lists `row` among the diff's updates, beside `stored`, when a diff is kept and has room.
    fn note_update(
        &mut self,
        row: &SeriesRow,
        stored: &db::StoredSeriesRow,
    ) -> Result<(), ansinh_store::StoreError> {
        let targets = self.table == SeriesTable::Targets;
        if let Some(diff) = &mut self.diff
            && diff.lists_update()
        {
            let qualifier = Qualifier::from_code(stored.qualifier).ok_or_else(|| {
                ansinh_store::StoreError::Corrupt(format!(
                    "qualifier code {} is not known",
                    stored.qualifier
                ))
            })?;
            let source = stored
                .source_id
                .map(|id| self.reference.source_name(id).unwrap_or("?").to_owned());
            diff.updates.push(Update {
                key: DiffKey::new(targets, &row.key, self.reference),
                old: Figure::new(
                    targets,
                    stored.decimal()?,
                    qualifier,
                    source,
                    stored.note.clone(),
                ),
                new: Figure::new_row(targets, row),
            });
        }
        Ok(())
    }

    fn source_id(&self, row: &SeriesRow) -> Result<Option<u32>, ()> {
        match &row.source {
            None => Ok(None),
            Some(name) => self.reference.source(name).map(Some).ok_or(()),
        }
    }

    /// The row's digest as it would be stored; `None` when its source is not stored yet.
    fn digest(&mut self, row: &SeriesRow) -> Option<u64> {
        let source = self.source_id(row).ok()?;
        Some(digest(self.table, row, source, &mut self.text))
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
        let period = period_text(&first.key);
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
    ) -> Result<Verdict, ansinh_store::StoreError> {
        let chunk = self.dedup(chunk);
        if self.all_new {
            let new = chunk
                .into_iter()
                .map(|row| {
                    self.note_insert(&row);
                    let digest = self.digest(&row);
                    Digested { row, digest }
                })
                .collect();
            return Ok(Verdict {
                new,
                changed: Vec::new(),
            });
        }
        let range = KeyRange {
            first: key_tuple(&chunk[0].key),
            last: key_tuple(&chunk[chunk.len() - 1].key),
        };
        // The rows' digests are needed in every case (to compare, or to store with new and
        // changed rows): compute them while the server sums the range.
        let table = self.table;
        let (stored, digests) = tokio::join!(db::digest_range(conn, table, &range), async {
            chunk.iter().map(|row| self.digest(row)).collect::<Vec<_>>()
        });
        let stored = stored?;
        let mut rows = chunk
            .into_iter()
            .zip(digests)
            .map(|(row, digest)| Digested { row, digest });
        if stored.count == 0 {
            let new: Vec<Digested> = rows.collect();
            for digested in &new {
                self.note_insert(&digested.row);
            }
            return Ok(Verdict {
                new,
                changed: Vec::new(),
            });
        }
        let rows: Vec<Digested> = rows.by_ref().collect();
        if stored.count == rows.len() as u64 {
            let digest = rows
                .iter()
                .try_fold(0u64, |acc, row| row.digest.map(|d| acc ^ d));
            if digest == Some(stored.digest) {
                self.unchanged += rows.len() as u64;
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
        for digested in rows {
            let row = &digested.row;
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
                        && self.source_id(row) == Ok(s.source_id);
                    if same {
                        self.unchanged += 1;
                    } else {
                        self.note_update(row, s)?;
                        verdict.changed.push(digested);
                    }
                }
                _ => {
                    self.note_insert(row);
                    verdict.new.push(digested);
                }
            }
        }
        Ok(verdict)
    }
}

/// The digest of `row` as stored with `source` as its source id.
fn digest(table: SeriesTable, row: &SeriesRow, source: Option<u32>, text: &mut Vec<u8>) -> u64 {
    let (qualifier, note) = match table {
        SeriesTable::Observations => (row.qualifier.code(), row.note.as_deref()),
        SeriesTable::Targets => (0, None),
    };
    db::row_digest(
        key_tuple(&row.key),
        row.value,
        qualifier,
        Ok(source),
        note,
        text,
    )
}

/// Turns rows into `LOAD DATA` input: new rows in pieces for the streamed load, changed rows
/// in batches for the change table.
struct Writer {
    table: SeriesTable,
    reference: Arc<Reference>,
    new_buf: Vec<u8>,
    changed_buf: Vec<u8>,
    /// Sources the run stored.
    sources: HashMap<Arc<str>, u32>,
    inserted: u64,
    changed: u64,
    change_table_ready: bool,
    text: Vec<u8>,
}

impl Writer {
    fn new(table: SeriesTable, reference: Arc<Reference>) -> Self {
        Self {
            table,
            reference,
            new_buf: Vec::with_capacity(PIECE_BYTES + (64 << 10)),
            changed_buf: Vec::new(),
            sources: HashMap::new(),
            inserted: 0,
            changed: 0,
            change_table_ready: false,
            text: Vec::new(),
        }
    }

    fn source_id(&self, name: &str) -> Option<u32> {
        self.reference
            .source(name)
            .or_else(|| self.sources.get(name).copied())
    }

    /// Sources of `verdict`'s rows that are not stored yet, each once.
    fn missing_sources(&self, verdict: &Verdict) -> Vec<Arc<str>> {
        let mut missing: Vec<Arc<str>> = Vec::new();
        for digested in verdict.new.iter().chain(&verdict.changed) {
            if let Some(name) = &digested.row.source
                && self.source_id(name).is_none()
                && !missing.contains(name)
            {
                missing.push(Arc::clone(name));
            }
        }
        missing
    }

    /// Writes the rows of `verdict`, whose sources are all stored; full pieces of new rows go
    /// to `out`.
    async fn add(
        &mut self,
        verdict: Verdict,
        out: &mpsc::Sender<Vec<u8>>,
    ) -> Result<(), ansinh_store::StoreError> {
        for (rows, changed) in [(verdict.new, false), (verdict.changed, true)] {
            for Digested { row, digest: known } in rows {
                let source_id = match &row.source {
                    None => None,
                    Some(name) => Some(self.source_id(name).ok_or_else(|| {
                        ansinh_store::StoreError::Corrupt(format!("source {name:?} not stored"))
                    })?),
                };
                let digest =
                    known.unwrap_or_else(|| digest(self.table, &row, source_id, &mut self.text));
                let buf = if changed {
                    self.changed += 1;
                    &mut self.changed_buf
                } else {
                    self.inserted += 1;
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
                    digest,
                );
            }
            if self.new_buf.len() >= PIECE_BYTES {
                self.send_new(out).await?;
            }
        }
        Ok(())
    }

    /// Sends the new rows gathered so far to the streamed load.
    async fn send_new(
        &mut self,
        out: &mpsc::Sender<Vec<u8>>,
    ) -> Result<(), ansinh_store::StoreError> {
        if self.new_buf.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(
            &mut self.new_buf,
            Vec::with_capacity(PIECE_BYTES + (64 << 10)),
        );
        out.send(piece).await.map_err(|_| {
            ansinh_store::StoreError::Corrupt("the load of new rows stopped early".to_owned())
        })
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
}
