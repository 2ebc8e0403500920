//! Units: the ones values are stored in ([`Unit`]), the ones an import row may state
//! ([`InputUnit`], which adds scaled money and the words sources use for counts), the exact
//! conversion between them, and what a value must be to exist in its unit ([`ValueError`]).

use rust_decimal::Decimal;
use thiserror::Error;

use crate::keyword::keyword_enum;

keyword_enum! {
    /// The unit a value is stored in.
    pub enum Unit("unit") {
        /// A number of people.
        Persons = "persons",
        /// A percentage, 0 to 100.
        Percent = "percent",
        /// Vietnamese dong.
        Vnd = "vnd",
        /// A number of things other than people (collection points, visits, units).
        Count = "count",
    }
}

impl Unit {
    /// Checks that `value` is possible in this unit: a percentage lies within 0..=100,
    /// persons and counts are non-negative whole numbers, money is non-negative.
    pub fn check_value(self, value: Decimal) -> Result<(), ValueError> {
        match self {
            Self::Percent if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED => {
                Err(ValueError::PercentOutOfRange { value })
            }
            _ if value.is_sign_negative() && !value.is_zero() => {
                Err(ValueError::Negative { value, unit: self })
            }
            Self::Persons | Self::Count if !value.is_integer() => {
                Err(ValueError::Fractional { value, unit: self })
            }
            _ => Ok(()),
        }
    }
}

keyword_enum! {
    /// A unit an import row may state: every stored [`Unit`], plus scaled money units that are
    /// converted to VND on import ("3,818 billion VND" is stored as 3818000000000), plus the
    /// count-like words sources write for whole numbers of things ("12,400 visits").
    pub enum InputUnit("unit") {
        /// A number of people.
        Persons = "persons",
        /// A percentage, 0 to 100.
        Percent = "percent",
        /// Vietnamese dong.
        Vnd = "vnd",
        /// A number of things other than people.
        Count = "count",
        /// Millions of dong (10^6 VND).
        MillionVnd = "million_vnd",
        /// Billions of dong (10^9 VND).
        BillionVnd = "billion_vnd",
        /// Trillions of dong (10^12 VND).
        TrillionVnd = "trillion_vnd",
        /// A number of visits (treatment visits, for instance).
        Visits = "visits",
        /// A number of claims.
        Claims = "claims",
        /// A number of units (employer units, for instance).
        Units = "units",
        /// A number of people.
        People = "people",
    }
}

impl InputUnit {
    /// The unit values in this unit are stored in.
    pub fn base_unit(self) -> Unit {
        match self {
            Self::Persons => Unit::Persons,
            Self::Percent => Unit::Percent,
            Self::Vnd | Self::MillionVnd | Self::BillionVnd | Self::TrillionVnd => Unit::Vnd,
            Self::Count | Self::Visits | Self::Claims | Self::Units => Unit::Count,
            Self::People => Unit::Persons,
        }
    }

    /// Whether a whole number of things is meant. Every such word fits a `persons` or `count`
    /// indicator alike: "1,200 visits" and "1,200 people" are both 1200 of the indicator's own
    /// unit, so sources need not use ansinh's word for what they count.
    pub fn is_count_like(self) -> bool {
        matches!(self.base_unit(), Unit::Persons | Unit::Count)
    }

    /// Whether a value given in this unit can be stored in `unit`: the same dimension, scaled
    /// money to `vnd`, or any count-like word to `persons` or `count` (stored as it is).
    pub fn fits(self, unit: Unit) -> bool {
        self.base_unit() == unit || (self.is_count_like() && Self::from(unit).is_count_like())
    }

    /// The power of ten that converts to the base unit.
    fn exponent(self) -> u32 {
        match self {
            Self::MillionVnd => 6,
            Self::BillionVnd => 9,
            Self::TrillionVnd => 12,
            Self::Persons
            | Self::Percent
            | Self::Vnd
            | Self::Count
            | Self::Visits
            | Self::Claims
            | Self::Units
            | Self::People => 0,
        }
    }

