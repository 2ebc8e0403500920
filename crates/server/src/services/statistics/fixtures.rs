//! Records the statistics tests build answers from: indicators, region versions, figures.

use ansinh_model::{
    Indicator, IndicatorKind, NaiveDate, Period, Qualifier, Quantity, Region, RegionLevel, Timing,
    Unit, Validity,
};
use ansinh_store::queries::{Figure, IndicatorRecord, RegionRecord};

use crate::catalog::Subject;

pub(super) fn date(text: &str) -> NaiveDate {
    ansinh_model::parse_date(text).unwrap()
}

pub(super) fn period(text: &str) -> Period {
    Period::parse(text).unwrap()
}

pub(super) fn quantity(text: &str, qualifier: Qualifier) -> Quantity {
    Quantity::new(text.parse().unwrap(), qualifier)
}

pub(super) fn indicator(
    id: u32,
    code: &str,
    unit: Unit,
    kind: IndicatorKind,
    parts: Option<(&str, &str)>,
) -> IndicatorRecord {
    IndicatorRecord {
        id,
        indicator: Indicator::new(
            code.parse().unwrap(),
            code,
            None,
            unit,
            kind,
            parts.map(|(n, _)| n.parse().unwrap()),
            parts.map(|(_, d)| d.parse().unwrap()),
            None,
        )
        .unwrap(),
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
