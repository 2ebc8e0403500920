//! Writing the bundled reference data: compare with what is stored, then write only the
//! difference, in batches, in one transaction.

use std::collections::{HashMap, HashSet};

use ansinh_model::{Indicator, NaiveDate, Region, RegionLevel};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};

use super::bundled::{BundledData, BundledLineage, VersionKey};
use crate::StoreError;
use crate::models::{IndicatorRow, LineageRow, NewIndicator, NewLineage, NewRegion, RegionRow};
use crate::queries::regions::fold_region_names;
use crate::schema::{indicators, region_lineage, regions};

/// Rows per multi-row INSERT: large enough that the 14,000 regions take 15 statements, small
/// enough to stay far below `max_allowed_packet` and the 65,535 placeholders of a statement.
const BATCH_ROWS: usize = 1000;

/// What an install did to one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl TableCounts {
    fn changed(&self) -> bool {
        self.inserted > 0 || self.updated > 0
    }
}

/// What [`install_reference_data`] did, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReferenceReport {
    pub regions: TableCounts,
    pub lineage: TableCounts,
    pub indicators: TableCounts,
}

impl ReferenceReport {
    /// Whether anything was written.
    pub fn changed(&self) -> bool {
        self.regions.changed() || self.lineage.changed() || self.indicators.changed()
    }
}

/// Installs or updates the bundled reference data (see the module docs) in one transaction on
/// a migrated database. Idempotent: a second run writes nothing and reports only `unchanged`.
pub async fn install_reference_data(
    conn: &mut AsyncMysqlConnection,
) -> Result<ReferenceReport, StoreError> {
    let data = BundledData::load()?;
    let report = conn
        .transaction(async |conn| {
            let (regions, versions) = install_regions(conn, &data.regions).await?;
            let lineage = install_lineage(conn, &data.lineage, &versions).await?;
            let indicators = install_indicators(conn, &data.indicators).await?;
            Ok::<_, StoreError>(ReferenceReport {
                regions,
                lineage,
                indicators,
            })
        })
        .await?;
    tracing::info!(
        regions.inserted = report.regions.inserted,
        regions.updated = report.regions.updated,
        regions.unchanged = report.regions.unchanged,
        lineage.inserted = report.lineage.inserted,
        lineage.updated = report.lineage.updated,
        indicators.inserted = report.indicators.inserted,
        indicators.updated = report.indicators.updated,
        "reference data installed"
    );
    Ok(report)
}

/// The stored region versions, by code: what bundled rows are compared with, and how a
/// parent code on a date becomes a parent id.
struct Versions {
    by_code: HashMap<String, Vec<RegionRow>>,
}

impl Versions {
    async fn load(
        conn: &mut AsyncMysqlConnection,
        level: Option<RegionLevel>,
    ) -> Result<Vec<RegionRow>, StoreError> {
        let mut query = regions::table.select(RegionRow::as_select()).into_boxed();
        if let Some(level) = level {
            query = query.filter(regions::level.eq(level.as_str()));
        }
        Ok(query.load(conn).await?)
    }

    fn new(rows: Vec<RegionRow>) -> Self {
        let mut versions = Self {
            by_code: HashMap::new(),
        };
        versions.add(rows);
        versions
    }

    /// Adds rows not yet known (by id).
    fn add(&mut self, rows: Vec<RegionRow>) {
        for row in rows {
            let versions = self.by_code.entry(row.code.clone()).or_default();
            if !versions.iter().any(|known| known.id == row.id) {
                versions.push(row);
            }
        }
    }

    fn get(&self, code: &str, valid_from: NaiveDate) -> Option<&RegionRow> {
        self.by_code
            .get(code)?
            .iter()
            .find(|row| row.valid_from == valid_from)
    }

    fn valid_on(&self, code: &str, date: NaiveDate) -> Option<&RegionRow> {
        self.by_code.get(code)?.iter().find(|row| {
            row.valid_from <= date && row.valid_to.is_none_or(|valid_to| valid_to >= date)
        })
    }

