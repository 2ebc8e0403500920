//! End-to-end: `ansinh-import load --dry-run --diff` lists each row that would change, the
//! stored figure beside the new one for an update, on stdout and in `--summary-json`, and
//! writes nothing.

use ansinh_tests::{
    ScratchDir, data_checksums_without_ledger, import, sample_database, stderr, stdout,
};

#[tokio::test]
async fn a_dry_run_diff_shows_old_and_new_figures_and_writes_nothing() {
    let db = sample_database().await;
    let dir = ScratchDir::new("e2e-diff");
    let changes = dir.write(
        "changes.csv",
        "region,indicator,period,value,unit,qualifier,source,note
68,hi_coverage_rate,2024,94.60,percent,,revised report 2025-06,
68,si_coverage_rate,2024,17.1,percent,,baolamdong.vn 2025-05,
68,collaborators,2023,1200,people,about,revised report 2025-06,
",
    );
    let summary = dir.0.join("summary.json");
    let before = data_checksums_without_ledger(db.url()).await;
    let out = import(
        db.url(),
        &[
            "load",
            "--dry-run",
            "--diff",
            "--summary-json",
            summary.to_str().unwrap(),
            &changes,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "would update 1 row(s):\n  observations 68 hi_coverage_rate 2024-12-31: 94.56 exact (source baolamdong.vn 2025-05) -> 94.6 exact (source revised report 2025-06)\n",
        "would insert 1 row(s):\n  observations 68 collaborators 2023-12-31: 1200 about (source revised report 2025-06)\n",
        "1 would be inserted, 1 would be updated, 1 unchanged, 0 rejected",
    ] {
        assert!(text.contains(line), "{line}\n--- stdout\n{text}");
    }
    assert_eq!(
        before,
        data_checksums_without_ledger(db.url()).await,
        "a dry run changed the data tables"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let diff = &json["diff"];
    assert_eq!(
        diff["updates"],
        serde_json::json!([{
            "key": {"table": "observations", "region": "68", "indicator": "hi_coverage_rate", "period": "2024-12-31"},
            "old": {"value": "94.56", "qualifier": "exact", "source": "baolamdong.vn 2025-05"},
            "new": {"value": "94.6", "qualifier": "exact", "source": "revised report 2025-06"},
        }]),
        "{json:#}"
    );
    assert_eq!(
        diff["inserts"][0]["key"]["indicator"], "collaborators",
        "{json:#}"
    );
    assert_eq!(
        diff["inserts"].as_array().map(Vec::len),
        Some(1),
        "{json:#}"
    );
    assert_eq!(
        (&diff["more_inserts"], &diff["more_updates"]),
        (&0.into(), &0.into())
    );

    // A real run's changes are in the ledger and the history already: --diff is a dry run's.
    let out = import(db.url(), &["load", "--diff", &changes]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--dry-run"), "{}", stderr(&out));
}

#[tokio::test]
async fn a_long_diff_lists_twenty_of_each_and_counts_the_rest() {
    let db = sample_database().await;
    let dir = ScratchDir::new("e2e-diff-long");
    let mut rows = String::from("region,indicator,period,value\n");
    for month in 0..30 {
        let (year, month) = (2010 + month / 12, month % 12 + 1);
        rows.push_str(&format!("68,collectors,{year}-{month:02},{month}\n"));
    }
    let many = dir.write("many.csv", &rows);
    let out = import(db.url(), &["load", "--dry-run", "--diff", &many]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("would insert 30 row(s):\n"), "{text}");
    assert!(text.contains("  and 10 more\n"), "{text}");
    assert_eq!(text.matches(" -> ").count(), 0, "{text}");
    assert_eq!(
        text.matches("observations 68 collectors ").count(),
        20,
        "{text}"
    );
}
