//! `model-export situnes-rank`: a full-ranking comparison on SiTunes (issue 6). Stage 2 is split
//! in time per user (as in [`crate::situnes::liked`]); every model ranks the whole SiTunes catalog
//! (`music_info.csv`) for a moment of a user's test period, and the songs the user then liked
//! (rating >= 3) are the relevant ones. Models: random, popularity, the user's own most played,
//! item-kNN, iALS (fold-in), content-based, emotion only, the CF + emotion hybrid (with its
//! ablations) and a context-aware logistic regression, each tuned on a validation split (each
//! user's latest training plays). Written to `public/report/situnes-ranking.{md,json}`.

use crate::hetrec::baselines::ials::{Ials, IalsConfig};
use crate::hetrec::baselines::item_knn::ItemKnn;
use crate::ingest::situnes;
use crate::metrics::TopK;
use crate::rng::Rng;
use crate::situnes::liked::{self, LIKED, SITUATION, TEST_SHARE, VALID_SHARE};
use anyhow::{ensure, Context, Result};
use attune_engine::rank::{standardise, top_k, EMOTION_SCALE};
use attune_engine::{ArtistIdx, Emotion, MoodStrength};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

/// Cut-off of every metric.
pub const K: usize = 10;
/// Seed of iALS, the random baseline and the bootstrap.
const SEED: u64 = 6;
/// Bootstrap resamples of users.
const BOOTSTRAP: usize = 1000;
/// Item features that the context-aware model crosses with the situation.
const CROSS_ITEM: [&str; 6] = [
    "valence",
    "energy",
    "danceability",
    "acousticness",
    "tempo",
    "loudness",
];
/// Situation features (indices into [`SITUATION`]) crossed with them: time of day, GPS speed,
/// heart rate, activity intensity, steps, still, walking.
const CROSS_SITUATION: [usize; 9] = [0, 1, 2, 9, 10, 11, 12, 13, 15];

/// The ranked catalog: every SiTunes song with audio features and an emotion.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Item ids, ascending (a catalog index is a position here).
    ids: Vec<u32>,
    index: HashMap<u32, usize>,
    /// Spotify valence/energy as valence/arousal.
    emotion: Vec<Emotion>,
    /// Standardised audio features and genre one-hot (`liked::load_item_features`).
    features: Vec<Vec<f64>>,
    /// The [`CROSS_ITEM`] features.
    cross: Vec<Vec<f64>>,
}

impl Positives {
    fn name(self) -> &'static str {
        match self {
            Positives::Liked => "liked plays",
            Positives::All => "all plays",
        }
    }
}

impl Catalog {
    /// Reads `music_info.csv`.
    pub fn load(path: &Path) -> Result<Catalog> {
        let emotion = situnes::load_items(path)?;
        let (features, names) = liked::load_item_features(path)?;
        let cross: Vec<usize> = CROSS_ITEM
            .iter()
            .map(|n| {
                names
                    .iter()
                    .position(|x| x == n)
                    .with_context(|| format!("{}: no {n} column", path.display()))
            })
            .collect::<Result<_>>()?;
        let mut ids: Vec<u32> = features
            .keys()
            .filter(|i| emotion.contains_key(i))
            .copied()
            .collect();
        ids.sort_unstable();
        let f: Vec<Vec<f64>> = ids.iter().map(|i| features[i].clone()).collect();
        Ok(Catalog::new(
            ids.clone(),
            ids.iter().map(|i| emotion[i]).collect(),
            f.iter()
                .map(|v| cross.iter().map(|&c| v[c]).collect())
                .collect(),
            f,
        ))
    }

