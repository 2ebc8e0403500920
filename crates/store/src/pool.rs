//! Connections: the pool the server uses and single connections for tools and tests, all
//! opened with the same session settings.
//!
//! The session's `sql_mode` is set explicitly instead of trusting the server's default, so
//! that MariaDB (whose default lacks `ONLY_FULL_GROUP_BY`) rejects the same non-portable
//! queries MySQL 8 would, and a permissively configured server still refuses to truncate or
//! coerce bad values instead of storing them.
//!
//! A pooled connection is never handed to a caller while an earlier caller's statement may
//! still be unanswered on it. A call cancelled at its deadline drops its query's future
//! wherever it was: after the statement was sent, the server's answer is still on its way, and
//! the next statement on that connection would read it as its own (rows of another query,
//! columns shifted) or fail as a broken connection. diesel-async and mysql_async do not guard
//! against this, so every pooled connection carries a [`StatementWatch`] and the pool closes
//! a connection whose last statement never finished instead of reusing it.

use std::time::{Duration, Instant};

use diesel::IntoSql as _;
use diesel::connection::{Instrumentation, InstrumentationEvent};

use deadpool::managed::{Metrics, RecycleError, RecycleResult};
use diesel_async::pooled_connection::{PoolError, PoolableConnection as _};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::StoreError;

/// The connection pool type every binary shares.
pub type Pool = deadpool::managed::Pool<Manager>;

/// A connection checked out of a [`Pool`]; derefs to `AsyncMysqlConnection`.
pub type PooledConnection = deadpool::managed::Object<Manager>;

/// How long after it last answered a pooled connection is handed out without a `SELECT 1`
/// first. Checking before every use cost a round trip per call (a tenth of a cold
/// GetTimeSeries' server time, docs/benchmarks.md); HikariCP skips its check for 500 ms too.
/// Measured from the last check, not the last use, so that a connection that died keeps being
/// handed out for at most this long: after MySQL comes back, a call may meet a connection it
/// dropped only if that connection was checked within this window before the outage.
pub const CHECK_AFTER: Duration = Duration::from_millis(500);

/// An open connection of a [`Pool`] and when it last answered a check.
pub struct Checked {
    conn: AsyncMysqlConnection,
    answered: Instant,
}

impl std::ops::Deref for Checked {
    type Target = AsyncMysqlConnection;

    fn deref(&self) -> &AsyncMysqlConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Checked {
    fn deref_mut(&mut self) -> &mut AsyncMysqlConnection {
        &mut self.conn
    }
}

/// Opens the pool's connections with the project's session settings and checks one before
/// handing it out again, unless it answered within [`CHECK_AFTER`].
pub struct Manager {
    url: String,
}

impl deadpool::managed::Manager for Manager {
    type Type = Checked;
    type Error = PoolError;

    async fn create(&self) -> Result<Checked, PoolError> {
        let mut conn = establish(&self.url)
            .await
            .map_err(PoolError::ConnectionError)?;
        conn.set_instrumentation(StatementWatch::default());
        Ok(Checked {
            conn,
            answered: Instant::now(),
        })
    }

    async fn recycle(&self, checked: &mut Checked, _: &Metrics) -> RecycleResult<PoolError> {
        // A connection dropped mid-transaction (or by a panicking task) is never reused.
        if std::thread::panicking() || checked.conn.is_broken() {
            return Err(RecycleError::Message("broken connection".into()));
        }
        if let Some(reason) = StatementWatch::unfit(&mut checked.conn) {
            tracing::debug!(reason, "closing a pooled database connection");
            return Err(RecycleError::Message(reason.into()));
        }
        if checked.answered.elapsed() >= CHECK_AFTER {
            select_one(&mut checked.conn)
                .await
                .map_err(PoolError::QueryError)?;
            checked.answered = Instant::now();
        }
        Ok(())
    }
}

/// What a pooled connection's statements left it in, from the events diesel-async reports:
/// `StartQuery` before a statement is sent, `FinishQuery` once its answer (a result set's
/// header, or the whole reply of any other statement) has been read. A statement started and
/// not finished was dropped mid-answer; its reply may still arrive on the socket. Rows a
/// finished query left unread are not a risk: mysql_async reads them off before the next
/// statement.
#[derive(Debug, Default)]
struct StatementWatch {
    unfinished: u32,
    lost: bool,
}

impl StatementWatch {
    /// Why `conn` must not be reused, or `None` when it may be. A connection opened without a
    /// watch (not by a [`Pool`]) is never judged unfit here.
    fn unfit(conn: &mut AsyncMysqlConnection) -> Option<&'static str> {
        let watch = conn.instrumentation().downcast_ref::<Self>()?;
        if watch.unfinished > 0 {
            Some("a statement was cancelled before its answer was read")
        } else if watch.lost {
            Some("the connection was lost during a statement")
        } else {
            None
        }
    }
}

impl Instrumentation for StatementWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.unfinished += 1,
            InstrumentationEvent::FinishQuery { error, .. } => {
                self.unfinished = self.unfinished.saturating_sub(1);
                self.lost |= error.is_some_and(crate::error::is_connection_lost);
            }
            _ => {}
        }
    }
}

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
/// succeeds even while the server is down; checking one out then fails (after at most `wait`
/// for a free connection, or [`POOL_TIMEOUT`] to open one) with an error whose
/// [`StoreError::is_unavailable`] is true.
pub fn pool(url: &str, max_size: usize, wait: Duration) -> Result<Pool, StoreError> {
    let manager = Manager {
        url: url.to_owned(),
    };
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(wait))
        .create_timeout(Some(POOL_TIMEOUT))
        .recycle_timeout(Some(POOL_TIMEOUT))
        .build()
        .map_err(StoreError::PoolBuild)
}

/// One round trip (`SELECT 1`): whether the server behind `conn` answers. For health checks;
/// bound it with a timeout, since a server that stopped answering can leave it waiting.
pub async fn ping(conn: &mut AsyncMysqlConnection) -> Result<(), StoreError> {
    Ok(select_one(conn).await?)
}

/// `SELECT 1`: the round trip of [`ping`] and of the pool's check.
async fn select_one(conn: &mut AsyncMysqlConnection) -> diesel::QueryResult<()> {
    diesel::select(1_i32.into_sql::<diesel::sql_types::Integer>())
        .get_result::<i32>(conn)
        .await
        .map(drop)
}
