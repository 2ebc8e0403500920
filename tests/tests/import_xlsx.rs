//! End-to-end tests of XLSX import: the real `ansinh-import` reads the shipped report sheet of
//! seed 000 (examples/xlsx/) through its mapping, and what lands is exactly what the same
//! figures written as CSV rows land; a sheet with mistakes is refused cell by cell and leaves
//! the database as it was.

use ansinh_tests::{
    ScratchDir, TestDatabase, data_checksums_without_ledger, describe, import, migrated_database,
    stderr, stdout,
};
use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text, Unsigned};
use diesel_async::RunQueryDsl;

const SHEET: &str = "examples/xlsx/lam-dong-2025-05.xlsx";
const MAPPING: &str = "examples/xlsx/lam-dong-2025-05.mapping.json";
const TRANSPOSED: &str = "examples/xlsx/lam-dong-2025-05-transposed.xlsx";
const TRANSPOSED_MAPPING: &str = "examples/xlsx/lam-dong-2025-05-transposed.mapping.json";
const MISTAKES: &str = "tests/fixtures/xlsx/lam-dong-2025-05-mistakes.xlsx";

/// The figures of the sheet as the contract's CSV rows (seed 000, Lâm Đồng, May 2025).
const EQUIVALENT_CSV: &str = "region,indicator,period,value,unit,qualifier,source
68,hi_coverage_rate,2024,94.56,percent,,baolamdong.vn 2025-05
68,si_coverage_rate,2024,17.1,percent,,baolamdong.vn 2025-05
VN,si_coverage_rate,2024,42.71,percent,,baolamdong.vn 2025-05
68,contributions_collected,2024,3818,billion_vnd,more_than,baolamdong.vn 2025-05
68,benefits_paid_state_budget,2024,333,billion_vnd,more_than,baolamdong.vn 2025-05
68,benefits_paid_si_fund,2024,2461,billion_vnd,more_than,baolamdong.vn 2025-05
68,ui_benefits_paid,2024,148,billion_vnd,more_than,baolamdong.vn 2025-05
68,hi_treatment_cost,2024,875,billion_vnd,more_than,baolamdong.vn 2025-05
68,hi_participants,2025-01/2025-05,1229935,persons,,baolamdong.vn 2025-05
68,hi_coverage_rate,2025-01/2025-05,90.44,percent,,baolamdong.vn 2025-05
68,si_participants,2025-01/2025-05,116249,persons,,baolamdong.vn 2025-05
68,si_coverage_rate,2025-01/2025-05,18.43,percent,,baolamdong.vn 2025-05
68,benefits_paid,2025-01/2025-05,1424,billion_vnd,more_than,baolamdong.vn 2025-05
68,benefits_paid_state_budget,2025-01/2025-05,148,billion_vnd,more_than,baolamdong.vn 2025-05
68,benefits_paid_si_fund,2025-01/2025-05,1222,billion_vnd,more_than,baolamdong.vn 2025-05
68,ui_benefits_paid,2025-01/2025-05,53,billion_vnd,more_than,baolamdong.vn 2025-05
68,hi_treatment_visits,2025-01/2025-05,843168,count,,baolamdong.vn 2025-05
68,hi_treatment_cost,2025-01/2025-05,365,billion_vnd,more_than,baolamdong.vn 2025-05
68,collection_points,2025-01/2025-05,276,count,,baolamdong.vn 2025-05
68,collectors,2025-01/2025-05,592,persons,,baolamdong.vn 2025-05
68,collaborators,2025-01/2025-05,1486,persons,,baolamdong.vn 2025-05
68,id_authenticated_participants,2025-01/2025-05,1207211,persons,,baolamdong.vn 2025-05
";

/// One stored observation, by codes rather than ids (ids differ between databases).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    region: String,
    #[diesel(sql_type = Text)]
    indicator: String,
    #[diesel(sql_type = Text)]
    period_start: String,
    #[diesel(sql_type = Text)]
    period_end: String,
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = Unsigned<diesel::sql_types::TinyInt>)]
    qualifier: u8,
    #[diesel(sql_type = Nullable<Text>)]
    source: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    note: Option<String>,
}

async fn stored(db: &TestDatabase) -> Vec<Stored> {
    let mut conn = db.connect().await;
    let mut rows: Vec<Stored> = diesel::sql_query(
        "SELECT r.code AS region, i.code AS indicator,
                CAST(o.period_start AS CHAR) AS period_start, CAST(o.period_end AS CHAR) AS period_end,
                CAST(o.value AS CHAR) AS value, o.qualifier, s.name AS source, o.note
         FROM observations o
         JOIN regions r ON r.id = o.region_id
         JOIN indicators i ON i.id = o.indicator_id
         LEFT JOIN sources s ON s.id = o.source_id",
    )
    .load(&mut conn)
    .await
    .expect("reading the stored observations");
    rows.sort();
    rows
}

