//! Hybrid ranking: collaborative filtering fused with emotional match, with a reason per item.

use crate::catalog::{ArtistIdx, Catalog, TrackIdx};
use crate::cf::{CfModel, FoldIn, UserVector};
use crate::emotion::Emotion;
use crate::error::AssetError;
use crate::taste::TasteModel;
use serde::Serialize;

/// How much the mood counts against taste, in [0, 1] (0 = taste only, 1 = mood only).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct MoodStrength(f32);

impl MoodStrength {
    /// The default balance.
    pub const DEFAULT: MoodStrength = MoodStrength(0.35);
    /// Clamps into [0, 1]; NaN becomes the default.
    pub fn new(x: f32) -> MoodStrength {
        if x.is_nan() {
            MoodStrength::DEFAULT
        } else {
            MoodStrength(x.clamp(0.0, 1.0))
        }
    }
    /// The value in [0, 1].
    pub fn get(self) -> f32 {
        self.0
    }
}

impl Default for MoodStrength {
    fn default() -> Self {
        MoodStrength::DEFAULT
    }
}

/// Standard deviations of taste score that a perfect emotional fit is worth at full mood strength.
pub const EMOTION_SCALE: f32 = 4.0;
/// Emotional fit assumed for an item whose emotion is unknown (about the catalog's average fit).
pub const UNKNOWN_FIT: f32 = 0.25;

/// One recommendation request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Artists the user likes (folded into the CF user vector).
    pub likes: &'a [ArtistIdx],
    /// The user's current emotional state, if known.
    pub mood: Option<Emotion>,
    /// Balance between taste and mood.
    pub mood_strength: MoodStrength,
    /// Extra artists never to recommend.
    pub exclude: &'a [ArtistIdx],
    /// The neural CF model's scores for these likes (`engine::models::ncf`), if it has run;
    /// blended into the taste by the taste model's weights (or at [`crate::ncf::NEURAL_WEIGHT`]
    /// beside SVD++ for a recommender without one).
    pub neural: Option<&'a [f32]>,
    /// How many to return.
    pub k: usize,
}

/// One ranked item with what drove it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The recommended artist.
    pub artist: ArtistIdx,
    /// A track of that artist that best fits the mood, if the catalog has one.
    pub track: Option<TrackIdx>,
    /// Final hybrid score (higher is better).
    pub score: f32,
    /// Taste score, standardised over the catalog for this user.
    pub taste: f32,
    /// Emotional fit in [0, 1], if a mood was given.
    pub fit: Option<f32>,
    /// The liked artist that contributed most to the taste score.
    pub because: Option<ArtistIdx>,
    /// What the score is made of: `taste + mood = score`.
    pub drivers: Drivers,
    /// One line in plain words.
    pub reason: String,
}

/// The two terms of the hybrid score, in the score's units (standard deviations of taste).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Drivers {
    /// `(1-β)·taste` (all of the score without a mood).
    pub taste: f32,
    /// `β·EMOTION_SCALE·fit` (0 without a mood).
    pub mood: f32,
}

/// Catalog plus CF models, checked to agree with each other.
///
/// A visitor with no likes is ranked from the catalogue alone (popularity and mood), so the
/// first list needs only `catalog.bin` ([`Recommender::cold`]); the taste models join later
/// ([`Recommender::with_cf`], [`Recommender::with_taste`]) and change nothing for no likes.
#[derive(Debug, Clone)]
pub struct Recommender {
    catalog: Catalog,
    /// SVD++ (`cf.bin`): the "because" neighbour, and the taste without a taste blend.
    cf: Option<CfModel>,
    /// The shipped taste blend (`taste.bin`); without it the taste is SVD++ (+ NCF).
    taste: Option<TasteModel>,
    /// Cold-start taste: standardised log listener counts.
    popularity: Vec<f32>,
}

impl Recommender {
    /// Pairs a catalog with a CF model; fails if their item counts differ.
    pub fn new(catalog: Catalog, cf: CfModel) -> Result<Recommender, AssetError> {
        Recommender::cold(catalog).with_cf(cf)
    }

    /// The catalogue alone: ranks a visitor without likes exactly as the full recommender does
    /// (popularity and mood); with likes its taste is popularity until the models join, which
    /// [`Recommender::has_taste`] tells.
    pub fn cold(catalog: Catalog) -> Recommender {
        let raw: Vec<f32> = catalog
            .artists()
            .iter()
            .map(|a| (1.0 + a.listeners as f32).ln())
            .collect();
        let popularity = standardise(&raw);
        Recommender {
            catalog,
            cf: None,
            taste: None,
            popularity,
        }
    }

