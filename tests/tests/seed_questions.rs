//! The questions of the seed reports (the press releases examples/sample/README.md lists), asked as a new user would, of the
//! sample a fresh install loads (`examples/sample/`, imported by the real importer) and answered
//! by the real server. Each test is a worked example of `docs/api.md` ("Worked examples"): the
//! call written there and the answer asserted here are the same, figure for figure. Only the last
//! test adds figures of its own, marked as synthetic, for a case no report has.

use ansinh_proto::pb::{self, statistics_service_client::StatisticsServiceClient};
use ansinh_tests::{
    ScratchDir, ServerProcess, TestDatabase, describe, import, sample_database,
    seed_ranking_request,
};
use tonic::transport::Channel;

/// The sample database and a server on it.
async fn sample() -> (
    TestDatabase,
    ServerProcess,
    StatisticsServiceClient<Channel>,
) {
    let database = sample_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let client = StatisticsServiceClient::connect(server.endpoint())
        .await
        .expect("connecting to ansinh-server");
    (database, server, client)
}

fn text(period: &Option<pb::Period>) -> &str {
    period.as_ref().map_or("", |period| period.text.as_str())
}

async fn attainment(
    client: &mut StatisticsServiceClient<Channel>,
    code: &str,
    indicator: &str,
    period: &str,
) -> pb::TargetAttainment {
    let response = client
        .get_target_attainment(pb::GetTargetAttainmentRequest {
            region_codes: vec![code.into()],
            indicator_code: indicator.into(),
            period: period.into(),
        })
        .await
        .unwrap_or_else(|status| panic!("{code} {indicator} {period}: {status:?}"))
        .into_inner();
    assert_eq!(
        text(&response.period),
        period,
        "the period asked comes back"
    );
    response.attainments.into_iter().next().expect("one entry")
}

async fn series(
    client: &mut StatisticsServiceClient<Channel>,
    request: pb::GetTimeSeriesRequest,
) -> pb::GetTimeSeriesResponse {
    client
        .get_time_series(request)
        .await
        .expect("GetTimeSeries")
        .into_inner()
}

fn summary_entry<'s>(
    summary: &'s pb::GetRegionSummaryResponse,
    code: &str,
) -> &'s pb::IndicatorSummary {
    summary
        .indicators
        .iter()
        .find(|entry| entry.indicator.as_ref().is_some_and(|i| i.code == code))
        .unwrap_or_else(|| panic!("{code} in the summary"))
}

const EXACT: i32 = pb::Qualifier::Exact as i32;
const MORE_THAN: i32 = pb::Qualifier::MoreThan as i32;
const NEARLY: i32 = pb::Qualifier::Nearly as i32;
const ABOUT: i32 = pb::Qualifier::About as i32;
const POINTS: i32 = pb::Unit::PercentagePoints as i32;

