//! Short constructors for tests, in the data contract's own text: `dec("94.56")`,
//! `exact("1229935")`, `period("2025-01/2025-05")`, `date("2025-07-01")`, and an indicator of
//! the catalog from its code, unit, kind and parts. Each panics on text the model refuses,
//! which in a test is a mistake of the test. Compiled for the model's own tests and, through
//! the `fixtures` feature, for the tests of the crates above it.

use rust_decimal::Decimal;

use crate::{
    Indicator, IndicatorCode, IndicatorKind, NaiveDate, Period, Qualifier, Quantity, Unit,
};

/// A decimal from its text.
pub fn dec(text: &str) -> Decimal {
    text.parse()
        .unwrap_or_else(|error| panic!("{text:?} is not a decimal: {error}"))
}

/// An exact quantity from its text.
pub fn exact(text: &str) -> Quantity {
    Quantity::exact(dec(text))
}

/// A quantity with `qualifier` from its text.
pub fn quantity(text: &str, qualifier: Qualifier) -> Quantity {
    Quantity::new(dec(text), qualifier)
}

/// A period in any of the contract's forms.
pub fn period(text: &str) -> Period {
    Period::parse(text).unwrap_or_else(|error| panic!("{text:?} is not a period: {error}"))
}

/// An ISO date.
pub fn date(text: &str) -> NaiveDate {
    text.parse()
        .unwrap_or_else(|error| panic!("{text:?} is not a date: {error}"))
}

/// An indicator named after its code, with `parts` (numerator, denominator) for a ratio.
pub fn indicator(
    code: &str,
    unit: Unit,
    kind: IndicatorKind,
    parts: Option<(&str, &str)>,
) -> Indicator {
    let code_of = |text: &str| {
        IndicatorCode::parse(text)
            .unwrap_or_else(|error| panic!("{text:?} is not an indicator code: {error}"))
    };
    Indicator::new(
        code_of(code),
        code.replace('_', " "),
        None,
        unit,
        kind,
        parts.map(|(numerator, _)| code_of(numerator)),
        parts.map(|(_, denominator)| code_of(denominator)),
        None,
    )
    .unwrap_or_else(|error| panic!("{code} is not a valid indicator: {error}"))
}
