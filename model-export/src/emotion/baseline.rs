//! Honest baselines for the emotion CNN: the majority class, and a multinomial logistic regression on
//! summary audio features (loudness, brightness, onset density, tempo, chroma and mode), with its L2
//! strength tuned on the validation songs.

use attune_engine::audio::mel::{self, LogMel};

/// Summary features of one clip, from its log-mel (the same front end as the CNN).
pub fn summary_features(m: &LogMel) -> Vec<f32> {
    let (bands, frames) = (m.n_mels(), m.frames());
    let centers = band_centers_hz();
    // Per frame: loudness (dB of the summed power), spectral centroid (Hz), onset strength.
    let mut loud = Vec::with_capacity(frames);
    let mut centroid = Vec::with_capacity(frames);
    let mut flux = Vec::with_capacity(frames);
    for t in 0..frames {
        let (mut p, mut pc) = (0.0f64, 0.0f64);
        let mut f = 0.0f32;
        for b in 0..bands {
            let pw = 10f64.powf(f64::from(m.get(b, t)) / 10.0);
            p += pw;
            pc += pw * centers[b];
            if t > 0 {
                f += (m.get(b, t) - m.get(b, t - 1)).max(0.0);
            }
        }
        loud.push(10.0 * (p.max(1e-10)).log10() as f32);
        centroid.push((pc / p.max(1e-20)) as f32);
        flux.push(f / bands as f32);
    }
    let mut out = Vec::new();
    for series in [&loud, &centroid, &flux] {
        let (mean, sd) = mean_sd(series);
        out.extend([mean, sd, percentile(series, 0.1), percentile(series, 0.9)]);
    }
    let (bpm, clarity) = tempo(&flux);
    out.extend([bpm, clarity]);
    let chroma = chroma(m, &centers);
    let (major, minor) = mode_scores(&chroma);
    out.extend(chroma);
    out.extend([major, minor, major - minor]);
    // The mel spectrum's shape: mean and spread of every band.
    for b in 0..bands {
        let row: Vec<f32> = (0..frames).map(|t| m.get(b, t)).collect();
        let (mean, sd) = mean_sd(&row);
        out.extend([mean, sd]);
    }
    out
}

fn band_centers_hz() -> Vec<f64> {
    let lo = mel::hz_to_mel(mel::F_MIN);
    let hi = mel::hz_to_mel(mel::F_MAX);
    (0..mel::N_MELS)
        .map(|b| mel::mel_to_hz(lo + (hi - lo) * (b as f64 + 1.0) / (mel::N_MELS as f64 + 1.0)))
        .collect()
}

fn mean_sd(x: &[f32]) -> (f32, f32) {
    let n = x.len().max(1) as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, var.sqrt())
}

