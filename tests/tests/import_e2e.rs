//! End-to-end tests of `ansinh-import`: the real binary against a real MySQL database of its
//! own (TestDatabase), migrated by `ansinh-import migrate`.

use std::process::Command;

use ansinh_tests::{
    ScratchDir, TestDatabase, binary, commune_months_csv, data_checksums_without_ledger, import,
    metric_sample, migrated_database, observations_loading, stderr, stdout,
};

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
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-contract");
    let obs = dir.write("observations.csv", OBSERVATIONS);
    let targets = dir.write("targets.csv", TARGETS);
    let out = import(db.url(), &["load", &obs, &targets]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("6 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );

    let before = data_checksums_without_ledger(db.url()).await;
    let out = import(db.url(), &["load", &obs, &targets]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 6 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        before,
        data_checksums_without_ledger(db.url()).await,
        "a re-import changed the data tables"
    );

    let runs = import(db.url(), &["runs"]);
    assert!(stdout(&runs).contains("committed"), "{}", stdout(&runs));
}

#[tokio::test]
async fn vi_locale_values_equal_en_values() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-locale");
    let en = dir.write("en.csv",
        "region,indicator,period,value\n68,hi_participants,2025-05,\"1,229,935\"\n68,hi_coverage_rate,2024,94.56\n",
    );
    let vi = dir.write("vi.csv",
        "region,indicator,period,value\n68,hi_participants,2025-05,1.229.935\n68,hi_coverage_rate,2024,\"94,56\"\n",
    );
    let out = import(db.url(), &["load", "--number-locale", "en", &en]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = import(db.url(), &["load", "--number-locale", "vi", &vi]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 2 unchanged"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn a_changed_value_updates_and_keeps_history() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-change");
    let obs = dir.write("a.csv", OBSERVATIONS);
    assert_eq!(import(db.url(), &["load", &obs]).status.code(), Some(0));
    let changed = dir.write("b.csv", &OBSERVATIONS.replace("94.56", "94.6"));
    let out = import(db.url(), &["load", &changed]);
    assert!(
        stdout(&out).contains("0 inserted, 1 updated, 2 unchanged"),
        "{}",
        stdout(&out)
    );
    let sums = data_checksums_without_ledger(db.url()).await;
    let history = sums
        .iter()
        .find(|sum| sum.table.ends_with(".observation_history"))
        .expect("history checksum");
    assert_ne!(history.checksum, Some(0), "history is empty: {history:?}");
}

#[tokio::test]
async fn bad_input_is_rejected_line_by_line_and_nothing_lands() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-bad");
    let cases = [
        (
            "region not valid then",
            "60,hi_participants,2025,5,persons",
            ":2:region: province 60 ended on 2025-06-30; from 2025-07-01 its territory is in 68 (Lâm Đồng); on 2025-12-31 use 68",
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
    let before = data_checksums_without_ledger(db.url()).await;
    for (name, row, expected) in cases {
        let header = "region,indicator,period,value,unit,qualifier";
        let row = if name == "bad qualifier" {
            row.to_owned()
        } else {
            format!("{row},")
        };
        let good = format!("{good},");
        let path = dir.write("bad.csv", &format!("{header}\n{row}\n{good}\n"));
        let out = import(db.url(), &["load", &path]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{name}: expected {expected:?} in\n{}",
            stderr(&out)
        );
        assert_eq!(
            before,
            data_checksums_without_ledger(db.url()).await,
            "{name}: the database changed"
        );
    }
}

#[tokio::test]
async fn same_stock_as_year_and_as_day_with_different_values_names_both_lines() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-conflict");
    let path = dir.write("c.csv",
        "region,indicator,period,value\n68,hi_participants,2024,1269187\n68,hi_participants,2024-12-31,1269188\n",
    );
    let before = data_checksums_without_ledger(db.url()).await;
    let out = import(db.url(), &["load", &path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("c.csv:2:value: same key as") && err.contains("c.csv:3:value: same key as"),
        "{err}"
    );
    assert_eq!(before, data_checksums_without_ledger(db.url()).await);
}

#[tokio::test]
async fn a_second_run_while_one_holds_the_lock_exits_4() {
    use diesel_async::RunQueryDsl;
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-lock");
    let obs = dir.write("a.csv", OBSERVATIONS);
    let mut holder = ansinh_store::connect(db.url()).await.expect("connect");
    diesel::sql_query("DO GET_LOCK(CONCAT('ansinh-import:', DATABASE()), 0)")
        .execute(&mut holder)
        .await
        .expect("lock");
    let out = import(db.url(), &["load", &obs]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    // The operator can tell which database's lock to look for (and never sees a placeholder).
    assert!(
        stderr(&out).contains(&format!(
            "another import run into database {name} holds the lock (ansinh-import:{name})",
            name = db.name()
        )),
        "{}",
        stderr(&out)
    );
    drop(holder);
}

#[tokio::test]
async fn a_url_without_a_database_is_a_usage_error_not_a_held_lock() {
    let db = TestDatabase::new().await;
    let dir = ScratchDir::new("e2e-no-database");
    let obs = dir.write("a.csv", OBSERVATIONS);
    let out = import(&db.server_url(), &["load", &obs]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the database URL names no database"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn a_run_killed_mid_way_leaves_nothing() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-kill");
    let text = commune_months_csv(2018..=2024);
    let path = dir.write("big.csv", &text);
    let before = data_checksums_without_ledger(db.url()).await;
    let mut child = Command::new(binary("ansinh-import"))
        .args(["load", &path])
        .env("DATABASE_URL", db.url())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Mid-way: the run is loading its rows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !observations_loading(db.url()).await {
        assert!(
            child.try_wait().expect("polling the importer").is_none(),
            "the run ended before it could be killed mid-way"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the run had not started loading after two minutes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // The server rolls the dead session's transaction back.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        before,
        data_checksums_without_ledger(db.url()).await,
        "a killed run left rows behind"
    );
}

/// The value of one series in a textfile, as the node exporter would read it.
fn metric(text: &str, series: &str) -> Option<String> {
    metric_sample(text, series).map(str::to_owned)
}

#[tokio::test]
async fn the_metrics_textfile_counts_runs_and_rows_and_keeps_the_last_success() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-textfile");
    let prom = dir.0.join("ansinh_import.prom");
    let prom_arg = prom.to_str().expect("utf-8 path");
    let obs = dir.write("observations.csv", OBSERVATIONS);
    let bad = dir.write(
        "bad.csv",
        "region,indicator,period,value\n68,hi_coverage_rate,2024,104.5\n",
    );

    let out = import(db.url(), &["load", "--metrics-textfile", prom_arg, &obs]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = std::fs::read_to_string(&prom).expect("the textfile is written");
    assert_eq!(
        metric(&first, "ansinh_import_runs_total{status=\"committed\"}").as_deref(),
        Some("1"),
        "{first}"
    );
    assert_eq!(
        metric(&first, "ansinh_import_rows_total{outcome=\"inserted\"}").as_deref(),
        Some("3"),
        "{first}"
    );
    assert_eq!(
        metric(&first, "ansinh_import_last_run_exit_code").as_deref(),
        Some("0")
    );
    let success = metric(&first, "ansinh_import_last_success_timestamp_seconds")
        .expect("a committed run sets the last success");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64();
    let at: f64 = success.parse().expect("seconds");
    assert!((now - at).abs() < 300.0, "{at} is not about now ({now})");

    // A rejected run: counted, its rows not counted as landed, the last success unchanged.
    let out = import(db.url(), &["load", "--metrics-textfile", prom_arg, &bad]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let second = std::fs::read_to_string(&prom).expect("the textfile is rewritten");
    assert_eq!(
        metric(&second, "ansinh_import_runs_total{status=\"rejected\"}").as_deref(),
        Some("1"),
        "{second}"
    );
    assert_eq!(
        metric(&second, "ansinh_import_runs_total{status=\"committed\"}").as_deref(),
        Some("1")
    );
    assert_eq!(
        metric(
            &second,
            "ansinh_import_last_run_status{status=\"rejected\"}"
        )
        .as_deref(),
        Some("1")
    );
    assert_eq!(
        metric(&second, "ansinh_import_last_run_rows{outcome=\"rejected\"}").as_deref(),
        Some("1")
    );
    assert_eq!(
        metric(&second, "ansinh_import_rows_total{outcome=\"rejected\"}").as_deref(),
        Some("1")
    );
    assert_eq!(
        metric(&second, "ansinh_import_rows_total{outcome=\"inserted\"}").as_deref(),
        Some("3")
    );
    assert_eq!(
        metric(&second, "ansinh_import_last_run_exit_code").as_deref(),
        Some("1")
    );
    assert_eq!(
        metric(&second, "ansinh_import_last_success_timestamp_seconds"),
        Some(success)
    );

    // A re-import: committed, every row unchanged.
    let out = import(db.url(), &["load", "--metrics-textfile", prom_arg, &obs]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let third = std::fs::read_to_string(&prom).expect("the textfile is rewritten");
    assert_eq!(
        metric(&third, "ansinh_import_runs_total{status=\"committed\"}").as_deref(),
        Some("2")
    );
    assert_eq!(
        metric(&third, "ansinh_import_rows_total{outcome=\"unchanged\"}").as_deref(),
        Some("3")
    );
    assert_eq!(
        metric(&third, "ansinh_import_last_run_rows_read").as_deref(),
        Some("3")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir.0)
        .expect("the directory")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.ends_with(".tmp").then_some(name)
        })
        .collect();
    assert!(leftovers.is_empty(), "temporaries left: {leftovers:?}");
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    let mut conn = db.connect().await;
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[tokio::test]
async fn every_kind_imports_from_csv_and_json_lines_in_one_run() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-kinds");
    let files = [
        dir.write("indicators.jsonl",
            r#"{"code":"si_late_employers","name":"Employers paying late","name_vi":"Đơn vị nợ đóng","unit":"count","kind":"stock"}
"#,
        ),
        dir.write("regions.csv",
            "code,name,level,valid_from,valid_to,name_vi
BHXH-KV25,Social Insurance Region 25,group,2020-01-01,2025-06-30,Bảo hiểm xã hội khu vực 25
BHXH-LD,Lâm Đồng Social Insurance,group,2025-07-01,,Bảo hiểm xã hội Lâm Đồng
",
        ),
        dir.write("region_members.jsonl",
            r#"{"group":"BHXH-KV25","member":"68"}
{"group":"BHXH-KV25","member":"60"}
{"group":"BHXH-KV25","member":"67"}
{"group":"BHXH-LD","member":"68"}
"#,
        ),
        dir.write("lineage.csv",
            "from_code,from_valid_from,to_code,to_valid_from,kind
BHXH-KV25,2020-01-01,BHXH-LD,2025-07-01,rename
",
        ),
        dir.write("observations.jsonl",
            r#"{"region":"68","indicator":"si_late_employers","period":"2024","value":125,"qualifier":"more_than","source":"baolamdong.vn 2025-05"}
{"region":"68","indicator":"hi_coverage_rate","period":"2024","value":"94.56","unit":"percent"}
"#,
        ),
        dir.write("targets.jsonl",
            r#"{"region":"68","indicator":"hi_coverage_rate","period":"2024","target":93.65,"unit":"percent","source":"Lam Dong provincial plan 2024"}
"#,
        ),
    ];
    let mut args = vec!["load"];
    args.extend(files.iter().map(String::as_str));

    let out = import(db.url(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("11 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );
    for (sql, expected) in [
        (
            "SELECT COUNT(*) AS n FROM indicators WHERE code = 'si_late_employers' AND kind = 'stock'",
            1,
        ),
        (
            "SELECT COUNT(*) AS n FROM regions WHERE code IN ('BHXH-KV25', 'BHXH-LD') AND level = 'group'",
            2,
        ),
        (
            "SELECT COUNT(*) AS n FROM region_members m JOIN regions g ON g.id = m.group_id WHERE g.code = 'BHXH-KV25'",
            3,
        ),
        (
            "SELECT COUNT(*) AS n FROM region_lineage l JOIN regions f ON f.id = l.from_region_id \
             JOIN regions t ON t.id = l.to_region_id WHERE f.code = 'BHXH-KV25' AND t.code = 'BHXH-LD'",
            1,
        ),
        // 125 "more than" (qualifier 1), exactly as written in JSON.
        (
            "SELECT COUNT(*) AS n FROM observations o JOIN indicators i ON i.id = o.indicator_id \
             WHERE i.code = 'si_late_employers' AND o.value = 125 AND o.qualifier = 1 AND o.source_id IS NOT NULL",
            1,
        ),
        ("SELECT COUNT(*) AS n FROM targets WHERE target = 93.65", 1),
    ] {
        assert_eq!(count(&db, sql).await, expected, "{sql}");
    }

    let before = data_checksums_without_ledger(db.url()).await;
    let out = import(db.url(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 11 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        before,
        data_checksums_without_ledger(db.url()).await,
        "a re-import of every kind changed the data tables"
    );
}

#[tokio::test]
async fn texts_longer_than_their_columns_are_named_problems_not_database_failures() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-long");
    let note = "n".repeat(1025);
    let source = "s".repeat(256);
    let name = "Đ".repeat(256);
    let observations = dir.write("observations.csv",
        &format!(
            "region,indicator,period,value,note,source\n68,hi_participants,2024,5,{note},ok\n68,hi_participants,2023,5,,{source}\n"
        ),
    );
    let regions = dir.write(
        "regions.csv",
        &format!("code,name,level,valid_from\nBHXH-X,{name},group,2020-01-01\n"),
    );
    let before = data_checksums_without_ledger(db.url()).await;
    let out = import(db.url(), &["load", &regions, &observations]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for expected in [
        "observations.csv:2:note: is 1025 characters long; at most 1024 are kept",
        "observations.csv:3:source: is 256 characters long; at most 255 are kept",
        "regions.csv:2:name: is 256 characters long; at most 255 are kept",
    ] {
        assert!(
            stderr(&out).contains(expected),
            "expected {expected:?} in\n{}",
            stderr(&out)
        );
    }
    assert_eq!(before, data_checksums_without_ledger(db.url()).await);
}

/// The newest run of the ledger with its files and rejections, as ImportService serves it.
async fn last_run(db: &TestDatabase) -> ansinh_store::queries::import_runs::ImportRunRecord {
    use ansinh_store::queries::import_runs::{import_run, list_import_runs};
    let mut conn = db.connect().await;
    let newest = list_import_runs(&mut conn, None, 1)
        .await
        .expect("listing the ledger")
        .pop()
        .expect("the ledger has a run");
    import_run(&mut conn, newest.run.id, 100)
        .await
        .expect("reading the run")
        .expect("the run is in the ledger")
}

#[tokio::test]
async fn a_10_mb_cell_is_rejected_with_a_short_message_and_a_finished_ledger_entry() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-huge-cell");
    let huge = "9".repeat(10 << 20);
    let obs = dir.write(
        "observations.csv",
        &format!("region,indicator,period,value\n68,hi_coverage_rate,2024,{huge}\n"),
    );
    let before = data_checksums_without_ledger(db.url()).await;
    let out = import(db.url(), &["load", &obs]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.len() < 10_000,
        "stderr is {} bytes, starting {:?}",
        err.len(),
        err.chars().take(300).collect::<String>()
    );
    assert!(!err.contains("could not finish the ledger entry"), "{err}");
    // The value is named by its start and its size, in the reason and as the value.
    assert!(err.contains("observations.csv:2:value:"), "{err}");
    assert!(err.contains("(10,485,760 bytes)"), "{err}");
    assert_eq!(before, data_checksums_without_ledger(db.url()).await);

    let record = last_run(&db).await;
    assert_eq!(record.run.status, "rejected", "{record:?}");
    assert!(record.run.finished_at.is_some(), "{record:?}");
    assert_eq!(record.run.rejected, 1, "{record:?}");
    let [rejection] = record.rejections.as_slice() else {
        panic!("one rejection expected: {record:?}");
    };
    assert_eq!(
        (rejection.line, rejection.column_name.as_deref()),
        (2, Some("value"))
    );
    let value = rejection.value.as_deref().unwrap_or_default();
    assert!(
        value.starts_with("999999") && value.ends_with("… (10,485,760 bytes)") && value.len() < 200,
        "{value:?}"
    );
    assert!(rejection.reason.len() < 1000, "{:?}", rejection.reason);
}

#[tokio::test]
async fn a_long_operator_name_and_a_deep_path_are_cut_to_fit_the_ledger_not_a_failed_run() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-deep-path");
    let mut deep = dir.0.clone();
    for level in 0..6 {
        deep.push(format!("{level}{}", "d".repeat(199)));
    }
    std::fs::create_dir_all(&deep).expect("creating the deep directories");
    let path = deep.join("observations.csv");
    std::fs::write(&path, OBSERVATIONS).expect("writing the deep file");
    let path = path.to_str().expect("a UTF-8 path");
    assert!(path.chars().count() > 1024, "{}", path.len());
    let operator = "o".repeat(200);

    let out = import(db.url(), &["load", "--operator", &operator, path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let record = last_run(&db).await;
    assert_eq!(record.run.status, "committed", "{record:?}");
    assert_eq!(record.run.operator, format!("{}…", "o".repeat(127)));
    let [file] = record.files.as_slice() else {
        panic!("one file expected: {record:?}");
    };
    assert_eq!(file.path.chars().count(), 1024, "{}", file.path);
    assert!(
        file.path.starts_with('…') && file.path.ends_with("/observations.csv"),
        "{}",
        file.path
    );
}
