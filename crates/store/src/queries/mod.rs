//! Reads (and the writes that are not bulk imports), one module per area. Every function
//! takes the connection as its first argument and leaves transactions to the caller; none
//! builds SQL from strings.
//!
//! Results come back as records that pair the row id with the domain value of
//! `ansinh-model`, because callers need both: the id to join further, the domain value to
//! apply rules and to answer clients.

pub mod history;
pub mod import_runs;
pub mod indicators;
pub mod observations;
pub mod region_tree;
pub mod regions;
pub mod targets;

pub use history::{ObservationVersion, observation_versions};
pub use import_runs::{ImportRunRecord, import_run, latest_committed_run, list_import_runs};
pub use indicators::{IndicatorRecord, indicator_by_code, list_indicators};
pub use observations::{
    EndWindow, Figure, ObservationCursor, ObservationFilter, ObservationRecord, figures,
    list_observations,
};
pub use region_tree::{
    Ancestor, descendant_ids, descendants_at_level, lineage_ancestors, region_versions,
    regions_by_ids,
};
pub use regions::{
    LineageEdge, RegionCursor, RegionFilter, RegionRecord, count_regions, fold_region_names,
    lineage_links, lineage_predecessors, lineage_successors, list_regions, region_at, region_by_id,
    regions_valid_at,
};
pub use targets::{TargetRecord, targets};
