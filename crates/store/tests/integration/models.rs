//! Every insert struct writes and every read struct reads its table.

use std::str::FromStr;

use ansinh_model::fixtures::dec;
use ansinh_store::SqlDecimal;
use ansinh_store::models::*;
use ansinh_store::schema::*;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rust_decimal::Decimal;

use super::date;

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_round_trip_through_the_models() {
    let (_db, mut conn) = super::migrated().await;
    let conn = &mut conn;

    diesel::insert_into(import_runs::table)
        .values(&NewImportRun {
            started_at: at("2025-05-31 08:00:00.123456"),
            operator: "importer@bhxh",
            status: ImportRunStatus::Running.as_str(),
            dry_run: false,
        })
        .execute(conn)
        .await
        .unwrap();
    let run: ImportRunRow = import_runs::table
        .select(ImportRunRow::as_select())
        .first(conn)
        .await
        .unwrap();
    assert_eq!(run.started_at, at("2025-05-31 08:00:00.123456"));
    assert_eq!(
        run.status.parse::<ImportRunStatus>(),
        Ok(ImportRunStatus::Running)
    );
    assert_eq!((run.inserted, run.finished_at), (0, None));

    diesel::insert_into(import_run_files::table)
        .values(&NewImportRunFile {
            run_id: run.id,
            ordinal: 0,
            path: "seeds/000.csv",
            sha256: &"ab".repeat(32),
            size_bytes: 512,
            kind: "observations",
            row_count: 3,
        })
        .execute(conn)
        .await
        .unwrap();
    diesel::insert_into(import_run_rejections::table)
        .values(&NewImportRunRejection {
            run_id: run.id,
            ordinal: 0,
            file: "seeds/000.csv",
            line: 4,
            column_name: Some("value"),
            value: Some("1,229,935"),
            reason: "contains ',' — declare the number locale en or vi",
        })
        .execute(conn)
        .await
        .unwrap();
    let file: ImportRunFileRow = import_run_files::table
        .select(ImportRunFileRow::as_select())
        .first(conn)
        .await
        .unwrap();
    assert_eq!(file.sha256.len(), 64);
    let rejection: ImportRunRejectionRow = import_run_rejections::table
        .select(ImportRunRejectionRow::as_select())
        .first(conn)
        .await
        .unwrap();
    assert_eq!(rejection.value.as_deref(), Some("1,229,935"));

    diesel::insert_into(regions::table)
        .values(&NewRegion {
            code: "68",
            level: "province",
            kind: Some("province"),
            name: "Lâm Đồng",
            name_vi: Some("Tỉnh Lâm Đồng"),
            name_folded: "lam dong | tinh lam dong",
            parent_id: None,
            valid_from: date("2025-07-01"),
            valid_to: None,
        })
        .execute(conn)
        .await
        .unwrap();
    let region: RegionRow = regions::table
        .select(RegionRow::as_select())
        .first(conn)
        .await
        .unwrap();
    assert_eq!(region.name, "Lâm Đồng", "utf8mb4 text survives");
    diesel::insert_into(regions::table)
        .values(&NewRegion {
            code: "BHXH-KV25",
            level: "group",
            kind: None,
            name: "Social Insurance Region 25",
            name_vi: None,
            name_folded: "social insurance region 25",
            parent_id: None,
            valid_from: date("2025-07-01"),
            valid_to: None,
        })
        .execute(conn)
        .await
        .unwrap();
    let group_id: u32 = regions::table
        .filter(regions::code.eq("BHXH-KV25"))
        .select(regions::id)
        .first(conn)
        .await
        .unwrap();
    diesel::insert_into(region_members::table)
        .values(&NewRegionMember {
            group_id,
            member_id: region.id,
        })
        .execute(conn)
        .await
        .unwrap();
    let members: Vec<RegionMemberRow> = region_members::table
        .select(RegionMemberRow::as_select())
        .load(conn)
        .await
        .unwrap();
    assert_eq!(
        members,
        [RegionMemberRow {
            group_id,
            member_id: region.id
        }]
    );
    diesel::insert_into(region_lineage::table)
        .values(&NewLineage {
            from_region_id: group_id,
            to_region_id: region.id,
            kind: "rename",
            effective_date: date("2025-07-01"),
            approximate: false,
            weight: Some(SqlDecimal(dec("0.25"))),
        })
        .execute(conn)
        .await
        .unwrap();
    let edge: LineageRow = region_lineage::table
        .select(LineageRow::as_select())
        .first(conn)
        .await
        .unwrap();
    assert!(!edge.approximate);
    assert_eq!(edge.weight, Some(SqlDecimal(dec("0.25"))));
    // A share is at most the whole of the earlier version's figure.
    assert!(
        diesel::update(region_lineage::table)
            .set(region_lineage::weight.eq(Some(SqlDecimal(dec("1.5")))))
            .execute(conn)
            .await
            .is_err()
    );

    diesel::insert_into(indicators::table)
        .values(&NewIndicator {
            code: "hi_participants",
            name: "Health insurance participants",
            name_vi: None,
            unit: "persons",
            kind: "stock",
            numerator_id: None,
            denominator_id: None,
            description: None,
        })
        .execute(conn)
        .await
        .unwrap();
    let indicator: IndicatorRow = indicators::table
        .select(IndicatorRow::as_select())
        .first(conn)
        .await
        .unwrap();
    diesel::insert_into(sources::table)
        .values(&NewSource {
            name: "baolamdong.vn 2025-05",
        })
        .execute(conn)
        .await
        .unwrap();
    let source: SourceRow = sources::table
        .select(SourceRow::as_select())
        .first(conn)
        .await
        .unwrap();

    let value = Decimal::from_str("1229935").unwrap();
    diesel::insert_into(observations::table)
        .values(NewObservation {
            region_id: region.id,
            indicator_id: indicator.id,
            period_end: date("2025-05-31"),
            period_start: date("2025-05-31"),
            value,
            qualifier: 1,
            source_id: Some(source.id),
            note: Some("first 5 months"),
            import_run_id: run.id,
        })
        .execute(conn)
        .await
        .unwrap();
    let observation: ObservationRow = observations::table
        .select(ObservationRow::as_select())
        .first(conn)
        .await
        .unwrap();
    assert_eq!(observation.value, value);
    assert_eq!(observation.qualifier, 1);

    diesel::insert_into(observation_history::table)
        .values(NewObservationHistory {
            region_id: region.id,
            indicator_id: indicator.id,
            period_end: date("2025-05-31"),
            period_start: date("2025-05-31"),
            value: Decimal::from_str("1229000").unwrap(),
            qualifier: 0,
            source_id: None,
            note: None,
            set_by_run_id: run.id,
            replaced_by_run_id: run.id,
            replaced_at: at("2025-06-01 00:00:00.000001"),
        })
        .execute(conn)
        .await
        .unwrap();
    let history: ObservationHistoryRow = observation_history::table
        .select(ObservationHistoryRow::as_select())
        .first(conn)
        .await
        .unwrap();
    assert_eq!(history.value.to_string(), "1229000");
    assert_eq!(history.replaced_at, at("2025-06-01 00:00:00.000001"));

    diesel::insert_into(targets::table)
        .values(NewTarget {
            region_id: region.id,
            indicator_id: indicator.id,
            period_end: date("2025-12-31"),
            period_start: date("2025-12-31"),
            target: Decimal::from_str("95").unwrap(),
            source_id: None,
            import_run_id: run.id,
        })
        .execute(conn)
        .await
        .unwrap();
    let target: TargetRow = targets::table
        .select(TargetRow::as_select())
        .first(conn)
        .await
        .unwrap();
    assert_eq!(target.target.to_string(), "95");

    // The joinables compile into real joins.
    let (code, indicator_code): (String, String) = observations::table
        .inner_join(regions::table)
        .inner_join(indicators::table)
        .select((regions::code, indicators::code))
        .first(conn)
        .await
        .unwrap();
    assert_eq!(
        (code.as_str(), indicator_code.as_str()),
        ("68", "hi_participants")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schema_refuses_rows_that_break_its_rules() {
    let (_db, mut conn) = super::migrated().await;
    let conn = &mut conn;
    let bad_level = diesel::insert_into(regions::table)
        .values(&NewRegion {
            code: "68",
            level: "planet",
            kind: None,
            name: "x",
            name_vi: None,
            name_folded: "x",
            parent_id: None,
            valid_from: date("2025-07-01"),
            valid_to: None,
        })
        .execute(conn)
        .await;
    assert!(bad_level.is_err());
    let ends_before_start = diesel::insert_into(regions::table)
        .values(&NewRegion {
            code: "68",
            level: "province",
            kind: None,
            name: "x",
            name_vi: None,
            name_folded: "x",
            parent_id: None,
            valid_from: date("2025-07-01"),
            valid_to: Some(date("2025-06-30")),
        })
        .execute(conn)
        .await;
    assert!(ends_before_start.is_err());
    let orphan = diesel::insert_into(observations::table)
        .values(NewObservation {
            region_id: 999,
            indicator_id: 999,
            period_end: date("2025-05-31"),
            period_start: date("2025-05-31"),
            value: Decimal::ONE,
            qualifier: 0,
            source_id: None,
            note: None,
            import_run_id: 999,
        })
        .execute(conn)
        .await;
    assert!(
        matches!(
            orphan,
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _
            ))
        ),
        "{orphan:?}"
    );
}
