//! Per-user full-ranking metrics for any scorer, at a share of each user's artists folded in or
//! at a fixed number of likes (a new visitor's 1, 3, 5 or 10), and paired bootstrap intervals.
//! The cut is the one `evaluate` uses: the user's artists sorted, shuffled by `seed ^ user`,
//! the first part folded in as likes, the rest held out (also the ones outside the catalog,
//! which count as misses).

use crate::hetrec::evaluate::{TestUser, FOLD_IN_SHARE, K};
use crate::metrics::TopK;
use crate::rng::Rng;
use attune_engine::rank::top_k;
use attune_engine::{ArtistIdx, Catalog};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// How much of a user is folded in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Cut {
    /// This share of the user's artists (the evaluation's 80%).
    Share(f64),
    /// Exactly this many likes (users with no more artists than this are skipped).
    Likes(usize),
}

impl Cut {
    /// The cuts of the new-visitor table.
    pub const TABLE: [Cut; 5] = [
        Cut::Likes(1),
        Cut::Likes(3),
        Cut::Likes(5),
        Cut::Likes(10),
        Cut::Share(FOLD_IN_SHARE),
    ];
    /// Column name.
    pub fn label(self) -> String {
        match self {
            Cut::Share(s) => format!("{:.0}%", s * 100.0),
            Cut::Likes(n) => format!("{n} like{}", if n == 1 { "" } else { "s" }),
        }
    }
}

/// One user's likes and held-out artists.
#[derive(Debug, Clone)]
pub struct Case {
    /// Folded in.
    pub likes: Vec<ArtistIdx>,
    /// Held out (HetRec artist ids).
    pub relevant: HashSet<u32>,
}

/// The cases of `users` under `cut`.
pub fn cases(
    users: &[TestUser],
    index_of: &HashMap<u32, ArtistIdx>,
    cut: Cut,
    seed: u64,
) -> Vec<Case> {
    users
        .iter()
        .filter_map(|u| {
            let mut artists: Vec<u32> = u.artists.iter().map(|a| a.0).collect();
            artists.sort_unstable();
            artists.dedup();
            if artists.len() < 2 {
                return None;
            }
            Rng::new(seed ^ u64::from(u.user)).shuffle(&mut artists);
            let n = match cut {
                Cut::Share(s) => {
                    ((artists.len() as f64 * s).round() as usize).clamp(1, artists.len() - 1)
                }
                Cut::Likes(n) if n < artists.len() => n,
                Cut::Likes(_) => return None,
            };
            let likes: Vec<ArtistIdx> = artists[..n]
                .iter()
                .filter_map(|a| index_of.get(a).copied())
                .collect();
            Some(Case {
                likes,
                relevant: artists[n..].iter().copied().collect(),
            })
        })
        .collect()
}

/// Per-user NDCG@10 and recall@10 of `scores` (higher first; likes are never recommended).
pub fn per_user(
    catalog: &Catalog,
    cases: &[Case],
    scores: &mut dyn FnMut(&[ArtistIdx]) -> Vec<f32>,
) -> Vec<(f64, f64)> {
    cases
        .iter()
        .map(|c| {
            let s = scores(&c.likes);
            let liked: HashSet<u32> = c.likes.iter().map(|a| a.0).collect();
            let top = top_k(&s, K, |i| liked.contains(&(i as u32)));
            let ranked: Vec<u32> = top.iter().map(|&i| catalog.artists()[i].id).collect();
            let mut t = TopK::default();
            t.add(&ranked, &c.relevant, c.relevant.len(), K);
            (t.ndcg, t.recall)
        })
        .collect()
}

/// Mean of the first (NDCG) or second (recall) column.
pub fn mean(xs: &[(f64, f64)], ndcg: bool) -> f64 {
    xs.iter().map(|x| if ndcg { x.0 } else { x.1 }).sum::<f64>() / xs.len().max(1) as f64
}

/// A paired difference `a - b` over the same users: mean and 95% bootstrap interval.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct Paired {
    /// Mean difference.
    pub diff: f64,
    /// 2.5% quantile of 2,000 bootstrap means.
    pub lo: f64,
    /// 97.5% quantile.
    pub hi: f64,
}

/// Paired bootstrap of the mean difference of NDCG (users resampled with replacement).
pub fn paired(a: &[(f64, f64)], b: &[(f64, f64)], seed: u64) -> Paired {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x.0 - y.0).collect();
    let n = d.len().max(1);
    let mut rng = Rng::new(seed);
    let mut means: Vec<f64> = (0..2000)
        .map(|_| (0..d.len()).map(|_| d[rng.below(n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    Paired {
        diff: d.iter().sum::<f64>() / n as f64,
        lo: means[49],
        hi: means[1949],
    }
}