    fn new(
        ids: Vec<u32>,
        emotion: Vec<Emotion>,
        cross: Vec<Vec<f64>>,
        features: Vec<Vec<f64>>,
    ) -> Catalog {
        let index = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        Catalog {
            ids,
            index,
            emotion,
            features,
            cross,
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    /// `user_id`.
    pub user: u32,
    /// `item_id`.
    pub item: u32,
    /// Unix seconds.
    pub timestamp: f64,
    /// Rating >= 3.
    pub liked: bool,
    /// Valence and arousal stated before the play (Stage 2; Stage 1 has none).
    pub pre: Option<Emotion>,
    /// `liked::situation` (Stage 2).
    pub situation: Option<Vec<f64>>,
    /// Whether the play takes the song out of the user's later candidates: Stage 2 plays do;
    /// Stage 1's 25 songs return in Stage 2 (its random arm), so they stay candidates.
    pub seen: bool,
}

fn load_stage2(dir: &Path) -> Result<Vec<Play>> {
    Ok(situnes::load_stage(dir)?
        .iter()
        .map(|p| Play {
            user: p.at.user,
            item: p.at.item,
            timestamp: p.at.timestamp,
            liked: f64::from(p.at.rating) >= LIKED,
            pre: Some(Emotion::va(p.pre[0], p.pre[1])),
            situation: liked::situation(&p.at),
            seen: true,
        })
        .collect())
}

fn load_stage1(dir: &Path) -> Result<Vec<Play>> {
    Ok(situnes::load_interactions(dir)?
        .iter()
        .map(|at| Play {
            user: at.user,
            item: at.item,
            timestamp: at.timestamp,
            liked: f64::from(at.rating) >= LIKED,
            pre: None,
            situation: None,
            seen: false,
        })
        .collect())
}

/// What the models know: the training plays, summarised.
struct History<'a> {
    cat: &'a Catalog,
    plays: Vec<Play>,
    /// Users in id order, and their slots.
    users: BTreeMap<u32, usize>,
    /// Catalog indices a user played / liked (distinct, ascending).
    all: BTreeMap<u32, Vec<u32>>,
    liked: BTreeMap<u32, Vec<u32>>,
    /// Plays per (user, catalog index).
    counts: BTreeMap<u32, BTreeMap<u32, u32>>,
    /// Items a user may not be recommended again.
    seen: BTreeMap<u32, BTreeSet<usize>>,
    /// Training plays per item.
    popularity: Vec<f32>,
    /// Standardised log(1 + plays).
    popularity_z: Vec<f32>,
    /// Mean stated pre-play mood over the user's training plays.
    mean_pre: BTreeMap<u32, Emotion>,
}

impl<'a> History<'a> {
    fn new(cat: &'a Catalog, plays: &[Play]) -> History<'a> {
        let mut h = History {
            cat,
            plays: plays.to_vec(),
            users: BTreeMap::new(),
            all: BTreeMap::new(),
            liked: BTreeMap::new(),
            counts: BTreeMap::new(),
            seen: BTreeMap::new(),
            popularity: vec![0.0; cat.len()],
            popularity_z: Vec::new(),
            mean_pre: BTreeMap::new(),
        };
        let mut pre: BTreeMap<u32, Vec<(Emotion, f32)>> = BTreeMap::new();
        for p in plays {
            let n = h.users.len();
            h.users.entry(p.user).or_insert(n);
            if let Some(e) = p.pre {
                pre.entry(p.user).or_default().push((e, 1.0));
            }
            let Some(&i) = cat.index.get(&p.item) else {
                continue;
            };
            h.all.entry(p.user).or_default().push(i as u32);
            if p.liked {
                h.liked.entry(p.user).or_default().push(i as u32);
            }
            *h.counts
                .entry(p.user)
                .or_default()
                .entry(i as u32)
                .or_default() += 1;
            if p.seen {
                h.seen.entry(p.user).or_default().insert(i);
            }
            h.popularity[i] += 1.0;
        }
        // Slots in id order.
        for (slot, v) in h.users.values_mut().enumerate() {
            *v = slot;
        }
        for v in h.all.values_mut().chain(h.liked.values_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        let log: Vec<f32> = h.popularity.iter().map(|c| c.ln_1p()).collect();
        h.popularity_z = standardise(&log);
        h.mean_pre = pre
            .into_iter()
            .filter_map(|(u, e)| Some((u, Emotion::weighted_mean(e)?)))
            .collect();
        h
    }

    /// Per-user rows (catalog indices) for CF training, users in slot order.
    fn rows(&self, pos: Positives) -> Vec<Vec<u32>> {
        self.users.keys().map(|u| self.likes_of(*u, pos)).collect()
    }

    fn likes_of(&self, user: u32, pos: Positives) -> Vec<u32> {
        let m = match pos {
            Positives::Liked => &self.liked,
            Positives::All => &self.all,
        };
        m.get(&user).cloned().unwrap_or_default()
    }
}

/// Which training plays count as a user's positives for CF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Positives {
    /// Plays rated >= 3.
    Liked,
    /// Every play (SiTunes' songs are chosen by its recommenders, so a play is also exposure).
    All,
}

/// A moment to rank for.
#[derive(Debug, Clone)]
struct Query {
    /// Position among the queries (seeds the random baseline).
    id: usize,
    user: u32,
    /// The target state: the pre-play mood.
    state: Emotion,
    situation: Option<Vec<f64>>,
    /// Relevant item ids.
    relevant: HashSet<u32>,
    n_relevant: usize,
    /// Catalog indices that are not candidates.
    exclude: Vec<bool>,
}

/// How test plays become queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Protocol {
    /// One ranking per liked test play, for that moment (its mood, its situation); relevant =
    /// that song; candidates = catalog minus what the user played before it.
    PerPlay,
    /// One ranking per user at the start of the test period (the first test play's mood and
    /// situation); relevant = every song liked in the test period; candidates = catalog minus the
    /// training songs.
    PerUser,
}

fn queries(h: &History, eval: &[Play], protocol: Protocol) -> Vec<Query> {
    let mut by_user: BTreeMap<u32, Vec<&Play>> = BTreeMap::new();
    for p in eval {
        by_user.entry(p.user).or_default().push(p);
    }
    let mut out = Vec::new();
    for (user, mut plays) in by_user {
        plays.sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
        let mut exclude = vec![false; h.cat.len()];
        for &i in h.seen.get(&user).into_iter().flatten() {
            exclude[i] = true;
        }
        let query = |id, p: &Play, relevant: HashSet<u32>, exclude: &[bool]| Query {
            id,
            user,
            state: p.pre.unwrap_or(Emotion::NEUTRAL),
            situation: p.situation.clone(),
            n_relevant: relevant.len(),
            relevant,
            exclude: exclude.to_vec(),
        };
        match protocol {
            Protocol::PerPlay => {
                for p in plays {
                    if p.liked {
                        let q = query(out.len(), p, [p.item].into_iter().collect(), &exclude);
                        out.push(q);
                    }
                    if let (Some(&i), true) = (h.cat.index.get(&p.item), p.seen) {
                        exclude[i] = true;
                    }
                }
            }
            Protocol::PerUser => {
                let relevant: HashSet<u32> =
                    plays.iter().filter(|p| p.liked).map(|p| p.item).collect();
                if !relevant.is_empty() {
                    let q = query(out.len(), plays[0], relevant, &exclude);
                    out.push(q);
                }
            }
        }
    }
    out
}

/// One query's metrics: precision, recall, F1, NDCG, MAP, quadrant match (all @K).
type Measures = [f64; 6];

fn measure(cat: &Catalog, q: &Query, ranked: &[usize]) -> Measures {
    let ids: Vec<u32> = ranked.iter().map(|&i| cat.ids[i]).collect();
    let mut t = TopK::default();
    t.add(&ids, &q.relevant, q.n_relevant, K);
    let quadrant = q.state.quadrant();
    let qm = ranked
        .iter()
        .take(K)
        .filter(|&&i| cat.emotion[i].quadrant() == quadrant)
        .count() as f64
        / K as f64;
    let m = t.mean();
    [m.precision, m.recall, m.f1, m.ndcg, m.map, qm]
}

/// A model's scores over the catalog for one query.
type Scorer<'s> = Box<dyn Fn(&Query) -> Vec<f32> + 's>;

/// Per-query measures of a model.
struct Measured {
    per_query: Vec<Measures>,
}

impl Measured {
    fn mean(&self) -> Measures {
        let n = self.per_query.len().max(1) as f64;
        let mut m = [0.0; 6];
        for q in &self.per_query {
            for (a, b) in m.iter_mut().zip(q) {
                *a += b / n;
            }
        }
        m
    }
    fn ndcg(&self) -> f64 {
        self.mean()[3]
    }
}

fn evaluate(cat: &Catalog, qs: &[Query], seen_allowed: bool, score: &Scorer) -> Measured {
    Measured {
        per_query: qs
            .iter()
            .map(|q| {
                let s = score(q);
                let ranked = top_k(&s, K, |i| !seen_allowed && q.exclude[i]);
                measure(cat, q, &ranked)
            })
            .collect(),
    }
}

/// The first grid point with the best validation NDCG@K.
fn tune<P: Clone>(grid: &[P], mut ndcg: impl FnMut(&P) -> f64) -> P {
    let mut best: Option<(f64, P)> = None;
    for p in grid {
        let v = ndcg(p);
        if best.as_ref().is_none_or(|b| v > b.0) {
            best = Some((v, p.clone()));
        }
    }
    best.expect("empty grid").1
}

/// Hyper-parameter grids.
#[derive(Debug, Clone, Serialize)]
pub struct Grids {
    /// Item-kNN neighbours (0 = all).
    knn_neighbours: Vec<usize>,
    /// iALS factors.
    ials_k: Vec<usize>,
    /// iALS L2.
    ials_lambda: Vec<f64>,
    /// iALS confidence.
    ials_alpha: Vec<f64>,
    /// iALS alternations (fixed).
    ials_iterations: usize,
    /// Positives for kNN and iALS.
    positives: Vec<Positives>,
    /// Content-based: weight of standardised log-popularity.
    content_popularity: Vec<f32>,
    /// Hybrid mood strength β.
    beta: Vec<f32>,
    /// Logistic regression L2 (chosen by validation log-loss).
    lr_lambda: Vec<f64>,
    /// Weight of the logistic regression against CF.
    context_weight: Vec<f32>,
}

impl Grids {
    /// The full search.
    pub fn full() -> Grids {
        Grids {
            knn_neighbours: vec![10, 20, 50, 100, 0],
            ials_k: vec![8, 16, 32],
            ials_lambda: vec![0.1, 1.0, 10.0],
            ials_alpha: vec![3.0, 10.0, 30.0],
            ials_iterations: 10,
            positives: vec![Positives::Liked, Positives::All],
            content_popularity: vec![0.0, 0.25, 0.5, 1.0, 2.0, 4.0],
            beta: (0..=20).map(|i| i as f32 / 20.0).collect(),
            lr_lambda: vec![0.3, 1.0, 3.0, 10.0, 30.0, 100.0],
            context_weight: (0..=10).map(|i| i as f32 / 10.0).collect(),
        }
    }

