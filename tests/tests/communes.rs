//! Communes across the 2025 reform (issue 13): after `migrate`, every one of the 10,035 old
//! communes leads to at least one new commune and every one of the 3,321 new communes comes
//! from at least one old one; lineage and conversions say which mappings are exact. The real
//! importer migrates, the real server answers.

use std::collections::BTreeSet;

use ansinh_proto::pb::{self, region_service_client::RegionServiceClient};
use ansinh_tests::{ServerProcess, migrated_database, workspace_root};
use tonic::Code;
use tonic_types::StatusExt;

/// The codes of a bundled reference file's `code` column.
fn codes(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(workspace_root().join("crates/store/reference").join(file))
        .expect("reading a bundled reference file");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = header
        .iter()
        .position(|c| *c == "code")
        .expect("a code column");
    lines
        .map(|line| line.split(',').nth(column).expect("a code").to_owned())
        .collect()
}

fn convert_request(codes: Vec<String>, from: &str, to: &str) -> pb::ConvertRegionCodesRequest {
    pb::ConvertRegionCodesRequest {
        codes,
        from_date: from.into(),
        to_date: to.into(),
    }
}

fn result_codes(conversion: &pb::RegionConversion) -> Vec<&str> {
    conversion
        .results
        .iter()
        .map(|r| r.region.as_ref().unwrap().code.as_str())
        .collect()
}

