//! Observations and targets in bulk: per-key-range digests and reads for comparing incoming
//! rows with stored ones, `LOAD DATA` of new rows straight into the table, and changed rows
//! through a temporary table into the table and (for observations) into its history.
//!
//! The row digest is defined twice, once in SQL ([`SeriesTable`]'s digest statement) and
//! once in Rust ([`row_digest`]); they sit together here so they can only change together.

use std::fmt::Write as _;

use ansinh_model::{Decimal, NaiveDate};
use bytes::Bytes;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, TinyInt, Unsigned};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};

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

// The digest of a row: CRC-32 (IEEE) in the high and CRC-32C in the low half, both over the
// columns joined with '|' exactly as MariaDB's CONCAT_WS prints them (DECIMAL(24,6) with six
// decimals, dates as YYYY-MM-DD, NULL as empty). XOR over a range makes the range digest
// independent of row order. CRC32C() needs MariaDB 10.8 or later.
const OBSERVATION_DIGEST_SQL: &str = "SELECT COUNT(*) AS n, CAST(BIT_XOR((CRC32(s) << 32) | CRC32C(s)) AS CHAR) AS digest FROM (\
    SELECT CONCAT_WS('|', region_id, indicator_id, period_end, period_start, value, qualifier, IFNULL(source_id, ''), IFNULL(note, '')) AS s \
    FROM observations WHERE region_id BETWEEN ? AND ? \
    AND (region_id, indicator_id, period_end, period_start) >= (?, ?, ?, ?) \
    AND (region_id, indicator_id, period_end, period_start) <= (?, ?, ?, ?)) AS r";
const TARGET_DIGEST_SQL: &str = "SELECT COUNT(*) AS n, CAST(BIT_XOR((CRC32(s) << 32) | CRC32C(s)) AS CHAR) AS digest FROM (\
    SELECT CONCAT_WS('|', region_id, indicator_id, period_end, period_start, target, 0, IFNULL(source_id, ''), '') AS s \
    FROM targets WHERE region_id BETWEEN ? AND ? \
    AND (region_id, indicator_id, period_end, period_start) >= (?, ?, ?, ?) \
    AND (region_id, indicator_id, period_end, period_start) <= (?, ?, ?, ?)) AS r";

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
    (region_id, indicator_id, period_end, period_start, value, qualifier, source_id, note) SET import_run_id = @ansinh_run";
const TARGET_LOAD_NEW: &str = "LOAD DATA LOCAL INFILE 'ansinh-new-targets' INTO TABLE targets CHARACTER SET utf8mb4 \
    (region_id, indicator_id, period_end, period_start, target, @qualifier, source_id, @note) SET import_run_id = @ansinh_run";
const OBSERVATION_LOAD_CHANGES: &str = "LOAD DATA LOCAL INFILE 'ansinh-changed-observations' INTO TABLE import_changed_observations CHARACTER SET utf8mb4 \
    (region_id, indicator_id, period_end, period_start, value, qualifier, source_id, note) SET import_run_id = @ansinh_run";
const TARGET_LOAD_CHANGES: &str = "LOAD DATA LOCAL INFILE 'ansinh-changed-targets' INTO TABLE import_changed_targets CHARACTER SET utf8mb4 \
    (region_id, indicator_id, period_end, period_start, target, @qualifier, source_id, @note) SET import_run_id = @ansinh_run";

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

/// The digest of one row, equal to what the digest statement computes for the stored row.
/// `source_id` is `Err(())` for a source not stored yet: then the row cannot match any
/// stored row, and the digest says so.
pub fn row_digest(
    key: (u32, u32, NaiveDate, NaiveDate),
    value: Decimal,
    qualifier: u8,
    source_id: Result<Option<u32>, ()>,
    note: Option<&str>,
    text: &mut String,
) -> u64 {
    text.clear();
    let (region, indicator, end, start) = key;
    let _ = write!(
        text,
        "{region}|{indicator}|{end}|{start}|{value:.6}|{qualifier}|"
    );
    match source_id {
        Ok(Some(id)) => {
            let _ = write!(text, "{id}");
        }
        Ok(None) => {}
        Err(()) => text.push_str("new source"),
    }
    text.push('|');
    text.push_str(note.unwrap_or(""));
    let high = CRC32.checksum(text.as_bytes());
    let low = CRC32C.checksum(text.as_bytes());
    (u64::from(high) << 32) | u64::from(low)
}

