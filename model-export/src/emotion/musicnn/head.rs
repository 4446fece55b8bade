//! The valence/arousal head over musicnn's features, trained with burn: standardised features ->
//! an optional hidden ReLU layer -> two logits, P(positive valence) and P(high arousal). The loss
//! is a masked binary cross-entropy, so a recording labelled on one axis only (most of the
//! real-audio set) still teaches that axis and nothing else.

use super::features::Features;
use super::graph::{PENULTIMATE_WIDTH, POOL_WIDTH, TAGS};
use crate::tensors::values;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

/// Which of musicnn's layers the head reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layer {
    /// The 200-wide penultimate dense layer.
    Penultimate,
    /// The 50 MSD tag probabilities.
    Tags,
    /// Penultimate and tags side by side (250).
    PenultimateTags,
    /// Max and mean over time of the mid end (1,506).
    Pool,
}

impl Layer {
    /// Every layer, in the order candidates are listed.
    pub const ALL: [Layer; 4] = [
        Layer::Penultimate,
        Layer::Tags,
        Layer::PenultimateTags,
        Layer::Pool,
    ];

    /// Input width.
    pub fn width(self) -> usize {
        match self {
            Layer::Penultimate => PENULTIMATE_WIDTH,
            Layer::Tags => TAGS,
            Layer::PenultimateTags => PENULTIMATE_WIDTH + TAGS,
            Layer::Pool => POOL_WIDTH,
        }
    }

    /// The layer's values of `f`.
    pub fn pick(self, f: &Features) -> Vec<f32> {
        match self {
            Layer::Penultimate => f.penultimate.clone(),
            Layer::Tags => f.tags.clone(),
            Layer::PenultimateTags => [f.penultimate.as_slice(), &f.tags].concat(),
            Layer::Pool => f.pool.clone(),
        }
    }

    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Penultimate => "penultimate",
            Layer::Tags => "tags",
            Layer::PenultimateTags => "penultimate+tags",
            Layer::Pool => "pool",
        }
    }
}

/// One training example: a feature vector and whichever axes are labelled.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// The layer's values (not yet standardised).
    pub x: Vec<f32>,
    /// Positive valence?
    pub valence: Option<bool>,
    /// High arousal?
    pub arousal: Option<bool>,
    /// Loss weight (balances the sources).
    pub weight: f32,
}

/// The head's hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    /// Which layer it reads.
    pub layer: Layer,
    /// Hidden units (0: a linear head).
    pub hidden: usize,
    /// Dropout on the input and hidden layer.
    pub dropout: f64,
    /// Adam's L2 penalty.
    pub weight_decay: f32,
    /// Full-batch steps.
    pub steps: usize,
    /// Learning rate (cosine decay to 1% of it).
    pub lr: f64,
    /// Initialisation and dropout seed.
    pub seed: u64,
}

impl Default for HeadConfig {
    fn default() -> Self {
        HeadConfig {
            layer: Layer::Penultimate,
            hidden: 0,
            dropout: 0.2,
            weight_decay: 1e-3,
            steps: 400,
            lr: 1e-2,
            seed: 11,
        }
    }
}

#[derive(Module, Debug)]
struct Net {
    hidden: Option<Linear>,
    out: Linear,
    dropout: Dropout,
    relu: Relu,
}

impl Net {
    fn new(cfg: &HeadConfig, device: &Device) -> Net {
        let width = cfg.layer.width();
        let (hidden, inner) = if cfg.hidden > 0 {
            (
                Some(LinearConfig::new(width, cfg.hidden).init(device)),
                cfg.hidden,
            )
        } else {
            (None, width)
        };
        Net {
            hidden,
            out: LinearConfig::new(inner, 2).init(device),
            dropout: DropoutConfig::new(cfg.dropout).init(),
            relu: Relu::new(),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = self.dropout.forward(x);
        if let Some(l) = &self.hidden {
            h = self.dropout.forward(self.relu.forward(l.forward(h)));
        }
        self.out.forward(h)
    }
}

/// A trained head as plain numbers: what the ONNX file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainedHead {
    /// Its configuration.
    pub config: HeadConfig,
    /// Per input: the training mean and standard deviation (standardisation).
    pub mean: Vec<f32>,
    /// See `mean`.
    pub std: Vec<f32>,
    /// Hidden layer `[width, hidden]` (burn's layout) and bias, when there is one.
    pub hidden: Option<(Vec<f32>, Vec<f32>)>,
    /// Output layer `[inner, 2]` and bias `[2]`.
    pub out: (Vec<f32>, Vec<f32>),
}

impl TrainedHead {
    /// Width of the layer before the logits: the embedding the app shows and stores.
    pub fn inner(&self) -> usize {
        self.out.0.len() / 2
    }

