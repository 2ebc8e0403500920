//! Target attainment: how a region's figure stands against the target it was assigned — the
//! difference (percentage points for percentages), the attainment percentage, whether the
//! target is met, how many persons are still missing, and whether a part-year figure is being
//! held against a whole-year target. "The HI coverage rate reached 94.56%, exceeding the
//! assigned target by 0.91% (93.65%)" is an [`Attainment`]. Also here: which target applies to
//! a figure ([`applicable_target`]: a figure for the first five months of 2025 meets the target
//! for 2025) and what period a stored target was set for ([`target_period`]).
//!
//! Every target in the data contract is a level to reach (coverage, participants,
//! collections, % of plan): an indicator where less is better would need a direction the
//! catalog does not record yet, so a target here is always met from below.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::catalog::Timing;
use crate::change::ChangeUnit;
use crate::indicator::IndicatorKind;
use crate::keyword::keyword_enum;
use crate::period::Period;
use crate::rounding::percent_of;
use crate::unit::Unit;
use crate::value::{Qualifier, Quantity};

keyword_enum! {
    /// Whether a figure reaches its target.
    pub enum AttainmentStatus("attainment status") {
        /// The figure, as the source stated it, shows the target reached.
        Met = "met",
        /// The figure does not show the target reached.
        NotMet = "not_met",
        /// There is no target to assess against (whether or not there is a figure).
        NoTarget = "no_target",
        /// There is a target but no figure.
        NoData = "no_data",
    }
}

/// A figure assessed against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attainment {
    /// Whether the target is met; see [`Attainment::assess`] for how qualifiers decide.
    pub status: AttainmentStatus,
    /// `actual − target`, exact, qualified like the actual figure; `None` without both.
    pub difference: Option<Quantity>,
    /// The unit of `difference`: percentage points for percentages.
    pub difference_unit: ChangeUnit,
    /// `actual / target × 100`, rounded by the policy; `None` without both or when the
    /// target is zero.
    pub attainment_percent: Option<Quantity>,
    /// The persons who would have to join for the target to be reached; `None` when the
    /// target is met or the shortfall cannot be counted in persons.
    pub shortfall: Option<Shortfall>,
    /// Whether the figure's period ends before the target's: a figure for the first five
    /// months held against the target for the year. The status is still computed, but it
    /// only says where the year stands so far.
    pub year_to_date: bool,
}

/// What is known of a ratio's parts for the figure assessed — the numerator (participants)
/// and the denominator (population) stored for the same period — each with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RatioParts {
    /// The numerator figure and its indicator's unit.
    pub numerator: Option<(Quantity, Unit)>,
    /// The denominator figure and its indicator's unit.
    pub denominator: Option<(Quantity, Unit)>,
}

impl RatioParts {
    /// Neither part known (and for indicators that are not ratios).
    pub const NONE: RatioParts = RatioParts {
        numerator: None,
        denominator: None,
    };
}

/// How many persons are missing for a target to be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shortfall {
    /// The persons missing, rounded up to a whole person (fewer would leave the figure below
    /// the target), qualified by how sure its inputs are.
    pub persons: Quantity,
    /// For a ratio, the denominator the target was applied to: the stored one, or the one
    /// implied by the numerator and the rate (`about`, to a whole person).
    pub denominator: Option<Quantity>,
    /// Whether a part was implied from the rate instead of read from a stored figure. Rates
    /// are published rounded (90.44% is anything from 90.435% to 90.445%), so a derived
    /// shortfall is `about`.
    pub derived: bool,
}

