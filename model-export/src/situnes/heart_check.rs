//! `heart-rate evaluate`: does wristband heart rate track self-reported arousal? Checked on SiTunes
//! Stage 2, and the engine's heart-rate weight is tied to the answer.
//!
//! Data: `situnes/Stage2/interactions.csv` (one row per play, `emo_pre_arousal` in [-1, 1] reported
//! before listening) and `situnes/Stage2/wrist.npy` (`<f8`, shape (plays, 30, 4): heart rate centred
//! per user, activity intensity, steps, activity type; record `i` belongs to `inter_id` `i + 1`).
//!
//! The feature is the mean centred heart rate over a play's 30 samples: the same quantity the engine's
//! mapping starts from (bpm above the user's own level). The primary number is the **within-user**
//! Pearson correlation (both variables centred per user), because the engine compares each user with
//! their own baseline; its confidence interval comes from a bootstrap over users (plays of one user
//! are not independent). The weight rule lives in the engine
//! ([`attune_engine::heart::signal::weight_for_correlation`]).

use crate::ingest::npy;
use crate::ingest::read_text;
use crate::ingest::situnes::{CHANNELS, SAMPLES};
use crate::rng::Rng;
use anyhow::{ensure, Context, Result};
use attune_engine::emotion::{Axis, Emotion};
use attune_engine::fusion::fuse;
use attune_engine::heart::signal::{
    weight_for_correlation, HEART_AROUSAL_R, HEART_AROUSAL_WEIGHT, HR_SPAN_BPM,
};
use attune_engine::heart::{
    parse_measurement, parse_rr_text, ArousalEstimate, HeartCalibration, HeartSignal, Replay,
};
use attune_engine::MoodStrength;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Bootstrap resamples (over users).
pub const BOOTSTRAP: usize = 2000;
/// Users need this many plays for a per-user correlation.
pub const MIN_PLAYS_PER_USER: usize = 10;
/// A play counts as "still" when at least this share of its samples is Still (0) or Lying (4).
pub const STILL_SHARE: f64 = 2.0 / 3.0;

/// One SiTunes Stage 2 play.
#[derive(Debug, Clone)]
pub struct Play {
    /// `user_id`.
    pub user: u32,
    /// `timestamp` (Unix seconds).
    pub timestamp: f64,
    /// Self-reported arousal before listening, [-1, 1].
    pub pre_arousal: f64,
    /// Self-reported arousal after listening, [-1, 1].
    pub post_arousal: f64,
    /// 30 samples x [heart rate (centred per user), activity intensity, steps, activity type].
    pub wrist: Vec<[f64; CHANNELS]>,
}

impl Play {
    fn mean(&self, ch: usize) -> f64 {
        self.wrist.iter().map(|s| s[ch]).sum::<f64>() / self.wrist.len() as f64
    }
    /// Mean centred heart rate over the play (bpm relative to the user's level).
    pub fn hr(&self) -> f64 {
        self.mean(0)
    }
    fn still_share(&self) -> f64 {
        let still = self
            .wrist
            .iter()
            .filter(|s| s[3] == 0.0 || s[3] == 4.0)
            .count();
        still as f64 / self.wrist.len() as f64
    }
}

/// Loads SiTunes Stage 2 and aligns `wrist.npy` with `interactions.csv` by `inter_id`.
pub fn load_stage2(data: &Path) -> Result<Vec<Play>> {
    let dir = data.join("situnes/Stage2");
    let csv_path = dir.join("interactions.csv");
    let text = read_text(&csv_path)?;
    let mut rows = Vec::new();
    let records =
        csv::Reader::from_reader(text.as_bytes()).into_deserialize::<BTreeMap<String, String>>();
    for (i, row) in records.enumerate() {
        let row = row.with_context(|| format!("{}: row {}", csv_path.display(), i + 2))?;
        let get = |k: &str| -> Result<&str> {
            row.get(k)
                .map(String::as_str)
                .with_context(|| format!("{}: no column {k}", csv_path.display()))
        };
        let num = |k: &str| -> Result<f64> {
            let v: f64 = get(k)?
                .trim()
                .parse()
                .with_context(|| format!("{}: row {}: bad {k}", csv_path.display(), i + 2))?;
            ensure!(
                v.is_finite(),
                "{}: row {}: {k} is not finite",
                csv_path.display(),
                i + 2
            );
            Ok(v)
        };
        rows.push((
            num("inter_id")? as u32,
            num("user_id")? as u32,
            num("timestamp")?,
            num("emo_pre_arousal")?,
            num("emo_post_arousal")?,
        ));
    }
    let npy_path = dir.join("wrist.npy");
    let bytes =
        std::fs::read(&npy_path).with_context(|| format!("reading {}", npy_path.display()))?;
    let (shape, values) = npy::read_f64(&bytes).with_context(|| npy_path.display().to_string())?;
    ensure!(
        shape == [rows.len(), SAMPLES, CHANNELS],
        "wrist.npy shape {shape:?}, expected [{}, {SAMPLES}, {CHANNELS}] (one record per play)",
        rows.len()
    );
    ensure!(
        values.iter().all(|v| v.is_finite()),
        "wrist.npy has non-finite values"
    );
    let mut plays = Vec::with_capacity(rows.len());
    for (i, (inter_id, user, timestamp, pre, post)) in rows.into_iter().enumerate() {
        // The README aligns records to inter_id; they are 1..=n in file order, which we check.
        ensure!(
            inter_id as usize == i + 1,
            "interactions.csv row {} has inter_id {inter_id}: records no longer align by order",
            i + 2
        );
        let rec = &values[i * SAMPLES * CHANNELS..(i + 1) * SAMPLES * CHANNELS];
        let wrist = rec
            .chunks_exact(CHANNELS)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect();
        plays.push(Play {
            user,
            timestamp,
            pre_arousal: pre,
            post_arousal: post,
            wrist,
        });
    }
    Ok(plays)
}

