//! Running a private `mariadbd`: finding the binaries, creating a data directory, the
//! command line, and waiting until the server accepts logins.
//!
//! Shared by [`ThrowawayServer`](crate::ThrowawayServer), which owns its process, and the
//! shared test server, which outlives the process that started it. Everything here passes
//! `--no-defaults` so that a developer's `/etc/mysql` configuration (or a running system
//! server's socket and port) can never leak into a test server.

use std::ffi::OsString;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncMysqlConnection};

use crate::server::ThrowawayError;
use crate::url::ServerUrl;

/// How long a freshly started server may take to accept a login. Starting takes well under a
/// second on an idle machine; the margin is for a loaded CI box.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Directories searched after `PATH`: Debian puts `mariadbd` in `/usr/sbin`, which is not on a
/// normal user's `PATH`; Homebrew and tarball installs use the others.
const EXTRA_BIN_DIRS: &[&str] = &[
    "/usr/sbin",
    "/usr/local/sbin",
    "/usr/libexec",
    "/usr/local/bin",
    "/usr/local/mysql/bin",
    "/opt/homebrew/bin",
    "/opt/homebrew/sbin",
];

/// The two MariaDB programs the harness runs.
#[derive(Debug, Clone)]
pub(crate) struct Binaries {
    pub(crate) install_db: PathBuf,
    pub(crate) server: PathBuf,
}

impl Binaries {
    pub(crate) fn find() -> Result<Self, ThrowawayError> {
        let install_db = find_program(&["mariadb-install-db", "mysql_install_db"]);
        let server = find_program(&["mariadbd"]);
        match (install_db, server) {
            (Some(install_db), Some(server)) => Ok(Self { install_db, server }),
            _ => Err(ThrowawayError::BinariesMissing),
        }
    }
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let dirs = path_dirs
        .into_iter()
        .chain(EXTRA_BIN_DIRS.iter().map(PathBuf::from));
    for dir in dirs {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Where one server keeps its files. All of them live under one directory so that removing
/// it removes the server, except the socket when that path would be too long for `AF_UNIX`.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) data_dir: PathBuf,
    /// The server's own `--tmpdir`. A starting `mariadbd` deletes every `#sql*` file in its
    /// tmpdir, so servers sharing one (`/tmp`, the default, which the machine's own server
    /// may use too) would delete each other's temporary tables in the middle of a query.
    pub(crate) tmp_dir: PathBuf,
    pub(crate) socket: PathBuf,
    pub(crate) pid_file: PathBuf,
    pub(crate) error_log: PathBuf,
}

impl Layout {
    pub(crate) fn in_dir(dir: &Path) -> Self {
        let socket = dir.join("mariadbd.sock");
        // sun_path holds 108 bytes; mariadbd refuses longer socket paths. Nobody connects
        // through the socket (tests use TCP), it only has to be unique.
        let socket = if socket.as_os_str().len() < 100 {
            socket
        } else {
            std::env::temp_dir().join(format!("ansinh-mariadb-{}.sock", crate::unique_suffix()))
        };
        Self {
            data_dir: dir.join("data"),
            tmp_dir: dir.join("tmp"),
            socket,
            pid_file: dir.join("mariadbd.pid"),
            error_log: dir.join("mariadbd.err"),
        }
    }

    /// Creates the tmpdir if it is missing (a data directory made by an older version of this
    /// crate has none).
    pub(crate) fn create_tmp_dir(&self) -> Result<(), ThrowawayError> {
        std::fs::create_dir_all(&self.tmp_dir).map_err(|e| ThrowawayError::io(&self.tmp_dir, e))
    }

