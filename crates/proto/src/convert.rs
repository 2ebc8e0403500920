//! Conversions between the domain model and the `ansinh.v1` messages. Domain values become
//! messages infallibly; request values become domain values through `TryFrom`-style parsers that
//! fail with the name of the field, so the server can answer with a field violation.

use std::fmt::Display;

use chrono::Datelike as _;

use ansinh_model::{
    Attainment, AttainmentStatus, Change, ChangeAbsence, ChangeUnit, Decimal, Indicator,
    IndicatorKind, LineageKind, NaiveDate, Period, Qualifier, Quantity, Region, RegionLevel,
    RollUp, Unit, format_decimal,
};

use crate::pb;

/// A moment of the ledger (stored in UTC) as RFC 3339 with microseconds: `2025-06-01T02:03:04.000005Z`.
pub fn timestamp_text(time: chrono::NaiveDateTime) -> String {
    time.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// An ISO `YYYY-MM-DD` date.
pub fn date_text(date: NaiveDate) -> String {
    // The ISO form is NaiveDate's Display. A time series answer holds hundreds of dates, and
    // Display goes through the formatting machinery digit group by digit group; years 0 to
    // 9999 (every date the contract reads) are written directly, with the same text.
    let (year, month, day) = (date.year(), date.month(), date.day());
    let Ok(year @ 0..=9999) = u32::try_from(year) else {
        return date.to_string();
    };
    let mut text = String::with_capacity(10);
    for (number, digits) in [(year, 4), (month, 2), (day, 2)] {
        if digits == 2 {
            text.push('-');
        }
        for place in (0..digits).rev() {
            let digit = number / 10_u32.pow(place) % 10;
            text.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        }
    }
    text
}

/// A decimal as the wire carries it: normalized text ("94.56", "-39252", never "94.560000").
pub fn decimal_text(value: Decimal) -> String {
    format_decimal(value)
}

/// An optional decimal: empty text when absent.
pub fn optional_decimal_text(value: Option<Decimal>) -> String {
    value.map(decimal_text).unwrap_or_default()
}

/// The most missing regions a [`pb::Completeness`] lists.
pub const MAX_MISSING_LISTED: usize = 100;

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

impl From<ChangeUnit> for pb::Unit {
    fn from(unit: ChangeUnit) -> Self {
        match unit {
            ChangeUnit::Persons => Self::Persons,
            ChangeUnit::PercentagePoints => Self::PercentagePoints,
            ChangeUnit::Vnd => Self::Vnd,
            ChangeUnit::Count => Self::Count,
        }
    }
}

impl From<AttainmentStatus> for pb::AttainmentStatus {
    fn from(status: AttainmentStatus) -> Self {
        match status {
            AttainmentStatus::Met => Self::Met,
            AttainmentStatus::NotMet => Self::NotMet,
            AttainmentStatus::NoTarget => Self::NoTarget,
            AttainmentStatus::NoData => Self::NoData,
        }
    }
}

impl From<ChangeAbsence> for pb::ChangeAbsence {
    fn from(absence: ChangeAbsence) -> Self {
        match absence {
            ChangeAbsence::NoReference => Self::NoReference,
            ChangeAbsence::NotComparable => Self::NotComparable,
            ChangeAbsence::OtherBoundaries => Self::OtherBoundaries,
        }
    }
}

/// The wire value of why a change is absent; unspecified when it is not.
pub fn change_absence(absence: Option<ChangeAbsence>) -> i32 {
    absence
        .map_or(pb::ChangeAbsence::Unspecified, pb::ChangeAbsence::from)
        .into()
}

/// The wire value of a qualifier, for the `Qualifier` fields next to a decimal.
pub fn qualifier(qualifier: Qualifier) -> i32 {
    pb::Qualifier::from(qualifier).into()
}

/// The change of a value against `reference`, the figure of `reference_period` it was
/// computed from (the model's [`Change`] does not repeat them).
pub fn change(change: &Change, reference_period: Period, reference: Quantity) -> pb::Change {
    change_from_texts(
        change,
        pb::Period::from(reference_period),
        decimal_text(reference.value),
    )
}

/// [`change`], with the reference's period and value already on the wire (a time series
/// has them from the points it answered before).
pub fn change_from_texts(
    change: &Change,
    reference_period: pb::Period,
    reference_value: String,
) -> pb::Change {
    pb::Change {
        reference_period: Some(reference_period),
        reference_value,
        absolute: decimal_text(change.absolute.value),
        absolute_unit: pb::Unit::from(change.absolute_unit).into(),
        relative_percent: change
            .relative_percent
            .map(|relative| decimal_text(relative.value))
            .unwrap_or_default(),
        qualifier: qualifier(change.absolute.qualifier),
    }
}

/// How complete a roll-up is; regions are named by `K`'s text (their codes), at most
/// [`MAX_MISSING_LISTED`] of them.
pub fn completeness<K: Display>(roll_up: &RollUp<K>) -> pb::Completeness {
    pb::Completeness {
        reporting: i32::try_from(roll_up.reporting).unwrap_or(i32::MAX),
        expected: i32::try_from(roll_up.expected).unwrap_or(i32::MAX),
        missing_region_codes: roll_up
            .missing
            .iter()
            .take(MAX_MISSING_LISTED)
            .map(ToString::to_string)
            .collect(),
    }
}

/// The assessment part of a [`pb::TargetAttainment`]: difference, attainment percentage,
/// status, shortfall (with its qualifier, whether it was derived, and the denominator it was
/// counted against) and the year-to-date flag. The caller fills in region, actual and target.
pub fn attainment(attainment: &Attainment) -> pb::TargetAttainment {
    let shortfall = attainment.shortfall.as_ref();
    pb::TargetAttainment {
        difference: optional_decimal_text(attainment.difference.map(|d| d.value)),
        difference_unit: if attainment.difference.is_some() {
            pb::Unit::from(attainment.difference_unit).into()
        } else {
            pb::Unit::Unspecified.into()
        },
        attainment_percent: optional_decimal_text(attainment.attainment_percent.map(|p| p.value)),
        status: pb::AttainmentStatus::from(attainment.status).into(),
        shortfall: optional_decimal_text(shortfall.map(|s| s.persons.value)),
        shortfall_qualifier: shortfall.map_or(pb::Qualifier::Unspecified.into(), |s| {
            qualifier(s.persons.qualifier)
        }),
        shortfall_derived: shortfall.is_some_and(|s| s.derived),
        shortfall_denominator: optional_decimal_text(
            shortfall.and_then(|s| s.denominator).map(|d| d.value),
        ),
        year_to_date: attainment.year_to_date,
        ..pb::TargetAttainment::default()
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
    use ansinh_model::RatioParts;

    #[test]
    fn dates_are_written_as_display_writes_them() {
        for text in [
            "2024-12-31",
            "2025-01-01",
            "0001-02-03",
            "9999-12-31",
            "1000-10-10",
        ] {
            let date: NaiveDate = text.parse().unwrap();
            assert_eq!(date_text(date), text);
            assert_eq!(date_text(date), date.to_string());
        }
        let far = NaiveDate::from_ymd_opt(12345, 6, 7).unwrap();
        assert_eq!(date_text(far), far.to_string());
        let before = NaiveDate::from_ymd_opt(-5, 6, 7).unwrap();
        assert_eq!(date_text(before), before.to_string());
    }

    #[test]
    fn periods_travel_as_canonical_text_with_their_bounds() {
        let period = pb::Period::from(Period::parse("2025-01/2025-05").unwrap());
        assert_eq!(period.text, "2025-01/2025-05");
        assert_eq!(period.start_date, "2025-01-01");
        assert_eq!(period.end_date, "2025-05-31");
    }

    #[test]
    fn changes_carry_their_reference_and_percentage_points() {
        let period = |text| Period::parse(text).unwrap();
        let exact = |text: &str| Quantity::exact(text.parse().unwrap());
        let reference = exact("93.65");
        let computed = Change::between(exact("94.56"), reference, Unit::Percent);
        let wire = change(&computed, period("2023-12-31"), reference);
        assert_eq!(wire.absolute, "0.91");
        assert_eq!(wire.absolute_unit, pb::Unit::PercentagePoints as i32);
        assert_eq!(wire.reference_value, "93.65");
        assert_eq!(wire.reference_period.unwrap().text, "2023-12-31");
        assert_eq!(wire.relative_percent, "0.97");
        assert_eq!(wire.qualifier, pb::Qualifier::Exact as i32);

        let persons = Change::between(exact("1229935"), exact("1269187"), Unit::Persons);
        let wire = change(&persons, period("2024-12-31"), exact("1269187"));
        assert_eq!(wire.absolute, "-39252");
        assert_eq!(wire.relative_percent, "-3.09");
    }

    #[test]
    fn completeness_lists_at_most_a_hundred_missing_regions() {
        let roll_up = RollUp::<u32> {
            value: None,
            numerator: None,
            denominator: None,
            reporting: 1,
            expected: 202,
            missing: (0..201).collect(),
        };
        let wire = completeness(&roll_up);
        assert_eq!((wire.reporting, wire.expected), (1, 202));
        assert_eq!(wire.missing_region_codes.len(), MAX_MISSING_LISTED);
        assert_eq!(wire.missing_region_codes[0], "0");
    }

    #[test]
    fn attainments_report_differences_in_points_and_leave_unknowns_empty() {
        let period = |text| Period::parse(text).unwrap();
        let met = Attainment::assess(
            Some((
                Quantity::exact("94.56".parse().unwrap()),
                period("2024-12-31"),
            )),
            Some(("93.65".parse().unwrap(), period("2024"))),
            Unit::Percent,
            IndicatorKind::Ratio,
            RatioParts::NONE,
        );
        let wire = attainment(&met);
        assert_eq!(wire.status, pb::AttainmentStatus::Met as i32);
        assert_eq!(wire.difference, "0.91");
        assert_eq!(wire.difference_unit, pb::Unit::PercentagePoints as i32);
        assert_eq!(wire.attainment_percent, "100.97");
        assert_eq!(wire.shortfall, "");
        assert_eq!(wire.shortfall_qualifier, pb::Qualifier::Unspecified as i32);
        assert!(!wire.year_to_date);

        // May 2025 against 2025, with the population implied by the participants.
        let derived = Attainment::assess(
            Some((
                Quantity::exact("90.44".parse().unwrap()),
                period("2025-05-31"),
            )),
            Some(("95".parse().unwrap(), period("2025"))),
            Unit::Percent,
            IndicatorKind::Ratio,
            RatioParts {
                numerator: Some((Quantity::exact("1229935".parse().unwrap()), Unit::Persons)),
                denominator: None,
            },
        );
        let wire = attainment(&derived);
        assert_eq!(wire.status, pb::AttainmentStatus::NotMet as i32);
        assert_eq!(wire.shortfall, "62014");
        assert_eq!(wire.shortfall_qualifier, pb::Qualifier::About as i32);
        assert!(wire.shortfall_derived);
        assert_eq!(wire.shortfall_denominator, "1359946");
        assert!(wire.year_to_date);

        let no_target = Attainment::assess(
            None,
            None,
            Unit::Percent,
            IndicatorKind::Ratio,
            RatioParts::NONE,
        );
        let wire = attainment(&no_target);
        assert_eq!(wire.status, pb::AttainmentStatus::NoTarget as i32);
        assert_eq!(
            (wire.difference.as_str(), wire.difference_unit),
            ("", pb::Unit::Unspecified as i32)
        );
    }

    #[test]
    fn every_change_absence_has_its_own_wire_value() {
        let wire: Vec<i32> = ChangeAbsence::ALL
            .into_iter()
            .map(|absence| change_absence(Some(absence)))
            .collect();
        assert_eq!(
            wire,
            [
                pb::ChangeAbsence::NoReference as i32,
                pb::ChangeAbsence::NotComparable as i32,
                pb::ChangeAbsence::OtherBoundaries as i32,
            ]
        );
        assert_eq!(change_absence(None), pb::ChangeAbsence::Unspecified as i32);
    }

    #[test]
    fn every_domain_level_has_a_wire_value_and_back() {
        for level in RegionLevel::ALL {
            assert_eq!(region_level(pb::RegionLevel::from(level)), Some(level));
        }
        assert_eq!(region_level(pb::RegionLevel::Unspecified), None);
    }
}
