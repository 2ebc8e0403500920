//! Number text: how figures are written in import files under a declared number locale —
//! plain (`1229935`, `94.56`), English (`1,229,935`, `94.56`) or Vietnamese (`1.229.935`,
//! `94,56`) — and the reading of that text into an exact decimal. The rule is that a text
//! the declared locale cannot read exactly one way is an error that says why, never a guess:
//! `1.229` is one thousand two hundred twenty-nine in vi and one point two two nine in en.

use rust_decimal::Decimal;
use thiserror::Error;

use crate::keyword::keyword_enum;

/// The most significant digits a stored value may have (what a decimal holds exactly).
const MAX_DIGITS: usize = 28;

keyword_enum! {
    /// How an import file writes numbers.
    #[derive(Default)]
    pub enum NumberLocale("number locale") {
        /// No thousands separator, `.` as the decimal point: `1229935`, `94.56`.
        #[default]
        Plain = "plain",
        /// `,` groups thousands, `.` is the decimal point: `1,229,935`, `94.56`.
        En = "en",
        /// `.` groups thousands, `,` is the decimal separator: `1.229.935`, `94,56`.
        Vi = "vi",
    }
}

impl NumberLocale {
    /// The locales that read `separator` the other way, for advice in errors.
    fn other_reading(self) -> &'static str {
        match self {
            Self::Plain => "en or vi",
            Self::En => "vi",
            Self::Vi => "en or plain",
        }
    }
}

/// Reads `text` as a decimal written in `locale`.
///
/// Surrounding ASCII whitespace is ignored; a leading `-` makes the number negative. The
/// integer part may be written with thousands separators (en, vi) in groups of exactly three
/// after a first group of one to three digits, or without any. There is at most one decimal
/// separator, with digits on both sides. Exponents, `+`, `%`, spaces, currency and words are
/// refused, as is anything needing more than 28 significant digits or decimal places.
/// Trailing zeros after the decimal separator are dropped, so the result is normalized.
pub fn parse_number(text: &str, locale: NumberLocale) -> Result<Decimal, NumberError> {
    let fail = |kind| NumberError {
        text: text.to_owned(),
        locale,
        kind,
    };
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.is_empty() {
        return Err(fail(NumberErrorKind::Empty));
    }
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    if let Some(character) = unsigned
        .chars()
        .find(|&c| !(c.is_ascii_digit() || c == '.' || c == ','))
    {
        return Err(fail(match character {
            'e' | 'E' => NumberErrorKind::Exponent,
            '%' => NumberErrorKind::Percent,
            '+' => NumberErrorKind::PlusSign,
            '-' => NumberErrorKind::MisplacedMinus,
            c if c.is_whitespace() => NumberErrorKind::Space,
            c => NumberErrorKind::Character(c),
        }));
    }
    if !unsigned.bytes().any(|byte| byte.is_ascii_digit()) {
        return Err(fail(NumberErrorKind::NoDigits));
    }
    let (integer, fraction) = match locale {
        NumberLocale::Plain => split_plain(unsigned),
        NumberLocale::En => split_grouped(unsigned, locale, ',', '.'),
        NumberLocale::Vi => split_grouped(unsigned, locale, '.', ','),
    }
    .map_err(fail)?;
    to_decimal(negative, &integer, fraction).map_err(fail)
}

/// Splits a plain number into integer digits and fraction digits.
fn split_plain(unsigned: &str) -> Result<(String, &str), NumberErrorKind> {
    if unsigned.contains(',') {
        return Err(NumberErrorKind::PlainComma);
    }
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((_, fraction)) if fraction.contains('.') => {
            return Err(NumberErrorKind::PlainManyPoints);
        }
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    check_sides(integer, fraction, '.')?;
    Ok((integer.to_owned(), fraction.unwrap_or_default()))
}

