//! Regions: the codes that name them (`VN`, GSO province/district/commune codes, user-defined
//! group codes), the administrative levels those codes imply, the validity interval that makes
//! a code plus a date one region version, and the lineage kinds that link versions across
//! mergers, splits and renames. A code alone is not a region: `68` before and after 2025-07-01
//! are two regions, told apart by their [`Validity`].

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::NaiveDate;
use thiserror::Error;

use crate::keyword::keyword_enum;

/// The one code for the whole country.
const NATION_CODE: &str = "VN";

/// How long a group code may be, in characters.
const GROUP_CODE_LENGTH: RangeInclusive<usize> = 2..=32;

/// The code of a region, checked for one of the shapes the data contract allows.
///
/// Shapes: `VN` (the nation); 2, 3 or 5 ASCII digits (a GSO province, district or commune
/// code); or a group code of 2 to 32 characters from `A-Z 0-9 - _` that starts with a letter
/// (`BHXH-KV25`). Leading zeros are significant, so a code is text, never a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

impl RegionCode {
    /// Reads a region code, ignoring surrounding whitespace.
    ///
    /// Lower-case letters are refused rather than upper-cased: a code is an identifier that
    /// is compared byte for byte elsewhere, and silently changing it would hide a typo.
    pub fn parse(text: &str) -> Result<Self, RegionCodeError> {
        let code = text.trim();
        if code.is_empty() {
            return Err(RegionCodeError::Empty);
        }
        if code == NATION_CODE {
            return Ok(Self(code.to_owned()));
        }
        if code.bytes().all(|byte| byte.is_ascii_digit()) {
            return match code.len() {
                2 | 3 | 5 => Ok(Self(code.to_owned())),
                digits => Err(RegionCodeError::DigitCount {
                    code: code.to_owned(),
                    digits,
                }),
            };
        }
        if let Some(character) = code
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(RegionCodeError::InvalidCharacter {
                code: code.to_owned(),
                character,
            });
        }
        if code.bytes().any(|byte| byte.is_ascii_lowercase()) {
            return Err(RegionCodeError::LowerCase {
                code: code.to_owned(),
                upper: code.to_ascii_uppercase(),
            });
        }
        // Only ASCII is left, so the byte length is the character count.
        if !GROUP_CODE_LENGTH.contains(&code.len()) {
            return Err(RegionCodeError::GroupLength {
                code: code.to_owned(),
                length: code.len(),
            });
        }
        if let Some(first) = code.chars().next().filter(|c| !c.is_ascii_uppercase()) {
            return Err(RegionCodeError::GroupStart {
                code: code.to_owned(),
                first,
            });
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level a code of this shape belongs to: `VN` is the nation, 2/3/5 digits are a
    /// province/district/commune, everything else is a group.
    pub fn level_hint(&self) -> RegionLevel {
        if self.0 == NATION_CODE {
            return RegionLevel::Nation;
        }
        if self.0.bytes().all(|byte| byte.is_ascii_digit()) {
            match self.0.len() {
                2 => return RegionLevel::Province,
                3 => return RegionLevel::District,
                5 => return RegionLevel::Commune,
                // `parse` admits no other all-digit length.
                _ => {}
            }
        }
        RegionLevel::Group
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RegionCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for RegionCode {
    type Err = RegionCodeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Why a text is not a region code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegionCodeError {
    /// Nothing but whitespace was given.
    #[error(
        "region code is empty; use VN, a GSO code of 2, 3 or 5 digits, or a group code such as BHXH-KV25"
    )]
    Empty,
    /// An all-digit code of a length GSO does not use.
    #[error(
        "region code {code:?} has the wrong number of digits ({digits}); GSO codes have 2 digits (province), 3 (district) or 5 (commune), with leading zeros kept"
    )]
    DigitCount {
        /// The trimmed code.
        code: String,
        /// How many digits it has.
        digits: usize,
    },
    /// A character no code shape allows.
    #[error(
        "region code {code:?} contains {character:?}; a group code uses only A-Z, 0-9, '-' and '_' (e.g. BHXH-KV25)"
    )]
    InvalidCharacter {
        /// The trimmed code.
        code: String,
        /// The first offending character.
        character: char,
    },
    /// A group code written in lower case.
    #[error("region code {code:?} contains lower-case letters; use upper case ({upper:?})")]
    LowerCase {
        /// The trimmed code.
        code: String,
        /// The code in upper case, which would be accepted if it is otherwise well formed.
        upper: String,
    },
    /// A group code that is too short or too long.
    #[error("group code {code:?} has length {length}; a group code has 2 to 32 characters")]
    GroupLength {
        /// The trimmed code.
        code: String,
        /// Its length in characters.
        length: usize,
    },
    /// A group code that does not start with a letter.
    #[error(
        "group code {code:?} starts with {first:?}; a group code starts with a letter A-Z (e.g. BHXH-KV25)"
    )]
    GroupStart {
        /// The trimmed code.
        code: String,
        /// Its first character.
        first: char,
    },
}