fn percentile(x: &[f32], q: f32) -> f32 {
    let mut s = x.to_vec();
    s.sort_by(f32::total_cmp);
    s.get(((s.len() as f32 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// Tempo (BPM) and pulse clarity from the onset envelope's autocorrelation, 40-200 BPM, weighted
/// by librosa's log-normal tempo prior (centre 120 BPM, one octave wide) so that multiples of the
/// beat period do not win.
fn tempo(onset: &[f32]) -> (f32, f32) {
    let fps = mel::SAMPLE_RATE as f32 / mel::HOP as f32;
    let (mean, _) = mean_sd(onset);
    let x: Vec<f32> = onset.iter().map(|v| v - mean).collect();
    let r0: f32 = x.iter().map(|v| v * v).sum::<f32>().max(1e-9);
    let (lo, hi) = ((fps * 60.0 / 200.0) as usize, (fps * 60.0 / 40.0) as usize);
    let mut best = (0.0f32, lo.max(1));
    for lag in lo.max(1)..=hi.min(x.len().saturating_sub(1)) {
        let r: f32 = x[lag..].iter().zip(&x).map(|(a, b)| a * b).sum::<f32>() / r0;
        let octaves = (60.0 * fps / lag as f32 / 120.0).log2();
        let weighted = r * (-0.5 * octaves * octaves).exp();
        if weighted > best.0 {
            best = (weighted, lag);
        }
    }
    (60.0 * fps / best.1 as f32, best.0)
}

/// Energy per pitch class from the bands between 200 Hz and 4 kHz (where the 96-band mel resolves
/// neighbouring semitones roughly), normalised to sum 1.
fn chroma(m: &LogMel, centers: &[f64]) -> Vec<f32> {
    let mut c = [0.0f64; 12];
    for (b, &hz) in centers.iter().enumerate() {
        if !(200.0..=4000.0).contains(&hz) {
            continue;
        }
        let pc = ((12.0 * (hz / 440.0).log2()).round() as i64 + 9).rem_euclid(12) as usize;
        for t in 0..m.frames() {
            c[pc] += 10f64.powf(f64::from(m.get(b, t)) / 10.0);
        }
    }
    let s: f64 = c.iter().sum::<f64>().max(1e-20);
    c.iter().map(|v| (v / s) as f32).collect()
}

/// Best correlation of the chroma with the Krumhansl-Kessler major and minor key profiles.
fn mode_scores(chroma: &[f32]) -> (f32, f32) {
    const MAJOR: [f32; 12] = [
        6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
    ];
    const MINOR: [f32; 12] = [
        6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
    ];
    let best = |profile: &[f32; 12]| {
        (0..12)
            .map(|k| {
                pearson(
                    chroma,
                    &(0..12)
                        .map(|i| profile[(i + 12 - k) % 12])
                        .collect::<Vec<_>>(),
                )
            })
            .fold(f32::NEG_INFINITY, f32::max)
    };
    (best(&MAJOR), best(&MINOR))
}

fn pearson(a: &[f32], b: &[f32]) -> f32 {
    let (ma, sa) = mean_sd(a);
    let (mb, sb) = mean_sd(b);
    let cov = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f32>()
        / a.len() as f32;
    cov / (sa * sb).max(1e-9)
}

/// Multinomial logistic regression with L2, on standardised features.
#[derive(Debug, Clone)]
pub struct Logistic {
    mean: Vec<f32>,
    sd: Vec<f32>,
    /// `[classes][features + 1]` (bias last).
    w: Vec<Vec<f32>>,
}

impl Logistic {
    /// Fits `classes`-way logistic regression by full-batch gradient descent (Adam, 1500 steps).
    pub fn fit(x: &[Vec<f32>], y: &[usize], classes: usize, l2: f32) -> Logistic {
        let d = x[0].len();
        let mut mean = vec![0.0; d];
        let mut sd = vec![0.0; d];
        for j in 0..d {
            let col: Vec<f32> = x.iter().map(|r| r[j]).collect();
            let (m, s) = mean_sd(&col);
            mean[j] = m;
            sd[j] = if s > 1e-6 { s } else { 1.0 };
        }
        let z: Vec<Vec<f32>> = x
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(j, v)| (v - mean[j]) / sd[j])
                    .chain([1.0])
                    .collect()
            })
            .collect();
        let mut w = vec![vec![0.0f32; d + 1]; classes];
        let (mut m1, mut m2) = (w.clone(), w.clone());
        let n = z.len() as f32;
        for step in 1..=1500 {
            let mut g = vec![vec![0.0f32; d + 1]; classes];
            for (r, &yi) in z.iter().zip(y) {
                let p = softmax(&w.iter().map(|wc| dot(wc, r)).collect::<Vec<_>>());
                for c in 0..classes {
                    let e = p[c] - if c == yi { 1.0 } else { 0.0 };
                    for j in 0..=d {
                        g[c][j] += e * r[j] / n;
                    }
                }
            }
            for c in 0..classes {
                for j in 0..=d {
                    let gj = g[c][j] + if j < d { l2 * w[c][j] } else { 0.0 };
                    m1[c][j] = 0.9 * m1[c][j] + 0.1 * gj;
                    m2[c][j] = 0.999 * m2[c][j] + 0.001 * gj * gj;
                    let mh = m1[c][j] / (1.0 - 0.9f32.powi(step));
                    let vh = m2[c][j] / (1.0 - 0.999f32.powi(step));
                    w[c][j] -= 0.01 * mh / (vh.sqrt() + 1e-8);
                }
            }
        }
        Logistic { mean, sd, w }
    }

    /// Class probabilities for one example.
    pub fn predict(&self, x: &[f32]) -> Vec<f32> {
        let z: Vec<f32> = x
            .iter()
            .enumerate()
            .map(|(j, v)| (v - self.mean[j]) / self.sd[j])
            .chain([1.0])
            .collect();
        softmax(&self.w.iter().map(|wc| dot(wc, &z)).collect::<Vec<_>>())
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn softmax(z: &[f32]) -> Vec<f32> {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_regression_separates_separable_classes() {
        let x: Vec<Vec<f32>> = (0..40).map(|i| vec![i as f32, (i % 3) as f32]).collect();
        let y: Vec<usize> = (0..40).map(|i| usize::from(i >= 20)).collect();
        let m = Logistic::fit(&x, &y, 2, 1e-4);
        assert!(m.predict(&[2.0, 0.0])[0] > 0.9);
        assert!(m.predict(&[37.0, 0.0])[1] > 0.9);
    }

    #[test]
    fn a_steady_click_track_has_its_tempo() {
        // An onset every 22 frames (0.51 s, 117 BPM).
        let fps = mel::SAMPLE_RATE as f32 / mel::HOP as f32;
        let onset: Vec<f32> = (0..1000)
            .map(|i| if i % 22 == 0 { 1.0 } else { 0.0 })
            .collect();
        let (bpm, clarity) = tempo(&onset);
        assert!((bpm - 60.0 * fps / 22.0).abs() < 0.5, "{bpm}");
        assert!(clarity > 0.5, "{clarity}");
    }
}