/// Seed 000: "in 2024, the health insurance coverage rate in the province reached 94.56%,
/// exceeding the assigned target by 0.91% (93.65%); the social insurance coverage rate reached
/// 17.1%, exceeding the assigned target by 0.1% (17%), but is still much lower than the
/// national average (42.71%)."
#[tokio::test]
async fn lam_dong_2024_coverage_against_its_targets_and_the_nation() {
    let (_database, _server, mut client) = sample().await;

    let hi = attainment(&mut client, "68", "hi_coverage_rate", "2024").await;
    assert_eq!((hi.actual.as_str(), hi.target.as_str()), ("94.56", "93.65"));
    assert_eq!(
        (hi.difference.as_str(), hi.difference_unit),
        ("0.91", POINTS)
    );
    assert_eq!(hi.attainment_percent, "100.97");
    assert_eq!(hi.status, pb::AttainmentStatus::Met as i32);
    assert_eq!(text(&hi.actual_period), "2024-12-31");
    assert_eq!(text(&hi.target_period), "2024");
    assert_eq!(hi.target_source, "Lam Dong provincial plan 2024");
    assert!(!hi.year_to_date);
    assert_eq!(hi.shortfall, "");

    let si = attainment(&mut client, "68", "si_coverage_rate", "2024").await;
    assert_eq!((si.actual.as_str(), si.target.as_str()), ("17.1", "17"));
    assert_eq!(
        (si.difference.as_str(), si.difference_unit),
        ("0.1", POINTS)
    );
    assert_eq!(si.attainment_percent, "100.59");
    assert_eq!(si.status, pb::AttainmentStatus::Met as i32);

    // "Still much lower than the national average": the provinces under the nation, with the
    // nation's own figure as the reference.
    let ranking = client
        .rank_regions(seed_ranking_request())
        .await
        .expect("RankRegions")
        .into_inner();
    assert_eq!(
        (ranking.parent_value.as_str(), ranking.parent_qualifier),
        ("42.71", EXACT)
    );
    let entries: Vec<(i32, &str, &str, &str)> = ranking
        .entries
        .iter()
        .map(|e| {
            let region = e.region.as_ref().unwrap();
            (
                e.rank,
                region.code.as_str(),
                e.value.as_str(),
                e.difference_from_parent.as_str(),
            )
        })
        .collect();
    assert_eq!(entries, [(1, "68", "17.1", "-25.61")]);
    let completeness = ranking.completeness.as_ref().unwrap();
    assert_eq!((completeness.reporting, completeness.expected), (1, 63));
}

/// Seed 000: "In the first 5 months of 2025, the number of people participating in health
/// insurance in the whole province was 1,229,935 people, reaching a health insurance coverage
/// rate of 90.44%, a decrease of 39,252 people compared to the end of 2024, still lacking 62,762
/// people (4.56%) compared to the 2025 plan target (95%). The number of people participating in
/// social insurance was 116,249 people, a decrease of 5,806 people compared to the end of 2024."
#[tokio::test]
async fn lam_dong_may_2025_against_the_2025_plan_with_its_shortfall() {
    let (_database, _server, mut client) = sample().await;

    // The period of the figure held, "the first 5 months of 2025", finds the 2025 target.
    for period in ["2025-01/2025-05", "2025"] {
        let may = attainment(&mut client, "68", "hi_coverage_rate", period).await;
        assert_eq!(
            (may.actual.as_str(), may.target.as_str()),
            ("90.44", "95"),
            "{period}"
        );
        assert_eq!(
            (may.difference.as_str(), may.difference_unit),
            ("-4.56", POINTS)
        );
        assert_eq!(may.attainment_percent, "95.2");
        assert_eq!(may.status, pb::AttainmentStatus::NotMet as i32);
        assert!(may.year_to_date);
        assert_eq!(text(&may.actual_period), "2025-05-31");
        assert_eq!(text(&may.target_period), "2025");
        assert_eq!(may.target_source, "Lam Dong provincial plan 2025");
        // The figure is the old Lâm Đồng's, the target was imported under the merged one.
        assert_eq!(may.region.as_ref().unwrap().valid_to, "2025-06-30");
        // No population is stored: 1,229,935 / 90.44 × 100 = 1,359,945.8 is implied, and 95% of
        // it less 1,229,935 is 62,013.5, so about 62,014 persons (not the report's 62,762).
        assert_eq!(may.shortfall, "62014");
        assert_eq!(may.shortfall_qualifier, ABOUT);
        assert!(may.shortfall_derived);
        assert_eq!(may.shortfall_denominator, "1359946");
    }

    // "A decrease of 39,252 people" and "of 5,806 people compared to the end of 2024".
    for (indicator, value, absolute, relative) in [
        ("hi_participants", "1229935", "-39252", "-3.09"),
        ("si_participants", "116249", "-5806", "-4.76"),
    ] {
        let answer = series(
            &mut client,
            pb::GetTimeSeriesRequest {
                region_code: "68".into(),
                indicator_code: indicator.into(),
                start_date: "2025-01-01".into(),
                end_date: "2025-06-30".into(),
                ..Default::default()
            },
        )
        .await;
        let [may] = answer.points.as_slice() else {
            panic!("one point in the window: {:?}", answer.points);
        };
        assert_eq!(
            (text(&may.period), may.value.as_str()),
            ("2025-05-31", value)
        );
        let change = may.change_from_previous.as_ref().expect("a change");
        assert_eq!(text(&change.reference_period), "2024-12-31");
        assert_eq!(
            (change.absolute.as_str(), change.relative_percent.as_str()),
            (absolute, relative)
        );
        assert_eq!(change.absolute_unit, pb::Unit::Persons as i32);
    }
}