/// Pearson correlation; `None` when either side has no variance or there are fewer than 3 points.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 3 || n != y.len() {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Ranks with ties averaged (1-based).
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            out[k] = r;
        }
        i = j + 1;
    }
    out
}

/// Spearman's rho (Pearson on tie-averaged ranks).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Fisher-z 95% interval and two-sided p-value for a correlation over `n` independent pairs.
pub fn fisher(r: f64, n: usize) -> ([f64; 2], f64) {
    let z = r.clamp(-0.999_999, 0.999_999).atanh();
    let se = 1.0 / ((n as f64) - 3.0).sqrt();
    let p = 2.0 * (1.0 - normal_cdf((z / se).abs()));
    ([(z - 1.96 * se).tanh(), (z + 1.96 * se).tanh()], p)
}

/// Subtracts each group's mean (groups are lists of indices into `x`).
fn centre_within(groups: &[Vec<usize>], x: &[f64]) -> Vec<f64> {
    let mut out = Vec::new();
    for g in groups {
        let m = g.iter().map(|&i| x[i]).sum::<f64>() / g.len() as f64;
        out.extend(g.iter().map(|&i| x[i] - m));
    }
    out
}

fn concat(groups: &[Vec<usize>], x: &[f64]) -> Vec<f64> {
    groups.iter().flatten().map(|&i| x[i]).collect()
}

/// Residuals of `y` after least squares on `controls` (all already centred).
fn residualise(y: &[f64], controls: &[Vec<f64>]) -> Vec<f64> {
    let k = controls.len();
    let mut a = vec![vec![0.0; k + 1]; k];
    for i in 0..k {
        for j in 0..k {
            a[i][j] = controls[i]
                .iter()
                .zip(&controls[j])
                .map(|(p, q)| p * q)
                .sum();
        }
        a[i][k] = controls[i].iter().zip(y).map(|(p, q)| p * q).sum();
    }
    // Gauss-Jordan with partial pivoting on the k x k normal equations.
    for c in 0..k {
        let p = (c..k)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap_or(c);
        a.swap(c, p);
        if a[c][c].abs() < 1e-12 {
            continue;
        }
        for r in 0..k {
            if r != c {
                let f = a[r][c] / a[c][c];
                for j in c..=k {
                    a[r][j] -= f * a[c][j];
                }
            }
        }
    }
    let beta: Vec<f64> = (0..k)
        .map(|i| {
            if a[i][i].abs() < 1e-12 {
                0.0
            } else {
                a[i][k] / a[i][i]
            }
        })
        .collect();
    y.iter()
        .enumerate()
        .map(|(n, v)| v - (0..k).map(|i| beta[i] * controls[i][n]).sum::<f64>())
        .collect()
}

/// Which correlation to compute over a set of user groups.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Raw values pooled over users.
    Pooled,
    /// Both variables centred per user.
    Within,
    /// Within, then both residualised on the plays' mean activity intensity and steps.
    WithinPartialActivity,
}

/// Everything one correlation needs: x, y and the per-play controls.
struct Vars<'a> {
    x: &'a [f64],
    y: &'a [f64],
    controls: [&'a [f64]; 2],
}

fn corr(kind: Kind, groups: &[Vec<usize>], v: &Vars<'_>, rank: bool) -> Option<f64> {
    let (x, y) = match kind {
        Kind::Pooled => (concat(groups, v.x), concat(groups, v.y)),
        Kind::Within => (centre_within(groups, v.x), centre_within(groups, v.y)),
        Kind::WithinPartialActivity => {
            let c: Vec<Vec<f64>> = v
                .controls
                .iter()
                .map(|c| centre_within(groups, c))
                .collect();
            (
                residualise(&centre_within(groups, v.x), &c),
                residualise(&centre_within(groups, v.y), &c),
            )
        }
    };
    if rank {
        spearman(&x, &y)
    } else {
        pearson(&x, &y)
    }
}

/// One correlation with its uncertainty.
#[derive(Debug, Clone, Serialize)]
pub struct Correlation {
    /// What was correlated with what.
    pub what: String,
    /// Plays.
    pub n: usize,
    /// Users.
    pub users: usize,
    /// Pearson r.
    pub r: f64,
    /// Fisher-z 95% CI (assumes independent plays; too narrow when plays cluster by user).
    pub ci_fisher: [f64; 2],
    /// Two-sided p-value from the Fisher z (same assumption).
    pub p_fisher: f64,
    /// 95% percentile CI from resampling users with replacement.
    pub ci_bootstrap_users: [f64; 2],
    /// Spearman's rho on the same (centred / residualised) values.
    pub spearman: f64,
}

fn correlation(what: &str, kind: Kind, plays: &[&Play], y: fn(&Play) -> f64) -> Correlation {
    let x: Vec<f64> = plays.iter().map(|p| p.hr()).collect();
    let yv: Vec<f64> = plays.iter().map(|p| y(p)).collect();
    let act: Vec<f64> = plays.iter().map(|p| p.mean(1)).collect();
    let steps: Vec<f64> = plays.iter().map(|p| p.mean(2)).collect();
    let v = Vars {
        x: &x,
        y: &yv,
        controls: [&act, &steps],
    };
    let mut by_user: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, p) in plays.iter().enumerate() {
        by_user.entry(p.user).or_default().push(i);
    }
    let groups: Vec<Vec<usize>> = by_user.into_values().collect();
    let r = corr(kind, &groups, &v, false).unwrap_or(0.0);
    let (ci_fisher, p_fisher) = fisher(r, plays.len());
    let mut rng = Rng::new(0x4EA7);
    let mut boot: Vec<f64> = (0..BOOTSTRAP)
        .filter_map(|_| {
            let sample: Vec<Vec<usize>> = (0..groups.len())
                .map(|_| groups[rng.below(groups.len())].clone())
                .collect();
            corr(kind, &sample, &v, false)
        })
        .collect();
    boot.sort_by(f64::total_cmp);
    let q = |p: f64| boot[((boot.len() - 1) as f64 * p).round() as usize];
    Correlation {
        what: what.to_string(),
        n: plays.len(),
        users: groups.len(),
        r,
        ci_fisher,
        p_fisher,
        ci_bootstrap_users: [q(0.025), q(0.975)],
        spearman: corr(kind, &groups, &v, true).unwrap_or(0.0),
    }
}

