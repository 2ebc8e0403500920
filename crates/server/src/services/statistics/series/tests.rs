//! Unit tests of the pure part of GetTimeSeries: points combined across boundary changes,
//! changes between comparable points, and the references each change names.

use ansinh_model::{IndicatorKind, Qualifier, Unit};

use super::super::fixtures::{
    catalog, date, exact, figure, indicator, interval, quantity, rate_of_stocks, region, stock,
};
use super::*;
/// The merged 68 (id 3) made of the old 68 (1) and 60 (2, carried across a split here).
fn merger(split: bool) -> Vec<Constituent> {
    vec![
        Constituent {
            record: region(3, "68", "2025-07-01", None),
            approximate: false,
            weight: None,
        },
        Constituent {
            record: region(1, "68", "2008-08-01", Some("2025-06-30")),
            approximate: false,
            weight: None,
        },
        Constituent {
            record: region(2, "60", "2008-08-01", Some("2025-06-30")),
            approximate: split,
            weight: None,
        },
    ]
}

#[test]
fn an_answer_refers_each_change_to_the_point_it_was_computed_against() {
    let (participants, ..) = catalog();
    // The versions of code 68: the merged one (id 3) and the old one (id 1).
    let mut constituents = merger(false);
    constituents.truncate(2);
    let figures = [
        figure(1, 1, "2023-12-31", exact("90")),
        figure(1, 1, "2024-06-30", exact("95")),
        figure(1, 1, "2024-12-31", exact("100")),
        figure(3, 1, "2025-09-30", exact("160")),
        figure(3, 1, "2025-12-31", exact("170")),
    ];
    let wire = |change: &Option<pb::Change>| {
        change.as_ref().map(|change| {
            format!(
                "{} {} {:+}",
                change.reference_period.as_ref().unwrap().text,
                change.reference_value,
                change.absolute.parse::<i64>().unwrap()
            )
        })
    };
    let summary = |one_segment| {
        let answer = series_answer(
            stock(&participants),
            &constituents[0].record,
            &constituents,
            &figures,
            Some(date("2024-01-01")),
            one_segment,
        )
        .unwrap();
        answer
            .points
            .iter()
            .map(|p| {
                let period = p.period.as_ref().unwrap().text.clone();
                (
                    period,
                    p.value.clone(),
                    wire(&p.change_from_previous),
                    wire(&p.change_from_year_earlier),
                )
            })
            .collect::<Vec<_>>()
    };
    let s = |text: &str| text.to_owned();
    // Each version on its own: no change across the merger.
    assert_eq!(
        summary(false),
        [
            (s("2024-06-30"), s("95"), Some(s("2023-12-31 90 +5")), None),
            (
                s("2024-12-31"),
                s("100"),
                Some(s("2024-06-30 95 +5")),
                Some(s("2023-12-31 90 +10"))
            ),
            (s("2025-09-30"), s("160"), None, None),
            (
                s("2025-12-31"),
                s("170"),
                Some(s("2025-09-30 160 +10")),
                None
            ),
        ]
    );
    // One set of boundaries: changes run across it.
    assert_eq!(
        summary(true),
        [
            (s("2024-06-30"), s("95"), Some(s("2023-12-31 90 +5")), None),
            (
                s("2024-12-31"),
                s("100"),
                Some(s("2024-06-30 95 +5")),
                Some(s("2023-12-31 90 +10"))
            ),
            (
                s("2025-09-30"),
                s("160"),
                Some(s("2024-12-31 100 +60")),
                None
            ),
            (
                s("2025-12-31"),
                s("170"),
                Some(s("2025-09-30 160 +10")),
                Some(s("2024-12-31 100 +70"))
            ),
        ]
    );
}