impl Attainment {
    /// Assesses `actual` (a figure and its period) against `target` (a target value and the
    /// period it was set for, see [`target_period`]) for an indicator measured in `unit` of
    /// `kind`. `parts` are the ratio's numerator and denominator known for the actual's
    /// period, used only for the shortfall.
    ///
    /// Without a target the status is `NoTarget`; with a target but no figure, `NoData`.
    /// Otherwise the qualifier of the figure decides, conservatively — `Met` only when the
    /// source's words show the target reached:
    /// - `exact`, `about`: the stated value is at least the target (for `about` the result's
    ///   `difference` and `attainment_percent` carry `about`, so the closeness is visible);
    /// - `more_than X`: X is at least the target (the true figure is above X);
    /// - `nearly X`: X is above the target — nearly means just below X, so "nearly 95%"
    ///   against 95% is not met;
    /// - `less_than X`: never, since the true figure could be anywhere below X.
    ///
    /// The shortfall is counted when the target is not met and the stated figure is at or
    /// below it, in exact decimals, rounded up to a whole person at the end:
    /// - a ratio whose parts are in persons: `target × denominator / 100 − numerator`, the
    ///   persons the numerator lacks; qualified by [`Qualifier::difference`] of the
    ///   denominator's and the numerator's qualifiers (a "more than" numerator leaves "less
    ///   than" that many missing). Where one part is not stored, the rate stands in for it —
    ///   the implied denominator `numerator / rate × 100`, or the implied numerator
    ///   `rate × denominator / 100` — and the shortfall is `derived` and `about`;
    /// - a figure in persons (a stock or flow): `target − actual`, qualified like
    ///   `exact − actual`.
    ///
    /// `year_to_date` is whether the figure's period ends before the target's.
    pub fn assess(
        actual: Option<(Quantity, Period)>,
        target: Option<(Decimal, Period)>,
        unit: Unit,
        kind: IndicatorKind,
        parts: RatioParts,
    ) -> Attainment {
        let mut result = Attainment {
            status: AttainmentStatus::NoTarget,
            difference: None,
            difference_unit: ChangeUnit::of(unit),
            attainment_percent: None,
            shortfall: None,
            year_to_date: false,
        };
        let Some((target, target_period)) = target else {
            return result;
        };
        let Some((actual, actual_period)) = actual else {
            result.status = AttainmentStatus::NoData;
            return result;
        };

        let met = match actual.qualifier {
            Qualifier::Exact | Qualifier::About | Qualifier::MoreThan => actual.value >= target,
            Qualifier::Nearly => actual.value > target,
            Qualifier::LessThan => false,
        };
        result.status = if met {
            AttainmentStatus::Met
        } else {
            AttainmentStatus::NotMet
        };
        // Both figures are non-negative in every unit, so the difference always fits.
        result.difference = Some(Quantity::new(
            actual.value - target,
            Qualifier::difference(actual.qualifier, Qualifier::Exact),
        ));
        result.attainment_percent = (!target.is_zero())
            .then(|| percent_of(actual.value, target))
            .flatten()
            .map(|value| {
                Quantity::new(
                    value,
                    Qualifier::quotient(actual.qualifier, Qualifier::Exact),
                )
            });
        if !met && actual.value <= target {
            result.shortfall = match (kind, unit) {
                (IndicatorKind::Ratio, _) => ratio_shortfall(actual, target, parts),
                (IndicatorKind::Stock | IndicatorKind::Flow, Unit::Persons) => Some(Shortfall {
                    persons: Quantity::new(
                        (target - actual.value).ceil(),
                        Qualifier::difference(Qualifier::Exact, actual.qualifier),
                    ),
                    denominator: None,
                    derived: false,
                }),
                _ => None,
            };
        }
        result.year_to_date = actual_period.end() < target_period.end();
        result
    }
}