/// Per-user correlations (users with at least [`MIN_PLAYS_PER_USER`] plays).
#[derive(Debug, Clone, Serialize)]
pub struct PerUser {
    /// Users with enough plays and variance on both sides.
    pub users: usize,
    /// Median of the per-user r.
    pub median_r: f64,
    /// Lower and upper quartile of the per-user r.
    pub quartiles: [f64; 2],
    /// Users whose r is above 0.
    pub positive: usize,
    /// How much the true per-user correlations differ (random-effects, Fisher z).
    pub heterogeneity: Heterogeneity,
}

/// Between-user spread of the true correlations, in Fisher z (`atanh r`, sampling variance
/// `1/(n-3)` per user): is one population weight right for everyone, or could a user's own
/// correlation be quite different?
#[derive(Debug, Clone, Serialize)]
pub struct Heterogeneity {
    /// Cochran's Q of the per-user z around their precision-weighted mean.
    pub q: f64,
    /// Degrees of freedom (users - 1).
    pub df: usize,
    /// I^2 = max(0, (Q - df) / Q): the share of the spread not explained by sampling noise.
    pub i2: f64,
    /// DerSimonian-Laird estimate of the between-user SD of z.
    pub tau_dl: f64,
    /// Upper end of the 95% Q-profile interval of that SD: the largest spread the data allows.
    pub tau_upper95: f64,
    /// Precision-weighted mean z at `tau_upper95`, as r.
    pub pooled_r: f64,
}

/// Chi-square quantile by the Wilson-Hilferty approximation (relative error < 1% for df >= 10).
pub fn chi2_quantile(df: usize, z_normal: f64) -> f64 {
    let k = df as f64;
    let a = 2.0 / (9.0 * k);
    k * (1.0 - a + z_normal * a.sqrt()).powi(3)
}

/// Generalised Q: sum of `(z - mean)^2 / (v + tau2)` with the mean weighted the same way.
fn q_at(zv: &[(f64, f64)], tau2: f64) -> (f64, f64) {
    let w: Vec<f64> = zv.iter().map(|(_, v)| 1.0 / (v + tau2)).collect();
    let sw: f64 = w.iter().sum();
    let mean = zv.iter().zip(&w).map(|((z, _), w)| z * w).sum::<f64>() / sw;
    let q = zv
        .iter()
        .zip(&w)
        .map(|((z, _), w)| w * (z - mean) * (z - mean))
        .sum();
    (q, mean)
}

/// Random-effects heterogeneity of per-user (z, sampling variance) pairs; at least 2 users.
pub fn heterogeneity(zv: &[(f64, f64)]) -> Heterogeneity {
    let df = zv.len().saturating_sub(1);
    let (q, _) = q_at(zv, 0.0);
    let w: Vec<f64> = zv.iter().map(|(_, v)| 1.0 / v).collect();
    let sw: f64 = w.iter().sum();
    let sw2: f64 = w.iter().map(|w| w * w).sum();
    let tau2_dl = ((q - df as f64) / (sw - sw2 / sw)).max(0.0);
    // Q-profile: Q(tau2) falls as tau2 grows; the upper bound solves Q(tau2) = chi2(df, 0.025).
    let target = chi2_quantile(df, -1.959_964);
    let tau2_upper = if q <= target {
        0.0
    } else {
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        while q_at(zv, hi).0 > target && hi < 1e6 {
            hi *= 2.0;
        }
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if q_at(zv, mid).0 > target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    };
    Heterogeneity {
        q,
        df,
        i2: if q > 0.0 {
            ((q - df as f64) / q).max(0.0)
        } else {
            0.0
        },
        tau_dl: tau2_dl.sqrt(),
        tau_upper95: tau2_upper.sqrt(),
        pooled_r: q_at(zv, tau2_upper).1.tanh(),
    }
}

/// The engine's per-user calibration rule (`heart::calibration`) replayed on every SiTunes user in
/// time order: before each play, predict the stated arousal from the previous statement fused with
/// the heart at the weight the user's earlier pairs give; then add the play's pair.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalRule {
    /// Users replayed.
    pub users: usize,
    /// Predictions scored (every play after a user's first).
    pub predictions: usize,
    /// Predictions made with a weight above 0.
    pub weighted_predictions: usize,
    /// Users whose weight is above 0 after all their plays.
    pub users_with_weight: usize,
    /// Mean weight after all plays, over users.
    pub mean_final_weight: f64,
    /// Largest weight after all plays.
    pub max_final_weight: f64,
    /// RMSE of the previous stated arousal as the prediction (the app without a strap).
    pub rmse_stated: f64,
    /// RMSE of the same fused with the heart at the personal weight (the app with a strap).
    pub rmse_personal: f64,
    /// RMSE with the heart at weight 1 for everyone (trusting the strap blindly).
    pub rmse_full_weight: f64,
}

/// The heart's arousal reading for a play, as the engine maps it (heart-rate term only: SiTunes
/// has no RR intervals), at full quality.
fn play_reading(p: &Play) -> ArousalEstimate {
    ArousalEstimate::steady((p.hr() / f64::from(HR_SPAN_BPM)) as f32, 1.0)
}

