//! Observations and targets in bulk: per-key-range digests and reads for comparing incoming
//! rows with stored ones, `LOAD DATA` of new rows straight into the table, and changed rows
//! through a temporary table into the table and (for observations) into its history.
//!
//! The row digest is defined twice, once in SQL ([`SeriesTable`]'s digest statement) and
//! once in Rust ([`row_digest`]); they sit together here so they can only change together.

use std::io::Write as _;

use ansinh_model::{Decimal, NaiveDate};
use bytes::Bytes;
use chrono::Datelike;
use diesel::OptionalExtension as _;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, TinyInt, Unsigned};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};
use sha2::{Digest, Sha256};

use futures_util::StreamExt;

use super::{InfileBuffers, Result};
use crate::StoreError;

/// The two tables keyed by (region, indicator, period end, period start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesTable {
    Observations,
    Targets,
}

/// An inclusive range of primary keys `(region_id, indicator_id, period_end, period_start)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange {
    pub first: (u32, u32, NaiveDate, NaiveDate),
    pub last: (u32, u32, NaiveDate, NaiveDate),
}

/// How many rows a key range holds and the XOR of their [`row_digest`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RangeDigest {
    pub count: u64,
    pub digest: u64,
}

#[derive(diesel::QueryableByName)]
struct DigestRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Text>)]
    digest: Option<String>,
}

/// One stored row, as the comparison needs it.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct StoredSeriesRow {
    #[diesel(sql_type = Unsigned<Integer>)]
    pub region_id: u32,
    #[diesel(sql_type = Unsigned<Integer>)]
    pub indicator_id: u32,
    #[diesel(sql_type = Date)]
    pub period_end: NaiveDate,
    #[diesel(sql_type = Date)]
    pub period_start: NaiveDate,
    #[diesel(sql_type = Text)]
    pub value: String,
    #[diesel(sql_type = Unsigned<TinyInt>)]
    pub qualifier: u8,
    #[diesel(sql_type = Nullable<Unsigned<Integer>>)]
    pub source_id: Option<u32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
}

impl StoredSeriesRow {
    pub fn key(&self) -> (u32, u32, NaiveDate, NaiveDate) {
        (
            self.region_id,
            self.indicator_id,
            self.period_end,
            self.period_start,
        )
    }

    pub fn decimal(&self) -> Result<Decimal> {
        self.value
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("value {:?} is not a decimal", self.value)))
    }
}

// The digest of a row (see [`row_digest`]) is stored with the row in `row_digest` when the
// importer writes it, so comparing a key range costs the server a range scan summing one
// integer column, on MariaDB and MySQL alike. XOR over a range makes the range digest
// independent of row order.
const OBSERVATION_DIGEST_SQL: &str = "SELECT COUNT(*) AS n, CAST(BIT_XOR(row_digest) AS CHAR) AS digest \
    FROM observations WHERE region_id BETWEEN ? AND ? \
    AND (region_id, indicator_id, period_end, period_start) >= (?, ?, ?, ?) \
    AND (region_id, indicator_id, period_end, period_start) <= (?, ?, ?, ?)";
const TARGET_DIGEST_SQL: &str = "SELECT COUNT(*) AS n, CAST(BIT_XOR(row_digest) AS CHAR) AS digest \
    FROM targets WHERE region_id BETWEEN ? AND ? \
    AND (region_id, indicator_id, period_end, period_start) >= (?, ?, ?, ?) \
    AND (region_id, indicator_id, period_end, period_start) <= (?, ?, ?, ?)";

