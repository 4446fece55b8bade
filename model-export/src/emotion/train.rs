//! Training the emotion CNN with burn (flex CPU backend + autodiff): random crops of the training
//! clips with SpecAugment masks, Adam with a cosine schedule, and the epoch with the best
//! validation accuracy (whole clips, as the browser analyses them) kept.

use super::cnn::{CnnConfig, EmotionCnn, FoldedCnn};
use crate::rng::Rng;
use attune_engine::audio::mel::N_MELS;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

/// One clip as the network reads it: `engine::audio::model_input` values, band-major.
#[derive(Debug, Clone)]
pub struct Example {
    /// `N_MELS * frames` values.
    pub input: Vec<f32>,
    /// Frames.
    pub frames: usize,
    /// Quadrant index 0..4.
    pub label: usize,
}

/// Training hyper-parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The network.
    pub cnn: CnnConfig,
    /// Frames per training crop (256 = 5.9 s).
    pub crop: usize,
    /// Crops drawn from each training clip per epoch.
    pub crops_per_clip: usize,
    /// Examples per step.
    pub batch: usize,
    /// Epochs.
    pub epochs: usize,
    /// Peak learning rate (cosine decay to 1% of it).
    pub lr: f64,
    /// Adam's L2 penalty.
    pub weight_decay: f32,
    /// Widest frequency mask (bands) and time mask (frames).
    pub masks: (usize, usize),
    /// Seed for initialisation order, crops and masks.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            cnn: CnnConfig::default(),
            crop: 256,
            crops_per_clip: 2,
            batch: 16,
            epochs: 30,
            lr: 2e-3,
            weight_decay: 1e-4,
            masks: (12, 32),
            seed: 7,
        }
    }
}

/// What training produced.
pub struct Trained {
    /// The best epoch's weights, batch norms folded.
    pub folded: FoldedCnn,
    /// The best epoch's network (inference mode, plain device).
    pub model: EmotionCnn,
    /// Per epoch: (train loss, validation accuracy).
    pub history: Vec<(f32, f32)>,
    /// The epoch kept (0-based).
    pub best_epoch: usize,
}

/// Trains on `train`, choosing the epoch by accuracy on `valid`.
pub fn train(train: &[Example], valid: &[Example], cfg: &TrainConfig) -> Trained {
    burn::tensor::Device::flex().seed(cfg.seed);
    let device = Device::flex().autodiff();
    let mut model = EmotionCnn::new(&cfg.cnn, &device);
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay)))
        .init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = Rng::new(cfg.seed);
    let mut history = Vec::new();
    let mut best: Option<(f32, usize, EmotionCnn)> = None;
    let steps_per_epoch = (train.len() * cfg.crops_per_clip).div_ceil(cfg.batch);
    let total = (steps_per_epoch * cfg.epochs).max(1);
    let mut step = 0usize;
    for epoch in 0..cfg.epochs {
        let started = std::time::Instant::now();
        let mut order: Vec<usize> = (0..train.len())
            .flat_map(|i| std::iter::repeat_n(i, cfg.crops_per_clip))
            .collect();
        shuffle(&mut order, &mut rng);
        let mut loss_sum = 0.0f32;
        for chunk in order.chunks(cfg.batch) {
            let mut buf = Vec::with_capacity(chunk.len() * N_MELS * cfg.crop);
            let mut labels = Vec::with_capacity(chunk.len());
            for &i in chunk {
                buf.extend(augmented_crop(&train[i], cfg, &mut rng));
                labels.push(train[i].label as i64);
            }
            let x = Tensor::<4>::from_data(
                TensorData::new(buf, [chunk.len(), 1, N_MELS, cfg.crop]),
                &device,
            );
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [chunk.len()]), &device);
            let (_, logits) = model.forward(x);
            let loss = loss_fn.forward(logits, y);
            loss_sum += loss.clone().into_scalar::<f32>() * chunk.len() as f32;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let progress = step as f64 / total as f64;
            let lr = cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
            model = optim.step(lr, model, grads);
            step += 1;
        }
        let inference = model.valid();
        let acc = accuracy(&inference, valid);
        let loss = loss_sum / order.len() as f32;
        eprintln!(
            "  epoch {:>2}: train loss {loss:.4}, validation accuracy {acc:.3} ({:.0} s)",
            epoch + 1,
            started.elapsed().as_secs_f32()
        );
        history.push((loss, acc));
        if best.as_ref().is_none_or(|(a, _, _)| acc > *a) {
            best = Some((acc, epoch, inference));
        }
    }
    let (_, best_epoch, model) = best.expect("at least one epoch");
    Trained {
        folded: model.fold(),
        model,
        history,
        best_epoch,
    }
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
}

/// A random `cfg.crop`-frame window of `ex` (padded with silence if shorter) with one frequency
/// and one time mask.
fn augmented_crop(ex: &Example, cfg: &TrainConfig, rng: &mut Rng) -> Vec<f32> {
    let start = if ex.frames > cfg.crop {
        rng.below(ex.frames - cfg.crop + 1)
    } else {
        0
    };
    let mut out = vec![-1.0f32; N_MELS * cfg.crop];
    let len = cfg.crop.min(ex.frames);
    for b in 0..N_MELS {
        out[b * cfg.crop..b * cfg.crop + len]
            .copy_from_slice(&ex.input[b * ex.frames + start..b * ex.frames + start + len]);
    }
    let (fw, tw) = (rng.below(cfg.masks.0 + 1), rng.below(cfg.masks.1 + 1));
    let f0 = rng.below(N_MELS - fw + 1);
    let t0 = rng.below(cfg.crop - tw + 1);
    for b in 0..N_MELS {
        for t in 0..cfg.crop {
            if (f0..f0 + fw).contains(&b) || (t0..t0 + tw).contains(&t) {
                out[b * cfg.crop + t] = -1.0;
            }
        }
    }
    out
}

/// Quadrant probabilities of one whole clip under a network in inference mode.
pub fn probabilities(model: &EmotionCnn, ex: &Example) -> [f32; 4] {
    let device = Device::flex();
    let x = Tensor::<4>::from_data(
        TensorData::new(ex.input.clone(), [1, 1, N_MELS, ex.frames]),
        &device,
    );
    let (_, logits) = model.forward(x);
    let p: Vec<f32> = burn::tensor::activation::softmax(logits, 1)
        .into_data()
        .try_to_vec::<f32>()
        .expect("f32");
    [p[0], p[1], p[2], p[3]]
}

fn accuracy(model: &EmotionCnn, set: &[Example]) -> f32 {
    if set.is_empty() {
        return 0.0;
    }
    let hits = set
        .iter()
        .filter(|ex| attune_engine::Quadrant::argmax(&probabilities(model, ex)).index() == ex.label)
        .count();
    hits as f32 / set.len() as f32
}

/// Runs a network in inference mode on a plain device and returns its embedding and logits (for
/// the ONNX parity test).
#[cfg(test)]
pub fn forward_plain(model: &EmotionCnn, input: &[f32], frames: usize) -> (Vec<f32>, Vec<f32>) {
    let device = Device::flex();
    let x = Tensor::<4>::from_data(
        TensorData::new(input.to_vec(), [1, 1, N_MELS, frames]),
        &device,
    );
    let (emb, logits) = model.forward(x);
    (
        emb.into_data().try_to_vec::<f32>().expect("f32"),
        burn::tensor::activation::softmax(logits, 1)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32"),
    )
}