/// Splits a number with thousands separators into integer digits (separators removed) and
/// fraction digits, checking that the grouping can only be read one way.
fn split_grouped(
    unsigned: &str,
    locale: NumberLocale,
    group: char,
    decimal: char,
) -> Result<(String, &str), NumberErrorKind> {
    let (integer, fraction) = match unsigned.split_once(decimal) {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    if let Some(fraction) = fraction {
        if fraction.contains(decimal) {
            return Err(NumberErrorKind::ManyDecimalSeparators { locale, decimal });
        }
        if fraction.contains(group) {
            return Err(NumberErrorKind::GroupAfterDecimal {
                locale,
                group,
                decimal,
            });
        }
    }
    check_sides(integer, fraction, decimal)?;
    let mut groups = integer.split(group);
    let first = groups.next().unwrap_or_default();
    if first.len() != integer.len() {
        if first.is_empty() || first.len() > 3 {
            return Err(NumberErrorKind::FirstGroup {
                locale,
                group,
                digits: first.len(),
            });
        }
        // "0,123" is far more likely a decimal written in the other locale than 123.
        if first.starts_with('0') {
            return Err(NumberErrorKind::LeadingZeroGroup { locale, group });
        }
        if let Some(bad) = groups.find(|digits| digits.len() != 3) {
            return Err(NumberErrorKind::GroupSize {
                locale,
                group,
                digits: bad.to_owned(),
            });
        }
    }
    Ok((integer.replace(group, ""), fraction.unwrap_or_default()))
}

/// Requires digits before a decimal separator and after one that is present.
fn check_sides(
    integer: &str,
    fraction: Option<&str>,
    decimal: char,
) -> Result<(), NumberErrorKind> {
    if integer.is_empty() {
        return Err(NumberErrorKind::MissingIntegerDigits { decimal });
    }
    if fraction.is_some_and(str::is_empty) {
        return Err(NumberErrorKind::MissingFractionDigits { decimal });
    }
    Ok(())
}

/// Builds the decimal from ASCII digit strings, refusing what it cannot hold exactly.
fn to_decimal(negative: bool, integer: &str, fraction: &str) -> Result<Decimal, NumberErrorKind> {
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > MAX_DIGITS {
        return Err(NumberErrorKind::TooManyDecimals {
            places: fraction.len(),
        });
    }
    let digits = format!("{integer}{fraction}");
    let significant = digits.trim_start_matches('0');
    if significant.len() > MAX_DIGITS {
        return Err(NumberErrorKind::TooManyDigits {
            digits: significant.len(),
        });
    }
    let too_many = || NumberErrorKind::TooManyDigits {
        digits: significant.len(),
    };
    // Only ASCII digits are left and at most 28 of them, so this always fits an i128.
    let magnitude: i128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| too_many())?
    };
    let mantissa = if negative { -magnitude } else { magnitude };
    let scale = u32::try_from(fraction.len()).map_err(|_| too_many())?;
    Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| too_many())
}

/// A text that is not a number in the declared locale.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("number {text:?} in locale {locale}: {kind}")]
pub struct NumberError {
    /// The text as given.
    pub text: String,
    /// The locale it was read in.
    pub locale: NumberLocale,
    /// What is wrong with it.
    pub kind: NumberErrorKind,
}