keyword_enum! {
    /// Where a region sits: a level of the administrative tree, or `Group` for a user-defined
    /// set of regions (which lies outside the tree and lists its members separately).
    ///
    /// The derived ordering is declaration order; use [`RegionLevel::is_above`] for the
    /// hierarchy, which `Group` is not part of.
    pub enum RegionLevel("region level") {
        /// The whole country (`VN`).
        Nation = "nation",
        /// A province or centrally governed city (2-digit GSO code).
        Province = "province",
        /// A district-level unit (3-digit GSO code).
        District = "district",
        /// A commune, ward or township (5-digit GSO code).
        Commune = "commune",
        /// A user-defined set of regions, e.g. a social-insurance region.
        Group = "group",
    }
}

impl RegionLevel {
    /// Whether a region of this level may be the parent of a region of level `child`.
    ///
    /// Nation is above province, province above district and commune, district above
    /// commune (communes may hang directly below a province, as they do since districts were
    /// abolished in 2025). A group is outside the tree: only the nation may be its parent, and
    /// it is nobody's parent, since its members are listed instead.
    pub fn is_above(self, child: RegionLevel) -> bool {
        use RegionLevel::{Commune, District, Group, Nation, Province};
        matches!(
            (self, child),
            (Nation, Province | District | Commune | Group)
                | (Province, District | Commune)
                | (District, Commune)
        )
    }
}

/// The dates on which a region version is valid: from `from` to `to`, both inclusive; an
/// open `to` means the version is still valid.
///
/// The fields are public for reading and for rebuilding stored values; [`Validity::new`] is
/// the checked way to make one from input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Validity {
    /// First valid day.
    pub from: NaiveDate,
    /// Last valid day, or `None` while the version is current.
    pub to: Option<NaiveDate>,
}

impl Validity {
    /// A validity interval; `to`, when given, must not be before `from`.
    pub fn new(from: NaiveDate, to: Option<NaiveDate>) -> Result<Self, ValidityError> {
        match to {
            Some(to) if to < from => Err(ValidityError::EndsBeforeStart { from, to }),
            _ => Ok(Self { from, to }),
        }
    }

    /// An interval that starts on `from` and has not ended.
    pub fn since(from: NaiveDate) -> Self {
        Self { from, to: None }
    }

    /// Whether `date` lies within the interval.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }

    /// Whether the two intervals share at least one day (two versions of one code must not).
    pub fn overlaps(&self, other: &Validity) -> bool {
        self.to.is_none_or(|to| other.from <= to) && other.to.is_none_or(|to| self.from <= to)
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to {
            Some(to) => write!(f, "{}..{}", self.from, to),
            None => write!(f, "{}..", self.from),
        }
    }
}

/// Why two dates are not a validity interval.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidityError {
    /// `to` is before `from`.
    #[error(
        "validity ends on {to} before it starts on {from}; valid_to must be on or after valid_from, or empty while the region is current"
    )]
    EndsBeforeStart {
        /// The first valid day given.
        from: NaiveDate,
        /// The last valid day given.
        to: NaiveDate,
    },
}

/// One version of a region: a code valid over an interval, with its names and place in the
/// administrative tree.
///
/// The fields are public for reading and for rebuilding stored values; [`Region::new`] is the
/// checked way to make one from input, and [`Region::validate`] re-checks a built value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The region's code; unique only together with `validity`.
    pub code: RegionCode,
    /// The level, which always matches the shape of `code`.
    pub level: RegionLevel,
    /// The name in English or ASCII ("Lam Dong").
    pub name: String,
    /// The Vietnamese name with diacritics ("Lâm Đồng"), when known.
    pub name_vi: Option<String>,
    /// The kind of unit as published ("city", "ward", "social insurance region"), when known.
    pub kind: Option<String>,
    /// The enclosing region's code, resolved to a version by date.
    pub parent: Option<RegionCode>,
    /// When this version is valid.
    pub validity: Validity,
}

