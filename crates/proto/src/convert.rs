//! Conversions between the domain model and the `ansinh.v1` messages. Domain values become
//! messages infallibly; request values become domain values through `TryFrom`-style parsers that
//! fail with the name of the field, so the server can answer with a field violation.

use ansinh_model::{
    Indicator, IndicatorKind, LineageKind, NaiveDate, Period, Qualifier, Region, RegionLevel, Unit,
};

use crate::pb;

/// An ISO `YYYY-MM-DD` date.
pub fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

impl From<RegionLevel> for pb::RegionLevel {
    fn from(level: RegionLevel) -> Self {
        match level {
            RegionLevel::Nation => Self::Nation,
            RegionLevel::Province => Self::Province,
            RegionLevel::District => Self::District,
            RegionLevel::Commune => Self::Commune,
            RegionLevel::Group => Self::Group,
        }
    }
}

/// The domain level of a request's enum value; `None` for unspecified (no filter).
pub fn region_level(level: pb::RegionLevel) -> Option<RegionLevel> {
    match level {
        pb::RegionLevel::Unspecified => None,
        pb::RegionLevel::Nation => Some(RegionLevel::Nation),
        pb::RegionLevel::Province => Some(RegionLevel::Province),
        pb::RegionLevel::District => Some(RegionLevel::District),
        pb::RegionLevel::Commune => Some(RegionLevel::Commune),
        pb::RegionLevel::Group => Some(RegionLevel::Group),
    }
}

impl From<Qualifier> for pb::Qualifier {
    fn from(qualifier: Qualifier) -> Self {
        match qualifier {
            Qualifier::Exact => Self::Exact,
            Qualifier::MoreThan => Self::MoreThan,
            Qualifier::LessThan => Self::LessThan,
            Qualifier::Nearly => Self::Nearly,
            Qualifier::About => Self::About,
        }
    }
}

impl From<Unit> for pb::Unit {
    fn from(unit: Unit) -> Self {
        match unit {
            Unit::Persons => Self::Persons,
            Unit::Percent => Self::Percent,
            Unit::Vnd => Self::Vnd,
            Unit::Count => Self::Count,
        }
    }
}

impl From<IndicatorKind> for pb::IndicatorKind {
    fn from(kind: IndicatorKind) -> Self {
        match kind {
            IndicatorKind::Stock => Self::Stock,
            IndicatorKind::Flow => Self::Flow,
            IndicatorKind::Ratio => Self::Ratio,
            IndicatorKind::ReportedRatio => Self::ReportedRatio,
        }
    }
}

impl From<LineageKind> for pb::LineageKind {
    fn from(kind: LineageKind) -> Self {
        match kind {
            LineageKind::Merge => Self::Merge,
            LineageKind::Split => Self::Split,
            LineageKind::Rename => Self::Rename,
        }
    }
}

impl From<Period> for pb::Period {
    fn from(period: Period) -> Self {
        Self {
            text: period.to_string(),
            start_date: date_text(period.start()),
            end_date: date_text(period.end()),
        }
    }
}

impl From<&Region> for pb::Region {
    fn from(region: &Region) -> Self {
        Self {
            code: region.code.to_string(),
            name: region.name.clone(),
            name_vi: region.name_vi.clone().unwrap_or_default(),
            level: pb::RegionLevel::from(region.level).into(),
            kind: region.kind.clone().unwrap_or_default(),
            parent_code: region
                .parent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            valid_from: date_text(region.validity.from),
            valid_to: region.validity.to.map(date_text).unwrap_or_default(),
        }
    }
}

impl From<&Indicator> for pb::Indicator {
    fn from(indicator: &Indicator) -> Self {
        Self {
            code: indicator.code.to_string(),
            name: indicator.name.clone(),
            name_vi: indicator.name_vi.clone().unwrap_or_default(),
            unit: pb::Unit::from(indicator.unit).into(),
            kind: pb::IndicatorKind::from(indicator.kind).into(),
            numerator_code: indicator
                .numerator
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            denominator_code: indicator
                .denominator
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            description: indicator.description.clone().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_travel_as_canonical_text_with_their_bounds() {
        let period = pb::Period::from(Period::parse("2025-01/2025-05").unwrap());
        assert_eq!(period.text, "2025-01/2025-05");
        assert_eq!(period.start_date, "2025-01-01");
        assert_eq!(period.end_date, "2025-05-31");
    }

    #[test]
    fn every_domain_level_has_a_wire_value_and_back() {
        for level in RegionLevel::ALL {
            assert_eq!(region_level(pb::RegionLevel::from(level)), Some(level));
        }
        assert_eq!(region_level(pb::RegionLevel::Unspecified), None);
    }
}
