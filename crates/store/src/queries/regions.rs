//! Region versions: resolving a code on a date, listing a level with keyset paging, and
//! walking lineage edges; and the one way a version is read with its parent's code
//! ([`records`], [`to_record`]), which the region tree and the observations use too.

use ansinh_model::{
    Decimal, LineageKind, LineageLink, NaiveDate, Region, RegionCode, RegionLevel, Validity,
    fold_name,
};
use diesel::dsl::{AsSelect, Select};
use diesel::mysql::Mysql;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSelectStatement, FromClause};
use diesel::query_source::{AliasedField, QuerySource};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::StoreError;
use crate::models::{LineageRow, RegionRow};
use crate::schema::{region_lineage, regions};

diesel::alias!(regions as parents: ParentsAlias);

/// A stored region version: its id, its parent's id, and the domain value (whose `parent` is
/// the parent's code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRecord {
    pub id: u32,
    pub parent_id: Option<u32>,
    pub region: Region,
}

/// A lineage edge seen from one end: the version at the other end and how they are linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageEdge {
    pub region: RegionRecord,
    pub kind: LineageKind,
    pub effective_date: NaiveDate,
    /// Whether figures carried along this edge are estimates (splits).
    pub approximate: bool,
    /// The share of the earlier version's figures that the later one takes, when known.
    pub weight: Option<Decimal>,
}

/// Which regions [`list_regions`] and [`count_regions`] return; `None` fields do not filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegionFilter<'a> {
    pub level: Option<RegionLevel>,
    pub parent_id: Option<u32>,
    /// Only versions valid on this day.
    pub valid_on: Option<NaiveDate>,
    /// Names containing this text, ignoring case and diacritics ("lam dong" finds "Lâm Đồng").
    pub name: Option<&'a str>,
}

/// Where a page of [`list_regions`] ends; the next page starts after it. Pages are ordered by
/// code, then id (a code alone is not unique across dates).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionCursor {
    pub code: String,
    pub id: u32,
}

impl RegionCursor {
    pub fn after(record: &RegionRecord) -> Self {
        Self {
            code: record.region.code.as_str().to_owned(),
            id: record.id,
        }
    }
}

/// The text stored in `regions.name_folded`: both names folded with [`fold_name`], joined by
/// `" | "` when they differ, so a search matches either name but never a phrase spanning
/// the two. Every writer of `regions` must use this.
pub fn fold_region_names(name: &str, name_vi: Option<&str>) -> String {
    let name = fold_name(name);
    match name_vi.map(fold_name) {
        Some(vi) if vi != name && !vi.is_empty() => format!("{name} | {vi}"),
        _ => name,
    }
}

#[diesel::dsl::auto_type]
fn valid_on(date: NaiveDate) -> _ {
    regions::valid_from
        .le(date)
        .and(regions::valid_to.is_null().or(regions::valid_to.ge(date)))
}

/// The join that gives a region version its parent's code. Every query that returns
/// [`RegionRecord`]s joins it and selects the version with [`parent_code`], which
/// [`to_record`] decodes, so a record is read one way wherever it comes from.
#[diesel::dsl::auto_type]
pub(crate) fn parent_join() -> _ {
    parents.on(regions::parent_id.eq(parents.field(regions::id).nullable()))
}

#[diesel::dsl::auto_type]
fn with_parent_code() -> _ {
    regions::table.left_join(parent_join())
}

type ParentCode = diesel::dsl::Nullable<AliasedField<ParentsAlias, regions::code>>;

/// The parent's code through [`parent_join`]; `NULL` for versions without a parent.
pub(crate) fn parent_code() -> ParentCode {
    parents.field(regions::code).nullable()
}

/// What [`record_columns`] loads into.
pub(crate) type RowWithParent = (RegionRow, Option<String>);

type RecordColumns = (AsSelect<RegionRow, Mysql>, ParentCode);

fn record_columns() -> RecordColumns {
    (RegionRow::as_select(), parent_code())
}

/// Region versions with their parents' codes, to filter, order, load and [`to_records`].
pub(crate) fn records() -> Select<with_parent_code, RecordColumns> {
    with_parent_code().select(record_columns())
}

