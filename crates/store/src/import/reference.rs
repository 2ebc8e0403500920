//! Reading the reference data a run checks rows against, and writing the reference rows an
//! import file brings (indicators, regions, group members, lineage), each compared with what
//! is stored first so a re-import reports them unchanged. Indicators, regions and lineage are
//! compared and written as the bundled install writes them (`reference::write`).

use ansinh_model::{Decimal, Indicator, LineageKind, NaiveDate, Region};
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use super::Result;
use crate::decimal::SqlDecimal;
use crate::models::{NewIndicator, NewLineage, NewRegion};
use crate::queries::regions::fold_region_names;
pub use crate::reference::write::Written;
use crate::reference::write::write_one;
use crate::schema::{region_members, regions, sources};

/// A region version as the importer resolves codes: id, code, level, name (for the messages
/// that point a person to it) and validity.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct StoredRegion {
    pub id: u32,
    pub code: String,
    pub level: String,
    pub name: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

pub async fn load_regions(conn: &mut AsyncMysqlConnection) -> Result<Vec<StoredRegion>> {
    Ok(regions::table
        .select((
            regions::id,
            regions::code,
            regions::level,
            regions::name,
            regions::valid_from,
            regions::valid_to,
        ))
        .load(conn)
        .await?)
}

pub async fn load_sources(conn: &mut AsyncMysqlConnection) -> Result<Vec<(u32, String)>> {
    Ok(sources::table
        .select((sources::id, sources::name))
        .load(conn)
        .await?)
}

/// The id of the source named `name`, adding it when new.
pub async fn ensure_source(conn: &mut AsyncMysqlConnection, name: &str) -> Result<u32> {
    diesel::insert_or_ignore_into(sources::table)
        .values(sources::name.eq(name))
        .execute(conn)
        .await?;
    Ok(sources::table
        .filter(sources::name.eq(name))
        .select(sources::id)
        .first(conn)
        .await?)
}

/// Inserts or updates the catalog entry with `indicator`'s code.
pub async fn upsert_indicator(
    conn: &mut AsyncMysqlConnection,
    indicator: &Indicator,
    numerator_id: Option<u32>,
    denominator_id: Option<u32>,
) -> Result<(u32, Written)> {
    let mut row = NewIndicator::without_parts(indicator);
    row.numerator_id = numerator_id;
    row.denominator_id = denominator_id;
    let (stored, written) = write_one(conn, row).await?;
    Ok((stored.id, written))
}

/// Inserts or updates the version of `region` identified by (code, valid_from).
pub async fn upsert_region(
    conn: &mut AsyncMysqlConnection,
    region: &Region,
    parent_id: Option<u32>,
) -> Result<(u32, Written)> {
    let folded = fold_region_names(&region.name, region.name_vi.as_deref());
    let row = NewRegion::from_region(region, parent_id, &folded);
    let (stored, written) = write_one(conn, row).await?;
    Ok((stored.id, written))
}

pub async fn upsert_member(
    conn: &mut AsyncMysqlConnection,
    group_id: u32,
    member_id: u32,
) -> Result<Written> {
    let n = diesel::insert_or_ignore_into(region_members::table)
        .values((
            region_members::group_id.eq(group_id),
            region_members::member_id.eq(member_id),
        ))
        .execute(conn)
        .await?;
    Ok(if n == 0 {
        Written::Unchanged
    } else {
        Written::Inserted
    })
}

/// Inserts or updates the edge `from_id -> to_id`, effective on the successor's first day,
/// with the share of the earlier version's figures the later one takes when it is known.
pub async fn upsert_lineage(
    conn: &mut AsyncMysqlConnection,
    from_id: u32,
    to_id: u32,
    kind: LineageKind,
    effective: NaiveDate,
    weight: Option<Decimal>,
) -> Result<Written> {
    let row = NewLineage {
        from_region_id: from_id,
        to_region_id: to_id,
        kind: kind.as_str(),
        effective_date: effective,
        approximate: kind.is_approximate(),
        weight: weight.map(SqlDecimal),
    };
    let (_, written) = write_one(conn, row).await?;
    Ok(written)
}
