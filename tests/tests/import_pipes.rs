//! `ansinh-import load` reading from a FIFO and from standard input (`-`): such a file can be
//! read only once, and a run must land the same rows from it as from a regular file with the
//! same bytes, and record the same digest for it.
//!
//! The time limits guard against a run that waits for ever for a second writer; they are not
//! performance assertions.

use std::process::{Command, Output};
use std::time::Duration;

use ansinh_tests::{
    ScratchDir, TestDatabase, binary, describe, import, migrated_database,
    output_with_input_within, output_within, stderr, stdout,
};

/// How long a small run may take before the test calls it hung.
const LIMIT: Duration = Duration::from_secs(60);

const OBSERVATIONS: &str = "region,indicator,period,value,unit,qualifier,source
68,hi_coverage_rate,2024,94.56,percent,,baolamdong.vn 2025-05
68,hi_participants,2025-01/2025-05,1229935,persons,,baolamdong.vn 2025-05
68,contributions_collected,2024,3818,billion_vnd,more_than,baolamdong.vn 2025-05
";

const OBSERVATIONS_JSONL: &str = r#"{"region":"68","indicator":"hi_coverage_rate","period":"2024","value":94.56,"unit":"percent"}
{"region":"68","indicator":"hi_participants","period":"2025-05","value":1229935}
"#;

/// The ledger's path and SHA-256 of each run's first file, oldest run first.
async fn ledger_files(db: &TestDatabase) -> Vec<(String, String)> {
    use ansinh_store::queries::import_runs::list_import_runs;
    let mut conn = db.connect().await;
    let mut runs = list_import_runs(&mut conn, None, 100)
        .await
        .expect("listing the ledger");
    runs.reverse();
    runs.into_iter()
        .map(|record| {
            let file = record.files.first().expect("a run with a file");
            (file.path.clone(), file.sha256.clone())
        })
        .collect()
}

/// The SHA-256 of `bytes`, as `sha256sum` prints it.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `ansinh-import load FIFO` within [`LIMIT`], with a FIFO made at `path` into which a
/// thread writes `contents` once the importer opens it.
fn load_fifo(database_url: &str, path: &std::path::Path, contents: &'static str) -> Output {
    let made = Command::new("mkfifo")
        .arg(path)
        .output()
        .expect("running mkfifo");
    assert!(made.status.success(), "mkfifo: {}", describe(&made));
    let fifo = path.to_path_buf();
    // Opening for writing waits for a reader; if the importer never opens the FIFO, this
    // thread waits with it and the test fails on the importer's time limit.
    let writer = std::thread::spawn(move || {
        std::fs::write(&fifo, contents).expect("writing into the FIFO");
    });
    let out = output_within(
        Command::new(binary("ansinh-import"))
            .args(["load", path.to_str().expect("a UTF-8 path")])
            .env("DATABASE_URL", database_url),
        LIMIT,
    );
    // A run that failed may never have opened the FIFO, and its writer would wait for ever.
    if out.status.code() == Some(0) {
        writer.join().expect("the FIFO's writer");
    }
    out
}

/// Runs `ansinh-import` with `args`, `input` on its standard input (a pipe), within `limit`.
fn import_with_input(database_url: &str, args: &[&str], input: &[u8], limit: Duration) -> Output {
    output_with_input_within(
        Command::new(binary("ansinh-import"))
            .args(args)
            .env("DATABASE_URL", database_url)
            // Info, for the line that says the input is being sorted in memory.
            .env("RUST_LOG", "ansinh_importer=info"),
        input,
        limit,
    )
}

#[tokio::test]
async fn a_fifo_lands_the_same_rows_as_the_regular_file_and_has_its_digest() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("pipes-fifo");
    let fifo = dir.0.join("observations.csv");
    let out = load_fifo(db.url(), &fifo, OBSERVATIONS);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("3 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        describe(&out)
    );

    // The same bytes from a regular file are the same rows.
    let file = dir.write("copy.csv", OBSERVATIONS);
    let out = import(db.url(), &["load", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 3 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );
    let digest = sha256_hex(OBSERVATIONS.as_bytes());
    assert_eq!(
        ledger_files(&db).await,
        [
            (fifo.display().to_string(), digest.clone()),
            (file.clone(), digest)
        ]
    );
}

#[tokio::test]
async fn a_jsonl_fifo_whose_kind_comes_from_its_first_line_is_read_whole() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("pipes-fifo-jsonl");
    let fifo = dir.0.join("observations.jsonl");
    let out = load_fifo(db.url(), &fifo, OBSERVATIONS_JSONL);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("2 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        describe(&out)
    );
}

#[tokio::test]
async fn standard_input_lands_the_same_rows_as_the_regular_file_and_has_its_digest() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("pipes-stdin");
    let file = dir.write("observations.csv", OBSERVATIONS);
    let out = import(db.url(), &["load", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("3 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );

    let args = ["load", "--format", "csv", "-"];
    let out = import_with_input(db.url(), &args, OBSERVATIONS.as_bytes(), LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 3 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );
    let digest = sha256_hex(OBSERVATIONS.as_bytes());
    assert_eq!(
        ledger_files(&db).await,
        [(file, digest.clone()), ("<stdin>".to_owned(), digest)]
    );

    // Problems name it too.
    let bad = OBSERVATIONS.replace("94.56", "104.5");
    let out = import_with_input(db.url(), &args, bad.as_bytes(), LIMIT);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("<stdin>:2:value:"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn unsorted_input_from_standard_input_is_sorted_in_memory_and_lands_whole() {
    let db = migrated_database().await;
    // Every commune for January, then every commune for February: the second chunk's key range
    // (region first) overlaps the first's, so the run reads the input again, sorted in memory.
    let communes = std::fs::read_to_string(
        ansinh_tests::workspace_root()
            .join("crates/store/reference/communes_before_2025-07-01.csv"),
    )
    .expect("reading the reference communes");
    let codes: Vec<&str> = communes
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(2))
        .collect();
    let mut text = String::from("region,indicator,period,value\n");
    for month in 1..=2 {
        for code in &codes {
            text.push_str(&format!(
                "{code},hi_treatment_visits,2024-{month:02},{month}\n"
            ));
        }
    }
    let rows = 2 * codes.len();
    let args = ["load", "--format", "csv", "-"];
    let out = import_with_input(db.url(), &args, text.as_bytes(), LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stderr(&out).contains("sorting it in memory"),
        "the input was meant to need sorting: {}",
        describe(&out)
    );
    assert!(
        stdout(&out).contains(&format!(
            "{rows} inserted, 0 updated, 0 unchanged, 0 rejected"
        )),
        "{}",
        describe(&out)
    );
}

#[tokio::test]
async fn standard_input_needs_a_format_and_can_be_given_once() {
    let db = TestDatabase::new().await;
    for (args, expected) in [
        (
            &["load", "-"][..],
            "FILE - (standard input) has no extension to tell its format; give --format",
        ),
        (
            &["load", "--format", "csv", "-", "-"][..],
            "FILE - (standard input) is given more than once",
        ),
    ] {
        let out = import_with_input(db.url(), args, OBSERVATIONS.as_bytes(), LIMIT);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
