//! Changes between two figures of one indicator: the exact difference (in percentage points
//! when the indicator is a percentage), the relative change in percent, and the qualifier each
//! carries; and the changes along a time series, against the previous point and against the
//! same period a year earlier. "A decrease of 39,252 people compared to the end of 2024" is a
//! [`Change`].
//!
//! A series compares like with like. Levels (stocks, rates of stocks) are stated at instants and
//! compare at any two of them. Amounts over intervals compare only over periods of the same
//! length: a year's collections are not "+387.8%" on a quarter's, nor seven months' "−43.46%"
//! on twelve. Figures in different boundaries (a province before and after a merger) are not
//! compared either: the difference would measure the redrawing. Where a point has no change,
//! [`ChangeAbsence`] says why.

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

keyword_enum! {
    /// Why a point of a series has no change against an earlier point.
    pub enum ChangeAbsence("change absence") {
        /// There is nothing to compare with: no point before it (for the change against the
        /// previous point), or no point for the same period a year before.
        NoReference = "no_reference",
        /// The points before it are not like it: they cover another length of time (a quarter
        /// before a year, twelve months before seven) or overlap it. An amount over a longer
        /// period is larger for that reason alone.
        NotComparable = "not_comparable",
        /// The point it would be compared with is in other boundaries (another region version,
        /// before a merger): the difference would measure the redrawing, not a change.
        OtherBoundaries = "other_boundaries",
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
    /// The change against the previous comparable point (see [`series_changes`]); `None`
    /// when there is none, and `previous_absence` says why.
    pub from_previous: Option<Change>,
    /// The change against the point whose period is [`Period::year_earlier`] of this one;
    /// `None` when there is none, and `year_earlier_absence` says why.
    pub from_year_earlier: Option<Change>,
    /// Where, among the points given, `from_previous` was measured from (set exactly when it
    /// is): a caller showing the reference's period and value finds them there.
    pub previous: Option<usize>,
    /// Where, among the points given, `from_year_earlier` was measured from (set exactly when
    /// it is).
    pub year_earlier: Option<usize>,
    /// Why there is no `from_previous` (set exactly when there is none).
    pub previous_absence: Option<ChangeAbsence>,
    /// Why there is no `from_year_earlier` (set exactly when there is none).
    pub year_earlier_absence: Option<ChangeAbsence>,
}

/// The points of a series in `unit`, all in one set of boundaries, each with its change
/// against the previous comparable point and against the same period a year earlier; see
/// [`series_changes_in`] for the rules.
pub fn series_changes(
    points: impl IntoIterator<Item = (Period, Quantity)>,
    unit: Unit,
) -> Vec<SeriesPoint> {
    series_changes_in(
        points
            .into_iter()
            .map(|(period, value)| (period, value, ())),
        unit,
    )
}

/// The points of a series in `unit`, each given with the boundaries `B` it is in (a region
/// version), with its changes:
///
/// - against the previous point: the latest point before it, in the same boundaries, whose
///   period is as long (see [`Period::length`]) and ends before this one starts. Levels are
///   stated at instants, all one day long, so a level compares with the level before it
///   whenever that was; a year's amount with the latest year's before it, a month's with the
///   latest month's, and seven months' with no twelve months'. Absent otherwise:
///   [`ChangeAbsence::OtherBoundaries`] when the only comparable points are in other boundaries,
///   [`ChangeAbsence::NotComparable`] when the points before it are all of other lengths (or
///   overlap it), [`ChangeAbsence::NoReference`] for the first point.
/// - against a year earlier: the point whose period is exactly [`Period::year_earlier`] of this
///   one, so a monthly series compares May with May and an annual one year with year; stocks
///   are stored at their period's end and `year_earlier` keeps month ends, so `2025-05-31` finds
///   `2024-05-31`. Absent when there is none ([`ChangeAbsence::NoReference`]) or it is in other
///   boundaries ([`ChangeAbsence::OtherBoundaries`]).
///
/// Points are taken in the order given, which should be time order (the store's order by
/// period). A period given twice keeps its last figure as the year-earlier reference.
pub fn series_changes_in<B: PartialEq>(
    points: impl IntoIterator<Item = (Period, Quantity, B)>,
    unit: Unit,
) -> Vec<SeriesPoint> {
    let points: Vec<(Period, Quantity, B)> = points.into_iter().collect();
    let by_period: BTreeMap<Period, usize> = points
        .iter()
        .enumerate()
        .map(|(i, (period, ..))| (*period, i))
        .collect();
    points
        .iter()
        .enumerate()
        .map(|(i, (period, value, boundaries))| {
            let like = |j: &usize| {
                let earlier = points[*j].0;
                earlier.length() == period.length() && earlier.end() < period.start()
            };
            let same_boundaries = |j: &usize| points[*j].2 == *boundaries;
            let (previous, previous_absence) = match (0..i)
                .rev()
                .find(|j| like(j) && same_boundaries(j))
            {
                Some(j) => (Some(j), None),
                None if (0..i).any(|j| like(&j)) => (None, Some(ChangeAbsence::OtherBoundaries)),
                None if i > 0 => (None, Some(ChangeAbsence::NotComparable)),
                None => (None, Some(ChangeAbsence::NoReference)),
            };
            let (year_earlier, year_earlier_absence) = match period
                .year_earlier()
                .and_then(|earlier| by_period.get(&earlier).copied())
            {
                Some(j) if same_boundaries(&j) => (Some(j), None),
                Some(_) => (None, Some(ChangeAbsence::OtherBoundaries)),
                None => (None, Some(ChangeAbsence::NoReference)),
            };
            let against = |j: usize| Change::between(*value, points[j].1, unit);
            SeriesPoint {
                period: *period,
                value: *value,
                from_previous: previous.map(against),
                from_year_earlier: year_earlier.map(against),
                previous,
                year_earlier,
                previous_absence,
                year_earlier_absence,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{dec, exact, period, quantity};
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
    fn amounts_compare_only_over_periods_of_the_same_length() {
        // Lâm Đồng's collections (seed 001): 2020, more than 2,600 billion in 2021, more than
        // 1,470 billion in the first seven months of 2022; and a quarter before a year.
        let series = series_changes(
            [
                (period("2020"), exact("2580")),
                (period("2021"), quantity("2600", M)),
                (period("2022-01/2022-07"), quantity("1470", M)),
                (period("2023-Q1"), exact("500")),
                (period("2023"), exact("2439")),
            ],
            Unit::Vnd,
        );
        let previous: Vec<_> = series
            .iter()
            .map(|p| (p.previous, p.previous_absence))
            .collect();
        assert_eq!(
            previous,
            [
                (None, Some(ChangeAbsence::NoReference)),
                (Some(0), None),
                // Seven months are not "−43.46%" on twelve.
                (None, Some(ChangeAbsence::NotComparable)),
                (None, Some(ChangeAbsence::NotComparable)),
                // A year against the latest year before it, not "+387.8%" on a quarter.
                (Some(1), None),
            ]
        );
        assert_eq!(series[1].from_previous.unwrap().absolute, quantity("20", M));
        assert_eq!(
            series[4].from_previous.unwrap().relative_percent,
            Some(quantity("-6.19", L))
        );
        assert!(series[2].from_previous.is_none() && series[3].from_previous.is_none());
        // Year earlier: only the same span a year before.
        assert_eq!(series[1].year_earlier, Some(0));
        assert_eq!(
            series[2].year_earlier_absence,
            Some(ChangeAbsence::NoReference)
        );
        assert_eq!(
            series[4].year_earlier_absence,
            Some(ChangeAbsence::NoReference)
        );
    }

    #[test]
    fn months_around_a_year_compare_with_the_month_before() {
        // In time order a year sorts after its first month: the months still meet.
        let series = series_changes(
            [
                (period("2024-01"), exact("10")),
                (period("2024"), exact("150")),
                (period("2024-02"), exact("12")),
                (period("2025"), exact("160")),
            ],
            Unit::Count,
        );
        assert_eq!(series[2].previous, Some(0));
        assert_eq!(series[2].from_previous.unwrap().absolute, exact("2"));
        assert_eq!(
            series[1].previous_absence,
            Some(ChangeAbsence::NotComparable)
        );
        assert_eq!(series[3].previous, Some(1));
        assert_eq!(series[3].year_earlier, Some(1));
    }

    #[test]
    fn levels_compare_at_any_instants() {
        let series = series_changes(
            [
                (period("2022-07-31"), exact("1124492")),
                (period("2024-12-31"), exact("1269187")),
                (period("2025-05-31"), exact("1229935")),
            ],
            Unit::Persons,
        );
        assert_eq!(series[1].previous, Some(0));
        assert_eq!(series[2].from_previous.unwrap().absolute, exact("-39252"));
        assert!(series.iter().skip(1).all(|p| p.previous_absence.is_none()));
    }

    #[test]
    fn points_in_other_boundaries_are_not_compared() {
        // The old 68 (boundaries 1) until mid-2025, the merged 68 (boundaries 2) after.
        let series = series_changes_in(
            [
                (period("2024-06-30"), exact("95"), 1),
                (period("2024-12-31"), exact("100"), 1),
                (period("2025-06-30"), exact("102"), 1),
                (period("2025-09-30"), exact("160"), 2),
                (period("2025-12-31"), exact("170"), 2),
            ],
            Unit::Persons,
        );
        assert_eq!(series[2].previous, Some(1));
        assert_eq!(series[2].year_earlier, Some(0));
        assert_eq!(
            (series[3].previous, series[3].previous_absence),
            (None, Some(ChangeAbsence::OtherBoundaries))
        );
        assert_eq!(series[4].previous, Some(3));
        assert_eq!(
            (series[4].year_earlier, series[4].year_earlier_absence),
            (None, Some(ChangeAbsence::OtherBoundaries))
        );
    }

    #[test]
    fn absence_words() {
        assert_eq!(
            ChangeAbsence::NAMES,
            ["no_reference", "not_comparable", "other_boundaries"]
        );
    }

    #[test]
    fn a_series_of_nothing_is_empty() {
        assert!(series_changes([], Unit::Persons).is_empty());
    }
}
