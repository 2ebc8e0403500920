//! StatisticsService through a generated client, against the real server on a database loaded
//! by the real importer with the seed figures (`examples/sample/`), plus small synthetic files
//! written by the tests themselves: figures for Bình Thuận (60) and Đắk Nông (67) so the merged
//! Lâm Đồng's series can be summed, and a few provinces' SI coverage to rank. Every synthetic
//! row says so in its source and note; none of those numbers is a real statistic.

use std::path::PathBuf;

use ansinh_proto::pb::{self, statistics_service_client::StatisticsServiceClient};
use ansinh_tests::{
    ServerProcess, TestDatabase, describe, import, migrated_database, seed_ranking_request,
};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

const TEST_SOURCE: &str = "ansinh e2e synthetic test data";

/// Synthetic observations, marked as test data. Populations make the coverage rates
/// recomputable from their parts; 67's end-of-2024 participants are "more than" on purpose.
const SYNTHETIC_OBSERVATIONS: &[(&str, &str, &str, &str, &str)] = &[
    // region, indicator, period, value, qualifier
    ("60", "hi_participants", "2024-12-31", "1100000", ""),
    ("67", "hi_participants", "2024-12-31", "600000", "more_than"),
    ("60", "hi_participants", "2025-05-31", "1110000", ""),
    ("67", "hi_participants", "2025-05-31", "610000", ""),
    ("68", "hi_participants", "2025-09-30", "2950000", ""),
    ("68", "population", "2024-12-31", "1342200", ""),
    ("60", "population", "2024-12-31", "1250000", ""),
    ("67", "population", "2024-12-31", "680000", ""),
    ("68", "population", "2025-05-31", "1359945", ""),
    ("01", "si_coverage_rate", "2024", "49.5", ""),
    ("79", "si_coverage_rate", "2024", "45.2", ""),
    ("40", "si_coverage_rate", "2024", "20.3", ""),
    ("14", "si_coverage_rate", "2024", "17.1", ""),
];

/// A database with the schema, the reference data, the sample figures and targets, and the
/// synthetic figures; and a server on it.
async fn loaded() -> (
    TestDatabase,
    ServerProcess,
    StatisticsServiceClient<Channel>,
) {
    let database = migrated_database().await;
    let output = import(
        database.url(),
        &[
            "load",
            "examples/sample/observations.csv",
            "examples/sample/targets.csv",
        ],
    );
    assert!(
        output.status.success(),
        "sample load failed: {}",
        describe(&output)
    );

    let directory = scratch_directory();
    let path = directory.join("synthetic-observations.csv");
    let mut csv = String::from("region,indicator,period,value,qualifier,source,note\n");
    for (region, indicator, period, value, qualifier) in SYNTHETIC_OBSERVATIONS {
        csv.push_str(&format!(
            "{region},{indicator},{period},{value},{qualifier},{TEST_SOURCE},synthetic: not a real figure\n"
        ));
    }
    std::fs::write(&path, csv).expect("writing the synthetic file");
    let output = import(
        database.url(),
        &["load", path.to_str().expect("a UTF-8 path")],
    );
    let _ = std::fs::remove_dir_all(&directory);
    assert!(
        output.status.success(),
        "synthetic load failed: {}",
        describe(&output)
    );

    let server = ServerProcess::start(database.url(), &[]);
    let client = StatisticsServiceClient::connect(server.endpoint())
        .await
        .expect("connecting to ansinh-server");
    (database, server, client)
}

