//! What a dry run would change, row by row (`load --dry-run --diff`): each observation or
//! target that would be inserted, and each that would be updated with its stored figure beside
//! the new one. The list is bounded ([`DIFF_ROWS`] of each), so that a dry run of a whole
//! year's file stays readable; the rest is counted.

use std::fmt;

use ansinh_model::{Decimal, Period, Qualifier};
use serde::Serialize;

use crate::reference::Reference;
use crate::validate::{SeriesKey, SeriesRow};

/// Inserts, and updates, listed in full; the rest are only counted.
pub const DIFF_ROWS: usize = 20;

/// The rows a run would change, bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub inserts: Vec<Insert>,
    pub updates: Vec<Update>,
    /// Inserts beyond the ones listed.
    pub more_inserts: u64,
    /// Updates beyond the ones listed.
    pub more_updates: u64,
}

/// The key of an observation or target, in the words of the import files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffKey {
    /// `observations` or `targets`.
    pub table: &'static str,
    pub region: String,
    pub indicator: String,
    /// The period as stored (a stock's is the day it ends).
    pub period: String,
}

/// A figure as it is or would be stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub value: String,
    /// `None` for a target, which has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<&'static str>,
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Insert {
    pub key: DiffKey,
    pub new: Figure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    pub key: DiffKey,
    pub old: Figure,
    pub new: Figure,
}

impl Diff {
    /// Whether another insert would be listed rather than only counted (the caller then
    /// builds it; building one for every row of a big run would cost for nothing).
    pub fn lists_insert(&mut self) -> bool {
        if self.inserts.len() < DIFF_ROWS {
            return true;
        }
        self.more_inserts += 1;
        false
    }

    /// Like [`Self::lists_insert`], for updates.
    pub fn lists_update(&mut self) -> bool {
        if self.updates.len() < DIFF_ROWS {
            return true;
        }
        self.more_updates += 1;
        false
    }

    /// Adds `other`'s rows after this one's, keeping the bound.
    pub fn absorb(&mut self, other: Diff) {
        fn listed<T>(listed: &mut Vec<T>, more: &mut u64, rows: Vec<T>, rest: u64) {
            let room = DIFF_ROWS.saturating_sub(listed.len());
            *more += rest + rows.len().saturating_sub(room) as u64;
            listed.extend(rows.into_iter().take(room));
        }
        listed(
            &mut self.inserts,
            &mut self.more_inserts,
            other.inserts,
            other.more_inserts,
        );
        listed(
            &mut self.updates,
            &mut self.more_updates,
            other.updates,
            other.more_updates,
        );
    }
}

/// The key's period as the import files write it; the bounds when they name no period.
pub fn period_text(key: &SeriesKey) -> String {
    Period::from_bounds(key.start, key.end)
        .map_or_else(|_| format!("{}/{}", key.start, key.end), |p| p.to_string())
}

impl DiffKey {
    pub fn new(targets: bool, key: &SeriesKey, reference: &Reference) -> Self {
        Self {
            table: if targets { "targets" } else { "observations" },
            region: reference.region_code(key.region).unwrap_or("?").to_owned(),
            indicator: reference
                .indicator_code(key.indicator)
                .unwrap_or("?")
                .to_owned(),
            period: period_text(key),
        }
    }
}

impl Figure {
    /// `row` as it would be stored.
    pub fn new_row(targets: bool, row: &SeriesRow) -> Self {
        Self::new(
            targets,
            row.value,
            row.qualifier,
            row.source.as_deref().map(str::to_owned),
            row.note.as_deref().map(str::to_owned),
        )
    }

    pub fn new(
        targets: bool,
        value: Decimal,
        qualifier: Qualifier,
        source: Option<String>,
        note: Option<String>,
    ) -> Self {
        Self {
            value: value.normalize().to_string(),
            qualifier: (!targets).then(|| qualifier.as_str()),
            source,
            note,
        }
    }
}

impl fmt::Display for DiffKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.table, self.region, self.indicator, self.period
        )
    }
}

/// `94.56 exact (source A) [note "…"]`, the way the diff lines show a figure.
impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)?;
        if let Some(qualifier) = self.qualifier {
            write!(f, " {qualifier}")?;
        }
        match &self.source {
            Some(source) => write!(f, " (source {source})")?,
            None => f.write_str(" (no source)")?,
        }
        if let Some(note) = &self.note {
            write!(f, " note {note:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Diff {
    /// The lines `--diff` prints: updates, then inserts, each with a count of the rest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let updates = self.updates.len() as u64 + self.more_updates;
        let inserts = self.inserts.len() as u64 + self.more_inserts;
        writeln!(f, "would update {updates} row(s):")?;
        for Update { key, old, new } in &self.updates {
            writeln!(f, "  {key}: {old} -> {new}")?;
        }
        if self.more_updates > 0 {
            writeln!(f, "  and {} more", self.more_updates)?;
        }
        writeln!(f, "would insert {inserts} row(s):")?;
        for Insert { key, new } in &self.inserts {
            writeln!(f, "  {key}: {new}")?;
        }
        if self.more_inserts > 0 {
            writeln!(f, "  and {} more", self.more_inserts)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> DiffKey {
        DiffKey {
            table: "observations",
            region: "68".into(),
            indicator: "hi_coverage_rate".into(),
            period: format!("{}", 2000 + n),
        }
    }

    fn figure(value: &str, source: Option<&str>) -> Figure {
        Figure {
            value: value.into(),
            qualifier: Some("exact"),
            source: source.map(str::to_owned),
            note: None,
        }
    }

    fn with_inserts(n: usize) -> Diff {
        let mut diff = Diff::default();
        for i in 0..n {
            if diff.lists_insert() {
                diff.inserts.push(Insert {
                    key: key(i),
                    new: figure("1", None),
                });
            }
        }
        diff
    }

    #[test]
    fn lists_at_most_the_bound_and_counts_the_rest() {
        let diff = with_inserts(DIFF_ROWS + 3);
        assert_eq!(diff.inserts.len(), DIFF_ROWS);
        assert_eq!(diff.more_inserts, 3);
        let text = diff.to_string();
        assert!(
            text.contains(&format!("would insert {} row(s):", DIFF_ROWS + 3)),
            "{text}"
        );
        assert!(text.ends_with("  and 3 more\n"), "{text}");
    }

    #[test]
    fn absorbing_keeps_the_bound() {
        let mut diff = with_inserts(15);
        diff.absorb(with_inserts(DIFF_ROWS + 2));
        assert_eq!(diff.inserts.len(), DIFF_ROWS);
        assert_eq!(diff.more_inserts, 15 + 2);
        assert_eq!(diff.inserts[15].key, key(0));
    }

    #[test]
    fn an_update_shows_old_and_new_figures() {
        let diff = Diff {
            updates: vec![Update {
                key: key(24),
                old: figure("94.56", Some("A")),
                new: figure("94.6", Some("B")),
            }],
            ..Diff::default()
        };
        assert_eq!(
            diff.to_string(),
            "would update 1 row(s):\n  observations 68 hi_coverage_rate 2024: 94.56 exact (source A) -> 94.6 exact (source B)\nwould insert 0 row(s):\n"
        );
    }
}