#[tokio::test]
async fn old_communes_convert_to_new_ones_exactly_or_by_their_parts() {
    let database = migrated_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let mut regions = RegionServiceClient::connect(server.endpoint())
        .await
        .unwrap()
        .max_decoding_message_size(64 << 20);

    // Phường Phúc Xá (00001) lies wholly inside Phường Hồng Hà (00097).
    let answer = regions
        .convert_region_codes(convert_request(
            vec!["00001".into()],
            "2024-06-01",
            "2025-08-01",
        ))
        .await
        .unwrap()
        .into_inner();
    let phuc_xa = &answer.conversions[0];
    assert_eq!(phuc_xa.status, pb::ConversionStatus::Converted as i32);
    assert_eq!(result_codes(phuc_xa), ["00097"]);
    assert!(phuc_xa.exact && phuc_xa.results[0].exact);
    assert_eq!(phuc_xa.results[0].kind, pb::LineageKind::Merge as i32);
    assert_eq!(phuc_xa.results[0].weight, "1");

    // Phường Cống Vị (00007) was divided: every part, none exact, no weight imported.
    let answer = regions
        .convert_region_codes(convert_request(
            vec!["00007".into()],
            "2024-06-01",
            "2025-08-01",
        ))
        .await
        .unwrap()
        .into_inner();
    let cong_vi = &answer.conversions[0];
    assert!(result_codes(cong_vi).len() >= 2, "{cong_vi:?}");
    assert!(result_codes(cong_vi).contains(&"00008"));
    assert!(!cong_vi.exact);
    assert!(
        cong_vi
            .results
            .iter()
            .all(|r| !r.exact && r.kind == pb::LineageKind::Split as i32 && r.weight.is_empty())
    );

    // Lineage of a commune: Ngọc Hà's predecessors include the part of Cống Vị.
    let lineage = regions
        .get_region_lineage(pb::GetRegionLineageRequest {
            code: "00008".into(),
            as_of: "2025-08-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        lineage
            .predecessors
            .iter()
            .any(|edge| { edge.region.as_ref().unwrap().code == "00007" && edge.approximate })
    );

    // All 10,035 old communes in one call, and the five island districts that had none: each
    // leads somewhere on 2025-08-01.
    let mut old = codes("communes_before_2025-07-01.csv");
    assert_eq!(old.len(), 10_035);
    old.extend(["318", "471", "498", "536", "755"].map(String::from));
    let answer = regions
        .convert_region_codes(convert_request(old.clone(), "2024-06-01", "2025-08-01"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.conversions.len(), old.len());
    let lost: Vec<&str> = answer
        .conversions
        .iter()
        .filter(|c| c.status != pb::ConversionStatus::Converted as i32 || c.results.is_empty())
        .map(|c| c.code.as_str())
        .collect();
    assert!(
        lost.is_empty(),
        "old communes without a successor: {lost:?}"
    );
    let reached: BTreeSet<&str> = answer.conversions.iter().flat_map(result_codes).collect();
    let new = codes("communes_from_2025-07-01.csv");
    assert_eq!(reached.len(), new.len(), "every new commune is reached");

    // Backwards: every new commune comes from an old one.
    let answer = regions
        .convert_region_codes(convert_request(new.clone(), "2025-08-01", "2024-06-01"))
        .await
        .unwrap()
        .into_inner();
    let orphans: Vec<&str> = answer
        .conversions
        .iter()
        .filter(|c| c.results.is_empty())
        .map(|c| c.code.as_str())
        .collect();
    assert!(
        orphans.is_empty(),
        "new communes without a predecessor: {orphans:?}"
    );
    let hong_ha = answer
        .conversions
        .iter()
        .find(|c| c.code == "00097")
        .unwrap();
    assert!(result_codes(hong_ha).contains(&"00001"));
}

#[tokio::test]
async fn unknown_and_invalid_codes_are_named_one_by_one() {
    let database = migrated_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let mut regions = RegionServiceClient::connect(server.endpoint())
        .await
        .unwrap();

    let answer = regions
        .convert_region_codes(convert_request(
            vec!["99999".into(), "11948".into(), "00001".into()],
            "2024-06-01",
            "2025-08-01",
        ))
        .await
        .unwrap()
        .into_inner();
    let statuses: Vec<(&str, i32)> = answer
        .conversions
        .iter()
        .map(|c| (c.code.as_str(), c.status))
        .collect();
    // 11948 Đặc khu Bạch Long Vĩ exists only from 2025-07-01.
    assert_eq!(
        statuses,
        [
            ("99999", pb::ConversionStatus::UnknownCode as i32),
            ("11948", pb::ConversionStatus::NotValidOnFromDate as i32),
            ("00001", pb::ConversionStatus::Converted as i32),
        ]
    );
    assert!(
        answer.conversions[1].problem.contains("2025-07-01.."),
        "{answer:?}"
    );

    let status = regions
        .convert_region_codes(convert_request(vec!["x1".into()], "", "2025-13-01"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["codes[0]", "from_date", "to_date"]);
}

/// A new commune's series in 2025 boundaries sums its predecessors' figures: exact when every
/// edge into it is whole (00385 Xã Trung Giã, from old 00379, 00385, 00388 and 00391), flagged
/// approximate when some predecessor was divided (00097 Phường Hồng Hà takes parts of nine).
#[tokio::test]
async fn a_new_communes_series_sums_its_predecessors_and_flags_parts() {
    let database = migrated_database().await;
    let scratch = ansinh_tests::ScratchDir::new("commune-series");
    let mut csv = String::from("region,indicator,period,value\n");
    for (code, value) in [
        ("00379", 100),
        ("00385", 20),
        ("00388", 3),
        ("00391", 4000),
        ("00001", 7),
        ("00091", 50),
    ] {
        csv.push_str(&format!("{code},hi_treatment_visits,2024-12,{value}\n"));
    }
    let file = scratch.write("communes.csv", &csv);
    let output = ansinh_tests::import(database.url(), &["load", &file]);
    assert!(
        output.status.success(),
        "{}",
        ansinh_tests::describe(&output)
    );
    let server = ServerProcess::start(database.url(), &[]);
    let mut statistics =
        pb::statistics_service_client::StatisticsServiceClient::connect(server.endpoint())
            .await
            .unwrap();
    let series = |code: &str| pb::GetTimeSeriesRequest {
        region_code: code.into(),
        indicator_code: "hi_treatment_visits".into(),
        geography_as_of: "2025-08-01".into(),
        ..Default::default()
    };

    let whole = statistics
        .get_time_series(series("00385"))
        .await
        .unwrap()
        .into_inner();
    let point = &whole.points[0];
    assert_eq!(point.value, "4123");
    assert!(!point.approximate && !whole.approximate);
    assert_eq!(point.qualifier, pb::Qualifier::Exact as i32);

    let parts = statistics
        .get_time_series(series("00097"))
        .await
        .unwrap()
        .into_inner();
    let point = &parts.points[0];
    assert_eq!(point.value, "57", "00001 whole and a part of 00091");
    assert!(point.approximate && parts.approximate);
}

/// With the weights of a divided commune's parts imported, a new commune's series takes its
/// share of that commune's figures: exact decimals, no longer approximate. 00691 Phường Hà Giang 2
/// takes part of old 00688 (divided between 00691 and 00694) and the whole of four others.
#[tokio::test]
async fn with_weights_imported_a_divided_communes_share_is_apportioned_exactly() {
    let database = migrated_database().await;
    let scratch = ansinh_tests::ScratchDir::new("commune-weights");
    let mut csv = String::from("region,indicator,period,value\n");
    for (code, value) in [
        ("00688", 1000),
        ("00691", 1),
        ("00692", 2),
        ("00697", 3),
        ("00934", 4),
    ] {
        csv.push_str(&format!("{code},hi_treatment_visits,2024-12,{value}\n"));
    }
    let figures = scratch.write("communes.csv", &csv);
    let output = ansinh_tests::import(database.url(), &["load", &figures]);
    assert!(
        output.status.success(),
        "{}",
        ansinh_tests::describe(&output)
    );

    let series = || pb::GetTimeSeriesRequest {
        region_code: "00691".into(),
        indicator_code: "hi_treatment_visits".into(),
        geography_as_of: "2025-08-01".into(),
        ..Default::default()
    };
    let ask = async |database_url: &str| {
        let server = ServerProcess::start(database_url, &[]);
        let mut statistics =
            pb::statistics_service_client::StatisticsServiceClient::connect(server.endpoint())
                .await
                .unwrap();
        statistics
            .get_time_series(series())
            .await
            .unwrap()
            .into_inner()
    };
    let unweighted = ask(database.url()).await;
    assert_eq!(unweighted.points[0].value, "1010");
    assert!(unweighted.points[0].approximate);

    let weights = scratch.write(
        "weights.csv",
        "from_code,from_valid_from,to_code,to_valid_from,kind,weight\n\
         00688,2008-08-01,00691,2025-07-01,split,0.25\n\
         00688,2008-08-01,00694,2025-07-01,split,0.75\n",
    );
    let output = ansinh_tests::import(database.url(), &["load", &weights]);
    assert!(
        output.status.success(),
        "{}",
        ansinh_tests::describe(&output)
    );
    let weighted = ask(database.url()).await;
    let point = &weighted.points[0];
    assert_eq!(
        point.value, "260",
        "a quarter of 1,000 and the four whole communes' 10"
    );
    assert!(!point.approximate && !weighted.approximate);
    assert_eq!(point.qualifier, pb::Qualifier::Exact as i32);
}
