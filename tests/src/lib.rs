//! Support for the end-to-end tests: the real `ansinh-import` and `ansinh-server` binaries,
//! run as child processes against a real MySQL database of their own (`TestDatabase`).
//! `deploy/test.sh` builds the binaries before the tests run; they are found next to the test
//! executable's `deps/` directory. Tests that stop or pause MySQL get a MariaDB of their own
//! ([`PrivateStack`]); tests that drive third-party clients install them under `.tmp/`
//! ([`installed_tool`]).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

pub use ansinh_test_db::{TestDatabase, ThrowawayServer};

pub mod soak;

/// The seed question: Lâm Đồng's (68) health insurance coverage in 2024 against its target
/// (94.56% against 93.65% in the sample).
pub fn seed_attainment_request() -> ansinh_proto::pb::GetTargetAttainmentRequest {
    ansinh_proto::pb::GetTargetAttainmentRequest {
        region_codes: vec!["68".into()],
        indicator_code: "hi_coverage_rate".into(),
        period: "2024".into(),
    }
}

/// The other seed question: the provinces ranked by social insurance coverage in 2024, with
/// the nation's own figure as the reference (Lâm Đồng's 17.1% against the national 42.71% in
/// the sample).
pub fn seed_ranking_request() -> ansinh_proto::pb::RankRegionsRequest {
    ansinh_proto::pb::RankRegionsRequest {
        parent_code: "VN".into(),
        level: ansinh_proto::pb::RegionLevel::Province as i32,
        indicator_code: "si_coverage_rate".into(),
        period: "2024".into(),
        ..Default::default()
    }
}

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
    // target/<profile>/deps/<test> or target/<profile>/<command> -> target/<profile>/<name>
    let mut profile_dir = exe.parent().expect("target/<profile>");
    if profile_dir.ends_with("deps") {
        profile_dir = profile_dir.parent().expect("target/<profile>/deps");
    }
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
    /// The file holding the server's log when the test did not send it elsewhere: printed if
    /// the test fails, so its failure report shows what the server said, and removed after.
    log: Option<PathBuf>,
}

