//! End-to-end: the count-like units a source writes (`visits`, `claims`, `people`, …) land
//! through the real binary as the indicator's own figure, and units of another dimension are
//! still refused with the accepted ones named.

use ansinh_tests::{ScratchDir, import, migrated_database, stderr, stdout};

#[tokio::test]
async fn count_like_units_land_in_the_indicators_unit() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("e2e-count-units");
    let as_written = dir.write(
        "as-written.csv",
        "region,indicator,period,value,unit
68,hi_treatment_visits,2024,12400,visits
68,benefit_settlements,2024,310,claims
68,new_employer_units,2024,42,units
68,collection_points,2024,7,count
68,collectors,2024,95,count
68,collaborators,2024,1200,people
68,hi_participants,2024,1229935,persons
",
    );
    let out = import(db.url(), &["load", &as_written]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("7 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );

    // The same figures in each indicator's own unit, or with none, change nothing: they were
    // stored unconverted in that unit.
    let canonical = dir.write(
        "canonical.csv",
        "region,indicator,period,value,unit
68,hi_treatment_visits,2024,12400,count
68,benefit_settlements,2024,310,
68,new_employer_units,2024,42,count
68,collection_points,2024,7,
68,collectors,2024,95,persons
68,collaborators,2024,1200,
68,hi_participants,2024,1229935,people
",
    );
    let out = import(db.url(), &["load", &canonical]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 7 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );

    let wrong = dir.write(
        "wrong.csv",
        "region,indicator,period,value,unit
68,collectors,2024,95,vnd
68,collection_points,2024,7,percent
",
    );
    let out = import(db.url(), &["load", &wrong]);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    let problems = stderr(&out);
    let accepted = "accepted: persons, count, visits, claims, units, people)";
    for expected in [
        format!(
            ":2:unit: unit vnd does not fit indicator collectors (stored in persons; {accepted}"
        ),
        format!(
            ":3:unit: unit percent does not fit indicator collection_points (stored in count; {accepted}"
        ),
    ] {
        assert!(problems.contains(&expected), "{expected}\n{problems}");
    }
}
