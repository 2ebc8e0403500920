//! End-to-end tests of `ansinh-import`: the real binary against a real MySQL database of its
//! own (TestDatabase), migrated by `ansinh-import migrate`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ansinh_test_db::TestDatabase;

/// target/<profile>/ansinh-import, next to this test's own binary (target/<profile>/deps).
fn import_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let path = dir.join("ansinh-import");
    assert!(
        path.exists(),
        "{} missing: run `cargo build --bins` first (deploy/test.sh does)",
        path.display()
    );
    path
}

fn run(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(import_binary())
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("USER", "e2e")
        .output()
        .expect("run ansinh-import")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn migrated() -> TestDatabase {
    let db = TestDatabase::new().await;
    let out = run(&db, &["migrate"]);
    assert!(out.status.success(), "migrate failed: {}", stderr(&out));
    db
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write input");
    path.to_str().expect("utf-8 path").to_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ansinh-e2e-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// CHECKSUM TABLE of every data table, via the mariadb/mysql client.
fn checksums(db: &TestDatabase) -> String {
    let url = db.url();
    let rest = url.trim_start_matches("mysql://");
    let (auth, host_db) = rest.split_once('@').expect("user@host");
    let (host_port, database) = host_db.split_once('/').expect("host/db");
    let database = database.split('?').next().unwrap_or(database);
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "3306"));
    let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
    let client = if Path::new("/usr/bin/mariadb").exists() {
        "mariadb"
    } else {
        "mysql"
    };
    let mut cmd = Command::new(client);
    cmd.args(["-h", host, "-P", port, "-u", user, "-N", "-e"])
        .arg("CHECKSUM TABLE observations, observation_history, targets, sources, indicators, regions, region_members, region_lineage EXTENDED")
        .arg(database);
    if !password.is_empty() {
        cmd.arg(format!("-p{password}"));
    }
    let out = cmd.output().expect("run the mysql client");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

const OBSERVATIONS: &str = "region,indicator,period,value,unit,qualifier,source
68,hi_coverage_rate,2024,94.56,percent,,baolamdong.vn 2025-05
68,hi_participants,2025-01/2025-05,1229935,persons,,baolamdong.vn 2025-05
68,contributions_collected,2024,3818,billion_vnd,more_than,baolamdong.vn 2025-05
";

const TARGETS: &str = "region,indicator,period,target,unit,source
68,hi_coverage_rate,2024,93.65,percent,Lam Dong provincial plan 2024
68,hi_coverage_rate,2025,95,percent,Lam Dong provincial plan 2025
14,si_coverage_rate,2024,18.8,percent,Decision No. 148/QD-UBND dated 2024-01-26
";

#[tokio::test]
async fn contract_examples_import_and_reimport_is_a_no_op() {
    let db = migrated().await;
    let dir = temp_dir("contract");
    let obs = write(&dir, "observations.csv", OBSERVATIONS);
    let targets = write(&dir, "targets.csv", TARGETS);
    let out = run(&db, &["load", &obs, &targets]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("6 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );

    let before = checksums(&db);
    let out = run(&db, &["load", &obs, &targets]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 6 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        before,
        checksums(&db),
        "a re-import changed the data tables"
    );

    let runs = run(&db, &["runs"]);
    assert!(stdout(&runs).contains("committed"), "{}", stdout(&runs));
}

#[tokio::test]
async fn vi_locale_values_equal_en_values() {
    let db = migrated().await;
    let dir = temp_dir("locale");
    let en = write(
        &dir,
        "en.csv",
        "region,indicator,period,value\n68,hi_participants,2025-05,\"1,229,935\"\n68,hi_coverage_rate,2024,94.56\n",
    );
    let vi = write(
        &dir,
        "vi.csv",
        "region,indicator,period,value\n68,hi_participants,2025-05,1.229.935\n68,hi_coverage_rate,2024,\"94,56\"\n",
    );
    let out = run(&db, &["load", "--number-locale", "en", &en]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&db, &["load", "--number-locale", "vi", &vi]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 2 unchanged"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn a_changed_value_updates_and_keeps_history() {
    let db = migrated().await;
    let dir = temp_dir("change");
    let obs = write(&dir, "a.csv", OBSERVATIONS);
    assert_eq!(run(&db, &["load", &obs]).status.code(), Some(0));
    let changed = write(&dir, "b.csv", &OBSERVATIONS.replace("94.56", "94.6"));
    let out = run(&db, &["load", &changed]);
    assert!(
        stdout(&out).contains("0 inserted, 1 updated, 2 unchanged"),
        "{}",
        stdout(&out)
    );
    let sums = checksums(&db);
    let history = sums
        .lines()
        .find(|l| l.contains("observation_history"))
        .expect("history checksum");
    assert!(!history.ends_with("\t0"), "history is empty: {history}");
}

#[tokio::test]
async fn bad_input_is_rejected_line_by_line_and_nothing_lands() {
    let db = migrated().await;
    let dir = temp_dir("bad");
    let cases = [
        (
            "region not valid then",
            "60,hi_participants,2025,5,persons",
            ":2:region: region 60 is not valid on 2025-12-31",
        ),
        (
            "unknown indicator",
            "68,no_such_indicator,2024,5,persons",
            ":2:indicator: unknown indicator",
        ),
        (
            "incompatible unit",
            "68,hi_participants,2024,5,billion_vnd",
            ":2:unit: unit billion_vnd does not fit",
        ),
        (
            "percent above 100",
            "68,hi_coverage_rate,2024,100.5,percent",
            ":2:value:",
        ),
        (
            "negative count",
            "68,collection_points,2024,-1,count",
            ":2:value:",
        ),
        (
            "bad period",
            "68,hi_participants,2024-13,5,persons",
            ":2:period:",
        ),
        (
            "bad qualifier",
            "68,hi_participants,2024,5,persons,roughly",
            ":2:qualifier:",
        ),
        (
            "number in another locale",
            "68,hi_participants,2024,\"1,229,935\",persons",
            ":2:value:",
        ),
    ];
    // A good row first, so a partial landing would show.
    let good = "68,hi_participants,2023,1200000,persons";
    let before = checksums(&db);
    for (name, row, expected) in cases {
        let header = "region,indicator,period,value,unit,qualifier";
        let row = if name == "bad qualifier" {
            row.to_owned()
        } else {
            format!("{row},")
        };
        let good = format!("{good},");
        let path = write(&dir, "bad.csv", &format!("{header}\n{row}\n{good}\n"));
        let out = run(&db, &["load", &path]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{name}: expected {expected:?} in\n{}",
            stderr(&out)
        );
        assert_eq!(before, checksums(&db), "{name}: the database changed");
    }
}

#[tokio::test]
async fn same_stock_as_year_and_as_day_with_different_values_names_both_lines() {
    let db = migrated().await;
    let dir = temp_dir("conflict");
    let path = write(
        &dir,
        "c.csv",
        "region,indicator,period,value\n68,hi_participants,2024,1269187\n68,hi_participants,2024-12-31,1269188\n",
    );
    let before = checksums(&db);
    let out = run(&db, &["load", &path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("c.csv:2:value: same key as") && err.contains("c.csv:3:value: same key as"),
        "{err}"
    );
    assert_eq!(before, checksums(&db));
}

#[tokio::test]
async fn a_second_run_while_one_holds_the_lock_exits_4() {
    use diesel_async::RunQueryDsl;
    let db = migrated().await;
    let dir = temp_dir("lock");
    let obs = write(&dir, "a.csv", OBSERVATIONS);
    let mut holder = ansinh_store::connect(db.url()).await.expect("connect");
    diesel::sql_query("DO GET_LOCK(CONCAT('ansinh-import:', DATABASE()), 0)")
        .execute(&mut holder)
        .await
        .expect("lock");
    let out = run(&db, &["load", &obs]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    drop(holder);
}

#[tokio::test]
async fn a_run_killed_mid_way_leaves_nothing() {
    let db = migrated().await;
    let dir = temp_dir("kill");
    let communes: Vec<String> = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/vn-admin-units/communes_before_2025-07-01.csv"),
    )
    .map(|text| {
        text.lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(2).map(str::to_owned))
            .collect()
    })
    .unwrap_or_default();
    if communes.is_empty() {
        eprintln!("shared/reference not beside the repo; skipping");
        return;
    }
    let mut text = String::from("region,indicator,period,value\n");
    for code in &communes {
        for month in 1..=12 {
            for year in 2018..=2024 {
                text.push_str(&format!(
                    "{code},hi_treatment_visits,{year}-{month:02},{}\n",
                    month * year
                ));
            }
        }
    }
    let path = write(&dir, "big.csv", &text);
    let before = checksums(&db);
    let mut child = Command::new(import_binary())
        .args(["load", &path])
        .env("DATABASE_URL", db.url())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // The server rolls the dead session's transaction back.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(before, checksums(&db), "a killed run left rows behind");
}
