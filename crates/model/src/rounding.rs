//! The one rounding policy of the service: every percentage the service computes — a ratio
//! recomputed from summed parts, an attainment, a relative change — is rounded here, once, to
//! [`PERCENT_DECIMAL_PLACES`] places with [`PERCENT_ROUNDING`]. Raw sums and differences are
//! never rounded: they are exact decimals of exact inputs.
//!
//! Rounding does not change a figure's qualifier. A qualifier says how the *source* stated a
//! figure; the sources themselves publish rounded percentages ("94.56%") and those are stored
//! as `exact`. A computed percentage is stated to the same precision by this policy, which
//! every reader knows, so marking it `about` would say nothing and would make every computed
//! rate look less certain than the published rates it is compared with.

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of every computed percentage: the precision the seed reports publish
/// (94.56%, 42.71%), so a recomputed rate reads like a published one.
pub const PERCENT_DECIMAL_PLACES: u32 = 2;

/// How a computed percentage is rounded: half to even (banker's rounding), so that rounding
/// many figures has no upward bias; it is also symmetric for negative changes.
pub const PERCENT_ROUNDING: RoundingStrategy = RoundingStrategy::MidpointNearestEven;

/// A computed percentage rounded by the policy, normalized ("95.2", not "95.20").
pub fn round_percent(value: Decimal) -> Decimal {
    value
        .round_dp_with_strategy(PERCENT_DECIMAL_PLACES, PERCENT_ROUNDING)
        .normalize()
}

/// `numerator / denominator × 100`, rounded by the policy; `None` when the denominator is
/// zero or the quotient does not fit a decimal.
///
/// The numerator is scaled before dividing so that the single inexact step, the division,
/// keeps 28 significant digits; the one rounding then happens here.
pub fn percent_of(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    numerator
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|scaled| scaled.checked_div(denominator))
        .map(round_percent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::dec;

    #[test]
    fn percentages_round_half_to_even_at_two_places() {
        let cases = [
            ("0.125", "0.12"),
            ("0.135", "0.14"),
            ("100.965", "100.96"),
            ("100.975", "100.98"),
            ("-0.125", "-0.12"),
            ("-3.0926884", "-3.09"),
            ("95.200", "95.2"),
            ("17.1", "17.1"),
            ("100.9717031", "100.97"),
        ];
        for (value, rounded) in cases {
            let result = round_percent(dec(value));
            assert_eq!(result.to_string(), rounded, "{value}");
        }
    }

    #[test]
    fn percent_of_divides_scales_and_rounds_once() {
        let cases = [
            // The seed's HI attainment: 94.56% against the 93.65% target.
            ("94.56", "93.65", Some("100.97")),
            ("90.44", "95", Some("95.2")),
            ("1", "3", Some("33.33")),
            ("2", "3", Some("66.67")),
            ("1", "8", Some("12.5")),
            // 1/800 = 0.125%: a midpoint, rounded to the even 0.12.
            ("1", "800", Some("0.12")),
            ("-39252", "1269187", Some("-3.09")),
            ("0", "5", Some("0")),
            ("5", "0", None),
        ];
        for (numerator, denominator, expected) in cases {
            assert_eq!(
                percent_of(dec(numerator), dec(denominator)),
                expected.map(dec),
                "{numerator} / {denominator}"
            );
        }
    }

    #[test]
    fn percent_of_too_large_is_none() {
        assert_eq!(percent_of(Decimal::MAX, Decimal::ONE), None);
    }
}
