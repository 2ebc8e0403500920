//! Reading the figures: observations listed with everything a client is shown (region version,
//! indicator, unit, source) in primary-key order with keyset paging, and bare figures
//! (region, indicator, period, qualified value) for the computations of the server.
//!
//! Both read `observations` in the order of its primary key (region, indicator, period end,
//! period start), so a page or a series is read by range scans of the clustered index (the
//! table has no other index) and the order is stable while imports add rows elsewhere.

use std::str::FromStr;

use ansinh_model::{IndicatorCode, NaiveDate, Period, Qualifier, Quantity, Unit};
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::StoreError;
use crate::decimal::SqlDecimal;
use crate::models::{ObservationRow, RegionRow};
use crate::queries::regions::{RegionRecord, parent_code, parent_join, to_record};
use crate::schema::{indicators, observations, regions, sources};

/// An inclusive window of period end dates; `None` bounds are open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EndWindow {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl EndWindow {
    /// Periods ending exactly on `date`.
    pub fn on(date: NaiveDate) -> Self {
        Self {
            from: Some(date),
            to: Some(date),
        }
    }

    /// Periods ending on or before `date`.
    pub fn until(date: NaiveDate) -> Self {
        Self {
            from: None,
            to: Some(date),
        }
    }
}

/// Which observations [`list_observations`] returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservationFilter {
    /// Only these region versions.
    pub region_ids: Option<Vec<u32>>,
    /// Only these indicators.
    pub indicator_ids: Option<Vec<u32>>,
    /// Only periods ending within this window.
    pub period_end: EndWindow,
}

/// One stored figure with what a client is shown about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationRecord {
    /// The region version the figure is for.
    pub region: RegionRecord,
    pub indicator_id: u32,
    pub indicator_code: IndicatorCode,
    /// The unit the value is stored in (the indicator's).
    pub unit: Unit,
    /// The period as stored (an instant for a stock).
    pub period: Period,
    pub value: Quantity,
    pub source: Option<String>,
    pub note: Option<String>,
    pub import_run_id: u64,
}

/// Where a page of [`list_observations`] ends: the primary key of its last row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObservationCursor {
    pub region_id: u32,
    pub indicator_id: u32,
    pub period_end: NaiveDate,
    pub period_start: NaiveDate,
}

impl ObservationCursor {
    /// The cursor after `record`.
    pub fn after(record: &ObservationRecord) -> Self {
        Self {
            region_id: record.region.id,
            indicator_id: record.indicator_id,
            period_end: record.period.end(),
            period_start: record.period.start(),
        }
    }
}

type ListedRow = (
    ObservationRow,
    RegionRow,
    Option<String>,
    String,
    String,
    Option<String>,
);

/// Region versions asked at once when a listing names indicators but no regions, at first.
const FIRST_REGION_BATCH: usize = 256;

/// Region versions one statement names at most (listings by indicator, figures of many
/// regions). MariaDB turns an `IN` list of 1,000 values or more
/// into a derived table (`in_predicate_conversion_threshold`), and its plan for that read a
/// batch of 1,024 regions of a 10M-row table in a second, against 8 ms for 512.
const MAX_REGION_BATCH: usize = 512;

/// Index ranges one statement of such a listing may ask for (regions × indicators), well
/// within what the server's range optimizer plans for before it falls back to a full scan.
const RANGES_PER_STATEMENT: usize = 16_384;