/// The persons a ratio's numerator lacks for `rate` (at or below `target`) to reach `target`.
fn ratio_shortfall(rate: Quantity, target: Decimal, parts: RatioParts) -> Option<Shortfall> {
    let persons = |part: Option<(Quantity, Unit)>| {
        part.filter(|(_, unit)| *unit == Unit::Persons)
            .map(|(figure, _)| figure)
    };
    let hundred = Decimal::ONE_HUNDRED;
    match (persons(parts.numerator), persons(parts.denominator)) {
        (Some(numerator), Some(denominator)) => {
            let missing = target
                .checked_mul(denominator.value)?
                .checked_div(hundred)?
                .checked_sub(numerator.value)?;
            // A stored rate at or below the target whose parts say otherwise: nobody is missing
            // by the parts, and no count is better than a negative one.
            (missing >= Decimal::ZERO).then(|| Shortfall {
                persons: Quantity::new(
                    missing.ceil(),
                    Qualifier::difference(denominator.qualifier, numerator.qualifier),
                ),
                denominator: Some(denominator),
                derived: false,
            })
        }
        // The implied denominator is numerator / rate × 100, so the target's numerator is
        // target × numerator / rate: numerator × (target − rate) / rate are missing.
        (Some(numerator), None) if rate.value > Decimal::ZERO => {
            let missing = numerator
                .value
                .checked_mul(target - rate.value)?
                .checked_div(rate.value)?;
            let denominator = numerator
                .value
                .checked_mul(hundred)?
                .checked_div(rate.value)?;
            Some(Shortfall {
                // A rounded rate in a quotient: about, whatever the other qualifiers.
                persons: Quantity::new(missing.ceil(), Qualifier::About),
                denominator: Some(Quantity::new(denominator.round(), Qualifier::About)),
                derived: true,
            })
        }
        // The implied numerator is rate × denominator / 100.
        (None, Some(denominator)) => {
            let missing = (target - rate.value)
                .checked_mul(denominator.value)?
                .checked_div(hundred)?;
            Some(Shortfall {
                persons: Quantity::new(missing.ceil(), Qualifier::About),
                denominator: Some(denominator),
                derived: true,
            })
        }
        _ => None,
    }
}

/// The period a target was set for, from the period it is stored under. Targets are stored
/// like figures of their indicator (see [`Timing::period`]): a target for a level is stored at
/// the instant it is to be reached (the coverage target for 2025 at 2025-12-31), and is read
/// back as the year up to that day; a target for an amount over an interval keeps its period.
pub fn target_period(timing: Timing, stored: Period) -> Period {
    if timing != Timing::Instant || !stored.is_instant() {
        return stored;
    }
    let end = stored.end();
    NaiveDate::from_ymd_opt(end.year(), 1, 1)
        .and_then(|start| Period::from_bounds(start, end).ok())
        .unwrap_or(stored)
}

