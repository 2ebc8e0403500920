//! CSV files: a header naming the columns in any order, then one record per row, streamed
//! through one reused record buffer so that memory stays flat in the file size. Problems name
//! the physical line a record starts on, whatever the newlines (LF, CRLF, or inside quotes).

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use super::row::{MAX_COLUMNS, Row, header_slots, strip_bom};
use crate::kind::Kind;
use crate::problem::Problem;

/// A CSV file whose header has been read.
pub(super) struct CsvFile<R> {
    reader: csv::Reader<NewlineLog<R>>,
    /// For each CSV column, the slot it fills.
    slots: Vec<usize>,
}

impl<R: io::Read> CsvFile<R> {
    /// Reads the header of `file`: the kind is `kind` when given, else the one its columns
    /// name (see [`header_slots`]).
    pub(super) fn open(
        file: R,
        label: &Arc<str>,
        kind: Option<Kind>,
    ) -> Result<(Kind, Self), Vec<Problem>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(256 * 1024)
            .from_reader(NewlineLog::new(file));
        let header = reader
            .byte_headers()
            .map_err(|e| vec![Problem::new(label, 1, "", csv_reason(&e), None)])?;
        if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
            return Err(vec![Problem::new(
                label,
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
                            label,
                            1,
                            "",
                            "header is not valid UTF-8",
                            None,
                        )]
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (kind, slots) = header_slots(label, &names, kind)?;
        Ok((kind, CsvFile { reader, slots }))
    }

    /// Calls `on_row` for every record but blank lines; a record of the wrong width or with
    /// text that is not UTF-8 is a problem instead, and reading goes on.
    pub(super) fn for_each_row(
        &mut self,
        label: &Arc<str>,
        kind: Kind,
        problems: &mut Vec<Problem>,
        on_row: &mut impl FnMut(&Row<'_>),
    ) {
        let width = kind.columns().count();
        let Self { reader, slots } = self;
        let mut record = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    problems.push(Problem::new(label, line, "", csv_reason(&e), None));
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
                    label,
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
                            label,
                            line,
                            kind.columns().nth(slot).unwrap_or_default(),
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
}

/// The line a CSV record starts on.
///
/// The csv crate's positions count a CRLF's `\n` into the next record, so they are off by
/// one or more; this counts the newlines before the record's last byte instead and steps
/// back over the newlines quoted inside its fields.
fn record_line<R: io::Read>(
    reader: &mut csv::Reader<NewlineLog<R>>,
    record: &csv::ByteRecord,
) -> u64 {
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
    pending: VecDeque<u64>,
    counted: u64,
}

impl<R> NewlineLog<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            read: 0,
            pending: VecDeque::new(),
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