/// Seed 001: "in 2020, the province collected VND2.58 trillion worth of social insurance and
/// health insurance premiums, equivalent to 100.69 per cent of the yearly plan. The figure in
/// 2021 was over VND2.6 trillion or 100.28 per cent of the yearly plan. In the first seven
/// months of 2022, the province collected more than VND1.47 trillion, fulfilling 52.89 per cent
/// of the yearly target." And the participants of the same years.
#[tokio::test]
async fn lam_dong_2020_to_2022_compares_like_with_like() {
    let (_database, _server, mut client) = sample().await;

    let collected = series(
        &mut client,
        pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "contributions_collected".into(),
            end_date: "2022-12-31".into(),
            ..Default::default()
        },
    )
    .await;
    let points: Vec<(&str, &str, i32)> = collected
        .points
        .iter()
        .map(|p| (text(&p.period), p.value.as_str(), p.qualifier))
        .collect();
    assert_eq!(
        points,
        [
            ("2020", "2580000000000", EXACT),
            ("2021", "2600000000000", MORE_THAN),
            ("2022-01/2022-07", "1470000000000", MORE_THAN),
        ]
    );
    // A year against the year before: more than 20 billion more.
    let change = collected.points[1].change_from_previous.as_ref().unwrap();
    assert_eq!(
        (
            change.absolute.as_str(),
            change.relative_percent.as_str(),
            change.qualifier
        ),
        ("20000000000", "0.78", MORE_THAN)
    );
    // Seven months are not compared with twelve: no "−43.46%".
    let seven_months = &collected.points[2];
    assert!(seven_months.change_from_previous.is_none());
    assert_eq!(
        seven_months.change_from_previous_absence,
        pb::ChangeAbsence::NotComparable as i32
    );
    assert_eq!(
        seven_months.change_from_year_earlier_absence,
        pb::ChangeAbsence::NoReference as i32
    );

    // Participants are levels: they compare at any two instants.
    let participants = series(
        &mut client,
        pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            end_date: "2022-12-31".into(),
            ..Default::default()
        },
    )
    .await;
    let changes: Vec<(&str, &str)> = participants
        .points
        .iter()
        .skip(1)
        .map(|p| {
            let change = p.change_from_previous.as_ref().unwrap();
            (text(&p.period), change.absolute.as_str())
        })
        .collect();
    assert_eq!(changes, [("2021-12-31", "42181"), ("2022-07-31", "-81987")]);
}

