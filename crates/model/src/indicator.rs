//! Indicators: the catalog entries that say what a figure measures — its code, names, the
//! unit its values are stored in, its kind (which decides how figures combine over time and
//! regions) and, for a ratio, the indicators it is computed from. This module also owns the
//! units an import row may state and their exact conversion to the stored unit, and the
//! range rules a value must meet for its unit.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::keyword::keyword_enum;
use crate::unit::{Unit, ValueError};

/// The longest indicator code, in characters.
const MAX_CODE_LENGTH: usize = 64;

/// The code of an indicator: `[a-z][a-z0-9_]{0,63}`, such as `hi_coverage_rate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndicatorCode(String);

/// Lets a map keyed by code be searched with a plain `&str`.
impl std::borrow::Borrow<str> for IndicatorCode {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl IndicatorCode {
    /// Reads an indicator code, ignoring surrounding whitespace.
    ///
    /// Upper case is refused rather than lowered, as for region codes: codes are compared
    /// byte for byte, and a silently rewritten code would hide a typo.
    pub fn parse(text: &str) -> Result<Self, IndicatorCodeError> {
        let code = text.trim();
        let Some(first) = code.chars().next() else {
            return Err(IndicatorCodeError::Empty);
        };
        if let Some(character) = code
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(IndicatorCodeError::InvalidCharacter {
                code: code.to_owned(),
                character,
            });
        }
        if code.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(IndicatorCodeError::UpperCase {
                code: code.to_owned(),
                lower: code.to_ascii_lowercase(),
            });
        }
        if !first.is_ascii_lowercase() {
            return Err(IndicatorCodeError::Start {
                code: code.to_owned(),
                first,
            });
        }
        if code.len() > MAX_CODE_LENGTH {
            return Err(IndicatorCodeError::TooLong {
                code: code.to_owned(),
                length: code.len(),
            });
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IndicatorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for IndicatorCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for IndicatorCode {
    type Err = IndicatorCodeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Why a text is not an indicator code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndicatorCodeError {
    /// Nothing but whitespace was given.
    #[error(
        "indicator code is empty; use lower-case letters, digits and '_', starting with a letter (e.g. hi_coverage_rate)"
    )]
    Empty,
    /// Upper-case letters.
    #[error("indicator code {code:?} contains upper-case letters; use lower case ({lower:?})")]
    UpperCase {
        /// The trimmed code.
        code: String,
        /// The code in lower case, which would be accepted if it is otherwise well formed.
        lower: String,
    },
    /// A character other than `a-z 0-9 _`.
    #[error(
        "indicator code {code:?} contains {character:?}; an indicator code uses only a-z, 0-9 and '_' (e.g. hi_coverage_rate)"
    )]
    InvalidCharacter {
        /// The trimmed code.
        code: String,
        /// The first offending character.
        character: char,
    },
    /// A first character that is not a letter.
    #[error(
        "indicator code {code:?} starts with {first:?}; an indicator code starts with a letter a-z"
    )]
    Start {
        /// The trimmed code.
        code: String,
        /// Its first character.
        first: char,
    },
    /// More than 64 characters.
    #[error("indicator code {code:?} is {length} characters long; at most 64 are allowed")]
    TooLong {
        /// The trimmed code.
        code: String,
        /// Its length in characters.
        length: usize,
    },
}

keyword_enum! {
    /// What kind of quantity an indicator measures, which decides how its figures combine
    /// (see the data contract's aggregation table).
    pub enum IndicatorKind("indicator kind") {
        /// A level at an instant (participants, collection points): over time the value at the
        /// period's end, over regions the sum.
        Stock = "stock",
        /// An amount over an interval (contributions, benefits paid): summed over both time
        /// and regions.
        Flow = "flow",
        /// Numerator / denominator × 100, always recomputed from its parts, never averaged.
        Ratio = "ratio",
        /// A percentage published without its parts (% of plan): not combinable at all.
        ReportedRatio = "reported_ratio",
    }
}

/// A catalog entry: what a figure measures and how figures combine.
///
/// The fields are public for reading and for rebuilding stored values; [`Indicator::new`] is
/// the checked way to make one from input, and [`Indicator::validate`] re-checks a built
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The indicator's code.
    pub code: IndicatorCode,
    /// The English name.
    pub name: String,
    /// The Vietnamese name, when known.
    pub name_vi: Option<String>,
    /// The unit values are stored in.
    pub unit: Unit,
    /// How figures combine.
    pub kind: IndicatorKind,
    /// For a ratio, the indicator summed into the numerator.
    pub numerator: Option<IndicatorCode>,
    /// For a ratio, the indicator summed into the denominator.
    pub denominator: Option<IndicatorCode>,
    /// A longer explanation, when given.
    pub description: Option<String>,
}

