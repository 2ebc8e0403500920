//! The server's handle on MySQL: a connection pool whose every wait is bounded, so that a call
//! made while MySQL is away fails quickly with UNAVAILABLE instead of hanging, and succeeds
//! again as soon as MySQL is back (the pool replaces dead connections on checkout).

use std::time::Duration;

use ansinh_store::{Pool, PooledConnection, StoreError};

use crate::error::ApiError;

/// A cloneable handle on the pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    timeout: Duration,
}

impl Db {
    /// Builds the pool; connections are opened lazily, so this succeeds while MySQL is down.
    pub fn new(url: &str, max_size: usize, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self {
            pool: ansinh_store::pool(url, max_size)?,
            timeout,
        })
    }

    /// A connection, or UNAVAILABLE when none can be had within the timeout.
    pub async fn conn(&self) -> Result<PooledConnection, ApiError> {
        match tokio::time::timeout(self.timeout, self.pool.get()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(error)) => {
                tracing::warn!(%error, "no database connection");
                Err(ApiError::Unavailable)
            }
            Err(_) => {
                tracing::warn!(timeout = ?self.timeout, "timed out waiting for a database connection");
                Err(ApiError::Unavailable)
            }
        }
    }

    /// Whether MySQL answers a trivial query within the timeout.
    pub async fn ping(&self) -> Result<(), ApiError> {
        let mut conn = self.conn().await?;
        match tokio::time::timeout(self.timeout, ansinh_store::ping(&mut conn)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(ApiError::Unavailable),
        }
    }
}

/// Maps a store failure: a lost connection is UNAVAILABLE, anything else is internal.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            ApiError::Unavailable
        } else {
            ApiError::Internal(Box::new(error))
        }
    }
}