fn scratch_directory() -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let directory =
        std::env::temp_dir().join(format!("ansinh-statistics-api-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("creating a scratch directory");
    directory
}

fn period_text(period: &Option<pb::Period>) -> &str {
    period.as_ref().map_or("", |p| p.text.as_str())
}

fn field_violations(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .expect("BadRequest details")
        .field_violations
        .into_iter()
        .map(|violation| violation.field)
        .collect()
}

#[tokio::test]
async fn target_attainment_and_the_region_summary_answer_the_seed_questions() {
    let (_database, _server, mut client) = loaded().await;

    // "The HI coverage rate reached 94.56%, exceeding the assigned target (93.65%) by 0.91%."
    let response = client
        .get_target_attainment(pb::GetTargetAttainmentRequest {
            region_codes: vec!["68".into(), "14".into(), "40".into()],
            indicator_code: "hi_coverage_rate".into(),
            period: "2024".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(period_text(&response.period), "2024");
    let [lam_dong, son_la, nghe_an] = response.attainments.as_slice() else {
        panic!(
            "one entry per region, in request order: {:?}",
            response.attainments
        );
    };
    assert_eq!(lam_dong.region.as_ref().unwrap().code, "68");
    assert_eq!(lam_dong.status, pb::AttainmentStatus::Met as i32);
    assert_eq!(lam_dong.actual, "94.56");
    assert_eq!(lam_dong.target, "93.65");
    assert_eq!(lam_dong.difference, "0.91");
    assert_eq!(lam_dong.difference_unit, pb::Unit::PercentagePoints as i32);
    assert_eq!(lam_dong.attainment_percent, "100.97");
    assert_eq!(lam_dong.target_source, "Lam Dong provincial plan 2024");
    assert_eq!(period_text(&lam_dong.actual_period), "2024-12-31");
    assert!(!lam_dong.year_to_date);
    assert_eq!(lam_dong.shortfall, "");
    // Sơn La has a 2024 target (96.1) but only a 2023 figure; Nghệ An no 2024 target.
    assert_eq!(son_la.region.as_ref().unwrap().code, "14");
    assert_eq!(son_la.status, pb::AttainmentStatus::NoData as i32);
    assert_eq!(son_la.target, "96.1");
    assert_eq!(son_la.actual, "");
    assert_eq!(nghe_an.status, pb::AttainmentStatus::NoTarget as i32);

    // 2025 so far: 90.44% at the end of May against the 95% target for the year. The target
    // was imported under the merged 68 (the period ends after 2025-07-01), the figure under
    // the old one; the code carries on through the merger, so they meet, as in the report.
    let response = client
        .get_target_attainment(pb::GetTargetAttainmentRequest {
            region_codes: vec!["68".into()],
            indicator_code: "hi_coverage_rate".into(),
            period: "2025".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let ytd = &response.attainments[0];
    assert_eq!(ytd.status, pb::AttainmentStatus::NotMet as i32);
    assert!(ytd.year_to_date);
    assert_eq!(period_text(&ytd.actual_period), "2025-05-31");
    assert_eq!((ytd.actual.as_str(), ytd.target.as_str()), ("90.44", "95"));
    assert_eq!(ytd.difference, "-4.56");
    assert_eq!(ytd.attainment_percent, "95.2");
    // With the (synthetic) 1,359,945 population at 2025-05-31 stored, the shortfall is counted
    // from the parts: 95% of 1,359,945 less the 1,229,935 participants is 62,012.75, so 62,013
    // persons, exactly (not 4.56% of the population, which takes the rounded rate).
    assert_eq!(ytd.shortfall, "62013");
    assert_eq!(ytd.shortfall_qualifier, pb::Qualifier::Exact as i32);
    assert!(!ytd.shortfall_derived);
    assert_eq!(ytd.shortfall_denominator, "1359945");
    assert_eq!(period_text(&ytd.target_period), "2025");
    assert_eq!(ytd.region.as_ref().unwrap().valid_to, "2025-06-30");

    // The dashboard of the old Lâm Đồng on 2025-06-01.
    let summary = client
        .get_region_summary(pb::GetRegionSummaryRequest {
            region_code: "68".into(),
            as_of: "2025-06-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary.as_of, "2025-06-01");
    assert_eq!(summary.region.as_ref().unwrap().valid_to, "2025-06-30");
    let codes: Vec<&str> = summary
        .indicators
        .iter()
        .map(|entry| entry.indicator.as_ref().unwrap().code.as_str())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted, "ordered by indicator code");
    let entry = |code: &str| {
        summary
            .indicators
            .iter()
            .find(|entry| entry.indicator.as_ref().unwrap().code == code)
            .unwrap_or_else(|| panic!("{code} in the summary: {codes:?}"))
    };
    let participants = entry("hi_participants");
    assert_eq!(participants.value, "1229935");
    assert_eq!(period_text(&participants.period), "2025-05-31");
    let change = participants.change_from_previous.as_ref().unwrap();
    assert_eq!(change.absolute, "-39252");
    assert_eq!(change.reference_value, "1269187");
    let coverage = entry("hi_coverage_rate");
    assert_eq!(coverage.value, "90.44");
    let change = coverage.change_from_previous.as_ref().unwrap();
    assert_eq!(
        (change.absolute.as_str(), change.absolute_unit),
        ("-4.12", pb::Unit::PercentagePoints as i32)
    );
    let target = coverage.target.as_ref().expect("the 2025 target");
    assert_eq!(target.status, pb::AttainmentStatus::NotMet as i32);
    assert!(target.year_to_date);
    assert_eq!(target.target, "95");
    // "More than 3,818 billion VND" in 2024 stays "more than", in VND.
    let collected = entry("contributions_collected");
    assert_eq!(collected.value, "3818000000000");
    assert_eq!(period_text(&collected.period), "2024");
    assert_eq!(collected.qualifier, pb::Qualifier::MoreThan as i32);
    // An amount over a year is compared with the same year before, and there is no 2023.
    assert!(collected.change_from_previous.is_none());
}

#[tokio::test]
async fn time_series_change_and_sum_the_merged_province_in_2025_boundaries() {
    let (_database, _server, mut client) = loaded().await;

    // Each point in the boundaries of its own time.
    let series = client
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let periods: Vec<&str> = series
        .points
        .iter()
        .map(|p| period_text(&p.period))
        .collect();
    assert_eq!(
        periods,
        [
            "2020-12-31",
            "2021-12-31",
            "2022-07-31",
            "2024-12-31",
            "2025-05-31",
            "2025-09-30"
        ]
    );
    let may = &series.points[4];
    assert_eq!(may.value, "1229935");
    let change = may.change_from_previous.as_ref().unwrap();
    assert_eq!(change.absolute, "-39252");
    assert_eq!(change.relative_percent, "-3.09");
    assert_eq!(change.absolute_unit, pb::Unit::Persons as i32);
    assert_eq!(period_text(&change.reference_period), "2024-12-31");
    let year_on_year = series.points[1].change_from_year_earlier.as_ref().unwrap();
    assert_eq!(year_on_year.absolute, "42181");
    // The merged province's first figure is not compared with the old province's last.
    let merged = &series.points[5];
    assert_eq!(merged.constituents[0].valid_from, "2025-07-01");
    assert!(merged.change_from_previous.is_none());
    assert!(!series.approximate);

    // The window only filters points; changes still refer to the figure before it.
    let window = client
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            start_date: "2025-01-01".into(),
            end_date: "2025-06-30".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(window.points.len(), 1);
    assert_eq!(window.region.as_ref().unwrap().valid_to, "2025-06-30");
    assert_eq!(
        window.points[0]
            .change_from_previous
            .as_ref()
            .unwrap()
            .absolute,
        "-39252"
    );

    // In the boundaries of 2025-08-01: old 68 + 60 + 67 before the merger.
    let rebased = client
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            start_date: "2024-01-01".into(),
            geography_as_of: "2025-08-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rebased.region.as_ref().unwrap().valid_from, "2025-07-01");
    let points: Vec<(&str, &str, i32)> = rebased
        .points
        .iter()
        .map(|p| (period_text(&p.period), p.value.as_str(), p.qualifier))
        .collect();
    assert_eq!(
        points,
        [
            // 1,269,187 + 1,100,000 + more than 600,000: more than the sum.
            ("2024-12-31", "2969187", pb::Qualifier::MoreThan as i32),
            ("2025-05-31", "2949935", pb::Qualifier::Exact as i32),
            ("2025-09-30", "2950000", pb::Qualifier::Exact as i32),
        ]
    );
    let mut constituents: Vec<&str> = rebased.points[0]
        .constituents
        .iter()
        .map(|region| region.code.as_str())
        .collect();
    constituents.sort_unstable();
    assert_eq!(constituents, ["60", "67", "68"]);
    let completeness = rebased.points[0].completeness.as_ref().unwrap();
    assert_eq!((completeness.reporting, completeness.expected), (3, 3));
    assert!(!rebased.approximate);
    // In one set of boundaries the whole series is comparable, across the merger too.
    let change = rebased.points[1].change_from_previous.as_ref().unwrap();
    assert_eq!(change.absolute, "-19252");
    // exact minus "more than": the decrease is "less than" stated.
    assert_eq!(change.qualifier, pb::Qualifier::LessThan as i32);
    assert_eq!(
        rebased.points[2]
            .change_from_previous
            .as_ref()
            .unwrap()
            .absolute,
        "65"
    );

    // Before 2024 only the old 68 reported: a lower bound, with who is missing.
    let early = client
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            end_date: "2020-12-31".into(),
            geography_as_of: "2025-08-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let point = &early.points[0];
    assert_eq!(
        (point.value.as_str(), point.qualifier),
        ("1164298", pb::Qualifier::MoreThan as i32)
    );
    let completeness = point.completeness.as_ref().unwrap();
    assert_eq!((completeness.reporting, completeness.expected), (1, 3));
    assert_eq!(completeness.missing_region_codes, ["60", "67"]);

    // A ratio is recomputed from the summed parts, never averaged:
    // (1,269,187 + 1,100,000 + >600,000) / (1,342,200 + 1,250,000 + 680,000) = 90.74%.
    let rate = client
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_coverage_rate".into(),
            end_date: "2024-12-31".into(),
            geography_as_of: "2025-08-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let point = rate
        .points
        .iter()
        .find(|p| period_text(&p.period) == "2024-12-31")
        .expect("a 2024 point");
    assert_eq!(point.value, "90.74");
    assert_eq!(point.qualifier, pb::Qualifier::MoreThan as i32);
}

#[tokio::test]
async fn rankings_and_roll_ups_cover_the_children_of_a_parent() {
    let (_database, _server, mut client) = loaded().await;

    // "17.1% against the national 42.71%."
    let ranking = client
        .rank_regions(seed_ranking_request())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ranking.parent_value, "42.71");
    assert_eq!(ranking.parent_qualifier, pb::Qualifier::Exact as i32);
    let entries: Vec<(i32, &str, &str, &str)> = ranking
        .entries
        .iter()
        .map(|e| {
            (
                e.rank,
                e.region.as_ref().unwrap().code.as_str(),
                e.value.as_str(),
                e.difference_from_parent.as_str(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (1, "01", "49.5", "6.79"),
            (2, "79", "45.2", "2.49"),
            (3, "40", "20.3", "-22.41"),
            // Tied values share a rank.
            (4, "14", "17.1", "-25.61"),
            (4, "68", "17.1", "-25.61"),
        ]
    );
    let completeness = ranking.completeness.as_ref().unwrap();
    assert_eq!((completeness.reporting, completeness.expected), (5, 63));

    let limited = client
        .rank_regions(pb::RankRegionsRequest {
            ascending: true,
            limit: 2,
            ..seed_ranking_request()
        })
        .await
        .unwrap()
        .into_inner();
    let ranks: Vec<(i32, &str)> = limited
        .entries
        .iter()
        .map(|e| (e.rank, e.region.as_ref().unwrap().code.as_str()))
        .collect();
    assert_eq!(ranks, [(1, "14"), (1, "68")]);

    // Participants of the provinces under the nation at the end of 2024: three reported.
    let total = client
        .aggregate(pb::AggregateRequest {
            parent_code: "VN".into(),
            level: pb::RegionLevel::Province as i32,
            indicator_code: "hi_participants".into(),
            period: "2024".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(period_text(&total.period), "2024-12-31");
    assert_eq!(total.value, "2969187");
    assert_eq!(total.qualifier, pb::Qualifier::MoreThan as i32);
    let completeness = total.completeness.as_ref().unwrap();
    assert_eq!((completeness.reporting, completeness.expected), (3, 63));
    assert!(
        !completeness
            .missing_region_codes
            .contains(&"68".to_string())
    );

    let rate = client
        .aggregate(pb::AggregateRequest {
            parent_code: "VN".into(),
            level: pb::RegionLevel::Province as i32,
            indicator_code: "hi_coverage_rate".into(),
            period: "2024".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rate.numerator_value, "2969187");
    assert_eq!(rate.denominator_value, "3272200");
    assert_eq!(rate.value, "90.74");

    // Districts of the old Lâm Đồng exist on 2024-12-31 and none reported.
    let districts = client
        .aggregate(pb::AggregateRequest {
            parent_code: "68".into(),
            level: pb::RegionLevel::District as i32,
            indicator_code: "hi_participants".into(),
            period: "2024".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let completeness = districts.completeness.as_ref().unwrap();
    assert_eq!(districts.value, "");
    assert_eq!(completeness.reporting, 0);
    assert!(completeness.expected > 5, "{completeness:?}");
    // Communes sit under districts before 2025: they are descendants, not children.
    let communes = client
        .aggregate(pb::AggregateRequest {
            parent_code: "68".into(),
            level: pb::RegionLevel::Commune as i32,
            indicator_code: "hi_participants".into(),
            period: "2024".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        communes.completeness.as_ref().unwrap().expected > completeness.expected,
        "communes of the old Lâm Đồng: {:?}",
        communes.completeness
    );

    // A percentage published without its parts cannot be rolled up.
    let status = client
        .aggregate(pb::AggregateRequest {
            parent_code: "VN".into(),
            level: pb::RegionLevel::Province as i32,
            indicator_code: "contributions_plan_rate".into(),
            period: "2023".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("reported_ratio"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn observations_page_through_and_export_without_repeats() {
    let (_database, _server, mut client) = loaded().await;

    let filter = pb::ListObservationsRequest {
        region_codes: vec!["68".into()],
        ..Default::default()
    };
    let everything = client
        .list_observations(pb::ListObservationsRequest {
            page_size: 1000,
            ..filter.clone()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(everything.next_page_token.is_empty());
    let key = |o: &pb::Observation| {
        (
            o.region.as_ref().unwrap().valid_from.clone(),
            o.indicator_code.clone(),
            period_text(&o.period).to_owned(),
        )
    };
    let all: Vec<_> = everything.observations.iter().map(key).collect();
    // Every version of the code: 38 figures of the old 68 from the sample, 2 synthetic, and
    // the merged province's synthetic one.
    assert_eq!(all.len(), 41);
    assert!(all.iter().any(|(from, ..)| from == "2025-07-01"));

    let mut paged = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = client
            .list_observations(pb::ListObservationsRequest {
                page_size: 7,
                page_token: page_token.clone(),
                ..filter.clone()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.observations.len() <= 7);
        paged.extend(page.observations.iter().map(key));
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert!(pages > 5);
    assert_eq!(paged, all, "pages neither repeat nor skip an observation");

    // A figure carries its unit, qualifier, source and run.
    let collected = everything
        .observations
        .iter()
        .find(|o| o.indicator_code == "contributions_collected" && period_text(&o.period) == "2024")
        .expect("2024 contributions");
    assert_eq!(collected.value, "3818000000000");
    assert_eq!(collected.unit, pb::Unit::Vnd as i32);
    assert_eq!(collected.qualifier, pb::Qualifier::MoreThan as i32);
    assert_eq!(collected.source, "baolamdong.vn 2025-05");
    assert!(!collected.import_run_id.is_empty());

    // A token is bound to its filter.
    let first = client
        .list_observations(pb::ListObservationsRequest {
            page_size: 2,
            ..filter.clone()
        })
        .await
        .unwrap()
        .into_inner();
    let status = client
        .list_observations(pb::ListObservationsRequest {
            region_codes: vec!["14".into()],
            page_size: 2,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&status), ["page_token"]);

    // Descendants of the nation include the provinces' figures; a window filters period ends.
    let national = client
        .list_observations(pb::ListObservationsRequest {
            region_codes: vec!["VN".into()],
            indicator_codes: vec!["hi_participants".into()],
            start_date: "2024-12-31".into(),
            end_date: "2024-12-31".into(),
            include_descendants: true,
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut regions: Vec<&str> = national
        .observations
        .iter()
        .map(|o| o.region.as_ref().unwrap().code.as_str())
        .collect();
    regions.sort_unstable();
    assert_eq!(regions, ["60", "67", "68"]);

    // The export streams the same figures, in the same order, with no cap.
    let mut stream = client
        .export_observations(pb::ExportObservationsRequest {
            region_codes: vec!["68".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut exported = Vec::new();
    while let Some(observation) = stream.message().await.unwrap() {
        exported.push(key(&observation));
    }
    assert_eq!(exported, all);
}

#[tokio::test]
async fn bad_requests_name_every_field_and_unknown_codes_are_not_found() {
    let (_database, _server, mut client) = loaded().await;

    let status = client
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: String::new(),
            indicator_code: "Not A Code".into(),
            start_date: "2024-13-01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&status),
        ["region_code", "indicator_code", "start_date"]
    );

    let status = client
        .list_observations(pb::ListObservationsRequest {
            region_codes: vec!["68".into(), "6".into()],
            start_date: "2025-01-01".into(),
            end_date: "2024-01-01".into(),
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&status),
        ["region_codes[1]", "end_date", "page_size"]
    );

    let status = client
        .aggregate(pb::AggregateRequest {
            parent_code: "VN".into(),
            indicator_code: "hi_participants".into(),
            period: "2024-Q5".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status), ["level", "period"]);

    let status = client
        .get_target_attainment(pb::GetTargetAttainmentRequest {
            indicator_code: "hi_coverage_rate".into(),
            period: "2024".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status), ["region_codes"]);

    // Unknown codes are NOT_FOUND and named.
    let status = client
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: "99".into(),
            indicator_code: "hi_participants".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("99"), "{}", status.message());

    let status = client
        .rank_regions(pb::RankRegionsRequest {
            parent_code: "VN".into(),
            level: pb::RegionLevel::Province as i32,
            indicator_code: "no_such_indicator".into(),
            period: "2024".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("no_such_indicator"));

    let status = client
        .get_target_attainment(pb::GetTargetAttainmentRequest {
            region_codes: vec!["68".into(), "98".into(), "BHXH-NOWHERE".into()],
            indicator_code: "hi_coverage_rate".into(),
            period: "2024".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(
        status.message().contains("98") && status.message().contains("BHXH-NOWHERE"),
        "{}",
        status.message()
    );

    // A region that exists, but not on the date asked.
    let status = client
        .get_region_summary(pb::GetRegionSummaryRequest {
            region_code: "60".into(),
            as_of: "2025-08-01".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("2025-08-01"));
}
