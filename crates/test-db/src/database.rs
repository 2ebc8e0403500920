//! [`TestDatabase`]: an empty database of a test's own, dropped when the test ends.
//!
//! The server is chosen once per process and remembered; creating a database on it is one
//! `CREATE DATABASE`, so every test can afford its own. Dropping happens in `Drop`, which is
//! synchronous and may run inside a tokio test, so it talks to the server from a separate
//! thread with a runtime of its own rather than blocking on the test's runtime.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text, Unsigned};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};
use tokio::sync::OnceCell;

use crate::url::ServerUrl;

/// Prefix of every database this crate creates; [`owner_pid`] relies on its shape.
const NAME_PREFIX: &str = "ansinh_t_";

/// The default server of this process (see [`TestDatabase::new`]).
static DEFAULT_SERVER: OnceCell<ServerUrl> = OnceCell::const_new();

/// How long the conventional local server gets to answer before the harness starts its own.
const LOCAL_PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A freshly created, empty `utf8mb4` database, dropped (with any connections still using it)
/// when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    server: ServerUrl,
    url: String,
}

impl TestDatabase {
    /// Creates a database on this process's test server:
    /// 1. the server of `TEST_DATABASE_URL` if that is set (its database part is ignored);
    /// 2. else `root` without a password on `127.0.0.1:3306`, if it answers within a second;
    /// 3. else a MariaDB started by this crate and shared by all test processes.
    ///
    /// Panics with a message saying what to install or set if none of those works.
    pub async fn new() -> Self {
        let server = DEFAULT_SERVER
            .get_or_try_init(choose_server)
            .await
            .unwrap_or_else(|message| panic!("no MySQL server for tests: {message}"));
        Self::create(server.clone()).await
    }

    /// Creates a database on the server at `server_url` (e.g. a
    /// [`ThrowawayServer`](crate::ThrowawayServer)'s); the URL's database part is ignored.
    pub async fn on_server(server_url: &str) -> Self {
        let server = ServerUrl::parse(server_url)
            .unwrap_or_else(|e| panic!("invalid server URL for a test database: {e}"));
        Self::create(server).await
    }

    async fn create(server: ServerUrl) -> Self {
        let name = format!("{NAME_PREFIX}{}", crate::unique_suffix());
        let mut conn = connect(&server.server())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server {}: {e}", server.host()));
        // Identifiers cannot be bound; `name` is built from digits and underscores above.
        conn.batch_execute(&format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        ))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot create test database {name} on {}: {e}",
                server.host()
            )
        });
        let url = server.with_database(&name);
        Self { name, server, url }
    }

    /// The database name, `ansinh_t_<pid>_<n>_<nanos>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `mysql://user:password@host:port/<name>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's URL without a database.
    pub fn server_url(&self) -> String {
        self.server.server()
    }

    /// A new connection to this database.
    pub async fn connect(&self) -> AsyncMysqlConnection {
        connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to test database {}: {e}", self.name))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(drop_database(&server, &name))
        })
        .join();
        // Panicking in Drop while a failed test unwinds would abort the whole test binary and
        // hide the test's own message, so a leak is only reported.
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: test database {} was not dropped: {e}", self.name),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}

/// The process id embedded in a database name this crate created, if `name` is one.
pub(crate) fn owner_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(NAME_PREFIX)?;
    if !rest.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    rest.split('_').next()?.parse().ok()
}

async fn connect(url: &str) -> Result<AsyncMysqlConnection, diesel::ConnectionError> {
    AsyncMysqlConnection::establish(url).await
}

async fn choose_server() -> Result<ServerUrl, String> {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        return ServerUrl::parse(&url).map_err(|e| format!("TEST_DATABASE_URL: {e}"));
    }
    let local =
        ServerUrl::parse("mysql://root@127.0.0.1:3306?prefer_socket=false").expect("a valid URL");
    if crate::mariadb::answers(&local, LOCAL_PROBE_TIMEOUT).await {
        return Ok(local);
    }
    crate::shared::server_url().await.map_err(|e| e.to_string())
}

#[derive(QueryableByName)]
struct SessionId {
    #[diesel(sql_type = Unsigned<BigInt>)]
    id: u64,
}

/// Kills the sessions still using the database (a pool the test leaked, a transaction left
/// open by a panic) so that `DROP DATABASE` does not wait for their metadata locks, then
/// drops it.
async fn drop_database(server: &ServerUrl, name: &str) -> Result<(), String> {
    let mut conn = connect(&server.server())
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", server.host()))?;
    let sessions = diesel::sql_query(
        "SELECT id AS id FROM information_schema.processlist \
         WHERE db = ? AND id <> CONNECTION_ID()",
    )
    .bind::<Text, _>(name)
    .load::<SessionId>(&mut conn)
    .await
    .unwrap_or_default();
    for SessionId { id } in sessions {
        // The session may have ended in the meantime ("unknown thread id"): fine.
        let _ = conn.batch_execute(&format!("KILL CONNECTION {id}")).await;
    }
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS `{name}`"))
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::owner_pid;

    #[test]
    fn owner_pid_reads_only_harness_names() {
        assert_eq!(owner_pid("ansinh_t_4242_0_123456"), Some(4242));
        assert_eq!(owner_pid("ansinh_production"), None);
        assert_eq!(owner_pid("ansinh_t_12`; DROP"), None);
    }
}