/// [`row_digest`] of a stored observation, in SQL (MariaDB and MySQL 8): the migration that
/// added `row_digest` fills it with this, and tests hold the Rust side to it.
pub const OBSERVATION_DIGEST_EXPR: &str = "CAST(CONV(LEFT(SHA2(CONCAT_WS('|', region_id, indicator_id, period_end, period_start, value, qualifier, IFNULL(source_id, ''), IFNULL(note, '')), 256), 16), 16, 10) AS UNSIGNED)";
/// [`row_digest`] of a stored target, in SQL (qualifier 0, no note).
pub const TARGET_DIGEST_EXPR: &str = "CAST(CONV(LEFT(SHA2(CONCAT_WS('|', region_id, indicator_id, period_end, period_start, target, 0, IFNULL(source_id, ''), ''), 256), 16), 16, 10) AS UNSIGNED)";

const OBSERVATION_FETCH_SQL: &str = "SELECT region_id, indicator_id, period_end, period_start, CAST(value AS CHAR) AS value, qualifier, source_id, note \
    FROM observations WHERE region_id BETWEEN ? AND ? \
    AND (region_id, indicator_id, period_end, period_start) >= (?, ?, ?, ?) \
    AND (region_id, indicator_id, period_end, period_start) <= (?, ?, ?, ?) \
    ORDER BY region_id, indicator_id, period_end, period_start";
const TARGET_FETCH_SQL: &str = "SELECT region_id, indicator_id, period_end, period_start, CAST(target AS CHAR) AS value, CAST(0 AS UNSIGNED) AS qualifier, source_id, CAST(NULL AS CHAR) AS note \
    FROM targets WHERE region_id BETWEEN ? AND ? \
    AND (region_id, indicator_id, period_end, period_start) >= (?, ?, ?, ?) \
    AND (region_id, indicator_id, period_end, period_start) <= (?, ?, ?, ?) \
    ORDER BY region_id, indicator_id, period_end, period_start";

// LOAD DATA cannot take binds; the file name is a fixed word the infile handler looks up, and
// the run id comes from the session variable set by `set_run_variable`.
const OBSERVATION_LOAD_NEW: &str = "LOAD DATA LOCAL INFILE 'ansinh-new-observations' INTO TABLE observations CHARACTER SET utf8mb4 \
    (region_id, indicator_id, period_end, period_start, value, qualifier, source_id, note, row_digest) SET import_run_id = @ansinh_run";
const TARGET_LOAD_NEW: &str = "LOAD DATA LOCAL INFILE 'ansinh-new-targets' INTO TABLE targets CHARACTER SET utf8mb4 \
    (region_id, indicator_id, period_end, period_start, target, @qualifier, source_id, @note, row_digest) SET import_run_id = @ansinh_run";
const OBSERVATION_LOAD_CHANGES: &str = "LOAD DATA LOCAL INFILE 'ansinh-changed-observations' INTO TABLE import_changed_observations CHARACTER SET utf8mb4 \
    (region_id, indicator_id, period_end, period_start, value, qualifier, source_id, note, row_digest) SET import_run_id = @ansinh_run";
const TARGET_LOAD_CHANGES: &str = "LOAD DATA LOCAL INFILE 'ansinh-changed-targets' INTO TABLE import_changed_targets CHARACTER SET utf8mb4 \
    (region_id, indicator_id, period_end, period_start, target, @qualifier, source_id, @note, row_digest) SET import_run_id = @ansinh_run";

impl SeriesTable {
    fn digest_sql(self) -> &'static str {
        match self {
            SeriesTable::Observations => OBSERVATION_DIGEST_SQL,
            SeriesTable::Targets => TARGET_DIGEST_SQL,
        }
    }

    fn fetch_sql(self) -> &'static str {
        match self {
            SeriesTable::Observations => OBSERVATION_FETCH_SQL,
            SeriesTable::Targets => TARGET_FETCH_SQL,
        }
    }

    fn new_infile(self) -> (&'static str, &'static str) {
        match self {
            SeriesTable::Observations => ("ansinh-new-observations", OBSERVATION_LOAD_NEW),
            SeriesTable::Targets => ("ansinh-new-targets", TARGET_LOAD_NEW),
        }
    }

    fn changes_infile(self) -> (&'static str, &'static str) {
        match self {
            SeriesTable::Observations => ("ansinh-changed-observations", OBSERVATION_LOAD_CHANGES),
            SeriesTable::Targets => ("ansinh-changed-targets", TARGET_LOAD_CHANGES),
        }
    }
}

