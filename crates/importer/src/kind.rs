//! The kinds of import file and their columns, as the data contract lists them, and the
//! detection of a file's kind from its header.

use std::fmt;
use std::str::FromStr;

/// What one import file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    // Declared in the order a run applies them: a file may refer to indicators and regions
    // that another file of the same run defines.
    Indicators,
    Regions,
    RegionMembers,
    Lineage,
    Observations,
    Targets,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Indicators,
        Kind::Regions,
        Kind::RegionMembers,
        Kind::Lineage,
        Kind::Observations,
        Kind::Targets,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Observations => "observations",
            Kind::Targets => "targets",
            Kind::Regions => "regions",
            Kind::RegionMembers => "region_members",
            Kind::Lineage => "lineage",
            Kind::Indicators => "indicators",
        }
    }

    /// Columns every row must have.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Observations => &["region", "indicator", "period", "value"],
            Kind::Targets => &["region", "indicator", "period", "target"],
            Kind::Regions => &["code", "name", "level", "valid_from"],
            Kind::RegionMembers => &["group", "member"],
            Kind::Lineage => &[
                "from_code",
                "from_valid_from",
                "to_code",
                "to_valid_from",
                "kind",
            ],
            Kind::Indicators => &["code", "name", "unit", "kind"],
        }
    }

    pub fn optional(self) -> &'static [&'static str] {
        match self {
            Kind::Observations => &["unit", "qualifier", "source", "note"],
            Kind::Targets => &["unit", "source"],
            Kind::Regions => &["parent", "valid_to", "name_vi", "kind"],
            Kind::RegionMembers => &[],
            Kind::Lineage => &["weight"],
            Kind::Indicators => &["name_vi", "numerator", "denominator", "description"],
        }
    }

    /// The free-text columns of the kind and how many characters the database holds of each.
    pub fn text_widths(self) -> &'static [(&'static str, usize)] {
        use ansinh_store::widths::{NAME, NOTE, REGION_KIND, SOURCE};
        match self {
            Kind::Observations => &[("source", SOURCE), ("note", NOTE)],
            Kind::Targets => &[("source", SOURCE)],
            Kind::Regions => &[("name", NAME), ("name_vi", NAME), ("kind", REGION_KIND)],
            Kind::Indicators => &[("name", NAME), ("name_vi", NAME)],
            Kind::RegionMembers | Kind::Lineage => &[],
        }
    }

    /// Every column of the kind: the required ones, then the optional ones. A column's
    /// position in this list is its slot in a [`crate::read::Row`].
    pub fn columns(self) -> impl Iterator<Item = &'static str> {
        self.required().iter().chain(self.optional()).copied()
    }

    pub fn slot(self, column: &str) -> Option<usize> {
        self.columns().position(|c| c == column)
    }

    /// The kind whose required columns are all among `header`; when several match, the one
    /// that explains the most of the header (a regions header also holds `code` and `name`
    /// of indicators, but `level` only fits regions).
    pub fn detect<'a>(header: impl IntoIterator<Item = &'a str> + Clone) -> Option<Kind> {
        let names: Vec<&str> = header.into_iter().map(str::trim).collect();
        Kind::ALL
            .into_iter()
            .filter(|kind| kind.required().iter().all(|c| names.contains(c)))
            .max_by_key(|kind| names.iter().filter(|n| kind.slot(n).is_some()).count())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown kind {0:?}; use one of: observations, targets, regions, region_members, lineage, indicators"
)]
pub struct UnknownKind(String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_every_kind_from_its_contract_header() {
        let cases = [
            (
                "region,indicator,period,value,unit,qualifier,source",
                Kind::Observations,
            ),
            ("region,indicator,period,target,unit,source", Kind::Targets),
            ("code,name,level,valid_from,parent", Kind::Regions),
            ("group,member", Kind::RegionMembers),
            (
                "from_code,from_valid_from,to_code,to_valid_from,kind",
                Kind::Lineage,
            ),
            (
                "from_code,from_valid_from,to_code,to_valid_from,kind,weight",
                Kind::Lineage,
            ),
            ("code,name,unit,kind,name_vi", Kind::Indicators),
            ("value,period,indicator,region", Kind::Observations),
        ];
        for (header, kind) in cases {
            assert_eq!(Kind::detect(header.split(',')), Some(kind), "{header}");
        }
        assert_eq!(Kind::detect("region,indicator,value".split(',')), None);
    }

    #[test]
    fn slots_follow_required_then_optional() {
        assert_eq!(Kind::Observations.slot("region"), Some(0));
        assert_eq!(Kind::Observations.slot("unit"), Some(4));
        assert_eq!(Kind::Observations.slot("note"), Some(7));
        assert_eq!(Kind::Observations.slot("target"), None);
    }
}
