//! Implicit ALS (Hu, Koren & Volinsky, ICDM 2008) trained with the conjugate-gradient solver of
//! Takács, Pilászy & Tikk (RecSys 2011), the default of the `implicit` library: each half-step
//! takes a few CG steps from the previous factors instead of a k x k solve per row, so 512
//! factors train in about a minute on two cores. Observed entries have confidence
//! `1 + alpha·x` (x from [`Input`]), all others confidence 1 and preference 0. A new user is
//! folded in exactly (one k x k Cholesky solve) from binary likes, as in the browser.

use super::{Input, Rows};
use crate::rng::Rng;
use attune_engine::ArtistIdx;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

/// CG steps per half-iteration (the `implicit` library's default).
const CG_STEPS: usize = 3;

/// Hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IalsConfig {
    /// Factors.
    pub k: usize,
    /// L2 penalty.
    pub lambda: f64,
    /// Extra confidence per unit of entry.
    pub alpha: f64,
    /// Alternations.
    pub iterations: usize,
    /// Training entries.
    pub input: Input,
}

/// How the L2 penalty grows with a row's observed entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Penalty {
    /// `λ` for every row (Hu et al.; the shipped model).
    Constant,
    /// `λ · n` for a row with `n` observed entries (ALS-WR, Zhou et al. 2008): Spark MLlib's
    /// objective, trained here for the parity check of its factors.
    PerEntry,
}

impl Penalty {
    /// Each row's penalty.
    fn of(self, lambda: f64, rows: &Rows) -> Vec<f64> {
        rows.iter()
            .map(|r| match self {
                Penalty::Constant => lambda,
                Penalty::PerEntry => lambda * r.len() as f64,
            })
            .collect()
    }
}

/// Fitted item factors (`k x items`, one column per item) and their Gram matrix.
#[derive(Debug, Clone)]
pub struct IalsCg {
    y: Mat<f64>,
    gram: Mat<f64>,
    /// The configuration.
    pub config: IalsConfig,
}

