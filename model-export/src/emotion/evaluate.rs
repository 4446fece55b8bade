//! Held-out evaluation of the emotion model and its baselines: 4-quadrant, valence-sign and
//! arousal-sign accuracy on songs no model saw, with a confusion matrix.

use super::baseline::{summary_features, Logistic};
use super::dataset::{part_of, Clip, Part, Quadrant};
use attune_engine::audio::LogMel;
use serde::Serialize;

/// Accuracy figures of one model on one set of clips.
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    /// The model's name.
    pub model: String,
    /// Clips scored.
    pub clips: usize,
    /// Share of clips whose quadrant is right.
    pub quadrant_accuracy: f32,
    /// Share whose valence sign is right.
    pub valence_accuracy: f32,
    /// Share whose arousal sign is right.
    pub arousal_accuracy: f32,
    /// `confusion[true][predicted]`, quadrants Q1..Q4.
    pub confusion: [[usize; 4]; 4],
    /// 95% intervals of (quadrant, valence, arousal) accuracy from a bootstrap over songs (clips of
    /// one song are not independent).
    pub ci95: [[f32; 2]; 3],
}

impl Scores {
    /// Scores predicted quadrant probabilities against labels.
    pub fn of(model: &str, truth: &[Quadrant], probs: &[[f32; 4]], songs: &[&str]) -> Scores {
        let mut confusion = [[0; 4]; 4];
        let (mut q, mut v, mut a) = (0, 0, 0);
        for (t, p) in truth.iter().zip(probs) {
            confusion[t.index()][Quadrant::argmax(p).index()] += 1;
            // Valence/arousal: the sign of the expected value (what the model outputs), not of
            // the argmax quadrant.
            let [hq, hv, ha] = hits(*t, p);
            q += usize::from(hq);
            v += usize::from(hv);
            a += usize::from(ha);
        }
        let n = truth.len().max(1) as f32;
        Scores {
            model: model.into(),
            clips: truth.len(),
            quadrant_accuracy: q as f32 / n,
            valence_accuracy: v as f32 / n,
            arousal_accuracy: a as f32 / n,
            confusion,
            ci95: bootstrap(truth, probs, songs),
        }
    }
}

/// Per clip: whether (quadrant, valence, arousal) are right.
fn hits(t: Quadrant, p: &[f32; 4]) -> [bool; 3] {
    let pv = p[0] + p[3] - p[1] - p[2];
    let pa = p[0] + p[1] - p[2] - p[3];
    [
        Quadrant::argmax(p) == t,
        (pv >= 0.0) == t.positive_valence(),
        (pa >= 0.0) == t.high_arousal(),
    ]
}

/// Percentile intervals from 2,000 resamples of whole songs.
fn bootstrap(truth: &[Quadrant], probs: &[[f32; 4]], songs: &[&str]) -> [[f32; 2]; 3] {
    let mut by_song: std::collections::BTreeMap<&str, [usize; 4]> = Default::default();
    for ((t, p), s) in truth.iter().zip(probs).zip(songs) {
        let e = by_song.entry(s).or_default();
        let h = hits(*t, p);
        for k in 0..3 {
            e[k] += usize::from(h[k]);
        }
        e[3] += 1;
    }
    let groups: Vec<[usize; 4]> = by_song.into_values().collect();
    if groups.is_empty() {
        return [[0.0; 2]; 3];
    }
    let mut rng = crate::rng::Rng::new(2021);
    let mut draws: [Vec<f32>; 3] = Default::default();
    for _ in 0..2000 {
        let mut sum = [0usize; 4];
        for _ in 0..groups.len() {
            let g = groups[rng.below(groups.len())];
            for k in 0..4 {
                sum[k] += g[k];
            }
        }
        for k in 0..3 {
            draws[k].push(sum[k] as f32 / sum[3].max(1) as f32);
        }
    }
    draws.map(|mut d| {
        d.sort_by(f32::total_cmp);
        [
            d[(d.len() as f32 * 0.025) as usize],
            d[(d.len() as f32 * 0.975) as usize - 1],
        ]
    })
}

/// Which clips of a folder are scored.
pub fn held_out(clips: &[Clip]) -> Vec<usize> {
    (0..clips.len())
        .filter(|&i| part_of(&clips[i].song) == Part::Test)
        .collect()
}

/// The majority class of the training clips, as constant probabilities.
pub fn majority(train: &[Quadrant]) -> [f32; 4] {
    let mut counts = [0usize; 4];
    for q in train {
        counts[q.index()] += 1;
    }
    let best = (0..4).max_by_key(|&i| counts[i]).unwrap_or(0);
    let mut p = [0.0; 4];
    p[best] = 1.0;
    p
}

/// The logistic-regression baseline: L2 strength chosen on the validation clips, then refit on
/// train + validation. Features come from the middle 30 s, as for the CNN. Returns the model, the chosen strength and the search log.
pub fn fit_logistic(
    train: &[(&LogMel, Quadrant)],
    valid: &[(&LogMel, Quadrant)],
) -> (Logistic, f32, Vec<(f32, f32)>) {
    let feats = |s: &[(&LogMel, Quadrant)]| -> (Vec<Vec<f32>>, Vec<usize>) {
        (
            s.iter()
                .map(|(m, _)| summary_features(&super::excerpt_mel(m)))
                .collect(),
            s.iter().map(|(_, q)| q.index()).collect(),
        )
    };
    let (xt, yt) = feats(train);
    let (xv, yv) = feats(valid);
    let mut log = Vec::new();
    for l2 in [1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0] {
        let m = Logistic::fit(&xt, &yt, 4, l2);
        let hits = xv
            .iter()
            .zip(&yv)
            .filter(|(x, &y)| {
                let p = m.predict(x);
                Quadrant::argmax(&[p[0], p[1], p[2], p[3]]).index() == y
            })
            .count();
        log.push((l2, hits as f32 / yv.len().max(1) as f32));
    }
    // Highest validation accuracy; ties go to the stronger penalty (the simpler model).
    let best = log
        .iter()
        .copied()
        .fold(
            (0.0f32, -1.0f32),
            |b, (l2, acc)| if acc >= b.1 { (l2, acc) } else { b },
        )
        .0;
    let (mut x, mut y) = (xt, yt);
    x.extend(xv);
    y.extend(yv);
    (Logistic::fit(&x, &y, 4, best), best, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_count_signs_from_expected_values() {
        let truth = [Quadrant::Q1, Quadrant::Q2, Quadrant::Q3, Quadrant::Q4];
        let probs = [
            [0.9, 0.1, 0.0, 0.0],
            [0.6, 0.4, 0.0, 0.0], // wrong quadrant, right arousal
            [0.0, 0.0, 0.2, 0.8], // wrong quadrant and valence, right arousal
            [0.0, 0.0, 0.0, 1.0],
        ];
        let s = Scores::of("t", &truth, &probs, &["a", "a", "b", "c"]);
        assert_eq!(s.quadrant_accuracy, 0.5);
        assert_eq!(s.arousal_accuracy, 1.0);
        assert_eq!(s.valence_accuracy, 0.5);
        assert_eq!(s.confusion[1][0], 1);
        assert!(s.ci95[1][0] <= 0.5 && s.ci95[1][1] >= 0.5 && s.ci95[2] == [1.0, 1.0]);
    }
}
