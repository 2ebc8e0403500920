//! The regions a statistics question covers: every version of a code, the descendants of a
//! version (through parent links and group membership) on a date, and the versions a version
//! was made from (its lineage ancestors). Each walk goes level by level with one indexed query
//! per level — the tree is at most nation > province > district > commune deep — so no SQL
//! text is assembled and MariaDB and MySQL run the same statements.

use std::collections::{BTreeMap, BTreeSet};

use ansinh_model::{Decimal, NaiveDate, RegionLevel};
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::StoreError;
use crate::queries::regions::{
    LineageEdge, RegionRecord, lineage_predecessors, records, to_records,
};
use crate::schema::{region_members, regions};

/// Every version of each of `codes`, ordered by code, then by start of validity.
pub async fn region_versions(
    conn: &mut AsyncMysqlConnection,
    codes: &[&str],
) -> Result<Vec<RegionRecord>, StoreError> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let query = records()
        .filter(regions::code.eq_any(codes))
        .order((regions::code.asc(), regions::valid_from.asc()));
    to_records(query.load(conn).await?)
}

/// The versions with these ids, ordered by code, then id; unknown ids are skipped.
pub async fn regions_by_ids(
    conn: &mut AsyncMysqlConnection,
    ids: &[u32],
) -> Result<Vec<RegionRecord>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = records()
        .filter(regions::id.eq_any(ids))
        .order((regions::code.asc(), regions::id.asc()));
    to_records(query.load(conn).await?)
}

/// The ids of every descendant of `roots` (not the roots themselves, unless one descends from
/// another): children through `parent_id` and members of groups, recursively. With `valid_on`,
/// only versions valid on that day are taken and walked through, so the old province 68 on
/// 2024-12-31 yields its districts and, under them, their communes.
///
/// Returns `(id, level)` pairs ordered by id.
pub async fn descendant_ids(
    conn: &mut AsyncMysqlConnection,
    roots: &[u32],
    valid_on: Option<NaiveDate>,
) -> Result<Vec<(u32, RegionLevel)>, StoreError> {
    walk(conn, roots, valid_on, None).await
}

/// The walk of [`descendant_ids`]; with `down_to`, regions at that level (or below it) are
/// found but not walked into, since nothing under them can be at that level again: the
/// provinces of the nation are one query, not four levels down to its 10,000 communes.
/// Groups are always walked into, their members may be of any level.
async fn walk(
    conn: &mut AsyncMysqlConnection,
    roots: &[u32],
    valid_on: Option<NaiveDate>,
    down_to: Option<RegionLevel>,
) -> Result<Vec<(u32, RegionLevel)>, StoreError> {
    let mut found: BTreeMap<u32, RegionLevel> = BTreeMap::new();
    let mut seen: BTreeSet<u32> = roots.iter().copied().collect();
    let mut frontier: Vec<u32> = roots.to_vec();
    while !frontier.is_empty() {
        let mut children = regions::table
            .filter(regions::parent_id.eq_any(&frontier))
            .select((regions::id, regions::level))
            .into_boxed();
        let mut members = region_members::table
            .inner_join(regions::table.on(regions::id.eq(region_members::member_id)))
            .filter(region_members::group_id.eq_any(&frontier))
            .select((regions::id, regions::level))
            .into_boxed();
        if let Some(date) = valid_on {
            children = children.filter(
                regions::valid_from
                    .le(date)
                    .and(regions::valid_to.is_null().or(regions::valid_to.ge(date))),
            );
            members = members.filter(
                regions::valid_from
                    .le(date)
                    .and(regions::valid_to.is_null().or(regions::valid_to.ge(date))),
            );
        }
        let mut next = children.load::<(u32, String)>(conn).await?;
        next.extend(members.load::<(u32, String)>(conn).await?);
        frontier = Vec::new();
        for (id, level) in next {
            if seen.insert(id) {
                let level = level
                    .parse::<RegionLevel>()
                    .map_err(|e| StoreError::Corrupt(format!("region id {id}: {e}")))?;
                found.insert(id, level);
                let above = down_to.is_none_or(|bottom| level.is_above(bottom));
                if level == RegionLevel::Group || above {
                    frontier.push(id);
                }
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// The descendants of `root` at `level` valid on `date` (see [`descendant_ids`]), ordered by
/// code: the children a roll-up or a ranking of `root` covers.
pub async fn descendants_at_level(
    conn: &mut AsyncMysqlConnection,
    root: u32,
    level: RegionLevel,
    date: NaiveDate,
) -> Result<Vec<RegionRecord>, StoreError> {
    let ids: Vec<u32> = walk(conn, &[root], Some(date), Some(level))
        .await?
        .into_iter()
        .filter(|(_, found)| *found == level)
        .map(|(id, _)| id)
        .collect();
    regions_by_ids(conn, &ids).await
}

/// A version that a region was made from, directly or through earlier changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    /// The earlier version.
    pub region: RegionRecord,
    /// Whether some edge on the way from it is a split without a weight: its figures stand
    /// for the later region only approximately.
    pub approximate: bool,
    /// The share of its figures the later region takes: the product of the weights of the
    /// splits on the way (1 through merges); `None` when a split on the way has no weight.
    pub share: Option<Decimal>,
}

/// Every version `region_id` was made from through lineage edges, recursively (old 68, 60 and
/// 67 for the merged Lâm Đồng), ordered by code, then start of validity. A version reached by
/// several paths is listed once, approximate if any path is.
pub async fn lineage_ancestors(
    conn: &mut AsyncMysqlConnection,
    region_id: u32,
) -> Result<Vec<Ancestor>, StoreError> {
    let mut found: BTreeMap<u32, Ancestor> = BTreeMap::new();
    let mut frontier: Vec<(u32, bool, Option<Decimal>)> =
        vec![(region_id, false, Some(Decimal::ONE))];
    // Bounded by the number of versions: each is expanded again only when it becomes
    // approximate, which happens at most once.
    while let Some((id, approximate, share)) = frontier.pop() {
        let edges: Vec<LineageEdge> = lineage_predecessors(conn, id).await?;
        for edge in edges {
            let split = edge.approximate || edge.kind.is_approximate();
            let share = if split {
                share.zip(edge.weight).and_then(|(a, b)| a.checked_mul(b))
            } else {
                share
            };
            let approximate = approximate || (split && share.is_none());
            let ancestor_id = edge.region.id;
            if ancestor_id == region_id {
                continue;
            }
            match found.get_mut(&ancestor_id) {
                Some(known) if known.approximate || !approximate => {}
                Some(known) => {
                    known.approximate = true;
                    known.share = None;
                    frontier.push((ancestor_id, true, None));
                }
                None => {
                    found.insert(
                        ancestor_id,
                        Ancestor {
                            region: edge.region,
                            approximate,
                            share,
                        },
                    );
                    frontier.push((ancestor_id, approximate, share));
                }
            }
        }
    }
    let mut ancestors: Vec<Ancestor> = found.into_values().collect();
    ancestors.sort_by(|a, b| {
        (a.region.region.code.as_str(), a.region.region.validity.from)
            .cmp(&(b.region.region.code.as_str(), b.region.region.validity.from))
    });
    Ok(ancestors)
}
