//! Content-based recommendation (a baseline for the evaluation): an artist scores by how well its
//! Last.fm tags (genre and style words) match the tags of the user's likes (cosine between the
//! likes' tag counts and the artist's tags), plus `emotion_weight` times its emotional fit to the
//! likes' mean emotion, plus `popularity_weight` times its standardised log-popularity (three
//! tags per artist leave many ties, and content models are usually blended with popularity).

use attune_engine::rank::standardise;
use attune_engine::{ArtistIdx, Recommender};
use std::collections::HashMap;

/// Tag lists per catalog artist, as indices.
#[derive(Debug, Clone)]
pub struct ContentModel {
    tags: Vec<Vec<u32>>,
    /// Weight of the emotional fit against the tag match (standardised scores).
    pub emotion_weight: f32,
    /// Weight of popularity (standardised log listeners).
    pub popularity_weight: f32,
}

impl ContentModel {
    /// Indexes the catalog's tags.
    pub fn new(rec: &Recommender, emotion_weight: f32, popularity_weight: f32) -> ContentModel {
        let mut index: HashMap<&str, u32> = HashMap::new();
        let tags = rec
            .catalog()
            .artists()
            .iter()
            .map(|a| {
                a.tags
                    .iter()
                    .map(|t| {
                        let n = index.len() as u32;
                        *index.entry(t.as_str()).or_insert(n)
                    })
                    .collect()
            })
            .collect();
        ContentModel {
            tags,
            emotion_weight,
            popularity_weight,
        }
    }

    /// Standardised scores of every artist for a user with `likes`.
    pub fn scores(&self, rec: &Recommender, likes: &[ArtistIdx]) -> Vec<f32> {
        let mut profile: HashMap<u32, f32> = HashMap::new();
        for l in likes {
            for &t in &self.tags[l.0 as usize] {
                *profile.entry(t).or_default() += 1.0;
            }
        }
        let norm = profile
            .values()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt()
            .max(1e-9);
        let tag: Vec<f32> = self
            .tags
            .iter()
            .map(|ts| {
                let dot: f32 = ts.iter().filter_map(|t| profile.get(t)).sum();
                dot / (norm * (ts.len().max(1) as f32).sqrt())
            })
            .collect();
        let mut s = standardise(&tag);
        if let (Some(mood), true) = (rec.taste_emotion(likes), self.emotion_weight > 0.0) {
            let fit: Vec<f32> = (0..s.len())
                .map(|i| rec.fit(ArtistIdx(i as u32), &mood))
                .collect();
            for (x, f) in s.iter_mut().zip(standardise(&fit)) {
                *x += self.emotion_weight * f;
            }
        }
        if self.popularity_weight > 0.0 {
            // With no likes the taste scores are the standardised log-popularity.
            for (x, p) in s.iter_mut().zip(rec.taste_scores(&[])) {
                *x += self.popularity_weight * p;
            }
        }
        s
    }
}
