//! The bundled reference data as domain values: both generations of Vietnam's administrative
//! units, the 2025 province lineage, and the default indicator catalog.
//!
//! Pure: the CSV files are compiled in (`include_str!`) and turned into model values through
//! the model's checked constructors, so a bad edit to a bundled file fails the unit tests
//! here, not a customer's `migrate`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use ansinh_model::{
    Catalog, Indicator, IndicatorCode, IndicatorKind, LineageKind, NaiveDate, Region, RegionCode,
    RegionLevel, Unit, Validity,
};

use crate::StoreError;

const PROVINCES_BEFORE: &str = include_str!("../../reference/provinces_before_2025-07-01.csv");
const DISTRICTS_BEFORE: &str = include_str!("../../reference/districts_before_2025-07-01.csv");
const COMMUNES_BEFORE: &str = include_str!("../../reference/communes_before_2025-07-01.csv");
const PROVINCES_FROM: &str = include_str!("../../reference/provinces_from_2025-07-01.csv");
const COMMUNES_FROM: &str = include_str!("../../reference/communes_from_2025-07-01.csv");
const MERGERS: &str = include_str!("../../reference/province_mergers_2025-07-01.csv");
const COMMUNE_LINEAGE: &str = include_str!("../../reference/commune_lineage_2025-07-01.csv");
const INDICATORS: &str = include_str!("../../reference/indicators.csv");

/// The day the 63-province map took effect (Hà Tây merged into Hà Nội); the first generation
/// is valid from here.
pub(crate) fn first_generation_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2008, 8, 1).expect("a valid date")
}

/// The day the 34-province, two-level map took effect (Resolution 202/2025/QH15).
pub(crate) fn reform_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("a valid date")
}

fn last_day_before_reform() -> NaiveDate {
    reform_date().pred_opt().expect("a valid date")
}

/// A region version named by its natural key, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct VersionKey {
    pub(crate) code: RegionCode,
    pub(crate) valid_from: NaiveDate,
}

/// A lineage edge between two bundled versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BundledLineage {
    pub(crate) from: VersionKey,
    pub(crate) to: VersionKey,
    pub(crate) kind: LineageKind,
    pub(crate) effective_date: NaiveDate,
}

/// Everything `install_reference_data` writes.
#[derive(Debug, Clone)]
pub(crate) struct BundledData {
    /// Parents before children: the nation, provinces, districts, communes.
    pub(crate) regions: Vec<Region>,
    pub(crate) lineage: Vec<BundledLineage>,
    /// In file order; a ratio may come before its parts.
    pub(crate) indicators: Vec<Indicator>,
}

impl BundledData {
    pub(crate) fn load() -> Result<Self, StoreError> {
        let (regions, lineage) = admin_units()?;
        Ok(Self {
            regions,
            lineage,
            indicators: indicator_catalog()?,
        })
    }
}

/// A parsed CSV file: rows addressed by column name, errors located by file and line.
struct CsvFile {
    name: &'static str,
    headers: HashMap<String, usize>,
    records: Vec<(u64, csv::StringRecord)>,
}

impl CsvFile {
    fn parse(name: &'static str, text: &'static str) -> Result<Self, StoreError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| bad(name, 1, e))?
            .iter()
            .enumerate()
            .map(|(i, header)| (header.trim().to_owned(), i))
            .collect();
        let records = reader
            .records()
            .map(|record| {
                let record = record.map_err(|e| bad(name, 0, e))?;
                let line = record.position().map_or(0, csv::Position::line);
                Ok((line, record))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Self {
            name,
            headers,
            records,
        })
    }

    fn rows(&self) -> impl Iterator<Item = CsvRow<'_>> {
        self.records.iter().map(|(line, record)| CsvRow {
            file: self,
            line: *line,
            record,
        })
    }
}

struct CsvRow<'a> {
    file: &'a CsvFile,
    line: u64,
    record: &'a csv::StringRecord,
}

impl CsvRow<'_> {
    /// The cell of `column`, trimmed; empty when the column is absent.
    fn get(&self, column: &str) -> &str {
        self.file
            .headers
            .get(column)
            .and_then(|&i| self.record.get(i))
            .map_or("", str::trim)
    }

    fn optional(&self, column: &str) -> Option<String> {
        Some(self.get(column).to_owned()).filter(|text| !text.is_empty())
    }

    fn error(&self, what: impl std::fmt::Display) -> StoreError {
        bad(self.file.name, self.line, what)
    }

    fn code(&self, column: &str) -> Result<RegionCode, StoreError> {
        RegionCode::parse(self.get(column)).map_err(|e| self.error(e))
    }
}

