//! Writing the bundled reference data in one transaction: every stored row of a table read
//! at once, then the difference written through [`super::write`], inserts in batches.

use std::collections::{HashMap, HashSet};

use ansinh_model::{Indicator, NaiveDate, Region, RegionLevel};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};

use super::bundled::{BundledData, BundledLineage, VersionKey};
use super::write::{Writes, Written};
use crate::StoreError;
use crate::models::{IndicatorRow, LineageRow, NewIndicator, NewLineage, NewRegion, RegionRow};
use crate::queries::regions::fold_region_names;
use crate::schema::{indicators, region_lineage, regions};

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

    fn count(&mut self, written: Written) {
        match written {
            Written::Inserted => self.inserted += 1,
            Written::Updated => self.updated += 1,
            Written::Unchanged => self.unchanged += 1,
        }
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

        let mut writes = Writes::new();
        for (region, parent_id, folded) in &prepared {
            let new = NewRegion::from_region(region, *parent_id, folded);
            let stored = versions.get(new.code, new.valid_from);
            counts.count(writes.write(conn, stored, new).await?);
        }
        if writes.insert_new(conn).await? > 0 {
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
    let mut writes = Writes::new();
    for edge in bundled {
        let new = NewLineage {
            from_region_id: versions.id_of(&edge.from)?,
            to_region_id: versions.id_of(&edge.to)?,
            kind: edge.kind.as_str(),
            effective_date: edge.effective_date,
            approximate: edge.kind.is_approximate(),
            weight: None,
        };
        let stored = stored.get(&(new.from_region_id, new.to_region_id));
        // The bundled edges carry no weights; one a province imported stays.
        let new = NewLineage {
            weight: stored.and_then(|row| row.weight),
            ..new
        };
        counts.count(writes.write(conn, stored, new).await?);
    }
    writes.insert_new(conn).await?;
    Ok(counts)
}

/// In two passes, because a ratio may be listed before its parts: first the entries not yet
/// stored are inserted without parts, so that every part has an id; then every entry is
/// written with its parts. An entry the first pass inserted counts as inserted only.
async fn install_indicators(
    conn: &mut AsyncMysqlConnection,
    bundled: &[Indicator],
) -> Result<TableCounts, StoreError> {
    let mut stored = stored_indicators(conn).await?;
    let mut writes = Writes::new();
    let mut inserted = HashSet::new();
    for indicator in bundled {
        if !stored.contains_key(indicator.code.as_str()) {
            let new = NewIndicator::without_parts(indicator);
            writes.write(conn, None, new).await?;
            inserted.insert(indicator.code.as_str());
        }
    }
    let mut counts = TableCounts {
        inserted: writes.insert_new(conn).await?,
        ..TableCounts::default()
    };
    if counts.inserted > 0 {
        stored = stored_indicators(conn).await?;
    }
    let id_of = |code: &ansinh_model::IndicatorCode| {
        stored.get(code.as_str()).map(|row| row.id).ok_or_else(|| {
            StoreError::Reference(format!(
                "indicator {code} is a ratio part but not installed"
            ))
        })
    };
    for indicator in bundled {
        let mut new = NewIndicator::without_parts(indicator);
        new.numerator_id = indicator.numerator.as_ref().map(id_of).transpose()?;
        new.denominator_id = indicator.denominator.as_ref().map(id_of).transpose()?;
        let written = writes.write(conn, stored.get(new.code), new).await?;
        if !inserted.contains(indicator.code.as_str()) {
            counts.count(written);
        }
    }
    Ok(counts)
}

/// Every stored catalog entry, by code.
async fn stored_indicators(
    conn: &mut AsyncMysqlConnection,
) -> Result<HashMap<String, IndicatorRow>, StoreError> {
    Ok(indicators::table
        .select(IndicatorRow::as_select())
        .load::<IndicatorRow>(conn)
        .await?
        .into_iter()
        .map(|row| (row.code.clone(), row))
        .collect())
}
