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
