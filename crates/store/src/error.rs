//! [`StoreError`]: every way a store function fails, with messages safe to show a client.
//!
//! The Display text never contains SQL, URLs or server messages (which can quote row data);
//! the underlying diesel/driver error is kept as the `source` for logs. Callers that map
//! errors to gRPC statuses ask [`StoreError::is_unavailable`] rather than matching on
//! driver messages themselves, so that knowledge lives in one place.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Why a store function failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A connection could not be opened (server down, wrong URL or credentials).
    #[error("cannot connect to the database")]
    Connect(#[source] diesel::ConnectionError),
    /// No pooled connection became available in time, or the pool could not make one.
    #[error("no database connection available")]
    Pool(#[source] diesel_async::pooled_connection::deadpool::PoolError),
    /// The pool could not be built (a configuration error).
    #[error("cannot set up the database connection pool")]
    PoolBuild(#[source] diesel_async::pooled_connection::deadpool::BuildError),
    /// A statement failed.
    #[error("database query failed")]
    Query(#[source] DieselError),
    /// Applying or reverting schema migrations failed.
    #[error("database migration failed: {0}")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A bulk load did not take every row as sent (the server skipped or altered some).
    #[error("{0}")]
    LoadNotAsSent(String),
    /// Stored rows break a rule the schema cannot enforce (e.g. a level no model type knows).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The reference data bundled with this build is invalid (a defect of the build).
    #[error("bundled reference data is invalid: {0}")]
    Reference(String),
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        Self::Query(error)
    }
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(error: diesel::ConnectionError) -> Self {
        Self::Connect(error)
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for StoreError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::Pool(error)
    }
}

impl StoreError {
    /// Whether the database is unreachable or went away mid-statement (as opposed to a
    /// statement being rejected): what a server reports as `UNAVAILABLE`.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Connect(_) | Self::Pool(_) => true,
            Self::Query(error) => is_connection_lost(error),
            Self::PoolBuild(_)
            | Self::Migration(_)
            | Self::LoadNotAsSent(_)
            | Self::Corrupt(_)
            | Self::Reference(_) => false,
        }
    }
}

/// diesel-async reports every driver-side failure (I/O, a closed connection) as an
/// `Unknown` database error carrying mysql_async's message, while server errors carry only
/// the server's message; the driver's prefixes tell them apart. Server codes that mean the
/// session is gone (shutdown in progress, connection killed) count too.
pub(crate) fn is_connection_lost(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message();
            message.starts_with("Input/output error")
                || message.starts_with("Driver error")
                || message.contains("Connection to the server is closed")
                || message.contains("Server shutdown in progress")
                || message.contains("Connection was killed")
        }
        _ => false,
    }
}