impl Region {
    /// Builds a region version and checks it (see [`Region::validate`]).
    ///
    /// Text is trimmed and blank optional text becomes `None`, so an empty CSV cell and a
    /// missing one mean the same thing.
    pub fn new(
        code: RegionCode,
        level: RegionLevel,
        name: impl Into<String>,
        name_vi: Option<String>,
        kind: Option<String>,
        parent: Option<RegionCode>,
        validity: Validity,
    ) -> Result<Self, RegionError> {
        let region = Self {
            code,
            level,
            name: name.into().trim().to_owned(),
            name_vi: non_blank(name_vi),
            kind: non_blank(kind),
            parent,
            validity,
        };
        region.validate()?;
        Ok(region)
    }

    /// Checks the rules a region version must satisfy: the level matches the code's shape
    /// (so group codes are exactly the group level), the name is not blank, and a parent is
    /// of a level above this one (see [`RegionLevel::is_above`]).
    pub fn validate(&self) -> Result<(), RegionError> {
        let expected = self.code.level_hint();
        if self.level != expected {
            return Err(RegionError::LevelMismatch {
                code: self.code.clone(),
                level: self.level,
                expected,
            });
        }
        if self.name.trim().is_empty() {
            return Err(RegionError::EmptyName {
                code: self.code.clone(),
            });
        }
        if let Some(parent) = &self.parent {
            let parent_level = parent.level_hint();
            if !parent_level.is_above(self.level) {
                return Err(RegionError::ParentNotAbove {
                    code: self.code.clone(),
                    level: self.level,
                    parent: parent.clone(),
                    parent_level,
                });
            }
        }
        Ok(())
    }

    /// Whether this version is the one valid on `date`.
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.validity.contains(date)
    }
}

fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

/// Why a region version breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegionError {
    /// The declared level is not the one the code's shape implies.
    #[error(
        "region {code} is declared {level}, but a code of that shape is a {expected} code; use level {expected}, or a code of the {level} shape (VN nation, 2 digits province, 3 district, 5 commune, otherwise group)"
    )]
    LevelMismatch {
        /// The region's code.
        code: RegionCode,
        /// The level given.
        level: RegionLevel,
        /// The level the code's shape implies.
        expected: RegionLevel,
    },
    /// The name is blank.
    #[error("region {code} has an empty name; every region needs a name")]
    EmptyName {
        /// The region's code.
        code: RegionCode,
    },
    /// The parent's level is not above the region's own.
    #[error(
        "region {code} ({level}) cannot have parent {parent} ({parent_level}); a parent must be a higher level (nation above province above district above commune; only the nation above a group)"
    )]
    ParentNotAbove {
        /// The region's code.
        code: RegionCode,
        /// The region's level.
        level: RegionLevel,
        /// The parent code given.
        parent: RegionCode,
        /// The level of the parent code's shape.
        parent_level: RegionLevel,
    },
}

keyword_enum! {
    /// How a region version leads to its successor.
    pub enum LineageKind("lineage kind") {
        /// Several versions (or one whole version) become part of a successor.
        Merge = "merge",
        /// A version is divided among successors.
        Split = "split",
        /// The same territory continues under a new code or name.
        Rename = "rename",
    }
}