/// Replays the personal rule on each user's plays in time order.
pub fn personal_rule(by_user: &BTreeMap<u32, Vec<&Play>>) -> PersonalRule {
    let predict = |prev: f64, reading: &ArousalEstimate, weight: f32| -> f64 {
        let stated = Emotion::va(0.0, prev as f32);
        let s = fuse(
            Some(stated),
            MoodStrength::DEFAULT,
            Some(reading.live(weight)),
        );
        f64::from(s.emotion.map_or(prev as f32, |e| e.arousal.get()))
    };
    let (mut se_stated, mut se_personal, mut se_full) = (0.0, 0.0, 0.0);
    let (mut n, mut weighted) = (0usize, 0usize);
    let mut finals = Vec::new();
    for plays in by_user.values() {
        let mut plays = plays.clone();
        plays.sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
        let mut cal = HeartCalibration::default();
        let mut prev: Option<f64> = None;
        for p in plays {
            let reading = play_reading(p);
            if let Some(prev) = prev {
                let w = cal.weight().weight;
                weighted += usize::from(w > 0.0);
                let y = p.pre_arousal;
                se_stated += (prev - y).powi(2);
                se_personal += (predict(prev, &reading, w) - y).powi(2);
                se_full += (predict(prev, &reading, 1.0) - y).powi(2);
                n += 1;
            }
            cal.record(
                p.timestamp * 1000.0,
                Some(&reading),
                Axis::clamped(p.pre_arousal as f32),
            );
            prev = Some(p.pre_arousal);
        }
        finals.push(f64::from(cal.weight().weight));
    }
    let rmse = |se: f64| (se / n.max(1) as f64).sqrt();
    PersonalRule {
        users: by_user.len(),
        predictions: n,
        weighted_predictions: weighted,
        users_with_weight: finals.iter().filter(|&&w| w > 0.0).count(),
        mean_final_weight: finals.iter().sum::<f64>() / finals.len().max(1) as f64,
        max_final_weight: finals.iter().copied().fold(0.0, f64::max),
        rmse_stated: rmse(se_stated),
        rmse_personal: rmse(se_personal),
        rmse_full_weight: rmse(se_full),
    }
}

/// The scale of the heart-rate term of the mapping.
#[derive(Debug, Clone, Serialize)]
pub struct HrScale {
    /// Median over users of the SD of their centred heart-rate samples (bpm).
    pub median_within_user_sd_bpm: f64,
    /// Largest |mean| of a user's centred samples (how well "centred per user" holds here).
    pub max_abs_user_mean_bpm: f64,
    /// Share of heart-rate samples whose fractional part (mod 0.5 bpm) equals their user's most
    /// common one. Each user's values carry that user's own offset (raw bpm minus the user's mean),
    /// so a high share says the wrist records line up with the users of `interactions.csv`.
    pub user_offset_agreement: f64,
    /// 2 x the median SD, rounded to whole bpm: what `HR_SPAN_BPM` should be.
    pub span_bpm: f64,
}

/// The weight decision.
#[derive(Debug, Clone, Serialize)]
pub struct Weight {
    /// The rule.
    pub rule: String,
    /// The measured within-user r it is applied to.
    pub measured_r: f64,
    /// `clamp(measured_r, 0, 1)`.
    pub weight: f64,
    /// The engine's recorded r (`HEART_AROUSAL_R`).
    pub engine_r: f64,
    /// The engine's weight (`HEART_AROUSAL_WEIGHT`).
    pub engine_weight: f64,
    /// The engine's heart-rate span (`HR_SPAN_BPM`).
    pub engine_hr_span_bpm: f64,
}

/// The demo RR series replayed through the engine's signal chain.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReplay {
    /// Beats in the file.
    pub beats: usize,
    /// Minutes of recording.
    pub minutes: f64,
    /// Packets replayed (one per second).
    pub packets: u64,
    /// Beats rejected as artifacts.
    pub beats_rejected: u64,
    /// Heart-rate readings rejected.
    pub readings_rejected: u64,
    /// Mean heart rate over the file (60000 / mean RR).
    pub mean_bpm: f64,
    /// RMSSD of the raw series (no artifact rejection).
    pub raw_rmssd_ms: f64,
    /// Resting heart rate the engine learned.
    pub resting_bpm: f64,
    /// Resting RMSSD the engine learned.
    pub resting_rmssd_ms: f64,
    /// 5th, 50th and 95th percentile of the arousal estimate once the baseline is learned.
    pub arousal_p5_p50_p95: [f64; 3],
}

/// Everything `heart-rate evaluate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct HeartReport {
    /// Plays in Stage 2.
    pub plays: usize,
    /// Users in Stage 2.
    pub users: usize,
    /// Primary: within-user r between mean heart rate and arousal before listening.
    pub primary: Correlation,
    /// Secondary and robustness checks.
    pub secondary: Vec<Correlation>,
    /// Per-user correlations (primary variables).
    pub per_user: PerUser,
    /// The heart-rate scale of the mapping.
    pub hr_scale: HrScale,
    /// The weight and the engine's constants.
    pub weight: Weight,
    /// The per-user calibration rule replayed on SiTunes.
    pub personal: PersonalRule,
    /// The demo series through the engine, when the file was given.
    pub demo: Option<DemoReplay>,
}

