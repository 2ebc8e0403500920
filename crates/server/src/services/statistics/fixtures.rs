//! Records the statistics tests build answers from: indicators, region versions, figures.

use ansinh_model::{IndicatorKind, Quantity, Region, RegionLevel, Timing, Unit, Validity};
use ansinh_store::queries::{Figure, IndicatorRecord, RegionRecord};

use crate::catalog::Subject;

pub(super) use ansinh_model::fixtures::{date, exact, period, quantity};

/// An indicator of the catalog with its row id.
pub(super) fn indicator(
    id: u32,
    code: &str,
    unit: Unit,
    kind: IndicatorKind,
    parts: Option<(&str, &str)>,
) -> IndicatorRecord {
    IndicatorRecord {
        id,
        indicator: ansinh_model::fixtures::indicator(code, unit, kind, parts),
    }
}

pub(super) fn region(id: u32, code: &str, from: &str, to: Option<&str>) -> RegionRecord {
    RegionRecord {
        id,
        parent_id: None,
        region: Region::new(
            code.parse().unwrap(),
            RegionLevel::Province,
            format!("Province {code}"),
            None,
            None,
            None,
            Validity::new(date(from), to.map(date)).unwrap(),
        )
        .unwrap(),
    }
}

/// hi_participants (1), population (2), hi_coverage_rate (3) = 1 / 2, benefits_paid (4).
pub(super) fn catalog() -> (
    IndicatorRecord,
    IndicatorRecord,
    IndicatorRecord,
    IndicatorRecord,
) {
    (
        indicator(
            1,
            "hi_participants",
            Unit::Persons,
            IndicatorKind::Stock,
            None,
        ),
        indicator(2, "population", Unit::Persons, IndicatorKind::Stock, None),
        indicator(
            3,
            "hi_coverage_rate",
            Unit::Percent,
            IndicatorKind::Ratio,
            Some(("hi_participants", "population")),
        ),
        indicator(4, "benefits_paid", Unit::Vnd, IndicatorKind::Flow, None),
    )
}

/// A ratio of stocks with its parts, such as hi_coverage_rate.
pub(super) fn rate_of_stocks<'a>(
    rate: &'a IndicatorRecord,
    numerator: &'a IndicatorRecord,
    denominator: &'a IndicatorRecord,
) -> Subject<'a> {
    Subject {
        record: rate,
        timing: Timing::Instant,
        numerator: Some(numerator),
        denominator: Some(denominator),
    }
}

/// An amount over an interval, or a reported ratio: no parts, the period kept.
pub(super) fn interval(record: &IndicatorRecord) -> Subject<'_> {
    Subject {
        record,
        timing: Timing::Interval,
        numerator: None,
        denominator: None,
    }
}

pub(super) fn stock(record: &IndicatorRecord) -> Subject<'_> {
    Subject {
        record,
        timing: Timing::Instant,
        numerator: None,
        denominator: None,
    }
}

pub(super) fn figure(region_id: u32, indicator_id: u32, text: &str, value: Quantity) -> Figure {
    Figure {
        region_id,
        indicator_id,
        period: period(text),
        value,
    }
}
