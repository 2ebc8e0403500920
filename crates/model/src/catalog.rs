//! The indicator catalog as a whole: the rules that need more than one indicator. A ratio's
//! parts must be in the catalog, be stocks or flows, and sit in time the same way; and a ratio
//! sits in time like its parts — a coverage rate of participants over population is a level at
//! an instant, so "hi_coverage_rate for 2024" is the rate on 2024-12-31, exactly as a stock is.

use std::collections::BTreeMap;

use crate::{Indicator, IndicatorCode, IndicatorKind, Period};

/// How an indicator's figures sit in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timing {
    /// A level at an instant: a figure for a period is the level on its last day.
    Instant,
    /// An amount over an interval: a figure covers the whole period.
    Interval,
}

impl Timing {
    /// The timing of an indicator of `kind` whose numerator (for a ratio) is of
    /// `numerator_kind`: stocks, and ratios of stocks, are instants; the rest are intervals.
    /// A ratio whose numerator is unknown is taken as an interval, which keeps its period.
    pub fn of(kind: IndicatorKind, numerator_kind: Option<IndicatorKind>) -> Timing {
        let effective = match kind {
            IndicatorKind::Ratio => numerator_kind.unwrap_or(IndicatorKind::Flow),
            kind => kind,
        };
        match effective {
            IndicatorKind::Stock => Timing::Instant,
            _ => Timing::Interval,
        }
    }

    /// Normalises a period the way figures of this timing are stored: instants collapse to the
    /// period's last day; intervals keep the period.
    pub fn period(self, period: Period) -> Period {
        match self {
            Timing::Instant => Period::instant(period.end()),
            Timing::Interval => period,
        }
    }
}

/// Why a set of indicators is not a consistent catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A ratio names a part that is not in the catalog.
    #[error(
        "ratio {ratio} names {part} as its {role}, but {part} is not in the catalog; add it first"
    )]
    UnknownPart {
        /// The ratio.
        ratio: IndicatorCode,
        /// The missing part.
        part: IndicatorCode,
        /// "numerator" or "denominator".
        role: &'static str,
    },
    /// A ratio's part is itself a ratio or a reported ratio.
    #[error(
        "ratio {ratio} names {part} ({kind}) as its {role}; the parts of a ratio must be stocks or flows"
    )]
    PartNotSummable {
        /// The ratio.
        ratio: IndicatorCode,
        /// The part.
        part: IndicatorCode,
        /// The part's kind.
        kind: IndicatorKind,
        /// "numerator" or "denominator".
        role: &'static str,
    },
    /// A ratio divides a stock by a flow or a flow by a stock.
    #[error(
        "ratio {ratio} divides {numerator} by {denominator}, but one is a stock and the other a flow; both parts must be of the same kind"
    )]
    MixedTiming {
        /// The ratio.
        ratio: IndicatorCode,
        /// Its numerator.
        numerator: IndicatorCode,
        /// Its denominator.
        denominator: IndicatorCode,
    },
}

/// A consistent set of indicators, by code.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    by_code: BTreeMap<IndicatorCode, Indicator>,
}

impl Catalog {
    /// Builds a catalog and checks every ratio against its parts.
    pub fn new(indicators: impl IntoIterator<Item = Indicator>) -> Result<Self, CatalogError> {
        let by_code: BTreeMap<_, _> = indicators
            .into_iter()
            .map(|indicator| (indicator.code.clone(), indicator))
            .collect();
        let catalog = Self { by_code };
        for ratio in catalog.by_code.values() {
            check_ratio(ratio, |code| catalog.by_code.get(code))?;
        }
        Ok(catalog)
    }

    /// Whether `indicator` may join the catalog, in place of the one with its code if there is
    /// one: as a ratio, its parts must be in the catalog already; as a part of ratios, it must
    /// still fit each of them. An import adds indicators one at a time, parts first.
    pub fn check(&self, indicator: &Indicator) -> Result<(), CatalogError> {
        let code = &indicator.code;
        let with_it = |part: &IndicatorCode| {
            if part == code {
                Some(indicator)
            } else {
                self.by_code.get(part)
            }
        };
        check_ratio(indicator, with_it)?;
        self.by_code
            .values()
            .filter(|ratio| {
                ratio.code != *code
                    && (ratio.numerator.as_ref() == Some(code)
                        || ratio.denominator.as_ref() == Some(code))
            })
            .try_for_each(|ratio| check_ratio(ratio, with_it))
    }

    /// Adds `indicator`, or puts it in place of the one with its code, if [`Catalog::check`]
    /// allows it; else leaves the catalog as it was.
    pub fn insert(&mut self, indicator: Indicator) -> Result<(), CatalogError> {
        self.check(&indicator)?;
        self.by_code.insert(indicator.code.clone(), indicator);
        Ok(())
    }

