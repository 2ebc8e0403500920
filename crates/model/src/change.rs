//! Changes between two figures of one indicator: the exact difference (in percentage points
//! when the indicator is a percentage), the relative change in percent, and the qualifier each
//! carries; and the changes along a time series, against the previous point and against the
//! same period a year earlier. "A decrease of 39,252 people compared to the end of 2024" is a
//! [`Change`].

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::keyword::keyword_enum;
use crate::period::Period;
use crate::rounding::percent_of;
use crate::unit::Unit;
use crate::value::{Qualifier, Quantity};

keyword_enum! {
    /// The unit of a difference between two figures of one unit. It is the figures' unit,
    /// except that two percentages differ by percentage points: 94.56% − 93.65% is
    /// 0.91 points, not 0.91% of anything.
    pub enum ChangeUnit("change unit") {
        /// A number of people.
        Persons = "persons",
        /// The difference of two percentages.
        PercentagePoints = "percentage_points",
        /// Vietnamese dong.
        Vnd = "vnd",
        /// A number of things other than people.
        Count = "count",
    }
}

impl ChangeUnit {
    /// The unit of a difference between two figures in `unit`.
    pub const fn of(unit: Unit) -> Self {
        match unit {
            Unit::Persons => Self::Persons,
            Unit::Percent => Self::PercentagePoints,
            Unit::Vnd => Self::Vnd,
            Unit::Count => Self::Count,
        }
    }
}

impl From<Unit> for ChangeUnit {
    fn from(unit: Unit) -> Self {
        Self::of(unit)
    }
}

/// How a figure changed against a reference figure of the same indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Change {
    /// `current − reference`, exact (never rounded), qualified by [`Qualifier::difference`].
    pub absolute: Quantity,
    /// The unit of `absolute`: percentage points for percentages.
    pub absolute_unit: ChangeUnit,
    /// `(current − reference) / reference × 100`, rounded by the policy of
    /// [`round_percent`](crate::round_percent); `None` when the reference is not positive
    /// (a change from nothing has no relative size).
    pub relative_percent: Option<Quantity>,
}

impl Change {
    /// The change from `reference` to `current`, both figures in `unit`.
    ///
    /// The relative change is `current / reference − 1`, so its qualifier is that of the
    /// quotient, [`Qualifier::quotient`]: against a "more than" reference, a stated relative
    /// change overstates the true one and is "less than". Figures are non-negative in every
    /// unit (see [`Unit::check_value`]), so the difference always fits a decimal.
    pub fn between(current: Quantity, reference: Quantity, unit: Unit) -> Change {
        let difference = current.value - reference.value;
        let relative_percent = (reference.value > Decimal::ZERO)
            .then(|| percent_of(difference, reference.value))
            .flatten()
            .map(|value| {
                Quantity::new(
                    value,
                    Qualifier::quotient(current.qualifier, reference.qualifier),
                )
            });
        Change {
            absolute: Quantity::new(
                difference,
                Qualifier::difference(current.qualifier, reference.qualifier),
            ),
            absolute_unit: ChangeUnit::of(unit),
            relative_percent,
        }
    }
}

/// One point of a time series with its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeriesPoint {
    /// The period of the figure.
    pub period: Period,
    /// The figure.
    pub value: Quantity,
    /// The change against the point before it; `None` for the first point.
    pub from_previous: Option<Change>,
    /// The change against the point whose period is [`Period::year_earlier`] of this one;
    /// `None` when the series has no such point.
    pub from_year_earlier: Option<Change>,
    /// Where, among the points given, `from_previous` was measured from (set exactly when it
    /// is): a caller showing the reference's period and value finds them there.
    pub previous: Option<usize>,
    /// Where, among the points given, `from_year_earlier` was measured from (set exactly when
    /// it is).
    pub year_earlier: Option<usize>,
}

