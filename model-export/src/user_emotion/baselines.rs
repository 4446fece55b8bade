//! The baselines, each tuned on the validation examples: the last stated mood, the user's mean
//! mood so far, an exponential moving average of the stated moods (its rate tuned), and a ridge
//! regression on summary features of the history (its penalty tuned). The GRU lives in
//! [`super::model`].

use super::dataset::Example;
use super::train::{rmse, Prediction};
use crate::linalg::solve;
use attune_engine::user_emotion::Observation;

fn moods(past: &[Observation]) -> impl Iterator<Item = [f32; 2]> + '_ {
    past.iter()
        .filter_map(|o| o.mood.map(|m| [m.valence.get(), m.arousal.get()]))
}

/// The last stated mood ([0, 0] if none).
pub fn last(ex: &Example) -> [f32; 2] {
    moods(&ex.past).last().unwrap_or([0.0; 2])
}

/// The mean of every mood stated so far.
pub fn mean(ex: &Example) -> [f32; 2] {
    let (mut s, mut n) = ([0.0f32; 2], 0.0f32);
    for m in moods(&ex.past) {
        s[0] += m[0];
        s[1] += m[1];
        n += 1.0;
    }
    if n > 0.0 {
        [s[0] / n, s[1] / n]
    } else {
        s
    }
}

/// Exponential moving average of the stated moods with rate `alpha` (1 = the last mood).
pub fn ema(ex: &Example, alpha: f32) -> [f32; 2] {
    let mut e: Option<[f32; 2]> = None;
    for m in moods(&ex.past) {
        e = Some(match e {
            None => m,
            Some(p) => [
                alpha * m[0] + (1.0 - alpha) * p[0],
                alpha * m[1] + (1.0 - alpha) * p[1],
            ],
        });
    }
    e.unwrap_or([0.0; 2])
}

/// Predictions of a point baseline (no variance: log-variance 0).
pub fn points(examples: &[Example], f: impl Fn(&Example) -> [f32; 2]) -> Vec<Prediction> {
    examples.iter().map(|e| (f(e), [0.0; 2])).collect()
}

/// The EMA rate with the lowest validation RMSE, from a grid.
pub fn tune_ema(valid: &[Example]) -> (f32, Vec<(f32, f32)>) {
    let grid: Vec<f32> = (1..=10).map(|i| i as f32 / 10.0).collect();
    let scores: Vec<(f32, f32)> = grid
        .iter()
        .map(|&a| (a, rmse(&points(valid, |e| ema(e, a)), valid)))
        .collect();
    let best = scores
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("grid")
        .0;
    (best, scores)
}

/// Summary features of an example for the linear model (`alpha`: the EMA's rate).
pub fn features(ex: &Example, alpha: f32) -> Vec<f32> {
    let l = last(ex);
    let m = mean(ex);
    let e = ema(ex, alpha);
    let song = ex.past.iter().rev().find_map(|o| o.song);
    let rating = ex.past.iter().rev().find_map(|o| o.rating);
    let c = &ex.moment;
    let x = &ex.input.context;
    vec![
        1.0,
        l[0],
        l[1],
        m[0],
        m[1],
        e[0],
        e[1],
        song.map_or(0.0, |s| s.valence.get()),
        song.map_or(0.0, |s| s.arousal.get()),
        f32::from(u8::from(song.is_some())),
        rating.map_or(0.0, |r| r.centred()),
        c.heart.unwrap_or(0.0),
        f32::from(u8::from(c.heart.is_some())),
        x[2],
        x[3],
        x[4],
        x[5],
    ]
}

/// A fitted ridge regression (one weight vector per axis; the intercept is not penalised).
#[derive(Debug, Clone)]
pub struct Ridge {
    /// Weights for valence and arousal.
    pub w: [Vec<f32>; 2],
    /// The EMA rate its features use.
    pub alpha: f32,
}

impl Ridge {
    /// Fits on `train` with penalty `lambda`.
    pub fn fit(train: &[Example], alpha: f32, lambda: f64) -> Ridge {
        let xs: Vec<Vec<f32>> = train.iter().map(|e| features(e, alpha)).collect();
        let d = xs.first().map_or(0, Vec::len);
        let mut xtx = vec![vec![0.0f64; d]; d];
        let mut xty = [vec![0.0f64; d], vec![0.0f64; d]];
        for (x, e) in xs.iter().zip(train) {
            for i in 0..d {
                for j in 0..d {
                    xtx[i][j] += f64::from(x[i] * x[j]);
                }
                for k in 0..2 {
                    xty[k][i] += f64::from(x[i] * e.target[k]);
                }
            }
        }
        for i in 1..d {
            xtx[i][i] += lambda;
        }
        let w = [0, 1].map(|k| {
            solve(xtx.clone(), xty[k].clone())
                .into_iter()
                .map(|v| v as f32)
                .collect()
        });
        Ridge { w, alpha }
    }

    /// Valence and arousal (clamped to [-1, 1]).
    pub fn predict(&self, ex: &Example) -> [f32; 2] {
        let x = features(ex, self.alpha);
        [0, 1].map(|k| {
            x.iter()
                .zip(&self.w[k])
                .map(|(a, b)| a * b)
                .sum::<f32>()
                .clamp(-1.0, 1.0)
        })
    }

    /// The penalty with the lowest validation RMSE, from a grid; refits on `train`.
    pub fn tune(train: &[Example], valid: &[Example], alpha: f32) -> (Ridge, f64, Vec<(f64, f32)>) {
        let grid = [0.01, 0.1, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0];
        let scores: Vec<(f64, f32)> = grid
            .iter()
            .map(|&l| {
                let r = Ridge::fit(train, alpha, l);
                (l, rmse(&points(valid, |e| r.predict(e)), valid))
            })
            .collect();
        let best = scores
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("grid")
            .0;
        (Ridge::fit(train, alpha, best), best, scores)
    }
}