    /// One or two points each (tests).
    #[cfg(test)]
    pub fn quick() -> Grids {
        Grids {
            knn_neighbours: vec![20],
            ials_k: vec![8],
            ials_lambda: vec![1.0],
            ials_alpha: vec![10.0],
            ials_iterations: 6,
            positives: vec![Positives::All],
            content_popularity: vec![0.5],
            beta: vec![0.0, 0.3],
            lr_lambda: vec![10.0],
            context_weight: vec![0.0, 0.5],
        }
    }

    fn ials(&self) -> Vec<(IalsConfig, Positives)> {
        let mut g = Vec::new();
        for &pos in &self.positives {
            for &k in &self.ials_k {
                for &lambda in &self.ials_lambda {
                    for &alpha in &self.ials_alpha {
                        g.push((
                            IalsConfig {
                                k,
                                lambda,
                                alpha,
                                iterations: self.ials_iterations,
                            },
                            pos,
                        ));
                    }
                }
            }
        }
        g
    }
}

/// A fitted iALS with the positives it was fitted on.
struct Cf<'h> {
    model: Ials,
    pos: Positives,
    h: &'h History<'h>,
}

impl Cf<'_> {
    fn fit<'h>(h: &'h History<'h>, cfg: IalsConfig, pos: Positives) -> Cf<'h> {
        Cf {
            model: Ials::fit(&h.rows(pos), h.cat.len(), cfg, SEED),
            pos,
            h,
        }
    }
    /// Standardised scores; log-popularity for a user without positives.
    fn scores(&self, user: u32) -> Vec<f32> {
        let likes: Vec<ArtistIdx> = self
            .h
            .likes_of(user, self.pos)
            .into_iter()
            .map(ArtistIdx)
            .collect();
        if likes.is_empty() {
            return self.h.popularity_z.clone();
        }
        self.model.scores(&likes)
    }
}

fn fits(cat: &Catalog, e: &Emotion) -> Vec<f32> {
    cat.emotion.iter().map(|x| x.fit(e)).collect()
}

/// `(1-β)·cf + β·EMOTION_SCALE·fit`, the engine's hybrid formula.
fn hybrid(cf: &[f32], fit: &[f32], beta: f32) -> Vec<f32> {
    cf.iter()
        .zip(fit)
        .map(|(c, f)| (1.0 - beta) * c + beta * EMOTION_SCALE * f)
        .collect()
}

fn static_state(h: &History, user: u32) -> Emotion {
    h.mean_pre.get(&user).copied().unwrap_or(Emotion::NEUTRAL)
}

/// The context-aware logistic regression's feature layout.
fn lr_features(h: &History, user: u32, item: usize, situation: Option<&[f64]>) -> Vec<f64> {
    let cat = h.cat;
    let mut f = Vec::with_capacity(1 + h.users.len() + cat.features[item].len() + 80);
    f.push(1.0);
    let mut one_hot = vec![0.0; h.users.len()];
    if let Some(&u) = h.users.get(&user) {
        one_hot[u] = 1.0;
    }
    f.extend(one_hot);
    f.extend(&cat.features[item]);
    let zeros = [0.0; SITUATION.len()];
    let s = situation.unwrap_or(&zeros);
    f.extend(s);
    f.push(f64::from(u8::from(situation.is_some())));
    for c in &cat.cross[item] {
        f.extend(CROSS_SITUATION.iter().map(|&j| c * s[j]));
    }
    f
}

/// Training examples: the plays with a situation whose song is in the catalog.
fn lr_examples(h: &History, plays: &[Play]) -> (Vec<Vec<f64>>, Vec<bool>) {
    plays
        .iter()
        .filter(|p| p.situation.is_some())
        .filter_map(|p| {
            let &i = h.cat.index.get(&p.item)?;
            Some((lr_features(h, p.user, i, p.situation.as_deref()), p.liked))
        })
        .unzip()
}

