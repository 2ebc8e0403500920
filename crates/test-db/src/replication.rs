//! [`ReplicatedPair`]: a throwaway MariaDB primary and a replica of it, on loopback ports.
//!
//! Tests of a server that reads a replica while the importer writes to the primary need the
//! real thing: binary-log replication with its delay, its all-or-nothing application of a
//! transaction, and a replica that can lag, stop replicating or restart. The primary writes a
//! row-based binary log; the replica follows it by GTID (`CHANGE MASTER TO ...
//! MASTER_USE_GTID = slave_pos`), read-only, and resumes by itself after a restart. Both are
//! [`ThrowawayServer`]s, so each can be stopped and started like any other, and both disappear
//! with the pair.

use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::server::{ThrowawayError, ThrowawayServer};

/// The account the replica logs in to the primary with (`REPLICATION SLAVE` only). Its
/// password is no secret: both servers listen on 127.0.0.1 and live as long as a test.
const REPLICATION_USER: &str = "ansinh_replication";
const REPLICATION_PASSWORD: &str = "ansinh_replication";

/// How long the replica may take to connect to the primary and start applying its log.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often [`ReplicatedPair::start_replication`] looks at the replica's threads.
const POLL: Duration = Duration::from_millis(20);

/// The primary's options: a row-based binary log (MySQL 8's default; MariaDB's is mixed, which
/// would replay the importer's `LOAD DATA` statements on the replica instead of shipping their
/// rows), kept in the data directory so that it survives a restart.
const PRIMARY_ARGS: &[&str] = &[
    "--server-id=1",
    "--log-bin=primary-bin",
    "--binlog-format=ROW",
];

/// The replica's options: read-only for every account without `SUPER` or `READ_ONLY ADMIN`
/// (the replication threads write regardless), relay log in the data directory. Replication
/// starts again by itself when the server does (no `--skip-slave-start`), as in production.
const REPLICA_ARGS: &[&str] = &[
    "--server-id=2",
    "--relay-log=replica-relay-bin",
    "--read-only=ON",
];

/// Why a replicated pair could not be set up, or did not do what was asked in time.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    #[error(transparent)]
    Server(#[from] ThrowawayError),
    #[error("the {server}: {what}: {message}")]
    Sql {
        server: &'static str,
        what: &'static str,
        message: String,
    },
    #[error("the replica was not replicating {waited:?} after START SLAVE; its status: {status:?}")]
    NotReplicating {
        waited: Duration,
        status: Option<ReplicaStatus>,
    },
    #[error(
        "the replica had not applied the primary's GTID position {position:?} after {waited:?}; \
         its status: {status:?}"
    )]
    Behind {
        position: String,
        waited: Duration,
        status: Option<ReplicaStatus>,
    },
}

/// The replica's view of its replication, from `SHOW SLAVE STATUS`.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ReplicaStatus {
    /// The thread that reads the primary's log: `Yes`, `No`, or `Connecting` while the
    /// primary does not answer.
    #[diesel(sql_type = Text, column_name = "Slave_IO_Running")]
    pub io_running: String,
    /// The thread that applies it: `Yes` or `No`.
    #[diesel(sql_type = Text, column_name = "Slave_SQL_Running")]
    pub sql_running: String,
    /// How far the applied events are behind the primary's clock; `None` when a thread is
    /// stopped (or the I/O thread is not connected).
    #[diesel(sql_type = Nullable<BigInt>, column_name = "Seconds_Behind_Master")]
    pub seconds_behind: Option<i64>,
    /// The GTID position of the last transaction received from the primary (applied or not),
    /// `domain-server-sequence`.
    #[diesel(sql_type = Text, column_name = "Gtid_IO_Pos")]
    pub received_position: String,
    #[diesel(sql_type = Text, column_name = "Last_IO_Error")]
    pub last_io_error: String,
    #[diesel(sql_type = Text, column_name = "Last_SQL_Error")]
    pub last_sql_error: String,
}

impl ReplicaStatus {
    /// Whether both replication threads run.
    pub fn replicating(&self) -> bool {
        self.io_running == "Yes" && self.sql_running == "Yes"
    }
}

/// A primary with a binary log and a replica that follows it, each a [`ThrowawayServer`]
/// reachable as `root` without a password on its own `127.0.0.1` port. Everything written to
/// the primary (databases, tables, rows, users and grants) reaches the replica; nothing should
/// be written to the replica. Dropped, both servers are killed and their directories deleted.
///
/// Fields drop in order: the replica, then the primary.
#[derive(Debug)]
pub struct ReplicatedPair {
    replica: ThrowawayServer,
    primary: ThrowawayServer,
}