/// Without `geography_as_of`, each point is the figure of the version valid then, and says so;
/// the merged Lâm Đồng's boundaries give lower bounds with who did not report.
#[tokio::test]
async fn a_series_says_whose_territory_each_point_covers() {
    let (_database, _server, mut client) = sample().await;

    let own = series(
        &mut client,
        pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            ..Default::default()
        },
    )
    .await;
    // Every figure of the sample is the old province's: so is the answer, though the code
    // names the merged province today.
    assert_eq!(own.region.as_ref().unwrap().valid_to, "2025-06-30");
    assert_eq!(own.points.len(), 5);
    for point in &own.points {
        let region = point.region.as_ref().unwrap();
        assert_eq!(
            (region.code.as_str(), region.valid_to.as_str()),
            ("68", "2025-06-30")
        );
        assert_eq!(point.qualifier, EXACT);
        assert!(point.completeness.is_none());
    }

    let merged = series(
        &mut client,
        pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            geography_as_of: "2025-08-01".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(merged.region.as_ref().unwrap().valid_from, "2025-07-01");
    let may = merged.points.last().unwrap();
    assert_eq!(may.region, merged.region);
    assert_eq!((may.value.as_str(), may.qualifier), ("1229935", MORE_THAN));
    let completeness = may.completeness.as_ref().unwrap();
    assert_eq!((completeness.reporting, completeness.expected), (1, 3));
    assert_eq!(completeness.missing_region_codes, ["60", "67"]);
}

/// Seed 002: "in 2023 ... health insurance had 1,278,316 participants, an increase of 31,997
/// people compared to 2022, with a health insurance coverage rate of 98.3% of the population,
/// achieving 101.6% of the province's assigned plan. The work of collecting social, health, and
/// unemployment insurance reached nearly 2,500 billion VND; achieving 100.02% of the plan
/// assigned by VSS." And the 2024 targets of Decision No. 148/QD-UBND: 18.8% and 96.1%.
#[tokio::test]
async fn son_la_2023_against_its_plan() {
    let (_database, _server, mut client) = sample().await;

    let summary = client
        .get_region_summary(pb::GetRegionSummaryRequest {
            region_code: "14".into(),
            as_of: "2024-03-07".into(),
        })
        .await
        .expect("GetRegionSummary")
        .into_inner();
    let collected = summary_entry(&summary, "contributions_collected");
    assert_eq!(
        (collected.value.as_str(), collected.qualifier),
        ("2500000000000", NEARLY)
    );
    let plan = summary_entry(&summary, "contributions_plan_rate");
    assert_eq!(
        (text(&plan.period), plan.value.as_str()),
        ("2023", "100.02")
    );
    let participants = summary_entry(&summary, "hi_participants");
    assert_eq!(participants.value, "1278316");
    let change = participants.change_from_previous.as_ref().unwrap();
    assert_eq!(
        (text(&change.reference_period), change.absolute.as_str()),
        ("2022-12-31", "31997")
    );
    let coverage = summary_entry(&summary, "hi_coverage_rate");
    assert_eq!(
        (text(&coverage.period), coverage.value.as_str()),
        ("2023-12-31", "98.3")
    );
    // The report gives "101.6% of the plan", not the plan itself: no 2023 target is stored.
    assert!(coverage.target.is_none());
    let hi_2023 = attainment(&mut client, "14", "hi_coverage_rate", "2023").await;
    assert_eq!(hi_2023.status, pb::AttainmentStatus::NoTarget as i32);
    assert_eq!(hi_2023.actual, "98.3");

    // The 2024 targets have no figures yet; the answer says where the figures stop.
    let hi_2024 = attainment(&mut client, "14", "hi_coverage_rate", "2024").await;
    assert_eq!(hi_2024.status, pb::AttainmentStatus::NoData as i32);
    assert_eq!(hi_2024.target, "96.1");
    assert_eq!(
        hi_2024.target_source,
        "Decision No. 148/QD-UBND dated 2024-01-26"
    );
    assert_eq!(text(&hi_2024.latest_period), "2023-12-31");
    let si_2024 = attainment(&mut client, "14", "si_coverage_rate", "2024").await;
    assert_eq!(si_2024.status, pb::AttainmentStatus::NoData as i32);
    assert_eq!(si_2024.target, "18.8");
    assert!(si_2024.latest_period.is_none(), "no SI figure of Sơn La");
}