/// The digest of one row: the first 8 bytes (big-endian) of the SHA-256 of the columns joined
/// with '|' exactly as MariaDB's and MySQL's `CONCAT_WS` print them (DECIMAL(24,6) with six
/// decimals, dates as YYYY-MM-DD, NULL as empty) — [`OBSERVATION_DIGEST_EXPR`] in SQL.
/// `source_id` is `Err(())` for a source not stored yet: then the row cannot match any
/// stored row, and the digest says so. `text` is scratch space.
///
/// A cryptographic hash, not a CRC: CRCs are linear, so the XOR of the CRCs of two rows whose
/// values were swapped (texts of equal length) equals the XOR before the swap, and a range
/// digest built from them would call such a change "unchanged".
pub fn row_digest(
    key: (u32, u32, NaiveDate, NaiveDate),
    value: Decimal,
    qualifier: u8,
    source_id: Result<Option<u32>, ()>,
    note: Option<&str>,
    text: &mut Vec<u8>,
) -> u64 {
    text.clear();
    push_figure_columns(text, key, value, qualifier, b'|');
    match source_id {
        Ok(Some(id)) => push_u32(text, id),
        Ok(None) => {}
        Err(()) => text.extend_from_slice(b"new source"),
    }
    text.push(b'|');
    text.extend_from_slice(note.unwrap_or("").as_bytes());
    let hash = Sha256::digest(&text[..]);
    let mut head = [0u8; 8];
    head.copy_from_slice(&hash[..8]);
    u64::from_be_bytes(head)
}

/// The columns a digest and a load row share, in table order, each followed by `separator`:
/// region, indicator, period end, period start, value (six decimals), qualifier.
fn push_figure_columns(
    buf: &mut Vec<u8>,
    (region, indicator, end, start): (u32, u32, NaiveDate, NaiveDate),
    value: Decimal,
    qualifier: u8,
    separator: u8,
) {
    push_u32(buf, region);
    buf.push(separator);
    push_u32(buf, indicator);
    buf.push(separator);
    push_date(buf, end);
    buf.push(separator);
    push_date(buf, start);
    buf.push(separator);
    push_decimal6(buf, value);
    buf.push(separator);
    push_u32(buf, u32::from(qualifier));
    buf.push(separator);
}

fn push_u32(buf: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[at..]);
}

/// YYYY-MM-DD, as the server prints a DATE.
fn push_date(buf: &mut Vec<u8>, date: NaiveDate) {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        let _ = write!(buf, "{date}");
        return;
    }
    let year = year as u32;
    let (month, day) = (date.month(), date.day());
    buf.extend_from_slice(&[
        b'0' + (year / 1000) as u8,
        b'0' + (year / 100 % 10) as u8,
        b'0' + (year / 10 % 10) as u8,
        b'0' + (year % 10) as u8,
        b'-',
        b'0' + (month / 10) as u8,
        b'0' + (month % 10) as u8,
        b'-',
        b'0' + (day / 10) as u8,
        b'0' + (day % 10) as u8,
    ]);
}

/// The value with exactly six decimals, as the server prints a DECIMAL(24,6).
fn push_decimal6(buf: &mut Vec<u8>, value: Decimal) {
    const SCALE: u32 = 6;
    let scale = value.scale();
    if scale > SCALE {
        // Not a storable value (validation keeps six decimals at most): print it rounded, as
        // the server would store it.
        let _ = write!(
            buf,
            "{:.6}",
            value.round_dp_with_strategy(
                SCALE,
                rust_decimal::RoundingStrategy::MidpointAwayFromZero
            )
        );
        return;
    }
    let scaled = value.mantissa() * 10i128.pow(SCALE - scale);
    if scaled < 0 {
        buf.push(b'-');
    }
    let magnitude = scaled.unsigned_abs();
    let _ = write!(
        buf,
        "{}.{:06}",
        magnitude / 1_000_000,
        magnitude % 1_000_000
    );
}

