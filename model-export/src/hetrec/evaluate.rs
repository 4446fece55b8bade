//! Held-out-user evaluation with the shipped assets, exactly as the browser folds a user in.

use crate::hetrec::baselines::content::ContentModel;
use crate::hetrec::baselines::ials::Ials;
use crate::hetrec::baselines::item_knn::ItemKnn;
use crate::metrics::TopK;
use crate::rng::Rng;
use attune_engine::cf::FoldIn;
use attune_engine::ncf::blend_taste;
use attune_engine::rank::{standardise, top_k};
use attune_engine::{ArtistIdx, MoodStrength, Recommender};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

/// Cut-off of every metric.
pub const K: usize = 10;
/// Share of each test user's artists folded in (the rest are held out).
pub const FOLD_IN_SHARE: f64 = 0.8;

/// A ranking strategy under test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Most listeners first (the strongest simple baseline in music).
    Popularity,
    /// SVD++ with only the implicit part `|N|^-1/2 Σ y_j` (no least-squares step).
    SvdppImplicitOnly,
    /// SVD++ with the least-squares fold-in: Attune's taste score alone.
    Svdpp,
    /// Attune's hybrid with the user's taste emotion as the mood: taste from SVD++ and (with
    /// [`Extra::ncf`]) NCF at weight `neural`, fused with emotional fit at strength `mood`.
    Hybrid {
        /// Share of NCF in the taste (0: SVD++ alone).
        neural: f32,
        /// Mood strength β (1: emotion only).
        mood: f32,
    },
    /// Neural CF alone (needs [`Extra::ncf`]).
    Ncf,
    /// Item-kNN CF (needs [`Extra::knn`]).
    ItemKnn,
    /// Content-based: tags and emotion (needs [`Extra::content`]).
    Content,
    /// Implicit ALS matrix factorisation (needs [`Extra::ials`]).
    Ials,
    /// A baseline of [`Extra::named`], by position.
    Named(usize),
    /// What the app ships: the taste blend of `taste.bin` (with the neural scores), fused with
    /// emotional fit at strength `mood`.
    Attune {
        /// Mood strength β.
        mood: f32,
    },
}

/// Fitted baselines that the shipped assets do not hold; a model whose part is absent is skipped.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// For [`Model::ItemKnn`].
    pub knn: Option<ItemKnn>,
    /// For [`Model::Content`].
    pub content: Option<ContentModel>,
    /// For [`Model::Ials`].
    pub ials: Option<Ials>,
    /// For [`Model::Ncf`] and hybrids with a neural share.
    pub ncf: Option<Scorer>,
    /// For [`Model::Named`]: (label, scorer).
    pub named: Vec<(String, Scorer)>,
}

/// A user's likes -> a score per catalog artist (the NCF model under burn or tract).
#[derive(Clone)]
pub struct Scorer(Rc<ScoreFn>);

/// The function behind a [`Scorer`].
type ScoreFn = dyn Fn(&[ArtistIdx]) -> Vec<f32>;

impl Scorer {
    /// Wraps a scoring function.
    pub fn new(f: impl Fn(&[ArtistIdx]) -> Vec<f32> + 'static) -> Scorer {
        Scorer(Rc::new(f))
    }
    /// Scores for these likes.
    pub fn scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        (self.0)(likes)
    }
}

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scorer")
    }
}

impl Model {
    /// Name in tables.
    pub fn label(&self) -> String {
        match self {
            Model::Popularity => "Most popular (listeners)".into(),
            Model::SvdppImplicitOnly => "SVD++ fold-in, implicit part only".into(),
            Model::Svdpp => "SVD++ fold-in + least squares (CF only)".into(),
            Model::Hybrid { mood, .. } if *mood >= 1.0 => {
                "Emotion only (Attune hybrid, mood strength 1.00)".into()
            }
            Model::Hybrid { neural, mood } if *neural <= 0.0 => {
                format!("SVD++ + emotion (no NCF), mood strength {mood:.2}")
            }
            Model::Hybrid { neural, mood } if *mood <= 0.0 => {
                format!("SVD++ + NCF (weight {neural:.2}), no emotion")
            }
            Model::Hybrid { neural, mood } => {
                format!("Attune hybrid: SVD++ + NCF (weight {neural:.2}) + emotion, mood strength {mood:.2}")
            }
            Model::Ncf => "NCF (GMF + MLP, item-based user, folded in)".into(),
            Model::ItemKnn => "Item-kNN CF (cosine, tuned neighbours)".into(),
            Model::Content => "Content-based (tags + emotion, tuned weight)".into(),
            Model::Ials => "iALS matrix factorisation (tuned, folded in)".into(),
            Model::Named(i) => format!("named baseline {i}"),
            Model::Attune { mood } if *mood <= 0.0 => {
                "Attune taste (shipped taste.bin blend), no emotion".into()
            }
            Model::Attune { mood } => {
                format!("**Attune shipped: taste.bin blend + emotion, mood strength {mood:.2}**")
            }
        }
    }
}