/// What is wrong with a number text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NumberErrorKind {
    /// Nothing but whitespace.
    #[error("there is no number; give digits such as 1229935")]
    Empty,
    /// Signs or separators without digits.
    #[error("there are no digits")]
    NoDigits,
    /// Scientific notation.
    #[error("exponents are not accepted; write the number out in full (1500000, not 1.5e6)")]
    Exponent,
    /// A percent sign.
    #[error("'%' is not accepted; give the bare number, the unit percent says it is a percentage")]
    Percent,
    /// A plus sign.
    #[error("'+' is not accepted; write a positive number without a sign")]
    PlusSign,
    /// A minus sign anywhere but first.
    #[error("'-' may only come first, to make the number negative")]
    MisplacedMinus,
    /// Whitespace inside the number.
    #[error(
        "spaces are not accepted inside a number; thousands are grouped with ',' in en and '.' in vi, and not at all in plain"
    )]
    Space,
    /// A character that has no place in a number.
    #[error(
        "{0:?} is not accepted; a number has only digits, a leading '-' and its locale's separators (no currency, units or words)"
    )]
    Character(char),
    /// A comma in a plain number.
    #[error(
        "contains ','; plain numbers have no thousands separator and use '.' for decimals — declare the number locale en or vi"
    )]
    PlainComma,
    /// Several points in a plain number.
    #[error(
        "contains more than one '.'; a plain number has at most one decimal point — if '.' groups thousands, declare the number locale vi"
    )]
    PlainManyPoints,
    /// More than one decimal separator.
    #[error(
        "contains more than one {decimal:?}, the decimal separator in {locale} — if {decimal:?} groups thousands, declare the number locale {}",
        .locale.other_reading()
    )]
    ManyDecimalSeparators {
        /// The locale read in.
        locale: NumberLocale,
        /// Its decimal separator.
        decimal: char,
    },
    /// A thousands separator after the decimal separator.
    #[error(
        "{group:?} comes after the decimal separator {decimal:?}; in {locale} {group:?} groups thousands and may only come before {decimal:?}"
    )]
    GroupAfterDecimal {
        /// The locale read in.
        locale: NumberLocale,
        /// Its thousands separator.
        group: char,
        /// Its decimal separator.
        decimal: char,
    },
    /// A first group of no or more than three digits.
    #[error(
        "the first group before {group:?} has {digits} digits; in {locale} the first group has 1 to 3 digits and every later group exactly 3"
    )]
    FirstGroup {
        /// The locale read in.
        locale: NumberLocale,
        /// Its thousands separator.
        group: char,
        /// How many digits the first group has.
        digits: usize,
    },
    /// A grouped number that starts with zero.
    #[error(
        "a number with thousands separators cannot start with 0 — if {group:?} is the decimal separator, declare the number locale {}",
        .locale.other_reading()
    )]
    LeadingZeroGroup {
        /// The locale read in.
        locale: NumberLocale,
        /// Its thousands separator.
        group: char,
    },
    /// A later group of other than three digits.
    #[error(
        "{group:?} groups thousands in {locale}; a group must have 3 digits, but {digits:?} has {} — if {group:?} is the decimal separator, declare the number locale {}",
        .digits.len(),
        .locale.other_reading()
    )]
    GroupSize {
        /// The locale read in.
        locale: NumberLocale,
        /// Its thousands separator.
        group: char,
        /// The offending group.
        digits: String,
    },
    /// Nothing before the decimal separator.
    #[error("there are no digits before {decimal:?}; write a leading 0 (0{decimal}5)")]
    MissingIntegerDigits {
        /// The decimal separator.
        decimal: char,
    },
    /// Nothing after the decimal separator.
    #[error("there are no digits after {decimal:?}; add the decimals or drop the {decimal:?}")]
    MissingFractionDigits {
        /// The decimal separator.
        decimal: char,
    },
    /// More significant digits than a decimal holds exactly.
    #[error("it has {digits} significant digits; at most 28 can be stored exactly")]
    TooManyDigits {
        /// How many significant digits it has.
        digits: usize,
    },
    /// More decimal places than a decimal holds.
    #[error("it has {places} decimal places; at most 28 can be stored")]
    TooManyDecimals {
        /// How many decimal places it has (trailing zeros not counted).
        places: usize,
    },
}