    /// (P(positive valence), P(high arousal)) of one feature vector, and the embedding.
    pub fn predict(&self, x: &[f32]) -> ([f32; 2], Vec<f32>) {
        let z: Vec<f32> = x
            .iter()
            .zip(self.mean.iter().zip(&self.std))
            .map(|(v, (m, s))| (v - m) / s)
            .collect();
        let h = match &self.hidden {
            Some((w, b)) => affine(&z, w, b, true),
            None => z,
        };
        let logits = affine(&h, &self.out.0, &self.out.1, false);
        let p = [sigmoid(logits[0]), sigmoid(logits[1])];
        (p, h)
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `x · w + b` with `w` as `[in, out]`, optionally ReLU.
fn affine(x: &[f32], w: &[f32], b: &[f32], relu: bool) -> Vec<f32> {
    let out = b.len();
    let mut y = b.to_vec();
    for (i, xi) in x.iter().enumerate() {
        for (o, yo) in y.iter_mut().enumerate() {
            *yo += xi * w[i * out + o];
        }
    }
    if relu {
        y.iter_mut().for_each(|v| *v = v.max(0.0));
    }
    y
}

/// Trains a head on `set` (full batch, Adam, cosine schedule).
pub fn train(set: &[Labelled], cfg: &HeadConfig) -> TrainedHead {
    let width = cfg.layer.width();
    assert!(set.iter().all(|e| e.x.len() == width), "feature width");
    let n = set.len().max(1) as f32;
    let mean: Vec<f32> = (0..width)
        .map(|j| set.iter().map(|e| e.x[j]).sum::<f32>() / n)
        .collect();
    let std: Vec<f32> = (0..width)
        .map(|j| {
            let v = set.iter().map(|e| (e.x[j] - mean[j]).powi(2)).sum::<f32>() / n;
            v.sqrt().max(1e-4)
        })
        .collect();
    burn::tensor::Device::flex().seed(cfg.seed);
    let device = Device::flex().autodiff();
    let rows = set.len();
    let xs: Vec<f32> = set
        .iter()
        .flat_map(|e| {
            e.x.iter()
                .zip(mean.iter().zip(&std))
                .map(|(v, (m, s))| (v - m) / s)
        })
        .collect();
    let target = |l: Option<bool>| f32::from(l == Some(true));
    let mask = |l: Option<bool>, w: f32| if l.is_some() { w } else { 0.0 };
    let ys: Vec<f32> = set
        .iter()
        .flat_map(|e| [target(e.valence), target(e.arousal)])
        .collect();
    let ms: Vec<f32> = set
        .iter()
        .flat_map(|e| [mask(e.valence, e.weight), mask(e.arousal, e.weight)])
        .collect();
    let total: f32 = ms.iter().sum::<f32>().max(1e-6);
    let x = Tensor::<2>::from_data(TensorData::new(xs, [rows, width]), &device);
    let y = Tensor::<2>::from_data(TensorData::new(ys, [rows, 2]), &device);
    let m = Tensor::<2>::from_data(TensorData::new(ms, [rows, 2]), &device);
    let mut model = Net::new(cfg, &device);
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay)))
        .init();
    for step in 0..cfg.steps {
        let logits = model.forward(x.clone());
        // Stable BCE with logits: max(z, 0) - z y + log(1 + e^{-|z|}).
        let loss = (logits.clone().clamp_min(0.0) - logits.clone() * y.clone()
            + (logits.abs().neg().exp() + 1.0).log())
            * m.clone();
        let loss = loss.sum() / total;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let progress = step as f64 / cfg.steps.max(1) as f64;
        let lr = cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
        model = optim.step(lr, model, grads);
    }
    let model = model.valid();
    let lin = |l: &Linear| {
        (
            values(l.weight.val()),
            values(l.bias.as_ref().expect("bias").val()),
        )
    };
    TrainedHead {
        config: cfg.clone(),
        mean,
        std,
        hidden: model.hidden.as_ref().map(lin),
        out: lin(&model.out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Two separable clusters on each axis, with half the examples labelled on one axis only:
    /// the head learns both axes, and its plain-number forward pass is what it was trained as.
    #[test]
    fn learns_masked_axes() {
        let mut rng = Rng::new(3);
        let width = Layer::Tags.width();
        let set: Vec<Labelled> = (0..80)
            .map(|i| {
                let (v, a) = (i % 2 == 0, i % 3 == 0);
                let x = (0..width)
                    .map(|j| {
                        let signal = match j {
                            0 => f32::from(v) * 2.0,
                            1 => f32::from(a) * 2.0,
                            _ => 0.0,
                        };
                        signal + rng.below(1000) as f32 / 1000.0
                    })
                    .collect();
                Labelled {
                    x,
                    valence: (i % 4 != 1).then_some(v),
                    arousal: (i % 4 != 2).then_some(a),
                    weight: 1.0,
                }
            })
            .collect();
        for hidden in [0, 16] {
            let cfg = HeadConfig {
                layer: Layer::Tags,
                hidden,
                dropout: 0.0,
                steps: 300,
                ..HeadConfig::default()
            };
            let h = train(&set, &cfg);
            let mut right = 0;
            for e in &set {
                let (p, emb) = h.predict(&e.x);
                assert_eq!(emb.len(), if hidden > 0 { 16 } else { width });
                right += usize::from((p[0] > 0.5) == (e.x[0] > 1.0));
                right += usize::from((p[1] > 0.5) == (e.x[1] > 1.0));
            }
            // Chance is 50% (valence) and 67% (arousal); both axes must be learnt.
            assert!(right >= 136, "hidden {hidden}: {right}/160");
        }
    }
}