fn lr_scores(h: &History, w: &[f64], q: &Query) -> Vec<f32> {
    let logits: Vec<f32> = (0..h.cat.len())
        .map(|i| {
            lr_features(h, q.user, i, q.situation.as_deref())
                .iter()
                .zip(w)
                .map(|(a, b)| a * b)
                .sum::<f64>() as f32
        })
        .collect();
    standardise(&logits)
}

fn log_loss(w: &[f64], x: &[Vec<f64>], y: &[bool]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(xi, &yi)| {
            let p =
                liked::sigmoid(xi.iter().zip(w).map(|(a, b)| a * b).sum()).clamp(1e-6, 1.0 - 1e-6);
            if yi {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum::<f64>()
        / x.len().max(1) as f64
}

/// Metrics of one model on the test queries.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Model.
    pub model: String,
    /// Settings chosen on validation.
    pub tuned: String,
    /// Whether songs the user already played may be recommended.
    pub seen_allowed: bool,
    /// Precision@K.
    pub precision: f64,
    /// Recall@K.
    pub recall: f64,
    /// F1@K.
    pub f1: f64,
    /// NDCG@K.
    pub ndcg: f64,
    /// MAP@K.
    pub map: f64,
    /// Share of the top K in the target state's quadrant.
    pub quadrant_match: f64,
    /// 95% bootstrap interval of NDCG@K over users.
    pub ndcg_ci: [f64; 2],
    #[serde(skip)]
    per_query_ndcg: Vec<f64>,
}

/// An ablation of the hybrid against the full model.
#[derive(Debug, Clone, Serialize)]
pub struct Ablation {
    /// What is removed.
    pub variant: String,
    /// The row it is.
    pub model: String,
    /// NDCG@K.
    pub ndcg: f64,
    /// NDCG@K minus the full hybrid's.
    pub ndcg_change: f64,
    /// 95% paired bootstrap interval of the change.
    pub change_ci: [f64; 2],
    /// Quadrant match@K.
    pub quadrant_match: f64,
}

/// One table.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Title.
    pub title: String,
    /// How test plays become queries.
    pub protocol: Protocol,
    /// Training data in plain words.
    pub training: String,
    /// Plays: train (for validation), validation, train + validation (for test), test.
    pub plays: [usize; 4],
    /// Users with a test query.
    pub users: usize,
    /// Test queries.
    pub queries: usize,
    /// Relevant (liked) test songs over all queries.
    pub relevant: usize,
    /// Mean share of the candidates in the target state's quadrant (quadrant match by chance).
    pub quadrant_base_rate: f64,
    /// Rows.
    pub rows: Vec<Row>,
    /// The hybrid's ablations.
    pub ablations: Vec<Ablation>,
    /// Validation NDCG@K of the hybrid (pre-play mood) by β: `[β, NDCG]`.
    pub beta_validation: Vec<[f64; 2]>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Catalog size.
    pub catalog: usize,
    /// Distinct songs ever played in Stage 2.
    pub stage2_songs: usize,
    /// Stage 2 users.
    pub stage2_users: usize,
    /// Cut-off.
    pub k: usize,
    /// Bootstrap resamples.
    pub bootstrap: usize,
    /// The search.
    pub grids: Grids,
    /// Tables.
    pub tables: Vec<Table>,
}

/// Bootstrap weights: per resample, how often each query's user was drawn.
fn bootstrap_weights(qs: &[Query], seed: u64) -> Vec<Vec<f64>> {
    let users: Vec<u32> = qs
        .iter()
        .map(|q| q.user)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let slot: BTreeMap<u32, usize> = users.iter().enumerate().map(|(i, &u)| (u, i)).collect();
    let mut rng = Rng::new(seed);
    (0..BOOTSTRAP)
        .map(|_| {
            let mut n = vec![0.0; users.len()];
            for _ in 0..users.len() {
                n[rng.below(users.len())] += 1.0;
            }
            qs.iter().map(|q| n[slot[&q.user]]).collect()
        })
        .collect()
}

fn interval(weights: &[Vec<f64>], x: &[f64]) -> [f64; 2] {
    let mut v: Vec<f64> = weights
        .iter()
        .map(|w| {
            let total: f64 = w.iter().sum();
            w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() / total.max(1e-12)
        })
        .collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return [0.0, 0.0];
    }
    [v[n * 25 / 1000], v[(n * 975 / 1000).min(n - 1)]]
}

