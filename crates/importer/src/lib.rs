//! The ansinh batch importer: reads import files (CSV, JSON Lines, XLSX report sheets through
//! a mapping), checks every row against the data contract and the reference data, and loads a
//! run into MySQL all or nothing.
//!
//! The binary `ansinh-import` (src/main.rs) is a thin command line over this library; the
//! benchmark binary drives the same library.

pub mod diff;
pub mod kind;
pub mod lineage;
pub mod mapping;
pub mod problem;
pub mod read;
pub mod reference;
pub mod run;
pub mod series;
pub mod textfile;
pub mod timeouts;
pub mod validate;