/// Appends one row in the layout the `LOAD DATA` statements read: tab-separated, `\N` for
/// NULL, backslash escapes for tab, newline and backslash in text. `digest` is the row's
/// [`row_digest`] (with its source id resolved).
#[allow(clippy::too_many_arguments)]
pub fn append_load_row(
    table: SeriesTable,
    buf: &mut Vec<u8>,
    key: (u32, u32, NaiveDate, NaiveDate),
    value: Decimal,
    qualifier: u8,
    source_id: Option<u32>,
    note: Option<&str>,
    digest: u64,
) {
    push_figure_columns(buf, key, value, qualifier, b'\t');
    match source_id {
        Some(id) => push_u32(buf, id),
        None => buf.extend_from_slice(b"\\N"),
    }
    buf.push(b'\t');
    match note {
        Some(note) if table == SeriesTable::Observations => {
            for &b in note.as_bytes() {
                match b {
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\0' => buf.extend_from_slice(b"\\0"),
                    _ => buf.push(b),
                }
            }
        }
        _ => buf.extend_from_slice(b"\\N"),
    }
    buf.push(b'\t');
    let _ = write!(buf, "{digest}");
    buf.push(b'\n');
}

macro_rules! bind_range {
    ($query:expr, $range:expr) => {{
        let r = $range;
        $query
            .bind::<Unsigned<Integer>, _>(r.first.0)
            .bind::<Unsigned<Integer>, _>(r.last.0)
            .bind::<Unsigned<Integer>, _>(r.first.0)
            .bind::<Unsigned<Integer>, _>(r.first.1)
            .bind::<Date, _>(r.first.2)
            .bind::<Date, _>(r.first.3)
            .bind::<Unsigned<Integer>, _>(r.last.0)
            .bind::<Unsigned<Integer>, _>(r.last.1)
            .bind::<Date, _>(r.last.2)
            .bind::<Date, _>(r.last.3)
    }};
}

/// Whether `table` holds no rows at all. Asked once per run, under the run lock: only
/// `ansinh-import` writes these tables, so the answer holds until the run commits, and every
/// row of the run is new.
pub async fn table_is_empty(conn: &mut AsyncMysqlConnection, table: SeriesTable) -> Result<bool> {
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = Integer)]
        stored: i32,
    }
    let sql = match table {
        SeriesTable::Observations => "SELECT EXISTS (SELECT 1 FROM observations) AS stored",
        SeriesTable::Targets => "SELECT EXISTS (SELECT 1 FROM targets) AS stored",
    };
    let Stored { stored } = diesel::sql_query(sql).get_result(conn).await?;
    Ok(stored == 0)
}

/// Count and digest of the stored rows in `range`.
pub async fn digest_range(
    conn: &mut AsyncMysqlConnection,
    table: SeriesTable,
    range: &KeyRange,
) -> Result<RangeDigest> {
    let row: DigestRow = bind_range!(diesel::sql_query(table.digest_sql()), range)
        .get_result(conn)
        .await?;
    let digest = match row.digest {
        Some(text) => text
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("digest {text:?} is not a number")))?,
        None => 0,
    };
    Ok(RangeDigest {
        count: u64::try_from(row.n).unwrap_or(0),
        digest,
    })
}

/// The stored rows in `range`, in key order.
pub async fn fetch_range(
    conn: &mut AsyncMysqlConnection,
    table: SeriesTable,
    range: &KeyRange,
) -> Result<Vec<StoredSeriesRow>> {
    Ok(bind_range!(diesel::sql_query(table.fetch_sql()), range)
        .load(conn)
        .await?)
}