/// Decodes what a [`records`] query loaded.
pub(crate) fn to_records(rows: Vec<RowWithParent>) -> Result<Vec<RegionRecord>, StoreError> {
    rows.into_iter().map(to_record).collect()
}

/// The version of `code` valid on `date`, if any.
pub async fn region_at(
    conn: &mut AsyncMysqlConnection,
    code: &RegionCode,
    date: NaiveDate,
) -> Result<Option<RegionRecord>, StoreError> {
    let query = records()
        .filter(regions::code.eq(code.as_str()))
        .filter(valid_on(date))
        // Versions of one code should not overlap; if imported data makes them, the latest
        // start wins, deterministically.
        .order(regions::valid_from.desc())
        .limit(1);
    Ok(to_records(query.load(conn).await?)?.pop())
}

/// The version with this id, if any.
pub async fn region_by_id(
    conn: &mut AsyncMysqlConnection,
    id: u32,
) -> Result<Option<RegionRecord>, StoreError> {
    let query = records().filter(regions::id.eq(id)).limit(1);
    Ok(to_records(query.load(conn).await?)?.pop())
}

/// How many versions of `level` are valid on `date`.
pub async fn regions_valid_at(
    conn: &mut AsyncMysqlConnection,
    level: RegionLevel,
    date: NaiveDate,
) -> Result<u64, StoreError> {
    let filter = RegionFilter {
        level: Some(level),
        valid_on: Some(date),
        ..RegionFilter::default()
    };
    count_regions(conn, &filter).await
}

/// `query` narrowed to the versions `filter` matches: one place for what a filter means, for
/// the count and the pages alike, whichever tables the query joins to `regions`.
fn matching<'a, ST, QS>(
    mut query: BoxedSelectStatement<'a, ST, FromClause<QS>, Mysql>,
    filter: &RegionFilter<'_>,
) -> BoxedSelectStatement<'a, ST, FromClause<QS>, Mysql>
where
    QS: QuerySource,
    regions::level: SelectableExpression<QS>,
    regions::parent_id: SelectableExpression<QS>,
    regions::valid_from: SelectableExpression<QS>,
    regions::valid_to: SelectableExpression<QS>,
    regions::name_folded: SelectableExpression<QS>,
{
    if let Some(level) = filter.level {
        query = query.filter(regions::level.eq(level.as_str()));
    }
    if let Some(parent_id) = filter.parent_id {
        query = query.filter(regions::parent_id.eq(parent_id));
    }
    if let Some(date) = filter.valid_on {
        query = query.filter(valid_on(date));
    }
    if let Some(pattern) = filter.name.map(name_pattern) {
        query = query.filter(regions::name_folded.like(pattern).escape('\\'));
    }
    query
}