/// Seed 003: "the amount of social insurance, unemployment insurance, and health insurance
/// collected reached 472.3 trillion VND ... reaching 101.41% of the estimate assigned by the
/// Prime Minister. Meanwhile, the amount of late payment only accounted for 2.69% of the amount
/// receivable." And the national coverage rates of 2023.
#[tokio::test]
async fn the_national_2023_collection_against_the_estimate() {
    let (_database, _server, mut client) = sample().await;

    let summary = client
        .get_region_summary(pb::GetRegionSummaryRequest {
            region_code: "VN".into(),
            as_of: "2024-01-17".into(),
        })
        .await
        .expect("GetRegionSummary")
        .into_inner();
    let figures: Vec<(&str, &str, &str, i32)> = summary
        .indicators
        .iter()
        .map(|entry| {
            (
                entry.indicator.as_ref().unwrap().code.as_str(),
                text(&entry.period),
                entry.value.as_str(),
                entry.qualifier,
            )
        })
        .collect();
    assert_eq!(
        figures,
        [
            ("contributions_collected", "2023", "472300000000000", EXACT),
            ("contributions_plan_rate", "2023", "101.41", EXACT),
            ("hi_coverage_rate", "2023-12-31", "93.35", EXACT),
            ("late_payment_rate", "2023", "2.69", EXACT),
            ("si_coverage_rate", "2023-12-31", "39.25", EXACT),
            ("si_voluntary_coverage_rate", "2023-12-31", "3.92", EXACT),
            ("ui_coverage_rate", "2023-12-31", "31.6", NEARLY),
        ]
    );
}

/// Seed 004: "in 2021, Nghe An province sets a goal ...: The rate of the working-age labor force
/// participating in social insurance reaches 18.50% ...; the rate of the population
/// participating in health insurance reaches 91%."
#[tokio::test]
async fn nghe_an_2021_targets() {
    let (_database, _server, mut client) = sample().await;

    for (indicator, target) in [("si_coverage_rate", "18.5"), ("hi_coverage_rate", "91")] {
        let goal = attainment(&mut client, "40", indicator, "2021").await;
        assert_eq!(
            goal.status,
            pb::AttainmentStatus::NoData as i32,
            "{indicator}"
        );
        assert_eq!(goal.target, target);
        assert_eq!(goal.target_source, "Nghe An provincial plan 2021");
        assert_eq!(text(&goal.target_period), "2021");
        assert_eq!(goal.actual, "");
        assert!(goal.latest_period.is_none(), "no figure of Nghệ An at all");
        // A month of the year finds the year's target too.
        let june = attainment(&mut client, "40", indicator, "2021-06").await;
        assert_eq!(text(&june.target_period), "2021");
        assert_eq!(june.target, target);
    }
}

/// No report has a quarter and its year; the issue did ("2023-Q1 → 2023 is +387.8%"). The
/// figures here are synthetic and say so.
#[tokio::test]
async fn a_quarter_and_its_year_are_not_compared() {
    let (database, _server, mut client) = sample().await;
    let scratch = ScratchDir::new("seed-questions-quarter");
    let path = scratch.write(
        "synthetic.csv",
        "region,indicator,period,value,unit,source,note\n\
         60,benefits_paid,2023-Q1,100,billion_vnd,ansinh e2e synthetic test data,synthetic: not a real figure\n\
         60,benefits_paid,2023,487.8,billion_vnd,ansinh e2e synthetic test data,synthetic: not a real figure\n",
    );
    let output = import(database.url(), &["load", &path]);
    assert!(output.status.success(), "{}", describe(&output));

    let answer = series(
        &mut client,
        pb::GetTimeSeriesRequest {
            region_code: "60".into(),
            indicator_code: "benefits_paid".into(),
            ..Default::default()
        },
    )
    .await;
    let year = answer
        .points
        .iter()
        .find(|p| text(&p.period) == "2023")
        .expect("the 2023 point");
    assert!(year.change_from_previous.is_none(), "{year:?}");
    assert_eq!(
        year.change_from_previous_absence,
        pb::ChangeAbsence::NotComparable as i32
    );
}
