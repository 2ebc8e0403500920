//! What the rows of a run are checked against: the indicator catalog, the region versions
//! (with their names, for messages), the lineage edges between them and the known sources,
//! loaded once from the database at the start of a run and extended by the indicators,
//! regions and edges the run itself brings. The catalog is the model's [`Catalog`], which
//! checks each indicator added against the rest and knows how figures of each sit in time;
//! the edges are walked by the model's [`LineageGraph`]; this module keeps the database ids
//! beside them.
//!
//! Being plain data, it lets every check of [`crate::validate`] be tested without a
//! database.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

use ansinh_model::{
    Catalog, CatalogError, Indicator, IndicatorCode, LineageGraph, LineageLink, NaiveDate,
    RegionCode, RegionLevel, Validity,
};

/// Database ids. MySQL `INT UNSIGNED`/`BIGINT` keys all fit; the importer never does
/// arithmetic on them.
pub type RegionId = u32;
pub type IndicatorId = u32;
pub type SourceId = u32;

/// An indicator of the catalog and its database id.
#[derive(Debug, Clone, Copy)]
pub struct KnownIndicator<'a> {
    pub id: IndicatorId,
    pub indicator: &'a Indicator,
}

/// One stored version of a region code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownRegion {
    pub id: RegionId,
    pub code: RegionCode,
    pub level: RegionLevel,
    /// The version's name, for the messages that point a person to it.
    pub name: Box<str>,
    pub validity: Validity,
}

/// Why a region code could not be resolved at a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionLookupError {
    #[error("unknown region code {code}")]
    Unknown { code: String },
    /// No version is valid on `date`, and no lineage edge leads from the code's nearest
    /// version to one that is.
    #[error("region {code} is not valid on {date} (its versions are valid {})", versions_text(.versions))]
    NotValid {
        code: String,
        date: NaiveDate,
        versions: Vec<Validity>,
    },
    /// No version is valid on `date`, and lineage says which codes hold its territory then.
    #[error("{0}")]
    Moved(Moved),
}

fn versions_text(versions: &[Validity]) -> String {
    versions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A code used on a day its territory belongs to other versions: those versions, found
/// through lineage from the code's version that ended before the day (or began after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub level: RegionLevel,
    pub code: RegionCode,
    /// The day the code was looked up on (a row's period's last day).
    pub date: NaiveDate,
    pub change: Change,
    /// The versions valid on `date` that lineage leads to, in code order.
    pub counterparts: Vec<Counterpart>,
}

/// How the code's nearest version lies from the day it was looked up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It ended before the day, on this last day: the counterparts are its successors.
    Ended(NaiveDate),
    /// It began after the day, on this first day: the counterparts are its predecessors.
    Began(NaiveDate),
}

/// A version valid on the day asked about, at the other end of a lineage walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counterpart {
    pub code: RegionCode,
    pub name: Box<str>,
    /// Whether only part of a territory passes between the two (a split on the way).
    pub part: bool,
}

/// How many counterparts a message names before "and N more".
const NAMED_COUNTERPARTS: usize = 5;

/// How many characters of a counterpart's name a message quotes: with five of them named, the
/// message stays far below what a problem keeps of a reason.
const NAME_CHARS: usize = 60;

impl fmt::Display for Moved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let named = &self.counterparts[..self.counterparts.len().min(NAMED_COUNTERPARTS)];
        let more = self.counterparts.len() - named.len();
        let items: Vec<String> = named
            .iter()
            .map(|c| {
                let name = short_name(&c.name);
                match (self.change, c.part) {
                    (Change::Ended(_), false) => format!("in {} ({name})", c.code),
                    (Change::Ended(_), true) => format!("partly in {} ({name})", c.code),
                    (Change::Began(_), false) => format!("{} ({name})", c.code),
                    (Change::Began(_), true) => format!("part of {} ({name})", c.code),
                }
            })
            .collect();
        let list = and_list(&items, more);
        let (level, code) = (self.level, &self.code);
        match self.change {
            Change::Ended(last) => write!(
                f,
                "{level} {code} ended on {last}; from {} its territory is {list}",
                last.succ_opt().unwrap_or(last)
            )?,
            Change::Began(first) => write!(
                f,
                "{level} {code} began on {first}; until {} it was {list}",
                first.pred_opt().unwrap_or(first)
            )?,
        }
        let codes: Vec<String> = named.iter().map(|c| c.code.to_string()).collect();
        let instead = if more > 0 {
            "one of the codes valid then".to_owned()
        } else {
            or_list(&codes)
        };
        write!(f, "; on {} use {instead}", self.date)
    }
}