impl Indicator {
    /// Builds a catalog entry and checks it (see [`Indicator::validate`]).
    ///
    /// Text is trimmed and blank optional text becomes `None`, so an empty CSV cell and a
    /// missing one mean the same thing.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per catalog column, in the order of the fields"
    )]
    pub fn new(
        code: IndicatorCode,
        name: impl Into<String>,
        name_vi: Option<String>,
        unit: Unit,
        kind: IndicatorKind,
        numerator: Option<IndicatorCode>,
        denominator: Option<IndicatorCode>,
        description: Option<String>,
    ) -> Result<Self, IndicatorError> {
        let indicator = Self {
            code,
            name: name.into().trim().to_owned(),
            name_vi: non_blank(name_vi),
            unit,
            kind,
            numerator,
            denominator,
            description: non_blank(description),
        };
        indicator.validate()?;
        Ok(indicator)
    }

    /// Checks the catalog rules: the name is not blank; a ratio names both a numerator and a
    /// denominator, different from each other and from itself, and is in percent; a reported
    /// ratio is in percent; stocks and flows are not in percent (they are summed, and
    /// percentages cannot be); only ratios name parts.
    pub fn validate(&self) -> Result<(), IndicatorError> {
        let code = || self.code.clone();
        if self.name.trim().is_empty() {
            return Err(IndicatorError::EmptyName { code: code() });
        }
        match self.kind {
            IndicatorKind::Ratio | IndicatorKind::ReportedRatio if self.unit != Unit::Percent => {
                return Err(IndicatorError::NotPercent {
                    code: code(),
                    kind: self.kind,
                    unit: self.unit,
                });
            }
            IndicatorKind::Stock | IndicatorKind::Flow if self.unit == Unit::Percent => {
                return Err(IndicatorError::SummedPercent {
                    code: code(),
                    kind: self.kind,
                });
            }
            _ => {}
        }
        if self.kind == IndicatorKind::Ratio {
            let (numerator, denominator) = match (&self.numerator, &self.denominator) {
                (Some(numerator), Some(denominator)) => (numerator, denominator),
                (numerator, denominator) => {
                    return Err(IndicatorError::MissingParts {
                        code: code(),
                        missing: match (numerator, denominator) {
                            (Some(_), None) => "denominator",
                            (None, Some(_)) => "numerator",
                            _ => "numerator and denominator",
                        },
                    });
                }
            };
            if *numerator == self.code || *denominator == self.code {
                return Err(IndicatorError::SelfReference { code: code() });
            }
            if numerator == denominator {
                return Err(IndicatorError::SameParts {
                    code: code(),
                    part: numerator.clone(),
                });
            }
        } else if self.numerator.is_some() || self.denominator.is_some() {
            return Err(IndicatorError::UnexpectedParts {
                code: code(),
                kind: self.kind,
            });
        }
        Ok(())
    }

    /// Checks that `value` is possible for this indicator: the unit's rule (see
    /// [`Unit::check_value`]), except that a reported ratio may exceed 100.
    ///
    /// Reported ratios include "% of the assigned plan", which sources publish above 100
    /// ("achieving 100.02% of the plan"); a share computed from parts cannot exceed 100.
    pub fn check_value(&self, value: Decimal) -> Result<(), ValueError> {
        match self.kind {
            IndicatorKind::ReportedRatio if value > Decimal::ONE_HUNDRED => Ok(()),
            _ => self.unit.check_value(value),
        }
    }
}

fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