/// Up to `limit` observations matching `filter` in primary-key order (region version,
/// indicator, period end, period start), starting after `after`.
///
/// Indicators without regions (one indicator across the country, say) are read region by
/// region: the region versions in key order, a batch at a time (growing while batches come
/// back short), each region's primary-key range of the indicators asked. The table has no
/// index by indicator: this reads the rows such an index would lead to, at the cost of one
/// statement per batch. The statements are separate reads: an import committing between
/// them shows in the regions after it, as it would on the next page.
pub async fn list_observations(
    conn: &mut AsyncMysqlConnection,
    filter: &ObservationFilter,
    after: Option<&ObservationCursor>,
    limit: u32,
) -> Result<Vec<ObservationRecord>, StoreError> {
    let (None, Some(indicator_ids)) = (&filter.region_ids, &filter.indicator_ids) else {
        return list_matching(conn, filter, after, limit).await;
    };
    let max_batch = (RANGES_PER_STATEMENT / indicator_ids.len().max(1)).clamp(1, MAX_REGION_BATCH);
    let mut batch = FIRST_REGION_BATCH.min(max_batch);
    let mut from = after.map_or(0, |cursor| cursor.region_id);
    let mut found = Vec::new();
    loop {
        let ids: Vec<u32> = regions::table
            .select(regions::id)
            .filter(regions::id.ge(from))
            .order(regions::id.asc())
            .limit(i64::try_from(batch).unwrap_or(i64::MAX))
            .load(conn)
            .await?;
        let Some(&last) = ids.last() else {
            return Ok(found);
        };
        let exhausted = ids.len() < batch;
        let in_batch = ObservationFilter {
            region_ids: Some(ids),
            ..filter.clone()
        };
        let wanted = limit - u32::try_from(found.len()).unwrap_or(limit);
        found.extend(list_matching(conn, &in_batch, after, wanted).await?);
        if exhausted || found.len() >= limit as usize || last == u32::MAX {
            return Ok(found);
        }
        from = last + 1;
        batch = (batch * 2).min(max_batch);
    }
}

/// [`list_observations`] as one statement.
async fn list_matching(
    conn: &mut AsyncMysqlConnection,
    filter: &ObservationFilter,
    after: Option<&ObservationCursor>,
    limit: u32,
) -> Result<Vec<ObservationRecord>, StoreError> {
    let mut query = observations::table
        .inner_join(regions::table.on(regions::id.eq(observations::region_id)))
        .left_join(parent_join())
        .inner_join(indicators::table.on(indicators::id.eq(observations::indicator_id)))
        .left_join(sources::table.on(sources::id.nullable().eq(observations::source_id)))
        .select((
            ObservationRow::as_select(),
            RegionRow::as_select(),
            parent_code(),
            indicators::code,
            indicators::unit,
            sources::name.nullable(),
        ))
        .into_boxed();
    if let Some(ids) = &filter.region_ids {
        query = query.filter(observations::region_id.eq_any(ids.clone()));
    }
    if let Some(ids) = &filter.indicator_ids {
        query = query.filter(observations::indicator_id.eq_any(ids.clone()));
    }
    if let Some(from) = filter.period_end.from {
        query = query.filter(observations::period_end.ge(from));
    }
    if let Some(to) = filter.period_end.to {
        query = query.filter(observations::period_end.le(to));
    }
    if let Some(cursor) = after {
        // The row-value comparison (region, indicator, end, start) > cursor, spelled out so
        // that both servers use the primary key for it; the leading `>=` gives the range
        // optimizer its start.
        let c = *cursor;
        query = query
            .filter(observations::region_id.ge(c.region_id))
            .filter(
                observations::region_id
                    .gt(c.region_id)
                    .or(observations::region_id
                        .eq(c.region_id)
                        .and(observations::indicator_id.gt(c.indicator_id)))
                    .or(observations::region_id
                        .eq(c.region_id)
                        .and(observations::indicator_id.eq(c.indicator_id))
                        .and(observations::period_end.gt(c.period_end)))
                    .or(observations::region_id
                        .eq(c.region_id)
                        .and(observations::indicator_id.eq(c.indicator_id))
                        .and(observations::period_end.eq(c.period_end))
                        .and(observations::period_start.gt(c.period_start))),
            );
    }
    query
        .order(key_order())
        .limit(i64::from(limit))
        .load::<ListedRow>(conn)
        .await?
        .into_iter()
        .map(to_observation)
        .collect()
}

/// The primary key's order: region, indicator, period end, period start.
fn key_order() -> (
    diesel::helper_types::Asc<observations::region_id>,
    diesel::helper_types::Asc<observations::indicator_id>,
    diesel::helper_types::Asc<observations::period_end>,
    diesel::helper_types::Asc<observations::period_start>,
) {
    (
        observations::region_id.asc(),
        observations::indicator_id.asc(),
        observations::period_end.asc(),
        observations::period_start.asc(),
    )
}