/// `name`, or its first [`NAME_CHARS`] characters and an ellipsis.
fn short_name(name: &str) -> String {
    if name.chars().count() <= NAME_CHARS {
        return name.to_owned();
    }
    let mut short: String = name.chars().take(NAME_CHARS - 1).collect();
    short.push('…');
    short
}

/// `a`, `a and b`, `a, b and c`, or `a, b and 3 more`.
fn and_list(items: &[String], more: usize) -> String {
    let mut items = items.to_vec();
    if more > 0 {
        items.push(format!("{more} more"));
    }
    joined(&items, "and")
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    joined(items, "or")
}

fn joined(items: &[String], last_word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {last_word} {last}", init.join(", ")),
    }
}

#[derive(Debug, Default, Clone)]
pub struct Reference {
    catalog: Catalog,
    /// The id of each indicator of the catalog, and back.
    indicator_ids: HashMap<IndicatorCode, IndicatorId>,
    indicator_codes: HashMap<IndicatorId, IndicatorCode>,
    regions: HashMap<String, Vec<KnownRegion>>,
    sources: HashMap<String, SourceId>,
    region_codes: HashMap<RegionId, RegionCode>,
    /// Every lineage edge, by its ends (an old version's edges side by side).
    lineage: BTreeMap<(RegionId, RegionId), LineageLink<RegionId>>,
    /// The walk over `lineage`, built when a message first needs it after an edge changed.
    graph: OnceLock<LineageGraph<RegionId>>,
}

impl Reference {
    /// A reference whose catalog is `indicators` (as stored: with their ids), checked as a
    /// whole; no regions or sources yet.
    pub fn with_indicators(
        indicators: impl IntoIterator<Item = (IndicatorId, Indicator)>,
    ) -> Result<Self, CatalogError> {
        let indicators: Vec<(IndicatorId, Indicator)> = indicators.into_iter().collect();
        let mut reference = Self::default();
        for (id, indicator) in &indicators {
            reference.add_id(*id, &indicator.code);
        }
        reference.catalog = Catalog::new(indicators.into_iter().map(|(_, indicator)| indicator))?;
        Ok(reference)
    }

    /// Adds `indicator` (stored as `id`), or puts it in place of the one with its code, if the
    /// catalog allows it ([`Catalog::insert`]: a ratio after its parts, a part still fit for
    /// its ratios).
    pub fn add_indicator(
        &mut self,
        id: IndicatorId,
        indicator: Indicator,
    ) -> Result<(), CatalogError> {
        let code = indicator.code.clone();
        self.catalog.insert(indicator)?;
        self.add_id(id, &code);
        Ok(())
    }

    fn add_id(&mut self, id: IndicatorId, code: &IndicatorCode) {
        self.indicator_ids.insert(code.clone(), id);
        self.indicator_codes.insert(id, code.clone());
    }