/// Runs the whole check. `demo`: the RR text file to replay through the engine (optional).
pub fn evaluate(data: &Path, demo: Option<&Path>) -> Result<HeartReport> {
    let plays = load_stage2(data)?;
    let all: Vec<&Play> = plays.iter().collect();
    let pre = |p: &Play| p.pre_arousal;
    let post = |p: &Play| p.post_arousal;
    let primary = correlation(
        "mean heart rate vs arousal before listening, within user",
        Kind::Within,
        &all,
        pre,
    );
    let still: Vec<&Play> = plays
        .iter()
        .filter(|p| p.still_share() >= STILL_SHARE)
        .collect();
    let secondary = vec![
        correlation(
            "mean heart rate vs arousal before listening, pooled (no per-user centring of arousal)",
            Kind::Pooled,
            &all,
            pre,
        ),
        correlation(
            "same, within user, controlling for mean activity intensity and steps",
            Kind::WithinPartialActivity,
            &all,
            pre,
        ),
        correlation(
            "same, within user, still plays only (>= 2/3 of samples Still or Lying)",
            Kind::Within,
            &still,
            pre,
        ),
        correlation(
            "mean heart rate vs arousal after listening, within user",
            Kind::Within,
            &all,
            post,
        ),
    ];

    let mut by_user: BTreeMap<u32, Vec<&Play>> = BTreeMap::new();
    for p in &plays {
        by_user.entry(p.user).or_default().push(p);
    }
    let user_rn: Vec<(f64, usize)> = by_user
        .values()
        .filter(|v| v.len() >= MIN_PLAYS_PER_USER)
        .filter_map(|v| {
            let x: Vec<f64> = v.iter().map(|p| p.hr()).collect();
            let y: Vec<f64> = v.iter().map(|p| p.pre_arousal).collect();
            pearson(&x, &y).map(|r| (r, v.len()))
        })
        .collect();
    let zv: Vec<(f64, f64)> = user_rn
        .iter()
        .map(|&(r, n)| {
            (
                r.clamp(-0.999_999, 0.999_999).atanh(),
                1.0 / (n as f64 - 3.0),
            )
        })
        .collect();
    let mut user_r: Vec<f64> = user_rn.iter().map(|&(r, _)| r).collect();
    user_r.sort_by(f64::total_cmp);
    let quant = |xs: &[f64], p: f64| xs[((xs.len() - 1) as f64 * p).round() as usize];
    ensure!(!user_r.is_empty(), "no user has {MIN_PLAYS_PER_USER} plays");
    let per_user = PerUser {
        users: user_r.len(),
        median_r: quant(&user_r, 0.5),
        quartiles: [quant(&user_r, 0.25), quant(&user_r, 0.75)],
        positive: user_r.iter().filter(|&&r| r > 0.0).count(),
        heterogeneity: heterogeneity(&zv),
    };

    let mut sds = Vec::new();
    let mut max_abs_mean = 0.0f64;
    let (mut agree, mut samples) = (0usize, 0usize);
    for v in by_user.values() {
        let xs: Vec<f64> = v
            .iter()
            .flat_map(|p| p.wrist.iter().map(|s| s[0]))
            .collect();
        let mut offsets: BTreeMap<i64, usize> = BTreeMap::new();
        for x in &xs {
            *offsets
                .entry((x.rem_euclid(0.5) * 1000.0).round() as i64 % 500)
                .or_default() += 1;
        }
        agree += offsets.values().max().copied().unwrap_or(0);
        samples += xs.len();
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let sd = (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64).sqrt();
        sds.push(sd);
        max_abs_mean = max_abs_mean.max(m.abs());
    }
    sds.sort_by(f64::total_cmp);
    let median_sd = quant(&sds, 0.5);
    let hr_scale = HrScale {
        median_within_user_sd_bpm: median_sd,
        max_abs_user_mean_bpm: max_abs_mean,
        user_offset_agreement: agree as f64 / samples.max(1) as f64,
        span_bpm: (2.0 * median_sd).round(),
    };

    let weight = Weight {
        rule: "weight = clamp(r, 0, 1), r = within-user Pearson r (the least-squares slope between standardised variables)".into(),
        measured_r: primary.r,
        weight: f64::from(weight_for_correlation(primary.r as f32)),
        engine_r: f64::from(HEART_AROUSAL_R),
        engine_weight: f64::from(HEART_AROUSAL_WEIGHT),
        engine_hr_span_bpm: f64::from(HR_SPAN_BPM),
    };
    let demo = demo.map(demo_replay).transpose()?;
    Ok(HeartReport {
        plays: plays.len(),
        users: by_user.len(),
        primary,
        secondary,
        per_user,
        hr_scale,
        weight,
        personal: personal_rule(&by_user),
        demo,
    })
}

