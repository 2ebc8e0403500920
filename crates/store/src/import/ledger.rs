//! Writing the ledger of import runs. Each call is its own autocommit statement on the
//! ledger connection, never inside the data transaction, so a run that rolls back (rejected
//! input, a failed server, a dry run) still leaves its entry.
//!
//! No text of the input may keep a run from being recorded: a text longer than its column
//! (a 10 MB cell quoted in a rejection, a deep path, a long operator name) is cut to fit, with
//! a `…` where it was cut, instead of failing the statement under the session's strict
//! `sql_mode`; and rejections go in statements of a bounded size, well below any server's
//! `max_allowed_packet`.

use std::borrow::Cow;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use super::Result;
use crate::models::{ImportRunStatus, NewImportRun, NewImportRunFile, NewImportRunRejection};
use crate::schema::{import_run_files, import_run_rejections, import_runs};

/// What a run did to the data tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

/// Rejections per INSERT: far below the placeholder limit of a statement.
const BATCH_ROWS: usize = 1000;

/// Bytes of text per INSERT of rejections: far below the smallest `max_allowed_packet` servers
/// ship with (4 MB for MySQL 5.7, 16 MB for MariaDB, 64 MB for MySQL 8), even with the one
/// row that always goes (at most ~135 KB, fitted to its columns).
const BATCH_BYTES: usize = 1 << 20;

/// How much a ledger column holds (migration `create_import_runs`): a `VARCHAR(n)` of utf8mb4
/// holds `n` characters, a `TEXT` 65,535 bytes.
#[derive(Debug, Clone, Copy)]
enum Width {
    Chars(usize),
    Bytes(usize),
}

const OPERATOR: Width = Width::Chars(128);
const PATH: Width = Width::Chars(1024);
const COLUMN_NAME: Width = Width::Chars(64);
const TEXT: Width = Width::Bytes(65_535);

/// `text`, or when it does not fit in `width` its start and a `…`.
fn fit(text: &str, width: Width) -> Cow<'_, str> {
    let end = match width {
        Width::Bytes(bytes) if text.len() > bytes => {
            let mut end = bytes - '…'.len_utf8();
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            end
        }
        Width::Chars(chars) if text.len() > chars => match text.char_indices().nth(chars) {
            // The `…` takes the place of the last character kept.
            Some(_) => text.char_indices().nth(chars - 1).map_or(0, |(at, _)| at),
            None => return Cow::Borrowed(text),
        },
        _ => return Cow::Borrowed(text),
    };
    Cow::Owned(format!("{}…", &text[..end]))
}

/// A path, or when it does not fit in `width` a `…` and its end: the file name says more
/// than the top directories.
fn fit_path(path: &str, width: Width) -> Cow<'_, str> {
    let Width::Chars(chars) = width else {
        return fit(path, width);
    };
    let count = path.chars().count();
    if count <= chars {
        return Cow::Borrowed(path);
    }
    let start = path
        .char_indices()
        .nth(count - (chars - 1))
        .map_or(path.len(), |(at, _)| at);
    Cow::Owned(format!("…{}", &path[start..]))
}

/// The lengths at which `rejections` are cut into INSERTs of at most [`BATCH_ROWS`] rows and,
/// but for a single row, [`BATCH_BYTES`] of text.
fn batch_lengths(rejections: &[NewImportRunRejection<'_>]) -> Vec<usize> {
    let mut lengths = Vec::new();
    let (mut rows, mut bytes) = (0, 0);
    for r in rejections {
        let size = r.file.len()
            + r.column_name.map_or(0, str::len)
            + r.value.map_or(0, str::len)
            + r.reason.len();
        if rows > 0 && (rows == BATCH_ROWS || bytes + size > BATCH_BYTES) {
            lengths.push(rows);
            (rows, bytes) = (0, 0);
        }
        rows += 1;
        bytes += size;
    }
    if rows > 0 {
        lengths.push(rows);
    }
    lengths
}

/// Opens a ledger entry with status `running`; returns its id.
pub async fn start_run(
    conn: &mut AsyncMysqlConnection,
    operator: &str,
    dry_run: bool,
) -> Result<u64> {
    let started_at = Utc::now().naive_utc();
    diesel::insert_into(import_runs::table)
        .values(NewImportRun {
            started_at,
            operator: &fit(operator, OPERATOR),
            status: ImportRunStatus::Running.as_str(),
            dry_run,
        })
        .execute(conn)
        .await?;
    let id: u64 = diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Unsigned<diesel::sql_types::BigInt>,
    >("LAST_INSERT_ID()"))
    .get_result(conn)
    .await?;
    Ok(id)
}

