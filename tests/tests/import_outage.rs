//! MySQL dying under a running import: the run fails with exit code 3, says that nothing
//! landed, and nothing did; the next run after MySQL is back works. The test runs a MariaDB
//! of its own (a `ThrowawayServer`), since it kills that server with SIGKILL.
//!
//! The time limits guard against hangs; they are not performance assertions.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ansinh_tests::{
    ScratchDir, TestDatabase, ThrowawayServer, binary, commune_months_csv,
    data_checksums_without_ledger, describe, import, migrate_and_load_sample, observations_loading,
    output_within, send_signal,
};

/// How long the importer may take to notice that MySQL is gone and exit.
const EXIT_LIMIT: Duration = Duration::from_secs(60);

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

    let mut run = Command::new(binary("ansinh-import"))
        .args(["load", &csv])
        .env("DATABASE_URL", database.url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting ansinh-import");

    // Mid-run: the run's transaction is loading the 1.2M rows (for several seconds).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if observations_loading(database.url()).await {
            // Let some rows go in first.
            tokio::time::sleep(Duration::from_millis(300)).await;
            break;
        }
        if run.try_wait().expect("polling the importer").is_some() {
            let output = run.wait_with_output().expect("the importer's output");
            panic!(
                "the run ended before MySQL was killed (no load seen in flight): {}",
                describe(&output)
            );
        }
        assert!(
            Instant::now() < deadline,
            "the run had not started loading after two minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    send_signal(pid, "KILL");

    let started = Instant::now();
    let status = loop {
        if let Some(status) = run.try_wait().expect("polling the importer") {
            break status;
        }
        if started.elapsed() > EXIT_LIMIT {
            let _ = run.kill();
            panic!("ansinh-import did not exit within {EXIT_LIMIT:?} of MySQL's death");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
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
