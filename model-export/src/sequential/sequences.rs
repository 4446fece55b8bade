//! Each HetRec user's *sequence*: the catalog artists they tagged, in the order of the first tag
//! they put on each (`user_taggedartists.dat` dates; HetRec has no play timestamps). The dates are
//! months in effect (the day is almost always 1), so ties are common: within one date the order
//! is a seeded shuffle, a hash of (seed, user, artist), so it does not depend on the file's order.

use crate::ingest::hetrec::TagAssignment;
use crate::rng::Rng;
use attune_engine::ArtistIdx;
use std::collections::{BTreeMap, HashMap};

/// Seed of the tie-breaking shuffle.
pub const TIE_SEED: u64 = 0x5E0;

/// One user's tagged catalog artists, oldest first (catalog indices, each once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// HetRec user id.
    pub user: u32,
    /// Catalog indices in time order.
    pub items: Vec<u32>,
    /// The first-tag date of each (`yyyymmdd`), non-decreasing.
    pub dates: Vec<u32>,
}

impl Sequence {
    /// The items with the order inside each run of equal dates shuffled afresh (the order there
    /// carries no information; training sees a new one every epoch).
    pub fn reshuffled(&self, rng: &mut Rng) -> Vec<u32> {
        let mut items = self.items.clone();
        let mut start = 0;
        while start < items.len() {
            let end = start + self.dates[start..].partition_point(|&d| d == self.dates[start]);
            rng.shuffle(&mut items[start..end]);
            start = end;
        }
        items
    }
}

/// Builds every user's sequence from the tag assignments the filter `keep` accepts; artists
/// outside the catalog (`index_of`) are dropped. Users come in id order.
pub fn build(
    assignments: &[TagAssignment],
    index_of: &HashMap<u32, ArtistIdx>,
    keep: impl Fn(u32) -> bool,
    seed: u64,
) -> Vec<Sequence> {
    // user -> artist -> first tag date
    let mut first: BTreeMap<u32, BTreeMap<u32, u32>> = BTreeMap::new();
    for a in assignments.iter().filter(|a| keep(a.user)) {
        if let Some(i) = index_of.get(&a.artist) {
            let d = first
                .entry(a.user)
                .or_default()
                .entry(i.0)
                .or_insert(a.date);
            *d = (*d).min(a.date);
        }
    }
    first
        .into_iter()
        .map(|(user, dates)| {
            let mut items: Vec<(u32, u64, u32)> = dates
                .into_iter()
                .map(|(item, date)| (date, tie_key(seed, user, item), item))
                .collect();
            items.sort_unstable();
            Sequence {
                user,
                items: items.iter().map(|x| x.2).collect(),
                dates: items.iter().map(|x| x.0).collect(),
            }
        })
        .collect()
}

/// The order of two artists tagged on the same date.
fn tie_key(seed: u64, user: u32, item: u32) -> u64 {
    Rng::new(seed ^ (u64::from(user) << 32) ^ u64::from(item).wrapping_mul(0x2545_F491_4F6C_DD1D))
        .next_u64()
}

/// The temporal cut: the first `round(0.8·n)` items (at least 1, at most n-1) are the input.
pub fn cut(n: usize) -> usize {
    ((n as f64 * crate::hetrec::evaluate::FOLD_IN_SHARE).round() as usize)
        .clamp(1, n.saturating_sub(1).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(user: u32, artist: u32, date: u32) -> TagAssignment {
        TagAssignment {
            user,
            artist,
            tag: 1,
            date,
        }
    }

    #[test]
    fn sequence_builder_orders_by_first_date_and_drops_non_catalog_artists() {
        // Catalog: HetRec artists 10, 20, 30, 40 -> indices 0..4; 99 is not in the catalog.
        let index_of: HashMap<u32, ArtistIdx> = [(10, 0), (20, 1), (30, 2), (40, 3)]
            .into_iter()
            .map(|(a, i)| (a, ArtistIdx(i)))
            .collect();
        let rows = vec![
            tag(1, 30, 20090301),
            tag(1, 10, 20100101),
            tag(1, 99, 20080101), // not in the catalog
            tag(1, 10, 20080501), // an earlier tag on 10 counts
            tag(1, 20, 20090101),
            tag(1, 30, 20071201), // ... and on 30
            tag(2, 40, 20110101),
            tag(3, 99, 20110101), // only non-catalog artists: no sequence
        ];
        let s = build(&rows, &index_of, |_| true, TIE_SEED);
        assert_eq!(
            s,
            vec![
                Sequence {
                    user: 1,
                    items: vec![2, 0, 1],
                    dates: vec![20071201, 20080501, 20090101],
                },
                Sequence {
                    user: 2,
                    items: vec![3],
                    dates: vec![20110101],
                },
            ]
        );
        // The filter, and a reversed file, give the same sequences.
        let mut rev = rows.clone();
        rev.reverse();
        assert_eq!(build(&rev, &index_of, |_| true, TIE_SEED), s);
        assert_eq!(build(&rows, &index_of, |u| u == 2, TIE_SEED), s[1..]);
    }

    #[test]
    fn ties_are_shuffled_by_the_seed_not_the_file_order() {
        let index_of: HashMap<u32, ArtistIdx> = (0..20).map(|a| (a, ArtistIdx(a))).collect();
        let rows: Vec<TagAssignment> = (0..20).map(|a| tag(5, a, 20090101)).collect();
        let a = build(&rows, &index_of, |_| true, 1);
        let mut rev = rows.clone();
        rev.reverse();
        assert_eq!(build(&rev, &index_of, |_| true, 1), a);
        assert_ne!(a[0].items, (0..20).collect::<Vec<_>>(), "shuffled");
        assert_ne!(build(&rows, &index_of, |_| true, 2), a, "seeded");
    }

    #[test]
    fn reshuffling_moves_items_only_within_a_date() {
        let s = Sequence {
            user: 1,
            items: (0..12).collect(),
            dates: [1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 4, 4].to_vec(),
        };
        let mut rng = Rng::new(4);
        let mut changed = false;
        for _ in 0..10 {
            let r = s.reshuffled(&mut rng);
            changed |= r != s.items;
            let mut g: Vec<(u32, u32)> = r.iter().map(|&i| (s.dates[i as usize], i)).collect();
            assert!(g.windows(2).all(|w| w[0].0 <= w[1].0), "{r:?}");
            g.sort_unstable();
            assert_eq!(g.iter().map(|x| x.1).collect::<Vec<_>>(), s.items);
        }
        assert!(changed);
    }

    #[test]
    fn cut_keeps_at_least_one_item_on_each_side() {
        assert_eq!(cut(5), 4);
        assert_eq!(cut(10), 8);
        assert_eq!(cut(2), 1);
        assert_eq!(cut(12), 10);
    }
}
