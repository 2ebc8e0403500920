//! A run's indicators join the catalog only as the model's [`ansinh_model::Catalog`] allows:
//! against a real MySQL database of the test's own, migrated and holding the bundled catalog.
//! A catalog the server cannot read would fail every question about indicators, so an
//! indicators row that breaks it is rejected with its column named, and nothing lands.

use std::path::PathBuf;
use std::sync::Arc;

use ansinh_importer::run::{self, LoadOptions, Outcome};
use ansinh_importer::series::Progress;
use ansinh_importer::timeouts::Timeouts;
use ansinh_model::NumberLocale;
use ansinh_test_db::TestDatabase;

const HEADER: &str = "code,name,unit,kind,numerator,denominator";

/// Loads one indicators file of `rows` (after [`HEADER`]) into `db`.
async fn load(db: &TestDatabase, name: &str, rows: &str) -> Outcome {
    let path = std::env::temp_dir().join(format!(
        "ansinh-import-catalog-{}-{name}.csv",
        std::process::id()
    ));
    std::fs::write(&path, format!("{HEADER}\n{rows}")).unwrap();
    let options = LoadOptions {
        database_url: db.url().to_owned(),
        files: vec![PathBuf::from(&path)],
        kind: None,
        format: None,
        mapping: None,
        locale: NumberLocale::Plain,
        dry_run: false,
        diff: false,
        operator: "test".to_owned(),
        timeouts: Timeouts::default(),
    };
    let outcome = run::load(&options, Arc::new(Progress::default())).await;
    std::fs::remove_file(&path).unwrap();
    outcome.unwrap()
}

async fn migrated() -> TestDatabase {
    let db = TestDatabase::new().await;
    ansinh_store::run_pending_migrations(db.url())
        .await
        .unwrap();
    ansinh_store::install_reference_data(&mut db.connect().await)
        .await
        .unwrap();
    db
}

fn problems(outcome: &Outcome) -> Vec<String> {
    outcome
        .problems
        .iter()
        .map(|p| p.to_string().rsplit_once(".csv:").unwrap().1.to_owned())
        .collect()
}

#[tokio::test]
async fn a_ratio_that_mixes_a_stock_with_a_flow_is_rejected_where_its_parts_are_named() {
    let db = migrated().await;
    let outcome = load(
        &db,
        "mixed",
        "benefits_per_participant,Benefits per participant,percent,ratio,benefits_paid,hi_participants\n\
         plan_over_population,Plan over population,percent,ratio,contributions_plan_rate,population\n",
    )
    .await;
    assert_eq!(outcome.status, "rejected");
    assert_eq!(
        problems(&outcome),
        [
            "2:denominator: ratio benefits_per_participant divides benefits_paid by hi_participants, but one is a stock and the other a flow; both parts must be of the same kind (\"hi_participants\")",
            "3:numerator: ratio plan_over_population names contributions_plan_rate (reported_ratio) as its numerator; the parts of a ratio must be stocks or flows (\"contributions_plan_rate\")",
        ]
    );

    // Refused before it was written: the next run does not know it.
    let outcome = load(
        &db,
        "after",
        "benefits_per_participant,Benefits per participant,percent,ratio,benefits_paid,contributions_collected\n",
    )
    .await;
    assert_eq!(outcome.status, "committed", "{:?}", outcome.problems);
    assert_eq!((outcome.inserted, outcome.updated), (1, 0));
}

#[tokio::test]
async fn a_part_whose_new_kind_no_longer_fits_its_ratios_is_rejected_at_its_kind() {
    let db = migrated().await;
    let outcome = load(&db, "part", "population,Population,persons,flow,,\n").await;
    assert_eq!(outcome.status, "rejected");
    let problems = problems(&outcome);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("2:kind: ratio hi_coverage_rate divides hi_participants by population, but one is a stock and the other a flow"),
        "{problems:#?}"
    );
    assert!(problems[0].ends_with("(\"flow\")"), "{problems:#?}");
}