    /// The indicator with this code.
    pub fn get(&self, code: &str) -> Option<&Indicator> {
        self.by_code.get(code)
    }

    /// Every indicator, ordered by code.
    pub fn iter(&self) -> impl Iterator<Item = &Indicator> {
        self.by_code.values()
    }

    /// The number of indicators.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// How `indicator`'s figures sit in time: stocks, and ratios of stocks, at an instant;
    /// flows, ratios of flows and reported ratios over an interval.
    pub fn timing(&self, indicator: &Indicator) -> Timing {
        let numerator_kind = indicator
            .numerator
            .as_ref()
            .and_then(|numerator| self.by_code.get(numerator))
            .map(|part| part.kind);
        Timing::of(indicator.kind, numerator_kind)
    }

    /// The period under which a figure of `indicator` reported for `period` is stored.
    pub fn observation_period(&self, indicator: &Indicator, period: Period) -> Period {
        self.timing(indicator).period(period)
    }
}

/// Checks `ratio` against its parts as `lookup` finds them; an indicator of another kind has
/// no parts to check.
fn check_ratio<'a>(
    ratio: &Indicator,
    lookup: impl Fn(&IndicatorCode) -> Option<&'a Indicator>,
) -> Result<(), CatalogError> {
    let (Some(numerator), Some(denominator)) = (&ratio.numerator, &ratio.denominator) else {
        return Ok(());
    };
    let numerator_kind = part_kind(ratio, numerator, "numerator", &lookup)?;
    let denominator_kind = part_kind(ratio, denominator, "denominator", &lookup)?;
    if numerator_kind != denominator_kind {
        return Err(CatalogError::MixedTiming {
            ratio: ratio.code.clone(),
            numerator: numerator.clone(),
            denominator: denominator.clone(),
        });
    }
    Ok(())
}

