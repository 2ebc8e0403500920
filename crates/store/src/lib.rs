//! MySQL persistence for ansinh: the schema (migrations and the diesel view of it), exact
//! decimal mapping, the connection pool, the bundled reference data, and the queries the
//! importer and the server share.
//!
//! Works on MariaDB 10.11 and MySQL 8 alike: the migrations use only syntax both accept, and
//! every connection opened here sets the same strict `sql_mode` (see [`pool`]). Functions take
//! the connection as their first argument; this crate holds no global state.
//!
//! Typical start-up, as `ansinh-import migrate` does it:
//! ```no_run
//! # async fn run(url: &str) -> Result<(), ansinh_store::StoreError> {
//! ansinh_store::run_pending_migrations(url).await?;
//! let mut conn = ansinh_store::connect(url).await?;
//! let report = ansinh_store::install_reference_data(&mut conn).await?;
//! # let _ = report; Ok(()) }
//! ```

pub mod decimal;
pub mod duration;
mod error;
pub mod import;
mod migrations;
pub mod models;
mod pool;
pub mod queries;
pub mod reference;
pub mod schema;
pub mod widths;

pub use decimal::SqlDecimal;
pub use error::StoreError;
pub use migrations::{MIGRATIONS, revert_all_migrations, run_pending_migrations};
pub use pool::{CHECK_AFTER, POOL_TIMEOUT, Pool, PooledConnection, connect, ping, pool};
pub use reference::{ReferenceReport, TableCounts, install_reference_data};

/// Re-exported so callers name the same connection type without depending on diesel-async.
pub use diesel_async::AsyncMysqlConnection;
