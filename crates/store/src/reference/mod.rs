//! The reference data every database starts with: Vietnam's administrative units in both
//! generations (before and from the 2025-07-01 reform), the province lineage between them,
//! and the default indicator catalog.
//!
//! The files live in `crates/store/reference/` and are compiled into the binary, so
//! `ansinh-import migrate` needs nothing on disk. Installing compares the bundled rows with
//! what is stored and writes only the difference, inside one transaction: a first install
//! inserts everything, a second changes nothing (not even a row's checksum), and a later
//! build whose files changed updates exactly the rows that changed. Rows the bundle does not
//! know (imported regions, indicators) are left alone. The importer writes the reference rows
//! of its files one by one with the same comparison (`write`).

mod bundled;
mod install;
pub(crate) mod write;

pub use install::{ReferenceReport, TableCounts, install_reference_data};
