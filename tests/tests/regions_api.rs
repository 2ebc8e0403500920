//! RegionService, IndicatorService and health through a generated client, against the real
//! server on a database migrated by the real importer.

use ansinh_proto::pb::{
    self, indicator_service_client::IndicatorServiceClient,
    region_service_client::RegionServiceClient,
};
use ansinh_tests::{ServerProcess, migrated_database};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_types::StatusExt;

#[tokio::test]
async fn regions_resolve_by_date_page_through_and_trace_the_merger() {
    let database = migrated_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let mut regions = RegionServiceClient::connect(server.endpoint())
        .await
        .unwrap();

    // Code 68 names two territories: the old Lâm Đồng, and the merged one from 2025-07-01.
    let old = regions
        .get_region(pb::GetRegionRequest {
            code: "68".into(),
            as_of: "2024-06-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (old.name.as_str(), old.valid_to.as_str()),
        ("Lâm Đồng", "2025-06-30")
    );
    assert_eq!(old.level, pb::RegionLevel::Province as i32);
    let merged = regions
        .get_region(pb::GetRegionRequest {
            code: "68".into(),
            as_of: "2025-08-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (merged.valid_from.as_str(), merged.valid_to.as_str()),
        ("2025-07-01", "")
    );

    // 63 provinces before the merger, 34 after, across pages of 10 with opaque tokens.
    for (as_of, expected) in [("2024-06-01", 63), ("2025-08-01", 34)] {
        let mut codes = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = regions
                .list_regions(pb::ListRegionsRequest {
                    level: pb::RegionLevel::Province as i32,
                    as_of: as_of.into(),
                    page_size: 10,
                    page_token: page_token.clone(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert!(page.regions.len() <= 10);
            codes.extend(page.regions.into_iter().map(|r| r.code));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        let mut sorted = codes.clone();
        sorted.dedup();
        assert_eq!(sorted, codes, "pages are ordered and never repeat a region");
        assert_eq!(codes.len(), expected, "provinces valid on {as_of}");
    }

    // Names are found without diacritics.
    let found = regions
        .list_regions(pb::ListRegionsRequest {
            query: "lam dong".into(),
            level: pb::RegionLevel::Province as i32,
            as_of: "2024-06-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        found
            .regions
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>(),
        ["68"]
    );

    // The merged Lâm Đồng came from old 68 + Bình Thuận (60) + Đắk Nông (67).
    let lineage = regions
        .get_region_lineage(pb::GetRegionLineageRequest {
            code: "68".into(),
            as_of: "2025-08-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut predecessors: Vec<_> = lineage
        .predecessors
        .iter()
        .map(|edge| {
            assert_eq!(edge.kind, pb::LineageKind::Merge as i32);
            assert_eq!(edge.effective_date, "2025-07-01");
            assert!(!edge.approximate);
            edge.region.as_ref().unwrap().code.clone()
        })
        .collect();
    predecessors.sort();
    assert_eq!(predecessors, ["60", "67", "68"]);
}

#[tokio::test]
async fn bad_requests_name_every_field_and_unknown_codes_are_not_found() {
    let database = migrated_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let mut regions = RegionServiceClient::connect(server.endpoint())
        .await
        .unwrap();
    let mut indicators = IndicatorServiceClient::connect(server.endpoint())
        .await
        .unwrap();

    let status = regions
        .get_region(pb::GetRegionRequest {
            code: "6".into(),
            as_of: "2024-13-01".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let violations = status
        .get_details_bad_request()
        .expect("google.rpc.BadRequest details");
    let fields: Vec<_> = violations
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, ["code", "as_of"]);

    let status = regions
        .list_regions(pb::ListRegionsRequest {
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    let status = regions
        .get_region(pb::GetRegionRequest {
            code: "99".into(),
            as_of: "2024-06-01".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("99"), "{}", status.message());

    let status = indicators
        .get_indicator(pb::GetIndicatorRequest {
            code: "no_such_indicator".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn the_catalog_lists_every_default_indicator_and_health_is_serving() {
    let database = migrated_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let mut indicators = IndicatorServiceClient::connect(server.endpoint())
        .await
        .unwrap();

    let rate = indicators
        .get_indicator(pb::GetIndicatorRequest {
            code: "hi_coverage_rate".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rate.kind, pb::IndicatorKind::Ratio as i32);
    assert_eq!(rate.unit, pb::Unit::Percent as i32);
    assert_eq!(
        (rate.numerator_code.as_str(), rate.denominator_code.as_str()),
        ("hi_participants", "population")
    );

    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = indicators
            .list_indicators(pb::ListIndicatorsRequest {
                page_size: 10,
                page_token: page_token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        all.extend(page.indicators.into_iter().map(|i| i.code));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert!(all.len() >= 28, "{all:?}");
    for code in [
        "population",
        "labour_force",
        "si_coverage_rate",
        "late_payment_rate",
        "new_employer_units",
    ] {
        assert!(all.iter().any(|c| c == code), "{code} missing from {all:?}");
    }

    let channel = tonic::transport::Endpoint::from_shared(server.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    for service in ["", "ansinh.v1.RegionService"] {
        let mut status = ServingStatus::Unknown;
        for _ in 0..100 {
            status = health
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .unwrap()
                .into_inner()
                .status();
            if status == ServingStatus::Serving {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(status, ServingStatus::Serving, "health of {service:?}");
    }
}
