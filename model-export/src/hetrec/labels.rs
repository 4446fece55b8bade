//! Emotion labels for catalog items: Last.fm tags through a word lexicon, and Deezer track labels,
//! each put on the engine's [-1, 1] scale.

use crate::ingest::hetrec::TagAssignment;
use crate::ingest::lexicon::Lexicon;
use attune_engine::Emotion;
use std::collections::HashMap;

/// Emotion of a tag: the mean of its words found in the lexicon (words of 2+ letters).
pub fn tag_emotion(tag: &str, lex: &Lexicon) -> Option<Emotion> {
    if let Some(e) = lex.get(tag) {
        return Some(*e);
    }
    Emotion::weighted_mean(
        tag.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2)
            .filter_map(|w| lex.get(w).map(|e| (*e, 1.0))),
    )
}

/// Raw (lexicon-scale) tag emotion of an artist, and how many tag assignments it rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawTagEmotion {
    /// Mean over covered assignments.
    pub emotion: Emotion,
    /// Number of covered assignments.
    pub evidence: u32,
}

/// Per-artist tag emotion over the given assignments.
pub fn artist_tag_emotions(
    assignments: &[TagAssignment],
    tags: &HashMap<u32, String>,
    lex: &Lexicon,
) -> HashMap<u32, RawTagEmotion> {
    let tag_emotions: HashMap<u32, Emotion> = tags
        .iter()
        .filter_map(|(id, t)| tag_emotion(t, lex).map(|e| (*id, e)))
        .collect();
    let mut acc: HashMap<u32, ([f64; 3], u32)> = HashMap::new();
    for a in assignments {
        if let Some(e) = tag_emotions.get(&a.tag) {
            let s = acc.entry(a.artist).or_default();
            s.0[0] += f64::from(e.valence.get());
            s.0[1] += f64::from(e.arousal.get());
            s.0[2] += f64::from(e.dominance.get());
            s.1 += 1;
        }
    }
    acc.into_iter()
        .map(|(artist, (s, n))| {
            let m = |x: f64| (x / f64::from(n)) as f32;
            (
                artist,
                RawTagEmotion {
                    emotion: Emotion::new(m(s[0]), m(s[1]), m(s[2])),
                    evidence: n,
                },
            )
        })
        .collect()
}

/// Maps one source onto the shared catalog-relative scale: standardise each axis over the source's
/// items, divide by 2 (so +-2 standard deviations reach +-1) and clamp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standardiser {
    mean: [f32; 3],
    sd: [f32; 3],
}

impl Standardiser {
    /// Fits means and standard deviations on `xs` (each a `[v, a, d]` triple).
    pub fn fit(xs: &[[f32; 3]]) -> Standardiser {
        let n = xs.len().max(1) as f64;
        let mut mean = [0.0f32; 3];
        let mut sd = [1.0f32; 3];
        for ax in 0..3 {
            let m = xs.iter().map(|x| f64::from(x[ax])).sum::<f64>() / n;
            let v = xs
                .iter()
                .map(|x| (f64::from(x[ax]) - m).powi(2))
                .sum::<f64>()
                / n;
            mean[ax] = m as f32;
            sd[ax] = if v > 1e-12 { v.sqrt() as f32 } else { 1.0 };
        }
        Standardiser { mean, sd }
    }
    /// Applies the mapping.
    pub fn apply(&self, x: [f32; 3]) -> Emotion {
        let s = |ax: usize| (x[ax] - self.mean[ax]) / self.sd[ax] / 2.0;
        Emotion::new(s(0), s(1), s(2))
    }
}

/// `[v, a, d]` of an emotion.
pub fn vad(e: &Emotion) -> [f32; 3] {
    [e.valence.get(), e.arousal.get(), e.dominance.get()]
}

/// Pearson correlation; `None` with fewer than 3 pairs or no spread.
pub fn pearson(pairs: &[(f32, f32)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| f64::from(p.0)).sum::<f64>() / n;
    let my = pairs.iter().map(|p| f64::from(p.1)).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        let (dx, dy) = (f64::from(x) - mx, f64::from(y) - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex() -> Lexicon {
        let mut l = Lexicon::new();
        l.insert("sad".into(), Emotion::new(-0.6, -0.3, -0.7));
        l.insert("happy".into(), Emotion::new(1.0, 0.5, 0.5));
        l.insert("rock".into(), Emotion::new(0.0, 0.5, 0.2));
        l
    }

    #[test]
    fn multiword_tags_average_their_known_words() {
        let e = tag_emotion("sad rock", &lex()).unwrap();
        assert!((e.valence.get() + 0.3).abs() < 1e-6);
        assert!(tag_emotion("zzz qq", &lex()).is_none());
    }

    #[test]
    fn artist_emotion_weights_by_assignment_count() {
        let tags: HashMap<u32, String> = [
            (1, "sad".to_string()),
            (2, "happy".to_string()),
            (3, "xx".to_string()),
        ]
        .into();
        let a = |tag| TagAssignment {
            user: 1,
            artist: 9,
            tag,
            date: 0,
        };
        let e = artist_tag_emotions(&[a(1), a(1), a(2), a(3)], &tags, &lex());
        let r = e[&9];
        assert_eq!(r.evidence, 3);
        assert!((r.emotion.valence.get() - (-0.6 * 2.0 + 1.0) / 3.0).abs() < 1e-6);
    }

    #[test]
    fn standardiser_and_pearson() {
        let s = Standardiser::fit(&[[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]);
        assert!((s.apply([2.0, 2.0, 2.0]).valence.get() - 0.5).abs() < 1e-6);
        assert!((pearson(&[(1.0, 2.0), (2.0, 4.0), (3.0, 6.5)]).unwrap() - 1.0).abs() < 0.01);
        assert!(pearson(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]).is_none());
    }
}
