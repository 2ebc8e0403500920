//! The queries of `ansinh-import`: a connection that can stream `LOAD DATA LOCAL INFILE`
//! from memory, the run lock, reading and writing the reference data, comparing incoming
//! observations and targets with stored ones by key range, bulk loading, and applying
//! changes with history. The ledger of runs is written here
//! too, outside the data transaction, so it survives a rolled-back run; and the run's
//! connections can be timed, to tell a server that stopped answering ([`StatementTimer`]).
//!
//! Everything here takes the connection as an argument; the importer decides which statement
//! runs on which connection and inside which transaction.

mod connection;
mod ledger;
mod lock;
mod reference;
mod series;
mod watch;

pub use connection::{
    ImportConnection, InfileBuffers, InfileStream, connect, connect_watched, kill_session,
    session_id,
};
pub use ledger::{
    RunCounts, add_files, add_rejections, finish_run, mark_abandoned_runs, start_run,
};
pub use lock::{RUN_LOCK, RunLock, release_run_lock, try_run_lock};
pub use reference::{
    StoredRegion, Written, ensure_source, load_regions, load_sources, upsert_indicator,
    upsert_lineage, upsert_member, upsert_region,
};
pub use series::{
    KeyRange, OBSERVATION_DIGEST_EXPR, RangeDigest, SeriesTable, StoredSeriesRow,
    TARGET_DIGEST_EXPR, append_load_row, apply_changes, create_change_table, digest_range,
    fetch_range, load_changes, load_new_rows, row_digest, set_run_variable, table_is_empty,
};
pub use watch::StatementTimer;

pub type Result<T, E = crate::StoreError> = std::result::Result<T, E>;
