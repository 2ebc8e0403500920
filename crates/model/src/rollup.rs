//! Combining the figures of several regions into one, by the indicator's rule: stocks and flows
//! are summed, ratios are recomputed from their summed numerators and denominators (never
//! averaged), reported ratios cannot be combined. The same rule answers two questions: the
//! roll-up of a parent's children ([`roll_up`]) and a series in the boundaries of another date,
//! where a merged region's figure before the merger is the combination of its predecessors'
//! ([`combine_constituents`], which calls [`roll_up`] once per period). Every result says how
//! complete it is: which regions reported and which did not.
//!
//! An incomplete sum is a lower bound — the missing regions' figures are not negative — so
//! its qualifier is combined with `more_than`: an exact partial sum becomes "more than", a
//! "less than" one becomes "about". A ratio of incomplete parts is then "about" by the quotient
//! rule: it is the rate of the regions that reported, not a bound of the whole.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use thiserror::Error;

use crate::indicator::IndicatorKind;
use crate::period::Period;
use crate::rounding::percent_of;
use crate::unit::ValueError;
use crate::value::{Qualifier, Quantity};

/// What one region reported for the indicator being combined.
///
/// For a stock or flow only `value` counts. For a ratio the parts count: a region reports
/// when it has both `numerator` and `denominator`; its own `value` (the published rate) is
/// used only when it is the only region, because then nothing is combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Reported {
    /// The indicator's own figure.
    pub value: Option<Quantity>,
    /// A ratio's numerator figure, in the numerator indicator's unit.
    pub numerator: Option<Quantity>,
    /// A ratio's denominator figure, in the denominator indicator's unit.
    pub denominator: Option<Quantity>,
}

impl Reported {
    /// Nothing reported.
    pub const NOTHING: Reported = Reported {
        value: None,
        numerator: None,
        denominator: None,
    };

    /// The indicator's own figure (a stock, flow or published rate).
    pub const fn of(value: Quantity) -> Reported {
        Reported {
            value: Some(value),
            numerator: None,
            denominator: None,
        }
    }

    /// A ratio's two parts.
    pub const fn parts(numerator: Quantity, denominator: Quantity) -> Reported {
        Reported {
            value: None,
            numerator: Some(numerator),
            denominator: Some(denominator),
        }
    }

    /// The share `weight` (0 to 1) of this figure that goes with a part of a divided region:
    /// an amount or a level scales, exactly; a ratio's parts scale and its own rate, which is
    /// the whole region's, is dropped (the part's rate is recomputed from its parts); a
    /// reported ratio cannot be apportioned at all.
    pub fn apportioned(
        self,
        kind: IndicatorKind,
        weight: Decimal,
    ) -> Result<Reported, RollUpError> {
        let scale = |quantity: Option<Quantity>| {
            quantity
                .map(|q| {
                    q.value
                        .checked_mul(weight)
                        .map(|value| Quantity::new(value.normalize(), q.qualifier))
                        .ok_or(ValueError::SumOverflow)
                })
                .transpose()
        };
        match kind {
            IndicatorKind::Stock | IndicatorKind::Flow => Ok(Reported {
                value: scale(self.value)?,
                ..Reported::NOTHING
            }),
            IndicatorKind::Ratio => Ok(Reported {
                value: None,
                numerator: scale(self.numerator)?,
                denominator: scale(self.denominator)?,
            }),
            IndicatorKind::ReportedRatio => Err(RollUpError::NotCombinable { regions: 1 }),
        }
    }
}

/// The combination of several regions' figures, with its completeness.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RollUp<K> {
    /// The combined figure; `None` when no region reported.
    pub value: Option<Quantity>,
    /// For a ratio: the sum of the reporting regions' numerators.
    pub numerator: Option<Quantity>,
    /// For a ratio: the sum of the reporting regions' denominators.
    pub denominator: Option<Quantity>,
    /// How many regions reported.
    pub reporting: usize,
    /// How many regions there are (the children existing, or the constituents).
    pub expected: usize,
    /// The regions that did not report, in key order.
    pub missing: Vec<K>,
}