impl ReplicatedPair {
    /// Starts a primary and a replica of it and returns once the replica replicates. Takes a
    /// few seconds (two data directories are created).
    pub async fn new() -> Result<Self, ReplicationError> {
        let args = |args: &[&str]| args.iter().map(|arg| (*arg).to_owned()).collect();
        let (primary, replica) = tokio::join!(
            ThrowawayServer::with_args(args(PRIMARY_ARGS)),
            ThrowawayServer::with_args(args(REPLICA_ARGS)),
        );
        let pair = Self {
            primary: primary?,
            replica: replica?,
        };
        // Written to the primary's log and so replicated too, like any account.
        execute(
            &pair.primary,
            "primary",
            "creating the replication account",
            &format!(
                "CREATE USER '{REPLICATION_USER}'@'127.0.0.1' IDENTIFIED BY '{REPLICATION_PASSWORD}'; \
                 GRANT REPLICATION SLAVE ON *.* TO '{REPLICATION_USER}'@'127.0.0.1'"
            ),
        )
        .await?;
        // An empty gtid_slave_pos starts at the beginning of the primary's log, which began
        // when the primary first started: the replica gets everything written to it. CHANGE
        // MASTER takes no placeholders; every value here is the harness's own.
        execute(
            &pair.replica,
            "replica",
            "pointing it at the primary",
            &format!(
                "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}, \
                 MASTER_USER = '{REPLICATION_USER}', MASTER_PASSWORD = '{REPLICATION_PASSWORD}', \
                 MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
                pair.primary.port()
            ),
        )
        .await?;
        pair.start_replication().await?;
        Ok(pair)
    }

    /// The primary, which the importer writes to.
    pub fn primary(&self) -> &ThrowawayServer {
        &self.primary
    }

    /// The primary, to stop and start it.
    pub fn primary_mut(&mut self) -> &mut ThrowawayServer {
        &mut self.primary
    }

    /// The replica, which the query server reads.
    pub fn replica(&self) -> &ThrowawayServer {
        &self.replica
    }

    /// The replica, to stop and start it; it resumes replicating when started again.
    pub fn replica_mut(&mut self) -> &mut ThrowawayServer {
        &mut self.replica
    }

    /// `STOP SLAVE`: the replica keeps answering with what it has applied so far, and applies
    /// nothing more until [`start_replication`](Self::start_replication).
    pub async fn stop_replication(&self) -> Result<(), ReplicationError> {
        execute(
            &self.replica,
            "replica",
            "stopping replication",
            "STOP SLAVE",
        )
        .await
    }

