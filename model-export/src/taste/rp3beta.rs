//! RP3beta (Paudel et al., TiiS 2017; the strong graph baseline of Dacrema et al., RecSys 2019):
//! item-to-item transition probabilities of a 3-step random walk user -> item -> user -> item,
//! each step's probabilities raised to `alpha`, divided by the target's popularity to the power
//! `beta`, keeping each item's `k` strongest neighbours. A new user's scores are the sum of the
//! liked items' rows.

use super::Rows;
use attune_engine::ArtistIdx;

/// Hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rp3Config {
    /// Exponent of the transition probabilities.
    pub alpha: f64,
    /// Popularity penalty exponent.
    pub beta: f64,
    /// Neighbours kept per item.
    pub k: usize,
}

/// Sparse item-item weights.
#[derive(Debug, Clone)]
pub struct Rp3beta {
    items: usize,
    rows: Vec<Vec<(u32, f32)>>,
}

/// `W_ij = Σ_u (x_ui / d_i)^α (x_uj / d_u)^α` (dense, row-major), for a given `alpha`.
pub fn walk(rows: &Rows, items: usize, alpha: f64) -> Vec<f64> {
    let mut item_deg = vec![0.0; items];
    for r in rows {
        for &(i, x) in r {
            item_deg[i as usize] += x;
        }
    }
    let mut w = vec![0.0; items * items];
    for r in rows {
        let user_deg: f64 = r.iter().map(|e| e.1).sum();
        for &(i, xi) in r {
            let a = (xi / item_deg[i as usize]).powf(alpha);
            let row = &mut w[i as usize * items..(i as usize + 1) * items];
            for &(j, xj) in r {
                row[j as usize] += a * (xj / user_deg).powf(alpha);
            }
        }
    }
    w
}

impl Rp3beta {
    /// From the walk matrix of [`walk`] and the items' training popularity (listeners).
    pub fn from_walk(w: &[f64], popularity: &[f64], config: Rp3Config) -> Rp3beta {
        let items = popularity.len();
        let rows = (0..items)
            .map(|i| {
                let mut r: Vec<(u32, f32)> = (0..items)
                    .filter(|&j| j != i && w[i * items + j] > 0.0)
                    .map(|j| {
                        let s = w[i * items + j] / popularity[j].max(1.0).powf(config.beta);
                        (j as u32, s as f32)
                    })
                    .collect();
                r.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                r.truncate(config.k);
                r
            })
            .collect();
        Rp3beta { items, rows }
    }

    /// Raw scores of every artist for these likes.
    pub fn scores(&self, likes: &[ArtistIdx]) -> Vec<f32> {
        let mut s = vec![0f32; self.items];
        for a in likes {
            if let Some(r) = self.rows.get(a.0 as usize) {
                for &(j, w) in r {
                    s[j as usize] += w;
                }
            }
        }
        s
    }
}

/// Listeners per item in the training rows.
pub fn popularity(rows: &Rows, items: usize) -> Vec<f64> {
    let mut p = vec![0.0; items];
    for r in rows {
        for &(i, _) in r {
            p[i as usize] += 1.0;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_to_co_listened_artists() {
        let rows: Rows = (0..20)
            .map(|u| {
                if u % 2 == 0 {
                    vec![(0, 1.0), (1, 1.0)]
                } else {
                    vec![(2, 1.0), (3, 1.0)]
                }
            })
            .collect();
        let w = walk(&rows, 4, 1.0);
        let m = Rp3beta::from_walk(
            &w,
            &popularity(&rows, 4),
            Rp3Config {
                alpha: 1.0,
                beta: 0.3,
                k: 10,
            },
        );
        let s = m.scores(&[ArtistIdx(0)]);
        assert!(s[1] > 0.0 && s[2] == 0.0 && s[0] == 0.0, "{s:?}");
    }
}
