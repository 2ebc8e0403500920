//! Turning one input row into a typed row, or into every problem it has.
//!
//! The rules themselves live in `ansinh-model` (periods, numbers per locale, units and their
//! scaling, qualifiers, region codes, catalog rules); this module applies them to the cells of
//! a row, resolves codes against the [`Reference`], and names the column of each failure.
//! Checks that need several rows (the same key twice) are in [`crate::series`].

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use ansinh_model::{
    Decimal, Indicator, IndicatorCode, IndicatorKind, InputUnit, LineageKind, NaiveDate,
    NumberLocale, Period, Qualifier, Region, RegionCode, RegionLevel, Unit, Validity, parse_date,
    parse_number,
};

use crate::kind::Kind;
use crate::problem::{Origin, Problem};
use crate::read::Row;
use crate::reference::{IndicatorId, Reference, RegionId};

/// The identity of an observation or target: the primary key of its table, in the same
/// column order, so sorting by it is sorting by the clustered index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    pub region: RegionId,
    pub indicator: IndicatorId,
    pub end: NaiveDate,
    pub start: NaiveDate,
}

/// A validated observation (or target: then `qualifier` is exact and `note` empty), the value
/// in the indicator's stored unit and the period normalised for the indicator's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRow {
    pub key: SeriesKey,
    pub value: Decimal,
    pub qualifier: Qualifier,
    pub source: Option<Arc<str>>,
    pub note: Option<Box<str>>,
    pub origin: Origin,
}

impl SeriesRow {
    /// Whether two rows for the same key say the same thing.
    pub fn same_content(&self, other: &SeriesRow) -> bool {
        self.value == other.value
            && self.qualifier == other.qualifier
            && self.source == other.source
            && self.note == other.note
    }
}

#[derive(Debug, Clone)]
pub struct RegionRow {
    pub region: Region,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub group: RegionCode,
    pub member: RegionCode,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct LineageRow {
    pub from: (RegionCode, NaiveDate),
    pub to: (RegionCode, NaiveDate),
    pub kind: LineageKind,
    /// The share of the old version's figure the new one takes (0 to 1), when given.
    pub weight: Option<Decimal>,
    pub origin: Origin,
}

/// Decimal places of `region_lineage.weight`, a `DECIMAL(7,6)`.
pub const WEIGHT_SCALE: u32 = 6;

#[derive(Debug, Clone)]
pub struct IndicatorRow {
    pub indicator: Indicator,
    pub origin: Origin,
}

/// The most value a `DECIMAL(24,6)` column holds exactly: 18 integer and 6 fraction digits.
pub const VALUE_SCALE: u32 = 6;
const VALUE_MAX_INTEGER: i128 = 999_999_999_999_999_999;

/// Whether `value` is stored without rounding in the value columns.
pub fn fits_value_column(value: Decimal) -> bool {
    value.normalize().scale() <= VALUE_SCALE && value.trunc().abs().mantissa() <= VALUE_MAX_INTEGER
}

/// Checks the rows of one file.
pub struct Validator<'r> {
    reference: &'r Reference,
    locale: NumberLocale,
    file: Arc<str>,
    file_no: u16,
    /// Source texts are repeated on almost every row; one allocation each is enough.
    sources: HashMap<Box<str>, Arc<str>>,
}

impl<'r> Validator<'r> {
    pub fn new(
        reference: &'r Reference,
        locale: NumberLocale,
        file: Arc<str>,
        file_no: u16,
    ) -> Self {
        Self {
            reference,
            locale,
            file,
            file_no,
            sources: HashMap::new(),
        }
    }

    fn problem(
        &self,
        row: &Row<'_>,
        column: &str,
        reason: impl Into<String>,
        value: Option<&str>,
    ) -> Problem {
        Problem::new(&self.file, row.line, row.place(column), reason, value)
    }

    /// A problem for every free-text value longer than its column holds.
    fn check_widths(&self, kind: Kind, row: &Row<'_>, problems: &mut Vec<Problem>) {
        for &(column, width) in kind.text_widths() {
            let Some(slot) = kind.slot(column) else {
                continue;
            };
            // Bytes bound characters: most values need no counting.
            let Some(text) = row.get(slot).filter(|text| text.len() > width) else {
                continue;
            };
            let chars = text.chars().count();
            if chars > width {
                let start: String = text.chars().take(40).collect();
                problems.push(self.problem(
                    row,
                    column,
                    format!("is {chars} characters long; at most {width} are kept"),
                    Some(&format!("{start}…")),
                ));
            }
        }
    }

