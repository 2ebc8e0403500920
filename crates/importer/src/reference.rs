//! What the rows of a run are checked against: the indicator catalog, the region versions
//! and the known sources, loaded once from the database at the start of a run and extended
//! by the indicators and regions the run itself brings. The catalog is the model's
//! [`Catalog`], which checks each indicator added against the rest and knows how figures of
//! each sit in time; this module keeps the database ids beside it.
//!
//! Being plain data, it lets every check of [`crate::validate`] be tested without a
//! database.

use std::collections::HashMap;

use ansinh_model::{
    Catalog, CatalogError, Indicator, IndicatorCode, NaiveDate, RegionCode, RegionLevel, Validity,
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
    pub validity: Validity,
}

/// Why a region code could not be resolved at a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionLookupError {
    #[error("unknown region code {code}")]
    Unknown { code: String },
    #[error("region {code} is not valid on {date} (its versions are valid {})", versions_text(.versions))]
    NotValid {
        code: String,
        date: NaiveDate,
        versions: Vec<Validity>,
    },
}

fn versions_text(versions: &[Validity]) -> String {
    versions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
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

    pub fn add_source(&mut self, name: &str, id: SourceId) {
        self.sources.insert(name.to_owned(), id);
    }

    pub fn indicator_code(&self, id: IndicatorId) -> Option<&str> {
        self.indicator_codes.get(&id).map(IndicatorCode::as_str)
    }

    pub fn region_code(&self, id: RegionId) -> Option<&str> {
        self.region_codes.get(&id).map(RegionCode::as_str)
    }

    pub fn indicator(&self, code: &str) -> Option<KnownIndicator<'_>> {
        Some(KnownIndicator {
            id: *self.indicator_ids.get(code)?,
            indicator: self.catalog.get(code)?,
        })
    }

    pub fn region_count(&self) -> usize {
        self.regions.values().map(Vec::len).sum()
    }

    pub fn source(&self, name: &str) -> Option<SourceId> {
        self.sources.get(name).copied()
    }

    /// Every stored version of `code`, oldest first.
    pub fn region_versions(&self, code: &str) -> &[KnownRegion] {
        self.regions.get(code).map_or(&[], Vec::as_slice)
    }

    /// The version of `code` valid on `date`.
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
            .ok_or_else(|| RegionLookupError::NotValid {
                code: code.to_owned(),
                date,
                versions: versions.iter().map(|v| v.validity).collect(),
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
    //! away), a commune, a group, and the indicators the seed report uses. For the unit tests,
    //! and (feature `fixtures`) for other crates' tests and the fuzz targets, so that every
    //! check can run without a database.
    use super::*;
    pub use ansinh_model::fixtures::date;
    use ansinh_model::fixtures::indicator;
    use ansinh_model::{IndicatorKind, Unit};

    /// The reference: regions 68 (both versions), 60, VN, commune 24820, group BHXH-KV25
    /// and 14; ten indicators of every kind, two ratios among them with their parts; one
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
        let regions = [
            (1, "68", "2008-08-01", Some("2025-06-30")),
            (2, "68", "2025-07-01", None),
            (3, "60", "2008-08-01", Some("2025-06-30")),
            (4, "VN", "1976-07-02", None),
            (5, "24820", "2008-08-01", Some("2025-06-30")),
            (6, "BHXH-KV25", "2020-01-01", None),
            (7, "14", "2008-08-01", Some("2025-06-30")),
        ];
        for (id, code, from, to) in regions {
            let code = RegionCode::parse(code).unwrap();
            r.add_region(KnownRegion {
                id,
                level: code.level_hint(),
                code,
                validity: Validity::new(date(from), to.map(date)).unwrap(),
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
    fn a_code_not_valid_then_names_its_validity() {
        let r = reference();
        let err = r.region_at("60", date("2025-12-31")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "region 60 is not valid on 2025-12-31 (its versions are valid 2008-08-01..2025-06-30)"
        );
        assert!(matches!(
            r.region_at("99", date("2024-01-01")),
            Err(RegionLookupError::Unknown { .. })
        ));
    }
}