fn to_observation(
    (row, region, parent_code, indicator_code, unit, source): ListedRow,
) -> Result<ObservationRecord, StoreError> {
    let corrupt = |what: String| {
        StoreError::Corrupt(format!(
            "observation of region id {} indicator {indicator_code} ending {}: {what}",
            row.region_id, row.period_end
        ))
    };
    let code = IndicatorCode::parse(&indicator_code).map_err(|e| corrupt(e.to_string()))?;
    let unit = Unit::from_str(&unit).map_err(|e| corrupt(e.to_string()))?;
    let period = Period::from_bounds(row.period_start, row.period_end)
        .map_err(|e| corrupt(e.to_string()))?;
    let qualifier = qualifier(row.qualifier).map_err(corrupt)?;
    Ok(ObservationRecord {
        region: to_record((region, parent_code))?,
        indicator_id: row.indicator_id,
        indicator_code: code,
        unit,
        period,
        value: Quantity::new(row.value, qualifier),
        source,
        note: row.note,
        import_run_id: row.import_run_id,
    })
}

/// The stored qualifier code as a domain value.
pub(crate) fn qualifier(code: u8) -> Result<Qualifier, String> {
    Qualifier::from_code(code).ok_or_else(|| format!("qualifier code {code} is not one of 0..=4"))
}

/// A bare stored figure: whose, of what, when, how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Figure {
    pub region_id: u32,
    pub indicator_id: u32,
    /// The period as stored (an instant for a stock).
    pub period: Period,
    pub value: Quantity,
}

type FigureRow = (u32, u32, NaiveDate, NaiveDate, SqlDecimal, u8);

/// The columns of a [`FigureRow`], in its order.
type FigureColumns = (
    observations::region_id,
    observations::indicator_id,
    observations::period_start,
    observations::period_end,
    observations::value,
    observations::qualifier,
);

/// Region versions and indicators that [`figures`] names in its prepared form.
const PREPARED_REGIONS: usize = 4;
const PREPARED_INDICATORS: usize = 3;

/// The figures of `region_ids` for `indicator_ids` (every indicator when `None`) with period
/// ends within `ends`, in primary-key order.
///
/// Up to four region versions and three indicators (a time series of a ratio across a merger
/// of three provinces) are asked with one statement of fixed shape, which the connection
/// prepares once and reuses: one round trip, no parsing on the server. Other questions use a
/// statement built for their lists, prepared and closed per call.
pub async fn figures(
    conn: &mut AsyncMysqlConnection,
    region_ids: &[u32],
    indicator_ids: Option<&[u32]>,
    ends: EndWindow,
) -> Result<Vec<Figure>, StoreError> {
    if region_ids.is_empty() || indicator_ids.is_some_and(<[u32]>::is_empty) {
        return Ok(Vec::new());
    }
    let rows = match (
        padded::<PREPARED_REGIONS>(region_ids),
        indicator_ids.and_then(padded::<PREPARED_INDICATORS>),
    ) {
        (Some(regions), Some(indicators)) => {
            prepared_figures(conn, regions, indicators, ends).await?
        }
        _ => listed_figures(conn, region_ids, indicator_ids, ends).await?,
    };
    rows.into_iter().map(to_figure).collect()
}

/// `ids` filled up to `N` by repeating the first, if there are at most `N`.
fn padded<const N: usize>(ids: &[u32]) -> Option<[u32; N]> {
    let first = *ids.first()?;
    (ids.len() <= N).then(|| std::array::from_fn(|i| ids.get(i).copied().unwrap_or(first)))
}

async fn prepared_figures(
    conn: &mut AsyncMysqlConnection,
    regions: [u32; PREPARED_REGIONS],
    indicators: [u32; PREPARED_INDICATORS],
    ends: EndWindow,
) -> Result<Vec<FigureRow>, StoreError> {
    // The bounds of MySQL's DATE stand in for open ends, so the statement keeps one shape.
    let from = ends
        .from
        .unwrap_or(NaiveDate::from_ymd_opt(1000, 1, 1).expect("a date"));
    let to = ends
        .to
        .unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date"));
    let region = observations::region_id;
    let indicator = observations::indicator_id;
    Ok(observations::table
        .filter(
            region
                .eq(regions[0])
                .or(region.eq(regions[1]))
                .or(region.eq(regions[2]))
                .or(region.eq(regions[3])),
        )
        .filter(
            indicator
                .eq(indicators[0])
                .or(indicator.eq(indicators[1]))
                .or(indicator.eq(indicators[2])),
        )
        .filter(observations::period_end.between(from, to))
        .select(FigureColumns::default())
        .order(key_order())
        .load::<FigureRow>(conn)
        .await?)
}

