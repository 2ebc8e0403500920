//! The Python example client (`examples/python/client.py`) against the real server: a
//! third-party client built from `grpcio` and server reflection alone, with no .proto files.
//! The test installs its pinned requirements in a virtual environment under `.tmp/`, reused by
//! later runs (and recreated when `requirements.txt` changes); on a fresh Debian machine
//! without Python's `venv`, it installs `python3-venv` first (as root). `tests/docs.rs` runs
//! the README's commands in the same environment.

mod tools;

use std::{process::Command, time::Duration};

use ansinh_tests::{ServerProcess, describe, output_within, sample_database};
use tools::{python, python_example_dir};

/// Time for one run of the client (connecting, reflection and one call take about a second).
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Runs the example client against `server` with `args`.
fn client(server: &ServerProcess, args: &[&str]) -> std::process::Output {
    let target = server.endpoint().trim_start_matches("http://").to_owned();
    output_within(
        Command::new(python())
            .arg(python_example_dir().join("client.py"))
            .args(["--target", &target, "--timeout", "20"])
            .args(args),
        RUN_LIMIT,
    )
}

fn stdout_lines(output: &std::process::Output) -> Vec<String> {
    assert!(
        output.status.success(),
        "the Python client failed: {}",
        describe(output)
    );
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_python_client_reports_hi_coverage_attainment_without_proto_files() {
    let database = sample_database().await;
    let server = ServerProcess::start(database.url(), &[]);

    // Lâm Đồng met its 2024 target; Sơn La has a target but no 2024 figure.
    let lines = stdout_lines(&client(
        &server,
        &["--region", "68", "--region", "14", "--period", "2024"],
    ));
    assert_eq!(
        lines,
        [
            "68 Lâm Đồng, hi_coverage_rate 2024: 94.56 against a target of 93.65, \
             +0.91 percentage points, 100.97% of the target: MET",
            "14 Sơn La, hi_coverage_rate 2024: no figure against 96.1: NO_DATA",
        ]
    );

    // 2025 so far: the end-of-May figure against the target for the whole year.
    let lines = stdout_lines(&client(&server, &["--period", "2025"]));
    assert_eq!(
        lines,
        [
            "68 Lâm Đồng, hi_coverage_rate 2025: 90.44 against a target of 95, \
          -4.56 percentage points, 95.2% of the target (year to date, figure of 2025-05-31): \
          NOT_MET"
        ]
    );

    // A failed call says what went wrong and exits 1.
    let unknown = client(&server, &["--region", "99"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", describe(&unknown));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.starts_with("NOT_FOUND: ") && stderr.contains("99"),
        "the error names the status and the code: {}",
        describe(&unknown)
    );
}

/// grpcio refuses trailers over its 16 KiB default and reports RESOURCE_EXHAUSTED instead of
/// the status the server sent (issue 17, F4): a request with a 100 KB code and 10,000 bad ones
/// must still reach the Python caller as the INVALID_ARGUMENT it is.
#[tokio::test]
async fn the_python_client_reads_the_invalid_argument_of_a_huge_bad_request() {
    let database = ansinh_tests::migrated_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    // One argument of a command line may hold at most 128 KiB on Linux.
    let long_code = "6".repeat(100_000);
    let mut args = vec!["--region", long_code.as_str()];
    for _ in 0..10_000 {
        args.extend(["--region", "bad code"]);
    }
    let refused = client(&server, &args);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.starts_with("INVALID_ARGUMENT: invalid request: region_codes[0]: ")
            && stderr.contains("(100,000 bytes)")
            && stderr.len() < 1024,
        "{stderr}"
    );
}