#[test]
fn each_point_names_the_version_whose_figure_it_is() {
    let (participants, ..) = catalog();
    let mut constituents = merger(false);
    constituents.truncate(2);
    let old_only = [
        figure(1, 1, "2024-12-31", exact("1269187")),
        figure(1, 1, "2025-05-31", exact("1229935")),
    ];
    let answer = |figures: &[Figure], one_segment| {
        series_answer(
            stock(&participants),
            // The version the code names today: the merged one.
            &constituents[0].record,
            &constituents,
            figures,
            None,
            one_segment,
        )
        .unwrap()
    };
    let valid_to = |region: &Option<pb::Region>| region.as_ref().unwrap().valid_to.clone();
    // Only the old province's figures: the answer is the old province's, not the merged
    // one's, and so is every point.
    let own = answer(&old_only, false);
    assert_eq!(valid_to(&own.region), "2025-06-30");
    assert!(
        own.points
            .iter()
            .all(|p| valid_to(&p.region) == "2025-06-30")
    );
    assert_eq!(
        own.points[0].change_from_previous_absence,
        pb::ChangeAbsence::NoReference as i32
    );
    assert_eq!(
        own.points[1].change_from_previous_absence,
        pb::ChangeAbsence::Unspecified as i32
    );
    // With a figure of the merged province, the answer ends in its boundaries; the old
    // points still name the old version, and the first merged point has no change.
    let mut both = old_only.to_vec();
    both.push(figure(3, 1, "2025-09-30", exact("2950000")));
    let own = answer(&both, false);
    assert_eq!(valid_to(&own.region), "");
    let regions: Vec<String> = own.points.iter().map(|p| valid_to(&p.region)).collect();
    assert_eq!(regions, ["2025-06-30", "2025-06-30", ""]);
    assert_eq!(
        own.points[2].change_from_previous_absence,
        pb::ChangeAbsence::OtherBoundaries as i32
    );
    // In one set of boundaries every point is the series region's.
    let one = answer(&both, true);
    assert!(one.points.iter().all(|p| p.region == one.region));
    assert_eq!(valid_to(&one.region), "");
}

#[test]
fn amounts_over_periods_of_other_lengths_have_no_change() {
    let (.., benefits) = catalog();
    let constituents = vec![Constituent {
        record: region(1, "68", "2008-08-01", Some("2025-06-30")),
        approximate: false,
        weight: None,
    }];
    let figures = [
        figure(1, 4, "2021", quantity("2600", Qualifier::MoreThan)),
        figure(
            1,
            4,
            "2022-01/2022-07",
            quantity("1470", Qualifier::MoreThan),
        ),
        figure(1, 4, "2023-Q1", exact("500")),
        figure(1, 4, "2023", exact("2439")),
    ];
    let answer = series_answer(
        interval(&benefits),
        &constituents[0].record,
        &constituents,
        &figures,
        None,
        false,
    )
    .unwrap();
    let changes: Vec<(&str, Option<&str>, i32)> = answer
        .points
        .iter()
        .map(|p| {
            (
                p.period.as_ref().unwrap().text.as_str(),
                p.change_from_previous
                    .as_ref()
                    .map(|c| c.reference_period.as_ref().unwrap().text.as_str()),
                p.change_from_previous_absence,
            )
        })
        .collect();
    let none = pb::ChangeAbsence::Unspecified as i32;
    let unlike = pb::ChangeAbsence::NotComparable as i32;
    assert_eq!(
        changes,
        [
            ("2021", None, pb::ChangeAbsence::NoReference as i32),
            ("2022-01/2022-07", None, unlike),
            ("2023-Q1", None, unlike),
            ("2023", Some("2021"), none),
        ]
    );
    assert_eq!(
        answer.points[3].change_from_year_earlier_absence,
        pb::ChangeAbsence::NoReference as i32
    );
}