impl LineageKind {
    /// Whether figures carried along this edge are approximate: a split divides territory in
    /// proportions the data does not record, while merges and renames keep it whole.
    pub fn is_approximate(self) -> bool {
        matches!(self, Self::Split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::date;

    fn code(text: &str) -> RegionCode {
        RegionCode::parse(text).unwrap()
    }

    #[test]
    fn code_shapes_give_their_level() {
        let cases = [
            ("VN", RegionLevel::Nation),
            ("68", RegionLevel::Province),
            ("001", RegionLevel::District),
            ("00004", RegionLevel::Commune),
            ("BHXH-KV25", RegionLevel::Group),
            ("KV_1", RegionLevel::Group),
            ("HN", RegionLevel::Group),
        ];
        for (text, level) in cases {
            let parsed = code(text);
            assert_eq!(parsed.as_str(), text);
            assert_eq!(parsed.level_hint(), level, "{text}");
        }
    }

    #[test]
    fn code_is_trimmed() {
        assert_eq!(code("68 ").as_str(), "68");
        assert_eq!(code("\t BHXH-KV25\n").as_str(), "BHXH-KV25");
    }

    #[test]
    fn code_displays_and_reads_back() {
        let parsed: RegionCode = "00004".parse().unwrap();
        assert_eq!(parsed.to_string(), "00004");
        assert_eq!(parsed.as_ref(), "00004");
    }

    #[test]
    fn code_rejects_empty_text() {
        assert_eq!(RegionCode::parse(""), Err(RegionCodeError::Empty));
        assert_eq!(RegionCode::parse("   "), Err(RegionCodeError::Empty));
    }

    #[test]
    fn code_rejects_digit_counts_gso_does_not_use() {
        for (text, digits) in [("6", 1), ("1234", 4), ("123456", 6)] {
            assert_eq!(
                RegionCode::parse(text),
                Err(RegionCodeError::DigitCount {
                    code: text.to_owned(),
                    digits
                })
            );
        }
        let message = RegionCode::parse("1234").unwrap_err().to_string();
        assert!(message.contains("2 digits (province)"), "{message}");
    }

    #[test]
    fn code_rejects_lower_case_and_suggests_upper_case() {
        let error = RegionCode::parse("bhxh").unwrap_err();
        assert_eq!(
            error,
            RegionCodeError::LowerCase {
                code: "bhxh".to_owned(),
                upper: "BHXH".to_owned()
            }
        );
        assert!(error.to_string().contains("use upper case (\"BHXH\")"));
        assert!(matches!(
            RegionCode::parse("vn"),
            Err(RegionCodeError::LowerCase { .. })
        ));
    }

    #[test]
    fn code_rejects_characters_outside_the_group_alphabet() {
        for (text, character) in [("BHXH KV25", ' '), ("ĐN", 'Đ'), ("KV.25", '.')] {
            assert_eq!(
                RegionCode::parse(text),
                Err(RegionCodeError::InvalidCharacter {
                    code: text.to_owned(),
                    character
                })
            );
        }
    }

    #[test]
    fn group_code_length_is_two_to_thirty_two() {
        assert!(matches!(
            RegionCode::parse("A"),
            Err(RegionCodeError::GroupLength { length: 1, .. })
        ));
        assert!(RegionCode::parse(&"A".repeat(32)).is_ok());
        assert!(matches!(
            RegionCode::parse(&"A".repeat(33)),
            Err(RegionCodeError::GroupLength { length: 33, .. })
        ));
    }

    #[test]
    fn group_code_starts_with_a_letter() {
        for (text, first) in [("68A", '6'), ("-KV", '-'), ("_KV", '_')] {
            assert_eq!(
                RegionCode::parse(text),
                Err(RegionCodeError::GroupStart {
                    code: text.to_owned(),
                    first
                })
            );
        }
    }

    #[test]
    fn region_level_words() {
        for level in RegionLevel::ALL {
            assert_eq!(level.as_str().parse::<RegionLevel>(), Ok(level));
        }
        assert_eq!(
            RegionLevel::NAMES,
            ["nation", "province", "district", "commune", "group"]
        );
        assert!("ward".parse::<RegionLevel>().is_err());
    }

    #[test]
    fn region_level_hierarchy() {
        use RegionLevel::{Commune, District, Group, Nation, Province};
        let above = [
            (Nation, Province),
            (Nation, District),
            (Nation, Commune),
            (Nation, Group),
            (Province, District),
            (Province, Commune),
            (District, Commune),
        ];
        for parent in RegionLevel::ALL {
            for child in RegionLevel::ALL {
                assert_eq!(
                    parent.is_above(child),
                    above.contains(&(parent, child)),
                    "{parent} above {child}"
                );
            }
        }
    }

    #[test]
    fn validity_checks_order_and_contains_inclusively() {
        let closed = Validity::new(date("2008-08-01"), Some(date("2025-06-30"))).unwrap();
        assert!(closed.contains(date("2008-08-01")));
        assert!(closed.contains(date("2025-06-30")));
        assert!(!closed.contains(date("2025-07-01")));
        assert!(!closed.contains(date("2008-07-31")));

        let open = Validity::since(date("2025-07-01"));
        assert_eq!(open, Validity::new(date("2025-07-01"), None).unwrap());
        assert!(open.contains(date("2025-07-01")));
        assert!(open.contains(date("2999-01-01")));
        assert!(!open.contains(date("2025-06-30")));

        let one_day = Validity::new(date("2025-07-01"), Some(date("2025-07-01")));
        assert!(one_day.is_ok());
    }

    #[test]
    fn validity_rejects_end_before_start() {
        let error = Validity::new(date("2025-07-01"), Some(date("2025-06-30"))).unwrap_err();
        assert_eq!(
            error,
            ValidityError::EndsBeforeStart {
                from: date("2025-07-01"),
                to: date("2025-06-30")
            }
        );
        assert!(error.to_string().contains("valid_to must be on or after"));
    }

    #[test]
    fn validity_display() {
        let closed = Validity::new(date("2008-08-01"), Some(date("2025-06-30"))).unwrap();
        assert_eq!(closed.to_string(), "2008-08-01..2025-06-30");
        assert_eq!(
            Validity::since(date("2025-07-01")).to_string(),
            "2025-07-01.."
        );
    }

    #[test]
    fn validity_overlaps() {
        let old = Validity::new(date("2008-08-01"), Some(date("2025-06-30"))).unwrap();
        let new = Validity::since(date("2025-07-01"));
        let straddling = Validity::new(date("2025-06-30"), Some(date("2025-07-01"))).unwrap();
        assert!(!old.overlaps(&new));
        assert!(!new.overlaps(&old));
        assert!(straddling.overlaps(&old));
        assert!(straddling.overlaps(&new));
        assert!(new.overlaps(&Validity::since(date("2030-01-01"))));
        assert!(old.overlaps(&old));
    }

    fn lam_dong() -> Result<Region, RegionError> {
        Region::new(
            code("68"),
            RegionLevel::Province,
            " Lam Dong ",
            Some("Lâm Đồng".to_owned()),
            Some("  ".to_owned()),
            Some(code("VN")),
            Validity::since(date("2025-07-01")),
        )
    }

    #[test]
    fn region_new_accepts_a_province_and_tidies_text() {
        let region = lam_dong().unwrap();
        assert_eq!(region.name, "Lam Dong");
        assert_eq!(region.name_vi.as_deref(), Some("Lâm Đồng"));
        assert_eq!(region.kind, None);
        assert!(region.is_valid_on(date("2025-07-01")));
        assert!(!region.is_valid_on(date("2025-06-30")));
    }

    #[test]
    fn region_level_must_match_code_shape() {
        let cases = [
            ("68", RegionLevel::District, RegionLevel::Province),
            ("001", RegionLevel::Province, RegionLevel::District),
            ("BHXH-KV25", RegionLevel::Province, RegionLevel::Group),
            ("68", RegionLevel::Group, RegionLevel::Province),
            ("VN", RegionLevel::Group, RegionLevel::Nation),
        ];
        for (text, level, expected) in cases {
            let result = Region::new(
                code(text),
                level,
                "Name",
                None,
                None,
                None,
                Validity::since(date("2025-07-01")),
            );
            assert_eq!(
                result,
                Err(RegionError::LevelMismatch {
                    code: code(text),
                    level,
                    expected
                })
            );
        }
    }

    #[test]
    fn region_name_must_not_be_blank() {
        let result = Region::new(
            code("68"),
            RegionLevel::Province,
            "  ",
            None,
            None,
            None,
            Validity::since(date("2025-07-01")),
        );
        assert_eq!(result, Err(RegionError::EmptyName { code: code("68") }));
    }

    #[test]
    fn region_parent_must_be_above() {
        let build = |own: &str, level, parent: &str| {
            Region::new(
                code(own),
                level,
                "Name",
                None,
                None,
                Some(code(parent)),
                Validity::since(date("2025-07-01")),
            )
        };
        assert!(build("00004", RegionLevel::Commune, "68").is_ok());
        assert!(build("00004", RegionLevel::Commune, "001").is_ok());
        assert!(build("001", RegionLevel::District, "01").is_ok());
        assert!(build("BHXH-KV25", RegionLevel::Group, "VN").is_ok());

        let refused = [
            ("68", RegionLevel::Province, "67", RegionLevel::Province),
            ("68", RegionLevel::Province, "001", RegionLevel::District),
            ("VN", RegionLevel::Nation, "VN", RegionLevel::Nation),
            ("68", RegionLevel::Province, "BHXH-KV25", RegionLevel::Group),
            ("BHXH-KV25", RegionLevel::Group, "68", RegionLevel::Province),
        ];
        for (own, level, parent, parent_level) in refused {
            assert_eq!(
                build(own, level, parent),
                Err(RegionError::ParentNotAbove {
                    code: code(own),
                    level,
                    parent: code(parent),
                    parent_level
                })
            );
        }
    }

    #[test]
    fn region_validate_rechecks_a_built_value() {
        let mut region = lam_dong().unwrap();
        assert_eq!(region.validate(), Ok(()));
        region.level = RegionLevel::Commune;
        assert!(region.validate().is_err());
    }

    #[test]
    fn lineage_kinds() {
        assert_eq!("merge".parse(), Ok(LineageKind::Merge));
        assert_eq!("split".parse(), Ok(LineageKind::Split));
        assert_eq!("rename".parse(), Ok(LineageKind::Rename));
        assert_eq!(LineageKind::Split.as_str(), "split");
        assert!(LineageKind::Split.is_approximate());
        assert!(!LineageKind::Merge.is_approximate());
        assert!(!LineageKind::Rename.is_approximate());
        assert!("join".parse::<LineageKind>().is_err());
    }
}
