//! Rows of `regions`, `region_members` and `region_lineage`.

use ansinh_model::Region;
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::decimal::SqlDecimal;
use crate::schema::{region_lineage, region_members, regions};

/// One region version as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = regions, check_for_backend(diesel::mysql::Mysql))]
pub struct RegionRow {
    pub id: u32,
    pub code: String,
    /// `model::RegionLevel::as_str`.
    pub level: String,
    pub kind: Option<String>,
    /// The short name ("Lâm Đồng").
    pub name: String,
    /// The official full name ("Tỉnh Lâm Đồng").
    pub name_vi: Option<String>,
    /// `model::fold_name` of the names, for diacritic-insensitive search.
    pub name_folded: String,
    pub parent_id: Option<u32>,
    pub valid_from: NaiveDate,
    /// Inclusive; `None` while current.
    pub valid_to: Option<NaiveDate>,
}

/// A region version to insert.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, AsChangeset)]
#[diesel(table_name = regions, treat_none_as_null = true)]
pub struct NewRegion<'a> {
    pub code: &'a str,
    pub level: &'a str,
    pub kind: Option<&'a str>,
    pub name: &'a str,
    pub name_vi: Option<&'a str>,
    pub name_folded: &'a str,
    pub parent_id: Option<u32>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl<'a> NewRegion<'a> {
    /// The row for `region`, whose parent version has `parent_id`. `name_folded` must be
    /// `queries::regions::fold_region_names` of the region's names.
    pub fn from_region(region: &'a Region, parent_id: Option<u32>, name_folded: &'a str) -> Self {
        Self {
            code: region.code.as_str(),
            level: region.level.as_str(),
            kind: region.kind.as_deref(),
            name: &region.name,
            name_vi: region.name_vi.as_deref(),
            name_folded,
            parent_id,
            valid_from: region.validity.from,
            valid_to: region.validity.to,
        }
    }
}

/// A region version's place in a user-defined group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = region_members, check_for_backend(diesel::mysql::Mysql))]
pub struct RegionMemberRow {
    pub group_id: u32,
    pub member_id: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Insertable)]
#[diesel(table_name = region_members)]
pub struct NewRegionMember {
    pub group_id: u32,
    pub member_id: u32,
}

/// An edge from a region version to a successor.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = region_lineage, check_for_backend(diesel::mysql::Mysql))]
pub struct LineageRow {
    pub from_region_id: u32,
    pub to_region_id: u32,
    /// `model::LineageKind::as_str`.
    pub kind: String,
    pub effective_date: NaiveDate,
    pub approximate: bool,
    /// The share of the earlier version's figures that the later one takes, when known.
    pub weight: Option<SqlDecimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = region_lineage)]
pub struct NewLineage<'a> {
    pub from_region_id: u32,
    pub to_region_id: u32,
    pub kind: &'a str,
    pub effective_date: NaiveDate,
    pub approximate: bool,
    pub weight: Option<SqlDecimal>,
}