/// `A v` for every column: `(G + λ_u I) v_u + α Σ_{i∈u} x_ui (y_i·v_u) y_i`.
fn apply(
    g: &Mat<f64>,
    v: &Mat<f64>,
    other: &Mat<f64>,
    rows: &Rows,
    lambda: &[f64],
    cfg: &IalsConfig,
) -> Mat<f64> {
    let mut out = g * v;
    for (u, r) in rows.iter().enumerate() {
        let vu = v.col_as_slice(u).to_vec();
        let o = out.col_as_slice_mut(u);
        for (a, b) in o.iter_mut().zip(&vu) {
            *a += lambda[u] * b;
        }
        for &(i, x) in r {
            let yi = other.col_as_slice(i as usize);
            let d = cfg.alpha * x * dot(yi, &vu);
            for (a, b) in o.iter_mut().zip(yi) {
                *a += d * b;
            }
        }
    }
    out
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// A few CG steps on every row of `target` against the fixed `other` side.
fn cg_update(
    target: &mut Mat<f64>,
    other: &Mat<f64>,
    rows: &Rows,
    lambda: &[f64],
    cfg: &IalsConfig,
) {
    let g = other * other.transpose();
    let ax = apply(&g, target, other, rows, lambda, cfg);
    let k = cfg.k;
    let mut r = Mat::<f64>::zeros(k, rows.len());
    for (u, row) in rows.iter().enumerate() {
        let ru = r.col_as_slice_mut(u);
        for &(i, x) in row {
            for (a, b) in ru.iter_mut().zip(other.col_as_slice(i as usize)) {
                *a += (1.0 + cfg.alpha * x) * b;
            }
        }
        for (a, b) in ru.iter_mut().zip(ax.col_as_slice(u)) {
            *a -= b;
        }
    }
    let mut p = r.clone();
    let mut rs: Vec<f64> = (0..rows.len())
        .map(|u| dot(r.col_as_slice(u), r.col_as_slice(u)))
        .collect();
    for _ in 0..CG_STEPS {
        let ap = apply(&g, &p, other, rows, lambda, cfg);
        for (u, rs_u) in rs.iter_mut().enumerate() {
            if *rs_u < 1e-20 {
                continue;
            }
            let pu = p.col_as_slice(u).to_vec();
            let apu = ap.col_as_slice(u);
            let a = *rs_u / dot(&pu, apu);
            for (t, q) in target.col_as_slice_mut(u).iter_mut().zip(&pu) {
                *t += a * q;
            }
            let ru = r.col_as_slice_mut(u);
            for (x, q) in ru.iter_mut().zip(apu) {
                *x -= a * q;
            }
            let rs_new = dot(ru, ru);
            let ru = ru.to_vec();
            for (q, x) in p.col_as_slice_mut(u).iter_mut().zip(&ru) {
                *q = x + rs_new / *rs_u * *q;
            }
            *rs_u = rs_new;
        }
    }
}

impl IalsCg {
    /// Fits on training rows over `items` artists.
    pub fn fit(rows: &Rows, items: usize, config: IalsConfig, seed: u64) -> IalsCg {
        IalsCg::fit_with(rows, items, config, Penalty::Constant, seed)
    }

    /// Fits with the given penalty rule (users and items alike).
    pub fn fit_with(
        rows: &Rows,
        items: usize,
        config: IalsConfig,
        penalty: Penalty,
        seed: u64,
    ) -> IalsCg {
        let k = config.k;
        let mut rng = Rng::new(seed);
        let mut y = Mat::from_fn(k, items, |_, _| f64::from(rng.normal(0.01)));
        let mut x = Mat::<f64>::zeros(k, rows.len());
        let mut by_item: Rows = vec![Vec::new(); items];
        for (u, r) in rows.iter().enumerate() {
            for &(i, v) in r {
                by_item[i as usize].push((u as u32, v));
            }
        }
        let (user_lambda, item_lambda) = (
            penalty.of(config.lambda, rows),
            penalty.of(config.lambda, &by_item),
        );
        for _ in 0..config.iterations {
            cg_update(&mut x, &y, rows, &user_lambda, &config);
            cg_update(&mut y, &x, &by_item, &item_lambda, &config);
        }
        let gram = &y * y.transpose();
        IalsCg { y, gram, config }
    }

    /// The exactly folded-in user vector for binary likes: `(G + λI + α Σ y yᵀ)⁻¹ (1+α) Σ y`.
    pub fn fold_in(&self, likes: &[ArtistIdx]) -> Vec<f64> {
        let k = self.config.k;
        let alpha = self.config.alpha;
        let mut a = self.gram.clone();
        let mut b = Mat::<f64>::zeros(k, 1);
        for l in likes {
            let yi = self.y.col_as_slice(l.0 as usize);
            for p in 0..k {
                b[(p, 0)] += (1.0 + alpha) * yi[p];
                for q in 0..k {
                    a[(q, p)] += alpha * yi[q] * yi[p];
                }
            }
        }
        for p in 0..k {
            a[(p, p)] += self.config.lambda;
        }
        let x = a.llt(Side::Lower).expect("positive definite").solve(&b);
        (0..k).map(|p| x[(p, 0)]).collect()
    }

    /// Raw scores of every artist for these likes.
    pub fn scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        let x = self.fold_in(likes);
        (0..self.y.ncols())
            .map(|i| dot(self.y.col_as_slice(i), &x) as f32)
            .collect()
    }

    /// Item factors, one row per item (for export).
    pub fn item_factors(&self) -> Vec<Vec<f32>> {
        (0..self.y.ncols())
            .map(|i| self.y.col_as_slice(i).iter().map(|&v| v as f32).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_listened_artists_score_higher() {
        let rows = crate::taste::tests::two_groups();
        let cfg = IalsConfig {
            k: 4,
            lambda: 0.1,
            alpha: 10.0,
            iterations: 10,
            input: Input::Binary,
        };
        let m = IalsCg::fit(&rows, 6, cfg, 3);
        let s = m.scores(&[ArtistIdx(0)]);
        assert!(s[1] > s[4] && s[2] > s[5], "{s:?}");
    }
}
