//! The server's handle on MySQL: a connection pool whose every wait is bounded, so that a call
//! made while MySQL is away fails quickly with UNAVAILABLE instead of hanging, and succeeds
//! again as soon as MySQL is back (the pool checks a connection on checkout unless it answered
//! within `ansinh_store::CHECK_AFTER`, and replaces the dead ones).
//!
//! The server's own background work (the health check, the cache's check for a new import run,
//! the metrics scrape's ledger read) has a small pool of its own: were it to queue behind the
//! calls for the request pool, a busy server would report its database as down and stop
//! serving from its cache exactly when it is most loaded.

use std::time::Duration;

use ansinh_store::{Pool, PooledConnection, StoreError};

use crate::error::ApiError;

/// Connections for the background work: health, the cache's check, the metrics scrape.
const CONTROL_CONNECTIONS: usize = 3;

/// A cloneable handle on the pools.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    control: Pool,
    timeout: Duration,
}

impl Db {
    /// Builds the pools; connections are opened lazily, so this succeeds while MySQL is down.
    pub fn new(url: &str, max_size: usize, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self {
            pool: ansinh_store::pool(url, max_size, timeout)?,
            control: ansinh_store::pool(url, CONTROL_CONNECTIONS, timeout)?,
            timeout,
        })
    }

    /// How long a call waits for the database.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A connection for a call, or UNAVAILABLE when none can be had within the timeout.
    pub async fn conn(&self) -> Result<PooledConnection, ApiError> {
        checkout(&self.pool, self.timeout).await
    }

    /// A connection for the server's background work, which never waits behind calls.
    pub async fn control_conn(&self) -> Result<PooledConnection, ApiError> {
        checkout(&self.control, self.timeout).await
    }

    /// How the pool is used right now, for metrics.
    pub fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus {
            max: status.max_size,
            in_use: status.size.saturating_sub(status.available),
            idle: status.available,
            waiting: status.waiting,
        }
    }

    /// Whether MySQL answers a trivial query within the timeout.
    pub async fn ping(&self) -> Result<(), ApiError> {
        let mut conn = self.control_conn().await?;
        match tokio::time::timeout(self.timeout, ansinh_store::ping(&mut conn)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(ApiError::Unavailable),
        }
    }
}

async fn checkout(pool: &Pool, timeout: Duration) -> Result<PooledConnection, ApiError> {
    match tokio::time::timeout(timeout, pool.get()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(error)) => {
            tracing::warn!(%error, "no database connection");
            Err(ApiError::Unavailable)
        }
        Err(_) => {
            tracing::warn!(?timeout, "timed out waiting for a database connection");
            Err(ApiError::Unavailable)
        }
    }
}

/// Connections of the pool, by what they are doing.
#[derive(Debug, Clone, Copy)]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max: usize,
    /// Checked out by a call.
    pub in_use: usize,
    /// Open and free.
    pub idle: usize,
    /// Calls waiting for a connection.
    pub waiting: usize,
}