    /// `START SLAVE`, then waits until both replication threads run.
    pub async fn start_replication(&self) -> Result<(), ReplicationError> {
        execute(
            &self.replica,
            "replica",
            "starting replication",
            "START SLAVE",
        )
        .await?;
        let started = Instant::now();
        loop {
            let status = self.status().await.ok();
            if status.as_ref().is_some_and(ReplicaStatus::replicating) {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(ReplicationError::NotReplicating {
                    waited: START_TIMEOUT,
                    status,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Makes the replica apply each transaction no sooner than `delay` after the primary
    /// committed it (`MASTER_DELAY`, whole seconds): a replica that lags on purpose.
    /// Replication is restarted for it.
    pub async fn set_delay(&self, delay: Duration) -> Result<(), ReplicationError> {
        self.stop_replication().await?;
        execute(
            &self.replica,
            "replica",
            "setting MASTER_DELAY",
            &format!("CHANGE MASTER TO MASTER_DELAY = {}", delay.as_secs()),
        )
        .await?;
        self.start_replication().await
    }

    /// `SHOW SLAVE STATUS` of the replica.
    pub async fn status(&self) -> Result<ReplicaStatus, ReplicationError> {
        let mut conn = connect(&self.replica, "replica").await?;
        diesel::sql_query("SHOW SLAVE STATUS")
            .get_result::<ReplicaStatus>(&mut conn)
            .await
            .map_err(|e| sql_error("replica", "SHOW SLAVE STATUS", e))
    }

    /// The GTID position of everything the primary has written to its log so far.
    pub async fn primary_position(&self) -> Result<String, ReplicationError> {
        #[derive(QueryableByName)]
        struct Position {
            #[diesel(sql_type = Text)]
            position: String,
        }
        let mut conn = connect(&self.primary, "primary").await?;
        diesel::sql_query("SELECT @@GLOBAL.gtid_binlog_pos AS position")
            .get_result::<Position>(&mut conn)
            .await
            .map(|p| p.position)
            .map_err(|e| sql_error("primary", "reading gtid_binlog_pos", e))
    }

    /// Waits until the replica has applied the primary's log up to `position` (from
    /// [`primary_position`](Self::primary_position)), at most `limit`; how long it took.
    pub async fn wait_for_position(
        &self,
        position: &str,
        limit: Duration,
    ) -> Result<Duration, ReplicationError> {
        #[derive(QueryableByName)]
        struct Waited {
            #[diesel(sql_type = BigInt)]
            waited: i64,
        }
        let started = Instant::now();
        let mut conn = connect(&self.replica, "replica").await?;
        // MASTER_GTID_WAIT returns 0 once the position is applied and -1 after its timeout;
        // the outer timeout guards against a replica that stops answering altogether.
        let wait = diesel::sql_query("SELECT MASTER_GTID_WAIT(?, ?) AS waited")
            .bind::<Text, _>(position)
            .bind::<Double, _>(limit.as_secs_f64())
            .get_result::<Waited>(&mut conn);
        let waited = tokio::time::timeout(limit + Duration::from_secs(5), wait).await;
        match waited {
            Ok(Ok(Waited { waited: 0 })) => Ok(started.elapsed()),
            Ok(Err(e)) => Err(sql_error("replica", "MASTER_GTID_WAIT", e)),
            Ok(Ok(_)) | Err(_) => Err(ReplicationError::Behind {
                position: position.to_owned(),
                waited: started.elapsed(),
                status: self.status().await.ok(),
            }),
        }
    }

    /// Waits until the replica has applied everything the primary has logged so far, at most
    /// `limit`; how long it took.
    pub async fn catch_up(&self, limit: Duration) -> Result<Duration, ReplicationError> {
        let position = self.primary_position().await?;
        self.wait_for_position(&position, limit).await
    }
}

async fn connect(
    server: &ThrowawayServer,
    name: &'static str,
) -> Result<AsyncMysqlConnection, ReplicationError> {
    AsyncMysqlConnection::establish(&server.url())
        .await
        .map_err(|e| ReplicationError::Sql {
            server: name,
            what: "connecting",
            message: e.to_string(),
        })
}

async fn execute(
    server: &ThrowawayServer,
    name: &'static str,
    what: &'static str,
    statements: &str,
) -> Result<(), ReplicationError> {
    connect(server, name)
        .await?
        .batch_execute(statements)
        .await
        .map_err(|e| sql_error(name, what, e))
}

fn sql_error(
    server: &'static str,
    what: &'static str,
    error: diesel::result::Error,
) -> ReplicationError {
    ReplicationError::Sql {
        server,
        what,
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn what_the_primary_commits_the_replica_applies_and_a_stopped_replica_does_not() {
        let pair = ReplicatedPair::new().await.unwrap();
        let mut primary = AsyncMysqlConnection::establish(&pair.primary().url())
            .await
            .unwrap();
        primary
            .batch_execute(
                "CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY); \
                 INSERT INTO r.t VALUES (1)",
            )
            .await
            .unwrap();
        pair.catch_up(Duration::from_secs(30)).await.unwrap();
        let count = |server: &ThrowawayServer| {
            let url = server.url();
            async move {
                #[derive(QueryableByName)]
                struct Count {
                    #[diesel(sql_type = BigInt)]
                    n: i64,
                }
                let mut conn = AsyncMysqlConnection::establish(&url).await.unwrap();
                diesel::sql_query("SELECT COUNT(*) AS n FROM r.t")
                    .get_result::<Count>(&mut conn)
                    .await
                    .unwrap()
                    .n
            }
        };
        assert_eq!(count(pair.replica()).await, 1);

        pair.stop_replication().await.unwrap();
        let status = pair.status().await.unwrap();
        assert!(!status.replicating(), "{status:?}");
        assert_eq!(status.seconds_behind, None, "{status:?}");
        primary
            .batch_execute("INSERT INTO r.t VALUES (2)")
            .await
            .unwrap();
        let position = pair.primary_position().await.unwrap();
        let behind = pair
            .wait_for_position(&position, Duration::from_millis(500))
            .await;
        assert!(
            matches!(behind, Err(ReplicationError::Behind { .. })),
            "{behind:?}"
        );
        assert_eq!(count(pair.replica()).await, 1);

        pair.start_replication().await.unwrap();
        pair.wait_for_position(&position, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(count(pair.replica()).await, 2);
        let status = pair.status().await.unwrap();
        assert!(status.replicating(), "{status:?}");
        assert_eq!(status.seconds_behind, Some(0), "{status:?}");
    }
}
