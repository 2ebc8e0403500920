//! Reading plan figures (targets), keyed like observations, with the source that assigned
//! them ("Decision No. 148/QD-UBND dated 2024-01-26").

use ansinh_model::{Decimal, NaiveDate, Period};
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::StoreError;
use crate::decimal::SqlDecimal;
use crate::queries::observations::EndWindow;
use crate::schema::{sources, targets};

/// A stored target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRecord {
    pub region_id: u32,
    pub indicator_id: u32,
    /// The period as stored (the importer stores it like an observation of the indicator).
    pub period: Period,
    pub target: Decimal,
    pub source: Option<String>,
}

type TargetRow = (u32, u32, NaiveDate, NaiveDate, SqlDecimal, Option<String>);

/// The targets of `region_ids` for `indicator_ids` (every indicator when `None`) with period
/// ends within `ends`, ordered by region, indicator, period end and start.
pub async fn targets(
    conn: &mut AsyncMysqlConnection,
    region_ids: &[u32],
    indicator_ids: Option<&[u32]>,
    ends: EndWindow,
) -> Result<Vec<TargetRecord>, StoreError> {
    if region_ids.is_empty() || indicator_ids.is_some_and(<[u32]>::is_empty) {
        return Ok(Vec::new());
    }
    let mut query = targets::table
        .left_join(sources::table.on(sources::id.nullable().eq(targets::source_id)))
        .filter(targets::region_id.eq_any(region_ids))
        .select((
            targets::region_id,
            targets::indicator_id,
            targets::period_start,
            targets::period_end,
            targets::target,
            sources::name.nullable(),
        ))
        .into_boxed();
    if let Some(ids) = indicator_ids {
        query = query.filter(targets::indicator_id.eq_any(ids));
    }
    if let Some(from) = ends.from {
        query = query.filter(targets::period_end.ge(from));
    }
    if let Some(to) = ends.to {
        query = query.filter(targets::period_end.le(to));
    }
    query
        .order((
            targets::region_id.asc(),
            targets::indicator_id.asc(),
            targets::period_end.asc(),
            targets::period_start.asc(),
        ))
        .load::<TargetRow>(conn)
        .await?
        .into_iter()
        .map(|(region_id, indicator_id, start, end, target, source)| {
            let period = Period::from_bounds(start, end).map_err(|e| {
                StoreError::Corrupt(format!(
                    "target of region id {region_id} indicator id {indicator_id} ending {end}: {e}"
                ))
            })?;
            Ok(TargetRecord {
                region_id,
                indicator_id,
                period,
                target: target.0,
                source,
            })
        })
        .collect()
}
