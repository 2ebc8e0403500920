//! The indicator catalog.

use std::str::FromStr;

use ansinh_model::{Indicator, IndicatorCode, IndicatorKind, Unit};
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::StoreError;
use crate::models::IndicatorRow;
use crate::schema::indicators;

diesel::alias!(
    indicators as numerators: NumeratorsAlias,
    indicators as denominators: DenominatorsAlias
);

/// A stored catalog entry: its id and the domain value (with its ratio parts as codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorRecord {
    pub id: u32,
    pub indicator: Indicator,
}

type RowWithParts = (IndicatorRow, Option<String>, Option<String>);

#[diesel::dsl::auto_type]
fn with_part_codes() -> _ {
    indicators::table
        .left_join(
            numerators.on(indicators::numerator_id.eq(numerators.field(indicators::id).nullable())),
        )
        .left_join(
            denominators
                .on(indicators::denominator_id.eq(denominators.field(indicators::id).nullable())),
        )
}

/// The entry with this code, if any.
pub async fn indicator_by_code(
    conn: &mut AsyncMysqlConnection,
    code: &IndicatorCode,
) -> Result<Option<IndicatorRecord>, StoreError> {
    with_part_codes()
        .filter(indicators::code.eq(code.as_str()))
        .select((
            IndicatorRow::as_select(),
            numerators.field(indicators::code).nullable(),
            denominators.field(indicators::code).nullable(),
        ))
        .first::<RowWithParts>(conn)
        .await
        .optional()?
        .map(to_record)
        .transpose()
}

/// The whole catalog, ordered by code.
pub async fn list_indicators(
    conn: &mut AsyncMysqlConnection,
) -> Result<Vec<IndicatorRecord>, StoreError> {
    with_part_codes()
        .order(indicators::code.asc())
        .select((
            IndicatorRow::as_select(),
            numerators.field(indicators::code).nullable(),
            denominators.field(indicators::code).nullable(),
        ))
        .load::<RowWithParts>(conn)
        .await?
        .into_iter()
        .map(to_record)
        .collect()
}

/// Rebuilds the domain value from a stored row (see `regions::to_record` for why the input
/// rules are not re-applied).
fn to_record((row, numerator, denominator): RowWithParts) -> Result<IndicatorRecord, StoreError> {
    let corrupt = |what: String| {
        StoreError::Corrupt(format!("indicator {} (id {}): {what}", row.code, row.id))
    };
    let code = IndicatorCode::parse(&row.code).map_err(|e| corrupt(e.to_string()))?;
    let unit = Unit::from_str(&row.unit).map_err(|e| corrupt(e.to_string()))?;
    let kind = IndicatorKind::from_str(&row.kind).map_err(|e| corrupt(e.to_string()))?;
    let part = |code: Option<String>| {
        code.as_deref()
            .map(IndicatorCode::parse)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))
    };
    let numerator = part(numerator)?;
    let denominator = part(denominator)?;
    Ok(IndicatorRecord {
        id: row.id,
        indicator: Indicator {
            code,
            name: row.name,
            name_vi: row.name_vi,
            unit,
            kind,
            numerator,
            denominator,
            description: row.description,
        },
    })
}