/// The points of a series in `unit`, each with its change against the previous point and
/// against the same period a year earlier.
///
/// Points are taken in the order given, which should be time order (the store's order by
/// period); a year-earlier point is found by its exact period wherever it stands, so a monthly
/// series compares May with May and an annual one year with year. Stocks are stored at the
/// instant of their period's end and `year_earlier` keeps month ends, so `2025-05-31` finds
/// `2024-05-31`. A period given twice keeps its last figure as the year-earlier reference.
pub fn series_changes(
    points: impl IntoIterator<Item = (Period, Quantity)>,
    unit: Unit,
) -> Vec<SeriesPoint> {
    let points: Vec<(Period, Quantity)> = points.into_iter().collect();
    let by_period: BTreeMap<Period, usize> = points
        .iter()
        .enumerate()
        .map(|(i, (period, _))| (*period, i))
        .collect();
    points
        .iter()
        .enumerate()
        .map(|(i, &(period, value))| {
            let previous = i.checked_sub(1);
            let year_earlier = period
                .year_earlier()
                .and_then(|earlier| by_period.get(&earlier).copied());
            let against = |j: usize| Change::between(value, points[j].1, unit);
            SeriesPoint {
                period,
                value,
                from_previous: previous.map(against),
                from_year_earlier: year_earlier.map(against),
                previous,
                year_earlier,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{dec, exact, period};
    use Qualifier::{About as A, Exact as E, LessThan as L, MoreThan as M, Nearly as N};

    #[test]
    fn change_between_seed_figures() {
        // Lâm Đồng, May 2025 against the end of 2024 (seed 000): "a decrease of 39,252" HI
        // participants and "a decrease of 5,806" SI participants.
        let cases = [
            ("1229935", "1269187", Unit::Persons, "-39252", Some("-3.09")),
            ("116249", "122055", Unit::Persons, "-5806", Some("-4.76")),
            ("94.56", "93.65", Unit::Percent, "0.91", Some("0.97")),
            ("17.1", "42.71", Unit::Percent, "-25.61", Some("-59.96")),
            ("3818000000000", "0", Unit::Vnd, "3818000000000", None),
            ("276", "276", Unit::Count, "0", Some("0")),
        ];
        for (current, reference, unit, absolute, relative) in cases {
            let change = Change::between(exact(current), exact(reference), unit);
            assert_eq!(change.absolute, exact(absolute), "{current} vs {reference}");
            assert_eq!(change.absolute_unit, ChangeUnit::of(unit));
            assert_eq!(
                change.relative_percent,
                relative.map(exact),
                "{current} vs {reference}"
            );
        }
    }

    #[test]
    fn percentages_change_by_percentage_points() {
        assert_eq!(
            Unit::ALL.map(ChangeUnit::of),
            [
                ChangeUnit::Persons,
                ChangeUnit::PercentagePoints,
                ChangeUnit::Vnd,
                ChangeUnit::Count
            ]
        );
        assert_eq!(ChangeUnit::PercentagePoints.as_str(), "percentage_points");
        assert_eq!(
            "percentage_points".parse::<ChangeUnit>(),
            Ok(ChangeUnit::PercentagePoints)
        );
        assert_eq!(ChangeUnit::from(Unit::Vnd), ChangeUnit::Vnd);
    }

    #[test]
    fn change_qualifiers_follow_difference_and_quotient() {
        // (current, reference) qualifiers -> (absolute, relative) qualifiers.
        let cases = [
            (E, E, E, E),
            (M, E, M, M),
            // A "more than" reference: the true change is smaller than the stated one.
            (E, M, L, L),
            (N, E, N, N),
            (E, N, M, M),
            (M, M, A, A),
            (A, E, A, A),
        ];
        for (current, reference, absolute, relative) in cases {
            let change = Change::between(
                Quantity::new(dec("1424"), current),
                Quantity::new(dec("1222"), reference),
                Unit::Vnd,
            );
            assert_eq!(
                change.absolute.qualifier, absolute,
                "{current} - {reference}"
            );
            assert_eq!(
                change.relative_percent.map(|relative| relative.qualifier),
                Some(relative),
                "{current} / {reference}"
            );
        }
    }

    #[test]
    fn series_changes_against_previous_and_year_earlier() {
        // Lâm Đồng's HI participants (stocks, stored at their period's last day).
        let series = series_changes(
            [
                (period("2020-12-31"), exact("1164298")),
                (period("2021-12-31"), exact("1206479")),
                (period("2024-12-31"), exact("1269187")),
                (period("2025-05-31"), exact("1229935")),
            ],
            Unit::Persons,
        );
        let absolute = |change: Option<Change>| change.map(|change| change.absolute.value);
        let previous: Vec<_> = series
            .iter()
            .map(|point| absolute(point.from_previous))
            .collect();
        assert_eq!(
            previous,
            [
                None,
                Some(dec("42181")),
                Some(dec("62708")),
                Some(dec("-39252"))
            ]
        );
        let year_earlier: Vec<_> = series
            .iter()
            .map(|point| absolute(point.from_year_earlier))
            .collect();
        assert_eq!(year_earlier, [None, Some(dec("42181")), None, None]);
        assert_eq!(
            series[1].from_year_earlier.unwrap().relative_percent,
            Some(exact("3.62"))
        );
        assert_eq!(series[3].period, period("2025-05-31"));
        assert_eq!(series[3].value, exact("1229935"));
        let references: Vec<_> = series
            .iter()
            .map(|p| (p.previous, p.year_earlier))
            .collect();
        assert_eq!(
            references,
            [
                (None, None),
                (Some(0), Some(0)),
                (Some(1), None),
                (Some(2), None)
            ]
        );
    }

    #[test]
    fn year_earlier_is_found_by_exact_period_in_a_monthly_series() {
        let months = ["2024-04", "2024-05", "2025-04", "2025-05"];
        let series = series_changes(
            months
                .iter()
                .zip(["10", "12", "15", "18"])
                .map(|(month, value)| (period(month), exact(value))),
            Unit::Count,
        );
        assert_eq!(series[2].from_previous.unwrap().absolute, exact("3"));
        assert_eq!(series[2].from_year_earlier.unwrap().absolute, exact("5"));
        assert_eq!(series[3].from_year_earlier.unwrap().absolute, exact("6"));
        assert_eq!(
            series[3].from_year_earlier.unwrap().relative_percent,
            Some(exact("50"))
        );
        assert!(series[0].from_year_earlier.is_none());
    }

    #[test]
    fn a_series_of_nothing_is_empty() {
        assert!(series_changes([], Unit::Persons).is_empty());
    }
}
