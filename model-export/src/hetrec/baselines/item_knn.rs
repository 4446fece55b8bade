//! Item-kNN collaborative filtering (a baseline for the evaluation): cosine similarity between
//! artists over the training users' binary listening, each artist keeping its `neighbours` most
//! similar; a user's score for an artist is the sum of its similarities to the user's likes.

use attune_engine::rank::standardise;
use attune_engine::ArtistIdx;
use std::collections::HashMap;

/// Neighbour lists per catalog artist.
#[derive(Debug, Clone)]
pub struct ItemKnn {
    /// `(neighbour, cosine)` per artist, most similar first.
    neighbours: Vec<Vec<(u32, f32)>>,
    /// How many each artist keeps.
    pub k: usize,
}

impl ItemKnn {
    /// Fits on training rows (each user's catalog artists) for a catalog of `items` artists.
    pub fn fit(rows: &[Vec<u32>], items: usize, k: usize) -> ItemKnn {
        let mut count = vec![0u32; items];
        let mut co: HashMap<(u32, u32), u32> = HashMap::new();
        for r in rows {
            for (x, &a) in r.iter().enumerate() {
                count[a as usize] += 1;
                for &b in &r[x + 1..] {
                    *co.entry((a.min(b), a.max(b))).or_default() += 1;
                }
            }
        }
        let mut neighbours: Vec<Vec<(u32, f32)>> = vec![Vec::new(); items];
        for ((a, b), c) in co {
            let s = c as f32 / ((count[a as usize] * count[b as usize]) as f32).sqrt();
            neighbours[a as usize].push((b, s));
            neighbours[b as usize].push((a, s));
        }
        for n in &mut neighbours {
            n.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            n.truncate(k);
        }
        ItemKnn { neighbours, k }
    }

    /// Standardised scores of every artist for a user with `likes`.
    pub fn scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        let mut s = vec![0.0f32; self.neighbours.len()];
        for l in likes {
            for &(j, w) in &self.neighbours[l.0 as usize] {
                s[j as usize] += w;
            }
        }
        standardise(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_listened_artists_are_neighbours() {
        let rows = vec![vec![0, 1], vec![0, 1], vec![1, 2], vec![3]];
        let knn = ItemKnn::fit(&rows, 4, 1);
        let s = knn.scores(&[ArtistIdx(0)]);
        assert!(s[1] > s[2] && s[1] > s[3], "{s:?}");
        assert_eq!(knn.neighbours[1].len(), 1, "k caps the list");
        assert_eq!(
            knn.neighbours[1][0].0, 0,
            "1 is closest to 0 (2 shared users)"
        );
    }
}