/// Records the input files of a run.
pub async fn add_files(
    conn: &mut AsyncMysqlConnection,
    files: &[NewImportRunFile<'_>],
) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let paths: Vec<Cow<'_, str>> = files.iter().map(|f| fit_path(f.path, PATH)).collect();
    let files: Vec<NewImportRunFile<'_>> = files
        .iter()
        .zip(&paths)
        .map(|(f, path)| NewImportRunFile { path, ..f.clone() })
        .collect();
    diesel::insert_into(import_run_files::table)
        .values(&files)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records rejected rows, in batches.
pub async fn add_rejections(
    conn: &mut AsyncMysqlConnection,
    rejections: &[NewImportRunRejection<'_>],
) -> Result<()> {
    type Texts<'a> = (
        Cow<'a, str>,
        Option<Cow<'a, str>>,
        Option<Cow<'a, str>>,
        Cow<'a, str>,
    );
    let texts: Vec<Texts<'_>> = rejections
        .iter()
        .map(|r| {
            (
                fit_path(r.file, PATH),
                r.column_name.map(|c| fit(c, COLUMN_NAME)),
                r.value.map(|v| fit(v, TEXT)),
                fit(r.reason, TEXT),
            )
        })
        .collect();
    let rejections: Vec<NewImportRunRejection<'_>> = rejections
        .iter()
        .zip(&texts)
        .map(
            |(r, (file, column_name, value, reason))| NewImportRunRejection {
                file,
                column_name: column_name.as_deref(),
                value: value.as_deref(),
                reason,
                ..r.clone()
            },
        )
        .collect();
    let mut rest = rejections.as_slice();
    for length in batch_lengths(rest) {
        let (batch, after) = rest.split_at(length);
        diesel::insert_into(import_run_rejections::table)
            .values(batch)
            .execute(conn)
            .await?;
        rest = after;
    }
    Ok(())
}

/// Closes a run: its status, counts, message, the row count of each file.
pub async fn finish_run(
    conn: &mut AsyncMysqlConnection,
    run_id: u64,
    status: ImportRunStatus,
    counts: RunCounts,
    message: Option<&str>,
    file_rows: &[u64],
) -> Result<()> {
    diesel::update(import_runs::table.find(run_id))
        .set((
            import_runs::finished_at.eq(Some(Utc::now().naive_utc())),
            import_runs::status.eq(status.as_str()),
            import_runs::inserted.eq(counts.inserted),
            import_runs::updated.eq(counts.updated),
            import_runs::unchanged.eq(counts.unchanged),
            import_runs::rejected.eq(counts.rejected),
            import_runs::message.eq(message.map(|m| fit(m, TEXT))),
        ))
        .execute(conn)
        .await?;
    for (ordinal, rows) in file_rows.iter().enumerate() {
        diesel::update(import_run_files::table.find((run_id, ordinal as u32)))
            .set(import_run_files::row_count.eq(rows))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Marks runs still `running` as failed: called by the holder of the run lock, so no other
/// run is alive and those were killed (their data transaction died with them).
pub async fn mark_abandoned_runs(conn: &mut AsyncMysqlConnection) -> Result<usize> {
    Ok(diesel::update(
        import_runs::table.filter(import_runs::status.eq(ImportRunStatus::Running.as_str())),
    )
    .set((
        import_runs::status.eq(ImportRunStatus::Failed.as_str()),
        import_runs::message.eq(Some(
            "the run ended without finishing (killed or lost its connection); nothing of it landed",
        )),
    ))
    .execute(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_that_fit_are_kept_and_longer_ones_are_cut_to_their_column() {
        assert!(matches!(fit("ok", COLUMN_NAME), Cow::Borrowed("ok")));
        let name = "Đ".repeat(64);
        assert!(matches!(fit(&name, COLUMN_NAME), Cow::Borrowed(_)));
        let long = "Đ".repeat(65);
        let cut = fit(&long, COLUMN_NAME);
        assert_eq!(cut, format!("{}…", "Đ".repeat(63)));
        assert_eq!(cut.chars().count(), 64);

        let huge = "Đ".repeat(10 << 20);
        let cut = fit(&huge, TEXT);
        assert!(cut.len() <= 65_535 && cut.len() > 65_000, "{}", cut.len());
        assert!(cut.ends_with("Đ…"));
    }

    #[test]
    fn a_long_path_keeps_its_end() {
        let path = format!("/{}/observations.csv", "d".repeat(2000));
        let cut = fit_path(&path, PATH);
        assert_eq!(cut.chars().count(), 1024);
        assert!(
            cut.starts_with("…ddd") && cut.ends_with("/observations.csv"),
            "{cut}"
        );
        assert!(matches!(fit_path("/a/b.csv", PATH), Cow::Borrowed(_)));
    }

    #[test]
    fn rejections_go_in_statements_of_bounded_rows_and_bytes() {
        let big = "v".repeat(65_535);
        let rejection = |value: &'static str| NewImportRunRejection {
            run_id: 1,
            ordinal: 0,
            file: "a.csv",
            line: 2,
            column_name: Some("value"),
            value: Some(value),
            reason: "why",
        };
        let small: Vec<_> = (0..2500).map(|_| rejection("1")).collect();
        assert_eq!(batch_lengths(&small), [1000, 1000, 500]);
        let big: &'static str = big.leak();
        let large: Vec<_> = (0..40).map(|_| rejection(big)).collect();
        let lengths = batch_lengths(&large);
        assert_eq!(lengths.iter().sum::<usize>(), 40);
        assert!(
            lengths.iter().all(|&n| n * 65_535 <= BATCH_BYTES),
            "{lengths:?}"
        );
        assert!(batch_lengths(&[]).is_empty());
    }
}