    /// The indicators, as the model checks them and reads their timing.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn add_region(&mut self, region: KnownRegion) {
        self.region_codes.insert(region.id, region.code.clone());
        let versions = self
            .regions
            .entry(region.code.as_str().to_owned())
            .or_default();
        versions.retain(|v| v.id != region.id);
        versions.push(region);
        versions.sort_by_key(|v| v.validity.from);
    }

    /// Adds the edge `link`, or puts it in place of the stored edge between the same ends.
    pub fn add_lineage(&mut self, link: LineageLink<RegionId>) {
        self.lineage.insert((link.from, link.to), link);
        self.graph = OnceLock::new();
    }

    /// The edges from the version `from` to its successors.
    pub fn lineage_from(
        &self,
        from: RegionId,
    ) -> impl Iterator<Item = &LineageLink<RegionId>> + '_ {
        self.lineage
            .range((from, RegionId::MIN)..=(from, RegionId::MAX))
            .map(|(_, link)| link)
    }

    fn graph(&self) -> &LineageGraph<RegionId> {
        self.graph
            .get_or_init(|| LineageGraph::new(self.lineage.values().copied()))
    }

    pub fn add_source(&mut self, name: &str, id: SourceId) {
        self.sources.insert(name.to_owned(), id);
    }

    pub fn indicator_code(&self, id: IndicatorId) -> Option<&str> {
        self.indicator_codes.get(&id).map(IndicatorCode::as_str)
    }

    pub fn region_code(&self, id: RegionId) -> Option<&str> {
        self.region_codes.get(&id).map(RegionCode::as_str)
    }

    /// The version stored as `id`.
    pub fn region_by_id(&self, id: RegionId) -> Option<&KnownRegion> {
        let code = self.region_codes.get(&id)?;
        self.region_versions(code.as_str())
            .iter()
            .find(|v| v.id == id)
    }

    pub fn indicator(&self, code: &str) -> Option<KnownIndicator<'_>> {
        Some(KnownIndicator {
            id: *self.indicator_ids.get(code)?,
            indicator: self.catalog.get(code)?,
        })
    }

    pub fn source(&self, name: &str) -> Option<SourceId> {
        self.sources.get(name).copied()
    }

    /// The name of the source stored as `id`. A search: only for the few rows a message shows.
    pub fn source_name(&self, id: SourceId) -> Option<&str> {
        self.sources
            .iter()
            .find_map(|(name, &known)| (known == id).then_some(name.as_str()))
    }

    /// Every stored version of `code`, oldest first.
    pub fn region_versions(&self, code: &str) -> &[KnownRegion] {
        self.regions.get(code).map_or(&[], Vec::as_slice)
    }

    /// The version of `code` valid on `date`. When there is none, the error names the
    /// versions lineage leads to on `date`, if any, else the code's validity.
    pub fn region_at(
        &self,
        code: &str,
        date: NaiveDate,
    ) -> Result<&KnownRegion, RegionLookupError> {
        let versions = self.region_versions(code);
        if versions.is_empty() {
            return Err(RegionLookupError::Unknown {
                code: code.to_owned(),
            });
        }
        versions
            .iter()
            .find(|v| v.validity.contains(date))
            .ok_or_else(|| match self.moved(versions, date) {
                Some(moved) => RegionLookupError::Moved(moved),
                None => RegionLookupError::NotValid {
                    code: code.to_owned(),
                    date,
                    versions: versions.iter().map(|v| v.validity).collect(),
                },
            })
    }

    /// Where the territory of `versions` (one code's, none valid on `date`) is on `date`:
    /// walked forwards from the last version that ended before `date`, or else backwards from
    /// the first that began after it.
    fn moved(&self, versions: &[KnownRegion], date: NaiveDate) -> Option<Moved> {
        let ended = versions
            .iter()
            .rev()
            .find_map(|v| v.validity.to.filter(|&to| to < date).map(|to| (v, to)));
        let (start, change) = match ended {
            Some((version, last)) => (version, Change::Ended(last)),
            None => {
                let version = versions.iter().find(|v| v.validity.from > date)?;
                (version, Change::Began(version.validity.from))
            }
        };
        let mut counterparts: Vec<Counterpart> = self
            .graph()
            .convert(start.id, date, |id| {
                self.region_by_id(id).map(|region| region.validity)
            })
            .into_iter()
            .filter_map(|conversion| {
                let region = self.region_by_id(conversion.region)?;
                Some(Counterpart {
                    code: region.code.clone(),
                    name: region.name.clone(),
                    part: !conversion.exact,
                })
            })
            .collect();
        if counterparts.is_empty() {
            return None;
        }
        counterparts.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
        Some(Moved {
            level: start.level,
            code: start.code.clone(),
            date,
            change,
            counterparts,
        })
    }

    /// The version of `code` that starts on `from` (how lineage files name a version).
    pub fn region_version(&self, code: &str, from: NaiveDate) -> Option<&KnownRegion> {
        self.region_versions(code)
            .iter()
            .find(|v| v.validity.from == from)
    }
}

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    //! A small reference: Lâm Đồng before and after the 2025 merger, Bình Thuận (merged
    //! away), a commune divided in 2025 between two new ones, a commune, a group, and the
    //! indicators the seed report uses. For the unit tests, and (feature `fixtures`) for
    //! other crates' tests and the fuzz targets, so that every check can run without a
    //! database.
    use super::*;
    pub use ansinh_model::fixtures::date;
    use ansinh_model::fixtures::indicator;
    use ansinh_model::{IndicatorKind, LineageKind, Unit};

    /// The reference: regions 68 (both versions), 60, VN, commune 24820, group BHXH-KV25
    /// and 14; old commune 00007, divided on 2025-07-01 between new communes 00008 and 00025;
    /// the lineage of 60 and 68 into the new 68 (merges) and of 00007 (splits, without
    /// weights); ten indicators of every kind, two ratios among them with their parts; one
    /// known source.
    pub fn reference() -> Reference {
        use IndicatorKind::*;
        let indicators = [
            (1, indicator("population", Unit::Persons, Stock, None)),
            (2, indicator("hi_participants", Unit::Persons, Stock, None)),
            (
                3,
                indicator(
                    "hi_coverage_rate",
                    Unit::Percent,
                    Ratio,
                    Some(("hi_participants", "population")),
                ),
            ),
            (
                4,
                indicator("contributions_collected", Unit::Vnd, Flow, None),
            ),
            (
                5,
                indicator(
                    "contributions_plan_rate",
                    Unit::Percent,
                    ReportedRatio,
                    None,
                ),
            ),
            (6, indicator("collection_points", Unit::Count, Stock, None)),
            (7, indicator("benefits_paid", Unit::Vnd, Flow, None)),
            (
                8,
                indicator(
                    "si_coverage_rate",
                    Unit::Percent,
                    Ratio,
                    Some(("si_participants", "labour_force")),
                ),
            ),
            (9, indicator("si_participants", Unit::Persons, Stock, None)),
            (10, indicator("labour_force", Unit::Persons, Stock, None)),
        ];
        let mut r = Reference::with_indicators(indicators).unwrap();
        let old = Some("2025-06-30");
        let regions = [
            (1, "68", "Lâm Đồng", "2008-08-01", old),
            (2, "68", "Lâm Đồng", "2025-07-01", None),
            (3, "60", "Bình Thuận", "2008-08-01", old),
            (4, "VN", "Việt Nam", "1976-07-02", None),
            (5, "24820", "Phường 1", "2008-08-01", old),
            (
                6,
                "BHXH-KV25",
                "Social Insurance Region 25",
                "2020-01-01",
                None,
            ),
            (7, "14", "Sơn La", "2008-08-01", old),
            (8, "00007", "Phường Cống Vị", "2008-08-01", old),
            (9, "00008", "Phường Ngọc Hà", "2025-07-01", None),
            (10, "00025", "Phường Giảng Võ", "2025-07-01", None),
        ];
        for (id, code, name, from, to) in regions {
            let code = RegionCode::parse(code).unwrap();
            r.add_region(KnownRegion {
                id,
                level: code.level_hint(),
                code,
                name: name.into(),
                validity: Validity::new(date(from), to.map(date)).unwrap(),
            });
        }
        let lineage = [
            (1, 2, LineageKind::Merge),
            (3, 2, LineageKind::Merge),
            (8, 9, LineageKind::Split),
            (8, 10, LineageKind::Split),
        ];
        for (from, to, kind) in lineage {
            r.add_lineage(LineageLink {
                from,
                to,
                kind,
                weight: None,
            });
        }
        r.add_source("baolamdong.vn 2025-05", 1);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn a_code_resolves_to_the_version_valid_on_the_date() {
        let r = reference();
        assert_eq!(r.region_at("68", date("2024-12-31")).unwrap().id, 1);
        assert_eq!(r.region_at("68", date("2025-07-01")).unwrap().id, 2);
    }

    #[test]
    fn a_code_without_lineage_names_its_validity() {
        let r = reference();
        let err = r.region_at("14", date("2025-12-31")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "region 14 is not valid on 2025-12-31 (its versions are valid 2008-08-01..2025-06-30)"
        );
        assert!(matches!(
            r.region_at("99", date("2024-01-01")),
            Err(RegionLookupError::Unknown { .. })
        ));
    }

    #[test]
    fn a_code_that_ended_names_where_its_territory_went() {
        let r = reference();
        let err = r.region_at("60", date("2025-08-31")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "province 60 ended on 2025-06-30; from 2025-07-01 its territory is in 68 (Lâm Đồng); on 2025-08-31 use 68"
        );
        let err = r.region_at("00007", date("2025-08-31")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "commune 00007 ended on 2025-06-30; from 2025-07-01 its territory is partly in 00008 (Phường Ngọc Hà) and partly in 00025 (Phường Giảng Võ); on 2025-08-31 use 00008 or 00025"
        );
    }

    #[test]
    fn a_code_that_began_names_what_it_was_formed_from() {
        let r = reference();
        let err = r.region_at("00008", date("2024-12-31")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "commune 00008 began on 2025-07-01; until 2025-06-30 it was part of 00007 (Phường Cống Vị); on 2024-12-31 use 00007"
        );
    }

    #[test]
    fn edges_a_run_brings_are_walked_and_long_lists_are_cut() {
        let mut r = reference();
        // Old commune 00007 divided among eight new ones with long names.
        for id in 30..38 {
            let code = RegionCode::parse(&format!("000{id}")).unwrap();
            r.add_region(KnownRegion {
                id,
                level: RegionLevel::Commune,
                code,
                name: "Phường ".repeat(40).into(),
                validity: Validity::since(date("2025-07-01")),
            });
            r.add_lineage(LineageLink {
                from: 8,
                to: id,
                kind: ansinh_model::LineageKind::Split,
                weight: None,
            });
        }
        let text = r
            .region_at("00007", date("2025-08-31"))
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with("commune 00007 ended on 2025-06-30; from 2025-07-01 its territory is partly in 00008 (Phường Ngọc Hà), partly in 00025 (Phường Giảng Võ), partly in 00030 (Phường Phường"),
            "{text}"
        );
        assert!(
            text.ends_with("…) and 5 more; on 2025-08-31 use one of the codes valid then"),
            "{text}"
        );
        assert_eq!(text.matches("partly in").count(), 5, "{text}");
        assert!(
            text.chars().count() < crate::problem::REASON_CHARS,
            "{} characters: {text}",
            text.chars().count()
        );
    }
}