/// A count as a person reads it at a glance in a message: `10485760` as `10,485,760`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_written_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(786_432), "786,432");
        assert_eq!(thousands(10_485_760), "10,485,760");
    }
    use crate::fixtures::dec;
    use NumberLocale::{En, Plain, Vi};

    fn kind(text: &str, locale: NumberLocale) -> NumberErrorKind {
        let error = parse_number(text, locale).unwrap_err();
        assert_eq!(error.text, text);
        assert_eq!(error.locale, locale);
        error.kind
    }

    #[test]
    fn locale_words() {
        assert_eq!("plain".parse(), Ok(Plain));
        assert_eq!("en".parse(), Ok(En));
        assert_eq!("vi".parse(), Ok(Vi));
        assert_eq!("VI".parse(), Ok(Vi));
        assert_eq!(NumberLocale::default(), Plain);
        assert!("fr".parse::<NumberLocale>().is_err());
    }

    #[test]
    fn reads_numbers_in_every_locale() {
        let cases = [
            ("1229935", Plain, "1229935"),
            ("94.56", Plain, "94.56"),
            ("0.5", Plain, "0.5"),
            ("007", Plain, "7"),
            ("1,229,935", En, "1229935"),
            ("1229935", En, "1229935"),
            ("94.56", En, "94.56"),
            ("1,229,935.50", En, "1229935.5"),
            ("1,229", En, "1229"),
            ("1.229", En, "1.229"),
            ("999", En, "999"),
            ("1.229.935", Vi, "1229935"),
            ("1229935", Vi, "1229935"),
            ("94,56", Vi, "94.56"),
            ("1.229.935,5", Vi, "1229935.5"),
            ("1.229", Vi, "1229"),
            ("0,5", Vi, "0.5"),
        ];
        for (text, locale, expected) in cases {
            assert_eq!(
                parse_number(text, locale),
                Ok(dec(expected)),
                "{text} {locale}"
            );
        }
    }

    #[test]
    fn results_are_normalized() {
        let value = parse_number("94.560", Plain).unwrap();
        assert_eq!(value.to_string(), "94.56");
        assert_eq!(parse_number("3.000", Plain).unwrap().to_string(), "3");
    }

    #[test]
    fn negative_numbers_are_read() {
        assert_eq!(parse_number("-39252", Plain), Ok(dec("-39252")));
        assert_eq!(parse_number("-39,252", En), Ok(dec("-39252")));
        assert_eq!(parse_number("-4,56", Vi), Ok(dec("-4.56")));
        assert_eq!(parse_number("-0", Plain), Ok(Decimal::ZERO));
    }

    #[test]
    fn surrounding_ascii_whitespace_is_ignored() {
        assert_eq!(parse_number(" \t94.56\n", Plain), Ok(dec("94.56")));
        assert_eq!(kind("\u{a0}94.56", Plain), NumberErrorKind::Space);
    }

    #[test]
    fn plain_refuses_thousands_separators() {
        assert_eq!(kind("1,229,935", Plain), NumberErrorKind::PlainComma);
        assert_eq!(kind("94,56", Plain), NumberErrorKind::PlainComma);
        assert_eq!(kind("1.229.935", Plain), NumberErrorKind::PlainManyPoints);
        let message = parse_number("1,229,935", Plain).unwrap_err().to_string();
        assert_eq!(
            message,
            "number \"1,229,935\" in locale plain: contains ','; plain numbers have no thousands separator and use '.' for decimals — declare the number locale en or vi"
        );
    }

    #[test]
    fn groups_must_have_three_digits() {
        let cases = [
            ("1.22", Vi, '.', "22"),
            ("1,22", En, ',', "22"),
            ("1,2345", En, ',', "2345"),
            ("12,34,567", En, ',', "34"),
            ("1.229.93", Vi, '.', "93"),
            ("1,,229", En, ',', ""),
        ];
        for (text, locale, group, digits) in cases {
            assert_eq!(
                kind(text, locale),
                NumberErrorKind::GroupSize {
                    locale,
                    group,
                    digits: digits.to_owned()
                },
                "{text} {locale}"
            );
        }
        let message = parse_number("1.22", Vi).unwrap_err().to_string();
        assert!(
            message.contains("'.' groups thousands in vi; a group must have 3 digits"),
            "{message}"
        );
        assert!(
            message.contains("declare the number locale en or plain"),
            "{message}"
        );
    }

    #[test]
    fn the_first_group_has_one_to_three_digits() {
        assert_eq!(
            kind("1229,935", En),
            NumberErrorKind::FirstGroup {
                locale: En,
                group: ',',
                digits: 4
            }
        );
        assert_eq!(
            kind(",229", En),
            NumberErrorKind::FirstGroup {
                locale: En,
                group: ',',
                digits: 0
            }
        );
        assert_eq!(
            kind(".229", Vi),
            NumberErrorKind::FirstGroup {
                locale: Vi,
                group: '.',
                digits: 0
            }
        );
    }

    #[test]
    fn a_grouped_number_cannot_start_with_zero() {
        assert_eq!(
            kind("0,123", En),
            NumberErrorKind::LeadingZeroGroup {
                locale: En,
                group: ','
            }
        );
        assert_eq!(
            kind("0.123", Vi),
            NumberErrorKind::LeadingZeroGroup {
                locale: Vi,
                group: '.'
            }
        );
        assert_eq!(parse_number("0.123", En), Ok(dec("0.123")));
        assert_eq!(parse_number("0,123", Vi), Ok(dec("0.123")));
    }

    #[test]
    fn mixed_separators_in_the_wrong_order_are_refused() {
        assert_eq!(
            kind("1.229,935", En),
            NumberErrorKind::GroupAfterDecimal {
                locale: En,
                group: ',',
                decimal: '.'
            }
        );
        assert_eq!(
            kind("1,229.935", Vi),
            NumberErrorKind::GroupAfterDecimal {
                locale: Vi,
                group: '.',
                decimal: ','
            }
        );
    }

    #[test]
    fn only_one_decimal_separator() {
        assert_eq!(
            kind("1.229.935", En),
            NumberErrorKind::ManyDecimalSeparators {
                locale: En,
                decimal: '.'
            }
        );
        assert_eq!(
            kind("1,229,935", Vi),
            NumberErrorKind::ManyDecimalSeparators {
                locale: Vi,
                decimal: ','
            }
        );
        let message = parse_number("1.229.935", En).unwrap_err().to_string();
        assert!(
            message.ends_with("declare the number locale vi"),
            "{message}"
        );
    }

    #[test]
    fn digits_are_needed_on_both_sides_of_the_decimal_separator() {
        assert_eq!(
            kind(".5", Plain),
            NumberErrorKind::MissingIntegerDigits { decimal: '.' }
        );
        assert_eq!(
            kind(".5", En),
            NumberErrorKind::MissingIntegerDigits { decimal: '.' }
        );
        assert_eq!(
            kind(",5", Vi),
            NumberErrorKind::MissingIntegerDigits { decimal: ',' }
        );
        assert_eq!(
            kind("5.", Plain),
            NumberErrorKind::MissingFractionDigits { decimal: '.' }
        );
        assert_eq!(
            kind("1,229.", En),
            NumberErrorKind::MissingFractionDigits { decimal: '.' }
        );
        assert_eq!(
            kind("5,", Vi),
            NumberErrorKind::MissingFractionDigits { decimal: ',' }
        );
    }

    #[test]
    fn exponents_signs_percent_and_words_are_refused() {
        for locale in NumberLocale::ALL {
            assert_eq!(kind("1e5", locale), NumberErrorKind::Exponent);
            assert_eq!(kind("1.5E6", locale), NumberErrorKind::Exponent);
            assert_eq!(kind("94%", locale), NumberErrorKind::Percent);
            assert_eq!(kind("+5", locale), NumberErrorKind::PlusSign);
            assert_eq!(kind("5-", locale), NumberErrorKind::MisplacedMinus);
            assert_eq!(kind("--5", locale), NumberErrorKind::MisplacedMinus);
            assert_eq!(kind("1 229 935", locale), NumberErrorKind::Space);
            assert_eq!(kind("3818 billion", locale), NumberErrorKind::Space);
            assert_eq!(kind("VND3818", locale), NumberErrorKind::Character('V'));
            assert_eq!(kind("3818₫", locale), NumberErrorKind::Character('₫'));
            assert_eq!(kind("１２", locale), NumberErrorKind::Character('１'));
        }
    }

    #[test]
    fn empty_text_and_lone_signs_are_refused() {
        for locale in NumberLocale::ALL {
            assert_eq!(kind("", locale), NumberErrorKind::Empty);
            assert_eq!(kind("  ", locale), NumberErrorKind::Empty);
            assert_eq!(kind("-", locale), NumberErrorKind::NoDigits);
            assert_eq!(kind(".", locale), NumberErrorKind::NoDigits);
            assert_eq!(kind(",", locale), NumberErrorKind::NoDigits);
        }
    }

    #[test]
    fn at_most_twenty_eight_significant_digits() {
        let twenty_eight = "1234567890123456789012345678";
        assert_eq!(parse_number(twenty_eight, Plain), Ok(dec(twenty_eight)));
        assert_eq!(
            parse_number(&format!("000{twenty_eight}"), Plain),
            Ok(dec(twenty_eight))
        );
        assert_eq!(
            kind(&format!("{twenty_eight}9"), Plain),
            NumberErrorKind::TooManyDigits { digits: 29 }
        );
        assert_eq!(
            kind("1234567890123456789.0123456789", Plain),
            NumberErrorKind::TooManyDigits { digits: 29 }
        );
        // Trailing zeros after the point change nothing, so they do not count.
        assert_eq!(
            parse_number("1.50000000000000000000000000000000", Plain),
            Ok(dec("1.5"))
        );
        assert_eq!(
            kind("0.00000000000000000000000000001", Plain),
            NumberErrorKind::TooManyDecimals { places: 29 }
        );
        assert_eq!(
            parse_number("0.0000000000000000000000000001", Plain),
            Ok(dec("0.0000000000000000000000000001"))
        );
    }
}
