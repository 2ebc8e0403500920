//! Ranking regions by one indicator's figure: standard competition ranking (1, 2, 2, 4), so
//! regions with equal figures share a rank and the next rank counts them all, in a stable
//! order, each with its difference from a reference figure — the parent's own value, as in
//! "17.1% against the national 42.71%".

use std::cmp::Ordering;

use crate::value::{Qualifier, Quantity};

/// A region's place in a ranking.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ranked<K> {
    /// The region.
    pub key: K,
    /// Its figure.
    pub value: Quantity,
    /// 1 for the first; regions with equal values share the rank of the first of them, and
    /// the next rank is one more than the number of regions ranked before it.
    pub rank: usize,
    /// `value − reference`, exact, qualified by [`Qualifier::difference`] (percentage points
    /// for percentages); `None` without a reference.
    pub difference_from_reference: Option<Quantity>,
}

/// Ranks `entries` by value: largest first, or smallest first when `ascending`.
///
/// Ties are equal decimal values (17.10 equals 17.1); qualifiers do not break them, since
/// "more than 5" and "5" are ranked on what the source stated. Within a tie, and so in the
/// whole list, keys are in ascending order whatever the direction, so the order is stable
/// from one call to the next. A limit is applied by the caller after ranking, so ranks stay
/// those of the whole list.
pub fn rank<K: Clone + Ord>(
    entries: impl IntoIterator<Item = (K, Quantity)>,
    ascending: bool,
    reference: Option<Quantity>,
) -> Vec<Ranked<K>> {
    let mut entries: Vec<(K, Quantity)> = entries.into_iter().collect();
    let by_value = |a: &Quantity, b: &Quantity| {
        let order = a.value.cmp(&b.value);
        if ascending { order } else { order.reverse() }
    };
    entries.sort_by(|(a_key, a), (b_key, b)| by_value(a, b).then_with(|| a_key.cmp(b_key)));

    let mut ranked: Vec<Ranked<K>> = Vec::with_capacity(entries.len());
    for (position, (key, value)) in entries.into_iter().enumerate() {
        let rank = match ranked.last() {
            Some(before) if by_value(&before.value, &value) == Ordering::Equal => before.rank,
            _ => position + 1,
        };
        let difference_from_reference = reference.map(|reference| {
            Quantity::new(
                value.value - reference.value,
                Qualifier::difference(value.qualifier, reference.qualifier),
            )
        });
        ranked.push(Ranked {
            key,
            value,
            rank,
            difference_from_reference,
        });
    }
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{dec, exact};

    fn ranks(ranked: &[Ranked<&'static str>]) -> Vec<(&'static str, usize)> {
        ranked.iter().map(|entry| (entry.key, entry.rank)).collect()
    }

    #[test]
    fn ties_share_a_rank_and_the_next_rank_counts_them() {
        let entries = [
            ("d", exact("10")),
            ("b", exact("30")),
            ("c", exact("20.0")),
            ("a", exact("20")),
            ("e", exact("5")),
        ];
        let descending = rank(entries, false, None);
        assert_eq!(
            ranks(&descending),
            [("b", 1), ("a", 2), ("c", 2), ("d", 4), ("e", 5)]
        );
        let ascending = rank(entries, true, None);
        assert_eq!(
            ranks(&ascending),
            [("e", 1), ("d", 2), ("a", 3), ("c", 3), ("b", 5)]
        );
    }

    #[test]
    fn ties_at_the_top_and_all_equal() {
        let cases: [(&[&str], &[usize]); 4] = [
            (&["7", "7", "3"], &[1, 1, 3]),
            (&["1", "1", "1"], &[1, 1, 1]),
            (&["3", "2", "1"], &[1, 2, 3]),
            (&[], &[]),
        ];
        for (values, expected) in cases {
            let keys = ["a", "b", "c"];
            let ranked = rank(
                keys.iter()
                    .zip(values)
                    .map(|(&key, &value)| (key, exact(value))),
                false,
                None,
            );
            let got: Vec<usize> = ranked.iter().map(|entry| entry.rank).collect();
            assert_eq!(got, expected, "{values:?}");
        }
    }

    #[test]
    fn qualifiers_do_not_break_ties() {
        let ranked = rank(
            [
                ("b", Quantity::new(dec("5"), Qualifier::MoreThan)),
                ("a", exact("5")),
            ],
            false,
            None,
        );
        assert_eq!(ranks(&ranked), [("a", 1), ("b", 1)]);
    }

    #[test]
    fn difference_from_the_parent_reference() {
        // Seed 000: Lâm Đồng's SI coverage 17.1% against the national 42.71%.
        let ranked = rank(
            [("68", exact("17.1")), ("14", exact("50"))],
            false,
            Some(exact("42.71")),
        );
        assert_eq!(ranks(&ranked), [("14", 1), ("68", 2)]);
        assert_eq!(ranked[1].difference_from_reference, Some(exact("-25.61")));
        assert_eq!(ranked[0].difference_from_reference, Some(exact("7.29")));

        // A "nearly" reference: the true difference is larger than stated.
        let nearly = rank(
            [("VN", exact("35"))],
            false,
            Some(Quantity::new(dec("31.6"), Qualifier::Nearly)),
        );
        assert_eq!(
            nearly[0].difference_from_reference,
            Some(Quantity::new(dec("3.4"), Qualifier::MoreThan))
        );

        let without = rank([("68", exact("17.1"))], false, None);
        assert_eq!(without[0].difference_from_reference, None);
    }
}