    /// Adds the SVD++ model; fails if its item count differs from the catalog's.
    pub fn with_cf(mut self, cf: CfModel) -> Result<Recommender, AssetError> {
        self.check_items("cf.bin", cf.n_items())?;
        self.cf = Some(cf);
        Ok(self)
    }

    /// Whether a taste model (the blend or SVD++) is loaded, so that likes change the ranking.
    pub fn has_taste(&self) -> bool {
        self.cf.is_some() || self.taste.is_some()
    }

    /// Adds the shipped taste model; fails if its item count differs from the catalog's.
    pub fn with_taste(mut self, taste: TasteModel) -> Result<Recommender, AssetError> {
        self.check_items("taste.bin", taste.n_items())?;
        self.taste = Some(taste);
        Ok(self)
    }

    /// A `Mismatch` unless `file` has one item per catalog artist.
    fn check_items(&self, file: &str, items: usize) -> Result<(), AssetError> {
        let artists = self.catalog.artists().len();
        if items == artists {
            return Ok(());
        }
        Err(AssetError::Mismatch(format!(
            "catalog.bin has {artists} artists but {file} has {items} items"
        )))
    }

    /// The shipped taste model, if loaded.
    pub fn taste_model(&self) -> Option<&TasteModel> {
        self.taste.as_ref()
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
    /// The CF model, once loaded.
    pub fn cf(&self) -> Option<&CfModel> {
        self.cf.as_ref()
    }

    /// The emotional centre of the liked artists (confidence-weighted), if any has an emotion.
    pub fn taste_emotion(&self, likes: &[ArtistIdx]) -> Option<Emotion> {
        Emotion::weighted_mean(likes.iter().filter_map(|&a| {
            let e = self.catalog.artists().get(a.0 as usize)?.emotion?;
            Some((e.emotion, e.confidence))
        }))
    }

    /// Standardised taste scores for every item before the neural model answers (popularity
    /// when there are no likes).
    pub fn taste_scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        self.taste(likes, None)
    }

