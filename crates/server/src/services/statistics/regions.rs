//! Which region versions a question is about: the versions of each code, the one valid on a
//! date, the versions a code continued through a lineage edge, a parent and its children.

use std::collections::BTreeMap;

use ansinh_model::{NaiveDate, RegionCode, RegionLevel};
use ansinh_proto::pb;
use ansinh_store::AsyncMysqlConnection;
use ansinh_store::queries::{self, RegionRecord};

use crate::error::ApiError;

pub(super) fn unknown_regions(codes: &[&str]) -> ApiError {
    ApiError::NotFound(if codes.len() == 1 {
        format!("no region with code {}", codes[0])
    } else {
        format!("no regions with codes {}", codes.join(", "))
    })
}

/// Every version of each code, grouped by code; NOT_FOUND naming every code without one.
pub(super) async fn versions_of(
    conn: &mut AsyncMysqlConnection,
    codes: &[RegionCode],
) -> Result<BTreeMap<String, Vec<RegionRecord>>, ApiError> {
    let texts: Vec<&str> = codes.iter().map(RegionCode::as_str).collect();
    let mut by_code: BTreeMap<String, Vec<RegionRecord>> = BTreeMap::new();
    for record in queries::region_versions(conn, &texts).await? {
        by_code
            .entry(record.region.code.to_string())
            .or_default()
            .push(record);
    }
    let mut unknown: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|code| !by_code.contains_key(*code))
        .collect();
    unknown.dedup();
    if unknown.is_empty() {
        Ok(by_code)
    } else {
        Err(unknown_regions(&unknown))
    }
}

/// The version valid on `date`, else the latest one that started before it, else the first.
pub(super) fn version_for(versions: &[RegionRecord], date: NaiveDate) -> Option<&RegionRecord> {
    versions
        .iter()
        .find(|record| record.region.validity.contains(date))
        .or_else(|| {
            versions
                .iter()
                .filter(|record| record.region.validity.from <= date)
                .max_by_key(|record| record.region.validity.from)
        })
        .or_else(|| versions.first())
}

/// Versions of the same code linked to `record` by a lineage edge (old 68 and the merged 68):
/// the same name carried on, so a target set for one applies to the other's figures.
pub(super) async fn same_code_lineage(
    conn: &mut AsyncMysqlConnection,
    record: &RegionRecord,
) -> Result<Vec<RegionRecord>, ApiError> {
    let mut linked = queries::lineage_predecessors(conn, record.id).await?;
    linked.extend(queries::lineage_successors(conn, record.id).await?);
    Ok(linked
        .into_iter()
        .map(|edge| edge.region)
        .filter(|other| other.region.code == record.region.code && other.id != record.id)
        .collect())
}

pub(super) fn region_message(record: &RegionRecord) -> Option<pb::Region> {
    Some(pb::Region::from(&record.region))
}

/// The parent version valid on `date` and its descendants at `level` valid then, ordered by
/// code. INVALID_ARGUMENT when `level` cannot be below the parent's.
pub(super) async fn parent_and_children(
    conn: &mut AsyncMysqlConnection,
    parent_code: &RegionCode,
    level: RegionLevel,
    date: NaiveDate,
) -> Result<(RegionRecord, Vec<RegionRecord>), ApiError> {
    let parent = queries::region_at(conn, parent_code, date)
        .await?
        .ok_or_else(|| ApiError::not_valid(parent_code, date))?;
    let parent_level = parent.region.level;
    if parent_level != RegionLevel::Group && !parent_level.is_above(level) {
        return Err(ApiError::field(
            "level",
            format!(
                "{level} is not below {parent_code}, a {parent_level}; ask for a level under the parent's"
            ),
        ));
    }
    let children = queries::descendants_at_level(conn, parent.id, level, date).await?;
    Ok((parent, children))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{date, region};
    use super::*;

    #[test]
    fn a_region_version_is_the_one_valid_then_else_the_latest_before() {
        let versions = [
            region(1, "68", "2008-08-01", Some("2025-06-30")),
            region(3, "68", "2025-07-01", None),
        ];
        assert_eq!(version_for(&versions, date("2024-06-01")).unwrap().id, 1);
        assert_eq!(version_for(&versions, date("2025-08-01")).unwrap().id, 3);
        let abolished = [region(7, "60", "2008-08-01", Some("2025-06-30"))];
        assert_eq!(version_for(&abolished, date("2026-01-01")).unwrap().id, 7);
        assert_eq!(version_for(&abolished, date("2000-01-01")).unwrap().id, 7);
    }
}
