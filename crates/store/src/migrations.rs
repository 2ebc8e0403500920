//! The schema migrations, embedded in the binary so a deployed tool needs no files.
//!
//! diesel's migration harness is synchronous; `AsyncConnectionWrapper` adapts the async
//! MySQL connection to it by blocking on the current tokio runtime, which must not happen on
//! a runtime worker thread, hence `spawn_blocking`.

use diesel::Connection as _;
use diesel_async::AsyncMysqlConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;

/// Every migration under `crates/store/migrations/`, in version order.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

type BlockingConnection = AsyncConnectionWrapper<AsyncMysqlConnection>;

/// Applies the migrations `url`'s database lacks; returns their names, oldest first
/// (empty when the schema is current).
pub async fn run_pending_migrations(url: &str) -> Result<Vec<String>, StoreError> {
    with_blocking_connection(url, |conn| {
        let applied = conn.run_pending_migrations(MIGRATIONS)?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Reverts every applied migration, newest first; returns their names in that order. For
/// tests and for tearing a schema down by hand; nothing in the service calls it.
pub async fn revert_all_migrations(url: &str) -> Result<Vec<String>, StoreError> {
    with_blocking_connection(url, |conn| {
        let reverted = conn.revert_all_migrations(MIGRATIONS)?;
        Ok(reverted.iter().map(ToString::to_string).collect())
    })
    .await
}

async fn with_blocking_connection<T: Send + 'static>(
    url: &str,
    work: impl FnOnce(&mut BlockingConnection) -> Result<T, Box<dyn std::error::Error + Send + Sync>>
    + Send
    + 'static,
) -> Result<T, StoreError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = BlockingConnection::establish(&url).map_err(StoreError::Connect)?;
        work(&mut conn).map_err(StoreError::Migration)
    })
    .await
    .map_err(|e| StoreError::Migration(Box::new(e)))?
}
