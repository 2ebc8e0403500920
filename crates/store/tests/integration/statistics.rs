//! The reads of StatisticsService: region versions and their descendants on a date, lineage
//! ancestors, observations in key order with keyset paging, bare figures and targets.

use ansinh_model::{Qualifier, RegionCode, RegionLevel};
use ansinh_store::AsyncMysqlConnection;
use ansinh_store::models::{ImportRunStatus, NewImportRun, NewObservation, NewTarget};
use ansinh_store::queries::{
    self, EndWindow, ObservationCursor, ObservationFilter, descendant_ids, descendants_at_level,
    lineage_ancestors, region_at, region_versions,
};
use ansinh_store::schema::{import_runs, observations, targets};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rust_decimal::Decimal;

use super::date;

fn code(text: &str) -> RegionCode {
    RegionCode::parse(text).unwrap()
}

async fn region_id(conn: &mut AsyncMysqlConnection, text: &str, on: &str) -> u32 {
    region_at(conn, &code(text), date(on))
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn indicator_id(conn: &mut AsyncMysqlConnection, text: &str) -> u32 {
    queries::indicator_by_code(conn, &text.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn run(conn: &mut AsyncMysqlConnection) -> u64 {
    diesel::insert_into(import_runs::table)
        .values(&NewImportRun {
            started_at: chrono::NaiveDateTime::default(),
            operator: "store test",
            status: ImportRunStatus::Running.as_str(),
            dry_run: false,
        })
        .execute(conn)
        .await
        .unwrap();
    import_runs::table
        .select(import_runs::id)
        .order(import_runs::id.desc())
        .first(conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_descendants_and_ancestors_follow_the_dates() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;

    let versions = region_versions(conn, &["68", "01"]).await.unwrap();
    let summary: Vec<(&str, String)> = versions
        .iter()
        .map(|r| (r.region.code.as_str(), r.region.validity.to_string()))
        .collect();
    assert_eq!(
        summary,
        [
            ("01", "2008-08-01..".to_string()),
            ("68", "2008-08-01..2025-06-30".to_string()),
            ("68", "2025-07-01..".to_string()),
        ]
    );

    // The old Lâm Đồng at the end of 2024: districts, and communes under them.
    let old = region_id(conn, "68", "2024-12-31").await;
    let below = descendant_ids(conn, &[old], Some(date("2024-12-31")))
        .await
        .unwrap();
    let districts = below
        .iter()
        .filter(|(_, l)| *l == RegionLevel::District)
        .count();
    let communes = below
        .iter()
        .filter(|(_, l)| *l == RegionLevel::Commune)
        .count();
    assert!(
        districts > 5 && communes > districts,
        "{districts} districts, {communes} communes"
    );
    let listed = descendants_at_level(conn, old, RegionLevel::Commune, date("2024-12-31"))
        .await
        .unwrap();
    assert_eq!(listed.len(), communes);
    assert!(
        listed
            .iter()
            .all(|r| r.region.validity.contains(date("2024-12-31")))
    );
    // On a day the old province no longer exists nothing under it is valid either.
    assert!(
        descendant_ids(conn, &[old], Some(date("2025-08-01")))
            .await
            .unwrap()
            .is_empty()
    );

    // The nation's provinces on each side of the reform.
    let nation = region_id(conn, "VN", "2024-12-31").await;
    for (day, provinces) in [("2024-12-31", 63), ("2025-08-01", 34)] {
        let listed = descendants_at_level(conn, nation, RegionLevel::Province, date(day))
            .await
            .unwrap();
        assert_eq!(listed.len(), provinces, "{day}");
    }

    let merged = region_id(conn, "68", "2025-08-01").await;
    let ancestors = lineage_ancestors(conn, merged).await.unwrap();
    let codes: Vec<(&str, bool)> = ancestors
        .iter()
        .map(|a| (a.region.region.code.as_str(), a.approximate))
        .collect();
    assert_eq!(codes, [("60", false), ("67", false), ("68", false)]);
    assert!(lineage_ancestors(conn, old).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn observations_page_in_key_order_and_figures_filter_by_period_end() {
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let run_id = run(conn).await;
    let participants = indicator_id(conn, "hi_participants").await;
    let population = indicator_id(conn, "population").await;
    let coverage = indicator_id(conn, "hi_coverage_rate").await;
    let old = region_id(conn, "68", "2024-12-31").await;
    let binh_thuan = region_id(conn, "60", "2024-12-31").await;

    let mut rows = Vec::new();
    for (region, indicator, start, end, value, qualifier) in [
        (
            old,
            participants,
            "2024-12-31",
            "2024-12-31",
            "1269187",
            Qualifier::Exact,
        ),
        (
            old,
            participants,
            "2025-05-31",
            "2025-05-31",
            "1229935",
            Qualifier::Exact,
        ),
        (
            old,
            population,
            "2024-12-31",
            "2024-12-31",
            "1342200",
            Qualifier::Exact,
        ),
        (
            old,
            coverage,
            "2024-01-01",
            "2024-12-31",
            "94.56",
            Qualifier::Exact,
        ),
        (
            old,
            coverage,
            "2025-01-01",
            "2025-05-31",
            "90.44",
            Qualifier::Exact,
        ),
        (
            binh_thuan,
            participants,
            "2024-12-31",
            "2024-12-31",
            "1100000",
            Qualifier::MoreThan,
        ),
    ] {
        rows.push(NewObservation {
            region_id: region,
            indicator_id: indicator,
            period_end: date(end),
            period_start: date(start),
            value: value.parse::<Decimal>().unwrap(),
            qualifier: qualifier.code(),
            source_id: None,
            note: None,
            import_run_id: run_id,
        });
    }
    diesel::insert_into(observations::table)
        .values(rows)
        .execute(conn)
        .await
        .unwrap();

    let filter = ObservationFilter {
        region_ids: Some(vec![old, binh_thuan]),
        ..ObservationFilter::default()
    };
    let all = queries::list_observations(conn, &filter, None, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    let keys: Vec<ObservationCursor> = all.iter().map(ObservationCursor::after).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "primary-key order");
    assert_eq!(
        all[0].region.region.code.as_str(),
        if old < binh_thuan { "68" } else { "60" }
    );

    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = queries::list_observations(conn, &filter, cursor.as_ref(), 4)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(ObservationCursor::after(last));
        paged.extend(page.iter().map(ObservationCursor::after));
    }
    assert_eq!(paged, keys, "pages neither repeat nor skip");

    let windowed = ObservationFilter {
        indicator_ids: Some(vec![coverage]),
        period_end: EndWindow {
            from: Some(date("2025-01-01")),
            to: None,
        },
        ..filter.clone()
    };
    let listed = queries::list_observations(conn, &windowed, None, 100)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].period.to_string(), "2025-01/2025-05");
    assert_eq!(listed[0].value.value.to_string(), "90.44");

    let figures = queries::figures(
        conn,
        &[old, binh_thuan],
        Some(&[participants]),
        EndWindow::on(date("2024-12-31")),
    )
    .await
    .unwrap();
    let values: Vec<(u32, String, Qualifier)> = figures
        .iter()
        .map(|f| (f.region_id, f.value.value.to_string(), f.value.qualifier))
        .collect();
    let mut expected = vec![
        (old, "1269187".to_string(), Qualifier::Exact),
        (binh_thuan, "1100000".to_string(), Qualifier::MoreThan),
    ];
    expected.sort();
    assert_eq!(values, expected);
    assert_eq!(
        queries::figures(conn, &[old], None, EndWindow::until(date("2025-01-01")))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        queries::figures(conn, &[], None, EndWindow::default())
            .await
            .unwrap()
            .is_empty()
    );

    diesel::insert_into(targets::table)
        .values(NewTarget {
            region_id: old,
            indicator_id: coverage,
            period_end: date("2024-12-31"),
            period_start: date("2024-01-01"),
            target: "93.65".parse().unwrap(),
            source_id: None,
            import_run_id: run_id,
        })
        .execute(conn)
        .await
        .unwrap();
    let found = queries::targets(
        conn,
        &[old],
        Some(&[coverage]),
        EndWindow::on(date("2024-12-31")),
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].period.to_string(), "2024");
    assert_eq!(found[0].target.to_string(), "93.65");
    assert!(
        queries::targets(conn, &[binh_thuan], None, EndWindow::default())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Indicators without regions are read region by region in batches that grow; every page is
/// what one scan of the whole table in key order, filtered, would give.
#[tokio::test(flavor = "multi_thread")]
async fn observations_by_indicator_alone_cover_every_region_in_key_order() {
    use ansinh_store::schema::regions;
    let (_db, mut conn) = super::with_reference_data().await;
    let conn = &mut conn;
    let run_id = run(conn).await;
    let participants = indicator_id(conn, "hi_participants").await;
    let population = indicator_id(conn, "population").await;
    let coverage = indicator_id(conn, "hi_coverage_rate").await;
    let ids: Vec<u32> = regions::table
        .select(regions::id)
        .order(regions::id.asc())
        .load(conn)
        .await
        .unwrap();
    assert!(ids.len() > 5_000, "the reference data has every commune");
    // Participants in every 7th region version and the last; population in every 3rd. The
    // regions between the first and the last have none, so later batches come back empty.
    let mut rows = Vec::new();
    for (i, &region_id) in ids.iter().enumerate() {
        let mut indicators = Vec::new();
        if i % 7 == 0 || i == ids.len() - 1 {
            indicators.push(participants);
        }
        if i % 3 == 0 {
            indicators.push(population);
        }
        for indicator_id in indicators {
            for end in ["2023-12-31", "2024-12-31"] {
                rows.push(NewObservation {
                    region_id,
                    indicator_id,
                    period_end: date(end),
                    period_start: date(end),
                    value: Decimal::from(i),
                    qualifier: Qualifier::Exact.code(),
                    source_id: None,
                    note: None,
                    import_run_id: run_id,
                });
            }
        }
    }
    for chunk in rows.chunks(1000) {
        diesel::insert_into(observations::table)
            .values(chunk.to_vec())
            .execute(conn)
            .await
            .unwrap();
    }

    let everything = queries::list_observations(conn, &ObservationFilter::default(), None, 100_000)
        .await
        .unwrap();
    assert_eq!(everything.len(), rows.len());

    // The figures of every region version at once (more than one statement names), asked in
    // any order, come back in key order.
    let mut asked = ids.clone();
    asked.reverse();
    let figures = queries::figures(conn, &asked, Some(&[participants]), EndWindow::default())
        .await
        .unwrap();
    let expected: Vec<(u32, u32, chrono::NaiveDate)> = everything
        .iter()
        .filter(|o| o.indicator_id == participants)
        .map(|o| (o.region.id, o.indicator_id, o.period.end()))
        .collect();
    let got: Vec<(u32, u32, chrono::NaiveDate)> = figures
        .iter()
        .map(|f| (f.region_id, f.indicator_id, f.period.end()))
        .collect();
    assert_eq!(got, expected);
    for (indicators, window) in [
        (vec![participants], EndWindow::default()),
        (
            vec![participants, population],
            EndWindow::on(date("2024-12-31")),
        ),
        (vec![coverage], EndWindow::default()),
    ] {
        let expected: Vec<ObservationCursor> = everything
            .iter()
            .filter(|o| indicators.contains(&o.indicator_id))
            .filter(|o| window.from.is_none_or(|from| o.period.end() >= from))
            .filter(|o| window.to.is_none_or(|to| o.period.end() <= to))
            .map(ObservationCursor::after)
            .collect();
        let filter = ObservationFilter {
            region_ids: None,
            indicator_ids: Some(indicators.clone()),
            period_end: window,
        };
        let at_once: Vec<ObservationCursor> =
            queries::list_observations(conn, &filter, None, 100_000)
                .await
                .unwrap()
                .iter()
                .map(ObservationCursor::after)
                .collect();
        assert_eq!(at_once, expected, "{indicators:?} in one call");
        for page_size in [13, 200, 999] {
            let mut paged = Vec::new();
            let mut cursor = None;
            loop {
                let page = queries::list_observations(conn, &filter, cursor.as_ref(), page_size)
                    .await
                    .unwrap();
                assert!(page.len() <= page_size as usize);
                let Some(last) = page.last() else { break };
                cursor = Some(ObservationCursor::after(last));
                paged.extend(page.iter().map(ObservationCursor::after));
            }
            assert_eq!(paged, expected, "{indicators:?} in pages of {page_size}");
        }
    }
}