    fn origin(&self, row: &Row<'_>) -> Origin {
        Origin {
            file: self.file_no,
            line: row.line,
        }
    }

    /// A required cell; a blank one is a problem naming the column.
    fn required<'a>(
        &self,
        row: &Row<'a>,
        kind: Kind,
        slot: usize,
        problems: &mut Vec<Problem>,
    ) -> Option<&'a str> {
        let value = row.get(slot);
        if value.is_none() {
            let column = kind.columns().nth(slot).unwrap_or_default();
            problems.push(self.problem(row, column, "is empty; a value is required", None));
        }
        value
    }

    fn number(
        &self,
        row: &Row<'_>,
        column: &str,
        slot: usize,
        text: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<Decimal> {
        let locale = if row.is_plain_number(slot) {
            NumberLocale::Plain
        } else {
            row.locale().unwrap_or(self.locale)
        };
        parse_number(text, locale)
            .map_err(|e| problems.push(self.problem(row, column, e.to_string(), Some(text))))
            .ok()
    }

    fn intern_source(&mut self, text: &str) -> Arc<str> {
        if let Some(source) = self.sources.get(text) {
            return Arc::clone(source);
        }
        let source: Arc<str> = Arc::from(text);
        self.sources.insert(Box::from(text), Arc::clone(&source));
        source
    }

    /// An observations row (`kind` Observations) or a targets row (`kind` Targets): both have
    /// region, indicator, period, a number and an optional unit in slots 0..=4.
    pub fn series(
        &mut self,
        kind: Kind,
        row: &Row<'_>,
        problems: &mut Vec<Problem>,
    ) -> Option<SeriesRow> {
        let before = problems.len();
        self.check_widths(kind, row, problems);
        let value_column = if kind == Kind::Targets {
            "target"
        } else {
            "value"
        };

        let region_text = self.required(row, kind, 0, problems);
        let region_code = region_text.and_then(|text| {
            RegionCode::parse(text)
                .map_err(|e| problems.push(self.problem(row, "region", e.to_string(), Some(text))))
                .ok()
        });

        let indicator = self.required(row, kind, 1, problems).and_then(|text| {
            match IndicatorCode::parse(text) {
                Err(e) => {
                    problems.push(self.problem(row, "indicator", e.to_string(), Some(text)));
                    None
                }
                Ok(code) => {
                    let known = self.reference.indicator(code.as_str());
                    if known.is_none() {
                        problems.push(self.problem(
                            row,
                            "indicator",
                            "unknown indicator; import it in an indicators file first (see `ansinh-import load --kind indicators`)",
                            Some(text),
                        ));
                    }
                    known
                }
            }
        });

        let period = self.required(row, kind, 2, problems).and_then(|text| {
            Period::parse(text)
                .map_err(|e| problems.push(self.problem(row, "period", e.to_string(), Some(text))))
                .ok()
        });

        let number_text = self.required(row, kind, 3, problems);
        let number = number_text.and_then(|text| self.number(row, value_column, 3, text, problems));

        let unit = row.get(4).and_then(|text| {
            InputUnit::from_str(text)
                .map_err(|e| problems.push(self.problem(row, "unit", e.to_string(), Some(text))))
                .ok()
        });

        let (qualifier, source, note) = if kind == Kind::Observations {
            let qualifier = match row.get(5) {
                None => Some(Qualifier::Exact),
                Some(text) => Qualifier::from_str(text)
                    .map_err(|e| {
                        problems.push(self.problem(row, "qualifier", e.to_string(), Some(text)))
                    })
                    .ok(),
            };
            (qualifier, row.get(6), row.get(7))
        } else {
            (Some(Qualifier::Exact), row.get(5), None)
        };

        // Checks that need the indicator: the unit, the value's range, the period's meaning.
        let mut value = None;
        if let Some(known) = indicator {
            let stored_unit = known.indicator.unit;
            let base = match unit {
                Some(unit) if !unit.fits(stored_unit) => {
                    problems.push(self.problem(
                        row,
                        "unit",
                        format!(
                            "unit {unit} does not fit indicator {} (stored in {stored_unit}; accepted: {})",
                            known.indicator.code,
                            accepted_units(stored_unit)
                        ),
                        row.get(4),
                    ));
                    None
                }
                Some(unit) => number.and_then(|n| {
                    unit.to_base(n)
                        .map_err(|e| {
                            problems.push(self.problem(
                                row,
                                value_column,
                                e.to_string(),
                                number_text,
                            ))
                        })
                        .ok()
                }),
                None => number,
            };
            if let Some(base) = base {
                match known.indicator.check_value(base) {
                    Err(e) => problems.push(self.problem(row, value_column, e.to_string(), number_text)),
                    Ok(()) if !fits_value_column(base) => problems.push(self.problem(
                        row,
                        value_column,
                        format!(
                            "cannot be stored exactly: at most 18 digits before the decimal point and {VALUE_SCALE} after (in {stored_unit})"
                        ),
                        number_text,
                    )),
                    Ok(()) => value = Some(base),
                }
            }
        }

        let period = match (period, indicator) {
            (Some(period), Some(known)) => Some(
                self.reference
                    .catalog()
                    .observation_period(known.indicator, period),
            ),
            _ => None,
        };

        // The region version is the one valid on the period's last day.
        let region = match (&region_code, period) {
            (Some(code), Some(period)) => {
                match self.reference.region_at(code.as_str(), period.end()) {
                    Ok(known) => Some(known.id),
                    Err(e) => {
                        problems.push(self.problem(row, "region", e.to_string(), region_text));
                        None
                    }
                }
            }
            _ => None,
        };

        if problems.len() > before {
            return None;
        }
        let (region, known, period, value, qualifier) =
            (region?, indicator?, period?, value?, qualifier?);
        let source = source.map(|s| self.intern_source(s));
        Some(SeriesRow {
            key: SeriesKey {
                region,
                indicator: known.id,
                end: period.end(),
                start: period.start(),
            },
            value,
            qualifier,
            source,
            note: note.map(Box::from),
            origin: self.origin(row),
        })
    }

    fn date(
        &self,
        row: &Row<'_>,
        column: &str,
        text: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<NaiveDate> {
        parse_date(text)
            .map_err(|e| problems.push(self.problem(row, column, e.to_string(), Some(text))))
            .ok()
    }

    fn region_code(
        &self,
        row: &Row<'_>,
        column: &str,
        text: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<RegionCode> {
        RegionCode::parse(text)
            .map_err(|e| problems.push(self.problem(row, column, e.to_string(), Some(text))))
            .ok()
    }

    pub fn region(&mut self, row: &Row<'_>, problems: &mut Vec<Problem>) -> Option<RegionRow> {
        let kind = Kind::Regions;
        let before = problems.len();
        self.check_widths(kind, row, problems);
        let code = self
            .required(row, kind, 0, problems)
            .and_then(|t| self.region_code(row, "code", t, problems));
        let name = self.required(row, kind, 1, problems);
        let level = self.required(row, kind, 2, problems).and_then(|t| {
            RegionLevel::from_str(t)
                .map_err(|e| problems.push(self.problem(row, "level", e.to_string(), Some(t))))
                .ok()
        });
        let from = self
            .required(row, kind, 3, problems)
            .and_then(|t| self.date(row, "valid_from", t, problems));
        let parent = row
            .get(4)
            .and_then(|t| self.region_code(row, "parent", t, problems));
        let to = row.get(5).map(|t| self.date(row, "valid_to", t, problems));
        let validity = match (from, to) {
            (Some(from), None) => Some(Validity::since(from)),
            (Some(from), Some(Some(to))) => Validity::new(from, Some(to))
                .map_err(|e| {
                    problems.push(self.problem(row, "valid_to", e.to_string(), row.get(5)))
                })
                .ok(),
            _ => None,
        };
        if problems.len() > before {
            return None;
        }
        let (code, name, level, validity) = (code?, name?, level?, validity?);
        match Region::new(
            code,
            level,
            name,
            row.get(6).map(str::to_owned),
            row.get(7).map(str::to_owned),
            parent,
            validity,
        ) {
            Ok(region) => Some(RegionRow {
                region,
                origin: self.origin(row),
            }),
            Err(e) => {
                problems.push(self.problem(row, "level", e.to_string(), row.get(2)));
                None
            }
        }
    }

    pub fn member(&mut self, row: &Row<'_>, problems: &mut Vec<Problem>) -> Option<MemberRow> {
        let kind = Kind::RegionMembers;
        let group = self
            .required(row, kind, 0, problems)
            .and_then(|t| self.region_code(row, "group", t, problems));
        let member = self
            .required(row, kind, 1, problems)
            .and_then(|t| self.region_code(row, "member", t, problems));
        let (group, member) = (group?, member?);
        if group.level_hint() != RegionLevel::Group {
            problems.push(self.problem(
                row,
                "group",
                "is not a group code (groups have codes like BHXH-KV25; provinces, districts and communes have their members from the administrative tree)",
                Some(group.as_str()),
            ));
            return None;
        }
        Some(MemberRow {
            group,
            member,
            origin: self.origin(row),
        })
    }

    pub fn lineage(&mut self, row: &Row<'_>, problems: &mut Vec<Problem>) -> Option<LineageRow> {
        let kind = Kind::Lineage;
        let before = problems.len();
        let from_code = self
            .required(row, kind, 0, problems)
            .and_then(|t| self.region_code(row, "from_code", t, problems));
        let from_date = self
            .required(row, kind, 1, problems)
            .and_then(|t| self.date(row, "from_valid_from", t, problems));
        let to_code = self
            .required(row, kind, 2, problems)
            .and_then(|t| self.region_code(row, "to_code", t, problems));
        let to_date = self
            .required(row, kind, 3, problems)
            .and_then(|t| self.date(row, "to_valid_from", t, problems));
        let lineage_kind = self.required(row, kind, 4, problems).and_then(|t| {
            LineageKind::from_str(t)
                .map_err(|e| problems.push(self.problem(row, "kind", e.to_string(), Some(t))))
                .ok()
        });
        let weight = row
            .get(5)
            .map(|text| self.weight(row, text, lineage_kind, problems));
        if problems.len() > before {
            return None;
        }
        Some(LineageRow {
            from: (from_code?, from_date?),
            to: (to_code?, to_date?),
            kind: lineage_kind?,
            weight: weight.flatten(),
            origin: self.origin(row),
        })
    }

    /// The `weight` of a lineage row: a share from 0 to 1 that the column holds exactly, and
    /// 1 on an edge that carries the whole old version.
    fn weight(
        &self,
        row: &Row<'_>,
        text: &str,
        kind: Option<LineageKind>,
        problems: &mut Vec<Problem>,
    ) -> Option<Decimal> {
        let weight = self.number(row, "weight", 5, text, problems)?;
        let reason = if weight < Decimal::ZERO || weight > Decimal::ONE {
            "is outside 0 to 1; a weight is the share of the old unit's figure that the new one takes (0.4 is 40%)".to_owned()
        } else if weight.normalize().scale() > WEIGHT_SCALE {
            format!(
                "has {} decimal places; a weight is stored with at most {WEIGHT_SCALE} and is never rounded: give it to {WEIGHT_SCALE} places (the weights of the old unit still summing to exactly 1)",
                weight.normalize().scale()
            )
        } else if let Some(kind) = kind.filter(|k| !k.is_approximate() && weight != Decimal::ONE) {
            format!(
                "a {kind} carries the whole old unit into the new one, so its weight is 1 or empty; an old unit divided among new ones has a split edge to each"
            )
        } else {
            return Some(weight);
        };
        problems.push(self.problem(row, "weight", reason, Some(text)));
        None
    }

    pub fn indicator(
        &mut self,
        row: &Row<'_>,
        problems: &mut Vec<Problem>,
    ) -> Option<IndicatorRow> {
        let kind = Kind::Indicators;
        let before = problems.len();
        self.check_widths(kind, row, problems);
        let code = self.required(row, kind, 0, problems).and_then(|t| {
            IndicatorCode::parse(t)
                .map_err(|e| problems.push(self.problem(row, "code", e.to_string(), Some(t))))
                .ok()
        });
        let name = self.required(row, kind, 1, problems);
        let unit = self.required(row, kind, 2, problems).and_then(|t| {
            Unit::from_str(t)
                .map_err(|e| problems.push(self.problem(row, "unit", e.to_string(), Some(t))))
                .ok()
        });
        let indicator_kind = self.required(row, kind, 3, problems).and_then(|t| {
            IndicatorKind::from_str(t)
                .map_err(|e| problems.push(self.problem(row, "kind", e.to_string(), Some(t))))
                .ok()
        });
        let part = |slot: usize, column: &str, problems: &mut Vec<Problem>| {
            row.get(slot).and_then(|t| {
                IndicatorCode::parse(t)
                    .map_err(|e| problems.push(self.problem(row, column, e.to_string(), Some(t))))
                    .ok()
            })
        };
        let numerator = part(5, "numerator", problems);
        let denominator = part(6, "denominator", problems);
        if problems.len() > before {
            return None;
        }
        match Indicator::new(
            code?,
            name?,
            row.get(4).map(str::to_owned),
            unit?,
            indicator_kind?,
            numerator,
            denominator,
            row.get(7).map(str::to_owned),
        ) {
            Ok(indicator) => Some(IndicatorRow {
                indicator,
                origin: self.origin(row),
            }),
            Err(e) => {
                problems.push(self.problem(row, "kind", e.to_string(), row.get(3)));
                None
            }
        }
    }
}

/// The input units that fit `unit`, for messages.
fn accepted_units(unit: Unit) -> String {
    InputUnit::ALL
        .into_iter()
        .filter(|u| u.fits(unit))
        .map(InputUnit::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::fixtures::{date, reference};

    fn file() -> Arc<str> {
        Arc::from("obs.csv")
    }

    /// Validates one observations row given as the contract's columns, in order.
    fn observation(locale: NumberLocale, cells: [&str; 8]) -> Result<SeriesRow, Vec<String>> {
        let r = reference();
        let mut v = Validator::new(&r, locale, file(), 0);
        let values: Vec<Option<&str>> = cells.iter().map(|c| Some(*c)).collect();
        let mut problems = Vec::new();
        let row = v.series(Kind::Observations, &Row::new(7, &values), &mut problems);
        match row {
            Some(row) if problems.is_empty() => Ok(row),
            _ => Err(problems.iter().map(ToString::to_string).collect()),
        }
    }

    fn plain(cells: [&str; 8]) -> Result<SeriesRow, Vec<String>> {
        observation(NumberLocale::Plain, cells)
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn contract_examples_become_typed_rows() {
        let row = plain([
            "68",
            "hi_coverage_rate",
            "2024",
            "94.56",
            "percent",
            "",
            "baolamdong.vn 2025-05",
            "",
        ])
        .unwrap();
        // A coverage rate is a ratio of stocks: the rate "for 2024" is the rate on 2024-12-31.
        assert_eq!(
            row.key,
            SeriesKey {
                region: 1,
                indicator: 3,
                end: date("2024-12-31"),
                start: date("2024-12-31")
            }
        );
        assert_eq!(row.value, dec("94.56"));
        assert_eq!(row.qualifier, Qualifier::Exact);
        assert_eq!(row.source.as_deref(), Some("baolamdong.vn 2025-05"));

        let row = plain([
            "68",
            "contributions_collected",
            "2024",
            "3818",
            "billion_vnd",
            "more_than",
            "",
            "",
        ])
        .unwrap();
        assert_eq!(row.value, dec("3818000000000"));
        assert_eq!(row.qualifier, Qualifier::MoreThan);
        assert_eq!(row.origin, Origin { file: 0, line: 7 });
    }

    #[test]
    fn a_stock_is_normalised_to_the_instant_of_its_period_end() {
        let year = plain([
            "68",
            "hi_participants",
            "2024",
            "1269187",
            "persons",
            "",
            "",
            "",
        ])
        .unwrap();
        let day = plain([
            "68",
            "hi_participants",
            "2024-12-31",
            "1269187",
            "",
            "",
            "",
            "",
        ])
        .unwrap();
        assert_eq!(year.key, day.key);
        assert_eq!(
            (year.key.start, year.key.end),
            (date("2024-12-31"), date("2024-12-31"))
        );
        let ytd = plain([
            "68",
            "hi_participants",
            "2025-01/2025-05",
            "1229935",
            "",
            "",
            "",
            "",
        ])
        .unwrap();
        assert_eq!(
            (ytd.key.start, ytd.key.end),
            (date("2025-05-31"), date("2025-05-31"))
        );
        // A flow keeps its interval.
        let flow = plain([
            "68",
            "benefits_paid",
            "2025-01/2025-05",
            "1424",
            "billion_vnd",
            "more_than",
            "",
            "",
        ])
        .unwrap();
        assert_eq!(
            (flow.key.start, flow.key.end),
            (date("2025-01-01"), date("2025-05-31"))
        );
    }

    #[test]
    fn the_region_version_is_the_one_valid_at_the_period_end() {
        let old = plain(["68", "population", "2025-06-30", "1", "", "", "", ""]).unwrap();
        let new = plain(["68", "population", "2025-07-01", "1", "", "", "", ""]).unwrap();
        assert_eq!((old.key.region, new.key.region), (1, 2));
        let err = plain(["60", "population", "2025", "1", "", "", "", ""]).unwrap_err();
        assert_eq!(
            err,
            [
                "obs.csv:7:region: province 60 ended on 2025-06-30; from 2025-07-01 its territory is in 68 (Lâm Đồng); on 2025-12-31 use 68 (\"60\")"
            ]
        );
        let err = plain(["00007", "population", "2025-08", "1", "", "", "", ""]).unwrap_err();
        assert_eq!(
            err,
            [
                "obs.csv:7:region: commune 00007 ended on 2025-06-30; from 2025-07-01 its territory is partly in 00008 (Phường Ngọc Hà) and partly in 00025 (Phường Giảng Võ); on 2025-08-31 use 00008 or 00025 (\"00007\")"
            ]
        );
        let err = plain(["99", "population", "2024", "1", "", "", "", ""]).unwrap_err();
        assert!(
            err[0].starts_with("obs.csv:7:region: unknown region code 99"),
            "{err:?}"
        );
    }

    #[test]
    fn every_problem_of_a_row_is_reported() {
        let err = plain([
            "",
            "no_such_thing",
            "2024-13",
            "abc",
            "litres",
            "roughly",
            "",
            "",
        ])
        .unwrap_err();
        let columns: Vec<&str> = err.iter().map(|e| e.split(':').nth(2).unwrap()).collect();
        assert_eq!(
            columns,
            [
                "region",
                "indicator",
                "period",
                "value",
                "unit",
                "qualifier"
            ],
            "{err:?}"
        );
    }

    #[test]
    fn unit_must_fit_the_indicator() {
        let err = plain([
            "68",
            "hi_participants",
            "2024",
            "5",
            "billion_vnd",
            "",
            "",
            "",
        ])
        .unwrap_err();
        assert!(err[0].contains(":unit: unit billion_vnd does not fit indicator hi_participants (stored in persons; accepted: persons, count, visits, claims, units, people)"), "{err:?}");
        let err = plain(["68", "benefits_paid", "2024", "5", "percent", "", "", ""]).unwrap_err();
        assert!(
            err[0].contains("accepted: vnd, million_vnd, billion_vnd, trillion_vnd"),
            "{err:?}"
        );
    }

    #[test]
    fn count_like_units_fit_persons_and_count_indicators_as_they_are() {
        for indicator in ["hi_participants", "collection_points"] {
            for unit in ["persons", "count", "visits", "claims", "units", "people"] {
                let row = plain(["68", indicator, "2024", "12400", unit, "", "", ""])
                    .unwrap_or_else(|e| panic!("{unit} for {indicator}: {e:?}"));
                assert_eq!(row.value, dec("12400"), "{unit} for {indicator}");
            }
            let err = plain(["68", indicator, "2024", "1.5", "visits", "", "", ""]).unwrap_err();
            assert!(err[0].contains(":value:"), "{err:?}");
        }
        let err = plain(["68", "hi_participants", "2024", "5", "vnd", "", "", ""]).unwrap_err();
        assert!(err[0].contains(":unit: unit vnd does not fit"), "{err:?}");
        let err = plain([
            "68",
            "collection_points",
            "2024",
            "5",
            "percent",
            "",
            "",
            "",
        ])
        .unwrap_err();
        assert!(
            err[0].contains(
                "(stored in count; accepted: persons, count, visits, claims, units, people)"
            ),
            "{err:?}"
        );
        let err = plain(["68", "hi_coverage_rate", "2024", "5", "people", "", "", ""]).unwrap_err();
        assert!(err[0].contains("accepted: percent)"), "{err:?}");
    }

    #[test]
    fn percent_within_0_to_100_and_counts_non_negative() {
        assert!(plain(["68", "hi_coverage_rate", "2024", "100", "", "", "", ""]).is_ok());
        let err = plain([
            "68",
            "hi_coverage_rate",
            "2024",
            "100.5",
            "percent",
            "",
            "",
            "",
        ])
        .unwrap_err();
        assert!(err[0].contains(":value:"), "{err:?}");
        let err = plain(["68", "collection_points", "2024", "-1", "", "", "", ""]).unwrap_err();
        assert!(err[0].contains(":value:"), "{err:?}");
        let err = plain(["68", "hi_participants", "2024", "1.5", "", "", "", ""]).unwrap_err();
        assert!(err[0].contains(":value:"), "{err:?}");
    }

    #[test]
    fn numbers_are_read_in_the_declared_locale_only() {
        let en = observation(
            NumberLocale::En,
            [
                "68",
                "hi_participants",
                "2025-05",
                "1,229,935",
                "",
                "",
                "",
                "",
            ],
        )
        .unwrap();
        let vi = observation(
            NumberLocale::Vi,
            [
                "68",
                "hi_participants",
                "2025-05",
                "1.229.935",
                "",
                "",
                "",
                "",
            ],
        )
        .unwrap();
        assert_eq!(en.value, vi.value);
        let en = observation(
            NumberLocale::En,
            ["68", "hi_coverage_rate", "2024", "94.56", "", "", "", ""],
        )
        .unwrap();
        let vi = observation(
            NumberLocale::Vi,
            ["68", "hi_coverage_rate", "2024", "94,56", "", "", "", ""],
        )
        .unwrap();
        assert_eq!(en.value, vi.value);
        // "1.229" is never silently 1.229 persons in vi, nor 1229 in plain.
        assert!(
            plain([
                "68",
                "hi_participants",
                "2025-05",
                "1,229,935",
                "",
                "",
                "",
                ""
            ])
            .is_err()
        );
        let err = observation(
            NumberLocale::Vi,
            ["68", "hi_coverage_rate", "2024", "94.56", "", "", "", ""],
        )
        .unwrap_err();
        assert!(err[0].contains(":value:"), "{err:?}");
    }

    #[test]
    fn values_the_column_cannot_hold_exactly_are_rejected() {
        assert!(fits_value_column(dec("999999999999999999.999999")));
        assert!(!fits_value_column(dec("1000000000000000000")));
        assert!(!fits_value_column(dec("0.0000001")));
        assert!(fits_value_column(dec("94.5600000000")));
        let err = plain(["68", "benefits_paid", "2024", "1.0000001", "", "", "", ""]).unwrap_err();
        assert!(err[0].contains("cannot be stored exactly"), "{err:?}");
    }

    #[test]
    fn targets_read_the_target_column() {
        let r = reference();
        let mut v = Validator::new(&r, NumberLocale::Plain, file(), 1);
        let cells = [
            "14",
            "si_coverage_rate",
            "2024",
            "18.8",
            "percent",
            "Decision No. 148/QD-UBND dated 2024-01-26",
        ];
        let values: Vec<Option<&str>> = cells.iter().map(|c| Some(*c)).collect();
        let mut problems = Vec::new();
        let row = v
            .series(Kind::Targets, &Row::new(2, &values), &mut problems)
            .unwrap();
        assert_eq!(row.value, dec("18.8"));
        assert_eq!(
            row.source.as_deref(),
            Some("Decision No. 148/QD-UBND dated 2024-01-26")
        );
        let values: Vec<Option<&str>> = ["14", "si_coverage_rate", "2024", "-1"]
            .iter()
            .map(|c| Some(*c))
            .collect();
        assert!(
            v.series(Kind::Targets, &Row::new(3, &values), &mut problems)
                .is_none()
        );
        assert!(
            problems[0].to_string().starts_with("obs.csv:3:target:"),
            "{problems:?}"
        );
    }

    #[test]
    fn reference_rows_are_checked_by_the_model() {
        let r = reference();
        let mut v = Validator::new(&r, NumberLocale::Plain, file(), 0);
        let mut problems = Vec::new();
        let cells = [
            Some("BHXH-KV25"),
            Some("Social Insurance Region 25"),
            Some("group"),
            Some("2020-01-01"),
            None,
            None,
            None,
            None,
        ];
        assert!(v.region(&Row::new(2, &cells), &mut problems).is_some());
        let cells = [
            Some("68"),
            Some("Lam Dong"),
            Some("commune"),
            Some("2025-07-01"),
            None,
            Some("2025-01-01"),
            None,
            None,
        ];
        assert!(v.region(&Row::new(3, &cells), &mut problems).is_none());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].column, "valid_to");

        let cells = [Some("68"), Some("60")];
        assert!(v.member(&Row::new(4, &cells), &mut problems).is_none());
        let cells = [
            Some("hi_x_rate"),
            Some("x"),
            Some("percent"),
            Some("ratio"),
            None,
            Some("hi_participants"),
            None,
            None,
        ];
        assert!(v.indicator(&Row::new(5, &cells), &mut problems).is_none());
        let cells = [
            Some("68"),
            Some("2008-08-01"),
            Some("68"),
            Some("2025-07-01"),
            Some("merge"),
        ];
        assert!(v.lineage(&Row::new(6, &cells), &mut problems).is_some());
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5]);
    }

    /// Validates one lineage row of 00007's edge to 00008 with `kind` and `weight`.
    fn lineage_weight(
        locale: NumberLocale,
        kind: &str,
        weight: &str,
    ) -> Result<Option<Decimal>, Vec<String>> {
        let r = reference();
        let mut v = Validator::new(&r, locale, Arc::from("lineage.csv"), 0);
        let cells = [
            Some("00007"),
            Some("2008-08-01"),
            Some("00008"),
            Some("2025-07-01"),
            Some(kind),
            Some(weight),
        ];
        let mut problems = Vec::new();
        match v.lineage(&Row::new(2, &cells), &mut problems) {
            Some(row) if problems.is_empty() => Ok(row.weight),
            _ => Err(problems.iter().map(ToString::to_string).collect()),
        }
    }

    #[test]
    fn a_lineage_weight_is_an_exact_share_from_0_to_1() {
        let plain = NumberLocale::Plain;
        assert_eq!(lineage_weight(plain, "split", "0.4"), Ok(Some(dec("0.4"))));
        assert_eq!(lineage_weight(plain, "split", ""), Ok(None));
        assert_eq!(lineage_weight(plain, "split", "0"), Ok(Some(dec("0"))));
        assert_eq!(lineage_weight(plain, "split", "1"), Ok(Some(dec("1"))));
        assert_eq!(
            lineage_weight(plain, "split", "0.333333"),
            Ok(Some(dec("0.333333")))
        );
        // Trailing zeros round nothing away.
        assert_eq!(
            lineage_weight(plain, "split", "0.40000000"),
            Ok(Some(dec("0.4")))
        );
        // The importer's number rules: the declared locale, and nothing else.
        assert_eq!(
            lineage_weight(NumberLocale::Vi, "split", "0,4"),
            Ok(Some(dec("0.4")))
        );
        let err = lineage_weight(plain, "split", "0,4").unwrap_err();
        assert!(err[0].starts_with("lineage.csv:2:weight: "), "{err:?}");
        let err = lineage_weight(plain, "split", "40%").unwrap_err();
        assert!(err[0].starts_with("lineage.csv:2:weight: "), "{err:?}");

        assert_eq!(
            lineage_weight(plain, "split", "1.2"),
            Err(vec![
                "lineage.csv:2:weight: is outside 0 to 1; a weight is the share of the old unit's figure that the new one takes (0.4 is 40%) (\"1.2\")".to_owned()
            ])
        );
        assert!(lineage_weight(plain, "split", "-0.1").is_err());
    }

    #[test]
    fn a_weight_with_more_decimals_than_the_column_keeps_is_refused_not_rounded() {
        assert_eq!(
            lineage_weight(NumberLocale::Plain, "split", "0.3333333"),
            Err(vec![
                "lineage.csv:2:weight: has 7 decimal places; a weight is stored with at most 6 and is never rounded: give it to 6 places (the weights of the old unit still summing to exactly 1) (\"0.3333333\")".to_owned()
            ])
        );
    }

    #[test]
    fn a_whole_edge_carries_weight_1_or_none() {
        let plain = NumberLocale::Plain;
        assert_eq!(lineage_weight(plain, "merge", ""), Ok(None));
        assert_eq!(lineage_weight(plain, "merge", "1"), Ok(Some(dec("1"))));
        assert_eq!(lineage_weight(plain, "rename", "1.000"), Ok(Some(dec("1"))));
        assert_eq!(
            lineage_weight(plain, "merge", "0.5"),
            Err(vec![
                "lineage.csv:2:weight: a merge carries the whole old unit into the new one, so its weight is 1 or empty; an old unit divided among new ones has a split edge to each (\"0.5\")".to_owned()
            ])
        );
        let err = lineage_weight(plain, "rename", "0.5").unwrap_err();
        assert!(err[0].contains("a rename carries the whole"), "{err:?}");
    }
}