/// Fits, tunes and scores every model for one training set / test set pair.
fn table(
    cat: &Catalog,
    train_all: &[Play],
    test: &[Play],
    protocol: Protocol,
    grids: &Grids,
    title: &str,
    training: &str,
) -> Result<Table> {
    // Validation: the latest share of each user's Stage 2 training plays (Stage 1 plays, if any,
    // stay in training).
    let (s1, s2): (Vec<Play>, Vec<Play>) = train_all.iter().cloned().partition(|p| !p.seen);
    let (mut train, valid) = liked::split_in_time_by(s2, VALID_SHARE, |p| (p.user, p.timestamp));
    train.extend(s1);
    let hv = History::new(cat, &train);
    let ht = History::new(cat, train_all);
    let vq = queries(&hv, &valid, protocol);
    let tq = queries(&ht, test, protocol);
    ensure!(!vq.is_empty() && !tq.is_empty(), "{title}: too few queries");
    let mut rows: Vec<Row> = Vec::new();
    let weights = bootstrap_weights(&tq, SEED ^ 0xB007);
    let mut push = |model: &str, tuned: String, seen_allowed: bool, m: Measured| {
        let mean = m.mean();
        let per_query_ndcg: Vec<f64> = m.per_query.iter().map(|q| q[3]).collect();
        rows.push(Row {
            model: model.into(),
            tuned,
            seen_allowed,
            precision: mean[0],
            recall: mean[1],
            f1: mean[2],
            ndcg: mean[3],
            map: mean[4],
            quadrant_match: mean[5],
            ndcg_ci: interval(&weights, &per_query_ndcg),
            per_query_ndcg,
        });
    };

    // Random and popularity.
    let random: Scorer = Box::new(|q: &Query| {
        let mut rng = Rng::new(SEED ^ (q.id as u64).wrapping_mul(0x9E37_79B9) ^ 0x5A);
        (0..cat.len()).map(|_| rng.unit()).collect()
    });
    push(
        "random",
        "-".into(),
        false,
        evaluate(cat, &tq, false, &random),
    );
    let pop: Scorer = Box::new(|_: &Query| ht.popularity.clone());
    push(
        "most popular (training plays)",
        "-".into(),
        false,
        evaluate(cat, &tq, false, &pop),
    );
    let own: Scorer = Box::new(|q: &Query| {
        let c = ht.counts.get(&q.user);
        (0..cat.len())
            .map(|i| {
                let n = c.and_then(|c| c.get(&(i as u32))).copied().unwrap_or(0);
                n as f32 * 1e4 + ht.popularity[i]
            })
            .collect()
    });
    push(
        "per-user most played, then popularity",
        "-".into(),
        true,
        evaluate(cat, &tq, true, &own),
    );

    // Item-kNN.
    let mut knn_grid = Vec::new();
    for &pos in &grids.positives {
        for &n in &grids.knn_neighbours {
            knn_grid.push((n, pos));
        }
    }
    let knn_eval = |h: &History, qs: &[Query], (n, pos): (usize, Positives)| -> Measured {
        let m = ItemKnn::fit(&h.rows(pos), cat.len(), if n == 0 { cat.len() } else { n });
        let s: Scorer = Box::new(|q: &Query| {
            let likes: Vec<ArtistIdx> =
                h.likes_of(q.user, pos).into_iter().map(ArtistIdx).collect();
            if likes.is_empty() {
                h.popularity_z.clone()
            } else {
                m.scores(&likes)
            }
        });
        evaluate(cat, qs, false, &s)
    };
    let best_knn = tune(&knn_grid, |&p| knn_eval(&hv, &vq, p).ndcg());
    push(
        "item-kNN (cosine over users)",
        format!(
            "{} neighbours, positives: {}",
            if best_knn.0 == 0 {
                "all".to_string()
            } else {
                best_knn.0.to_string()
            },
            best_knn.1.name()
        ),
        false,
        knn_eval(&ht, &tq, best_knn),
    );

    // iALS, fitted once per configuration on each side.
    let ials_grid = grids.ials();
    let cf_eval = |cf: &Cf, qs: &[Query]| -> Measured {
        let s: Scorer = Box::new(|q: &Query| cf.scores(q.user));
        evaluate(cat, qs, false, &s)
    };
    let (best_cfg, best_pos) = tune(&ials_grid, |&(c, p)| {
        cf_eval(&Cf::fit(&hv, c, p), &vq).ndcg()
    });
    let cf_v = Cf::fit(&hv, best_cfg, best_pos);
    let cf_t = Cf::fit(&ht, best_cfg, best_pos);
    let ials_tuned = format!(
        "k {}, lambda {}, alpha {}, {} iterations, positives: {}",
        best_cfg.k,
        best_cfg.lambda,
        best_cfg.alpha,
        best_cfg.iterations,
        best_pos.name()
    );
    push(
        "iALS (fold-in)",
        ials_tuned.clone(),
        false,
        cf_eval(&cf_t, &tq),
    );

    // Content-based: cosine of the item's features with the mean of the user's liked songs.
    let content_eval = |h: &History, qs: &[Query], w: f32| -> Measured {
        let s: Scorer = Box::new(|q: &Query| {
            let mut likes = h.likes_of(q.user, Positives::Liked);
            if likes.is_empty() {
                likes = h.likes_of(q.user, Positives::All);
            }
            let d = cat.features.first().map_or(0, Vec::len);
            let mut prof = vec![0.0; d];
            for &l in &likes {
                for (a, b) in prof.iter_mut().zip(&cat.features[l as usize]) {
                    *a += b / likes.len() as f64;
                }
            }
            let norm = prof.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            let cos: Vec<f32> = cat
                .features
                .iter()
                .map(|f| {
                    let n = f.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
                    (f.iter().zip(&prof).map(|(a, b)| a * b).sum::<f64>() / (n * norm)) as f32
                })
                .collect();
            standardise(&cos)
                .iter()
                .zip(&h.popularity_z)
                .map(|(c, p)| c + w * p)
                .collect()
        });
        evaluate(cat, qs, false, &s)
    };
    let best_w = tune(&grids.content_popularity, |&w| {
        content_eval(&hv, &vq, w).ndcg()
    });
    push(
        "content-based (audio features + genre)",
        format!("popularity weight {best_w}"),
        false,
        content_eval(&ht, &tq, best_w),
    );

    // Emotion only.
    let emo_eval = |h: &History, qs: &[Query], dynamic: bool| -> Measured {
        let s: Scorer = Box::new(move |q: &Query| {
            let state = if dynamic {
                q.state
            } else {
                static_state(h, q.user)
            };
            fits(cat, &state)
        });
        evaluate(cat, qs, false, &s)
    };
    push(
        "E emotion only (fit to the pre-play mood)",
        "-".into(),
        false,
        emo_eval(&ht, &tq, true),
    );
    push(
        "E emotion only, static state (user's mean mood)",
        "-".into(),
        false,
        emo_eval(&ht, &tq, false),
    );

    // Hybrid.
    let hybrid_eval = |cf: &Cf, h: &History, qs: &[Query], beta: f32, dynamic: bool| {
        let s: Scorer = Box::new(move |q: &Query| {
            let state = if dynamic {
                q.state
            } else {
                static_state(h, q.user)
            };
            hybrid(&cf.scores(q.user), &fits(cat, &state), beta)
        });
        evaluate(cat, qs, false, &s)
    };
    let mut beta_curve = Vec::new();
    for dynamic in [true, false] {
        let curve: Vec<(f32, f64)> = grids
            .beta
            .iter()
            .map(|&b| (b, hybrid_eval(&cf_v, &hv, &vq, b, dynamic).ndcg()))
            .collect();
        let beta = tune(&curve, |c| c.1).0;
        if dynamic {
            beta_curve = curve
                .iter()
                .map(|&(b, v)| [(f64::from(b) * 1e4).round() / 1e4, v])
                .collect();
        }
        push(
            if dynamic {
                "F hybrid: iALS + fit to the pre-play mood"
            } else {
                "F hybrid, static state (user's mean mood)"
            },
            format!("β {beta}; iALS as above"),
            false,
            hybrid_eval(&cf_t, &ht, &tq, beta, dynamic),
        );
    }
    let default_beta = MoodStrength::DEFAULT.get();
    push(
        &format!("F hybrid at the app's default β {default_beta} (not tuned)"),
        "-".into(),
        false,
        hybrid_eval(&cf_t, &ht, &tq, default_beta, true),
    );

    // Context-aware logistic regression.
    let (xv_train, yv_train) = lr_examples(&hv, &train);
    let (xv, yv) = lr_examples(&hv, &valid);
    let lambda = if xv_train.is_empty() || xv.is_empty() {
        grids.lr_lambda[0]
    } else {
        let mut best = (f64::INFINITY, grids.lr_lambda[0]);
        for &l in &grids.lr_lambda {
            let loss = log_loss(&liked::logistic(&xv_train, &yv_train, l), &xv, &yv);
            if loss < best.0 {
                best = (loss, l);
            }
        }
        best.1
    };
    let fit_lr = |h: &History| -> Vec<f64> {
        let (x, y) = lr_examples(h, &h.plays);
        if x.is_empty() {
            return Vec::new();
        }
        liked::logistic(&x, &y, lambda)
    };
    let (w_v, w_t) = (fit_lr(&hv), fit_lr(&ht));
    let context_eval = |cf: &Cf, h: &History, w: &[f64], qs: &[Query], mix: f32| {
        let s: Scorer = Box::new(move |q: &Query| {
            let lr = if w.is_empty() {
                vec![0.0; cat.len()]
            } else {
                lr_scores(h, w, q)
            };
            if mix >= 1.0 {
                return lr;
            }
            cf.scores(q.user)
                .iter()
                .zip(&lr)
                .map(|(c, l)| (1.0 - mix) * c + mix * l)
                .collect()
        });
        evaluate(cat, qs, false, &s)
    };
    push(
        "G context-aware: logistic regression (song x situation)",
        format!("L2 {lambda} (validation log-loss)"),
        false,
        context_eval(&cf_t, &ht, &w_t, &tq, 1.0),
    );
    let mix = tune(&grids.context_weight, |&m| {
        context_eval(&cf_v, &hv, &w_v, &vq, m).ndcg()
    });
    push(
        "G context-aware + iALS",
        format!("L2 {lambda}, weight of the regression {mix}; iALS as above"),
        false,
        context_eval(&cf_t, &ht, &w_t, &tq, mix),
    );

    // Ablations of the hybrid.
    let find = |name: &str| {
        rows.iter()
            .find(|r| r.model.starts_with(name))
            .expect("row")
    };
    let full = find("F hybrid: ");
    let ablations = [
        ("full hybrid", "F hybrid: "),
        ("no emotion modelling (CF only)", "iALS"),
        (
            "no hybrid strategy (emotion only)",
            "E emotion only (fit to the pre-play",
        ),
        (
            "no dynamic emotion (static state: user's mean mood)",
            "F hybrid, static",
        ),
    ]
    .iter()
    .map(|(variant, name)| {
        let r = find(name);
        let diff: Vec<f64> = r
            .per_query_ndcg
            .iter()
            .zip(&full.per_query_ndcg)
            .map(|(a, b)| a - b)
            .collect();
        Ablation {
            variant: (*variant).into(),
            model: r.model.clone(),
            ndcg: r.ndcg,
            ndcg_change: r.ndcg - full.ndcg,
            change_ci: interval(&weights, &diff),
            quadrant_match: r.quadrant_match,
        }
    })
    .collect();

    let base = tq
        .iter()
        .map(|q| {
            let quadrant = q.state.quadrant();
            let cand: Vec<usize> = (0..cat.len()).filter(|&i| !q.exclude[i]).collect();
            cand.iter()
                .filter(|&&i| cat.emotion[i].quadrant() == quadrant)
                .count() as f64
                / cand.len().max(1) as f64
        })
        .sum::<f64>()
        / tq.len() as f64;
    let users: BTreeSet<u32> = tq.iter().map(|q| q.user).collect();
    Ok(Table {
        title: title.into(),
        protocol,
        training: training.into(),
        plays: [train.len(), valid.len(), train_all.len(), test.len()],
        users: users.len(),
        queries: tq.len(),
        relevant: tq.iter().map(|q| q.n_relevant).sum(),
        quadrant_base_rate: base,
        rows,
        ablations,
        beta_validation: beta_curve,
    })
}