/// One test user: HetRec id and (artist id, plays) rows.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// HetRec user id.
    pub user: u32,
    /// The user's artists.
    pub artists: Vec<(u32, u64)>,
}

/// Metrics of one model on one user set.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    /// Which model.
    pub model: String,
    /// Whether this row is exactly what the app ships (default mood strength).
    pub shipped: bool,
    /// Top-10 metrics, means over users.
    pub metrics: TopK,
    /// Mean emotional fit of the top 10 to the user's taste emotion (0..1).
    pub mean_fit: f64,
    /// Share of the top 10 whose quadrant equals the taste emotion's quadrant.
    pub quadrant_match: f64,
    /// Sampled metrics, for comparison with papers that rank each held-out item among
    /// [`SAMPLED_NEGATIVES`] random unseen artists: hit rate and NDCG at 10, means over the
    /// (user, held-out artist in the catalog) pairs. Not the headline: full ranking is.
    pub sampled_hr: f64,
    /// See `sampled_hr`.
    pub sampled_ndcg: f64,
}

/// Negatives per held-out artist in the sampled metrics.
pub const SAMPLED_NEGATIVES: usize = 100;

/// Rank (0-based) of `scores[pos]` among `scores[pos]` and the negatives (ties count against it).
fn sampled_rank(scores: &[f32], pos: usize, negatives: &[usize]) -> usize {
    negatives
        .iter()
        .filter(|&&j| scores[j] >= scores[pos])
        .count()
}

/// Evaluation of all models on one user set.
#[derive(Debug, Clone, Serialize)]
pub struct SetResult {
    /// Name of the user set.
    pub name: String,
    /// Users evaluated (with at least 2 artists).
    pub users: usize,
    /// Users skipped (fewer than 2 artists).
    pub skipped: usize,
    /// Held-out artists in total, and how many of them are in the catalog (rankable).
    pub held_out: usize,
    /// See `held_out`.
    pub held_out_in_catalog: usize,
    /// One row per model.
    pub models: Vec<ModelResult>,
}