/// Replays an RR text file through the engine (exactly what the app's simulated strap does).
pub fn demo_replay(path: &Path) -> Result<DemoReplay> {
    let rr = parse_rr_text(&read_text(path)?).with_context(|| path.display().to_string())?;
    let mut signal = HeartSignal::default();
    let mut arousal = Vec::new();
    for p in Replay::new(rr.clone(), 0.0) {
        let m = parse_measurement(&p.bytes).context("replay produced a malformed packet")?;
        signal.push(p.at_ms, &m);
        if let Some(e) = signal.estimate(p.at_ms) {
            if e.baseline_progress >= 1.0 {
                arousal.push(f64::from(e.arousal.get()));
            }
        }
    }
    arousal.sort_by(f64::total_cmp);
    let q = |p: f64| {
        arousal
            .get(((arousal.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let total: f64 = rr.iter().map(|&r| f64::from(r)).sum();
    let diffs: Vec<f64> = rr
        .windows(2)
        .map(|w| f64::from(w[1]) - f64::from(w[0]))
        .collect();
    let st = signal.stats();
    let b = signal.baseline();
    Ok(DemoReplay {
        beats: rr.len(),
        minutes: total / 60_000.0,
        packets: st.packets,
        beats_rejected: st.beats_rejected,
        readings_rejected: st.readings_rejected,
        mean_bpm: 60_000.0 * rr.len() as f64 / total,
        raw_rmssd_ms: (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len().max(1) as f64).sqrt(),
        resting_bpm: b.resting_bpm().map_or(f64::NAN, f64::from),
        resting_rmssd_ms: b.resting_rmssd_ms().map_or(f64::NAN, f64::from),
        arousal_p5_p50_p95: [q(0.05), q(0.5), q(0.95)],
    })
}

fn ci(c: [f64; 2]) -> String {
    format!("[{:+.3}, {:+.3}]", c[0], c[1])
}

/// The report, `public/report/heart.md`.
pub fn markdown(r: &HeartReport) -> String {
    let mut md = String::new();
    md.push_str("# Heart rate and arousal: what the data supports\n\n");
    md.push_str("Regenerate with `cargo run -p attune-model-export -- heart-rate evaluate --data ../shared/data` (writes this file, `heart.json` and the manifest). Fuzzing results: [`fuzz.md`](fuzz.md), from `scripts/fuzz.sh`.\n\n");
    md.push_str("## Question\n\nAttune can read a Bluetooth heart-rate strap and turn it into an arousal estimate (engine `heart::signal`). Before that estimate is allowed to move recommendations, we check on real data whether heart rate tracks how aroused people say they feel.\n\n");
    md.push_str(&format!(
        "## Data\n\nSiTunes Stage 2 (Li et al., CHIIR 2024): a field study, {} plays by {} users, each with 30 wristband samples of [heart rate, activity intensity, steps, activity type] (`wrist.npy`, float64, shape ({}, 30, 4); record *i* is `inter_id` *i*+1, checked) and the user's self-reported arousal before listening (`emo_pre_arousal`, [-1, 1]). Heart rate is released *normalised per user*: the values are bpm minus a per-user level (whole-bpm steps plus a per-user offset; the largest |per-user mean| here is {:.2} bpm). Records are matched to plays by order (the file has no ids); {:.1}% of heart-rate samples carry their user's own offset, so the records line up with the users of `interactions.csv`; alignment within a user cannot be checked. There are no RR intervals, so the HRV half of the mapping cannot be checked on this data. The sampling interval of the 30 samples is not documented.\n\n",
        r.plays,
        r.users,
        r.plays,
        r.hr_scale.max_abs_user_mean_bpm,
        100.0 * r.hr_scale.user_offset_agreement
    ));
    md.push_str("Feature: the mean centred heart rate over a play's 30 samples, i.e. bpm above the user's own level, which is what the engine's mapping starts from. Primary analysis: **within-user** Pearson r (both variables centred per user), because the engine compares each user with their own baseline; CI from 2,000 bootstrap resamples of users (plays of one user are not independent, so the Fisher interval is too narrow).\n\n");
    md.push_str("## Results\n\n| analysis | n plays | users | Pearson r | 95% CI (bootstrap over users) | 95% CI (Fisher) | p (Fisher) | Spearman rho |\n|---|---:|---:|---:|---|---|---:|---:|\n");
    for c in std::iter::once(&r.primary).chain(&r.secondary) {
        md.push_str(&format!(
            "| {}{} | {} | {} | {:+.3} | {} | {} | {:.2} | {:+.3} |\n",
            if std::ptr::eq(c, &r.primary) {
                "**primary:** "
            } else {
                ""
            },
            c.what,
            c.n,
            c.users,
            c.r,
            ci(c.ci_bootstrap_users),
            ci(c.ci_fisher),
            c.p_fisher,
            c.spearman
        ));
    }
    let pu = &r.per_user;
    md.push_str(&format!(
        "\nPer user ({} users with at least {MIN_PLAYS_PER_USER} plays): median r {:+.3}, quartiles {:+.3} / {:+.3}; {} of {} users have r > 0.\n\n",
        pu.users, pu.median_r, pu.quartiles[0], pu.quartiles[1], pu.positive, pu.users
    ));
    let h = &pu.heterogeneity;
    md.push_str(&format!(
        "**Do users differ?** Treating each user's r as one study (Fisher z, sampling variance 1/(n-3)), Cochran's Q = {:.1} on {} degrees of freedom (I² = {:.0}%): the per-user correlations vary *less* than sampling noise alone would make them. The DerSimonian-Laird between-user SD is {:.3} and the upper end of its 95% Q-profile interval is {:.3} (chi-square quantiles by Wilson-Hilferty). So this data gives no sign that some people's heart rate follows their arousal while others' does not.\n\n",
        h.q, h.df, 100.0 * h.i2, h.tau_dl, h.tau_upper95
    ));
    let p = &r.primary;
    let partial = &r.secondary[1];
    let still = &r.secondary[2];
    md.push_str(&format!(
        "**Reading.** Heart rate does not track self-reported arousal in this data. The primary within-user correlation is r = {:+.3} (95% CI {} by bootstrap over users, {} by Fisher), n = {} plays, {} users: the sign is opposite to the mapping's assumption, and {}. Controlling for movement (mean activity intensity and steps) takes it to r = {:+.3}, and still plays alone give r = {:+.3}: what little association there is runs through activity, not through heart rate as such. Possible reasons, none testable here: a wrist sensor at undocumented sampling in a field study, arousal reported once before listening while the timing of the 30 samples relative to that report is not documented, and per-user normalisation of heart rate.\n\n",
        p.r,
        ci(p.ci_bootstrap_users),
        ci(p.ci_fisher),
        p.n,
        p.users,
        if p.ci_bootstrap_users[1] < 0.0 {
            "the bootstrap interval lies entirely below zero".to_string()
        } else {
            format!(
                "no positive correlation above {:+.2} is compatible with the data",
                p.ci_bootstrap_users[1]
            )
        },
        partial.r,
        still.r
    ));
    let w = &r.weight;
    md.push_str(&format!(
        "## Weight of the heart-rate estimate\n\nRule: `weight = clamp(r, 0, 1)` with r the primary within-user correlation. For standardised variables r is the least-squares slope, i.e. how far one unit of the heart signal should move the predicted arousal; a correlation at or below zero means the heart signal cannot improve the prediction and gets no say. Measured r = {:+.3}, so **weight = {:.2}**. The engine records `HEART_AROUSAL_R = {:+.3}` and `HEART_AROUSAL_WEIGHT = {:.2}` (`engine/src/heart/signal.rs`); the test `heart_check::tests::engine_constants_match_the_data` fails when they drift from this data by more than 0.01.\n\nIn the engine, `ArousalEstimate::confidence(weight) = weight x quality`, and `fusion::fuse(stated, strength, Some(estimate.live(weight)))` moves the stated mood's arousal toward the heart's by that confidence. With a population weight of 0 a new user's strap is shown (heart rate, RMSSD, the heart's own arousal reading and its quality) but does not change the ranking until the user's own calibration (next section) gives it weight.\n\n",
        w.measured_r, w.weight, w.engine_r, w.engine_weight
    ));
    let pr = &r.personal;
    md.push_str(&format!(
        "## Per-user calibration\n\nThe population weight above is where every user starts. SiTunes cannot tell whether a given person's heart follows their mood (see \"Do users differ?\": it shows no spread to borrow from), and it measured heart rate at the wrist with per-user normalisation, not with a chest strap. So Attune lets each wearer's own evidence decide, and demands that it be strong (engine `heart::calibration`):\n\n- Whenever the user states a mood on the plane while the strap gives a trustworthy reading (quality >= 0.5: fresh, clean, baseline learned), the pair (heart arousal, stated arousal) is kept on the device. Statements less than a minute apart replace each other; at most 200 pairs are kept.\n- With fewer than 6 pairs the weight is the population weight ({:.2}). From 6 pairs on it is the user's own correlation at its one-sided 90% lower confidence bound: `weight = clamp(tanh(atanh(r) - 1.2816 / sqrt(n - 3)), 0, 1)`. A heart that agrees with a few statements by chance earns little or nothing; one that keeps agreeing earns weight as the pairs accumulate (r = 0.8 over 20 pairs gives 0.66).\n\n**The rule replayed on SiTunes.** Each of the {} users' plays in time order: before each play, the stated arousal is predicted from the previous statement fused with the heart (mean centred heart rate / {:.0} bpm, through the engine's `fuse`) at the weight the user's earlier pairs give; then the play's pair is added. Over {} predictions, {} were made with a weight above 0; after all plays {} of {} users have a weight above 0 (largest {:.3}, mean {:.4}).\n\n| prediction of the stated arousal | RMSE |\n|---|---:|\n| previous statement (no strap) | {:.4} |\n| fused with the heart at the personal weight | {:.4} |\n| fused with the heart at weight 1 for everyone | {:.4} |\n\nOn this data the rule does what it should: it keeps the heart out for people whose heart does not follow their mood (no harm), where trusting the strap blindly would make predictions worse. The test `heart_check::tests::personal_rule_protects_situnes_users` checks both. Whether a chest strap tracks its wearer better is exactly what the personal rule measures, per person, on the device.\n\n",
        w.engine_weight,
        pr.users,
        HR_SPAN_BPM,
        pr.predictions,
        pr.weighted_predictions,
        pr.users_with_weight,
        pr.users,
        pr.max_final_weight,
        pr.mean_final_weight,
        pr.rmse_stated,
        pr.rmse_personal,
        pr.rmse_full_weight
    ));
    md.push_str(&format!(
        "## The mapping\n\n```text\nhr      = (bpm - resting_bpm) / HR_SPAN_BPM              HR_SPAN_BPM = {:.0}\nhrv     = clamp(log2(resting_rmssd / rmssd), -1, 1)      RMSSD halved -> +1\narousal = clamp(0.75 hr + 0.25 hrv, -1, 1)               hr alone without RMSSD or its baseline\n```\n\n`HR_SPAN_BPM` follows the project's \"±2 SD -> ±1\" convention: the median within-user SD of the centred SiTunes heart-rate samples is {:.1} bpm, so 2 SD = {:.0} bpm (the test allows ±2 bpm). The HRV term and its 0.25 share are not checked against data (SiTunes has no RR intervals); its direction (lower RMSSD under stress) is the one reviewed by Kim et al., \"Stress and Heart Rate Variability: A Meta-Analysis and Review of the Literature\", Psychiatry Investigation 15(3), 2018.\n\n",
        w.engine_hr_span_bpm, r.hr_scale.median_within_user_sd_bpm, r.hr_scale.span_bpm
    ));
    md.push_str("Signal chain (engine `heart::signal`): readings outside 30-220 bpm or more than 25% from the last 10 s mean are rejected, as are RR intervals outside 300-2000 ms or more than 25% from the last accepted RR (reference dropped after 5 rejections in a row, so a real sustained change is followed); packets without skin contact are ignored whole. RMSSD uses the last 60 s of adjacent accepted beats (at least 20 differences). The resting baseline is the time-weighted mean over the first 2 minutes of clean data, then an exponential average that moves toward rest with a 10-minute and away from it with a 60-minute time constant; the app keeps it in local storage (`HeartBaseline::to_json`). Confidence is full until the last accepted reading is 5 s old and fades linearly to 0 at 15 s, when the estimate disappears.\n\n");
    if let Some(d) = &r.demo {
        md.push_str(&format!(
            "## Demo series through the engine\n\n`public/demo/rr-sample.txt` ({} beats, {:.1} min of RR intervals from the MIT-BIH Normal Sinus Rhythm Database via pyhrv, see `public/demo/SOURCE.md`) replayed as {} strap packets, exactly as the app's simulated strap does: {} beats ({:.1}%; mostly single beats more than 25% longer than the one before) and {} heart-rate readings rejected as artifacts. RMSSD of the raw series {:.1} ms, resting RMSSD learned by the engine {:.1} ms. Mean heart rate {:.1} bpm; learned resting heart rate {:.1} bpm (the baseline follows rest faster than exertion). Once the baseline is learned, the heart's arousal reading has 5th/50th/95th percentiles {:+.2} / {:+.2} / {:+.2}.\n\n",
            d.beats,
            d.minutes,
            d.packets,
            d.beats_rejected,
            100.0 * d.beats_rejected as f64 / d.beats as f64,
            d.readings_rejected,
            d.raw_rmssd_ms,
            d.resting_rmssd_ms,
            d.mean_bpm,
            d.resting_bpm,
            d.arousal_p5_p50_p95[0],
            d.arousal_p5_p50_p95[1],
            d.arousal_p5_p50_p95[2]
        ));
    }
    md.push_str("## Fuzzing\n\nThe packet parser and the whole signal chain are fuzzed with cargo-fuzz (`engine/fuzz`, targets `measurement` and `signal`); `scripts/fuzz.sh` runs them for a fixed number of executions and writes the counts and the outcome to [`fuzz.md`](fuzz.md).\n");
    md
}

#[cfg(test)]
mod tests {
    //! On the real SiTunes data in `../shared/data` (override with `ATTUNE_DATA`).
    use super::*;
    use crate::ingest::test_data_root as data_root;
    use std::sync::OnceLock;

    fn report() -> &'static HeartReport {
        static R: OnceLock<HeartReport> = OnceLock::new();
        R.get_or_init(|| {
            evaluate(&data_root(), None)
                .expect("SiTunes must be in ../shared/data/situnes (or ATTUNE_DATA)")
        })
    }

    #[test]
    fn stage2_loads_and_aligns() {
        let plays = load_stage2(&data_root()).unwrap();
        assert_eq!(plays.len(), 897);
        assert!(plays.iter().all(|p| p.wrist.len() == SAMPLES));
        assert!(plays.iter().all(|p| (-1.0..=1.0).contains(&p.pre_arousal)));
        assert_eq!(report().users, 30);
        // Records line up with users (each user's heart-rate values share an offset).
        assert!(
            report().hr_scale.user_offset_agreement > 0.85,
            "{:?}",
            report().hr_scale
        );
    }

    /// The engine's heart constants must say what the data says.
    #[test]
    fn heterogeneity_is_right_on_known_inputs() {
        // chi2(29) 2.5% quantile is 16.047; chi2(10) 97.5% is 20.483.
        assert!((chi2_quantile(29, -1.959_964) - 16.047).abs() < 0.05);
        assert!((chi2_quantile(10, 1.959_964) - 20.483).abs() < 0.1);
        // Identical studies: no spread at all.
        let same = heterogeneity(&[(0.2, 0.04); 10]);
        assert_eq!((same.q, same.tau_dl, same.tau_upper95), (0.0, 0.0, 0.0));
        // Spread far beyond the sampling noise (SD 0.1): tau near the true 0.5, bound above it.
        let wide: Vec<(f64, f64)> = (0..20)
            .map(|i| (if i % 2 == 0 { -0.5 } else { 0.5 }, 0.01))
            .collect();
        let h = heterogeneity(&wide);
        assert!(h.i2 > 0.9 && (h.tau_dl - 0.5).abs() < 0.05, "{h:?}");
        assert!(h.tau_upper95 > h.tau_dl, "{h:?}");
    }

    /// SiTunes users do not differ in how heart rate follows arousal, and the personal rule
    /// (engine `heart::calibration`) keeps the heart out for them: it never does worse than the
    /// stated mood alone by more than noise, while trusting the heart fully would.
    #[test]
    fn personal_rule_protects_situnes_users() {
        let r = report();
        let h = &r.per_user.heterogeneity;
        assert_eq!(h.df, 29);
        assert!(h.q < h.df as f64 && h.tau_upper95 < 0.05, "{h:?}");
        let p = &r.personal;
        assert_eq!(p.users, 30);
        assert_eq!(p.predictions, 897 - 30);
        assert!(p.rmse_personal <= p.rmse_stated + 0.002, "{p:?}");
        assert!(p.rmse_full_weight > p.rmse_stated + 0.02, "{p:?}");
        assert!(p.mean_final_weight < 0.05, "{p:?}");
    }

    #[test]
    fn engine_constants_match_the_data() {
        let r = report();
        let w = &r.weight;
        assert!(
            (w.engine_r - w.measured_r).abs() <= 0.01,
            "HEART_AROUSAL_R = {} but SiTunes gives within-user r = {:.4}: update engine/src/heart/signal.rs and public/report/heart.md",
            w.engine_r,
            w.measured_r
        );
        assert!(
            (w.engine_weight - w.weight).abs() <= 0.01,
            "HEART_AROUSAL_WEIGHT = {} but the data gives {:.4}",
            w.engine_weight,
            w.weight
        );
        assert!(
            (w.engine_hr_span_bpm - r.hr_scale.span_bpm).abs() <= 2.0,
            "HR_SPAN_BPM = {} but 2 x median within-user SD = {}",
            w.engine_hr_span_bpm,
            r.hr_scale.span_bpm
        );
    }

    #[test]
    fn intervals_contain_their_estimates() {
        let r = report();
        for c in std::iter::once(&r.primary).chain(&r.secondary) {
            assert!(c.n > 300 && c.users >= 25, "{c:?}");
            assert!(c.ci_fisher[0] < c.r && c.r < c.ci_fisher[1], "{c:?}");
            assert!(
                c.ci_bootstrap_users[0] <= c.r && c.r <= c.ci_bootstrap_users[1],
                "{c:?}"
            );
            assert!((0.0..=1.0).contains(&c.p_fisher), "{c:?}");
        }
    }

    #[test]
    fn statistics_are_right_on_known_inputs() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&x, &[5.0, 4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&x, &[1.0; 5]), None);
        // A monotone but non-linear relation: Spearman 1, Pearson below 1.
        let y = [1.0, 4.0, 9.0, 16.0, 100.0];
        assert!((spearman(&x, &y).unwrap() - 1.0).abs() < 1e-12);
        assert!(pearson(&x, &y).unwrap() < 0.95);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        // n = 103: se = 1/10, so the interval is tanh(±0.196).
        let (c, p) = fisher(0.0, 103);
        assert!(
            (c[0] + 0.196f64.tanh()).abs() < 1e-9 && (c[1] - 0.196f64.tanh()).abs() < 1e-9,
            "{c:?}"
        );
        assert!((p - 1.0).abs() < 1e-6);
        // Residualising on a control removes exactly its linear part.
        let ctrl = vec![vec![-2.0, -1.0, 0.0, 1.0, 2.0]];
        let res = residualise(&[-4.0, -1.0, 0.0, 1.0, 4.0], &ctrl);
        assert!(
            res.iter()
                .zip(&ctrl[0])
                .map(|(a, b)| a * b)
                .sum::<f64>()
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn demo_series_replays_cleanly() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/demo/rr-sample.txt");
        let d = demo_replay(&path).unwrap();
        assert_eq!(d.beats, 4684);
        assert!((d.beats_rejected as f64) < 0.03 * d.beats as f64, "{d:?}");
        assert!((d.resting_bpm - d.mean_bpm).abs() < 10.0, "{d:?}");
        assert!(d
            .arousal_p5_p50_p95
            .iter()
            .all(|a| (-1.0..=1.0).contains(a)));
    }
}