impl ServerProcess {
    /// Starts the server on a free loopback port and waits until it accepts connections. Its
    /// log is kept in a file and shown with the test's failure, if it fails.
    pub fn start(database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let number = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log =
            std::env::temp_dir().join(format!("ansinh-server-{}-{number}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("creating the server's log file");
        let mut server = Self::start_with_stderr(database_url, extra_env, file);
        server.log = Some(log);
        server
    }

    /// What the server has logged so far, when [`start`](Self::start) keeps its log.
    pub fn log_text(&self) -> String {
        self.log
            .as_ref()
            .and_then(|log| std::fs::read_to_string(log).ok())
            .unwrap_or_default()
    }

    /// Like [`start`](Self::start), with the server's log (its stderr) sent to `stderr`, e.g. a
    /// file a test reads.
    pub fn start_with_stderr(
        database_url: &str,
        extra_env: &[(&str, &str)],
        stderr: impl Into<Stdio>,
    ) -> Self {
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
            .stderr(stderr);
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let child = command.spawn().expect("starting ansinh-server");
        let server = Self {
            child,
            address,
            log: None,
        };
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

    /// The address it listens on, for endpoints other than plaintext `http://`.
    pub fn address(&self) -> SocketAddr {
        self.address
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
        if let Some(log) = self.log.take() {
            if std::thread::panicking() {
                let (tail, lines) = ansinh_test_db::log_tail(&log, 100);
                eprintln!(
                    "ansinh-server's log ({lines} lines, the last {} shown):\n{tail}",
                    lines.min(100)
                );
            }
            let _ = std::fs::remove_file(log);
        }
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("binding an ephemeral port")
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
    let output = import(
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
    /// Stops `server`'s process and returns once every one of its threads has stopped (kill(2)
    /// only starts a stop, each thread stops when it next runs) and a login on its port goes
    /// unanswered, so that a call the test makes next cannot be answered by it or by anything
    /// else on that port.
    pub async fn pause(server: &ThrowawayServer) -> Self {
        let pid = server.pid().expect("the throwaway MariaDB is running");
        send_signal(pid, "STOP");
        let paused = Self { pid, paused: true };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match unstopped_threads(pid) {
                Ok(0) => break,
                Ok(running) => assert!(
                    Instant::now() < deadline,
                    "{running} thread(s) of mariadbd {pid} still run 10 s after SIGSTOP"
                ),
                Err(e) => panic!("cannot read the threads of mariadbd {pid}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            !server.accepts_login(Duration::from_millis(300)).await,
            "a login on port {} was answered with mariadbd {pid} stopped",
            server.port()
        );
        paused
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

/// How many threads of process `pid` are not stopped (state `T`, or `t` under a tracer).
fn unstopped_threads(pid: u32) -> std::io::Result<usize> {
    let mut running = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = match std::fs::read_to_string(task?.path().join("stat")) {
            Ok(stat) => stat,
            // The thread exited since the directory was listed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        // `pid (comm) state ...`: comm may hold spaces and parentheses, so read after the last ')'.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if !matches!(state, Some("T" | "t")) {
            running += 1;
        }
    }
    Ok(running)
}

/// A MariaDB of the test's own (a [`ThrowawayServer`]), a database on it with the sample
/// loaded by the real importer, and `ansinh-server` on that database: for tests that stop,
/// pause or otherwise abuse the database, which they must never do to the shared test server.
///
/// Fields drop in order: the server, then the database, then MariaDB itself.
pub struct PrivateStack {
    /// The running `ansinh-server`.
    pub server: ServerProcess,
    /// The database the server reads.
    pub database: TestDatabase,
    /// The MariaDB server holding it, which the test may stop and start.
    pub mariadb: ThrowawayServer,
}

impl PrivateStack {
    /// Starts MariaDB, loads the sample, and starts the server with `server_env`.
    pub async fn start(server_env: &[(&str, &str)]) -> Self {
        let mariadb = ThrowawayServer::new()
            .await
            .unwrap_or_else(|e| panic!("cannot start a throwaway MariaDB: {e}"));
        let database = TestDatabase::on_server(&mariadb.url()).await;
        migrate_and_load_sample(database.url());
        let server = ServerProcess::start(database.url(), server_env);
        Self {
            server,
            database,
            mariadb,
        }
    }

    /// Stops MariaDB (gracefully) and waits until it has exited.
    pub async fn stop_mariadb(&mut self) {
        self.mariadb
            .stop()
            .await
            .unwrap_or_else(|e| panic!("cannot stop the throwaway MariaDB: {e}"));
    }

    /// Starts MariaDB again on the same data and port and waits until it accepts logins.
    pub async fn start_mariadb(&mut self) {
        self.mariadb
            .start()
            .await
            .unwrap_or_else(|e| panic!("cannot start the throwaway MariaDB again: {e}"));
    }

    /// A connected channel to the server (HTTP/2 over loopback), within ten seconds.
    pub async fn channel(&self) -> tonic::transport::Channel {
        within(
            Duration::from_secs(10),
            "connecting to ansinh-server",
            tonic::transport::Channel::from_shared(self.server.endpoint())
                .expect("a valid endpoint")
                .connect(),
        )
        .await
        .expect("connecting to ansinh-server")
    }
}

/// Runs `command` to completion with no input, failing the test if it takes longer than
/// `limit` (the child is killed first).
pub fn output_within(command: &mut Command, limit: Duration) -> Output {
    run_within(command, None, limit)
}

/// [`output_within`] with `input` on the command's standard input (a pipe).
pub fn output_with_input_within(command: &mut Command, input: &[u8], limit: Duration) -> Output {
    run_within(command, Some(input.to_vec()), limit)
}

fn run_within(command: &mut Command, input: Option<Vec<u8>>, limit: Duration) -> Output {
    use std::io::{Read, Write};
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    // A writer of its own, so that a child that never reads cannot block the test.
    let writer = input.map(|input| {
        let mut stdin = child.stdin.take().expect("a stdin pipe");
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        })
    });
    // Read both pipes while waiting, so a chatty child cannot block on a full pipe.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("polling a child process") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// A tool installed under `.tmp/<name>`, installing it first if `ready` says the directory
/// does not hold a complete install. `install` fills an empty directory of its own, which is
/// then renamed into place: test processes running at once never see a half-installed tool,
/// and the first complete install wins.
pub fn installed_tool(
    name: &str,
    ready: impl Fn(&Path) -> bool,
    install: impl FnOnce(&Path) -> Result<(), String>,
) -> PathBuf {
    let target = tools_dir().join(name);
    if ready(&target) {
        return target;
    }
    let suffix = format!("{}-{}", std::process::id(), free_port());
    let staging = tools_dir().join(format!("{name}.installing-{suffix}"));
    std::fs::create_dir_all(&staging)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", staging.display()));
    if let Err(message) = install(&staging) {
        let _ = std::fs::remove_dir_all(&staging);
        panic!(
            "cannot install {name} under {}: {message}",
            tools_dir().display()
        );
    }
    assert!(
        ready(&staging),
        "installing {name} in {} left it incomplete",
        staging.display()
    );
    if target.exists() && !ready(&target) {
        // An outdated or broken install: move it aside (atomically) before replacing it.
        let stale = tools_dir().join(format!("{name}.stale-{suffix}"));
        if std::fs::rename(&target, &stale).is_ok() {
            let _ = std::fs::remove_dir_all(&stale);
        }
    }
    if std::fs::rename(&staging, &target).is_err() {
        // Another process put its install there first.
        let _ = std::fs::remove_dir_all(&staging);
    }
    assert!(
        ready(&target),
        "{} is not a complete install of {name}",
        target.display()
    );
    target
}

/// `CHECKSUM TABLE ... EXTENDED` of one data table: equal before and after means unchanged.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct TableChecksum {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "Table")]
    pub table: String,
    #[diesel(
        sql_type = diesel::sql_types::Nullable<diesel::sql_types::Unsigned<diesel::sql_types::BigInt>>,
        column_name = "Checksum"
    )]
    pub checksum: Option<u64>,
}

/// The checksums of every table an import may write, in a fixed order.
pub async fn data_checksums(database_url: &str) -> Vec<TableChecksum> {
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let mut conn = diesel_async::AsyncMysqlConnection::establish(database_url)
        .await
        .expect("connecting for CHECKSUM TABLE");
    diesel::sql_query(
        "CHECKSUM TABLE observations, observation_history, targets, sources, indicators, regions, \
         region_members, region_lineage, import_runs EXTENDED",
    )
    .load(&mut conn)
    .await
    .expect("CHECKSUM TABLE")
}

/// Like [`data_checksums`], without the ledger (which every run writes, rejected or not).
pub async fn data_checksums_without_ledger(database_url: &str) -> Vec<TableChecksum> {
    let mut sums = data_checksums(database_url).await;
    sums.retain(|sum| !sum.table.ends_with(".import_runs"));
    sums
}

/// An observations CSV with one `hi_treatment_visits` figure per month of `years` for each of
/// the 10,035 communes valid before 2025-07-01 (the repository's reference copy): 120,420 rows
/// a year, big enough that a run is still loading a second or more after it starts.
pub fn commune_months_csv(years: std::ops::RangeInclusive<i32>) -> String {
    let communes = std::fs::read_to_string(
        workspace_root().join("crates/store/reference/communes_before_2025-07-01.csv"),
    )
    .expect("reading the reference communes");
    let mut text = String::from("region,indicator,period,value\n");
    for code in communes.lines().skip(1).filter_map(|l| l.split(',').nth(2)) {
        for year in years.clone() {
            for month in 1..=12 {
                text.push_str(&format!(
                    "{code},hi_treatment_visits,{year}-{month:02},{}\n",
                    month * year
                ));
            }
        }
    }
    text
}

/// A directory of files for one test, empty when made and removed when dropped.
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    /// `<temp>/ansinh-<name>-<pid>`, emptied first: a directory left by a process that had
    /// the same pid must not leak into this test.
    pub fn new(name: &str) -> Self {
        let directory = std::env::temp_dir().join(format!("ansinh-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).expect("creating a scratch directory");
        Self(directory)
    }

    /// Writes `contents` to `name` in the directory and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("writing a scratch file");
        path.to_str().expect("a UTF-8 path").to_owned()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The value written after exactly `series` (name and labels) in a Prometheus text exposition.
pub fn metric_sample<'t>(text: &'t str, series: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
}

/// Whether a `LOAD DATA` into `observations` is running on the server behind `url`: an
/// import run in the middle of loading its rows.
pub async fn observations_loading(url: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Loads {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        loads: i64,
    }
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let Ok(mut conn) = diesel_async::AsyncMysqlConnection::establish(url).await else {
        return false;
    };
    diesel::sql_query(
        "SELECT COUNT(*) AS loads FROM information_schema.processlist \
         WHERE info LIKE 'LOAD DATA LOCAL INFILE%INTO TABLE observations%'",
    )
    .get_result::<Loads>(&mut conn)
    .await
    .is_ok_and(|l| l.loads > 0)
}

/// A finished command's standard output, as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A finished command's standard error, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `GET /metrics` of an `ansinh-server` started with `ANSINH_METRICS_LISTEN=address`, over
/// plain HTTP/1.1: the body, or `None` while nothing answers there (the server binds the port
/// as it starts). Reading is bounded by ten seconds.
pub fn scrape_metrics(address: SocketAddr) -> Option<String> {
    metrics_response(address).map(|(_head, body)| body)
}

/// [`scrape_metrics`] with the response's head (status line and headers) beside the body.
pub fn metrics_response(address: SocketAddr) -> Option<(String, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: ansinh\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.to_owned(), body.to_owned()))
}