    /// Standardised SVD++ scores alone (popularity when there are no likes or no `cf.bin`).
    pub fn svd_scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        let Some(cf) = self.cf.as_ref().filter(|_| !likes.is_empty()) else {
            return self.popularity.clone();
        };
        let user: UserVector = cf.fold_in(likes, FoldIn::LeastSquares);
        standardise(&cf.scores(&user))
    }

    /// The taste the ranking uses: the shipped blend ([`TasteModel::scores`]) with the neural
    /// scores if given, or SVD++ blended with them at [`crate::ncf::NEURAL_WEIGHT`] without a
    /// taste model; popularity when there are no likes.
    pub fn taste(&self, likes: &[ArtistIdx], neural: Option<&[f32]>) -> Vec<f32> {
        if likes.is_empty() {
            return self.popularity.clone();
        }
        match &self.taste {
            Some(t) => {
                let svd = (t.blend.svdpp > 0.0).then(|| self.svd_scores(likes));
                t.scores(likes, svd.as_deref(), neural)
            }
            None => {
                crate::ncf::blend_taste(&self.svd_scores(likes), neural, crate::ncf::NEURAL_WEIGHT)
            }
        }
    }

    /// Hybrid scores for every item: `(1-β)·taste + β·EMOTION_SCALE·fit`.
    pub fn hybrid_scores(
        &self,
        taste: &[f32],
        mood: Option<Emotion>,
        strength: MoodStrength,
    ) -> Vec<f32> {
        let beta = strength.get();
        match mood {
            None => taste.to_vec(),
            Some(m) => taste
                .iter()
                .enumerate()
                .map(|(i, &t)| {
                    (1.0 - beta) * t + beta * EMOTION_SCALE * self.fit(ArtistIdx(i as u32), &m)
                })
                .collect(),
        }
    }

    /// Emotional fit of an artist to a mood, shrunk toward [`UNKNOWN_FIT`] by the estimate's confidence.
    pub fn fit(&self, a: ArtistIdx, mood: &Emotion) -> f32 {
        match self.catalog.artist(a).emotion {
            Some(e) => e.confidence * e.emotion.fit(mood) + (1.0 - e.confidence) * UNKNOWN_FIT,
            None => UNKNOWN_FIT,
        }
    }

    /// The full request: fold in, score, fuse, take the top k, explain.
    pub fn recommend(&self, req: &Request<'_>) -> Vec<Recommendation> {
        let taste = self.taste(req.likes, req.neural);
        let scores = self.hybrid_scores(&taste, req.mood, req.mood_strength);
        let mut excluded = vec![false; scores.len()];
        for a in req.likes.iter().chain(req.exclude) {
            if let Some(x) = excluded.get_mut(a.0 as usize) {
                *x = true;
            }
        }
        top_k(&scores, req.k, |i| excluded[i])
            .into_iter()
            .map(|i| self.explain(ArtistIdx(i as u32), scores[i], taste[i], req))
            .collect()
    }

    fn explain(&self, a: ArtistIdx, score: f32, taste: f32, req: &Request<'_>) -> Recommendation {
        let artist = self.catalog.artist(a);
        let fit = req.mood.map(|m| self.fit(a, &m));
        let svd_neighbour = || self.cf.as_ref()?.strongest_neighbour(a, req.likes);
        let because = match &self.taste {
            Some(t) => t
                .item_item
                .strongest_neighbour(a, req.likes)
                .or_else(svd_neighbour),
            None => svd_neighbour(),
        };
        let track = self.best_track(a, req.mood);
        let emotion = track
            .map(|t| self.catalog.track(t).emotion.emotion)
            .or(artist.emotion.map(|e| e.emotion));
        let mut parts = Vec::new();
        if let Some(e) = emotion {
            match (req.mood, fit) {
                (Some(m), Some(f)) if f >= 0.5 && e.describe() == m.describe() => {
                    parts.push(format!("{} like you now", e.describe()))
                }
                (Some(_), Some(f)) if f >= 0.5 => {
                    parts.push(format!("{}, close to your mood", e.describe()))
                }
                _ => parts.push(e.describe()),
            }
        }
        match because {
            Some(b) => parts.push(format!(
                "listeners of {} play it",
                self.catalog.artist(b).name
            )),
            None if req.likes.is_empty() => {
                parts.push(format!("popular: {} listeners", artist.listeners))
            }
            None => parts.push("a wider pick for your taste".into()),
        }
        let drivers = match fit {
            Some(f) => {
                let beta = req.mood_strength.get();
                Drivers {
                    taste: (1.0 - beta) * taste,
                    mood: beta * EMOTION_SCALE * f,
                }
            }
            None => Drivers { taste, mood: 0.0 },
        };
        Recommendation {
            artist: a,
            track,
            score,
            taste,
            fit,
            because,
            drivers,
            reason: parts.join("; "),
        }
    }

    /// The artist's track closest to the mood (or the most confident one without a mood).
    pub fn best_track(&self, a: ArtistIdx, mood: Option<Emotion>) -> Option<TrackIdx> {
        let tracks = self.catalog.tracks_of(a);
        let key = |t: &TrackIdx| {
            let e = self.catalog.track(*t).emotion;
            match mood {
                Some(m) => e.emotion.fit(&m),
                None => e.confidence,
            }
        };
        tracks
            .iter()
            .copied()
            .max_by(|x, y| key(x).total_cmp(&key(y)))
    }
}

/// Indices of the `k` largest scores, best first, skipping `skip(i)`; ties break by lower index.
pub fn top_k(scores: &[f32], k: usize, skip: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).filter(|&i| !skip(i)).collect();
    let cmp = |a: &usize, b: &usize| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b));
    if k < idx.len() {
        idx.select_nth_unstable_by(k, cmp);
        idx.truncate(k);
    }
    idx.sort_by(cmp);
    idx
}

