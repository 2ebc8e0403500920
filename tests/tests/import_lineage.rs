//! Lineage through the real `ansinh-import` (issue 13, items 2 and 5): a province says how a
//! divided commune's figure was shared among its parts (weights that add up to 1, stored
//! exactly, kept by a later `migrate`), weights that cannot be stored or do not add up are
//! refused with the rows and the sum, and a code used after its territory passed to others
//! is refused with their codes and names.

use std::collections::BTreeMap;

use ansinh_store::queries::lineage_links;
use ansinh_store::schema::regions;
use ansinh_tests::{ScratchDir, TestDatabase, import, migrated_database, stderr, stdout};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

const LINEAGE_HEADER: &str = "from_code,from_valid_from,to_code,to_valid_from,kind,weight";

/// A lineage file giving Phường Cống Vị (00007, divided on 2025-07-01) shares of `to_00008`
/// for Phường Ngọc Hà (00008) and `to_00025` for Phường Giảng Võ (00025), on lines 2 and 3.
fn cong_vi_weights_csv(to_00008: &str, to_00025: &str) -> String {
    format!(
        "{LINEAGE_HEADER}\n\
         00007,2008-08-01,00008,2025-07-01,split,{to_00008}\n\
         00007,2008-08-01,00025,2025-07-01,split,{to_00025}\n"
    )
}

/// The stored edges of old commune 00007, read through the store: the new commune's code and
/// the edge's kind and weight.
async fn cong_vi_edges(db: &TestDatabase) -> BTreeMap<String, (String, Option<String>)> {
    let mut conn = ansinh_store::connect(db.url()).await.expect("connect");
    let versions: Vec<(u32, String)> = regions::table
        .select((regions::id, regions::code))
        .load(&mut conn)
        .await
        .expect("region codes");
    let code_of: BTreeMap<u32, String> = versions.into_iter().collect();
    let cong_vi: Vec<u32> = code_of
        .iter()
        .filter(|(_, code)| *code == "00007")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(cong_vi.len(), 1, "00007 has one version: {cong_vi:?}");
    lineage_links(&mut conn)
        .await
        .expect("lineage")
        .into_iter()
        .filter(|link| link.from == cong_vi[0])
        .map(|link| {
            (
                code_of[&link.to].clone(),
                (
                    link.kind.to_string(),
                    link.weight.map(|w| w.normalize().to_string()),
                ),
            )
        })
        .collect()
}

fn unweighted() -> BTreeMap<String, (String, Option<String>)> {
    BTreeMap::from([
        ("00008".to_owned(), ("split".to_owned(), None)),
        ("00025".to_owned(), ("split".to_owned(), None)),
    ])
}