impl<K> RollUp<K> {
    /// Whether every region reported.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Why figures cannot be combined.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RollUpError {
    /// The indicator is a reported ratio and there is more than one region.
    #[error(
        "a reported_ratio is a percentage published without its numerator and denominator, so the figures of {regions} regions cannot be summed, and averaging percentages would be wrong; ask for each region's own figure instead"
    )]
    NotCombinable {
        /// How many regions were to be combined.
        regions: usize,
    },
    /// The summed denominators of a ratio are zero.
    #[error(
        "the ratio is undefined: the denominators of the {reporting} reporting regions add up to 0"
    )]
    ZeroDenominator {
        /// How many regions reported both parts.
        reporting: usize,
    },
    /// A sum too large for a decimal.
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// Combines the figures of `regions` — every region that exists, with what it reported
/// ([`Reported::NOTHING`] if nothing) — by the rule of `kind`. Each region is given once.
///
/// - stock, flow: the sum of the reported values, qualified by [`Qualifier::sum_all`];
/// - ratio: the summed numerators over the summed denominators × 100, rounded by the policy,
///   qualified by [`Qualifier::quotient`]; only regions with both parts report;
/// - reported ratio: an error, unless there is a single region.
///
/// A single region is passed through unchanged whatever the kind (a rename, or a parent with
/// one child): nothing is combined, so a reported ratio stays available and a ratio keeps the
/// rate as published. Incomplete sums are qualified as lower bounds (see the module notes).
pub fn roll_up<K: Clone + Ord>(
    kind: IndicatorKind,
    regions: impl IntoIterator<Item = (K, Reported)>,
) -> Result<RollUp<K>, RollUpError> {
    let regions: Vec<(K, Reported)> = regions.into_iter().collect();
    let expected = regions.len();
    let reports = |region: &Reported| match kind {
        IndicatorKind::Ratio if expected == 1 && region.value.is_some() => true,
        IndicatorKind::Ratio => region.numerator.is_some() && region.denominator.is_some(),
        IndicatorKind::Stock | IndicatorKind::Flow | IndicatorKind::ReportedRatio => {
            region.value.is_some()
        }
    };
    if kind == IndicatorKind::ReportedRatio && expected > 1 {
        return Err(RollUpError::NotCombinable { regions: expected });
    }
    let (reporting, missing): (Vec<_>, Vec<_>) =
        regions.into_iter().partition(|(_, region)| reports(region));
    let mut missing: Vec<K> = missing.into_iter().map(|(key, _)| key).collect();
    missing.sort();
    let mut result = RollUp {
        value: None,
        numerator: None,
        denominator: None,
        reporting: reporting.len(),
        expected,
        missing,
    };
    let complete = result.is_complete();
    let sum = |pick: fn(&Reported) -> Option<Quantity>| {
        partial_sum(
            reporting.iter().filter_map(|(_, region)| pick(region)),
            complete,
        )
    };

    match (kind, reporting.as_slice()) {
        (IndicatorKind::Ratio, [(_, only)]) if expected == 1 && only.value.is_some() => {
            result.value = only.value;
            if let (Some(numerator), Some(denominator)) = (only.numerator, only.denominator) {
                result.numerator = Some(numerator);
                result.denominator = Some(denominator);
            }
        }
        (IndicatorKind::Ratio, _) => {
            result.numerator = sum(|region| region.numerator)?;
            result.denominator = sum(|region| region.denominator)?;
            if let (Some(numerator), Some(denominator)) = (result.numerator, result.denominator) {
                if denominator.value.is_zero() {
                    return Err(RollUpError::ZeroDenominator {
                        reporting: result.reporting,
                    });
                }
                let value = percent_of(numerator.value, denominator.value)
                    .ok_or(ValueError::SumOverflow)?;
                result.value = Some(Quantity::new(
                    value,
                    Qualifier::quotient(numerator.qualifier, denominator.qualifier),
                ));
            }
        }
        (IndicatorKind::Stock | IndicatorKind::Flow | IndicatorKind::ReportedRatio, _) => {
            result.value = sum(|region| region.value)?;
        }
    }
    Ok(result)
}

/// The sum of `parts`; when some regions are missing, a lower bound: `more_than` is added to
/// its qualifier, as if the missing regions were "more than 0".
fn partial_sum(
    parts: impl Iterator<Item = Quantity>,
    complete: bool,
) -> Result<Option<Quantity>, ValueError> {
    Ok(Quantity::checked_sum(parts)?.map(|sum| {
        if complete {
            sum
        } else {
            Quantity::new(
                sum.value,
                Qualifier::sum(sum.qualifier, Qualifier::MoreThan),
            )
        }
    }))
}

/// One period of a series expressed in other boundaries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Combined<K> {
    /// The period.
    pub period: Period,
    /// The constituents' figures combined, with completeness.
    pub figure: RollUp<K>,
    /// Whether a constituent was carried across a split: its share of the old region is not
    /// known, so the figure is approximate (passed in by the caller from the lineage edges).
    pub approximate: bool,
}