static CRC32: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);
static CRC32C: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

/// Appends one row in the layout the `LOAD DATA` statements read: tab-separated, `\N` for
/// NULL, backslash escapes for tab, newline and backslash in text.
pub fn append_load_row(
    table: SeriesTable,
    buf: &mut Vec<u8>,
    key: (u32, u32, NaiveDate, NaiveDate),
    value: Decimal,
    qualifier: u8,
    source_id: Option<u32>,
    note: Option<&str>,
) {
    use std::io::Write as _;
    let (region, indicator, end, start) = key;
    let _ = write!(
        buf,
        "{region}\t{indicator}\t{end}\t{start}\t{value}\t{qualifier}\t"
    );
    match source_id {
        Some(id) => {
            let _ = write!(buf, "{id}");
        }
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

/// Loads rows made by [`append_load_row`] that are known to be new straight into the table.
pub async fn load_new_rows(
    conn: &mut AsyncMysqlConnection,
    buffers: &InfileBuffers,
    table: SeriesTable,
    data: Vec<u8>,
) -> Result<()> {
    let (name, sql) = table.new_infile();
    buffers.put(name, Bytes::from(data));
    // Every id in these rows was resolved from the stored reference data (or the run's own
    // writes) by the importer, under the run lock; checking four foreign keys per row again
    // costs more than the load itself.
    conn.batch_execute("SET SESSION foreign_key_checks = 0")
        .await?;
    let result = conn.batch_execute(sql).await;
    conn.batch_execute("SET SESSION foreign_key_checks = 1")
        .await?;
    result?;
    Ok(())
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
    conn.batch_execute(sql).await?;
    Ok(())
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
                 SET o.value = c.value, o.qualifier = c.qualifier, o.source_id = c.source_id, o.note = c.note, o.import_run_id = c.import_run_id",
            )
            .execute(conn)
            .await?
        }
        SeriesTable::Targets => {
            diesel::sql_query(
                "UPDATE targets o JOIN import_changed_targets c \
                 ON c.region_id = o.region_id AND c.indicator_id = o.indicator_id AND c.period_end = o.period_end AND c.period_start = o.period_start \
                 SET o.target = c.target, o.source_id = c.source_id, o.import_run_id = c.import_run_id",
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

    #[test]
    fn row_digest_text_matches_what_concat_ws_prints() {
        let mut text = String::new();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        row_digest(
            (68, 3, d("2024-12-31"), d("2024-01-01")),
            "94.56".parse().unwrap(),
            0,
            Ok(Some(1)),
            None,
            &mut text,
        );
        assert_eq!(text, "68|3|2024-12-31|2024-01-01|94.560000|0|1|");
        row_digest(
            (1, 2, d("2024-12-31"), d("2024-12-31")),
            "3818000000000".parse().unwrap(),
            1,
            Ok(None),
            Some("x"),
            &mut text,
        );
        assert_eq!(text, "1|2|2024-12-31|2024-12-31|3818000000000.000000|1||x");
    }

    #[test]
    fn load_rows_escape_text_and_nulls() {
        let mut buf = Vec::new();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        append_load_row(
            SeriesTable::Observations,
            &mut buf,
            (1, 2, d("2024-12-31"), d("2024-01-01")),
            "94.56".parse().unwrap(),
            0,
            None,
            Some("a\tb\\c\nd"),
        );
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "1\t2\t2024-12-31\t2024-01-01\t94.56\t0\t\\N\ta\\tb\\\\c\\nd\n"
        );
    }
}
