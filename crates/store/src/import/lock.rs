//! The run lock: a named MySQL lock held by one session, so two import runs never
//! interleave. The server releases it when the session ends, however the process died.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use super::Result;

/// The name of the lock every import run takes, followed by the database name: named locks are
/// server-wide, and runs into different databases of one server may go side by side.
pub const RUN_LOCK: &str = "ansinh-import:";

/// What [`try_run_lock`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLock {
    /// This session holds the lock now.
    Taken,
    /// Another session holds the lock of runs into `database` (the lock is
    /// `ansinh-import:<database>`).
    Held { database: String },
    /// The session has no current database (the URL names none): there is no lock to take,
    /// and nothing to import into.
    NoDatabase,
}

#[derive(diesel::QueryableByName)]
struct LockResult {
    #[diesel(sql_type = Nullable<BigInt>)]
    got: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    database: Option<String>,
}

/// Takes the run lock without waiting.
pub async fn try_run_lock(conn: &mut AsyncMysqlConnection) -> Result<RunLock> {
    // Without a database CONCAT is NULL and so is GET_LOCK's answer, which would read as
    // "held": the database name tells the two apart.
    let result: LockResult = diesel::sql_query(
        "SELECT GET_LOCK(CONCAT(?, DATABASE()), 0) AS got, DATABASE() AS `database`",
    )
    .bind::<Text, _>(RUN_LOCK)
    .get_result(conn)
    .await?;
    Ok(match (result.got, result.database) {
        (_, None) => RunLock::NoDatabase,
        (Some(1), Some(_)) => RunLock::Taken,
        (_, Some(database)) => RunLock::Held { database },
    })
}

pub async fn release_run_lock(conn: &mut AsyncMysqlConnection) -> Result<()> {
    diesel::sql_query("DO RELEASE_LOCK(CONCAT(?, DATABASE()))")
        .bind::<Text, _>(RUN_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}