/// Sets the run id that rows loaded on this connection are stamped with.
pub async fn set_run_variable(conn: &mut AsyncMysqlConnection, run_id: u64) -> Result<()> {
    diesel::sql_query("SET @ansinh_run = ?")
        .bind::<Unsigned<BigInt>, _>(run_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Loads rows made by [`append_load_row`] that are known to be new straight into the table,
/// as `pieces` brings them: one statement for as long as the sender lasts, so the caller goes
/// on reading and checking input while the server loads. Returns whether a statement ran
/// (none when the sender closed without sending anything).
pub async fn load_new_rows(
    conn: &mut AsyncMysqlConnection,
    buffers: &InfileBuffers,
    table: SeriesTable,
    mut pieces: tokio::sync::mpsc::Receiver<Vec<u8>>,
) -> Result<bool> {
    let Some(first) = pieces.recv().await else {
        return Ok(false);
    };
    let rest = futures_util::stream::unfold(pieces, |mut pieces| async move {
        pieces
            .recv()
            .await
            .map(|piece| (Bytes::from(piece), pieces))
    });
    let stream = futures_util::stream::once(std::future::ready(Bytes::from(first))).chain(rest);
    let (name, sql) = table.new_infile();
    // Every id in these rows was resolved from the stored reference data (or the run's own
    // writes) by the importer, under the run lock; checking the foreign key per row again
    // (the region's) only costs time. `unique_checks` stays on: with it off, MariaDB 10.11
    // loads an empty table in bulk (MDEV-24621), about a fifth faster, but holds the table
    // against readers meanwhile, and a reader estimating a range of it (any query the server
    // plans) hung unkillably until MariaDB was restarted (seen here, 10.11.19).
    conn.batch_execute("SET SESSION foreign_key_checks = 0")
        .await?;
    buffers.put_stream(name, Box::pin(stream));
    let result = load_infile(conn, sql).await;
    // Unread when the statement failed before asking for it: close it for the sender.
    buffers.discard(name);
    conn.batch_execute("SET SESSION foreign_key_checks = 1")
        .await?;
    result?;
    Ok(true)
}

/// Runs one `LOAD DATA LOCAL INFILE` statement and fails unless every row landed as sent.
///
/// With `LOCAL`, MySQL and MariaDB read the input as if `IGNORE` were given: a duplicate key
/// skips the row, a value that does not fit is cut to fit, and each is only a warning (with
/// `unique_checks = 0`, a MariaDB bulk insert into an empty table even drops all of the
/// statement's rows on one duplicate key while reporting them inserted). A warning therefore
/// means the data did not land as the importer meant it to, and the run must not commit.
async fn load_infile(conn: &mut AsyncMysqlConnection, sql: &str) -> Result<()> {
    #[derive(diesel::QueryableByName)]
    struct Warning {
        #[diesel(sql_type = Text, column_name = "Message")]
        message: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Warnings {
        #[diesel(sql_type = Unsigned<BigInt>)]
        warnings: u64,
    }
    conn.batch_execute(sql).await?;
    // Diagnostic statements, which keep the load's warnings; any other would clear them.
    let first: Option<Warning> = diesel::sql_query("SHOW WARNINGS LIMIT 1")
        .get_result(conn)
        .await
        .optional()?;
    let Some(first) = first else {
        return Ok(());
    };
    let Warnings { warnings } =
        diesel::sql_query("SELECT CAST(@@warning_count AS UNSIGNED) AS warnings")
            .get_result(conn)
            .await?;
    Err(StoreError::LoadNotAsSent(format!(
        "the server reported {warnings} warning(s) loading rows ({}), so not every row landed \
         as sent; the first: {}",
        sql.split(" CHARACTER SET").next().unwrap_or(sql),
        first.message
    )))
}

/// Creates (empty) the session's temporary table of changed rows for `table`.
pub async fn create_change_table(
    conn: &mut AsyncMysqlConnection,
    table: SeriesTable,
) -> Result<()> {
    let (drop, create) = match table {
        SeriesTable::Observations => (
            "DROP TEMPORARY TABLE IF EXISTS import_changed_observations",
            "CREATE TEMPORARY TABLE import_changed_observations LIKE observations",
        ),
        SeriesTable::Targets => (
            "DROP TEMPORARY TABLE IF EXISTS import_changed_targets",
            "CREATE TEMPORARY TABLE import_changed_targets LIKE targets",
        ),
    };
    diesel::sql_query(drop).execute(conn).await?;
    diesel::sql_query(create).execute(conn).await?;
    Ok(())
}

/// Loads rows made by [`append_load_row`] whose stored value differs into the change table.
pub async fn load_changes(
    conn: &mut AsyncMysqlConnection,
    buffers: &InfileBuffers,
    table: SeriesTable,
    data: Vec<u8>,
) -> Result<()> {
    let (name, sql) = table.changes_infile();
    buffers.put(name, Bytes::from(data));
    let result = load_infile(conn, sql).await;
    buffers.discard(name);
    result
}

/// Writes the change table over the stored rows; for observations the values they replace go
/// to `observation_history` first, marked as replaced by `run_id`. Returns the rows updated.
pub async fn apply_changes(
    conn: &mut AsyncMysqlConnection,
    table: SeriesTable,
    run_id: u64,
) -> Result<u64> {
    let updated = match table {
        SeriesTable::Observations => {
            diesel::sql_query(
                "INSERT INTO observation_history (region_id, indicator_id, period_end, period_start, value, qualifier, source_id, note, set_by_run_id, replaced_by_run_id, replaced_at) \
                 SELECT o.region_id, o.indicator_id, o.period_end, o.period_start, o.value, o.qualifier, o.source_id, o.note, o.import_run_id, ?, NOW(6) \
                 FROM observations o JOIN import_changed_observations c \
                 ON c.region_id = o.region_id AND c.indicator_id = o.indicator_id AND c.period_end = o.period_end AND c.period_start = o.period_start",
            )
            .bind::<Unsigned<BigInt>, _>(run_id)
            .execute(conn)
            .await?;
            diesel::sql_query(
                "UPDATE observations o JOIN import_changed_observations c \
                 ON c.region_id = o.region_id AND c.indicator_id = o.indicator_id AND c.period_end = o.period_end AND c.period_start = o.period_start \
                 SET o.value = c.value, o.qualifier = c.qualifier, o.source_id = c.source_id, o.note = c.note, o.import_run_id = c.import_run_id, o.row_digest = c.row_digest",
            )
            .execute(conn)
            .await?
        }
        SeriesTable::Targets => {
            diesel::sql_query(
                "UPDATE targets o JOIN import_changed_targets c \
                 ON c.region_id = o.region_id AND c.indicator_id = o.indicator_id AND c.period_end = o.period_end AND c.period_start = o.period_start \
                 SET o.target = c.target, o.source_id = c.source_id, o.import_run_id = c.import_run_id, o.row_digest = c.row_digest",
            )
            .execute(conn)
            .await?
        }
    };
    Ok(updated as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn row_digest_text_matches_what_concat_ws_prints() {
        let mut text = Vec::new();
        row_digest(
            (68, 3, d("2024-12-31"), d("2024-01-01")),
            "94.56".parse().unwrap(),
            0,
            Ok(Some(1)),
            None,
            &mut text,
        );
        assert_eq!(text, b"68|3|2024-12-31|2024-01-01|94.560000|0|1|");
        row_digest(
            (1, 2, d("2024-12-31"), d("2024-12-31")),
            "3818000000000".parse().unwrap(),
            1,
            Ok(None),
            Some("x"),
            &mut text,
        );
        assert_eq!(text, b"1|2|2024-12-31|2024-12-31|3818000000000.000000|1||x");
        row_digest(
            (4294967295, 0, d("0999-01-09"), d("0999-01-09")),
            "-0.000001".parse().unwrap(),
            4,
            Err(()),
            Some("đ"),
            &mut text,
        );
        assert_eq!(
            String::from_utf8(text.clone()).unwrap(),
            "4294967295|0|0999-01-09|0999-01-09|-0.000001|4|new source|đ"
        );
        // Zero has no sign, whatever the input said.
        row_digest(
            (1, 1, d("2024-01-01"), d("2024-01-01")),
            "-0.00".parse().unwrap(),
            0,
            Ok(None),
            None,
            &mut text,
        );
        assert_eq!(text, b"1|1|2024-01-01|2024-01-01|0.000000|0||");
    }

    #[test]
    fn swapped_values_change_the_range_digest() {
        // The XOR of linear checksums (CRC) cannot see two equal-length rows trade values.
        let mut text = Vec::new();
        let mut row = |region: u32, value: &str| {
            row_digest(
                (region, 1, d("2024-01-31"), d("2024-01-01")),
                value.parse().unwrap(),
                0,
                Ok(None),
                None,
                &mut text,
            )
        };
        let before = row(1, "1234") ^ row(2, "5678");
        let after = row(1, "5678") ^ row(2, "1234");
        assert_ne!(before, after);
    }

    #[test]
    fn load_rows_escape_text_and_nulls() {
        let mut buf = Vec::new();
        append_load_row(
            SeriesTable::Observations,
            &mut buf,
            (1, 2, d("2024-12-31"), d("2024-01-01")),
            "94.56".parse().unwrap(),
            0,
            None,
            Some("a\tb\\c\nd"),
            u64::MAX,
        );
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "1\t2\t2024-12-31\t2024-01-01\t94.560000\t0\t\\N\ta\\tb\\\\c\\nd\t18446744073709551615\n"
        );
    }

    #[test]
    fn the_migration_fills_digests_with_the_same_formula() {
        let up = include_str!(
            "../../migrations/2026-11-23-000005_importer_row_digests_and_fewer_indexes/up.sql"
        );
        for expr in [OBSERVATION_DIGEST_EXPR, TARGET_DIGEST_EXPR] {
            assert!(up.contains(&format!("SET row_digest = {expr};")), "{expr}");
        }
    }

    #[derive(diesel::QueryableByName)]
    struct SqlDigest {
        #[diesel(sql_type = Unsigned<BigInt>)]
        digest: u64,
    }

    /// Rows the server would skip or alter under `LOCAL`'s IGNORE semantics fail the load
    /// instead of landing short; rows it takes as sent load.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_load_the_server_did_not_take_as_sent_is_an_error() {
        let db = ansinh_test_db::TestDatabase::new().await;
        crate::run_pending_migrations(db.url()).await.unwrap();
        let buffers = InfileBuffers::default();
        let mut conn = super::super::connect(db.url(), buffers.clone())
            .await
            .unwrap();
        set_run_variable(&mut conn, 7).await.unwrap();
        let row = |region: u32, value: &str| {
            format!("{region}\t1\t2024-12-31\t2024-12-31\t{value}\t0\t\\N\t\\N\t5\n")
        };
        let load = |text: String| {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            tx.try_send(text.into_bytes()).unwrap();
            drop(tx);
            rx
        };
        async fn count(conn: &mut AsyncMysqlConnection) -> i64 {
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            diesel::sql_query("SELECT COUNT(*) AS n FROM observations")
                .get_result::<Count>(conn)
                .await
                .unwrap()
                .n
        }

        let good = format!("{}{}", row(1, "94.56"), row(2, "3818"));
        assert!(
            load_new_rows(&mut conn, &buffers, SeriesTable::Observations, load(good))
                .await
                .unwrap()
        );
        assert_eq!(count(&mut conn).await, 2);

        // The same key again: skipped with a warning under LOCAL.
        let duplicate = format!("{}{}", row(3, "1"), row(1, "94.56"));
        let error = load_new_rows(
            &mut conn,
            &buffers,
            SeriesTable::Observations,
            load(duplicate),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&error, StoreError::LoadNotAsSent(m) if m.contains("1 warning")),
            "{error:?}"
        );
        // A value that does not fit DECIMAL(24,6): cut to fit with a warning under LOCAL.
        let too_wide = row(4, "1234567890123456789012345");
        let error = load_new_rows(
            &mut conn,
            &buffers,
            SeriesTable::Observations,
            load(too_wide),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, StoreError::LoadNotAsSent(_)), "{error:?}");
    }

    /// The server's digest of stored rows (what the migration fills in) equals the importer's.
    #[tokio::test(flavor = "multi_thread")]
    async fn sql_digest_equals_row_digest() {
        let db = ansinh_test_db::TestDatabase::new().await;
        crate::run_pending_migrations(db.url()).await.unwrap();
        let mut conn = crate::connect(db.url()).await.unwrap();
        conn.batch_execute("SET SESSION foreign_key_checks = 0")
            .await
            .unwrap();
        // (region, value, period end, qualifier, source, note)
        type Row<'a> = (u32, &'a str, &'a str, u8, Option<u32>, Option<&'a str>);
        let rows: [Row<'_>; 5] = [
            (1, "94.56", "2024-01-01", 0, Some(7), None),
            (2, "-3818000000000.5", "2024-12-31", 1, None, Some("x")),
            (
                3,
                "0",
                "2024-12-31",
                4,
                Some(4294967295),
                Some("Đắk Nông | tab\there"),
            ),
            (
                4,
                "999999999999999999.999999",
                "1000-01-01",
                2,
                None,
                Some(""),
            ),
            (5, "0.000001", "9999-12-31", 3, None, None),
        ];
        let mut text = Vec::new();
        for (region, value, end, qualifier, source, note) in rows {
            let value: Decimal = value.parse().unwrap();
            let key = (region, 9, d(end), d(end));
            diesel::sql_query(
                "INSERT INTO observations (region_id, indicator_id, period_end, period_start, value, qualifier, source_id, note, import_run_id) \
                 VALUES (?, ?, ?, ?, CAST(? AS DECIMAL(24,6)), ?, ?, ?, 1)",
            )
            .bind::<Unsigned<Integer>, _>(key.0)
            .bind::<Unsigned<Integer>, _>(key.1)
            .bind::<Date, _>(key.2)
            .bind::<Date, _>(key.3)
            .bind::<Text, _>(value.to_string())
            .bind::<Unsigned<TinyInt>, _>(qualifier)
            .bind::<Nullable<Unsigned<Integer>>, _>(source)
            .bind::<Nullable<Text>, _>(note)
            .execute(&mut conn)
            .await
            .unwrap();
            diesel::sql_query(
                "INSERT INTO targets (region_id, indicator_id, period_end, period_start, target, source_id, import_run_id) \
                 VALUES (?, ?, ?, ?, CAST(? AS DECIMAL(24,6)), ?, 1)",
            )
            .bind::<Unsigned<Integer>, _>(key.0)
            .bind::<Unsigned<Integer>, _>(key.1)
            .bind::<Date, _>(key.2)
            .bind::<Date, _>(key.3)
            .bind::<Text, _>(value.to_string())
            .bind::<Nullable<Unsigned<Integer>>, _>(source)
            .execute(&mut conn)
            .await
            .unwrap();
            for (table, expr, expected) in [
                (
                    "observations",
                    OBSERVATION_DIGEST_EXPR,
                    row_digest(key, value, qualifier, Ok(source), note, &mut text),
                ),
                (
                    "targets",
                    TARGET_DIGEST_EXPR,
                    row_digest(key, value, 0, Ok(source), None, &mut text),
                ),
            ] {
                let stored: SqlDigest = diesel::sql_query(format!(
                    "SELECT {expr} AS digest FROM {table} WHERE region_id = ?"
                ))
                .bind::<Unsigned<Integer>, _>(region)
                .get_result(&mut conn)
                .await
                .unwrap();
                assert_eq!(stored.digest, expected, "{table} row {region}");
            }
        }
    }
}