fn bad(file: &str, line: u64, what: impl std::fmt::Display) -> StoreError {
    StoreError::Reference(format!("{file}:{line}: {what}"))
}

/// Builds the regions of both generations and the province lineage.
///
/// A province the 2025 merger left alone (the merger table maps exactly one old province,
/// with the same code, into it) is one continuous version from 2008 on, with no lineage edge:
/// its series needs no re-basing. Every other old province ends on 2025-06-30 and gets an
/// exact `merge` edge to its new province.
fn admin_units() -> Result<(Vec<Region>, Vec<BundledLineage>), StoreError> {
    let start = first_generation_start();
    let old_validity = Validity::new(start, Some(last_day_before_reform()))
        .expect("the generation ends after it starts");
    let new_validity = Validity::since(reform_date());
    let continuous = Validity::since(start);

    let mergers = CsvFile::parse("province_mergers_2025-07-01.csv", MERGERS)?;
    let mut successor: BTreeMap<RegionCode, RegionCode> = BTreeMap::new();
    let mut predecessors: BTreeMap<RegionCode, Vec<RegionCode>> = BTreeMap::new();
    for row in mergers.rows() {
        let (old, new) = (row.code("old_code")?, row.code("new_code")?);
        if successor.insert(old.clone(), new.clone()).is_some() {
            return Err(row.error(format!("old province {old} is listed twice")));
        }
        predecessors.entry(new).or_default().push(old);
    }
    let unchanged: BTreeSet<RegionCode> = predecessors
        .iter()
        .filter(|(new, olds)| olds.as_slice() == [(*new).clone()])
        .map(|(new, _)| new.clone())
        .collect();

    let nation = RegionCode::parse("VN").expect("VN is the nation code");
    let mut regions = vec![
        Region::new(
            nation.clone(),
            RegionLevel::Nation,
            "Việt Nam",
            Some("Cộng hòa xã hội chủ nghĩa Việt Nam".to_owned()),
            None,
            None,
            continuous,
        )
        .map_err(|e| StoreError::Reference(e.to_string()))?,
    ];

    let province = |row: &CsvRow<'_>, validity: Validity| {
        Region::new(
            row.code("code")?,
            RegionLevel::Province,
            row.get("short_name"),
            row.optional("name"),
            row.optional("kind"),
            Some(nation.clone()),
            validity,
        )
        .map_err(|e| row.error(e))
    };
    let old_provinces = CsvFile::parse("provinces_before_2025-07-01.csv", PROVINCES_BEFORE)?;
    let mut old_codes = BTreeSet::new();
    for row in old_provinces.rows() {
        let code = row.code("code")?;
        if !successor.contains_key(&code) {
            return Err(row.error(format!("province {code} is missing from the merger table")));
        }
        old_codes.insert(code.clone());
        // An unchanged province is written once, from the current file, below.
        if !unchanged.contains(&code) {
            regions.push(province(&row, old_validity)?);
        }
    }
    let new_provinces = CsvFile::parse("provinces_from_2025-07-01.csv", PROVINCES_FROM)?;
    let mut new_codes = BTreeSet::new();
    for row in new_provinces.rows() {
        let code = row.code("code")?;
        if !predecessors.contains_key(&code) {
            return Err(row.error(format!("no old province merges into {code}")));
        }
        let validity = if unchanged.contains(&code) {
            continuous
        } else {
            new_validity
        };
        new_codes.insert(code);
        regions.push(province(&row, validity)?);
    }
    if let Some(code) = successor.keys().find(|code| !old_codes.contains(*code)) {
        return Err(StoreError::Reference(format!(
            "the merger table names old province {code}, which the province list lacks"
        )));
    }
    if let Some(code) = predecessors.keys().find(|code| !new_codes.contains(*code)) {
        return Err(StoreError::Reference(format!(
            "the merger table names new province {code}, which the province list lacks"
        )));
    }

    let subdivision = |row: &CsvRow<'_>, level: RegionLevel, parent: &str, validity: Validity| {
        Region::new(
            row.code("code")?,
            level,
            row.get("name"),
            None,
            row.optional("kind"),
            Some(row.code(parent)?),
            validity,
        )
        .map_err(|e| row.error(e))
    };
    let districts = CsvFile::parse("districts_before_2025-07-01.csv", DISTRICTS_BEFORE)?;
    for row in districts.rows() {
        regions.push(subdivision(
            &row,
            RegionLevel::District,
            "province_code",
            old_validity,
        )?);
    }
    let communes = CsvFile::parse("communes_before_2025-07-01.csv", COMMUNES_BEFORE)?;
    for row in communes.rows() {
        regions.push(subdivision(
            &row,
            RegionLevel::Commune,
            "district_code",
            old_validity,
        )?);
    }
    let communes = CsvFile::parse("communes_from_2025-07-01.csv", COMMUNES_FROM)?;
    for row in communes.rows() {
        regions.push(subdivision(
            &row,
            RegionLevel::Commune,
            "province_code",
            new_validity,
        )?);
    }

    let mut lineage: Vec<BundledLineage> = successor
        .into_iter()
        .filter(|(old, _)| !unchanged.contains(old))
        .map(|(old, new)| BundledLineage {
            from: VersionKey {
                code: old,
                valid_from: start,
            },
            to: VersionKey {
                code: new,
                valid_from: reform_date(),
            },
            // Every old province went wholly into one new one: exact.
            kind: LineageKind::Merge,
            effective_date: reform_date(),
        })
        .collect();
    lineage.extend(commune_lineage(start)?);
    Ok((regions, lineage))
}

