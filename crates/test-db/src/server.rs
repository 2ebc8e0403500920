//! [`ThrowawayServer`]: a private MariaDB for one test, which the test may stop and restart.
//!
//! Tests of what the service does when MySQL goes away (UNAVAILABLE, health NOT_SERVING,
//! reconnecting) need a server they can take down without disturbing every other test, so
//! this one lives in its own temporary directory, listens on its own port, and disappears
//! with its owner.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use crate::mariadb::{self, Binaries, Layout};
use crate::url::ServerUrl;

/// How long a graceful shutdown may take before the server is killed. An idle test server
/// stops in well under a second.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// Attempts at finding a free port for a new server: the port is only probed, so another
/// process can take it before `mariadbd` binds it.
const PORT_ATTEMPTS: usize = 3;

/// Why a throwaway MariaDB could not be created, started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ThrowawayError {
    #[error(
        "MariaDB server binaries not found (looked for mariadbd and mariadb-install-db on PATH \
         and in /usr/sbin): install them with `apt-get install mariadb-server` (or run \
         deploy/local-db.sh), or set TEST_DATABASE_URL to a MySQL/MariaDB server"
    )]
    BinariesMissing,
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("mariadb-install-db failed ({status}); its output:\n{output}")]
    InstallFailed { status: ExitStatus, output: String },
    #[error("mariadbd exited while starting ({status}); its error log ends with:\n{log}")]
    ServerExited { status: ExitStatus, log: String },
    #[error("mariadbd did not accept a login within {waited:?}; its error log ends with:\n{log}")]
    NotReady { waited: Duration, log: String },
    #[error("mariadbd did not stop within {waited:?} of SIGTERM and was killed")]
    StopTimeout { waited: Duration },
}

impl ThrowawayError {
    pub(crate) fn io(path: impl AsRef<Path>, source: io::Error) -> Self {
        Self::Io {
            path: path.as_ref().to_owned(),
            source,
        }
    }

    /// A start that failed because another process bound the port first.
    pub(crate) fn is_port_taken(&self) -> bool {
        matches!(self, Self::ServerExited { log, .. }
            if log.contains("Address already in use") || log.contains("Bind on TCP/IP port"))
    }
}

/// A MariaDB server in a temporary directory, reachable as `root` without a password on
/// `127.0.0.1:<port>`.
///
/// [`stop`](Self::stop) and [`start`](Self::start) keep the data directory and the port, so a
/// client configured with [`url`](Self::url) reconnects to the same data after a restart.
/// Dropping the server kills it and deletes its directory.
#[derive(Debug)]
pub struct ThrowawayServer {
    dir: PathBuf,
    layout: Layout,
    binaries: Binaries,
    url: ServerUrl,
    port: u16,
    /// Options added to `mariadbd`'s command line at every start (a replication role).
    extra_args: Vec<String>,
    child: Option<tokio::process::Child>,
}

impl ThrowawayServer {
    /// Creates a data directory and starts a server on a free port. Takes about a second.
    pub async fn new() -> Result<Self, ThrowawayError> {
        Self::with_args(Vec::new()).await
    }

    /// Like [`new`](Self::new), with `extra_args` added to `mariadbd`'s options at every start:
    /// the replication settings of [`ReplicatedPair`](crate::ReplicatedPair), which must survive
    /// a restart.
    pub(crate) async fn with_args(extra_args: Vec<String>) -> Result<Self, ThrowawayError> {
        let binaries = Binaries::find()?;
        let dir = std::env::temp_dir().join(format!("ansinh-mariadb-{}", crate::unique_suffix()));
        std::fs::create_dir(&dir).map_err(|e| ThrowawayError::io(&dir, e))?;
        let layout = Layout::in_dir(&dir);
        // Constructed before anything can fail so that Drop removes the directory.
        let mut server = Self {
            dir,
            layout,
            binaries,
            url: ServerUrl::local_root(0),
            port: 0,
            extra_args,
            child: None,
        };
        mariadb::install(&server.binaries, &server.layout).await?;
        let mut attempt = 1;
        loop {
            server.port = mariadb::free_port().map_err(|e| ThrowawayError::io("127.0.0.1:0", e))?;
            server.url = ServerUrl::local_root(server.port);
            match server.start().await {
                Err(e) if e.is_port_taken() && attempt < PORT_ATTEMPTS => attempt += 1,
                result => return result.map(|()| server),
            }
        }
    }

    /// `mysql://root@127.0.0.1:<port>?prefer_socket=false` — no database selected.
    pub fn url(&self) -> String {
        self.url.server()
    }

    /// The URL of `database` on this server.
    pub fn database_url(&self, database: &str) -> String {
        self.url.with_database(database)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether a root login on the server's port is answered within `timeout`.
    pub async fn accepts_login(&self, timeout: Duration) -> bool {
        mariadb::answers(&self.url, timeout).await
    }

    /// The `mariadbd` process's id while it runs: the process this value started, not one
    /// read back from a pid file or through whatever answers on the port.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(tokio::process::Child::id)
    }

    /// The server's data directory (kept across [`stop`](Self::stop) and [`start`](Self::start)).
    pub fn data_dir(&self) -> &Path {
        &self.layout.data_dir
    }

    /// Whether the server process is alive (it may still be starting or stopping).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Starts the server again on the same data directory and port and waits until it accepts
    /// logins. Does nothing if it is running.
    pub async fn start(&mut self) -> Result<(), ThrowawayError> {
        if self.is_running() {
            return Ok(());
        }
        let mut command = mariadb::server_command(&self.binaries, &self.layout, self.port);
        command.args(&self.extra_args);
        let mut command: tokio::process::Command = command.into();
        command.kill_on_drop(true);
        let child = command
            .spawn()
            .map_err(|e| ThrowawayError::io(&self.binaries.server, e))?;
        let child = self.child.insert(child);
        mariadb::wait_until_ready(self.port, &self.layout, || child.try_wait().ok().flatten())
            .await
            .inspect_err(|_| self.child = None)
    }

    /// Shuts the server down gracefully (SIGTERM) and waits until the process has exited, so
    /// the port refuses connections when this returns. Does nothing if it is not running.
    pub async fn stop(&mut self) -> Result<(), ThrowawayError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(id.try_into().ok()?))
        {
            // ESRCH means it already exited; wait() below collects it either way.
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        match tokio::time::timeout(STOP_TIMEOUT, child.wait()).await {
            Ok(Ok(_status)) => Ok(()),
            Ok(Err(e)) => Err(ThrowawayError::io(&self.binaries.server, e)),
            Err(_elapsed) => {
                let _ = child.kill().await;
                Err(ThrowawayError::StopTimeout {
                    waited: STOP_TIMEOUT,
                })
            }
        }
    }
}

impl Drop for ThrowawayServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            // Reap it before deleting the directory, so the deletion does not race a server
            // still writing files. SIGKILL takes effect at once; the loop is a safety bound.
            for _ in 0..200 {
                if !matches!(child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if !self.layout.socket.starts_with(&self.dir) {
            let _ = std::fs::remove_file(&self.layout.socket);
        }
    }
}