/// (x - mean) / sd; all zeros when the spread is zero.
pub fn standardise(xs: &[f32]) -> Vec<f32> {
    if xs.is_empty() {
        return Vec::new();
    }
    let n = xs.len() as f64;
    let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = xs
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    let sd = var.sqrt();
    if sd < 1e-12 {
        return vec![0.0; xs.len()];
    }
    xs.iter()
        .map(|&x| ((f64::from(x) - mean) / sd) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::small;
    use crate::cf::FoldInParams;

    fn rec() -> Recommender {
        let c = small();
        let n = c.artists().len();
        let k = 2;
        let q = vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9];
        let y = q.clone();
        let cf = CfModel::new(
            k,
            0.1,
            vec![0.0; n],
            q,
            y,
            FoldInParams {
                lambda: 1.0,
                like_confidence: 2.0,
                negative_ratio: 4.0,
            },
        )
        .unwrap();
        Recommender::new(c, cf).unwrap()
    }

    #[test]
    fn taste_follows_likes_and_excludes_them() {
        let r = rec();
        let out = r.recommend(&Request {
            likes: &[ArtistIdx(0)],
            mood: None,
            mood_strength: MoodStrength::DEFAULT,
            exclude: &[],
            neural: None,
            k: 3,
        });
        assert_eq!(out[0].artist, ArtistIdx(1), "{out:?}");
        assert!(out.iter().all(|x| x.artist != ArtistIdx(0)));
        assert!(
            out[0].reason.contains("listeners of Radiohead"),
            "{}",
            out[0].reason
        );
    }

    #[test]
    fn mood_strength_moves_the_list_toward_the_mood() {
        let r = rec();
        let calm = Some(Emotion::va(0.5, -0.7));
        let taste_only = r.recommend(&Request {
            likes: &[ArtistIdx(0)],
            mood: calm,
            mood_strength: MoodStrength::new(0.0),
            exclude: &[],
            neural: None,
            k: 1,
        });
        let mood_only = r.recommend(&Request {
            likes: &[ArtistIdx(0)],
            mood: calm,
            mood_strength: MoodStrength::new(1.0),
            exclude: &[],
            neural: None,
            k: 1,
        });
        assert_eq!(taste_only[0].artist, ArtistIdx(1));
        assert_eq!(mood_only[0].artist, ArtistIdx(2));
        // The drivers add up to the score: all taste at strength 0, all mood at strength 1.
        for x in taste_only.iter().chain(&mood_only) {
            assert!(
                (x.drivers.taste + x.drivers.mood - x.score).abs() < 1e-5,
                "{x:?}"
            );
        }
        assert_eq!(taste_only[0].drivers.mood, 0.0);
        assert_eq!(mood_only[0].drivers.taste, 0.0);
        assert!(mood_only[0].drivers.mood > 0.0);
        assert!(
            mood_only[0].reason.contains("like you now"),
            "{}",
            mood_only[0].reason
        );
    }

    #[test]
    fn cold_start_uses_popularity() {
        let r = rec();
        let out = r.recommend(&Request {
            likes: &[],
            mood: None,
            mood_strength: MoodStrength::DEFAULT,
            exclude: &[ArtistIdx(0)],
            neural: None,
            k: 2,
        });
        assert_eq!(out[0].artist, ArtistIdx(3));
        assert!(out[0].reason.contains("popular"));
    }

    #[test]
    fn the_catalogue_alone_ranks_a_visitor_without_likes_as_the_full_recommender() {
        let full = rec();
        let cold = Recommender::cold(full.catalog().clone());
        assert!(full.has_taste() && !cold.has_taste());
        for mood in [
            None,
            Some(Emotion::va(0.5, -0.7)),
            Some(Emotion::va(-0.6, 0.8)),
        ] {
            let req = Request {
                likes: &[],
                mood,
                mood_strength: MoodStrength::DEFAULT,
                exclude: &[ArtistIdx(1)],
                neural: None,
                k: 3,
            };
            assert_eq!(cold.recommend(&req), full.recommend(&req), "{mood:?}");
        }
        // With likes it has no taste to offer yet: popularity, and no "because".
        let liked = cold.recommend(&Request {
            likes: &[ArtistIdx(0)],
            mood: None,
            mood_strength: MoodStrength::DEFAULT,
            exclude: &[],
            neural: None,
            k: 1,
        });
        assert_eq!(liked[0].artist, ArtistIdx(3));
        assert_eq!(liked[0].because, None);
    }

    #[test]
    fn mismatched_assets_are_rejected() {
        let cf = crate::cf::tests::tiny();
        assert!(matches!(
            Recommender::new(small(), cf),
            Err(AssetError::Mismatch(_))
        ));
    }

    #[test]
    fn top_k_is_stable_and_skips() {
        let s = [0.1, 0.5, 0.5, 0.9, -1.0];
        assert_eq!(top_k(&s, 3, |_| false), vec![3, 1, 2]);
        assert_eq!(top_k(&s, 10, |i| i == 3), vec![1, 2, 0, 4]);
    }

    #[test]
    fn mood_strength_clamps() {
        assert_eq!(MoodStrength::new(2.0).get(), 1.0);
        assert_eq!(MoodStrength::new(f32::NAN), MoodStrength::DEFAULT);
    }
}
