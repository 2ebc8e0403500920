//! Rows of the import ledger: `import_runs`, `import_run_files`, `import_run_rejections`.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{import_run_files, import_run_rejections, import_runs};

/// Where an import run stands; stored as [`ImportRunStatus::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportRunStatus {
    /// Started and not finished (or the process died: no `finished_at`).
    Running,
    /// Every row landed.
    Committed,
    /// The input was rejected; nothing landed; the rejections say why.
    Rejected,
    /// The database failed mid-run; nothing landed.
    Failed,
    /// Validated and compared only; nothing was written but this entry.
    DryRun,
}

impl ImportRunStatus {
    pub const ALL: [Self; 5] = [
        Self::Running,
        Self::Committed,
        Self::Rejected,
        Self::Failed,
        Self::DryRun,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Committed => "committed",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::DryRun => "dry_run",
        }
    }
}

impl fmt::Display for ImportRunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportRunStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("unknown import run status {text:?}"))
    }
}

/// One import run in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = import_runs, check_for_backend(diesel::mysql::Mysql))]
pub struct ImportRunRow {
    pub id: u64,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub operator: String,
    /// [`ImportRunStatus::as_str`].
    pub status: String,
    pub dry_run: bool,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub message: Option<String>,
}

/// A run being opened; the counts start at zero and are set when it finishes.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = import_runs)]
pub struct NewImportRun<'a> {
    pub started_at: NaiveDateTime,
    pub operator: &'a str,
    pub status: &'a str,
    pub dry_run: bool,
}

/// An input file of a run, identified by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = import_run_files, check_for_backend(diesel::mysql::Mysql))]
pub struct ImportRunFileRow {
    pub run_id: u64,
    pub ordinal: u32,
    pub path: String,
    /// Lower-case hex.
    pub sha256: String,
    pub size_bytes: u64,
    pub kind: String,
    pub row_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = import_run_files)]
pub struct NewImportRunFile<'a> {
    pub run_id: u64,
    pub ordinal: u32,
    pub path: &'a str,
    pub sha256: &'a str,
    pub size_bytes: u64,
    pub kind: &'a str,
    pub row_count: u64,
}

/// A rejected input row: where (file, line, column), what (value) and why.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = import_run_rejections, check_for_backend(diesel::mysql::Mysql))]
pub struct ImportRunRejectionRow {
    pub run_id: u64,
    pub ordinal: u32,
    pub file: String,
    pub line: u32,
    pub column_name: Option<String>,
    pub value: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = import_run_rejections)]
pub struct NewImportRunRejection<'a> {
    pub run_id: u64,
    pub ordinal: u32,
    pub file: &'a str,
    pub line: u32,
    pub column_name: Option<&'a str>,
    pub value: Option<&'a str>,
    pub reason: &'a str,
}
