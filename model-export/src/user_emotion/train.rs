//! Fitting a [`StateModel`] with burn (flex CPU backend + autodiff): Adam with a cosine schedule,
//! loss = squared error of the state + Gaussian negative log-likelihood of the residual under the
//! predicted variance (state detached, so the variance head cannot bend the estimate), random
//! history truncation (short histories are what new users have), and the epoch with the lowest
//! validation RMSE kept.

use super::dataset::{Drop, Example};
use super::model::StateModel;
use crate::rng::Rng;
use crate::tensors::values;
use attune_engine::user_emotion::{CONTEXT_DIM, EVENT_DIM, MAX_EVENTS};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

/// Training hyper-parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FitConfig {
    /// Model width (attention) or hidden size (GRU).
    pub width: usize,
    /// Epochs.
    pub epochs: usize,
    /// Examples per step.
    pub batch: usize,
    /// Peak learning rate (cosine decay to 5% of it).
    pub lr: f64,
    /// Adam's L2 penalty.
    pub weight_decay: f32,
    /// Chance that a training example's history is cut to a random shorter tail.
    pub truncate: f32,
    /// Seed (initialisation, order, truncation).
    pub seed: u64,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            width: 32,
            epochs: 60,
            batch: 32,
            lr: 3e-3,
            weight_decay: 1e-4,
            truncate: 0.3,
            seed: 11,
        }
    }
}

/// A fitted network and its training curve.
pub struct Fitted<M> {
    /// The best epoch's network, in inference mode.
    pub model: M,
    /// The epoch kept (0-based).
    pub best_epoch: usize,
    /// Per epoch: (train loss, validation RMSE).
    pub history: Vec<(f32, f32)>,
}

/// Tensors of a batch of examples.
pub struct Batch {
    /// `[n, MAX_EVENTS, EVENT_DIM]`.
    pub events: Tensor<3>,
    /// `[n, MAX_EVENTS]`.
    pub mask: Tensor<2>,
    /// `[n, CONTEXT_DIM]`.
    pub context: Tensor<2>,
    /// `[n, 2]`.
    pub target: Tensor<2>,
}

/// Stacks examples (with `drop` applied, and the history cut to the last `keep[i]` events when
/// given) into tensors on `device`.
pub fn batch(examples: &[&Example], drop: Drop, keep: Option<&[usize]>, device: &Device) -> Batch {
    let n = examples.len();
    let (mut ev, mut mask, mut ctx, mut y) = (
        Vec::with_capacity(n * MAX_EVENTS * EVENT_DIM),
        Vec::with_capacity(n * MAX_EVENTS),
        Vec::with_capacity(n * CONTEXT_DIM),
        Vec::with_capacity(n * 2),
    );
    for (i, ex) in examples.iter().enumerate() {
        let mut x = drop.apply(&ex.input);
        if let Some(k) = keep.map(|k| k[i]).filter(|&k| k < x.len) {
            let first = MAX_EVENTS - k;
            x.events[..first * EVENT_DIM].fill(0.0);
            x.mask[..first].fill(0.0);
        }
        ev.extend(x.events);
        mask.extend(x.mask);
        ctx.extend(x.context);
        y.extend(ex.target);
    }
    Batch {
        events: Tensor::from_data(TensorData::new(ev, [n, MAX_EVENTS, EVENT_DIM]), device),
        mask: Tensor::from_data(TensorData::new(mask, [n, MAX_EVENTS]), device),
        context: Tensor::from_data(TensorData::new(ctx, [n, CONTEXT_DIM]), device),
        target: Tensor::from_data(TensorData::new(y, [n, 2]), device),
    }
}

/// One prediction: valence/arousal and their log-variances.
pub type Prediction = ([f32; 2], [f32; 2]);

/// Predictions of a network in inference mode.
pub fn predict<M: StateModel>(model: &M, examples: &[Example], drop: Drop) -> Vec<Prediction> {
    let device = Device::flex();
    let mut out = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(256) {
        let refs: Vec<&Example> = chunk.iter().collect();
        let b = batch(&refs, drop, None, &device);
        let o = model.run(b.events, b.mask, b.context);
        let (s, v) = (values(o.state), values(o.log_var));
        for i in 0..chunk.len() {
            out.push(([s[2 * i], s[2 * i + 1]], [v[2 * i], v[2 * i + 1]]));
        }
    }
    out
}

/// Root mean squared error over both axes.
pub fn rmse(pred: &[Prediction], examples: &[Example]) -> f32 {
    let se: f32 = pred
        .iter()
        .zip(examples)
        .map(|((p, _), e)| (p[0] - e.target[0]).powi(2) + (p[1] - e.target[1]).powi(2))
        .sum();
    (se / (2 * examples.len().max(1)) as f32).sqrt()
}

/// Fits `init(device)` on `train`, keeping the epoch with the lowest RMSE on `valid`.
pub fn fit<M: StateModel>(
    init: impl FnOnce(&Device) -> M,
    train: &[Example],
    valid: &[Example],
    drop: Drop,
    cfg: &FitConfig,
) -> Fitted<M> {
    burn::tensor::Device::flex().seed(cfg.seed);
    let device = Device::flex().autodiff();
    let mut model = init(&device);
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay)))
        .init();
    let mut rng = Rng::new(cfg.seed);
    let steps_per_epoch = train.len().div_ceil(cfg.batch).max(1);
    let total = (steps_per_epoch * cfg.epochs).max(1);
    let mut step = 0;
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut best: Option<(f32, usize, M)> = None;
    for epoch in 0..cfg.epochs {
        let mut order: Vec<usize> = (0..train.len()).collect();
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for chunk in order.chunks(cfg.batch) {
            let refs: Vec<&Example> = chunk.iter().map(|&i| &train[i]).collect();
            let keep: Vec<usize> = refs
                .iter()
                .map(|e| {
                    if rng.unit() < cfg.truncate {
                        1 + rng.below(e.input.len)
                    } else {
                        e.input.len
                    }
                })
                .collect();
            let b = batch(&refs, drop, Some(&keep), &device);
            let o = model.run(b.events, b.mask, b.context);
            let err = o.state.clone() - b.target.clone();
            let mse = (err.clone() * err).mean();
            let resid = b.target - o.state.detach();
            let nll = ((o.log_var.clone() + resid.clone() * resid / o.log_var.exp()) * 0.5).mean();
            let loss = mse + nll;
            loss_sum += loss.clone().into_scalar::<f32>() * chunk.len() as f32;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let progress = step as f64 / total as f64;
            let lr = crate::schedule::cosine_lr(cfg.lr, progress);
            model = optim.step(lr, model, grads);
            step += 1;
        }
        let inference = model.valid();
        let score = rmse(&predict(&inference, valid, drop), valid);
        history.push((loss_sum / train.len().max(1) as f32, score));
        if best.as_ref().is_none_or(|(s, _, _)| score < *s) {
            best = Some((score, epoch, inference));
        }
    }
    let (_, best_epoch, model) = best.expect("at least one epoch");
    Fitted {
        model,
        best_epoch,
        history,
    }
}
