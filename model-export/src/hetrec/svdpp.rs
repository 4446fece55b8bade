//! SVD++ training for implicit feedback (see `attune_engine::cf` for the model and the fold-in).

use crate::rng::Rng;
use attune_engine::cf::{dot, CfModel, FoldInParams};
use attune_engine::AssetError;
use serde::{Deserialize, Serialize};

/// Training hyper-parameters (tuned by `model-export tune`, stored in `model-export/config/`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SvdppConfig {
    /// Latent factors.
    pub k: usize,
    /// Passes over the users.
    pub epochs: usize,
    /// Initial SGD step size (decays by `lr_decay` each epoch).
    pub lr: f32,
    /// Multiplicative step decay per epoch.
    pub lr_decay: f32,
    /// Per-sample L2 on factors (also the fold-in's `lambda`).
    pub reg: f32,
    /// Per-sample L2 on biases.
    pub reg_bias: f32,
    /// Confidence `c = 1 + alpha·ln(1 + plays/eps)`.
    pub alpha: f32,
    /// Play-count scale of the confidence.
    pub eps: f32,
    /// Unobserved items sampled per observed one each epoch.
    pub negative_ratio: usize,
    /// Standard deviation of the initial factors.
    pub init_sd: f32,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for SvdppConfig {
    fn default() -> Self {
        SvdppConfig {
            k: 48,
            epochs: 30,
            lr: 0.01,
            lr_decay: 0.95,
            reg: 0.01,
            reg_bias: 0.001,
            alpha: 1.0,
            eps: 10.0,
            negative_ratio: 4,
            init_sd: 0.05,
            seed: 2011,
        }
    }
}

impl SvdppConfig {
    /// Confidence of an observed pair with `plays` plays.
    pub fn confidence(&self, plays: u64) -> f32 {
        1.0 + self.alpha * (1.0 + plays as f32 / self.eps).ln()
    }
}

/// One training user: (item index, play count), sorted by item, no duplicates.
pub type UserItems = Vec<(u32, u64)>;

/// Trains the item side of SVD++ on `users` over `n_items` items.
pub fn train(
    n_items: usize,
    users: &[UserItems],
    cfg: &SvdppConfig,
) -> Result<CfModel, AssetError> {
    let k = cfg.k;
    let mut rng = Rng::new(cfg.seed);
    let mut q: Vec<f32> = (0..n_items * k).map(|_| rng.normal(cfg.init_sd)).collect();
    let mut y: Vec<f32> = (0..n_items * k).map(|_| rng.normal(cfg.init_sd)).collect();
    let mut p: Vec<f32> = (0..users.len() * k)
        .map(|_| rng.normal(cfg.init_sd))
        .collect();
    let mut b_item = vec![0.0f32; n_items];
    let mut b_user = vec![0.0f32; users.len()];
    let mu = 1.0 / (1.0 + cfg.negative_ratio as f32);
    let mut order: Vec<usize> = (0..users.len()).collect();
    let mut samples: Vec<(usize, f32, f32)> = Vec::new();
    let mut z = vec![0.0f32; k];
    let mut pu_eff = vec![0.0f32; k];
    let mut grad_z = vec![0.0f32; k];
    let mut lr = cfg.lr;
    for _epoch in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for &u in &order {
            let items = &users[u];
            if items.is_empty() {
                continue;
            }
            let norm = 1.0 / (items.len() as f32).sqrt();
            z.iter_mut().for_each(|x| *x = 0.0);
            for &(j, _) in items {
                let j = j as usize;
                for f in 0..k {
                    z[f] += y[j * k + f];
                }
            }
            z.iter_mut().for_each(|x| *x *= norm);
            samples.clear();
            for &(i, plays) in items {
                samples.push((i as usize, 1.0, cfg.confidence(plays)));
            }
            for _ in 0..items.len() * cfg.negative_ratio {
                let j = rng.below(n_items);
                if items.binary_search_by_key(&(j as u32), |x| x.0).is_err() {
                    samples.push((j, 0.0, 1.0));
                }
            }
            rng.shuffle(&mut samples);
            grad_z.iter_mut().for_each(|x| *x = 0.0);
            let pu = &mut p[u * k..(u + 1) * k];
            for &(i, r, w) in &samples {
                for f in 0..k {
                    pu_eff[f] = pu[f] + z[f];
                }
                let qi = &mut q[i * k..(i + 1) * k];
                let pred = mu + b_user[u] + b_item[i] + dot(qi, &pu_eff);
                let ew = w * (r - pred);
                b_user[u] += lr * (ew - cfg.reg_bias * b_user[u]);
                b_item[i] += lr * (ew - cfg.reg_bias * b_item[i]);
                for f in 0..k {
                    let qf = qi[f];
                    qi[f] += lr * (ew * pu_eff[f] - cfg.reg * qf);
                    pu[f] += lr * (ew * qf - cfg.reg * pu[f]);
                    grad_z[f] += ew * qf;
                }
            }
            let n_samples = samples.len() as f32;
            for &(j, _) in items {
                let yj = &mut y[j as usize * k..(j as usize + 1) * k];
                for f in 0..k {
                    yj[f] +=
                        lr * (norm * grad_z[f] - cfg.reg * n_samples / items.len() as f32 * yj[f]);
                }
            }
        }
        lr *= cfg.lr_decay;
    }
    let mut confs: Vec<f32> = users
        .iter()
        .flat_map(|u| u.iter().map(|&(_, plays)| cfg.confidence(plays)))
        .collect();
    confs.sort_by(f32::total_cmp);
    let like_confidence = confs.get(confs.len() / 2).copied().unwrap_or(1.0);
    CfModel::new(
        k,
        mu,
        b_item,
        q,
        y,
        FoldInParams {
            lambda: cfg.reg,
            like_confidence,
            negative_ratio: cfg.negative_ratio as f32,
        },
    )
}