    /// The last lines of the server's error log, to explain a failed start.
    pub(crate) fn error_log_tail(&self) -> String {
        crate::log_tail(&self.error_log, 15).0
    }
}

/// Options given to both `mariadb-install-db` (which passes them to its bootstrap server) and
/// `mariadbd`, so the data directory is created with the same redo log size it is run with.
/// Durability is traded for speed: a test server that loses its last second on a crash is fine.
fn common_server_args(layout: &Layout) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--innodb-log-file-size=8M",
        "--innodb-buffer-pool-size=64M",
        "--innodb-flush-log-at-trx-commit=2",
        "--innodb-doublewrite=0",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    args.push(path_arg("--tmpdir", &layout.tmp_dir));
    args
}

/// `mariadbd` refuses to run as root unless told to; containers and CI often are root.
fn user_args() -> Vec<OsString> {
    if rustix::process::geteuid().is_root() {
        vec!["--user=root".into()]
    } else {
        Vec::new()
    }
}

fn path_arg(flag: &str, path: &Path) -> OsString {
    let mut arg = OsString::from(flag);
    arg.push("=");
    arg.push(path);
    arg
}

/// Creates the system tables in `layout.data_dir` (which must not exist yet), with a `root`
/// account that logs in without a password from `127.0.0.1`.
pub(crate) async fn install(binaries: &Binaries, layout: &Layout) -> Result<(), ThrowawayError> {
    layout.create_tmp_dir()?;
    let dir = layout.data_dir.parent().unwrap_or(&layout.data_dir);
    let log_path = dir.join("install.log");
    let log = std::fs::File::create(&log_path).map_err(|e| ThrowawayError::io(&log_path, e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| ThrowawayError::io(&log_path, e))?;
    let mut command = tokio::process::Command::new(&binaries.install_db);
    command
        .arg("--no-defaults")
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .arg(path_arg("--datadir", &layout.data_dir))
        .args(user_args())
        .args(common_server_args(layout))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .kill_on_drop(true);
    let status = command
        .status()
        .await
        .map_err(|e| ThrowawayError::io(&binaries.install_db, e))?;
    if status.success() {
        Ok(())
    } else {
        let output = std::fs::read_to_string(&log_path).unwrap_or_default();
        Err(ThrowawayError::InstallFailed { status, output })
    }
}

/// The `mariadbd` command for `layout`, listening on `127.0.0.1:port` only.
pub(crate) fn server_command(binaries: &Binaries, layout: &Layout, port: u16) -> Command {
    let mut command = Command::new(&binaries.server);
    command
        .arg("--no-defaults")
        .arg(path_arg("--datadir", &layout.data_dir))
        .arg(path_arg("--socket", &layout.socket))
        .arg(path_arg("--pid-file", &layout.pid_file))
        .arg(path_arg("--log-error", &layout.error_log))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg("--skip-networking=0")
        .arg("--skip-name-resolve")
        .arg("--max-connections=1000")
        .args(user_args())
        .args(common_server_args(layout))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// A port nobody listens on right now. Another process may take it before `mariadbd` binds
/// it; callers retry with a new port when the server exits at start.
pub(crate) fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether `url` accepts a login within `timeout`.
pub(crate) async fn answers(url: &ServerUrl, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, AsyncMysqlConnection::establish(&url.server())).await,
        Ok(Ok(_))
    )
}

/// Waits until the server on `port` accepts a root login. `exited` is polled in between and
/// returns the exit status once the process has died, which ends the wait early.
pub(crate) async fn wait_until_ready(
    port: u16,
    layout: &Layout,
    mut exited: impl FnMut() -> Option<std::process::ExitStatus>,
) -> Result<(), ThrowawayError> {
    let url = ServerUrl::local_root(port);
    let started = Instant::now();
    loop {
        if answers(&url, Duration::from_secs(2)).await {
            return Ok(());
        }
        if let Some(status) = exited() {
            return Err(ThrowawayError::ServerExited {
                status,
                log: layout.error_log_tail(),
            });
        }
        if started.elapsed() > READY_TIMEOUT {
            return Err(ThrowawayError::NotReady {
                waited: READY_TIMEOUT,
                log: layout.error_log_tail(),
            });
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
