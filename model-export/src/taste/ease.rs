//! EASE (Steck, WWW 2019) and EDLAE (Steck, NeurIPS 2020): a closed-form item-item model
//! `B = argmin |X - XB|² + |Λ^½ B|²` with `diag(B) = 0`, so
//! `P = (XᵀX + Λ)⁻¹`, `B_ij = -P_ij / P_jj` (i ≠ j). EASE uses `Λ = λI`; EDLAE adds the
//! penalty that dropout denoising with drop probability `p` implies,
//! `Λ = λI + p/(1-p)·diag(XᵀX)`, which shrinks the weights of popular items. A new user's scores
//! are the sum of the rows of the liked items: no fold-in step at all.

use super::{gram, Rows};
use attune_engine::ArtistIdx;
use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

/// Hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EaseConfig {
    /// L2 penalty λ.
    pub lambda: f64,
    /// Dropout probability p of the denoising penalty (0: plain EASE).
    pub dropout: f64,
}

/// Dense item-item weights (`items x items`, row-major f32; row i = what liking i adds).
#[derive(Debug, Clone)]
pub struct Ease {
    items: usize,
    b: Vec<f32>,
}

impl Ease {
    /// Fits on the training rows over `items` artists.
    pub fn fit(rows: &Rows, items: usize, config: EaseConfig) -> Ease {
        let g = gram(rows, items);
        Ease::fit_gram(&g, items, config)
    }

    /// Fits from a precomputed `XᵀX` (shared across a λ grid).
    pub fn fit_gram(g: &[f64], items: usize, config: EaseConfig) -> Ease {
        let ratio = if config.dropout > 0.0 {
            config.dropout / (1.0 - config.dropout)
        } else {
            0.0
        };
        let a = Mat::from_fn(items, items, |i, j| {
            let x = g[i * items + j];
            if i == j {
                x + config.lambda + ratio * x
            } else {
                x
            }
        });
        let p = a
            .llt(Side::Lower)
            .expect("XᵀX + Λ is positive definite for λ > 0")
            .inverse();
        let mut b = vec![0f32; items * items];
        for i in 0..items {
            for j in 0..items {
                if i != j {
                    b[i * items + j] = (-p[(i, j)] / p[(j, j)]) as f32;
                }
            }
        }
        Ease { items, b }
    }

    /// Number of items.
    pub fn items(&self) -> usize {
        self.items
    }

    /// Row `i` of B.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.b[i * self.items..(i + 1) * self.items]
    }

    /// Raw scores of every artist for these likes (the sum of their rows).
    pub fn scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        let mut s = vec![0f32; self.items];
        for a in likes {
            for (x, w) in s.iter_mut().zip(self.row(a.0 as usize)) {
                *x += w;
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_listened_artists_score_higher_and_the_diagonal_is_zero() {
        let rows = crate::taste::tests::two_groups();
        for dropout in [0.0, 0.5] {
            let m = Ease::fit(
                &rows,
                6,
                EaseConfig {
                    lambda: 1.0,
                    dropout,
                },
            );
            assert!((0..6).all(|i| m.row(i)[i] == 0.0));
            let s = m.scores(&[ArtistIdx(0)]);
            assert!(s[1] > s[4] && s[2] > s[5], "{s:?}");
        }
    }

    #[test]
    fn matches_the_closed_form_on_a_small_matrix() {
        // X with 3 items; B solves (G + λI) B = G - diag-correction; check the defining
        // property: ((G + Λ) B)_ij = G_ij for i ≠ j... via the Lagrangian: (G+Λ)B = G - Λ̃ with
        // Λ̃ diagonal, i.e. off-diagonal entries of (G+Λ)(I - B) vanish.
        let rows: Rows = vec![
            vec![(0, 1.0), (1, 1.0)],
            vec![(1, 1.0), (2, 1.0)],
            vec![(0, 1.0), (1, 1.0), (2, 1.0)],
            vec![(0, 1.0)],
        ];
        let cfg = EaseConfig {
            lambda: 0.5,
            dropout: 0.25,
        };
        let m = Ease::fit(&rows, 3, cfg);
        let g = gram(&rows, 3);
        let lam = |i: usize| cfg.lambda + cfg.dropout / (1.0 - cfg.dropout) * g[i * 3 + i];
        for i in 0..3 {
            for j in 0..3 {
                if i == j {
                    continue;
                }
                // ((G + Λ)(I - B))_ij
                let v: f64 = (0..3)
                    .map(|k| {
                        let a = g[i * 3 + k] + if i == k { lam(i) } else { 0.0 };
                        let ib = if k == j { 1.0 } else { 0.0 } - f64::from(m.row(k)[j]);
                        a * ib
                    })
                    .sum();
                assert!(v.abs() < 1e-5, "({i},{j}) = {v}");
            }
        }
    }
}