/// How many versions match `filter`.
pub async fn count_regions(
    conn: &mut AsyncMysqlConnection,
    filter: &RegionFilter<'_>,
) -> Result<u64, StoreError> {
    let query = matching(regions::table.count().into_boxed(), filter);
    let count: i64 = query.get_result(conn).await?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Up to `limit` versions matching `filter`, ordered by code then id, starting after
/// `after` (the [`RegionCursor::after`] of the previous page's last record).
pub async fn list_regions(
    conn: &mut AsyncMysqlConnection,
    filter: &RegionFilter<'_>,
    after: Option<&RegionCursor>,
    limit: u32,
) -> Result<Vec<RegionRecord>, StoreError> {
    let mut query = matching(records().into_boxed(), filter);
    if let Some(cursor) = after {
        query = query.filter(
            regions::code.gt(cursor.code.clone()).or(regions::code
                .eq(cursor.code.clone())
                .and(regions::id.gt(cursor.id))),
        );
    }
    let query = query
        .order((regions::code.asc(), regions::id.asc()))
        .limit(i64::from(limit));
    to_records(query.load(conn).await?)
}

/// `%<folded text>%` with LIKE's wildcards in the text escaped, so "50%" means 50%.
fn name_pattern(text: &str) -> String {
    let folded = fold_name(text);
    let mut pattern = String::with_capacity(folded.len() + 2);
    pattern.push('%');
    for character in folded.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

/// The edges whose `$near` end is `$region_id`, each with the version at its `$far` end,
/// ordered by that version's code, then id. A macro so that both directions are one query:
/// they join on different columns, which diesel gives different types.
macro_rules! lineage_edges {
    ($conn:expr, $region_id:expr, near: $near:ident, far: $far:ident) => {
        region_lineage::table
            .inner_join(regions::table.on(regions::id.eq(region_lineage::$far)))
            .left_join(parent_join())
            .filter(region_lineage::$near.eq($region_id))
            .order((regions::code.asc(), regions::id.asc()))
            .select((LineageRow::as_select(), record_columns()))
            .load($conn)
            .await?
            .into_iter()
            .map(to_edge)
            .collect()
    };
}

/// The versions `region_id` came from (e.g. old 68, 60 and 67 for the 2025 Lâm Đồng),
/// ordered by code.
pub async fn lineage_predecessors(
    conn: &mut AsyncMysqlConnection,
    region_id: u32,
) -> Result<Vec<LineageEdge>, StoreError> {
    lineage_edges!(conn, region_id, near: to_region_id, far: from_region_id)
}

/// The versions `region_id` went into, ordered by code.
pub async fn lineage_successors(
    conn: &mut AsyncMysqlConnection,
    region_id: u32,
) -> Result<Vec<LineageEdge>, StoreError> {
    lineage_edges!(conn, region_id, near: from_region_id, far: to_region_id)
}

fn to_edge((lineage, region): (LineageRow, RowWithParent)) -> Result<LineageEdge, StoreError> {
    Ok(LineageEdge {
        region: to_record(region)?,
        kind: lineage_kind(&lineage)?,
        effective_date: lineage.effective_date,
        approximate: lineage.approximate,
        weight: lineage.weight.map(Decimal::from),
    })
}

/// Rebuilds the domain value from a stored row without re-applying input rules (the row was
/// checked when written); only values no domain type can hold are reported.
pub(crate) fn to_record((row, parent_code): RowWithParent) -> Result<RegionRecord, StoreError> {
    let corrupt =
        |what: String| StoreError::Corrupt(format!("region {} (id {}): {what}", row.code, row.id));
    let code = RegionCode::parse(&row.code).map_err(|e| corrupt(e.to_string()))?;
    let level = row
        .level
        .parse::<RegionLevel>()
        .map_err(|e| corrupt(e.to_string()))?;
    let parent = parent_code
        .as_deref()
        .map(RegionCode::parse)
        .transpose()
        .map_err(|e| corrupt(e.to_string()))?;
    let validity =
        Validity::new(row.valid_from, row.valid_to).map_err(|e| corrupt(e.to_string()))?;
    Ok(RegionRecord {
        id: row.id,
        parent_id: row.parent_id,
        region: Region {
            code,
            level,
            name: row.name,
            name_vi: row.name_vi,
            kind: row.kind,
            parent,
            validity,
        },
    })
}

/// Every lineage edge, by the ids of its two ends: the whole graph the server walks to carry
/// codes across boundary changes (some 10,700 edges, one query).
pub async fn lineage_links(
    conn: &mut AsyncMysqlConnection,
) -> Result<Vec<LineageLink<u32>>, StoreError> {
    region_lineage::table
        .select(LineageRow::as_select())
        .order((region_lineage::from_region_id, region_lineage::to_region_id))
        .load::<LineageRow>(conn)
        .await?
        .into_iter()
        .map(|row| {
            Ok(LineageLink {
                from: row.from_region_id,
                to: row.to_region_id,
                kind: lineage_kind(&row)?,
                weight: row.weight.map(Decimal::from),
            })
        })
        .collect()
}

fn lineage_kind(row: &LineageRow) -> Result<LineageKind, StoreError> {
    row.kind.parse::<LineageKind>().map_err(|e| {
        StoreError::Corrupt(format!(
            "lineage edge {} -> {}: {e}",
            row.from_region_id, row.to_region_id
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_names_keep_both_names_apart() {
        assert_eq!(
            fold_region_names("Lâm Đồng", Some("Tỉnh Lâm Đồng")),
            "lam dong | tinh lam dong"
        );
        assert_eq!(fold_region_names("Đắk Nông", None), "dak nong");
        assert_eq!(fold_region_names("Huế", Some("HUẾ")), "hue");
    }

    #[test]
    fn name_pattern_escapes_wildcards() {
        assert_eq!(name_pattern("Lâm  Đồng"), "%lam dong%");
        assert_eq!(name_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
