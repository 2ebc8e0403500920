//! Reading the import ledger: runs newest first, and one run with its files and rejections.
//! The importer writes the ledger; the server's ImportService and `ansinh-import runs` read it
//! through these functions.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::{
    StoreError,
    models::{ImportRunFileRow, ImportRunRejectionRow, ImportRunRow, ImportRunStatus},
    schema::{import_run_files, import_run_rejections, import_runs},
};

/// A run with its input files (and, from [`import_run`], its rejections).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRunRecord {
    pub run: ImportRunRow,
    pub files: Vec<ImportRunFileRow>,
    pub rejections: Vec<ImportRunRejectionRow>,
}

/// Up to `limit` runs older than `before` (a run id), newest first, with their files.
pub async fn list_import_runs(
    conn: &mut AsyncMysqlConnection,
    before: Option<u64>,
    limit: u32,
) -> Result<Vec<ImportRunRecord>, StoreError> {
    let mut query = import_runs::table
        .select(ImportRunRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(import_runs::id.lt(before));
    }
    let runs = query
        .order(import_runs::id.desc())
        .limit(i64::from(limit))
        .load(conn)
        .await?;
    let ids: Vec<u64> = runs.iter().map(|run| run.id).collect();
    let files: Vec<ImportRunFileRow> = import_run_files::table
        .filter(import_run_files::run_id.eq_any(&ids))
        .order((import_run_files::run_id, import_run_files::ordinal))
        .select(ImportRunFileRow::as_select())
        .load(conn)
        .await?;
    let mut files_by_run: BTreeMap<u64, Vec<ImportRunFileRow>> = BTreeMap::new();
    for file in files {
        files_by_run.entry(file.run_id).or_default().push(file);
    }
    Ok(runs
        .into_iter()
        .map(|run| ImportRunRecord {
            files: files_by_run.remove(&run.id).unwrap_or_default(),
            run,
            rejections: Vec::new(),
        })
        .collect())
}

/// The id of the latest committed run, if any: the data changes only when a run commits, so
/// this names the state of every figure. One backward walk of the primary key, stopping at
/// the first committed run (recent runs that failed or were dry runs are the only ones read).
pub async fn latest_committed_run(
    conn: &mut AsyncMysqlConnection,
) -> Result<Option<u64>, StoreError> {
    Ok(import_runs::table
        .filter(import_runs::status.eq(ImportRunStatus::Committed.as_str()))
        .order(import_runs::id.desc())
        .select(import_runs::id)
        .first::<u64>(conn)
        .await
        .optional()?)
}

/// How many runs of one status the ledger holds, and when the newest of them finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerStatusSummary {
    /// The status as stored, e.g. "committed" (see [`ImportRunStatus::as_str`]).
    pub status: String,
    pub runs: i64,
    /// `None` when no run of this status has finished (a `running` one).
    pub last_finished_at: Option<NaiveDateTime>,
}

/// The ledger per status, for monitoring: whether the nightly run happened and how runs end.
/// One pass over `import_runs`, a table of one row per run.
pub async fn ledger_summary(
    conn: &mut AsyncMysqlConnection,
) -> Result<Vec<LedgerStatusSummary>, StoreError> {
    let rows: Vec<(String, i64, Option<NaiveDateTime>)> = import_runs::table
        .group_by(import_runs::status)
        .select((
            import_runs::status,
            diesel::dsl::count_star(),
            diesel::dsl::max(import_runs::finished_at),
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(status, runs, last_finished_at)| LedgerStatusSummary {
            status,
            runs,
            last_finished_at,
        })
        .collect())
}

/// One run with its files and its first `max_rejections` rejections, in input order.
pub async fn import_run(
    conn: &mut AsyncMysqlConnection,
    id: u64,
    max_rejections: u32,
) -> Result<Option<ImportRunRecord>, StoreError> {
    let Some(run) = import_runs::table
        .find(id)
        .select(ImportRunRow::as_select())
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let files = import_run_files::table
        .filter(import_run_files::run_id.eq(id))
        .order(import_run_files::ordinal)
        .select(ImportRunFileRow::as_select())
        .load(conn)
        .await?;
    let rejections = import_run_rejections::table
        .filter(import_run_rejections::run_id.eq(id))
        .order(import_run_rejections::ordinal)
        .limit(i64::from(max_rejections))
        .select(ImportRunRejectionRow::as_select())
        .load(conn)
        .await?;
    Ok(Some(ImportRunRecord {
        run,
        files,
        rejections,
    }))
}
