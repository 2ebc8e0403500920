//! Values: exact decimal figures together with the qualifier that says how the source stated
//! them ("more than 3,818 billion VND", "nearly 95%"). This module owns the qualifier algebra
//! — what qualifier a sum, difference or quotient of qualified figures carries — the
//! normalized text form of a decimal, and the errors a value can have for its unit.

use rust_decimal::Decimal;

use crate::keyword::keyword_enum;
use crate::unit::ValueError;

keyword_enum! {
    /// How the source stated a figure. Blank text reads as `Exact`, as does `Default`.
    #[derive(Default)]
    pub enum Qualifier("qualifier", empty = Exact) {
        /// Stated as the figure itself.
        #[default]
        Exact = "exact",
        /// "More than", "over": the true figure is above the stated one.
        MoreThan = "more_than",
        /// "Less than", "under": the true figure is below the stated one.
        LessThan = "less_than",
        /// "Nearly", "almost": the true figure is just below the stated one.
        Nearly = "nearly",
        /// "About", "approximately": the true figure is near the stated one, either side.
        About = "about",
    }
}

impl Qualifier {
    /// The number stored in the database: 0 `exact`, 1 `more_than`, 2 `less_than`,
    /// 3 `nearly`, 4 `about`. Stable; never renumber.
    pub const fn code(self) -> u8 {
        match self {
            Self::Exact => 0,
            Self::MoreThan => 1,
            Self::LessThan => 2,
            Self::Nearly => 3,
            Self::About => 4,
        }
    }

    /// The qualifier stored as `code`, if any.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Exact),
            1 => Some(Self::MoreThan),
            2 => Some(Self::LessThan),
            3 => Some(Self::Nearly),
            4 => Some(Self::About),
            _ => None,
        }
    }

    /// The qualifier of a figure when it is subtracted or divided by: its direction turns
    /// round. The true value of a "nearly" figure is below the stated one, so subtracting it
    /// leaves more: its inverse is `MoreThan` (the closeness has no qualifier to go to, the
    /// direction does).
    pub const fn inverse(self) -> Self {
        match self {
            Self::MoreThan => Self::LessThan,
            Self::LessThan | Self::Nearly => Self::MoreThan,
            Self::Exact | Self::About => self,
        }
    }

    /// The qualifier of `a + b`: exact is neutral, equal qualifiers stay, `About` absorbs
    /// everything, and two different non-exact qualifiers give `About` (the data contract's
    /// rule; even `less_than` + `nearly` keeps no claim worth more than "about").
    pub const fn sum(a: Self, b: Self) -> Self {
        match (a, b) {
            (Self::About, _) | (_, Self::About) => Self::About,
            (Self::Exact, other) | (other, Self::Exact) => other,
            (Self::MoreThan, Self::MoreThan) => Self::MoreThan,
            (Self::LessThan, Self::LessThan) => Self::LessThan,
            (Self::Nearly, Self::Nearly) => Self::Nearly,
            _ => Self::About,
        }
    }

    /// The qualifier of a sum of many figures; `Exact` for none.
    pub fn sum_all(qualifiers: impl IntoIterator<Item = Self>) -> Self {
        qualifiers.into_iter().fold(Self::Exact, Self::sum)
    }

    /// The qualifier of `a - b`: `b`'s direction inverts (`exact - more_than` is `less_than`),
    /// then the sum rule applies.
    pub const fn difference(a: Self, b: Self) -> Self {
        Self::sum(a, b.inverse())
    }

    /// The qualifier of `numerator / denominator` for non-negative figures: a larger
    /// denominator makes a smaller quotient, so the denominator's direction inverts as in
    /// [`Qualifier::difference`].
    pub const fn quotient(numerator: Self, denominator: Self) -> Self {
        Self::sum(numerator, denominator.inverse())
    }
}

/// A figure as the source stated it: an exact decimal and its qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Quantity {
    /// The stated figure.
    pub value: Decimal,
    /// How it was stated.
    pub qualifier: Qualifier,
}

impl Quantity {
    /// A figure with a qualifier.
    pub const fn new(value: Decimal, qualifier: Qualifier) -> Self {
        Self { value, qualifier }
    }

    /// A figure stated exactly.
    pub const fn exact(value: Decimal) -> Self {
        Self::new(value, Qualifier::Exact)
    }

    /// The total of `quantities`, qualified by [`Qualifier::sum_all`]; `None` when there are
    /// none, and also when the total is too large for a decimal (see
    /// [`Quantity::checked_sum`] to tell the two apart).
    pub fn sum(quantities: impl IntoIterator<Item = Quantity>) -> Option<Quantity> {
        Self::checked_sum(quantities).ok().flatten()
    }

