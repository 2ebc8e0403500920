//! The run lock: a named MySQL lock held by one session, so two import runs never
//! interleave. The server releases it when the session ends, however the process died.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use super::Result;

/// The name of the lock every import run takes, followed by the database name: named locks are
/// server-wide, and runs into different databases of one server may go side by side.
pub const RUN_LOCK: &str = "ansinh-import:";

#[derive(diesel::QueryableByName)]
struct LockResult {
    #[diesel(sql_type = Nullable<BigInt>)]
    got: Option<i64>,
}

/// Takes the run lock without waiting; `false` when another session holds it.
pub async fn try_run_lock(conn: &mut AsyncMysqlConnection) -> Result<bool> {
    let result: LockResult = diesel::sql_query("SELECT GET_LOCK(CONCAT(?, DATABASE()), 0) AS got")
        .bind::<Text, _>(RUN_LOCK)
        .get_result(conn)
        .await?;
    Ok(result.got == Some(1))
}

pub async fn release_run_lock(conn: &mut AsyncMysqlConnection) -> Result<()> {
    diesel::sql_query("DO RELEASE_LOCK(CONCAT(?, DATABASE()))")
        .bind::<Text, _>(RUN_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}