/// All tables from the loaded data.
pub fn build(cat: &Catalog, stage2: Vec<Play>, stage1: Vec<Play>, grids: &Grids) -> Result<Report> {
    let stage2_songs = stage2.iter().map(|p| p.item).collect::<BTreeSet<_>>().len();
    let stage2_users = stage2.iter().map(|p| p.user).collect::<BTreeSet<_>>().len();
    let (train, test) = liked::split_in_time_by(stage2, TEST_SHARE, |p| (p.user, p.timestamp));
    let mut tables = vec![
        table(
            cat,
            &train,
            &test,
            Protocol::PerPlay,
            grids,
            "Stage 2, one ranking per liked test play",
            "Stage 2 training plays",
        )?,
        table(
            cat,
            &train,
            &test,
            Protocol::PerUser,
            grids,
            "Stage 2, one ranking per user (the test period's liked songs as a set)",
            "Stage 2 training plays",
        )?,
    ];
    if !stage1.is_empty() {
        let mut both = stage1;
        both.extend(train);
        tables.push(table(
            cat,
            &both,
            &test,
            Protocol::PerPlay,
            grids,
            "Stage 1 + Stage 2 training plays, one ranking per liked test play",
            "Stage 1 (all plays) + Stage 2 training plays",
        )?);
    }
    Ok(Report {
        catalog: cat.len(),
        stage2_songs,
        stage2_users,
        k: K,
        bootstrap: BOOTSTRAP,
        grids: grids.clone(),
        tables,
    })
}

/// Reads `<data>/situnes` and builds the report.
pub fn run(data: &Path, grids: &Grids) -> Result<Report> {
    let d = data.join("situnes");
    let cat = Catalog::load(&d.join("music_metadata/music_info.csv"))?;
    let stage2 = load_stage2(&d.join("Stage2"))?;
    let s1 = d.join("Stage1");
    let stage1 = if s1.join("interactions.csv").exists() {
        load_stage1(&s1)?
    } else {
        Vec::new()
    };
    build(&cat, stage2, stage1, grids)
}

fn f3(x: f64) -> String {
    format!("{x:.3}")
}

