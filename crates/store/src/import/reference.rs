//! Reading the reference data a run checks rows against, and writing the reference rows an
//! import file brings (indicators, regions, group members, lineage), each compared with what
//! is stored first so a re-import reports them unchanged.

use ansinh_model::{Indicator, LineageKind, NaiveDate, Region};
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use super::Result;
use crate::models::NewIndicator;
use crate::models::NewRegion;
use crate::queries::regions::fold_region_names;
use crate::schema::{indicators, region_lineage, region_members, regions, sources};

/// A region version as the importer resolves codes: id, code, level and validity.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct StoredRegion {
    pub id: u32,
    pub code: String,
    pub level: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// What writing one reference row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Inserted,
    Updated,
    Unchanged,
}

pub async fn load_regions(conn: &mut AsyncMysqlConnection) -> Result<Vec<StoredRegion>> {
    Ok(regions::table
        .select((
            regions::id,
            regions::code,
            regions::level,
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
    let stored: Option<(u32, NewIndicatorOwned)> = indicators::table
        .filter(indicators::code.eq(indicator.code.as_str()))
        .select((
            indicators::id,
            (
                indicators::name,
                indicators::name_vi,
                indicators::unit,
                indicators::kind,
                indicators::numerator_id,
                indicators::denominator_id,
                indicators::description,
            ),
        ))
        .first(conn)
        .await
        .optional()?;
    let wanted = NewIndicatorOwned(
        row.name.to_owned(),
        row.name_vi.map(str::to_owned),
        row.unit.to_owned(),
        row.kind.to_owned(),
        row.numerator_id,
        row.denominator_id,
        row.description.map(str::to_owned),
    );
    match stored {
        Some((id, current)) if current == wanted => Ok((id, Written::Unchanged)),
        Some((id, _)) => {
            diesel::update(indicators::table.find(id))
                .set((
                    indicators::name.eq(row.name),
                    indicators::name_vi.eq(row.name_vi),
                    indicators::unit.eq(row.unit),
                    indicators::kind.eq(row.kind),
                    indicators::numerator_id.eq(row.numerator_id),
                    indicators::denominator_id.eq(row.denominator_id),
                    indicators::description.eq(row.description),
                ))
                .execute(conn)
                .await?;
            Ok((id, Written::Updated))
        }
        None => {
            diesel::insert_into(indicators::table)
                .values(&row)
                .execute(conn)
                .await?;
            let id = indicators::table
                .filter(indicators::code.eq(indicator.code.as_str()))
                .select(indicators::id)
                .first(conn)
                .await?;
            Ok((id, Written::Inserted))
        }
    }
}

#[derive(Debug, PartialEq, Eq, Queryable)]
struct NewIndicatorOwned(
    String,
    Option<String>,
    String,
    String,
    Option<u32>,
    Option<u32>,
    Option<String>,
);

/// Inserts or updates the version of `region` identified by (code, valid_from).
pub async fn upsert_region(
    conn: &mut AsyncMysqlConnection,
    region: &Region,
    parent_id: Option<u32>,
) -> Result<(u32, Written)> {
    let folded = fold_region_names(&region.name, region.name_vi.as_deref());
    let row = NewRegion::from_region(region, parent_id, &folded);
    type Current = (
        u32,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<u32>,
        Option<NaiveDate>,
    );
    let stored: Option<Current> = regions::table
        .filter(regions::code.eq(region.code.as_str()))
        .filter(regions::valid_from.eq(region.validity.from))
        .select((
            regions::id,
            regions::name,
            regions::name_vi,
            regions::level,
            regions::kind,
            regions::parent_id,
            regions::valid_to,
        ))
        .first(conn)
        .await
        .optional()?;
    match stored {
        Some((id, name, name_vi, level, kind, parent, to))
            if name == row.name
                && name_vi.as_deref() == row.name_vi
                && level == row.level
                && kind.as_deref() == row.kind
                && parent == row.parent_id
                && to == row.valid_to =>
        {
            Ok((id, Written::Unchanged))
        }
        Some((id, ..)) => {
            diesel::update(regions::table.find(id))
                .set(&row)
                .execute(conn)
                .await?;
            Ok((id, Written::Updated))
        }
        None => {
            diesel::insert_into(regions::table)
                .values(&row)
                .execute(conn)
                .await?;
            let id = regions::table
                .filter(regions::code.eq(region.code.as_str()))
                .filter(regions::valid_from.eq(region.validity.from))
                .select(regions::id)
                .first(conn)
                .await?;
            Ok((id, Written::Inserted))
        }
    }
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

/// Inserts or updates the edge `from_id -> to_id`, effective on the successor's first day.
pub async fn upsert_lineage(
    conn: &mut AsyncMysqlConnection,
    from_id: u32,
    to_id: u32,
    kind: LineageKind,
    effective: NaiveDate,
) -> Result<Written> {
    let stored: Option<(String, NaiveDate)> = region_lineage::table
        .find((from_id, to_id))
        .select((region_lineage::kind, region_lineage::effective_date))
        .first(conn)
        .await
        .optional()?;
    let values = (
        region_lineage::kind.eq(kind.as_str()),
        region_lineage::effective_date.eq(effective),
        region_lineage::approximate.eq(kind.is_approximate()),
    );
    match stored {
        Some((k, e)) if k == kind.as_str() && e == effective => Ok(Written::Unchanged),
        Some(_) => {
            diesel::update(region_lineage::table.find((from_id, to_id)))
                .set(values)
                .execute(conn)
                .await?;
            Ok(Written::Updated)
        }
        None => {
            diesel::insert_into(region_lineage::table)
                .values((
                    region_lineage::from_region_id.eq(from_id),
                    region_lineage::to_region_id.eq(to_id),
                    values.0,
                    values.1,
                    values.2,
                ))
                .execute(conn)
                .await?;
            Ok(Written::Inserted)
        }
    }
}