#[tokio::test]
async fn the_example_sheet_lands_exactly_what_its_csv_rows_land() {
    let from_sheet = migrated_database().await;
    let out = import(
        from_sheet.url(),
        &["load", "--operator", "e2e", "--mapping", MAPPING, SHEET],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("22 rows")
            && stdout(&out).contains("22 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        describe(&out)
    );

    let dir = ScratchDir::new("e2e-xlsx");
    let csv = dir.write("lam-dong-2025-05.csv", EQUIVALENT_CSV);
    let from_csv = migrated_database().await;
    let out = import(from_csv.url(), &["load", &csv]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    let sheet_rows = stored(&from_sheet).await;
    assert_eq!(sheet_rows.len(), 22);
    assert_eq!(sheet_rows, stored(&from_csv).await);
    // Exact decimals: 94.56 stays 94.56 (the sheet spells it 94.560000000000002), 3,818 billion
    // VND "more than" is 3818000000000 with its qualifier.
    let find = |indicator: &str, start: &str| {
        sheet_rows
            .iter()
            .find(|r| r.region == "68" && r.indicator == indicator && r.period_start == start)
            .unwrap_or_else(|| panic!("no {indicator} from {start}: {sheet_rows:#?}"))
    };
    assert_eq!(find("hi_coverage_rate", "2024-12-31").value, "94.560000");
    let money = find("contributions_collected", "2024-01-01");
    assert_eq!(money.value, "3818000000000.000000");
    assert_ne!(
        money.qualifier,
        find("hi_coverage_rate", "2024-12-31").qualifier
    );
    assert_eq!(
        find("hi_participants", "2025-05-31").value,
        "1229935.000000"
    );

    // The CSV rows, the transposed sheet (vi text and percentage cells) and the sheet again
    // change nothing.
    for args in [
        vec!["load", &csv],
        vec!["load", "--mapping", TRANSPOSED_MAPPING, TRANSPOSED],
        vec!["load", "--format", "xlsx", "--mapping", MAPPING, SHEET],
    ] {
        let out = import(from_sheet.url(), &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", describe(&out));
        assert!(
            stdout(&out).contains("0 inserted, 0 updated, 22 unchanged, 0 rejected"),
            "{args:?}: {}",
            describe(&out)
        );
    }
}

#[tokio::test]
async fn a_sheet_with_mistakes_is_refused_cell_by_cell_and_nothing_lands() {
    let db = migrated_database().await;
    let out = import(db.url(), &["load", "--mapping", MAPPING, SHEET]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let before = data_checksums_without_ledger(db.url()).await;

    let out = import(db.url(), &["load", "--mapping", MAPPING, MISTAKES]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    let cell = format!("{MISTAKES}:5:'Báo cáo 5-2025'!");
    for expected in [
        format!("{cell}C5: 104.5 is outside 0 to 100"),
        format!("{cell}E5: holds the error #DIV/0!"),
        format!("{cell}F5: holds a formula but no stored result"),
        // "1,229,935" in a sheet whose mapping declares the vi locale.
        format!("{cell}J5: "),
        format!("{MISTAKES}:6:'Báo cáo 5-2025'!A6: unknown region code 99"),
    ] {
        assert!(
            err.lines().any(|line| line.starts_with(&expected)),
            "expected a line starting {expected:?} in\n{err}"
        );
    }
    assert_eq!(
        before,
        data_checksums_without_ledger(db.url()).await,
        "a rejected sheet changed the data"
    );
    let runs = import(db.url(), &["runs", "--limit", "1"]);
    assert!(stdout(&runs).contains("rejected"), "{}", describe(&runs));
}

#[tokio::test]
async fn a_sheet_without_a_usable_mapping_is_a_usage_error() {
    // Usage is checked before the database is reached.
    let url = "mysql://nobody@127.0.0.1:1/unused";
    let out = import(url, &["load", SHEET]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains(
            "is an XLSX report sheet; add --mapping MAP.json (or set ANSINH_IMPORT_MAPPING)"
        ),
        "{}",
        describe(&out)
    );

    let out = import(
        url,
        &[
            "load",
            "--mapping",
            MAPPING,
            "examples/sample/observations.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("none of the files is one"),
        "{}",
        describe(&out)
    );

    let dir = ScratchDir::new("e2e-xlsx-map");
    let bad = dir.write(
        "bad.mapping.json",
        r#"{"sheet": "Báo cáo 5-2025", "header_row": 4, "region_column": "A",
            "series": [{"column": "C", "indicator": "hi_coverage_rate", "unit": "percent", "period": "2024-13"}]}"#,
    );
    let out = std::process::Command::new(ansinh_tests::binary("ansinh-import"))
        .args(["load", SHEET])
        .env("ANSINH_IMPORT_MAPPING", &bad)
        .env("DATABASE_URL", url)
        .current_dir(ansinh_tests::workspace_root())
        .output()
        .expect("running ansinh-import");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("bad.mapping.json: series[0].period: month 13"),
        "{}",
        describe(&out)
    );
}
