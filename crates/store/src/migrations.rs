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
/// (empty when the schema is current). Creates the database (utf8mb4) first when the server
/// does not have it, so `ansinh-import migrate` makes a fresh server usable.
pub async fn run_pending_migrations(url: &str) -> Result<Vec<String>, StoreError> {
    create_database_if_missing(url).await?;
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

/// Splits `mysql://user:pass@host:port/db?options` into the server URL (with the options) and
/// the database name.
fn split_database(url: &str) -> Option<(String, &str)> {
    let authority_start = url.find("://")? + 3;
    let path_start = authority_start + url[authority_start..].find('/')?;
    let rest = &url[path_start + 1..];
    let (database, options) = rest.split_once('?').map_or((rest, ""), |(d, o)| (d, o));
    let mut server = url[..path_start].to_owned();
    if !options.is_empty() {
        server.push_str("/?");
        server.push_str(options);
    }
    Some((server, database))
}

async fn create_database_if_missing(url: &str) -> Result<(), StoreError> {
    use diesel_async::SimpleAsyncConnection as _;

    let Some((server_url, database)) = split_database(url) else {
        return Ok(()); // no database in the URL: nothing to create; connecting will say so
    };
    // An identifier cannot be a bound parameter, so the name is checked to be a plain
    // identifier before it is quoted into the statement.
    if database.is_empty()
        || !database
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
    {
        return Err(StoreError::Migration(
            format!(
                "the database name {database:?} in the URL is not a plain identifier; use letters, digits and _"
            )
            .into(),
        ));
    }
    let mut conn = crate::connect(&server_url).await?;
    conn.batch_execute(&format!(
        "CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    ))
    .await
    .map_err(|e| StoreError::Migration(Box::new(e)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_database;

    #[test]
    fn the_database_is_split_from_the_server_url_keeping_options() {
        assert_eq!(
            split_database("mysql://root:pw@127.0.0.1:3306/ansinh"),
            Some(("mysql://root:pw@127.0.0.1:3306".to_owned(), "ansinh"))
        );
        assert_eq!(
            split_database("mysql://root@127.0.0.1:3307/t1?prefer_socket=false"),
            Some((
                "mysql://root@127.0.0.1:3307/?prefer_socket=false".to_owned(),
                "t1"
            ))
        );
        assert_eq!(split_database("mysql://root@127.0.0.1:3306"), None);
    }
}