/// Why a catalog entry breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndicatorError {
    /// The name is blank.
    #[error("indicator {code} has an empty name; every indicator needs a name")]
    EmptyName {
        /// The indicator's code.
        code: IndicatorCode,
    },
    /// A ratio or reported ratio in a unit other than percent.
    #[error("indicator {code} is a {kind}, so its unit must be percent, not {unit}")]
    NotPercent {
        /// The indicator's code.
        code: IndicatorCode,
        /// Its kind.
        kind: IndicatorKind,
        /// The unit given.
        unit: Unit,
    },
    /// A stock or flow in percent.
    #[error(
        "indicator {code} is a {kind} in percent, but stocks and flows are summed and percentages cannot be; use kind ratio (with numerator and denominator) or reported_ratio"
    )]
    SummedPercent {
        /// The indicator's code.
        code: IndicatorCode,
        /// Its kind.
        kind: IndicatorKind,
    },
    /// A ratio without a numerator or denominator.
    #[error(
        "indicator {code} is a ratio but has no {missing}; a ratio names both the indicator it divides and the one it divides by"
    )]
    MissingParts {
        /// The indicator's code.
        code: IndicatorCode,
        /// Which parts are missing.
        missing: &'static str,
    },
    /// A ratio whose part is the ratio itself.
    #[error(
        "ratio {code} names itself as its numerator or denominator; its parts must be other indicators"
    )]
    SelfReference {
        /// The indicator's code.
        code: IndicatorCode,
    },
    /// A ratio that divides an indicator by itself.
    #[error(
        "ratio {code} divides {part} by itself, which is always 100%; numerator and denominator must differ"
    )]
    SameParts {
        /// The indicator's code.
        code: IndicatorCode,
        /// The part named twice.
        part: IndicatorCode,
    },
    /// A non-ratio with a numerator or denominator.
    #[error(
        "indicator {code} is a {kind} but names a numerator or denominator; only kind ratio has parts, so use kind ratio or leave both empty"
    )]
    UnexpectedParts {
        /// The indicator's code.
        code: IndicatorCode,
        /// Its kind.
        kind: IndicatorKind,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::dec;

    fn code(text: &str) -> IndicatorCode {
        IndicatorCode::parse(text).unwrap()
    }

    #[test]
    fn indicator_code_accepts_lower_snake_case() {
        for text in ["population", "hi_coverage_rate", "x", "a1_2", "ui_"] {
            assert_eq!(code(text).as_str(), text);
        }
        assert_eq!(code(" labour_force ").as_str(), "labour_force");
        assert_eq!(code("population").to_string(), "population");
        assert_eq!(
            "population".parse::<IndicatorCode>(),
            Ok(code("population"))
        );
        let longest = format!("a{}", "b".repeat(63));
        assert_eq!(code(&longest).as_str(), longest);
    }

    #[test]
    fn indicator_code_rejects_other_shapes() {
        assert_eq!(IndicatorCode::parse(" "), Err(IndicatorCodeError::Empty));
        assert_eq!(
            IndicatorCode::parse("HI_Rate"),
            Err(IndicatorCodeError::UpperCase {
                code: "HI_Rate".to_owned(),
                lower: "hi_rate".to_owned()
            })
        );
        for (text, character) in [
            ("hi-rate", '-'),
            ("hi rate", ' '),
            ("đ", 'đ'),
            ("HI-rate", '-'),
        ] {
            assert_eq!(
                IndicatorCode::parse(text),
                Err(IndicatorCodeError::InvalidCharacter {
                    code: text.to_owned(),
                    character
                })
            );
        }
        for (text, first) in [("1st", '1'), ("_x", '_')] {
            assert_eq!(
                IndicatorCode::parse(text),
                Err(IndicatorCodeError::Start {
                    code: text.to_owned(),
                    first
                })
            );
        }
        let too_long = "a".repeat(65);
        assert_eq!(
            IndicatorCode::parse(&too_long),
            Err(IndicatorCodeError::TooLong {
                code: too_long.clone(),
                length: 65
            })
        );
    }

    #[test]
    fn kind_and_unit_words() {
        assert_eq!(
            IndicatorKind::NAMES,
            ["stock", "flow", "ratio", "reported_ratio"]
        );
        assert_eq!(Unit::NAMES, ["persons", "percent", "vnd", "count"]);
        for kind in IndicatorKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
        for unit in Unit::ALL {
            assert_eq!(unit.as_str().parse(), Ok(unit));
        }
        assert!("billion_vnd".parse::<Unit>().is_err());
    }

    fn indicator(
        unit: Unit,
        kind: IndicatorKind,
        numerator: Option<&str>,
        denominator: Option<&str>,
    ) -> Result<Indicator, IndicatorError> {
        Indicator::new(
            code("hi_coverage_rate"),
            "Health insurance coverage rate",
            Some("Tỷ lệ bao phủ BHYT".to_owned()),
            unit,
            kind,
            numerator.map(code),
            denominator.map(code),
            Some(" ".to_owned()),
        )
    }

    #[test]
    fn a_ratio_names_both_parts_and_is_in_percent() {
        let ratio = indicator(
            Unit::Percent,
            IndicatorKind::Ratio,
            Some("hi_participants"),
            Some("population"),
        )
        .unwrap();
        assert_eq!(ratio.description, None);
        assert_eq!(ratio.name_vi.as_deref(), Some("Tỷ lệ bao phủ BHYT"));
        assert_eq!(ratio.validate(), Ok(()));

        let missing = [
            (Some("hi_participants"), None, "denominator"),
            (None, Some("population"), "numerator"),
            (None, None, "numerator and denominator"),
        ];
        for (numerator, denominator, missing) in missing {
            assert_eq!(
                indicator(Unit::Percent, IndicatorKind::Ratio, numerator, denominator),
                Err(IndicatorError::MissingParts {
                    code: code("hi_coverage_rate"),
                    missing
                })
            );
        }
        assert_eq!(
            indicator(
                Unit::Persons,
                IndicatorKind::Ratio,
                Some("hi_participants"),
                Some("population")
            ),
            Err(IndicatorError::NotPercent {
                code: code("hi_coverage_rate"),
                kind: IndicatorKind::Ratio,
                unit: Unit::Persons
            })
        );
    }

    #[test]
    fn a_ratio_divides_two_other_indicators() {
        assert_eq!(
            indicator(
                Unit::Percent,
                IndicatorKind::Ratio,
                Some("hi_coverage_rate"),
                Some("population")
            ),
            Err(IndicatorError::SelfReference {
                code: code("hi_coverage_rate")
            })
        );
        assert_eq!(
            indicator(
                Unit::Percent,
                IndicatorKind::Ratio,
                Some("population"),
                Some("population")
            ),
            Err(IndicatorError::SameParts {
                code: code("hi_coverage_rate"),
                part: code("population")
            })
        );
    }

    #[test]
    fn a_reported_ratio_is_in_percent_without_parts() {
        assert!(indicator(Unit::Percent, IndicatorKind::ReportedRatio, None, None).is_ok());
        assert_eq!(
            indicator(Unit::Vnd, IndicatorKind::ReportedRatio, None, None),
            Err(IndicatorError::NotPercent {
                code: code("hi_coverage_rate"),
                kind: IndicatorKind::ReportedRatio,
                unit: Unit::Vnd
            })
        );
        assert_eq!(
            indicator(
                Unit::Percent,
                IndicatorKind::ReportedRatio,
                Some("hi_participants"),
                None
            ),
            Err(IndicatorError::UnexpectedParts {
                code: code("hi_coverage_rate"),
                kind: IndicatorKind::ReportedRatio
            })
        );
    }

    #[test]
    fn stocks_and_flows_have_no_parts_and_no_percent() {
        for kind in [IndicatorKind::Stock, IndicatorKind::Flow] {
            for unit in [Unit::Persons, Unit::Vnd, Unit::Count] {
                assert!(indicator(unit, kind, None, None).is_ok(), "{kind} {unit}");
            }
            assert_eq!(
                indicator(Unit::Percent, kind, None, None),
                Err(IndicatorError::SummedPercent {
                    code: code("hi_coverage_rate"),
                    kind
                })
            );
            for (numerator, denominator) in [
                (Some("population"), None),
                (None, Some("population")),
                (Some("hi_participants"), Some("population")),
            ] {
                assert_eq!(
                    indicator(Unit::Persons, kind, numerator, denominator),
                    Err(IndicatorError::UnexpectedParts {
                        code: code("hi_coverage_rate"),
                        kind
                    })
                );
            }
        }
    }

    #[test]
    fn an_indicator_needs_a_name() {
        let result = Indicator::new(
            code("population"),
            "  ",
            None,
            Unit::Persons,
            IndicatorKind::Stock,
            None,
            None,
            None,
        );
        assert_eq!(
            result,
            Err(IndicatorError::EmptyName {
                code: code("population")
            })
        );
    }

    #[test]
    fn indicator_checks_values_by_its_unit() {
        let rate = indicator(
            Unit::Percent,
            IndicatorKind::Ratio,
            Some("hi_participants"),
            Some("population"),
        )
        .unwrap();
        assert_eq!(rate.check_value(dec("94.56")), Ok(()));
        assert_eq!(
            rate.check_value(dec("100.02")),
            Err(ValueError::PercentOutOfRange {
                value: dec("100.02")
            })
        );
        let people = indicator(Unit::Persons, IndicatorKind::Stock, None, None).unwrap();
        assert_eq!(people.check_value(dec("116249")), Ok(()));
        assert!(people.check_value(dec("0.5")).is_err());
    }

    #[test]
    fn a_reported_ratio_may_exceed_one_hundred_but_not_go_below_zero() {
        let plan_rate = indicator(Unit::Percent, IndicatorKind::ReportedRatio, None, None).unwrap();
        for value in ["0", "52.89", "100", "100.02", "101.41", "250"] {
            assert_eq!(plan_rate.check_value(dec(value)), Ok(()), "{value}");
        }
        assert_eq!(
            plan_rate.check_value(dec("-0.5")),
            Err(ValueError::PercentOutOfRange { value: dec("-0.5") })
        );
    }
}
