//! What every format reader hands on: a [`Row`] whose values sit in the slots of its file's
//! [`Kind`] ([`Kind::columns`]), and, for the formats whose first line names the columns (a CSV
//! header, the first object of a JSON Lines file), those names mapped to the slots. The
//! readers of each format depend on this module; it depends on none of them.

use std::sync::Arc;

use ansinh_model::NumberLocale;

use crate::kind::Kind;
use crate::problem::Problem;

/// The most columns any kind has.
pub const MAX_COLUMNS: usize = 8;

/// One input row, its values in the slots of its kind ([`Kind::columns`]).
#[derive(Debug)]
pub struct Row<'a> {
    pub line: u64,
    values: &'a [Option<&'a str>],
    /// Slots whose value came as a number (a JSON number, a numeric sheet cell) rather than as
    /// text: already plain, whatever the number locale.
    plain_numbers: u32,
    /// The number locale of this row's text, when the file declares its own (a sheet's mapping).
    locale: Option<NumberLocale>,
    /// Where a column's value came from, when that is not the column itself (a sheet cell).
    places: &'a [(&'a str, &'a str)],
}

impl<'a> Row<'a> {
    pub fn new(line: u64, values: &'a [Option<&'a str>]) -> Self {
        Self {
            line,
            values,
            plain_numbers: 0,
            locale: None,
            places: &[],
        }
    }

    /// Marks the slots of `mask` (bit `n` for slot `n`) as numbers rather than text.
    pub fn with_plain_numbers(mut self, mask: u32) -> Self {
        self.plain_numbers = mask;
        self
    }

    /// Reads this row's number text in `locale` rather than the run's.
    pub fn with_locale(mut self, locale: Option<NumberLocale>) -> Self {
        self.locale = locale;
        self
    }

    /// Names where the values of columns came from: `(column, place)` pairs.
    pub fn with_places(mut self, places: &'a [(&'a str, &'a str)]) -> Self {
        self.places = places;
        self
    }

    /// The value in `slot`, trimmed; `None` when the column is absent or the cell blank.
    pub fn get(&self, slot: usize) -> Option<&'a str> {
        self.values
            .get(slot)
            .copied()
            .flatten()
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// Whether the value in `slot` came as a number (a JSON number, a numeric sheet cell)
    /// rather than as text.
    pub fn is_plain_number(&self, slot: usize) -> bool {
        slot < 32 && self.plain_numbers & (1 << slot) != 0
    }

    /// The number locale this row declares for its text, if it has its own.
    pub fn locale(&self) -> Option<NumberLocale> {
        self.locale
    }

    /// How a problem names the place of `column`: the column itself, or for a row of a report
    /// sheet the cell it came from (`Sheet1!C7`).
    pub fn place<'s>(&'s self, column: &'s str) -> &'s str {
        self.places
            .iter()
            .find(|(c, _)| *c == column)
            .map_or(column, |(_, place)| place)
    }
}

/// `text` without the byte order mark some editors write before the first line.
pub(super) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Maps header names to slots of the kind (given or detected); reports every column that is
/// unknown, repeated or missing.
pub(super) fn header_slots(
    label: &Arc<str>,
    names: &[String],
    kind: Option<Kind>,
) -> Result<(Kind, Vec<usize>), Vec<Problem>> {
    let kind = match kind.or_else(|| Kind::detect(names.iter().map(String::as_str))) {
        Some(kind) => kind,
        None => {
            return Err(vec![Problem::new(
                label,
                1,
                "",
                format!(
                    "cannot tell the kind of file from its columns; expected the required columns of one of: {} (or give --kind)",
                    Kind::ALL
                        .iter()
                        .map(|k| format!("{k} ({})", k.required().join(",")))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                Some(&names.join(",")),
            )]);
        }
    };
    let mut problems = Vec::new();
    let mut slots = Vec::with_capacity(names.len());
    for name in names {
        match kind.slot(name.trim()) {
            Some(slot) if slots.contains(&slot) => problems.push(Problem::new(
                label,
                1,
                name.trim(),
                "column appears twice",
                None,
            )),
            Some(slot) => slots.push(slot),
            None => problems.push(Problem::new(
                label,
                1,
                name.trim(),
                format!(
                    "unknown column for {kind}; columns are: {}",
                    kind.columns().collect::<Vec<_>>().join(", ")
                ),
                None,
            )),
        }
    }
    for required in kind.required() {
        if !names.iter().any(|n| n.trim() == *required) {
            problems.push(Problem::new(
                label,
                1,
                *required,
                format!("missing required column for {kind}"),
                None,
            ));
        }
    }
    if problems.is_empty() {
        Ok((kind, slots))
    } else {
        Err(problems)
    }
}