/// The figures of more regions than one statement should name (a ranking of every commune)
/// are asked in batches of [`MAX_REGION_BATCH`] ids, in id order so the rows stay in key
/// order: on the 10M-row benchmark store, 10,035 communes took 0.62 s in one statement and
/// 0.30-0.45 s in batches of 256-512.
async fn listed_figures(
    conn: &mut AsyncMysqlConnection,
    region_ids: &[u32],
    indicator_ids: Option<&[u32]>,
    ends: EndWindow,
) -> Result<Vec<FigureRow>, StoreError> {
    if region_ids.len() <= MAX_REGION_BATCH {
        return figures_of(conn, region_ids, indicator_ids, ends).await;
    }
    let mut ids = region_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = Vec::new();
    for chunk in ids.chunks(MAX_REGION_BATCH) {
        rows.extend(figures_of(conn, chunk, indicator_ids, ends).await?);
    }
    Ok(rows)
}

/// [`listed_figures`] as one statement.
async fn figures_of(
    conn: &mut AsyncMysqlConnection,
    region_ids: &[u32],
    indicator_ids: Option<&[u32]>,
    ends: EndWindow,
) -> Result<Vec<FigureRow>, StoreError> {
    let mut query = observations::table
        .filter(observations::region_id.eq_any(region_ids))
        .select(FigureColumns::default())
        .into_boxed();
    if let Some(ids) = indicator_ids {
        query = query.filter(observations::indicator_id.eq_any(ids));
    }
    if let Some(from) = ends.from {
        query = query.filter(observations::period_end.ge(from));
    }
    if let Some(to) = ends.to {
        query = query.filter(observations::period_end.le(to));
    }
    Ok(query.order(key_order()).load::<FigureRow>(conn).await?)
}

fn to_figure(
    (region_id, indicator_id, start, end, value, code): FigureRow,
) -> Result<Figure, StoreError> {
    let corrupt = |what: String| {
        StoreError::Corrupt(format!(
            "observation of region id {region_id} indicator id {indicator_id} ending {end}: {what}"
        ))
    };
    Ok(Figure {
        region_id,
        indicator_id,
        period: Period::from_bounds(start, end).map_err(|e| corrupt(e.to_string()))?,
        value: Quantity::new(value.0, qualifier(code).map_err(corrupt)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_order_like_the_primary_key() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 12, d).unwrap();
        let key = |region_id, indicator_id, end, start| ObservationCursor {
            region_id,
            indicator_id,
            period_end: day(end),
            period_start: day(start),
        };
        let mut keys = vec![
            key(2, 1, 1, 1),
            key(1, 2, 1, 1),
            key(1, 1, 31, 1),
            key(1, 1, 31, 31),
            key(1, 1, 2, 2),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                key(1, 1, 2, 2),
                key(1, 1, 31, 1),
                key(1, 1, 31, 31),
                key(1, 2, 1, 1),
                key(2, 1, 1, 1),
            ]
        );
    }

    #[test]
    fn id_lists_are_padded_to_the_prepared_shape_or_refused() {
        assert_eq!(padded::<4>(&[7]), Some([7, 7, 7, 7]));
        assert_eq!(padded::<3>(&[1, 2, 3]), Some([1, 2, 3]));
        assert_eq!(padded::<3>(&[1, 2, 3, 4]), None);
        assert_eq!(padded::<3>(&[]), None);
    }

    #[test]
    fn stored_qualifier_codes_outside_the_model_are_refused() {
        assert_eq!(qualifier(1), Ok(Qualifier::MoreThan));
        assert!(qualifier(9).unwrap_err().contains("0..=4"));
    }
}
