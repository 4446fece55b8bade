//! Fitting [`NcfNet`] with burn (flex CPU backend + autodiff). Each epoch, every training user's
//! artists are split afresh, 80% as the input (exactly what a browser user's likes are) and 20%
//! as targets; the loss is the multinomial log-likelihood of the targets under a softmax over
//! the catalog minus the input artists (the full ranking the evaluation does, rather than
//! NeuMF's sampled pointwise log-loss); Adam with a cosine learning-rate decay. The epoch with the
//! best validation NDCG@10 is kept.

use super::model::{NcfNet, NcfShape};
use crate::rng::Rng;
use attune_engine::ncf::user_input;
use attune_engine::ArtistIdx;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::TensorData;
use serde::Serialize;

/// Masked (input) artists get this subtracted before the softmax.
const MASK_BIAS: f32 = 1e4;

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NcfConfig {
    /// Embedding size per branch.
    pub dim: usize,
    /// First MLP layer width.
    pub hidden: usize,
    /// Epochs (the best one on validation is kept).
    pub epochs: usize,
    /// Users per step.
    pub batch: usize,
    /// Peak Adam learning rate (cosine decay to 5% of it).
    pub lr: f64,
    /// Adam's L2 penalty.
    pub weight_decay: f32,
    /// Seed (initialisation, order, splits).
    pub seed: u64,
}

/// A fitted network and its curve.
pub struct FittedNcf {
    /// The best epoch's network (inference mode).
    pub net: NcfNet,
    /// The epoch kept (0-based).
    pub best_epoch: usize,
    /// Per epoch: (train loss, validation NDCG@10).
    pub history: Vec<(f32, f64)>,
}

/// Scores of one user under an inference-mode network (burn's forward).
pub fn scores(net: &NcfNet, likes: &[ArtistIdx]) -> Vec<f32> {
    let n = net.shape().items;
    let x = Tensor::from_data(
        TensorData::new(user_input(likes, n), [1, n]),
        &Device::flex(),
    );
    crate::tensors::values(net.forward(x))
}

/// Fits on `rows` (each training user's catalog artists); `validate` scores a network (NDCG@10
/// on the validation users, higher is better) after every epoch.
pub fn fit(
    rows: &[Vec<u32>],
    items: usize,
    cfg: &NcfConfig,
    mut validate: impl FnMut(&NcfNet) -> f64,
) -> FittedNcf {
    Device::flex().seed(cfg.seed);
    let device = Device::flex().autodiff();
    let shape = NcfShape {
        items,
        dim: cfg.dim,
        hidden: cfg.hidden,
    };
    let mut net = NcfNet::new(shape, &device);
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay)))
        .init();
    let mut rng = Rng::new(cfg.seed);
    let users: Vec<&Vec<u32>> = rows.iter().filter(|r| r.len() >= 2).collect();
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut best: Option<(f64, usize, NcfNet)> = None;
    let total = (users.len().div_ceil(cfg.batch) * cfg.epochs).max(1);
    let mut step = 0;
    for epoch in 0..cfg.epochs {
        let mut order: Vec<usize> = (0..users.len()).collect();
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for chunk in order.chunks(cfg.batch) {
            let b = chunk.len();
            let (mut x, mut mask, mut target) = (
                Vec::with_capacity(b * items),
                vec![0.0f32; b * items],
                vec![0.0f32; b * items],
            );
            for (r, &u) in chunk.iter().enumerate() {
                let mut its = users[u].clone();
                rng.shuffle(&mut its);
                let cut = ((its.len() as f64 * crate::hetrec::evaluate::FOLD_IN_SHARE).round()
                    as usize)
                    .clamp(1, its.len() - 1);
                let likes: Vec<ArtistIdx> = its[..cut].iter().map(|&i| ArtistIdx(i)).collect();
                x.extend(user_input(&likes, items));
                for &i in &its[..cut] {
                    mask[r * items + i as usize] = 1.0;
                }
                let w = 1.0 / (its.len() - cut) as f32;
                for &i in &its[cut..] {
                    target[r * items + i as usize] = w;
                }
            }
            let t = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [b, items]), &device);
            let logits = net.forward(t(x)) - t(mask) * MASK_BIAS;
            let loss = (log_softmax(logits, 1) * t(target)).sum_dim(1).mean().neg();
            loss_sum += loss.clone().into_scalar::<f32>() * b as f32;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            let progress = step as f64 / total as f64;
            let lr = crate::schedule::cosine_lr(cfg.lr, progress);
            net = optim.step(lr, net, grads);
            step += 1;
        }
        let inference = net.valid();
        let score = validate(&inference);
        eprintln!(
            "  NCF dim {} hidden {} epoch {epoch}: loss {:.4}, validation NDCG@10 {score:.4}",
            cfg.dim,
            cfg.hidden,
            loss_sum / users.len().max(1) as f32
        );
        history.push((loss_sum / users.len().max(1) as f32, score));
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, epoch, inference));
        }
    }
    let (_, best_epoch, net) = best.expect("at least one epoch");
    FittedNcf {
        net,
        best_epoch,
        history,
    }
}