/// A series in the boundaries of another date: for each period that any constituent has a
/// figure for, the [`roll_up`] of every constituent region's figure — the predecessors of a
/// merged region summed (old 68 + 60 + 67 for the merged Lâm Đồng before 2025-07-01), ratios
/// recomputed from summed parts. A constituent without a figure for a period is missing from
/// that period, so the figure is a lower bound there.
///
/// `constituents` are the regions the series is built from; a key that only appears in
/// `figures` is counted as a constituent too. `approximate` is set on every point when a
/// lineage edge involved is a split. Points come in period order.
pub fn combine_constituents<K: Clone + Ord>(
    kind: IndicatorKind,
    constituents: impl IntoIterator<Item = K>,
    figures: impl IntoIterator<Item = (Period, K, Reported)>,
    approximate: bool,
) -> Result<Vec<Combined<K>>, RollUpError> {
    let mut keys: BTreeSet<K> = constituents.into_iter().collect();
    let mut by_period: BTreeMap<Period, BTreeMap<K, Reported>> = BTreeMap::new();
    for (period, key, reported) in figures {
        keys.insert(key.clone());
        by_period.entry(period).or_default().insert(key, reported);
    }
    by_period
        .into_iter()
        .map(|(period, mut reported)| {
            let regions = keys.iter().map(|key| {
                let figure = reported.remove(key).unwrap_or(Reported::NOTHING);
                (key.clone(), figure)
            });
            Ok(Combined {
                period,
                figure: roll_up(kind, regions)?,
                approximate,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{dec, exact, period};
    use Qualifier::{About as A, Exact as E, LessThan as L, MoreThan as M, Nearly as N};

    #[test]
    fn a_part_takes_its_weight_of_amounts_and_of_a_ratios_parts() {
        let visits = Reported::of(exact("1000")).apportioned(IndicatorKind::Flow, dec("0.25"));
        assert_eq!(visits, Ok(Reported::of(exact("250"))));
        let rate = Reported {
            value: Some(exact("90")),
            ..Reported::parts(exact("900"), exact("1000"))
        };
        assert_eq!(
            rate.apportioned(IndicatorKind::Ratio, dec("0.5")),
            Ok(Reported::parts(exact("450"), exact("500")))
        );
        assert!(
            Reported::of(exact("101.6"))
                .apportioned(IndicatorKind::ReportedRatio, dec("0.5"))
                .is_err()
        );
    }

    fn qualified(text: &str, qualifier: Qualifier) -> Quantity {
        Quantity::new(dec(text), qualifier)
    }

    #[test]
    fn stocks_and_flows_are_summed_with_their_qualifiers() {
        // Seed 000: Lâm Đồng's 2024 benefits, "more than" 333 + 2,461 + 148 billion VND.
        for kind in [IndicatorKind::Stock, IndicatorKind::Flow] {
            let result = roll_up(
                kind,
                [
                    ("budget", Reported::of(qualified("333000000000", M))),
                    ("si_fund", Reported::of(qualified("2461000000000", M))),
                    ("ui", Reported::of(qualified("148000000000", M))),
                ],
            )
            .unwrap();
            assert_eq!(result.value, Some(qualified("2942000000000", M)));
            assert_eq!((result.reporting, result.expected), (3, 3));
            assert!(result.is_complete());
            assert_eq!(result.numerator, None);
        }
    }

    #[test]
    fn sums_are_exact_and_mixed_qualifiers_are_about() {
        let cases: [(&[Qualifier], Qualifier); 5] = [
            (&[E, E, E], E),
            (&[E, M, E], M),
            (&[M, M, M], M),
            (&[M, L, E], A),
            (&[N, N, E], N),
        ];
        for (qualifiers, expected) in cases {
            let regions = qualifiers
                .iter()
                .enumerate()
                .map(|(index, &q)| (index, Reported::of(qualified("0.1", q))));
            let result = roll_up(IndicatorKind::Flow, regions).unwrap();
            assert_eq!(
                result.value,
                Some(qualified("0.3", expected)),
                "{qualifiers:?}"
            );
        }
    }

    #[test]
    fn an_incomplete_sum_is_a_lower_bound() {
        // (qualifiers of the reporting regions) -> qualifier of a sum with one region missing.
        let cases: [(&[Qualifier], Qualifier); 5] = [
            (&[E, E], M),
            (&[M, E], M),
            (&[L, E], A),
            (&[N, N], A),
            (&[A, E], A),
        ];
        for (qualifiers, expected) in cases {
            let mut regions: Vec<_> = qualifiers
                .iter()
                .enumerate()
                .map(|(index, &q)| (index, Reported::of(qualified("10", q))))
                .collect();
            regions.push((99, Reported::NOTHING));
            let result = roll_up(IndicatorKind::Stock, regions).unwrap();
            assert_eq!(
                result.value,
                Some(qualified("20", expected)),
                "{qualifiers:?}"
            );
            assert_eq!((result.reporting, result.expected), (2, 3));
            assert_eq!(result.missing, [99]);
        }
    }

    #[test]
    fn nothing_reported_is_no_value() {
        let result = roll_up(
            IndicatorKind::Stock,
            [("68", Reported::NOTHING), ("60", Reported::NOTHING)],
        )
        .unwrap();
        assert_eq!(result.value, None);
        assert_eq!((result.reporting, result.expected), (0, 2));
        assert_eq!(result.missing, ["60", "68"]);

        let empty = roll_up::<&str>(IndicatorKind::Ratio, []).unwrap();
        assert_eq!(empty.value, None);
        assert_eq!((empty.reporting, empty.expected), (0, 0));
        assert!(empty.is_complete());
    }

    #[test]
    fn ratios_are_recomputed_from_summed_parts_never_averaged() {
        // 90 of 100 (90%) and 10 of 1,000 (1%): the average of the rates would be 45.5%, the
        // rate of the two regions together is 100 of 1,100.
        let result = roll_up(
            IndicatorKind::Ratio,
            [
                ("a", Reported::parts(exact("90"), exact("100"))),
                (
                    "b",
                    Reported {
                        value: Some(exact("1")),
                        ..Reported::parts(exact("10"), exact("1000"))
                    },
                ),
            ],
        )
        .unwrap();
        assert_eq!(result.value, Some(exact("9.09")));
        assert_eq!(result.numerator, Some(exact("100")));
        assert_eq!(result.denominator, Some(exact("1100")));
        assert!(result.is_complete());
    }

    #[test]
    fn only_regions_with_both_parts_report_for_a_ratio() {
        let result = roll_up(
            IndicatorKind::Ratio,
            [
                ("a", Reported::parts(exact("90"), exact("100"))),
                ("b", Reported::parts(exact("50"), exact("200"))),
                (
                    "c",
                    Reported {
                        numerator: Some(exact("5")),
                        ..Reported::of(exact("50"))
                    },
                ),
                ("d", Reported::of(exact("60"))),
            ],
        )
        .unwrap();
        assert_eq!((result.reporting, result.expected), (2, 4));
        assert_eq!(result.missing, ["c", "d"]);
        // 140 of 300: both parts are lower bounds, so their quotient is only "about".
        assert_eq!(result.numerator, Some(qualified("140", M)));
        assert_eq!(result.denominator, Some(qualified("300", M)));
        assert_eq!(result.value, Some(qualified("46.67", A)));
    }

    #[test]
    fn a_ratio_is_qualified_by_the_quotient_of_its_parts() {
        let cases = [(E, E, E), (M, E, M), (E, M, L), (N, E, N), (M, M, A)];
        for (numerator, denominator, expected) in cases {
            let result = roll_up(
                IndicatorKind::Ratio,
                [
                    (
                        1,
                        Reported::parts(qualified("1", numerator), qualified("3", denominator)),
                    ),
                    (2, Reported::parts(exact("0"), exact("5"))),
                ],
            )
            .unwrap();
            assert_eq!(
                result.value,
                Some(qualified("12.5", expected)),
                "{numerator} / {denominator}"
            );
        }
    }

    #[test]
    fn a_ratio_with_zero_denominators_is_an_error() {
        let error = roll_up(
            IndicatorKind::Ratio,
            [
                (1, Reported::parts(exact("0"), exact("0"))),
                (2, Reported::parts(exact("0"), exact("0"))),
            ],
        )
        .unwrap_err();
        assert_eq!(error, RollUpError::ZeroDenominator { reporting: 2 });
        assert!(error.to_string().contains("add up to 0"));
    }

    #[test]
    fn reported_ratios_are_not_combinable() {
        let error = roll_up(
            IndicatorKind::ReportedRatio,
            [
                ("68", Reported::of(exact("100.69"))),
                ("14", Reported::of(exact("100.02"))),
            ],
        )
        .unwrap_err();
        assert_eq!(error, RollUpError::NotCombinable { regions: 2 });
        assert!(error.to_string().contains("cannot be summed"));
        assert!(error.to_string().contains("each region's own figure"));
    }

    #[test]
    fn a_single_region_passes_through_whatever_the_kind() {
        let published = qualified("31.6", N);
        for kind in IndicatorKind::ALL {
            let result = roll_up(kind, [("VN", Reported::of(published))]).unwrap();
            assert_eq!(result.value, Some(published), "{kind}");
            assert_eq!((result.reporting, result.expected), (1, 1), "{kind}");
        }
        // A single ratio region without its published rate is recomputed from its parts.
        let parts = roll_up(
            IndicatorKind::Ratio,
            [("68", Reported::parts(exact("1229935"), exact("1360000")))],
        )
        .unwrap();
        assert_eq!(parts.value, Some(exact("90.44")));
        assert_eq!(parts.denominator, Some(exact("1360000")));
    }

    #[test]
    fn one_reporting_region_among_several_is_recomputed_not_passed_through() {
        let result = roll_up(
            IndicatorKind::Ratio,
            [
                (
                    "a",
                    Reported {
                        value: Some(exact("90.5")),
                        ..Reported::parts(exact("90"), exact("100"))
                    },
                ),
                ("b", Reported::NOTHING),
            ],
        )
        .unwrap();
        assert_eq!(result.value, Some(qualified("90", A)));
        assert_eq!(result.missing, ["b"]);
    }

    #[test]
    fn sum_overflow_is_an_error() {
        let error = roll_up(
            IndicatorKind::Flow,
            [
                (1, Reported::of(Quantity::exact(Decimal::MAX))),
                (2, Reported::of(Quantity::exact(Decimal::MAX))),
            ],
        )
        .unwrap_err();
        assert_eq!(error, RollUpError::Value(ValueError::SumOverflow));
    }

    #[test]
    fn merged_series_sums_predecessors_per_period() {
        // The merged Lâm Đồng (68 from 2025-07-01) before the merger: old 68 + 60 + 67.
        // 1,269,187 is the seed figure for 68; the others are illustrative.
        let combined = combine_constituents(
            IndicatorKind::Stock,
            ["68", "60", "67"],
            [
                (period("2024-12-31"), "68", Reported::of(exact("1269187"))),
                (period("2024-12-31"), "60", Reported::of(exact("1200000"))),
                (period("2024-12-31"), "67", Reported::of(exact("600000"))),
                (period("2023-12-31"), "68", Reported::of(exact("1250000"))),
                (period("2023-12-31"), "67", Reported::of(exact("590000"))),
            ],
            false,
        )
        .unwrap();
        let periods: Vec<_> = combined.iter().map(|point| point.period).collect();
        assert_eq!(periods, [period("2023-12-31"), period("2024-12-31")]);

        let complete = &combined[1];
        assert_eq!(complete.figure.value, Some(exact("3069187")));
        assert!(complete.figure.is_complete());
        assert!(!complete.approximate);

        let partial = &combined[0];
        assert_eq!(partial.figure.value, Some(qualified("1840000", M)));
        assert_eq!((partial.figure.reporting, partial.figure.expected), (2, 3));
        assert_eq!(partial.figure.missing, ["60"]);
    }

    #[test]
    fn merged_ratios_are_recomputed_and_splits_are_approximate() {
        let combined = combine_constituents(
            IndicatorKind::Ratio,
            ["a", "b"],
            [
                (
                    period("2024"),
                    "a",
                    Reported::parts(exact("900"), exact("1000")),
                ),
                (
                    period("2024"),
                    "b",
                    Reported::parts(exact("100"), exact("1000")),
                ),
                // A key not listed as a constituent still counts as one.
                (
                    period("2024"),
                    "c",
                    Reported::parts(exact("0"), exact("1000")),
                ),
            ],
            true,
        )
        .unwrap();
        assert_eq!(combined.len(), 1);
        assert_eq!(combined[0].figure.value, Some(exact("33.33")));
        assert_eq!(combined[0].figure.expected, 3);
        assert!(combined[0].approximate);
    }

    #[test]
    fn merged_reported_ratios_are_refused_but_a_rename_keeps_them() {
        let error = combine_constituents(
            IndicatorKind::ReportedRatio,
            ["a", "b"],
            [(period("2024"), "a", Reported::of(exact("100.69")))],
            false,
        )
        .unwrap_err();
        assert_eq!(error, RollUpError::NotCombinable { regions: 2 });

        let renamed = combine_constituents(
            IndicatorKind::ReportedRatio,
            ["a"],
            [(period("2024"), "a", Reported::of(exact("100.69")))],
            false,
        )
        .unwrap();
        assert_eq!(renamed[0].figure.value, Some(exact("100.69")));
    }

    #[test]
    fn nothing_to_combine_is_an_empty_series() {
        let combined = combine_constituents::<&str>(IndicatorKind::Flow, ["a"], [], false).unwrap();
        assert!(combined.is_empty());
    }
}