/// The 2025 commune lineage: an old commune (or one of the five island districts that had no
/// communes) into each new commune that holds some of its territory. A `whole` edge is an
/// exact `merge`; a `part` edge (one of the 471 divided communes) is a `split`, approximate
/// unless a weight is imported for it.
fn commune_lineage(start: NaiveDate) -> Result<Vec<BundledLineage>, StoreError> {
    let file = CsvFile::parse("commune_lineage_2025-07-01.csv", COMMUNE_LINEAGE)?;
    file.rows()
        .map(|row| {
            let kind = match row.get("kind") {
                "whole" => LineageKind::Merge,
                "part" => LineageKind::Split,
                other => return Err(row.error(format!("kind {other:?} is neither whole nor part"))),
            };
            Ok(BundledLineage {
                from: VersionKey {
                    code: row.code("from_code")?,
                    valid_from: start,
                },
                to: VersionKey {
                    code: row.code("to_code")?,
                    valid_from: reform_date(),
                },
                kind,
                effective_date: reform_date(),
            })
        })
        .collect()
}

/// The default indicator catalog, in the importer's `indicators` format.
fn indicator_catalog() -> Result<Vec<Indicator>, StoreError> {
    let file = CsvFile::parse("indicators.csv", INDICATORS)?;
    let mut indicators = Vec::new();
    for row in file.rows() {
        let code = |column: &str| {
            row.optional(column)
                .map(|text| IndicatorCode::parse(&text).map_err(|e| row.error(e)))
                .transpose()
        };
        let indicator = Indicator::new(
            IndicatorCode::parse(row.get("code")).map_err(|e| row.error(e))?,
            row.get("name"),
            row.optional("name_vi"),
            Unit::from_str(row.get("unit")).map_err(|e| row.error(e))?,
            IndicatorKind::from_str(row.get("kind")).map_err(|e| row.error(e))?,
            code("numerator")?,
            code("denominator")?,
            row.optional("description"),
        )
        .map_err(|e| row.error(e))?;
        indicators.push(indicator);
    }
    Catalog::new(indicators.iter().cloned())
        .map_err(|e| StoreError::Reference(format!("indicators.csv: {e}")))?;
    Ok(indicators)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn valid_on(data: &BundledData, level: RegionLevel, day: NaiveDate) -> usize {
        data.regions
            .iter()
            .filter(|r| r.level == level && r.validity.contains(day))
            .count()
    }

    #[test]
    fn both_generations_have_their_official_counts() {
        let data = BundledData::load().unwrap();
        let before = date(2024, 6, 1);
        let after = date(2025, 8, 1);
        assert_eq!(valid_on(&data, RegionLevel::Nation, before), 1);
        assert_eq!(valid_on(&data, RegionLevel::Province, before), 63);
        assert_eq!(valid_on(&data, RegionLevel::District, before), 696);
        assert_eq!(valid_on(&data, RegionLevel::Commune, before), 10_035);
        assert_eq!(valid_on(&data, RegionLevel::Nation, after), 1);
        assert_eq!(valid_on(&data, RegionLevel::Province, after), 34);
        assert_eq!(valid_on(&data, RegionLevel::District, after), 0);
        assert_eq!(valid_on(&data, RegionLevel::Commune, after), 3_321);
    }

    #[test]
    fn unchanged_provinces_are_one_version_and_merged_ones_have_edges() {
        let data = BundledData::load().unwrap();
        let versions = |code: &str| {
            data.regions
                .iter()
                .filter(|r| r.code.as_str() == code)
                .map(|r| r.validity)
                .collect::<Vec<_>>()
        };
        assert_eq!(versions("01"), [Validity::since(date(2008, 8, 1))]);
        assert_eq!(versions("68").len(), 2);
        let into_68: Vec<&str> = data
            .lineage
            .iter()
            .filter(|edge| edge.to.code.as_str() == "68")
            .map(|edge| edge.from.code.as_str())
            .collect();
        assert_eq!(into_68, ["60", "67", "68"]);
        // 63 old provinces, 11 of them unchanged.
        let provinces: Vec<_> = data
            .lineage
            .iter()
            .filter(|edge| edge.from.code.level_hint() == RegionLevel::Province)
            .collect();
        assert_eq!(provinces.len(), 52);
        assert!(provinces.iter().all(|edge| edge.kind == LineageKind::Merge));
    }

    #[test]
    fn every_old_commune_has_a_successor_and_every_new_one_a_predecessor() {
        let data = BundledData::load().unwrap();
        let communes: Vec<_> = data
            .lineage
            .iter()
            .filter(|edge| edge.to.code.level_hint() == RegionLevel::Commune)
            .collect();
        assert_eq!(communes.len(), 10_602);
        let splits = communes
            .iter()
            .filter(|edge| edge.kind == LineageKind::Split)
            .count();
        assert_eq!(splits, 1_033);
        let (before, after) = (date(2024, 6, 1), date(2025, 8, 1));
        let codes = |day: NaiveDate| -> BTreeSet<&str> {
            data.regions
                .iter()
                .filter(|r| r.level == RegionLevel::Commune && r.validity.contains(day))
                .map(|r| r.code.as_str())
                .collect()
        };
        let sources: BTreeSet<&str> = communes
            .iter()
            .filter(|edge| edge.from.code.level_hint() == RegionLevel::Commune)
            .map(|edge| edge.from.code.as_str())
            .collect();
        let targets: BTreeSet<&str> = communes.iter().map(|edge| edge.to.code.as_str()).collect();
        assert_eq!(sources, codes(before), "every old commune, and only those");
        assert_eq!(targets, codes(after), "every new commune, and only those");
        // The five island districts without communes became special zones.
        let districts = communes
            .iter()
            .filter(|edge| edge.from.code.level_hint() == RegionLevel::District)
            .count();
        assert_eq!(districts, 5);
    }

    #[test]
    fn parents_come_before_children() {
        let data = BundledData::load().unwrap();
        let mut seen = BTreeSet::new();
        for region in &data.regions {
            if let Some(parent) = &region.parent {
                assert!(seen.contains(parent), "{} before its parent", region.code);
            }
            seen.insert(region.code.clone());
        }
    }

    #[test]
    fn default_catalog_is_complete_and_consistent() {
        let data = BundledData::load().unwrap();
        let catalog = Catalog::new(data.indicators.clone()).unwrap();
        for code in [
            "population",
            "labour_force",
            "hi_participants",
            "hi_coverage_rate",
            "si_participants",
            "si_mandatory_participants",
            "si_voluntary_participants",
            "si_coverage_rate",
            "si_voluntary_coverage_rate",
            "ui_participants",
            "ui_coverage_rate",
            "contributions_collected",
            "contributions_plan_rate",
            "late_payment",
            "late_payment_rate",
            "benefits_paid",
            "benefits_paid_state_budget",
            "benefits_paid_si_fund",
            "ui_benefits_paid",
            "hi_treatment_cost",
            "hi_treatment_visits",
            "pension_recipients",
            "benefit_settlements",
            "collection_points",
            "collectors",
            "collaborators",
            "id_authenticated_participants",
            "new_employer_units",
        ] {
            let indicator = catalog
                .get(code)
                .unwrap_or_else(|| panic!("{code} missing"));
            assert!(indicator.name_vi.is_some(), "{code} has no Vietnamese name");
            assert!(indicator.description.is_some(), "{code} has no description");
        }
        let rate = catalog.get("si_coverage_rate").unwrap();
        assert_eq!(rate.numerator.as_ref().unwrap().as_str(), "si_participants");
        assert_eq!(rate.denominator.as_ref().unwrap().as_str(), "labour_force");
    }
}