    /// Converts `value` in this unit to the base unit, exactly. A count-like value needs no
    /// conversion, so it is as well a value of any `persons` or `count` unit it [`fits`](Self::fits).
    ///
    /// Works on the decimal's digits rather than `Decimal` multiplication, because the latter
    /// rounds instead of failing when the product needs more than 28 significant digits.
    pub fn to_base(self, value: Decimal) -> Result<Decimal, ValueError> {
        let overflow = || ValueError::Overflow { value, unit: self };
        let exponent = self.exponent();
        let (mantissa, scale) = (value.mantissa(), value.scale());
        let converted = if exponent <= scale {
            Decimal::try_from_i128_with_scale(mantissa, scale - exponent)
        } else {
            let factor = 10_i128.pow(exponent - scale);
            let mantissa = mantissa.checked_mul(factor).ok_or_else(overflow)?;
            Decimal::try_from_i128_with_scale(mantissa, 0)
        };
        converted
            .map(|base| base.normalize())
            .map_err(|_| overflow())
    }
}

impl From<Unit> for InputUnit {
    fn from(unit: Unit) -> Self {
        match unit {
            Unit::Persons => Self::Persons,
            Unit::Percent => Self::Percent,
            Unit::Vnd => Self::Vnd,
            Unit::Count => Self::Count,
        }
    }
}

