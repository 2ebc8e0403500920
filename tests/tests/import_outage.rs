//! MySQL dying or hanging under a running import: the run fails with exit code 3, says that
//! nothing landed, and nothing did; the next run after MySQL is back works. The tests run a
//! MariaDB of their own (a `ThrowawayServer`), since they kill it with SIGKILL or pause it with
//! SIGSTOP (a hung server: its sockets stay open and it answers nothing).
//!
//! The time limits guard against hangs; they are not performance assertions.

use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use ansinh_tests::{
    PausedDatabase, ScratchDir, TestDatabase, ThrowawayServer, binary, commune_months_csv,
    data_checksums_without_ledger, describe, import, migrate_and_load_sample, observations_loading,
    output_within, send_signal,
};

/// How long the importer may take to notice that MySQL is gone and exit.
const EXIT_LIMIT: Duration = Duration::from_secs(60);

/// `run` once it is mid-run: its transaction is loading the 1.2M rows (for several seconds).
/// Fails the test if the run ends first, before MySQL was `what`, or has not started loading
/// after two minutes.
async fn loading(mut run: Child, database_url: &str, what: &str) -> Child {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !observations_loading(database_url).await {
        if run.try_wait().expect("polling the importer").is_some() {
            let output = run.wait_with_output().expect("the importer's output");
            panic!(
                "the run ended before MySQL was {what} (no load seen in flight): {}",
                describe(&output)
            );
        }
        assert!(
            Instant::now() < deadline,
            "the run had not started loading after two minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    run
}

/// How `run` exited, failing the test (and killing it) if it has not within [`EXIT_LIMIT`] of
/// `cause`.
async fn exit_within_limit(run: &mut Child, cause: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = run.try_wait().expect("polling the importer") {
            return status;
        }
        if started.elapsed() > EXIT_LIMIT {
            let _ = run.kill();
            panic!("ansinh-import did not exit within {EXIT_LIMIT:?} of {cause}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_killed_mid_run_means_exit_3_and_nothing_landed() {
    let mut mariadb = ThrowawayServer::new()
        .await
        .unwrap_or_else(|e| panic!("cannot start a throwaway MariaDB: {e}"));
    let database = TestDatabase::on_server(&mariadb.url()).await;
    migrate_and_load_sample(database.url());
    let before = data_checksums_without_ledger(database.url()).await;

    let dir = ScratchDir::new("import-outage");
    let csv = dir.write("observations.csv", &commune_months_csv(2015..=2024));
    let pid = mariadb.pid().expect("the throwaway MariaDB is running");

    let run = Command::new(binary("ansinh-import"))
        .args(["load", &csv])
        .env("DATABASE_URL", database.url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting ansinh-import");

    let mut run = loading(run, database.url(), "killed").await;
    // Let some rows go in first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_signal(pid, "KILL");

    let status = exit_within_limit(&mut run, "MySQL's death").await;
    let output = run.wait_with_output().expect("the importer's output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        status.code(),
        Some(3),
        "a run whose database dies exits 3: {stderr}"
    );
    assert!(
        stderr.contains("nothing of this run landed"),
        "the error says that nothing landed: {stderr}"
    );

    // MariaDB recovers from the crash and rolls the run's transaction back.
    mariadb
        .stop()
        .await
        .unwrap_or_else(|e| panic!("collecting the killed MariaDB: {e}"));
    mariadb
        .start()
        .await
        .unwrap_or_else(|e| panic!("starting MariaDB again: {e}"));
    assert_eq!(
        before,
        data_checksums_without_ledger(database.url()).await,
        "the dead run left rows behind"
    );

    // The next run takes the lock and lands; the ledger names the run that never finished.
    let again = output_within(
        Command::new(binary("ansinh-import"))
            .args(["load", "examples/sample/observations.csv"])
            .current_dir(ansinh_tests::workspace_root())
            .env("DATABASE_URL", database.url()),
        EXIT_LIMIT,
    );
    assert!(again.status.success(), "{}", describe(&again));
    let runs = import(database.url(), &["runs"]);
    let ledger = String::from_utf8_lossy(&runs.stdout);
    assert!(
        ledger.lines().any(|line| line.contains("failed")),
        "the killed run is in the ledger as failed: {ledger}"
    );
}

/// The timeouts the hanging-server tests configure, and the bound they allow a run to end in:
/// both timeouts may pass (opening the run, then finishing its ledger entry) and each is
/// checked a little late; the rest is headroom for a machine under load.
const TIMEOUT: &str = "2s";
const HUNG_EXIT_LIMIT: Duration = Duration::from_secs(20);

/// The next run, once the run before has let go of the run lock (its session ends when the
/// resumed server notices that the connection closed).
fn next_run_lands(database_url: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let again = output_within(
            Command::new(binary("ansinh-import"))
                .args(["load", "examples/sample/observations.csv"])
                .current_dir(ansinh_tests::workspace_root())
                .env("DATABASE_URL", database_url),
            EXIT_LIMIT,
        );
        if again.status.code() != Some(4) || Instant::now() > deadline {
            return again;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_mysql_at_the_start_means_exit_3_within_the_connect_timeout() {
    let mariadb = ThrowawayServer::new()
        .await
        .unwrap_or_else(|e| panic!("cannot start a throwaway MariaDB: {e}"));
    let database = TestDatabase::on_server(&mariadb.url()).await;
    migrate_and_load_sample(database.url());

    let mut paused = PausedDatabase::pause(&mariadb).await;
    let started = Instant::now();
    let output = output_within(
        Command::new(binary("ansinh-import"))
            .args([
                "load",
                "--connect-timeout",
                TIMEOUT,
                "examples/sample/observations.csv",
            ])
            .current_dir(ansinh_tests::workspace_root())
            .env("DATABASE_URL", database.url())
            .env("ANSINH_IMPORT_STATEMENT_TIMEOUT", TIMEOUT),
        EXIT_LIMIT,
    );
    let took = started.elapsed();
    paused.resume();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{}", describe(&output));
    assert!(
        took < HUNG_EXIT_LIMIT,
        "a hung server held the run for {took:?}: {stderr}"
    );
    assert!(
        stderr.contains(
            "the database did not answer within 2s while a connection was being opened (--connect-timeout"
        ) && stderr.contains("nothing of this run landed"),
        "{stderr}"
    );

    let again = next_run_lands(database.url());
    assert!(again.status.success(), "{}", describe(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_hung_mid_run_means_exit_3_within_the_statement_timeout_and_nothing_landed() {
    let mariadb = ThrowawayServer::new()
        .await
        .unwrap_or_else(|e| panic!("cannot start a throwaway MariaDB: {e}"));
    let database = TestDatabase::on_server(&mariadb.url()).await;
    migrate_and_load_sample(database.url());
    let before = data_checksums_without_ledger(database.url()).await;

    let dir = ScratchDir::new("import-hung");
    let csv = dir.write("observations.csv", &commune_months_csv(2015..=2024));
    let run = Command::new(binary("ansinh-import"))
        .args(["load", "--statement-timeout", TIMEOUT, &csv])
        .env("DATABASE_URL", database.url())
        .env("ANSINH_IMPORT_CONNECT_TIMEOUT", TIMEOUT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting ansinh-import");

    let mut run = loading(run, database.url(), "paused").await;
    let mut paused = PausedDatabase::pause(&mariadb).await;

    let started = Instant::now();
    let status = exit_within_limit(&mut run, "MySQL hanging").await;
    let took = started.elapsed();
    paused.resume();
    let output = run.wait_with_output().expect("the importer's output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        status.code(),
        Some(3),
        "a run whose database hangs exits 3: {stderr}"
    );
    assert!(
        took < HUNG_EXIT_LIMIT,
        "a hung server held the run for {took:?}: {stderr}"
    );
    assert!(
        stderr.contains(
            "the database did not answer a statement within 2s (--statement-timeout, ANSINH_IMPORT_STATEMENT_TIMEOUT); nothing of this run landed"
        ),
        "{stderr}"
    );

    // The resumed server sees the run's connections closed and rolls its transaction back.
    let again = next_run_lands(database.url());
    assert!(again.status.success(), "{}", describe(&again));
    assert_eq!(
        before,
        data_checksums_without_ledger(database.url()).await,
        "the run that timed out left rows behind"
    );
    let runs = import(database.url(), &["runs"]);
    let ledger = String::from_utf8_lossy(&runs.stdout);
    assert!(
        ledger.lines().any(|line| line.contains("failed")),
        "the run that timed out is in the ledger as failed: {ledger}"
    );
}
