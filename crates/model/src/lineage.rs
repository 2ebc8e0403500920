//! Carrying a region code across boundary changes: which versions a version became by a later
//! day, or came from by an earlier one, through lineage edges, and whether that mapping is
//! exact. An edge of a merge or rename carries the whole territory; a split edge carries a
//! part, so every mapping through one is approximate, whatever weight was imported for it
//! (the weight says how a figure may be apportioned, not that the territory is whole).

use std::collections::HashMap;
use std::hash::Hash;

use rust_decimal::Decimal;

use crate::{LineageKind, NaiveDate, Validity};

/// One edge: the version `from` went (wholly or in part) into `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineageLink<Id> {
    /// The earlier version.
    pub from: Id,
    /// The later version.
    pub to: Id,
    /// What changed.
    pub kind: LineageKind,
    /// The share of `from`'s figures that `to` takes, when known; a merge or rename passes on
    /// the whole (1) without saying so.
    pub weight: Option<Decimal>,
}

/// Where a version leads on another day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion<Id> {
    /// The version reached, valid on the day asked about.
    pub region: Id,
    /// The change on the way: `None` when the version itself is valid on both days, else the
    /// edge's kind (a split if any edge on the way is one).
    pub kind: Option<LineageKind>,
    /// Whether the reached version stands for exactly the territory converted from (no split
    /// on the way).
    pub exact: bool,
    /// The share of the starting version's figures carried to this one, when every edge on
    /// the way says (1 for the version itself and through merges).
    pub weight: Option<Decimal>,
}

/// Every lineage edge, both ways, for walks in either direction.
#[derive(Debug, Clone, Default)]
pub struct LineageGraph<Id> {
    successors: HashMap<Id, Vec<LineageLink<Id>>>,
    predecessors: HashMap<Id, Vec<LineageLink<Id>>>,
}

/// How far a walk goes before it gives up: the graph of real reforms is a few steps deep,
/// so a longer walk can only be a cycle in bad data.
const MAX_STEPS: usize = 16;

impl<Id: Copy + Eq + Hash + Ord> LineageGraph<Id> {
    /// The graph of `links`.
    pub fn new(links: impl IntoIterator<Item = LineageLink<Id>>) -> Self {
        let mut graph = Self {
            successors: HashMap::new(),
            predecessors: HashMap::new(),
        };
        for link in links {
            graph.successors.entry(link.from).or_default().push(link);
            graph.predecessors.entry(link.to).or_default().push(link);
        }
        graph
    }

