//! Connections: the pool the server uses and single connections for tools and tests, all
//! opened with the same session settings.
//!
//! The session's `sql_mode` is set explicitly instead of trusting the server's default, so
//! that MariaDB (whose default lacks `ONLY_FULL_GROUP_BY`) rejects the same non-portable
//! queries MySQL 8 would, and a permissively configured server still refuses to truncate or
//! coerce bad values instead of storing them.

use std::time::Duration;

use diesel::IntoSql as _;

use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::StoreError;

/// The connection pool type every binary shares.
pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncMysqlConnection>;

/// A connection checked out of a [`Pool`]; derefs to `AsyncMysqlConnection`.
pub type PooledConnection = diesel_async::pooled_connection::deadpool::Object<AsyncMysqlConnection>;

/// How long a caller waits for a free connection, a new connection may take to open, and a
/// returned one may take to be checked. Bounded so that a dead server surfaces as an error
/// (UNAVAILABLE) within seconds instead of hanging requests.
pub const POOL_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) const SESSION_SETUP: &str = "SET SESSION sql_mode = \
    'ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

/// Opens one connection to `url` (`mysql://user:password@host:port/database`) with the
/// project's session settings.
pub async fn connect(url: &str) -> Result<AsyncMysqlConnection, StoreError> {
    Ok(establish(url).await?)
}

async fn establish(url: &str) -> diesel::ConnectionResult<AsyncMysqlConnection> {
    let mut conn = AsyncMysqlConnection::establish(url).await?;
    conn.batch_execute(SESSION_SETUP)
        .await
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// A pool of at most `max_size` connections to `url`. Connections are opened lazily, so this
/// succeeds even while the server is down; checking one out then fails after
/// [`POOL_TIMEOUT`] with an error whose [`StoreError::is_unavailable`] is true.
pub fn pool(url: &str, max_size: usize) -> Result<Pool, StoreError> {
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(|url| Box::pin(establish(url)));
    let manager = AsyncDieselConnectionManager::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(POOL_TIMEOUT))
        .create_timeout(Some(POOL_TIMEOUT))
        .recycle_timeout(Some(POOL_TIMEOUT))
        .build()
        .map_err(StoreError::PoolBuild)
}

/// One round trip (`SELECT 1`): whether the server behind `conn` answers. For health checks;
/// bound it with a timeout, since a server that stopped answering can leave it waiting.
pub async fn ping(conn: &mut AsyncMysqlConnection) -> Result<(), StoreError> {
    diesel::select(1_i32.into_sql::<diesel::sql_types::Integer>())
        .get_result::<i32>(conn)
        .await?;
    Ok(())
}
