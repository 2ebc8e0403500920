//! The weights of a run's lineage edges taken together: the shares of one old unit's figure
//! that its new units take must add up to exactly 1. A run may send the weights of one
//! divided commune's parts only, so each old unit the run brings an edge of is checked over
//! all its edges: those of the run, and the stored ones the run leaves as they are. A single
//! row's weight (its range, its decimals, 1 on a merge) is checked in [`crate::validate`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ansinh_model::{Decimal, LineageLink};

use crate::problem::{Problem, excerpt};
use crate::reference::{Reference, RegionId};

/// How many edges a message lists before "and N more".
const LISTED_EDGES: usize = 5;

/// How many characters of another file's name the list quotes whole: a long path is quoted
/// by its start, so that five of them leave the sentence readable.
const FILE_CHARS: usize = 60;

/// One edge a run wrote, and the row it came from.
#[derive(Debug, Clone)]
struct RunEdge {
    link: LineageLink<RegionId>,
    file: Arc<str>,
    line: u64,
}

/// The lineage edges a run wrote, in the order of its rows.
#[derive(Debug, Default)]
pub struct RunLineage {
    edges: Vec<RunEdge>,
}

impl RunLineage {
    /// Notes that the row at `file:line` wrote `link`.
    pub fn record(&mut self, file: &Arc<str>, line: u64, link: LineageLink<RegionId>) {
        self.edges.push(RunEdge {
            link,
            file: Arc::clone(file),
            line,
        });
    }

    /// A problem on every row of each old unit whose weights do not add up to 1, over the
    /// unit's edges as `reference` now holds them (the stored ones with the run's in their
    /// place). An old unit none of whose edges has a weight is not checked: its shares are
    /// unknown, which is allowed.
    pub fn check_weights(&self, reference: &Reference) -> Vec<Problem> {
        let mut rows_by_unit: BTreeMap<RegionId, Vec<&RunEdge>> = BTreeMap::new();
        for edge in &self.edges {
            rows_by_unit.entry(edge.link.from).or_default().push(edge);
        }
        let mut problems = Vec::new();
        for (from, rows) in rows_by_unit {
            // The row that wrote each edge last is the one whose weight the edge holds.
            let last_row: HashMap<RegionId, &RunEdge> =
                rows.iter().map(|edge| (edge.link.to, *edge)).collect();
            let edges: Vec<(&LineageLink<RegionId>, Option<&RunEdge>)> = reference
                .lineage_from(from)
                .map(|link| (link, last_row.get(&link.to).copied()))
                .collect();
            if edges.iter().all(|(link, _)| link.weight.is_none()) {
                continue;
            }
            let shares: Vec<Option<Decimal>> = edges.iter().map(|(link, _)| share(link)).collect();
            let sum: Decimal = shares.iter().flatten().sum();
            let unknown = shares.iter().filter(|share| share.is_none()).count();
            if unknown == 0 && sum == Decimal::ONE {
                continue;
            }
            for row in rows {
                let value = row.link.weight.map(|w| w.normalize().to_string());
                problems.push(Problem::new(
                    &row.file,
                    row.line,
                    "weight",
                    sum_reason(reference, from, &edges, sum, unknown, &row.file),
                    value.as_deref(),
                ));
            }
        }
        problems
    }
}

/// The share of the old unit's figure `link` carries: its weight, or the whole for a merge or
/// rename without one; `None` for a split without one.
fn share(link: &LineageLink<RegionId>) -> Option<Decimal> {
    match link.weight {
        Some(weight) => Some(weight),
        None if !link.kind.is_approximate() => Some(Decimal::ONE),
        None => None,
    }
}