    /// The total of `quantities`: `Ok(None)` when there are none, an error when the total is
    /// too large for a decimal.
    pub fn checked_sum(
        quantities: impl IntoIterator<Item = Quantity>,
    ) -> Result<Option<Quantity>, ValueError> {
        let mut quantities = quantities.into_iter();
        let Some(first) = quantities.next() else {
            return Ok(None);
        };
        quantities
            .try_fold(first, |total, next| {
                let value = total.value.checked_add(next.value)?;
                Some(Self::new(
                    value,
                    Qualifier::sum(total.qualifier, next.qualifier),
                ))
            })
            .map(Some)
            .ok_or(ValueError::SumOverflow)
    }
}

/// The normalized text of a decimal: no trailing zeros after the point, no point for whole
/// numbers, no exponent, no negative zero — "94.56", "3818000000000", "0".
///
/// Written from the mantissa's digits directly: the answers of the server format thousands of
/// values a second, and `normalize` followed by `Display` costs several times as much.
pub fn format_decimal(value: Decimal) -> String {
    let mut mantissa = value.mantissa().unsigned_abs();
    if mantissa == 0 {
        return "0".to_owned();
    }
    // At most 29 digits (96 bits); 128-bit division only while the rest does not fit 64 bits.
    let mut digits = [0_u8; 32];
    let mut start = digits.len();
    while mantissa > u128::from(u64::MAX) {
        start -= 1;
        digits[start] = b'0' + (mantissa % 10) as u8;
        mantissa /= 10;
    }
    let mut rest = mantissa as u64;
    while rest > 0 {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    // Trailing zeros after the point go (the normalized form).
    let mut scale = value.scale() as usize;
    let mut end = digits.len();
    while scale > 0 && digits[end - 1] == b'0' {
        end -= 1;
        scale -= 1;
    }
    let digits = &digits[start..end];
    let mut text = String::with_capacity(digits.len() + scale + 3);
    if value.is_sign_negative() {
        text.push('-');
    }
    let push = |text: &mut String, bytes: &[u8]| {
        text.extend(bytes.iter().map(|&b| char::from(b)));
    };
    if digits.len() > scale {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        push(&mut text, whole);
        if !fraction.is_empty() {
            text.push('.');
            push(&mut text, fraction);
        }
    } else {
        text.push_str("0.");
        text.extend(std::iter::repeat_n('0', scale - digits.len()));
        push(&mut text, digits);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::dec;
    use Qualifier::{About as A, Exact as E, LessThan as L, MoreThan as M, Nearly as N};

    #[test]
    fn qualifier_words() {
        assert_eq!(
            Qualifier::NAMES,
            ["exact", "more_than", "less_than", "nearly", "about"]
        );
        for qualifier in Qualifier::ALL {
            assert_eq!(qualifier.as_str().parse(), Ok(qualifier));
            assert_eq!(qualifier.to_string(), qualifier.as_str());
        }
    }

    #[test]
    fn qualifier_reading_is_case_insensitive_and_blank_is_exact() {
        assert_eq!("MORE_THAN".parse(), Ok(M));
        assert_eq!("Nearly".parse(), Ok(N));
        assert_eq!("".parse(), Ok(E));
        assert_eq!(" ".parse(), Ok(E));
        assert_eq!(Qualifier::default(), E);
        let error = "over".parse::<Qualifier>().unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"unknown qualifier "over"; use one of: exact, more_than, less_than, nearly, about"#
        );
    }

    #[test]
    fn qualifier_codes_are_stable_and_round_trip() {
        assert_eq!(Qualifier::ALL.map(Qualifier::code), [0, 1, 2, 3, 4]);
        for qualifier in Qualifier::ALL {
            assert_eq!(Qualifier::from_code(qualifier.code()), Some(qualifier));
        }
        assert_eq!(Qualifier::from_code(5), None);
        assert_eq!(Qualifier::from_code(u8::MAX), None);
    }

    /// Rows are the left operand, columns the right, both in the order E M L N A.
    fn check_table(operation: fn(Qualifier, Qualifier) -> Qualifier, table: [[Qualifier; 5]; 5]) {
        for (left, row) in Qualifier::ALL.into_iter().zip(table) {
            for (right, expected) in Qualifier::ALL.into_iter().zip(row) {
                assert_eq!(operation(left, right), expected, "{left} with {right}");
            }
        }
    }

    #[test]
    fn sum_of_every_qualifier_pair() {
        check_table(
            Qualifier::sum,
            [
                //   E  M  L  N  A
                [E, M, L, N, A], // E
                [M, M, A, A, A], // M
                [L, A, L, A, A], // L
                [N, A, A, N, A], // N
                [A, A, A, A, A], // A
            ],
        );
    }

    #[test]
    fn sum_is_commutative() {
        for a in Qualifier::ALL {
            for b in Qualifier::ALL {
                assert_eq!(Qualifier::sum(a, b), Qualifier::sum(b, a));
            }
        }
    }

    #[test]
    fn sum_all_folds_with_exact_as_identity() {
        assert_eq!(Qualifier::sum_all([]), E);
        assert_eq!(Qualifier::sum_all([M]), M);
        assert_eq!(Qualifier::sum_all([E, M, M, E]), M);
        assert_eq!(Qualifier::sum_all([M, E, L]), A);
        assert_eq!(Qualifier::sum_all([N, N, A]), A);
    }

    #[test]
    fn difference_of_every_qualifier_pair() {
        check_table(
            Qualifier::difference,
            [
                //   E  M  L  N  A
                [E, L, M, M, A], // E
                [M, A, M, M, A], // M
                [L, L, A, A, A], // L
                [N, A, A, A, A], // N
                [A, A, A, A, A], // A
            ],
        );
    }

    #[test]
    fn quotient_of_every_qualifier_pair() {
        check_table(
            Qualifier::quotient,
            [
                //   E  M  L  N  A
                [E, L, M, M, A], // E
                [M, A, M, M, A], // M
                [L, L, A, A, A], // L
                [N, A, A, A, A], // N
                [A, A, A, A, A], // A
            ],
        );
    }

    #[test]
    fn inverse_turns_direction_round() {
        assert_eq!(Qualifier::ALL.map(Qualifier::inverse), [E, L, M, M, A]);
    }

    #[test]
    fn quantity_sum_adds_values_and_qualifiers() {
        let total = Quantity::sum([
            Quantity::new(dec("333000000000"), M),
            Quantity::new(dec("2461000000000"), M),
            Quantity::exact(dec("148000000000")),
        ]);
        assert_eq!(total, Some(Quantity::new(dec("2942000000000"), M)));

        let mixed = Quantity::sum([Quantity::new(dec("1.5"), M), Quantity::new(dec("2"), L)]);
        assert_eq!(mixed, Some(Quantity::new(dec("3.5"), A)));
        assert_eq!(
            Quantity::sum([Quantity::exact(dec("7"))]),
            Some(Quantity::exact(dec("7")))
        );
    }

    #[test]
    fn quantity_sum_of_nothing_is_none() {
        assert_eq!(Quantity::sum([]), None);
        assert_eq!(Quantity::checked_sum([]), Ok(None));
    }

    #[test]
    fn quantity_sum_overflow_is_reported() {
        let max = Quantity::exact(Decimal::MAX);
        assert_eq!(
            Quantity::checked_sum([max, max]),
            Err(ValueError::SumOverflow)
        );
        assert_eq!(Quantity::sum([max, max]), None);
    }

    #[test]
    fn format_decimal_writes_what_normalize_and_display_write() {
        // A fixed spread of mantissas (xorshift) at every scale, both signs.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..20_000_u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let bits = (u128::from(state) << 32 | u128::from(state >> 7)) >> (i % 90);
            let mantissa = (bits & ((1 << 96) - 1)) as i128;
            let mantissa = if i % 2 == 0 { mantissa } else { -mantissa };
            let value = Decimal::from_i128_with_scale(mantissa, i % 29);
            assert_eq!(
                format_decimal(value),
                value.normalize().to_string(),
                "{mantissa} scale {}",
                i % 29
            );
        }
    }

    #[test]
    fn format_decimal_is_normalized() {
        let cases = [
            ("94.56", "94.56"),
            ("94.560000", "94.56"),
            ("3818000000000", "3818000000000"),
            ("3818000000000.000", "3818000000000"),
            ("0", "0"),
            ("0.000", "0"),
            ("-0", "0"),
            ("-0.00", "0"),
            ("-12.50", "-12.5"),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
        ];
        for (value, text) in cases {
            assert_eq!(format_decimal(dec(value)), text, "{value}");
        }
        assert_eq!(
            format_decimal(Decimal::from_i128_with_scale(381_800, 2)),
            "3818"
        );
    }
}