    /// The versions `start` became by `day` (or came from, when `day` is before `start`'s
    /// validity), ordered by id. `validity` tells each version's validity; a version valid on
    /// `day` ends the walk. Empty when nothing leads to a version valid on `day` (a region
    /// abolished without successor, or a day before the first generation).
    pub fn convert(
        &self,
        start: Id,
        day: NaiveDate,
        validity: impl Fn(Id) -> Option<Validity>,
    ) -> Vec<Conversion<Id>> {
        let mut reached: Vec<Conversion<Id>> = Vec::new();
        let mut frontier = vec![Conversion {
            region: start,
            kind: None,
            exact: true,
            weight: Some(Decimal::ONE),
        }];
        for _ in 0..MAX_STEPS {
            let mut next = Vec::new();
            for step in frontier {
                let Some(valid) = validity(step.region) else {
                    continue;
                };
                if valid.contains(day) {
                    merge_into(&mut reached, step);
                    continue;
                }
                let backwards = day < valid.from;
                let edges = if backwards {
                    self.predecessors.get(&step.region)
                } else {
                    self.successors.get(&step.region)
                };
                for link in edges.into_iter().flatten() {
                    next.push(step.through(link, backwards));
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        reached.sort_by_key(|conversion| conversion.region);
        reached
    }
}

impl<Id: Copy> Conversion<Id> {
    /// This mapping continued along `link` (against it when walking `backwards`).
    fn through(self, link: &LineageLink<Id>, backwards: bool) -> Self {
        let approximate = link.kind.is_approximate();
        let share = if approximate {
            link.weight
        } else {
            Some(link.weight.unwrap_or(Decimal::ONE))
        };
        Self {
            region: if backwards { link.from } else { link.to },
            kind: Some(match self.kind {
                Some(LineageKind::Split) => LineageKind::Split,
                _ => link.kind,
            }),
            exact: self.exact && !approximate,
            // Backwards, a weight is the share of the earlier figure, not of the later one:
            // it says nothing about what part of the later territory the earlier one was.
            weight: if backwards {
                self.weight.filter(|_| !approximate)
            } else {
                self.weight.zip(share).map(|(a, b)| a * b)
            },
        }
    }
}

/// Adds `conversion` to `reached`, or, for a version reached by another path too, keeps one
/// entry that is exact only if both are.
fn merge_into<Id: Copy + Eq>(reached: &mut Vec<Conversion<Id>>, conversion: Conversion<Id>) {
    match reached.iter_mut().find(|r| r.region == conversion.region) {
        Some(known) => {
            known.exact &= conversion.exact;
            known.weight = known
                .weight
                .zip(conversion.weight)
                .map(|(a, b)| a + b)
                .filter(|_| known.exact);
        }
        None => reached.push(conversion),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{date, dec};

    /// Old communes 1 (whole into 10) and 2 (divided between 10 and 11), valid until the
    /// reform; 3 valid throughout.
    fn reform(
        weights: Option<(&str, &str)>,
    ) -> (LineageGraph<u32>, impl Fn(u32) -> Option<Validity>) {
        let link = |from, to, kind, weight: Option<&str>| LineageLink {
            from,
            to,
            kind,
            weight: weight.map(dec),
        };
        let graph = LineageGraph::new([
            link(1, 10, LineageKind::Merge, None),
            link(2, 10, LineageKind::Split, weights.map(|w| w.0)),
            link(2, 11, LineageKind::Split, weights.map(|w| w.1)),
        ]);
        let old = Validity::new(date("2008-08-01"), Some(date("2025-06-30"))).unwrap();
        let new = Validity::since(date("2025-07-01"));
        let validity = move |id: u32| match id {
            1 | 2 => Some(old),
            10 | 11 => Some(new),
            3 => Some(Validity::since(date("2008-08-01"))),
            _ => None,
        };
        (graph, validity)
    }

    #[test]
    fn a_whole_commune_maps_exactly_to_the_one_it_went_into() {
        let (graph, validity) = reform(None);
        assert_eq!(
            graph.convert(1, date("2025-08-01"), &validity),
            [Conversion {
                region: 10,
                kind: Some(LineageKind::Merge),
                exact: true,
                weight: Some(Decimal::ONE),
            }]
        );
    }

    #[test]
    fn a_divided_commune_maps_to_all_its_parts_approximately_with_their_weights() {
        let (graph, validity) = reform(None);
        let parts = graph.convert(2, date("2025-08-01"), &validity);
        assert_eq!(parts.iter().map(|c| c.region).collect::<Vec<_>>(), [10, 11]);
        assert!(parts.iter().all(|c| !c.exact && c.weight.is_none()));
        assert!(parts.iter().all(|c| c.kind == Some(LineageKind::Split)));

        let (graph, validity) = reform(Some(("0.3", "0.7")));
        let weights: Vec<_> = graph
            .convert(2, date("2025-08-01"), &validity)
            .into_iter()
            .map(|c| c.weight)
            .collect();
        assert_eq!(weights, [Some(dec("0.3")), Some(dec("0.7"))]);
    }

    #[test]
    fn backwards_a_new_commune_maps_to_where_it_came_from() {
        let (graph, validity) = reform(Some(("0.3", "0.7")));
        let sources = graph.convert(10, date("2024-06-01"), &validity);
        assert_eq!(
            sources
                .iter()
                .map(|c| (c.region, c.exact, c.weight))
                .collect::<Vec<_>>(),
            [(1, true, Some(Decimal::ONE)), (2, false, None)]
        );
    }

    #[test]
    fn a_version_valid_on_both_days_is_itself_and_nothing_leads_nowhere() {
        let (graph, validity) = reform(None);
        assert_eq!(
            graph.convert(3, date("2025-08-01"), &validity),
            [Conversion {
                region: 3,
                kind: None,
                exact: true,
                weight: Some(Decimal::ONE),
            }]
        );
        assert!(graph.convert(1, date("2000-01-01"), &validity).is_empty());
    }
}