/// Which target applies to a figure of `period`: of `targets`, each given with the period it
/// was set for ([`target_period`]), those whose period covers `period`, and of them the most
/// specific — the shortest; of equally long ones, the first given. A figure for the first five
/// months of 2025 meets the target for 2025 (and is year to date against it); a figure for the
/// first half meets a target for the half rather than the year's, when there is one.
pub fn applicable_target<T>(
    period: Period,
    targets: impl IntoIterator<Item = (Period, T)>,
) -> Option<(Period, T)> {
    targets
        .into_iter()
        .filter(|(target_period, _)| target_period.covers(&period))
        .min_by_key(|(target_period, _)| target_period.end() - target_period.start())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{dec, exact, period, quantity};
    use AttainmentStatus::{Met, NoData, NoTarget, NotMet};
    use Qualifier::{About as A, Exact as E, LessThan as L, MoreThan as M, Nearly as N};

    fn rate(
        actual: Quantity,
        actual_period: &str,
        target: &str,
        target_period: &str,
    ) -> Attainment {
        Attainment::assess(
            Some((actual, period(actual_period))),
            Some((dec(target), period(target_period))),
            Unit::Percent,
            IndicatorKind::Ratio,
            RatioParts::NONE,
        )
    }

    fn persons(numerator: Option<Quantity>, denominator: Option<Quantity>) -> RatioParts {
        RatioParts {
            numerator: numerator.map(|n| (n, Unit::Persons)),
            denominator: denominator.map(|d| (d, Unit::Persons)),
        }
    }

    /// The May 2025 coverage of Lâm Đồng against the 2025 target, with these parts.
    fn may_2025(parts: RatioParts) -> Attainment {
        Attainment::assess(
            Some((exact("90.44"), period("2025-05-31"))),
            Some((dec("95"), period("2025"))),
            Unit::Percent,
            IndicatorKind::Ratio,
            parts,
        )
    }

    #[test]
    fn seed_targets_of_2024_are_met() {
        // Seed 000: HI 94.56% against 93.65% ("exceeding ... by 0.91%"), SI 17.1% against 17%.
        let cases = [
            ("94.56", "93.65", "0.91", "100.97"),
            ("17.1", "17", "0.1", "100.59"),
        ];
        for (actual, target, difference, attainment) in cases {
            let result = rate(exact(actual), "2024-12-31", target, "2024");
            assert_eq!(result.status, Met, "{actual} vs {target}");
            assert_eq!(result.difference, Some(exact(difference)));
            assert_eq!(result.difference_unit, ChangeUnit::PercentagePoints);
            assert_eq!(result.attainment_percent, Some(exact(attainment)));
            assert_eq!(result.shortfall, None);
            assert!(!result.year_to_date);
        }
    }

    #[test]
    fn seed_may_2025_shortfall_is_implied_by_the_participants_and_the_rate() {
        // Seed 000: 1,229,935 participants, 90.44% in the first 5 months of 2025 (stored at
        // 2025-05-31), against the 2025 target of 95%. No population is stated: the implied
        // one is 1,229,935 / 90.44 × 100 = 1,359,945.82…, and 95% of it less the participants
        // is 62,013.53…, so about 62,014 persons (the report says 62,762: 4.56% of a
        // population of about 1,376,360, which with 1,229,935 participants would be a rate of
        // 89.36%, not 90.44%).
        let result = may_2025(persons(Some(exact("1229935")), None));
        assert_eq!(result.status, NotMet);
        assert_eq!(result.difference, Some(exact("-4.56")));
        assert_eq!(result.attainment_percent, Some(exact("95.2")));
        assert!(result.year_to_date);
        assert_eq!(
            result.shortfall,
            Some(Shortfall {
                persons: quantity("62014", A),
                denominator: Some(quantity("1359946", A)),
                derived: true,
            })
        );
    }

    #[test]
    fn a_stored_denominator_gives_an_exact_shortfall_from_the_parts() {
        // target × denominator − numerator: 95% of 1,359,945 is 1,291,947.75; less 1,229,935
        // is 62,012.75, so 62,013 persons — not (95 − 90.44)% of the population (62,013.49),
        // which would use the rounded rate.
        let result = may_2025(persons(Some(exact("1229935")), Some(exact("1359945"))));
        assert_eq!(
            result.shortfall,
            Some(Shortfall {
                persons: exact("62013"),
                denominator: Some(exact("1359945")),
                derived: false,
            })
        );
        // Exactly whole: no rounding.
        let whole = may_2025(persons(Some(exact("900000")), Some(exact("1000000"))));
        assert_eq!(whole.shortfall.unwrap().persons, exact("50000"));
    }

    #[test]
    fn a_shortfall_is_as_sure_as_its_inputs() {
        let qualified = |numerator, denominator| {
            may_2025(persons(Some(numerator), Some(denominator)))
                .shortfall
                .unwrap()
                .persons
        };
        // An "about" population: about that many missing.
        assert_eq!(
            qualified(exact("900000"), quantity("1000000", A)),
            quantity("50000", A)
        );
        // "More than 900,000" participants: fewer than 50,000 missing.
        assert_eq!(
            qualified(quantity("900000", M), exact("1000000")),
            quantity("50000", L)
        );
        // A "more than" population needs more than that many.
        assert_eq!(
            qualified(exact("900000"), quantity("1000000", M)),
            quantity("50000", M)
        );
        // Only a population stored: the numerator is implied from the rounded rate.
        let implied = may_2025(persons(None, Some(exact("1376359"))))
            .shortfall
            .unwrap();
        assert_eq!(implied.persons, quantity("62762", A));
        assert!(implied.derived);
        assert_eq!(implied.denominator, Some(exact("1376359")));
    }

    #[test]
    fn parts_that_reach_the_target_leave_nobody_missing() {
        // A published 94.99% whose parts make 95.0001%.
        let result = Attainment::assess(
            Some((exact("94.99"), period("2025-12-31"))),
            Some((dec("95"), period("2025"))),
            Unit::Percent,
            IndicatorKind::Ratio,
            persons(Some(exact("950001")), Some(exact("1000000"))),
        );
        assert_eq!(result.status, NotMet);
        assert_eq!(result.shortfall, None);
    }

    #[test]
    fn shortfall_needs_parts_in_persons_or_a_figure_in_persons() {
        let assess = |unit, kind, parts| {
            Attainment::assess(
                Some((exact("90"), period("2025-05-31"))),
                Some((dec("95"), period("2025"))),
                unit,
                kind,
                parts,
            )
            .shortfall
        };
        assert_eq!(
            assess(Unit::Percent, IndicatorKind::Ratio, RatioParts::NONE),
            None,
            "no parts"
        );
        let money = RatioParts {
            numerator: Some((exact("900"), Unit::Vnd)),
            denominator: Some((exact("1000"), Unit::Vnd)),
        };
        assert_eq!(
            assess(Unit::Percent, IndicatorKind::Ratio, money),
            None,
            "parts in money count no persons"
        );
        assert_eq!(
            assess(
                Unit::Percent,
                IndicatorKind::ReportedRatio,
                persons(Some(exact("900")), Some(exact("1000")))
            ),
            None,
            "a reported ratio has no parts"
        );
        assert_eq!(
            assess(Unit::Persons, IndicatorKind::Stock, RatioParts::NONE),
            Some(Shortfall {
                persons: exact("5"),
                denominator: None,
                derived: false
            }),
            "a stock of persons is short by the difference"
        );
        assert_eq!(
            assess(Unit::Vnd, IndicatorKind::Flow, RatioParts::NONE),
            None
        );
        // A rate of 0 implies no denominator.
        let zero = Attainment::assess(
            Some((exact("0"), period("2025-05-31"))),
            Some((dec("95"), period("2025"))),
            Unit::Percent,
            IndicatorKind::Ratio,
            persons(Some(exact("0")), None),
        );
        assert_eq!(zero.shortfall, None);
    }

    #[test]
    fn qualifiers_decide_the_status_conservatively() {
        // (qualifier, stated value) against a target of 95.
        let cases = [
            (E, "95", Met),
            (E, "94.99", NotMet),
            (A, "95", Met),
            (A, "94.99", NotMet),
            (M, "95", Met),
            (M, "96", Met),
            (M, "94", NotMet),
            (N, "95", NotMet),
            (N, "96", Met),
            (N, "94", NotMet),
            (L, "95", NotMet),
            (L, "99", NotMet),
        ];
        for (qualifier, value, status) in cases {
            let result = rate(Quantity::new(dec(value), qualifier), "2025", "95", "2025");
            assert_eq!(result.status, status, "{qualifier} {value}");
            assert_eq!(
                result.difference.map(|difference| difference.qualifier),
                Some(qualifier),
                "{qualifier} {value}"
            );
        }
    }

    #[test]
    fn a_stock_shortfall_follows_the_figures_qualifier() {
        let shortfall = |actual: Quantity| {
            Attainment::assess(
                Some((actual, period("2025-12-31"))),
                Some((dec("1000"), period("2025"))),
                Unit::Persons,
                IndicatorKind::Stock,
                RatioParts::NONE,
            )
            .shortfall
            .map(|shortfall| shortfall.persons)
        };
        // "Nearly 1,000": the true figure is below, so more than 0 are missing.
        assert_eq!(
            shortfall(Quantity::new(dec("1000"), N)),
            Some(quantity("0", M))
        );
        // "More than 900": fewer than 100 are missing.
        assert_eq!(
            shortfall(Quantity::new(dec("900"), M)),
            Some(quantity("100", L))
        );
        // "Less than 1,100" may or may not reach 1,000: no count.
        assert_eq!(shortfall(Quantity::new(dec("1100"), L)), None);
    }

    #[test]
    fn missing_target_or_figure() {
        let actual = Some((exact("94.56"), period("2024-12-31")));
        let target = Some((dec("93.65"), period("2024")));
        let assess = |actual, target| {
            Attainment::assess(
                actual,
                target,
                Unit::Percent,
                IndicatorKind::Ratio,
                RatioParts::NONE,
            )
        };
        for (result, status) in [
            (assess(actual, None), NoTarget),
            (assess(None, None), NoTarget),
            (assess(None, target), NoData),
        ] {
            assert_eq!(result.status, status);
            assert_eq!(result.difference, None);
            assert_eq!(result.attainment_percent, None);
            assert_eq!(result.shortfall, None);
            assert!(!result.year_to_date);
            assert_eq!(result.difference_unit, ChangeUnit::PercentagePoints);
        }
    }

    #[test]
    fn a_zero_target_has_no_attainment_percent() {
        let result = Attainment::assess(
            Some((exact("3"), period("2024"))),
            Some((dec("0"), period("2024"))),
            Unit::Count,
            IndicatorKind::Flow,
            RatioParts::NONE,
        );
        assert_eq!(result.status, Met);
        assert_eq!(result.difference, Some(exact("3")));
        assert_eq!(result.attainment_percent, None);
    }

    #[test]
    fn year_to_date_is_a_figure_ending_before_its_target() {
        let cases = [
            ("2025-01/2025-05", "2025", true),
            ("2025-05-31", "2025-12-31", true),
            ("2025", "2025", false),
            ("2025-12-31", "2025", false),
            ("2025-H1", "2025-H1", false),
        ];
        for (actual, target, year_to_date) in cases {
            assert_eq!(
                rate(exact("50"), actual, "40", target).year_to_date,
                year_to_date,
                "{actual} against {target}"
            );
        }
    }

    #[test]
    fn a_levels_target_is_read_as_the_year_up_to_its_instant() {
        let cases = [
            (Timing::Instant, "2025-12-31", "2025"),
            (Timing::Instant, "2025-06-30", "2025-H1"),
            (Timing::Instant, "2025-05-31", "2025-01/2025-05"),
            // Not a month end: kept as the day it is.
            (Timing::Instant, "2025-06-15", "2025-06-15"),
            (Timing::Interval, "2025", "2025"),
            (Timing::Interval, "2025-12-31", "2025-12-31"),
        ];
        for (timing, stored, read) in cases {
            assert_eq!(
                target_period(timing, period(stored)),
                period(read),
                "{timing:?} {stored}"
            );
        }
    }

    #[test]
    fn the_applicable_target_is_the_most_specific_covering_one() {
        let targets = [
            (period("2025"), "year"),
            (period("2025-H1"), "half"),
            (period("2024"), "last year"),
            (period("2025"), "year, second"),
        ];
        let applicable = |text: &str| applicable_target(period(text), targets).map(|(_, t)| t);
        // The figure a user holds: the first five months, inside the year and the half.
        assert_eq!(applicable("2025-01/2025-05"), Some("half"));
        assert_eq!(applicable("2025-05-31"), Some("half"));
        assert_eq!(applicable("2025-01/2025-07"), Some("year"));
        assert_eq!(applicable("2025"), Some("year"), "the first of equals");
        assert_eq!(applicable("2024-12-31"), Some("last year"));
        assert_eq!(applicable("2024-07/2025-06"), None, "no target covers it");
        assert_eq!(applicable("2023"), None);
    }

    #[test]
    fn status_words() {
        assert_eq!(
            AttainmentStatus::NAMES,
            ["met", "not_met", "no_target", "no_data"]
        );
        assert_eq!("NOT_MET".parse(), Ok(NotMet));
    }
}
