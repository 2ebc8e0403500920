//! Exact decimals between MySQL `DECIMAL` and [`rust_decimal::Decimal`].
//!
//! diesel reads `Numeric` only into `bigdecimal` (a feature this workspace does not enable),
//! and neither diesel nor rust_decimal is ours, so [`SqlDecimal`] is the newtype that carries
//! the impls. Both directions go through decimal text, the form MySQL itself uses on the wire
//! for `DECIMAL`: no binary floating point is involved anywhere, and a value that would lose
//! digits is an error rather than a rounding. Model structs keep plain `Decimal` fields and
//! name this type in `#[diesel(deserialize_as = SqlDecimal)]` / `serialize_as`.

use std::io::Write as _;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::mysql::{Mysql, MysqlType, MysqlValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Numeric, Unsigned};
use rust_decimal::Decimal;

/// Digits after the point in every `DECIMAL` column of the schema (`DECIMAL(24,6)`).
pub const DECIMAL_SCALE: u32 = 6;

/// Total digits of every `DECIMAL` column of the schema.
pub const DECIMAL_PRECISION: u32 = 24;

/// The largest magnitude a `DECIMAL(24,6)` column holds: 999999999999999999.999999.
pub fn decimal_column_max() -> Decimal {
    Decimal::from_i128_with_scale(10_i128.pow(DECIMAL_PRECISION) - 1, DECIMAL_SCALE)
}

/// A [`Decimal`] as a SQL `Numeric` (MySQL `DECIMAL`).
///
/// Reading normalizes the scale (`94.560000` from a `DECIMAL(24,6)` column reads as `94.56`),
/// which changes no value: `Decimal` equality ignores trailing zeros. Writing refuses values
/// the schema's `DECIMAL(24,6)` columns cannot hold exactly, because MySQL would round the
/// extra decimals silently (with only a note), even in strict mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Numeric)]
pub struct SqlDecimal(pub Decimal);

impl From<Decimal> for SqlDecimal {
    fn from(value: Decimal) -> Self {
        Self(value)
    }
}

impl From<SqlDecimal> for Decimal {
    fn from(value: SqlDecimal) -> Self {
        value.0
    }
}

impl ToSql<Numeric, Mysql> for SqlDecimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Mysql>) -> serialize::Result {
        let value = self.0.normalize();
        if value.scale() > DECIMAL_SCALE {
            return Err(format!(
                "{value} has {} decimal places; the database stores {DECIMAL_SCALE} and would \
                 round it",
                value.scale()
            )
            .into());
        }
        if value.abs() > decimal_column_max() {
            return Err(format!(
                "{value} is too large for the database (at most {} in magnitude)",
                decimal_column_max()
            )
            .into());
        }
        // Decimal's Display never uses exponent notation, which MySQL would parse as a float.
        write!(out, "{value}")?;
        Ok(IsNull::No)
    }
}

impl FromSql<Numeric, Mysql> for SqlDecimal {
    fn from_sql(value: MysqlValue<'_>) -> deserialize::Result<Self> {
        match value.value_type() {
            // DECIMAL arrives as its text, e.g. b"94.560000".
            MysqlType::Numeric | MysqlType::String => {
                let text = std::str::from_utf8(value.as_bytes())?;
                // from_str_exact fails instead of rounding when the text has more significant
                // digits than a Decimal holds (28), e.g. a SUM over a DECIMAL(65,30).
                let decimal = Decimal::from_str_exact(text)
                    .map_err(|e| format!("cannot read DECIMAL {text:?} exactly: {e}"))?;
                Ok(Self(decimal.normalize()))
            }
            MysqlType::Float | MysqlType::Double => Err(
                "refusing to read a binary floating-point value as an exact decimal; \
                 CAST it to DECIMAL in the query"
                    .into(),
            ),
            // Integer expressions (COUNT, integer columns) have no fraction to lose.
            MysqlType::UnsignedLongLong => {
                let n = <u64 as FromSql<Unsigned<BigInt>, Mysql>>::from_sql(value)?;
                Ok(Self(Decimal::from(n)))
            }
            _ => {
                let n = <i64 as FromSql<BigInt, Mysql>>::from_sql(value)?;
                Ok(Self(Decimal::from(n)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_max_has_eighteen_integer_and_six_fraction_digits() {
        assert_eq!(
            decimal_column_max().to_string(),
            "999999999999999999.999999"
        );
    }
}
