//! Implicit ALS (Hu, Koren & Volinsky, ICDM 2008), a matrix-factorisation baseline for the
//! evaluation: every (user, artist) pair counts, an observed one with confidence `1 + alpha`
//! (binary, because a browser user's likes have no play counts), the rest with confidence 1 and
//! preference 0. A new user is folded in by the same least-squares step as in training, so it
//! needs no retraining, like Attune's SVD++ fold-in.

use crate::linalg::solve;
use crate::rng::Rng;
use attune_engine::rank::standardise;
use attune_engine::ArtistIdx;

/// Hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IalsConfig {
    /// Factors.
    pub k: usize,
    /// L2 penalty.
    pub lambda: f64,
    /// Extra confidence of an observed pair.
    pub alpha: f64,
    /// Alternations.
    pub iterations: usize,
}

/// Fitted item factors.
#[derive(Debug, Clone)]
pub struct Ials {
    /// `items x k`, row-major.
    y: Vec<f64>,
    /// `Yᵀ Y`.
    gram: Vec<Vec<f64>>,
    /// The configuration.
    pub config: IalsConfig,
}

fn gram(f: &[f64], k: usize) -> Vec<Vec<f64>> {
    let mut g = vec![vec![0.0; k]; k];
    for row in f.chunks_exact(k) {
        for a in 0..k {
            for b in 0..k {
                g[a][b] += row[a] * row[b];
            }
        }
    }
    g
}

/// One side's least-squares row: `(G + alpha Σ f_j f_jᵀ + lambda I)⁻¹ (1 + alpha) Σ f_j`.
fn solve_row(other: &[f64], g: &[Vec<f64>], observed: &[u32], cfg: &IalsConfig) -> Vec<f64> {
    let k = cfg.k;
    let mut a = g.to_vec();
    let mut b = vec![0.0; k];
    for &j in observed {
        let f = &other[j as usize * k..(j as usize + 1) * k];
        for p in 0..k {
            b[p] += (1.0 + cfg.alpha) * f[p];
            for q in 0..k {
                a[p][q] += cfg.alpha * f[p] * f[q];
            }
        }
    }
    for (p, row) in a.iter_mut().enumerate() {
        row[p] += cfg.lambda;
    }
    solve(a, b)
}

impl Ials {
    /// Fits on training rows (each user's catalog artists) over `items` artists.
    pub fn fit(rows: &[Vec<u32>], items: usize, cfg: IalsConfig, seed: u64) -> Ials {
        let k = cfg.k;
        let mut rng = Rng::new(seed);
        let mut y: Vec<f64> = (0..items * k).map(|_| f64::from(rng.normal(0.1))).collect();
        let mut by_item: Vec<Vec<u32>> = vec![Vec::new(); items];
        for (u, r) in rows.iter().enumerate() {
            for &i in r {
                by_item[i as usize].push(u as u32);
            }
        }
        let mut x = vec![0.0; rows.len() * k];
        for _ in 0..cfg.iterations {
            let gy = gram(&y, k);
            for (u, r) in rows.iter().enumerate() {
                x[u * k..(u + 1) * k].copy_from_slice(&solve_row(&y, &gy, r, &cfg));
            }
            let gx = gram(&x, k);
            for (i, users) in by_item.iter().enumerate() {
                y[i * k..(i + 1) * k].copy_from_slice(&solve_row(&x, &gx, users, &cfg));
            }
        }
        let gram = gram(&y, k);
        Ials {
            y,
            gram,
            config: cfg,
        }
    }

    /// Standardised scores of every artist for a user with `likes` (folded in).
    pub fn scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        let k = self.config.k;
        let observed: Vec<u32> = likes.iter().map(|a| a.0).collect();
        let x = solve_row(&self.y, &self.gram, &observed, &self.config);
        let s: Vec<f32> = self
            .y
            .chunks_exact(k)
            .map(|f| f.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() as f32)
            .collect();
        standardise(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_listened_artists_score_higher() {
        // Two taste groups: {0, 1, 2} and {3, 4, 5}.
        let rows: Vec<Vec<u32>> = (0..40)
            .map(|u| {
                if u % 2 == 0 {
                    vec![0, 1, 2]
                } else {
                    vec![3, 4, 5]
                }
            })
            .collect();
        let cfg = IalsConfig {
            k: 4,
            lambda: 0.1,
            alpha: 10.0,
            iterations: 8,
        };
        let m = Ials::fit(&rows, 6, cfg, 3);
        let s = m.scores(&[ArtistIdx(0)]);
        assert!(s[1] > s[4] && s[2] > s[5], "{s:?}");
    }
}