fn table_markdown(t: &Table) -> String {
    let mut s = format!(
        "## {}\n\nTrained on {}; {} users, {} test queries, {} relevant songs; plays: {} train / {} validation (for tuning), {} train / {} test (for the table). Quadrant match by chance (share of the candidates in the target quadrant): {}.\n\n",
        t.title, t.training.to_lowercase(), t.users, t.queries, t.relevant, t.plays[0], t.plays[1], t.plays[2], t.plays[3], f3(t.quadrant_base_rate)
    );
    s.push_str("| model | P@10 | R@10 | F1@10 | NDCG@10 [95% CI] | MAP@10 | quadrant match@10 | tuned |\n|---|---:|---:|---:|---:|---:|---:|---|\n");
    for r in &t.rows {
        s.push_str(&format!(
            "| {}{} | {} | {} | {} | {} [{}, {}] | {} | {} | {} |\n",
            r.model,
            if r.seen_allowed {
                " *(seen allowed)*"
            } else {
                ""
            },
            f3(r.precision),
            f3(r.recall),
            f3(r.f1),
            f3(r.ndcg),
            f3(r.ndcg_ci[0]),
            f3(r.ndcg_ci[1]),
            f3(r.map),
            f3(r.quadrant_match),
            r.tuned
        ));
    }
    let curve: Vec<String> = t
        .beta_validation
        .iter()
        .filter(|c| ((c[0] * 10.0).round() - c[0] * 10.0).abs() < 1e-6)
        .map(|c| format!("{}: {}", c[0], f3(c[1])))
        .collect();
    s.push_str(&format!(
        "\nValidation NDCG@10 of the hybrid (pre-play mood) by β: {}.\n",
        curve.join(", ")
    ));
    if t.beta_validation
        .iter()
        .all(|c| c[1] <= t.beta_validation[0][1])
    {
        s.push_str("\nValidation chose β = 0 here, so the tuned hybrid *is* iALS and the first two ablation rows coincide; the untuned row at the app's default β shows what mixing in the mood costs or gains.\n");
    }
    s.push_str("\nAblations of the hybrid (change in NDCG@10 against the full hybrid, paired bootstrap over users):\n\n| variant | NDCG@10 | change [95% CI] | quadrant match@10 |\n|---|---:|---:|---:|\n");
    for a in &t.ablations {
        s.push_str(&format!(
            "| {} | {} | {:+.3} [{:+.3}, {:+.3}] | {} |\n",
            a.variant,
            f3(a.ndcg),
            a.ndcg_change,
            a.change_ci[0],
            a.change_ci[1],
            f3(a.quadrant_match)
        ));
    }
    s
}

/// The report as markdown.
pub fn markdown(r: &Report) -> String {
    let g = &r.grids;
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list32 = |v: &[f32]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = format!(
        "# SiTunes: ranking the full catalog\n\n\
Regenerate with `cargo run --release -p attune-model-export -- situnes-rank --data ../shared/data --json public/report/situnes-ranking.json --md public/report/situnes-ranking.md` (deterministic).\n\n\
**Protocol.** SiTunes Stage 2 ({users} users), split in time per user: each user's last {test:.0}% of plays are the test period (the same split as Setting 3). \
Every model ranks the whole catalog: the {cat} songs of `music_info.csv` with audio features (only {songs} of them were ever played in Stage 2, chosen for the participants by the study's recommenders, so popularity is strong). \
A song is relevant when the user rated it 3 or more (liked). \
The main table makes one ranking per liked test play, *for that moment*: the target state is the mood the user stated just before the play and the situation is the play's own (time of day, GPS speed, wristband heart rate and activity); the relevant song is the one played; \
the candidates are the catalog minus every song the user played before that moment (new songs only: within Stage 2 a user replays a song 3 times in 897 plays, so a per-user most-played list scores zero with new songs only and is shown with seen songs allowed instead). \
The second table ranks once per user at the start of the test period (the first test play's mood and situation) with all the user's liked test songs relevant. \
The third adds all of Stage 1 (20 of its 25 songs per user, no moods before listening, no wristband) to the training plays; Stage 1's songs stay candidates, because 31% of Stage 2's plays (its random arm) replay a song the user heard in Stage 1. \
Metrics at k = {k}: precision, recall, F1, NDCG and MAP (binary relevance; a query counts once; intervals are 95% bootstrap percentiles over users, {boot} resamples, seeded), and quadrant match = the share of the top {k} whose emotion quadrant (Spotify valence and energy) equals the quadrant of the target state.\n\n\
**Models.** Random; most popular (training plays); the user's own most played songs first, then popularity; item-kNN (cosine between songs over users); iALS folded in from the user's positives; content-based (cosine between a song's standardised audio features + genre one-hot and the mean of the user's liked songs, plus a weight times standardised log-popularity); \
E: the song's emotional fit to the target state (the engine's Gaussian kernel, σ = 0.5); \
F: the engine's hybrid `(1-β)·iALS_z + β·4·fit` with the pre-play mood; its static variant uses the user's mean stated mood over the training plays; \
G: an L2 logistic regression (`liked::logistic`) trained to predict liked on the training plays, from a user one-hot, the song's features, the situation features and {ci}x{cs} products of song features (valence, energy, danceability, acousticness, tempo, loudness) with the time of day, speed, heart rate, activity intensity, steps, still and walking, so the ranking can change with the situation; scored for every candidate under the test play's situation, alone and mixed with iALS (`(1-w)·iALS_z + w·LR_z`).\n\n\
**Tuning.** Every setting is chosen on validation plays (each user's latest {valid:.0}% of training plays, the same protocol, the models fitted on the rest) by NDCG@10, then the models are refitted on all training plays: \
item-kNN neighbours {{{knn}}} (0 = all) x positives {{liked, all plays}}; \
iALS factors {{{ik}}} x L2 {{{il}}} x confidence α {{{ia}}} x positives {{liked, all plays}}, {it} alternations, seed {seed}; \
content popularity weight {{{cp}}}; hybrid β {{0, 0.05, ..., 1}} (dynamic and static tuned separately, iALS fixed at its tuned setting); \
logistic regression L2 {{{ll}}} by validation log-loss, its weight w against iALS {{0, 0.1, ..., 1}}.\n\n",
        users = r.stage2_users,
        test = 100.0 * TEST_SHARE,
        cat = r.catalog,
        songs = r.stage2_songs,
        k = r.k,
        boot = r.bootstrap,
        ci = CROSS_ITEM.len(),
        cs = CROSS_SITUATION.len(),
        valid = 100.0 * VALID_SHARE,
        knn = g
            .knn_neighbours
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        ik = g
            .ials_k
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        il = list(&g.ials_lambda),
        ia = list(&g.ials_alpha),
        it = g.ials_iterations,
        seed = SEED,
        cp = list32(&g.content_popularity),
        ll = list(&g.lr_lambda),
    );
    for t in &r.tables {
        s.push_str(&table_markdown(t));
        s.push('\n');
    }
    s.push_str("With about 30 users and a few hundred test plays every number here is noisy: read the intervals before any difference.\n");
    s
}