#[test]
fn a_series_in_later_boundaries_sums_the_versions_valid_at_each_period_end() {
    let (participants, ..) = catalog();
    let figures = [
        figure(1, 1, "2024-12-31", exact("100")),
        figure(2, 1, "2024-12-31", quantity("50", Qualifier::MoreThan)),
        figure(1, 1, "2023-12-31", exact("90")),
        figure(3, 1, "2025-09-30", exact("160")),
    ];
    let built = build_series(stock(&participants), &merger(false), &figures).unwrap();
    let points = &built.points;
    let summary: Vec<(String, String, Qualifier, usize)> = points
        .iter()
        .map(|p| {
            (
                p.period.to_string(),
                p.value.value.to_string(),
                p.value.qualifier,
                built.constituents(p).len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            // 60 did not report for 2023: a lower bound, 1 of 2.
            ("2023-12-31".into(), "90".into(), Qualifier::MoreThan, 2),
            ("2024-12-31".into(), "150".into(), Qualifier::MoreThan, 2),
            ("2025-09-30".into(), "160".into(), Qualifier::Exact, 1),
        ]
    );
    let completeness = points[0].completeness.as_ref().unwrap();
    assert_eq!((completeness.reporting, completeness.expected), (1, 2));
    assert_eq!(completeness.missing_region_codes, ["60"]);
    assert!(
        points[2].completeness.is_none(),
        "a single region is no roll-up"
    );
    assert!(points.iter().all(|p| !p.approximate));

    let changes = |one_segment| {
        series_changes_in(
            points
                .iter()
                .map(|p| (p.period, p.value, segment(p, one_segment))),
            Unit::Persons,
        )
    };
    // One set of boundaries: the change runs across the merger.
    assert_eq!(
        changes(true)[2]
            .from_previous
            .unwrap()
            .absolute
            .value
            .to_string(),
        "10"
    );
    // Each version on its own: no change across generations.
    let own = changes(false);
    assert!(own[2].from_previous.is_none());
    assert_eq!(
        own[2].previous_absence,
        Some(ansinh_model::ChangeAbsence::OtherBoundaries)
    );
    assert!(own[1].from_previous.is_some());
}

#[test]
fn points_carried_across_a_split_are_approximate() {
    let (participants, ..) = catalog();
    let figures = [
        figure(1, 1, "2024-12-31", quantity("100", Qualifier::Exact)),
        figure(2, 1, "2024-12-31", quantity("50", Qualifier::Exact)),
        figure(3, 1, "2025-09-30", quantity("160", Qualifier::Exact)),
    ];
    let points = build_series(stock(&participants), &merger(true), &figures)
        .unwrap()
        .points;
    assert!(points[0].approximate);
    assert!(
        !points[1].approximate,
        "after the change only the region itself counts"
    );
}

#[test]
fn ratios_in_later_boundaries_are_recomputed_from_their_parts_and_reported_ratios_refused() {
    let (participants, population, coverage, _) = catalog();
    let subject = rate_of_stocks(&coverage, &participants, &population);
    let figures = [
        // The published rates (stored with the year's start) are not averaged.
        figure(1, 3, "2024", exact("94.56")),
        figure(2, 3, "2024", exact("50")),
        figure(1, 1, "2024-12-31", exact("1269187")),
        figure(1, 2, "2024-12-31", exact("1342200")),
        figure(2, 1, "2024-12-31", exact("1100000")),
        figure(2, 2, "2024-12-31", exact("1250000")),
    ];
    let points = build_series(subject, &merger(false), &figures)
        .unwrap()
        .points;
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].period.to_string(), "2024-12-31");
    // 2,369,187 / 2,592,200 = 91.397...%
    assert_eq!(points[0].value.value.to_string(), "91.4");

    let plan = indicator(
        5,
        "contributions_plan_rate",
        Unit::Percent,
        IndicatorKind::ReportedRatio,
        None,
    );
    let subject = interval(&plan);
    let figures = [
        figure(1, 5, "2024", exact("100.69")),
        figure(2, 5, "2024", exact("99")),
    ];
    let error = build_series(subject, &merger(false), &figures).unwrap_err();
    assert!(matches!(
        error,
        ApiError::FailedPrecondition {
            kind: "INDICATOR_KIND",
            ..
        }
    ));
}