#[tokio::test]
async fn weights_of_a_divided_commune_land_and_survive_migrate() {
    let db = migrated_database().await;
    assert_eq!(cong_vi_edges(&db).await, unweighted(), "as bundled");
    let dir = ScratchDir::new("lineage-weights");
    let lineage = dir.write("lineage.csv", &cong_vi_weights_csv("0.4", "0.6"));

    let out = import(db.url(), &["load", &lineage]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 2 updated, 0 unchanged, 0 rejected"),
        "{}",
        stdout(&out)
    );
    let weighted = BTreeMap::from([
        (
            "00008".to_owned(),
            ("split".to_owned(), Some("0.4".to_owned())),
        ),
        (
            "00025".to_owned(),
            ("split".to_owned(), Some("0.6".to_owned())),
        ),
    ]);
    assert_eq!(cong_vi_edges(&db).await, weighted);

    // The bundled edges carry no weights; installing them again keeps the imported ones.
    let out = import(db.url(), &["migrate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(cong_vi_edges(&db).await, weighted, "after a second migrate");

    // And the same file again changes nothing.
    let out = import(db.url(), &["load", &lineage]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 inserted, 0 updated, 2 unchanged"),
        "{}",
        stdout(&out)
    );

    // One part's weight alone, where the other part's stored weight makes the sum: 0.3 + 0.6.
    let one = dir.write(
        "one.csv",
        &format!("{LINEAGE_HEADER}\n00007,2008-08-01,00008,2025-07-01,split,0.3\n"),
    );
    let out = import(db.url(), &["load", &one]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{one}:2:weight: the weights of old unit 00007 (the version from 2008-08-01) add up to 0.9, not 1: line 2 gives 0.3 to 00008, the stored edge gives 0.6 to 00025;"
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        cong_vi_edges(&db).await,
        weighted,
        "a rejected run changed lineage"
    );
}

#[tokio::test]
async fn weights_that_do_not_add_up_to_one_are_rejected_with_every_row_and_the_sum() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("lineage-sum");
    let lineage = dir.write("lineage.csv", &cong_vi_weights_csv("0.4", "0.5"));
    let out = import(db.url(), &["load", &lineage]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    let reason = "the weights of old unit 00007 (the version from 2008-08-01) add up to 0.9, not 1: line 2 gives 0.4 to 00008, line 3 gives 0.5 to 00025; the shares of one old unit's figure must add up to exactly 1 over all its edges (stored ones this run does not change count too)";
    assert!(
        err.contains(&format!("{lineage}:2:weight: {reason} (\"0.4\")")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{lineage}:3:weight: {reason} (\"0.5\")")),
        "{err}"
    );
    assert!(stdout(&out).contains("rejected"), "{}", stdout(&out));
    assert_eq!(cong_vi_edges(&db).await, unweighted(), "nothing landed");
}

#[tokio::test]
async fn a_weight_with_seven_decimals_is_refused_not_rounded() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("lineage-scale");
    // They add up to 1, but 0.4000001 cannot be stored in DECIMAL(7,6) without rounding.
    let lineage = dir.write(
        "lineage.csv",
        &cong_vi_weights_csv("0.4000001", "0.5999999"),
    );
    let out = import(db.url(), &["load", &lineage]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    for (line, weight) in [(2, "0.4000001"), (3, "0.5999999")] {
        assert!(
            err.contains(&format!(
                "{lineage}:{line}:weight: has 7 decimal places; a weight is stored with at most 6 and is never rounded: give it to 6 places (the weights of the old unit still summing to exactly 1) (\"{weight}\")"
            )),
            "{err}"
        );
    }
    assert_eq!(cong_vi_edges(&db).await, unweighted(), "nothing landed");

    // A merge passes on the whole old unit.
    let merge = dir.write(
        "merge.csv",
        &format!("{LINEAGE_HEADER}\n00006,2008-08-01,00008,2025-07-01,merge,0.5\n"),
    );
    let out = import(db.url(), &["load", &merge]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{merge}:2:weight: a merge carries the whole old unit into the new one, so its weight is 1 or empty"
        )),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn a_code_used_after_its_territory_passed_on_names_the_codes_that_hold_it() {
    let db = migrated_database().await;
    let dir = ScratchDir::new("lineage-moved");
    let observations = dir.write(
        "observations.csv",
        "region,indicator,period,value\n\
         00007,population,2025-08,1000\n\
         60,population,2025-08,1000\n\
         19742,population,2024,1000\n\
         00008,population,2025-08,1000\n",
    );
    let out = import(db.url(), &["load", &observations]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    let expected = [
        // A divided commune: every part, each marked as holding part of it.
        "2:region: commune 00007 ended on 2025-06-30; from 2025-07-01 its territory is partly in 00008 (Phường Ngọc Hà) and partly in 00025 (Phường Giảng Võ); on 2025-08-31 use 00008 or 00025 (\"00007\")",
        // A merged province.
        "3:region: province 60 ended on 2025-06-30; from 2025-07-01 its territory is in 68 (Lâm Đồng); on 2025-08-31 use 68 (\"60\")",
        // A commune that began in 2025, used for 2024: what it was before.
        "4:region: commune 19742 began on 2025-07-01; until 2025-06-30 it was 471 (Huyện Cồn Cỏ); on 2024-12-31 use 471 (\"19742\")",
    ];
    for line in expected {
        assert!(err.contains(&format!("{observations}:{line}")), "{err}");
    }
    // The new Phường Ngọc Hà is valid then: only the three rows are rejected.
    assert!(!err.contains(":5:"), "{err}");
    assert!(stdout(&out).contains("3 rejected"), "{}", stdout(&out));
}