/// Evaluates `models` on `users`; the 80/20 cut of each user is seeded by `seed` and the user id.
/// `extra` holds the fitted baselines; a model without its part is skipped.
pub fn evaluate(
    rec: &Recommender,
    name: &str,
    users: &[TestUser],
    models: &[Model],
    extra: &Extra,
    seed: u64,
) -> SetResult {
    let models: Vec<Model> = models
        .iter()
        .copied()
        .filter(|m| match m {
            Model::ItemKnn => extra.knn.is_some(),
            Model::Content => extra.content.is_some(),
            Model::Ials => extra.ials.is_some(),
            Model::Ncf => extra.ncf.is_some(),
            Model::Named(i) => *i < extra.named.len(),
            Model::Attune { .. } => rec.taste_model().is_some(),
            Model::Hybrid { neural, mood } => {
                (*neural <= 0.0 || *mood >= 1.0) || extra.ncf.is_some()
            }
            _ => true,
        })
        .collect();
    let catalog = rec.catalog();
    let index_of = crate::hetrec::corpus::index_of(catalog);
    let mut acc: Vec<(TopK, f64, f64)> = vec![(TopK::default(), 0.0, 0.0); models.len()];
    // Sampled metrics: (hits, ndcg sum) per model, over `pairs` (user, held-out artist) pairs.
    let mut sampled: Vec<(f64, f64)> = vec![(0.0, 0.0); models.len()];
    let mut pairs = 0usize;
    let (mut n, mut skipped, mut held_out, mut held_in) = (0, 0, 0, 0);
    for u in users {
        if u.artists.len() < 2 {
            skipped += 1;
            continue;
        }
        let mut artists: Vec<u32> = u.artists.iter().map(|a| a.0).collect();
        artists.sort_unstable();
        artists.dedup();
        Rng::new(seed ^ u64::from(u.user)).shuffle(&mut artists);
        let cut =
            ((artists.len() as f64 * FOLD_IN_SHARE).round() as usize).clamp(1, artists.len() - 1);
        let likes: Vec<ArtistIdx> = artists[..cut]
            .iter()
            .filter_map(|a| index_of.get(a).copied())
            .collect();
        let relevant: HashSet<u32> = artists[cut..].iter().copied().collect();
        held_out += relevant.len();
        held_in += relevant.iter().filter(|a| index_of.contains_key(a)).count();
        n += 1;
        let liked: HashSet<ArtistIdx> = likes.iter().copied().collect();
        // The same negatives for every model: catalog artists the user never played.
        let own: HashSet<u32> = artists.iter().copied().collect();
        let positives: Vec<usize> = artists[cut..]
            .iter()
            .filter_map(|a| index_of.get(a).map(|i| i.0 as usize))
            .collect();
        let mut rng = Rng::new(seed ^ 0x5a3d ^ u64::from(u.user));
        let negatives: Vec<Vec<usize>> = positives
            .iter()
            .map(|_| {
                let mut neg = Vec::with_capacity(SAMPLED_NEGATIVES);
                while neg.len() < SAMPLED_NEGATIVES {
                    let j = rng.below(catalog.artists().len());
                    if !own.contains(&catalog.artists()[j].id) {
                        neg.push(j);
                    }
                }
                neg
            })
            .collect();
        pairs += positives.len();
        let mood = rec.taste_emotion(&likes);
        let taste = rec.svd_scores(&likes);
        let neural = extra.ncf.as_ref().map(|s| s.scores(&likes));
        for (mi, (m, slot)) in models.iter().zip(acc.iter_mut()).enumerate() {
            let scores = match m {
                Model::Popularity => rec.taste_scores(&[]),
                Model::SvdppImplicitOnly => {
                    let cf = rec.cf().expect("the evaluation's recommender has cf.bin");
                    standardise(&cf.scores(&cf.fold_in(&likes, FoldIn::ImplicitOnly)))
                }
                Model::Svdpp => taste.clone(),
                Model::Hybrid { neural: w, mood: b } => {
                    let t = blend_taste(&taste, neural.as_deref(), *w);
                    rec.hybrid_scores(&t, mood, MoodStrength::new(*b))
                }
                Model::Ncf => neural.clone().expect("filtered"),
                Model::ItemKnn => extra.knn.as_ref().expect("filtered").scores(&likes),
                Model::Ials => extra.ials.as_ref().expect("filtered").scores(&likes),
                Model::Named(i) => extra.named[*i].1.scores(&likes),
                Model::Attune { mood: b } => {
                    let t = rec.taste(&likes, neural.as_deref());
                    rec.hybrid_scores(&t, mood, MoodStrength::new(*b))
                }
                Model::Content => extra
                    .content
                    .as_ref()
                    .expect("filtered")
                    .scores(rec, &likes),
            };
            let top = top_k(&scores, K, |i| liked.contains(&ArtistIdx(i as u32)));
            let ranked: Vec<u32> = top.iter().map(|&i| catalog.artists()[i].id).collect();
            slot.0.add(&ranked, &relevant, relevant.len(), K);
            for (&pos, neg) in positives.iter().zip(&negatives) {
                let r = sampled_rank(&scores, pos, neg);
                if r < K {
                    sampled[mi].0 += 1.0;
                    sampled[mi].1 += 1.0 / ((r + 2) as f64).log2();
                }
            }
            if let Some(mood) = mood {
                let fits: Vec<f32> = top
                    .iter()
                    .map(|&i| rec.fit(ArtistIdx(i as u32), &mood))
                    .collect();
                slot.1 +=
                    fits.iter().map(|&f| f64::from(f)).sum::<f64>() / fits.len().max(1) as f64;
                let q = top
                    .iter()
                    .filter(|&&i| {
                        catalog.artists()[i]
                            .emotion
                            .is_some_and(|e| e.emotion.quadrant() == mood.quadrant())
                    })
                    .count();
                slot.2 += q as f64 / top.len().max(1) as f64;
            }
        }
    }
    SetResult {
        name: name.to_string(),
        users: n,
        skipped,
        held_out,
        held_out_in_catalog: held_in,
        models: models
            .iter()
            .zip(acc)
            .zip(sampled)
            .map(|((m, (t, fit, quad)), (hits, ndcg))| ModelResult {
                sampled_hr: hits / pairs.max(1) as f64,
                sampled_ndcg: ndcg / pairs.max(1) as f64,
                model: match m {
                    Model::Named(i) => extra.named[*i].0.clone(),
                    _ => m.label(),
                },
                shipped: *m
                    == Model::Attune {
                        mood: MoodStrength::DEFAULT.get(),
                    },
                metrics: t.mean(),
                mean_fit: fit / n.max(1) as f64,
                quadrant_match: quad / n.max(1) as f64,
            })
            .collect(),
    }
}

/// The users of one split of the corpus, with their plays.
pub fn users_of(
    corpus: &crate::hetrec::corpus::Corpus,
    split: crate::hetrec::corpus::Split,
) -> Vec<TestUser> {
    group_users(
        corpus
            .hetrec
            .plays
            .iter()
            .filter(|p| crate::hetrec::corpus::split_of(p.user) == split)
            .map(|p| (p.user, p.artist, p.plays)),
    )
}

/// Groups play rows by user.
pub fn group_users(plays: impl IntoIterator<Item = (u32, u32, u64)>) -> Vec<TestUser> {
    let mut m: BTreeMap<u32, Vec<(u32, u64)>> = BTreeMap::new();
    for (user, artist, plays) in plays {
        m.entry(user).or_default().push((artist, plays));
    }
    m.into_iter()
        .map(|(user, artists)| TestUser { user, artists })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sampled_rank;

    #[test]
    fn sampled_rank_counts_negatives_scored_at_or_above_the_positive() {
        let s = [0.5, 0.9, 0.1, 0.5];
        assert_eq!(
            sampled_rank(&s, 0, &[1, 2, 3]),
            2,
            "a tie counts against it"
        );
        assert_eq!(sampled_rank(&s, 1, &[0, 2, 3]), 0);
        assert_eq!(sampled_rank(&s, 2, &[0, 1, 3]), 3);
    }
}
