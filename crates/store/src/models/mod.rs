//! Row types, one file per table area, with separate read (`Queryable` + `Selectable`) and
//! insert (`Insertable`) structs: the read side has the generated ids and every column, the
//! insert side only what a caller supplies, borrowed where it can be.
//!
//! These mirror the tables; conversions to the domain types of `ansinh-model` live with the
//! queries that need them, because only they know which joined columns (a parent's code, a
//! ratio part's code) a domain value requires.

mod import_run;
mod indicator;
mod observation;
mod region;
mod source;
mod target;

pub use import_run::{
    ImportRunFileRow, ImportRunRejectionRow, ImportRunRow, ImportRunStatus, NewImportRun,
    NewImportRunFile, NewImportRunRejection,
};
pub use indicator::{IndicatorRow, NewIndicator};
pub use observation::{
    NewObservation, NewObservationHistory, ObservationHistoryRow, ObservationRow,
};
pub use region::{LineageRow, NewLineage, NewRegion, NewRegionMember, RegionMemberRow, RegionRow};
pub use source::{NewSource, SourceRow};
pub use target::{NewTarget, TargetRow};
