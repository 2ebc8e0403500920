//! Region listing: filters, diacritic-insensitive name search, keyset paging.

use ansinh_model::RegionLevel;
use ansinh_store::queries::{RegionCursor, RegionFilter, count_regions, list_regions, region_at};

use super::date;

#[tokio::test(flavor = "multi_thread")]
async fn provinces_page_through_in_code_order_without_gaps() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let filter = RegionFilter {
        level: Some(RegionLevel::Province),
        valid_on: Some(date("2024-06-01")),
        ..RegionFilter::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = list_regions(conn, &filter, cursor.as_ref(), 10)
            .await
            .unwrap();
        assert!(page.len() <= 10);
        let Some(last) = page.last() else { break };
        cursor = Some(RegionCursor::after(last));
        seen.extend(page.into_iter().map(|r| r.region.code.as_str().to_owned()));
    }
    assert_eq!(seen.len(), 63);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "ordered by code, no duplicates");
    assert_eq!(count_regions(conn, &filter).await.unwrap(), 63);
}

#[tokio::test(flavor = "multi_thread")]
async fn names_are_found_without_case_or_diacritics() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let search = |name, day| RegionFilter {
        level: Some(RegionLevel::Province),
        valid_on: Some(date(day)),
        name: Some(name),
        ..RegionFilter::default()
    };
    let found = list_regions(conn, &search("lam dong", "2025-08-01"), None, 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].region.code.as_str(), "68");
    let found = list_regions(conn, &search("DAK  NONG", "2024-06-01"), None, 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].region.code.as_str(), "67");
    assert!(
        list_regions(conn, &search("dak nong", "2025-08-01"), None, 10)
            .await
            .unwrap()
            .is_empty(),
        "Đắk Nông no longer exists after the merger"
    );
    // The official name is searchable too, and wildcards in the query are literal.
    let found = list_regions(conn, &search("thanh pho ho chi", "2025-08-01"), None, 10)
        .await
        .unwrap();
    assert_eq!(found[0].region.code.as_str(), "79");
    assert!(
        list_regions(conn, &search("%", "2025-08-01"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn children_are_listed_by_parent() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let lam_dong = region_at(
        conn,
        &ansinh_model::RegionCode::parse("68").unwrap(),
        date("2025-08-01"),
    )
    .await
    .unwrap()
    .unwrap();
    let filter = RegionFilter {
        level: Some(RegionLevel::Commune),
        parent_id: Some(lam_dong.id),
        ..RegionFilter::default()
    };
    let communes = count_regions(conn, &filter).await.unwrap();
    assert!(
        communes > 100,
        "the merged Lâm Đồng has {communes} communes"
    );
    let page = list_regions(conn, &filter, None, 5).await.unwrap();
    assert!(
        page.iter()
            .all(|c| c.region.parent.as_ref().unwrap().as_str() == "68")
    );
}
