//! Support for the end-to-end tests: the real `ansinh-import` and `ansinh-server` binaries,
//! run as child processes against a real MySQL database of their own (`TestDatabase`).
//! `deploy/test.sh` builds the binaries before the tests run; they are found next to the test
//! executable's `deps/` directory.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

pub use ansinh_test_db::TestDatabase;

/// The workspace root, for sample files.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The path of one of the workspace's binaries, built by `cargo build --workspace --bins`.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (cargo build --workspace --bins, or run deploy/test.sh)",
        path.display()
    );
    path
}

/// Runs `ansinh-import` with `args` against `database_url` and waits for it.
pub fn import(database_url: &str, args: &[&str]) -> Output {
    Command::new(binary("ansinh-import"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .current_dir(workspace_root())
        .output()
        .expect("running ansinh-import")
}

/// A fresh database with the schema and reference data installed by `ansinh-import migrate`.
pub async fn migrated_database() -> TestDatabase {
    let database = TestDatabase::new().await;
    let output = import(database.url(), &["migrate"]);
    assert!(
        output.status.success(),
        "migrate failed: {}",
        describe(&output)
    );
    database
}

/// Exit code, stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A running `ansinh-server` child process; killed when dropped.
pub struct ServerProcess {
    child: Child,
    address: SocketAddr,
}

impl ServerProcess {
    /// Starts the server on a free loopback port and waits until it accepts connections.
    pub fn start(database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().expect("an address");
        let mut command = Command::new(binary("ansinh-server"));
        command
            .env("ANSINH_LISTEN", address.to_string())
            .env("DATABASE_URL", database_url)
            .env(
                "RUST_LOG",
                std::env::var("ANSINH_TEST_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let child = command.spawn().expect("starting ansinh-server");
        let server = Self { child, address };
        server.wait_until_listening(Duration::from_secs(30));
        server
    }

    fn wait_until_listening(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while std::net::TcpStream::connect(self.address).is_err() {
            assert!(
                Instant::now() < deadline,
                "ansinh-server did not listen on {} within {limit:?}",
                self.address
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The `http://127.0.0.1:PORT` endpoint for tonic clients.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The process id, to send signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit on its own, up to `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling ansinh-server") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("binding an ephemeral port")
}

/// Runs `ansinh-import` like [`import`], retrying for up to two minutes while another run holds
/// the importer's lock (exit 4): tests loading other databases on the same server can hold it.
pub fn import_when_free(database_url: &str, args: &[&str]) -> Output {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let output = import(database_url, args);
        if output.status.code() != Some(4) || Instant::now() > deadline {
            return output;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Migrates the database at `database_url` and loads the seed figures and targets of
/// `examples/sample/` through the real importer.
pub fn migrate_and_load_sample(database_url: &str) {
    let output = import(database_url, &["migrate"]);
    assert!(
        output.status.success(),
        "migrate failed: {}",
        describe(&output)
    );
    let output = import_when_free(
        database_url,
        &[
            "load",
            "examples/sample/observations.csv",
            "examples/sample/targets.csv",
        ],
    );
    assert!(
        output.status.success(),
        "loading examples/sample failed: {}",
        describe(&output)
    );
}

/// A fresh database on the test server with the schema, the reference data and the sample.
pub async fn sample_database() -> TestDatabase {
    let database = TestDatabase::new().await;
    migrate_and_load_sample(database.url());
    database
}

/// Awaits `future`, failing the test if it takes longer than `limit`: every call a test makes
/// to a server is bounded, so a hang is reported as one instead of stalling the suite.
pub async fn within<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within {limit:?}"),
    }
}

/// Sends `signal` (`"TERM"`, `"STOP"`, `"CONT"`…) to process `pid` with kill(1).
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{signal} {pid} failed: {status}");
}

/// `.tmp/` at the workspace root: where tests install the third-party tools they drive (buf, a
/// Python virtual environment), so that later runs reuse them. Ignored by git.
pub fn tools_dir() -> PathBuf {
    workspace_root().join(".tmp")
}

/// Installs Debian packages with apt-get, for tests whose tools are missing on a fresh machine.
/// Needs root; waits for another apt run's lock instead of failing on it.
pub fn apt_get_install(packages: &[&str]) -> Result<(), String> {
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
    {
        return Err(format!(
            "{} missing and not root: install it with `sudo apt-get install {}`",
            packages.join(", "),
            packages.join(" ")
        ));
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(["-q", "-y", "-o", "DPkg::Lock::Timeout=300"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run apt-get: {e}"))
    };
    let update = apt(&["update"])?;
    if !update.status.success() {
        return Err(format!("apt-get update failed: {}", describe(&update)));
    }
    let mut args = vec!["install", "--no-install-recommends"];
    args.extend_from_slice(packages);
    let install = apt(&args)?;
    if install.status.success() {
        Ok(())
    } else {
        Err(format!(
            "apt-get install {} failed: {}",
            packages.join(" "),
            describe(&install)
        ))
    }
}

/// A MySQL server stopped with SIGSTOP: its sockets stay open but it answers nothing, as when
/// a database host hangs or the network drops packets (a stopped server, by contrast, refuses
/// connections at once). Resumed with SIGCONT by [`resume`](Self::resume) or when dropped, so
/// a failing test does not leave it frozen. Only for a server the test started itself.
pub struct PausedDatabase {
    pid: u32,
    paused: bool,
}

impl PausedDatabase {
    /// Pauses the server behind `server_url`, found through its pid file.
    pub async fn pause(server_url: &str) -> Self {
        #[derive(diesel::QueryableByName)]
        struct PidFile {
            #[diesel(sql_type = diesel::sql_types::Text)]
            path: String,
        }
        use diesel_async::{AsyncConnection, RunQueryDsl};
        let mut conn = diesel_async::AsyncMysqlConnection::establish(server_url)
            .await
            .expect("connecting to the server to pause");
        let PidFile { path } = diesel::sql_query("SELECT @@pid_file AS path")
            .get_result(&mut conn)
            .await
            .expect("asking the server for its pid file");
        drop(conn);
        let pid = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading the server's pid file {path}: {e}"))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("the pid file {path} holds no pid: {e}"));
        send_signal(pid, "STOP");
        Self { pid, paused: true }
    }

    /// Lets the server run again.
    pub fn resume(&mut self) {
        if std::mem::take(&mut self.paused) {
            send_signal(self.pid, "CONT");
        }
    }
}

impl Drop for PausedDatabase {
    fn drop(&mut self) {
        if std::mem::take(&mut self.paused) {
            let _ = Command::new("kill")
                .args(["-CONT", &self.pid.to_string()])
                .status();
        }
    }
}
