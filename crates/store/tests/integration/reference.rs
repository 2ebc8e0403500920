//! The bundled reference data on a real database: counts, versions, lineage, catalog, and
//! idempotence down to table checksums.

use std::time::Instant;

use ansinh_model::{IndicatorCode, LineageKind, RegionCode, RegionLevel};
use ansinh_store::import::{Written, upsert_lineage, upsert_region};
use ansinh_store::queries::{
    RegionFilter, indicator_by_code, lineage_predecessors, lineage_successors, list_indicators,
    list_regions, region_at, regions_valid_at,
};
use ansinh_store::schema::{indicators, region_lineage, regions};
use ansinh_store::{AsyncMysqlConnection, TableCounts, install_reference_data};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;

use super::date;

fn code(text: &str) -> RegionCode {
    RegionCode::parse(text).unwrap()
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Checksum {
    #[diesel(sql_type = Text, column_name = "Table")]
    table: String,
    #[diesel(sql_type = Nullable<BigInt>, column_name = "Checksum")]
    checksum: Option<i64>,
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// `CHECKSUM TABLE` of every table: equal before and after means no row changed.
async fn checksums(conn: &mut AsyncMysqlConnection) -> Vec<Checksum> {
    let tables = diesel::sql_query(
        "SELECT table_name AS name FROM information_schema.tables \
         WHERE table_schema = DATABASE() ORDER BY table_name",
    )
    .load::<TableName>(conn)
    .await
    .unwrap();
    let mut sums = Vec::new();
    for TableName { name } in tables {
        // A table name cannot be bound; these come from information_schema.
        let sum = diesel::sql_query(format!("CHECKSUM TABLE `{name}`"))
            .get_result::<Checksum>(conn)
            .await
            .unwrap();
        sums.push(sum);
    }
    sums
}

#[tokio::test(flavor = "multi_thread")]
async fn first_install_creates_both_generations_and_a_second_changes_nothing() {
    let (_db, mut conn) = super::migrated().await;

    let started = Instant::now();
    let first = install_reference_data(&mut conn).await.unwrap();
    eprintln!(
        "reference install on an empty database took {:?}",
        started.elapsed()
    );
    // VN + 52 old-only + 11 continuous + 23 new provinces + 696 + 10,035 + 3,321.
    assert_eq!(
        first.regions,
        TableCounts {
            inserted: 1 + 52 + 11 + 23 + 696 + 10_035 + 3_321,
            updated: 0,
            unchanged: 0
        }
    );
    // 52 merged provinces; 10,602 commune edges of the 2025 reform.
    assert_eq!(first.lineage.inserted, 52 + 10_602);
    assert_eq!(first.indicators.inserted, 28);

    let before = checksums(&mut conn).await;
    assert!(
        before
            .iter()
            .any(|sum| sum.table.ends_with(".regions") && sum.checksum.is_some())
    );
    let started = Instant::now();
    let second = install_reference_data(&mut conn).await.unwrap();
    eprintln!(
        "reference re-install (no changes) took {:?}",
        started.elapsed()
    );
    assert!(!second.changed(), "{second:?}");
    assert_eq!(second.regions.unchanged, first.regions.inserted);
    assert_eq!(second.lineage.unchanged, 52 + 10_602);
    assert_eq!(second.indicators.unchanged, 28);
    assert_eq!(
        checksums(&mut conn).await,
        before,
        "a second install must change no row"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_date_sees_its_own_generation() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let (before, after) = (date("2024-06-01"), date("2025-08-01"));
    assert_eq!(
        regions_valid_at(conn, RegionLevel::Nation, before)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        regions_valid_at(conn, RegionLevel::Province, before)
            .await
            .unwrap(),
        63
    );
    assert_eq!(
        regions_valid_at(conn, RegionLevel::District, before)
            .await
            .unwrap(),
        696
    );
    assert_eq!(
        regions_valid_at(conn, RegionLevel::Commune, before)
            .await
            .unwrap(),
        10_035
    );
    assert_eq!(
        regions_valid_at(conn, RegionLevel::Nation, after)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        regions_valid_at(conn, RegionLevel::Province, after)
            .await
            .unwrap(),
        34
    );
    assert_eq!(
        regions_valid_at(conn, RegionLevel::District, after)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        regions_valid_at(conn, RegionLevel::Commune, after)
            .await
            .unwrap(),
        3_321
    );
    // The boundary days themselves.
    assert_eq!(
        regions_valid_at(conn, RegionLevel::Province, date("2025-06-30"))
            .await
            .unwrap(),
        63
    );
    assert_eq!(
        regions_valid_at(conn, RegionLevel::Province, date("2025-07-01"))
            .await
            .unwrap(),
        34
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn merged_lam_dong_has_old_68_60_67_as_exact_predecessors() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let old = region_at(conn, &code("68"), date("2024-06-01"))
        .await
        .unwrap()
        .unwrap();
    let new = region_at(conn, &code("68"), date("2025-08-01"))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(old.id, new.id, "code 68 names two territories");
    assert_eq!(old.region.name, "Lâm Đồng");
    assert_eq!(new.region.name_vi.as_deref(), Some("Tỉnh Lâm Đồng"));
    assert_eq!(old.region.validity.to, Some(date("2025-06-30")));
    assert_eq!(new.region.validity.from, date("2025-07-01"));
    assert_eq!(new.region.parent, Some(code("VN")));

    let predecessors = lineage_predecessors(conn, new.id).await.unwrap();
    let codes: Vec<&str> = predecessors
        .iter()
        .map(|e| e.region.region.code.as_str())
        .collect();
    assert_eq!(codes, ["60", "67", "68"]);
    for edge in &predecessors {
        assert_eq!(edge.kind, LineageKind::Merge);
        assert!(!edge.approximate, "province lineage is exact");
        assert_eq!(edge.effective_date, date("2025-07-01"));
        assert_eq!(edge.region.region.validity.to, Some(date("2025-06-30")));
    }
    assert_eq!(predecessors[2].region.id, old.id);

    let successors = lineage_successors(conn, predecessors[0].region.id)
        .await
        .unwrap();
    assert_eq!(successors.len(), 1);
    assert_eq!(successors[0].region.id, new.id);
    assert!(lineage_successors(conn, new.id).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_province_is_one_version_without_lineage() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    for unchanged in ["01", "04", "46"] {
        let before = region_at(conn, &code(unchanged), date("2024-06-01"))
            .await
            .unwrap()
            .unwrap();
        let after = region_at(conn, &code(unchanged), date("2025-08-01"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            before.id, after.id,
            "{unchanged} did not change on 2025-07-01"
        );
        assert_eq!(before.region.validity.to, None);
        assert!(
            lineage_predecessors(conn, before.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            lineage_successors(conn, before.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
    // Its districts (abolished) and old communes hang under the same version as its new ones.
    let hanoi = region_at(conn, &code("01"), date("2025-08-01"))
        .await
        .unwrap()
        .unwrap();
    let old_commune = region_at(conn, &code("00001"), date("2024-06-01"))
        .await
        .unwrap()
        .unwrap();
    let district = old_commune.parent_id.unwrap();
    let district = ansinh_store::queries::region_by_id(conn, district)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(district.region.level, RegionLevel::District);
    assert_eq!(district.parent_id, Some(hanoi.id));
    let new_commune = region_at(conn, &code("00004"), date("2025-08-01"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new_commune.parent_id, Some(hanoi.id));
    assert_eq!(new_commune.region.kind.as_deref(), Some("Phường"));
    assert!(
        region_at(conn, &code("001"), date("2025-08-01"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn default_catalog_is_installed_with_ratio_parts_resolved() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let rate = indicator_by_code(conn, &IndicatorCode::parse("hi_coverage_rate").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rate.indicator.numerator.unwrap().as_str(),
        "hi_participants"
    );
    assert_eq!(rate.indicator.denominator.unwrap().as_str(), "population");
    assert_eq!(rate.indicator.unit.as_str(), "percent");
    let all = list_indicators(conn).await.unwrap();
    assert_eq!(all.len(), 28);
    let codes: Vec<&str> = all.iter().map(|r| r.indicator.code.as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted, "listed in code order");
    assert!(
        indicator_by_code(conn, &IndicatorCode::parse("no_such").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reinstall_repairs_exactly_what_was_changed() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let new_68 = region_at(conn, &code("68"), date("2025-08-01"))
        .await
        .unwrap()
        .unwrap();
    diesel::update(regions::table.find(new_68.id))
        .set(regions::name.eq("Lam Dong (edited)"))
        .execute(conn)
        .await
        .unwrap();
    diesel::delete(region_lineage::table.filter(region_lineage::to_region_id.eq(new_68.id)))
        .execute(conn)
        .await
        .unwrap();
    let population: u32 = indicators::table
        .filter(indicators::code.eq("population"))
        .select(indicators::id)
        .first(conn)
        .await
        .unwrap();
    // Make hi_coverage_rate divide by the wrong part.
    diesel::update(indicators::table.filter(indicators::code.eq("hi_coverage_rate")))
        .set(indicators::numerator_id.eq(Some(population)))
        .execute(conn)
        .await
        .unwrap();

    let report = install_reference_data(conn).await.unwrap();
    assert_eq!((report.regions.inserted, report.regions.updated), (0, 1));
    assert_eq!((report.lineage.inserted, report.lineage.updated), (3, 0));
    assert_eq!(
        (report.indicators.inserted, report.indicators.updated),
        (0, 1)
    );
    let repaired = region_at(conn, &code("68"), date("2025-08-01"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(repaired.region.name, "Lâm Đồng");
    assert_eq!(
        lineage_predecessors(conn, new_68.id).await.unwrap().len(),
        3
    );
    let rate = indicator_by_code(conn, &IndicatorCode::parse("hi_coverage_rate").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rate.indicator.numerator.unwrap().as_str(),
        "hi_participants"
    );
}

/// The importer writes a file's regions and lineage with the install's comparison, so it
/// repairs what the install would: a stale search text or approximate flag is not reported
/// unchanged and left wrong.
#[tokio::test(flavor = "multi_thread")]
async fn importer_reference_writes_repair_what_the_install_would() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let lam_dong = region_at(conn, &code("68"), date("2025-08-01"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        upsert_region(conn, &lam_dong.region, lam_dong.parent_id)
            .await
            .unwrap(),
        (lam_dong.id, Written::Unchanged)
    );

    diesel::update(regions::table.find(lam_dong.id))
        .set(regions::name_folded.eq("stale"))
        .execute(conn)
        .await
        .unwrap();
    assert_eq!(
        upsert_region(conn, &lam_dong.region, lam_dong.parent_id)
            .await
            .unwrap(),
        (lam_dong.id, Written::Updated)
    );
    let search = RegionFilter {
        name: Some("tinh lam dong"),
        valid_on: Some(date("2025-08-01")),
        ..RegionFilter::default()
    };
    let found = list_regions(conn, &search, None, 10).await.unwrap();
    assert_eq!(
        found.iter().map(|r| r.id).collect::<Vec<_>>(),
        [lam_dong.id],
        "the official name is searchable again"
    );

    let edge = lineage_predecessors(conn, lam_dong.id).await.unwrap()[0].clone();
    let from = edge.region.id;
    let (kind, effective) = (edge.kind, edge.effective_date);
    assert_eq!(
        upsert_lineage(conn, from, lam_dong.id, kind, effective, None)
            .await
            .unwrap(),
        Written::Unchanged
    );
    diesel::update(region_lineage::table.find((from, lam_dong.id)))
        .set(region_lineage::approximate.eq(true))
        .execute(conn)
        .await
        .unwrap();
    assert_eq!(
        upsert_lineage(conn, from, lam_dong.id, kind, effective, None)
            .await
            .unwrap(),
        Written::Updated
    );
    assert!(
        lineage_predecessors(conn, lam_dong.id)
            .await
            .unwrap()
            .iter()
            .all(|e| !e.approximate),
        "a merge carries figures exactly"
    );
}

/// The reform's lineage of communes: a merged commune's predecessors are exact, a divided
/// commune's successors approximate; a weight a province imported for a divided commune's
/// part survives the next `migrate`, which bundles no weights.
#[tokio::test(flavor = "multi_thread")]
async fn commune_lineage_is_installed_and_keeps_imported_weights() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let before = date("2024-06-01");
    // 00001 Phường Phúc Xá went wholly into 00097 Phường Hồng Hà.
    let phuc_xa = region_at(conn, &RegionCode::parse("00001").unwrap(), before)
        .await
        .unwrap()
        .unwrap();
    let edges = lineage_successors(conn, phuc_xa.id).await.unwrap();
    assert_eq!(
        edges
            .iter()
            .map(|e| (e.region.region.code.as_str(), e.kind, e.approximate))
            .collect::<Vec<_>>(),
        [("00097", LineageKind::Merge, false)]
    );
    // 00007 Phường Cống Vị was divided; one of its parts is in 00008 Phường Ngọc Hà.
    let cong_vi = region_at(conn, &RegionCode::parse("00007").unwrap(), before)
        .await
        .unwrap()
        .unwrap();
    let parts = lineage_successors(conn, cong_vi.id).await.unwrap();
    assert!(parts.len() >= 2, "{parts:?}");
    assert!(
        parts
            .iter()
            .all(|e| e.kind == LineageKind::Split && e.approximate && e.weight.is_none())
    );
    let ngoc_ha = parts
        .iter()
        .find(|e| e.region.region.code.as_str() == "00008")
        .expect("a part of 00007 is in 00008");

    let half = ansinh_model::fixtures::dec("0.5");
    let (kind, effective) = (ngoc_ha.kind, ngoc_ha.effective_date);
    let to = ngoc_ha.region.id;
    assert_eq!(
        upsert_lineage(conn, cong_vi.id, to, kind, effective, Some(half))
            .await
            .unwrap(),
        Written::Updated
    );
    let again = install_reference_data(conn).await.unwrap();
    assert!(!again.changed(), "{again:?}");
    let kept = lineage_successors(conn, cong_vi.id).await.unwrap();
    let kept = kept.iter().find(|e| e.region.id == to).unwrap();
    assert_eq!(kept.weight, Some(half));
}
