//! Reads (and the writes that are not bulk imports), one module per area. Every function
//! takes the connection as its first argument and leaves transactions to the caller; none
//! builds SQL from strings.
//!
//! Results come back as records that pair the row id with the domain value of
//! `ansinh-model`, because callers need both: the id to join further, the domain value to
//! apply rules and to answer clients.

pub mod import_runs;
pub mod indicators;
pub mod regions;

pub use import_runs::{ImportRunRecord, import_run, list_import_runs};
pub use indicators::{IndicatorRecord, indicator_by_code, list_indicators};
pub use regions::{
    LineageEdge, RegionCursor, RegionFilter, RegionRecord, count_regions, fold_region_names,
    lineage_predecessors, lineage_successors, list_regions, region_at, region_by_id,
    regions_valid_at,
};
