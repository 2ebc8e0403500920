//! The reference data every database starts with: Vietnam's administrative units in both
//! generations (before and from the 2025-07-01 reform), the province lineage between them,
//! and the default indicator catalog.
//!
//! The files live in `crates/store/reference/` and are compiled into the binary, so
//! `ansinh-import migrate` needs nothing on disk. Installing compares the bundled rows with
//! what is stored and writes only the difference, inside one transaction: a first install
//! inserts everything, a second changes nothing (not even a row's checksum), and a later
//! build whose files changed updates exactly the rows that changed. Rows the bundle does not
//! know (imported regions, indicators) are left alone.

mod bundled;
mod install;

pub use install::{ReferenceReport, TableCounts, install_reference_data};