/// Why a value is not acceptable for its unit, or cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    /// Scaling to the base unit needs more digits than a decimal holds.
    #[error(
        "{value} {unit} is too large: in {} it needs more than the 28 significant digits a value can hold exactly",
        .unit.base_unit()
    )]
    Overflow {
        /// The value as given.
        value: Decimal,
        /// The unit it was given in.
        unit: InputUnit,
    },
    /// A percentage outside 0..=100.
    #[error(
        "{value} is outside 0 to 100; a percentage share lies from 0 to 100 (94.56 means 94.56%)"
    )]
    PercentOutOfRange {
        /// The value given.
        value: Decimal,
    },
    /// A negative amount in a unit that cannot be negative.
    #[error("{value} is negative; a value in {unit} must be 0 or more")]
    Negative {
        /// The value given.
        value: Decimal,
        /// Its unit.
        unit: Unit,
    },
    /// A fraction in a unit counted in whole numbers.
    #[error("{value} has a fractional part; a value in {unit} must be a whole number")]
    Fractional {
        /// The value given.
        value: Decimal,
        /// Its unit.
        unit: Unit,
    },
    /// A total too large for a decimal.
    #[error(
        "the total is too large: it needs more than the 28 significant digits a value can hold exactly"
    )]
    SumOverflow,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::dec;

    #[test]
    fn input_unit_words_and_base_units() {
        let cases = [
            ("persons", Unit::Persons),
            ("percent", Unit::Percent),
            ("vnd", Unit::Vnd),
            ("count", Unit::Count),
            ("million_vnd", Unit::Vnd),
            ("billion_vnd", Unit::Vnd),
            ("trillion_vnd", Unit::Vnd),
            ("visits", Unit::Count),
            ("claims", Unit::Count),
            ("units", Unit::Count),
            ("people", Unit::Persons),
        ];
        for (word, base) in cases {
            let unit: InputUnit = word.parse().unwrap();
            assert_eq!(unit.as_str(), word);
            assert_eq!(unit.base_unit(), base);
        }
        for unit in Unit::ALL {
            assert_eq!(InputUnit::from(unit).base_unit(), unit);
            assert_eq!(InputUnit::from(unit).as_str(), unit.as_str());
        }
    }

    #[test]
    fn input_unit_error_lists_accepted_names() {
        let message = "billion".parse::<InputUnit>().unwrap_err().to_string();
        assert_eq!(
            message,
            r#"unknown unit "billion"; use one of: persons, percent, vnd, count, million_vnd, billion_vnd, trillion_vnd, visits, claims, units, people"#
        );
    }

    #[test]
    fn count_like_words_fit_persons_and_count_alike_and_nothing_else() {
        let count_like = ["persons", "count", "visits", "claims", "units", "people"];
        for word in count_like {
            let unit: InputUnit = word.parse().unwrap();
            assert!(unit.is_count_like(), "{word}");
            assert!(unit.fits(Unit::Persons), "{word} for persons");
            assert!(unit.fits(Unit::Count), "{word} for count");
            assert!(!unit.fits(Unit::Vnd), "{word} for vnd");
            assert!(!unit.fits(Unit::Percent), "{word} for percent");
            assert_eq!(unit.to_base(dec("12400")), Ok(dec("12400")), "{word}");
        }
        for unit in InputUnit::ALL {
            if !count_like.contains(&unit.as_str()) {
                assert!(!unit.is_count_like(), "{unit}");
                assert!(
                    !unit.fits(Unit::Persons) && !unit.fits(Unit::Count),
                    "{unit}"
                );
            }
        }
        assert!(InputUnit::BillionVnd.fits(Unit::Vnd));
        assert!(InputUnit::Percent.fits(Unit::Percent));
        assert!(!InputUnit::Percent.fits(Unit::Vnd));
    }

    #[test]
    fn scaled_money_converts_exactly_to_vnd() {
        let cases = [
            (InputUnit::BillionVnd, "3818", "3818000000000"),
            (InputUnit::TrillionVnd, "1.5", "1500000000000"),
            (InputUnit::MillionVnd, "0.000001", "1"),
            (InputUnit::MillionVnd, "0.0000001", "0.1"),
            (InputUnit::BillionVnd, "333.25", "333250000000"),
            (InputUnit::Vnd, "12.50", "12.5"),
            (InputUnit::Persons, "1229935", "1229935"),
            (InputUnit::Percent, "94.56", "94.56"),
            (InputUnit::TrillionVnd, "-2", "-2000000000000"),
        ];
        for (unit, value, expected) in cases {
            let converted = unit.to_base(dec(value)).unwrap();
            assert_eq!(converted.to_string(), expected, "{value} {unit}");
        }
    }

    #[test]
    fn scaling_reports_overflow_instead_of_rounding() {
        let huge = dec("79228162514264337593543950"); // 26 digits; × 10^12 is far too big
        assert_eq!(
            InputUnit::TrillionVnd.to_base(huge),
            Err(ValueError::Overflow {
                value: huge,
                unit: InputUnit::TrillionVnd
            })
        );
        // 28 significant digits that would need 29 after scaling: rounding would lose one.
        let precise = dec("7922816251426433759354395.033");
        assert!(InputUnit::MillionVnd.to_base(precise).is_err());
        assert_eq!(InputUnit::Vnd.to_base(Decimal::MAX), Ok(Decimal::MAX));
        let message = InputUnit::TrillionVnd
            .to_base(huge)
            .unwrap_err()
            .to_string();
        assert!(message.contains("too large"), "{message}");
    }

    #[test]
    fn percent_values_lie_within_zero_to_one_hundred() {
        for value in ["0", "94.56", "100", "100.000"] {
            assert_eq!(Unit::Percent.check_value(dec(value)), Ok(()), "{value}");
        }
        for value in ["100.01", "-0.5", "120", "-100"] {
            assert_eq!(
                Unit::Percent.check_value(dec(value)),
                Err(ValueError::PercentOutOfRange { value: dec(value) }),
                "{value}"
            );
        }
    }

    #[test]
    fn persons_and_counts_are_non_negative_whole_numbers() {
        for unit in [Unit::Persons, Unit::Count] {
            assert_eq!(unit.check_value(dec("1229935")), Ok(()));
            assert_eq!(unit.check_value(dec("0")), Ok(()));
            assert_eq!(unit.check_value(dec("12.00")), Ok(()));
            assert_eq!(
                unit.check_value(dec("-1")),
                Err(ValueError::Negative {
                    value: dec("-1"),
                    unit
                })
            );
            assert_eq!(
                unit.check_value(dec("1.5")),
                Err(ValueError::Fractional {
                    value: dec("1.5"),
                    unit
                })
            );
        }
    }

    #[test]
    fn money_is_non_negative() {
        assert_eq!(Unit::Vnd.check_value(dec("3818000000000")), Ok(()));
        assert_eq!(Unit::Vnd.check_value(dec("0.5")), Ok(()));
        assert_eq!(Unit::Vnd.check_value(dec("-0")), Ok(()));
        assert!(matches!(
            Unit::Vnd.check_value(dec("-1")),
            Err(ValueError::Negative { .. })
        ));
    }

    #[test]
    fn value_errors_say_what_is_accepted() {
        let percent = ValueError::PercentOutOfRange { value: dec("120") };
        assert!(percent.to_string().contains("lies from 0 to 100"));
        let negative = ValueError::Negative {
            value: dec("-1"),
            unit: Unit::Persons,
        };
        assert_eq!(
            negative.to_string(),
            "-1 is negative; a value in persons must be 0 or more"
        );
        let overflow = ValueError::Overflow {
            value: dec("1"),
            unit: InputUnit::TrillionVnd,
        };
        assert!(
            overflow
                .to_string()
                .starts_with("1 trillion_vnd is too large: in vnd")
        );
    }
}