fn part_kind<'a>(
    ratio: &Indicator,
    part: &IndicatorCode,
    role: &'static str,
    lookup: impl Fn(&IndicatorCode) -> Option<&'a Indicator>,
) -> Result<IndicatorKind, CatalogError> {
    let found = lookup(part).ok_or_else(|| CatalogError::UnknownPart {
        ratio: ratio.code.clone(),
        part: part.clone(),
        role,
    })?;
    match found.kind {
        IndicatorKind::Stock | IndicatorKind::Flow => Ok(found.kind),
        kind => Err(CatalogError::PartNotSummable {
            ratio: ratio.code.clone(),
            part: part.clone(),
            kind,
            role,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Unit;
    use crate::fixtures::indicator;

    fn coverage_catalog() -> Catalog {
        Catalog::new([
            indicator("population", Unit::Persons, IndicatorKind::Stock, None),
            indicator("hi_participants", Unit::Persons, IndicatorKind::Stock, None),
            indicator(
                "hi_coverage_rate",
                Unit::Percent,
                IndicatorKind::Ratio,
                Some(("hi_participants", "population")),
            ),
            indicator("benefits_paid", Unit::Vnd, IndicatorKind::Flow, None),
            indicator(
                "contributions_collected",
                Unit::Vnd,
                IndicatorKind::Flow,
                None,
            ),
            indicator(
                "payout_ratio",
                Unit::Percent,
                IndicatorKind::Ratio,
                Some(("benefits_paid", "contributions_collected")),
            ),
            indicator(
                "contributions_plan_rate",
                Unit::Percent,
                IndicatorKind::ReportedRatio,
                None,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn a_ratio_of_stocks_is_stored_at_the_instant_of_its_period_end() {
        let catalog = coverage_catalog();
        let rate = catalog.get("hi_coverage_rate").unwrap();
        assert_eq!(catalog.timing(rate), Timing::Instant);
        let stored = catalog.observation_period(rate, Period::parse("2024").unwrap());
        assert_eq!(stored, Period::parse("2024-12-31").unwrap());
        let ytd = catalog.observation_period(rate, Period::parse("2025-01/2025-05").unwrap());
        assert_eq!(ytd.to_string(), "2025-05-31");
    }

    #[test]
    fn stocks_are_instants_and_flows_ratios_of_flows_and_reported_ratios_are_intervals() {
        let catalog = coverage_catalog();
        let year = Period::parse("2024").unwrap();
        for (code, timing) in [
            ("population", Timing::Instant),
            ("benefits_paid", Timing::Interval),
            ("payout_ratio", Timing::Interval),
            ("contributions_plan_rate", Timing::Interval),
        ] {
            let indicator = catalog.get(code).unwrap();
            assert_eq!(catalog.timing(indicator), timing, "{code}");
            let expected = if timing == Timing::Instant {
                Period::instant(year.end())
            } else {
                year
            };
            assert_eq!(
                catalog.observation_period(indicator, year),
                expected,
                "{code}"
            );
        }
    }

    #[test]
    fn an_instant_is_the_last_day_of_every_period_form_and_an_interval_the_period() {
        for text in ["2024", "2024-H2", "2024-Q4", "2024-12", "2024-12-31"] {
            let period = Period::parse(text).unwrap();
            assert_eq!(
                Timing::Instant.period(period),
                Period::parse("2024-12-31").unwrap(),
                "{text}"
            );
            assert_eq!(Timing::Interval.period(period), period, "{text}");
        }
        let five_months = Period::parse("2025-01/2025-05").unwrap();
        assert_eq!(
            Timing::Instant.period(five_months),
            Period::parse("2025-05-31").unwrap()
        );
        assert_eq!(Timing::Interval.period(five_months), five_months);
    }

    #[test]
    fn a_ratio_must_name_parts_that_are_in_the_catalog() {
        let error = Catalog::new([indicator(
            "hi_coverage_rate",
            Unit::Percent,
            IndicatorKind::Ratio,
            Some(("hi_participants", "population")),
        )])
        .unwrap_err();
        assert!(matches!(
            error,
            CatalogError::UnknownPart {
                role: "numerator",
                ..
            }
        ));
        assert!(
            error
                .to_string()
                .contains("hi_participants is not in the catalog")
        );
    }

    #[test]
    fn a_ratio_cannot_divide_a_ratio_or_mix_a_stock_with_a_flow() {
        let nested = Catalog::new([
            indicator("population", Unit::Persons, IndicatorKind::Stock, None),
            indicator("plan", Unit::Percent, IndicatorKind::ReportedRatio, None),
            indicator(
                "odd",
                Unit::Percent,
                IndicatorKind::Ratio,
                Some(("plan", "population")),
            ),
        ])
        .unwrap_err();
        assert!(matches!(
            nested,
            CatalogError::PartNotSummable {
                role: "numerator",
                ..
            }
        ));

        let mixed = Catalog::new([
            indicator("population", Unit::Persons, IndicatorKind::Stock, None),
            indicator("benefits_paid", Unit::Vnd, IndicatorKind::Flow, None),
            indicator(
                "odd",
                Unit::Percent,
                IndicatorKind::Ratio,
                Some(("benefits_paid", "population")),
            ),
        ])
        .unwrap_err();
        assert!(matches!(mixed, CatalogError::MixedTiming { .. }));
    }

    #[test]
    fn a_catalog_grows_one_checked_indicator_at_a_time() {
        let mut catalog = Catalog::default();
        let rate = indicator(
            "hi_coverage_rate",
            Unit::Percent,
            IndicatorKind::Ratio,
            Some(("hi_participants", "population")),
        );
        // A ratio before its parts is refused, and leaves the catalog as it was.
        assert!(matches!(
            catalog.insert(rate.clone()),
            Err(CatalogError::UnknownPart {
                role: "numerator",
                ..
            })
        ));
        assert!(catalog.is_empty());
        for part in ["hi_participants", "population"] {
            catalog
                .insert(indicator(part, Unit::Persons, IndicatorKind::Stock, None))
                .unwrap();
        }
        catalog.insert(rate).unwrap();
        let rate = catalog.get("hi_coverage_rate").unwrap();
        assert_eq!(catalog.timing(rate), Timing::Instant);
        assert_eq!(catalog.len(), 3);
    }

    #[test]
    fn a_part_replaced_must_still_fit_the_ratios_that_name_it() {
        let mut catalog = coverage_catalog();
        let as_flow = indicator("population", Unit::Persons, IndicatorKind::Flow, None);
        let error = catalog.insert(as_flow).unwrap_err();
        assert_eq!(
            error.to_string(),
            "ratio hi_coverage_rate divides hi_participants by population, but one is a stock and the other a flow; both parts must be of the same kind"
        );
        let population = catalog.get("population").unwrap();
        assert_eq!(population.kind, IndicatorKind::Stock, "left as it was");

        let as_ratio = indicator(
            "benefits_paid",
            Unit::Percent,
            IndicatorKind::ReportedRatio,
            None,
        );
        assert!(matches!(
            catalog.check(&as_ratio),
            Err(CatalogError::PartNotSummable {
                role: "numerator",
                ..
            })
        ));
        // Renamed or re-described, a part of the same kind still fits.
        let renamed = Indicator {
            name: "Population (census)".to_owned(),
            ..catalog.get("population").unwrap().clone()
        };
        catalog.insert(renamed).unwrap();
        assert_eq!(
            catalog.get("population").unwrap().name,
            "Population (census)"
        );
        assert_eq!(catalog.len(), 7);
    }
}
