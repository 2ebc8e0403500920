//! Writing the ledger of import runs. Each call is its own autocommit statement on the
//! ledger connection, never inside the data transaction, so a run that rolls back (rejected
//! input, a failed server, a dry run) still leaves its entry.

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
            operator,
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
    if !files.is_empty() {
        diesel::insert_into(import_run_files::table)
            .values(files)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Records rejected rows, in batches.
pub async fn add_rejections(
    conn: &mut AsyncMysqlConnection,
    rejections: &[NewImportRunRejection<'_>],
) -> Result<()> {
    for batch in rejections.chunks(BATCH_ROWS) {
        diesel::insert_into(import_run_rejections::table)
            .values(batch)
            .execute(conn)
            .await?;
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
            import_runs::message.eq(message),
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