/// `model-export situnes-rank`: runs, prints the markdown and writes both files.
pub fn command(data: &Path, json: &Path, md: &Path) -> Result<()> {
    let start = std::time::Instant::now();
    let r = run(data, &Grids::full())?;
    let text = markdown(&r);
    print!("{text}");
    for (path, body) in [(json, serde_json::to_string_pretty(&r)? + "\n"), (md, text)] {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("situnes-rank: {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small synthetic world: 12 songs, 8 users with 10 plays each.
    fn synthetic() -> (Catalog, Vec<Play>) {
        let n = 12u32;
        let ids: Vec<u32> = (0..n).map(|i| 100 + i).collect();
        let emotion: Vec<Emotion> = (0..n)
            .map(|i| Emotion::va((i as f32 / 6.0) - 1.0, if i % 2 == 0 { 0.5 } else { -0.5 }))
            .collect();
        let features: Vec<Vec<f64>> = (0..n)
            .map(|i| vec![f64::from(i) / 6.0 - 1.0, f64::from(i % 3), f64::from(i % 2)])
            .collect();
        let cross: Vec<Vec<f64>> = features.iter().map(|f| f[..2].to_vec()).collect();
        let cat = Catalog::new(ids, emotion, cross, features);
        let mut rng = Rng::new(1);
        let mut plays = Vec::new();
        for u in 0..8u32 {
            let mut items: Vec<u32> = (0..n).collect();
            rng.shuffle(&mut items);
            for (t, &i) in items.iter().take(10).enumerate() {
                let mut sit = vec![0.0; SITUATION.len()];
                sit[t % 3] = 1.0;
                sit[10] = f64::from(rng.unit()) - 0.5;
                plays.push(Play {
                    user: u,
                    item: 100 + i,
                    timestamp: (u * 1000 + t as u32) as f64,
                    liked: (i + u) % 3 != 0,
                    pre: Some(Emotion::va(rng.unit() - 0.5, rng.unit() - 0.5)),
                    situation: Some(sit),
                    seen: true,
                });
            }
        }
        (cat, plays)
    }

    #[test]
    fn deterministic_and_in_range_on_synthetic_data() {
        let (cat, plays) = synthetic();
        let a = build(&cat, plays.clone(), Vec::new(), &Grids::quick()).unwrap();
        let b = build(&cat, plays, Vec::new(), &Grids::quick()).unwrap();
        let (ja, jb) = (
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap(),
        );
        assert_eq!(ja, jb);
        assert_eq!(markdown(&a), markdown(&b));
        for t in &a.tables {
            for r in &t.rows {
                for x in [r.precision, r.recall, r.f1, r.ndcg, r.map, r.quadrant_match] {
                    assert!((0.0..=1.0).contains(&x), "{r:?}");
                }
            }
        }
    }

    #[test]
    fn relevant_first_scores_one() {
        let (cat, _) = synthetic();
        let q = Query {
            id: 0,
            user: 0,
            state: Emotion::va(0.5, 0.5),
            situation: None,
            relevant: [100, 103].into_iter().collect(),
            n_relevant: 2,
            exclude: vec![false; cat.len()],
        };
        let m = measure(&cat, &q, &[0, 3, 1, 2]);
        assert!((m[3] - 1.0).abs() < 1e-12 && (m[4] - 1.0).abs() < 1e-12);
        assert!((m[1] - 1.0).abs() < 1e-12 && (m[0] - 0.2).abs() < 1e-12);
        // Every synthetic song has negative valence: none lies in the target's Q1.
        assert_eq!(m[5], 0.0);
        let m = measure(&cat, &q, &[1, 2, 0, 3]);
        assert!(m[3] < 1.0 && m[3] > 0.0);
    }

    #[test]
    fn per_play_queries_exclude_earlier_plays() {
        let (cat, plays) = synthetic();
        let (train, test) = liked::split_in_time_by(plays, TEST_SHARE, |p| (p.user, p.timestamp));
        let h = History::new(&cat, &train);
        let qs = queries(&h, &test, Protocol::PerPlay);
        assert_eq!(qs.len(), test.iter().filter(|p| p.liked).count());
        for q in &qs {
            let item = *q.relevant.iter().next().unwrap();
            assert!(!q.exclude[cat.index[&item]], "the target is a candidate");
            for &i in &h.all[&q.user] {
                assert!(q.exclude[i as usize]);
            }
        }
    }

    /// On the real data (quick grids): sane ranges, popularity beats random, emotion-only has
    /// the best quadrant match.
    #[test]
    fn real_stage_two() {
        let r = run(&crate::ingest::test_data_root(), &Grids::quick()).unwrap();
        assert!(r.catalog > 900, "{}", r.catalog);
        assert_eq!(r.tables.len(), 3);
        for t in &r.tables {
            assert!(t.users >= 25 && t.queries >= t.users, "{}", t.title);
            for row in &t.rows {
                for x in [
                    row.precision,
                    row.recall,
                    row.f1,
                    row.ndcg,
                    row.map,
                    row.quadrant_match,
                ] {
                    assert!((0.0..=1.0).contains(&x), "{row:?}");
                }
                assert!(row.ndcg_ci[0] <= row.ndcg + 1e-12 && row.ndcg <= row.ndcg_ci[1] + 1e-12);
            }
            let get = |m: &str| t.rows.iter().find(|r| r.model.starts_with(m)).unwrap();
            assert!(
                get("most popular").ndcg > get("random").ndcg + 0.02,
                "{}",
                t.title
            );
            assert!(get("E emotion only (").quadrant_match > t.quadrant_base_rate + 0.2);
        }
    }
}