    fn id_of(&self, key: &VersionKey) -> Result<u32, StoreError> {
        self.get(key.code.as_str(), key.valid_from)
            .map(|row| row.id)
            .ok_or_else(|| {
                StoreError::Reference(format!(
                    "lineage names region {} from {}, which is not installed",
                    key.code, key.valid_from
                ))
            })
    }
}

fn same_region(row: &RegionRow, new: &NewRegion<'_>) -> bool {
    row.code == new.code
        && row.level == new.level
        && row.kind.as_deref() == new.kind
        && row.name == new.name
        && row.name_vi.as_deref() == new.name_vi
        && row.name_folded == new.name_folded
        && row.parent_id == new.parent_id
        && row.valid_from == new.valid_from
        && row.valid_to == new.valid_to
}

/// Level by level, so that every parent has an id before its children are written.
async fn install_regions(
    conn: &mut AsyncMysqlConnection,
    bundled: &[Region],
) -> Result<(TableCounts, Versions), StoreError> {
    let mut versions = Versions::new(Versions::load(conn, None).await?);
    let mut counts = TableCounts::default();
    for level in bundled.chunk_by(|a, b| a.level == b.level) {
        let prepared = level
            .iter()
            .map(|region| {
                let parent_id = match &region.parent {
                    None => None,
                    Some(parent) => {
                        let day = region.validity.from;
                        let row = versions.valid_on(parent.as_str(), day).ok_or_else(|| {
                            StoreError::Reference(format!(
                                "region {} names parent {parent}, which has no version valid on \
                                 {day}",
                                region.code
                            ))
                        })?;
                        Some(row.id)
                    }
                };
                let folded = fold_region_names(&region.name, region.name_vi.as_deref());
                Ok((region, parent_id, folded))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let mut inserts = Vec::new();
        for (region, parent_id, folded) in &prepared {
            let new = NewRegion::from_region(region, *parent_id, folded);
            match versions.get(new.code, new.valid_from) {
                None => inserts.push(new),
                Some(row) if same_region(row, &new) => counts.unchanged += 1,
                Some(row) => {
                    diesel::update(regions::table.find(row.id))
                        .set(&new)
                        .execute(conn)
                        .await?;
                    counts.updated += 1;
                }
            }
        }
        for batch in inserts.chunks(BATCH_ROWS) {
            diesel::insert_into(regions::table)
                .values(batch)
                .execute(conn)
                .await?;
        }
        counts.inserted += inserts.len() as u64;
        if !inserts.is_empty() {
            // The new ids are needed as parents by the next level and as lineage ends.
            versions.add(Versions::load(conn, Some(level[0].level)).await?);
        }
    }
    Ok((counts, versions))
}

async fn install_lineage(
    conn: &mut AsyncMysqlConnection,
    bundled: &[BundledLineage],
    versions: &Versions,
) -> Result<TableCounts, StoreError> {
    let stored: HashMap<(u32, u32), LineageRow> = region_lineage::table
        .select(LineageRow::as_select())
        .load::<LineageRow>(conn)
        .await?
        .into_iter()
        .map(|row| ((row.from_region_id, row.to_region_id), row))
        .collect();
    let mut counts = TableCounts::default();
    let mut inserts = Vec::new();
    for edge in bundled {
        let new = NewLineage {
            from_region_id: versions.id_of(&edge.from)?,
            to_region_id: versions.id_of(&edge.to)?,
            kind: edge.kind.as_str(),
            effective_date: edge.effective_date,
            approximate: edge.kind.is_approximate(),
        };
        match stored.get(&(new.from_region_id, new.to_region_id)) {
            None => inserts.push(new),
            Some(row)
                if row.kind == new.kind
                    && row.effective_date == new.effective_date
                    && row.approximate == new.approximate =>
            {
                counts.unchanged += 1;
            }
            Some(_) => {
                diesel::update(region_lineage::table.find((new.from_region_id, new.to_region_id)))
                    .set((
                        region_lineage::kind.eq(new.kind),
                        region_lineage::effective_date.eq(new.effective_date),
                        region_lineage::approximate.eq(new.approximate),
                    ))
                    .execute(conn)
                    .await?;
                counts.updated += 1;
            }
        }
    }
    for batch in inserts.chunks(BATCH_ROWS) {
        diesel::insert_into(region_lineage::table)
            .values(batch)
            .execute(conn)
            .await?;
    }
    counts.inserted = inserts.len() as u64;
    Ok(counts)
}

/// In two passes, because a ratio may be listed before its parts: first every entry without
/// parts, then the parts of the ratios once every entry has an id.
async fn install_indicators(
    conn: &mut AsyncMysqlConnection,
    bundled: &[Indicator],
) -> Result<TableCounts, StoreError> {
    let stored: HashMap<String, IndicatorRow> = indicators::table
        .select(IndicatorRow::as_select())
        .load::<IndicatorRow>(conn)
        .await?
        .into_iter()
        .map(|row| (row.code.clone(), row))
        .collect();
    let mut inserted = HashSet::new();
    let mut updated = HashSet::new();
    let mut inserts = Vec::new();
    for indicator in bundled {
        let new = NewIndicator::without_parts(indicator);
        match stored.get(new.code) {
            None => {
                inserted.insert(new.code);
                inserts.push(new);
            }
            Some(row)
                if row.name == new.name
                    && row.name_vi.as_deref() == new.name_vi
                    && row.unit == new.unit
                    && row.kind == new.kind
                    && row.description.as_deref() == new.description => {}
            Some(row) => {
                // Clearing the parts here keeps the parts CHECK satisfied when a ratio turns
                // into a non-ratio; a ratio gets its parts back in the second pass.
                diesel::update(indicators::table.find(row.id))
                    .set((
                        indicators::name.eq(new.name),
                        indicators::name_vi.eq(new.name_vi),
                        indicators::unit.eq(new.unit),
                        indicators::kind.eq(new.kind),
                        indicators::description.eq(new.description),
                        indicators::numerator_id.eq(None::<u32>),
                        indicators::denominator_id.eq(None::<u32>),
                    ))
                    .execute(conn)
                    .await?;
                updated.insert(new.code);
            }
        }
    }
    for batch in inserts.chunks(BATCH_ROWS) {
        diesel::insert_into(indicators::table)
            .values(batch)
            .execute(conn)
            .await?;
    }

    let ids: HashMap<String, u32> = indicators::table
        .select((indicators::code, indicators::id))
        .load::<(String, u32)>(conn)
        .await?
        .into_iter()
        .collect();
    let id_of = |code: &ansinh_model::IndicatorCode| {
        ids.get(code.as_str()).copied().ok_or_else(|| {
            StoreError::Reference(format!(
                "indicator {code} is a ratio part but not installed"
            ))
        })
    };
    for indicator in bundled {
        let code = indicator.code.as_str();
        let wanted = (
            indicator.numerator.as_ref().map(id_of).transpose()?,
            indicator.denominator.as_ref().map(id_of).transpose()?,
        );
        let current = match stored.get(code) {
            Some(row) if !updated.contains(code) => (row.numerator_id, row.denominator_id),
            // Inserted or updated above: written without parts.
            _ => (None, None),
        };
        if wanted != current {
            diesel::update(indicators::table.filter(indicators::code.eq(code)))
                .set((
                    indicators::numerator_id.eq(wanted.0),
                    indicators::denominator_id.eq(wanted.1),
                ))
                .execute(conn)
                .await?;
            if !inserted.contains(code) {
                updated.insert(code);
            }
        }
    }
    let inserted = inserted.len() as u64;
    let updated = updated.len() as u64;
    Ok(TableCounts {
        inserted,
        updated,
        unchanged: bundled.len() as u64 - inserted - updated,
    })
}