/// Why the edges of old unit `from` break the rule, for a problem in file `here`: the sum
/// found and where each share comes from (a line of `here`, a line of another file, or the
/// stored edges).
fn sum_reason(
    reference: &Reference,
    from: RegionId,
    edges: &[(&LineageLink<RegionId>, Option<&RunEdge>)],
    sum: Decimal,
    unknown: usize,
    here: &Arc<str>,
) -> String {
    let code = |id: RegionId| reference.region_code(id).unwrap_or("?").to_owned();
    let unit = match reference.region_by_id(from) {
        Some(region) => format!(
            "{} (the version from {})",
            region.code, region.validity.from
        ),
        None => code(from),
    };
    let mut items: Vec<String> = edges
        .iter()
        .take(LISTED_EDGES)
        .map(|(link, row)| {
            let to = code(link.to);
            let given = match (link.weight, share(link)) {
                (Some(weight), _) => weight.normalize().to_string(),
                (None, Some(_)) => format!("1 (a {}, whole)", link.kind),
                (None, None) => "no weight".to_owned(),
            };
            match row {
                Some(row) if row.file == *here => {
                    format!("line {} gives {given} to {to}", row.line)
                }
                Some(row) => format!(
                    "{}:{} gives {given} to {to}",
                    excerpt(&row.file, FILE_CHARS, FILE_CHARS / 2),
                    row.line
                ),
                None => format!("the stored edge gives {given} to {to}"),
            }
        })
        .collect();
    if edges.len() > LISTED_EDGES {
        items.push(format!("{} more", edges.len() - LISTED_EDGES));
    }
    let unknown = match unknown {
        0 => String::new(),
        1 => " and 1 split edge has no weight".to_owned(),
        n => format!(" and {n} split edges have no weight"),
    };
    format!(
        "the weights of old unit {unit} add up to {}{unknown}, not 1: {}; the shares of one old unit's figure must add up to exactly 1 over all its edges (stored ones this run does not change count too)",
        sum.normalize(),
        items.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use ansinh_model::LineageKind;
    use ansinh_model::fixtures::dec;

    use super::*;
    use crate::reference::fixtures::reference;

    /// Old commune 00007 is id 8; its parts 00008 and 00025 are ids 9 and 10.
    fn split(to: RegionId, weight: Option<&str>) -> LineageLink<RegionId> {
        LineageLink {
            from: 8,
            to,
            kind: LineageKind::Split,
            weight: weight.map(dec),
        }
    }

    /// Problems of a run whose rows (line, edge) of `lineage.csv` are written over the
    /// fixture's edges.
    fn run(rows: &[(u64, LineageLink<RegionId>)]) -> Vec<String> {
        let mut reference = reference();
        let mut lineage = RunLineage::default();
        let file: Arc<str> = Arc::from("lineage.csv");
        for &(line, link) in rows {
            reference.add_lineage(link);
            lineage.record(&file, line, link);
        }
        lineage
            .check_weights(&reference)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn weights_adding_up_to_one_pass_and_unknown_shares_are_allowed() {
        assert!(run(&[(2, split(9, Some("0.4"))), (3, split(10, Some("0.6")))]).is_empty());
        assert!(run(&[(2, split(9, None)), (3, split(10, None))]).is_empty());
        // A merge passes on the whole; saying so is allowed.
        let merge = LineageLink {
            from: 3,
            to: 2,
            kind: LineageKind::Merge,
            weight: Some(Decimal::ONE),
        };
        assert!(run(&[(2, merge)]).is_empty());
    }

    #[test]
    fn a_sum_other_than_one_names_every_row_of_the_old_unit_and_the_sum() {
        let problems = run(&[(2, split(9, Some("0.4"))), (3, split(10, Some("0.5")))]);
        let reason = "the weights of old unit 00007 (the version from 2008-08-01) add up to 0.9, not 1: line 2 gives 0.4 to 00008, line 3 gives 0.5 to 00025; the shares of one old unit's figure must add up to exactly 1 over all its edges (stored ones this run does not change count too)";
        assert_eq!(
            problems,
            [
                format!("lineage.csv:2:weight: {reason} (\"0.4\")"),
                format!("lineage.csv:3:weight: {reason} (\"0.5\")"),
            ]
        );
    }

    #[test]
    fn stored_edges_the_run_leaves_alone_count_towards_the_sum() {
        // Only one part's weight: the stored edge to 00025 has none.
        let problems = run(&[(2, split(9, Some("0.4")))]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("add up to 0.4 and 1 split edge has no weight, not 1: line 2 gives 0.4 to 00008, the stored edge gives no weight to 00025;"),
            "{problems:?}"
        );

        // Stored weights of 0.4 and 0.6; the run changes one to 0.5.
        let mut reference = reference();
        reference.add_lineage(split(9, Some("0.4")));
        reference.add_lineage(split(10, Some("0.6")));
        let mut lineage = RunLineage::default();
        let file: Arc<str> = Arc::from("fix.csv");
        reference.add_lineage(split(10, Some("0.5")));
        lineage.record(&file, 2, split(10, Some("0.5")));
        let problems: Vec<String> = lineage
            .check_weights(&reference)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("fix.csv:2:weight: the weights of old unit 00007 (the version from 2008-08-01) add up to 0.9, not 1: the stored edge gives 0.4 to 00008, line 2 gives 0.5 to 00025;"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_weight_the_run_clears_leaves_its_siblings_unbalanced() {
        let mut reference = reference();
        reference.add_lineage(split(9, Some("0.4")));
        reference.add_lineage(split(10, Some("0.6")));
        let mut lineage = RunLineage::default();
        let file: Arc<str> = Arc::from("lineage.csv");
        reference.add_lineage(split(9, None));
        lineage.record(&file, 2, split(9, None));
        let problems = lineage.check_weights(&reference);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].value, None);
        assert!(
            problems[0]
                .reason
                .contains("add up to 0.6 and 1 split edge has no weight, not 1"),
            "{problems:?}"
        );
    }

    #[test]
    fn an_old_unit_with_many_edges_is_described_in_a_sentence_of_bounded_length() {
        let mut reference = reference();
        let mut lineage = RunLineage::default();
        // Rows in two files with long names.
        let files: [Arc<str>; 2] = [
            Arc::from("a".repeat(150).as_str()),
            Arc::from("b".repeat(150).as_str()),
        ];
        for (line, to) in (100..120).enumerate() {
            let link = split(to, Some("0.01"));
            reference.add_lineage(link);
            lineage.record(&files[line % 2], line as u64 + 2, link);
        }
        let problems = lineage.check_weights(&reference);
        assert_eq!(problems.len(), 20);
        let reason = &problems[1].reason;
        assert!(
            reason.contains(&format!(
                "add up to 0.2 and 2 split edges have no weight, not 1: the stored edge gives no weight to 00008, the stored edge gives no weight to 00025, {}… (150 bytes):2 gives 0.01 to ?, line 3 gives 0.01 to ?, ",
                "a".repeat(30)
            )),
            "{reason}"
        );
        assert!(reason.contains(", 17 more;"), "{reason}");
        assert!(
            reason.chars().count() < crate::problem::REASON_CHARS,
            "{reason}"
        );
    }
}
