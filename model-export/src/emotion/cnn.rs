//! The music-emotion CNN in burn: conv blocks over the log-mel, global average pooling to an
//! embedding, a 4-quadrant head. Valence and arousal are the expected signs under the quadrant
//! probabilities, so they are continuous in [-1, 1] and always agree with the quadrant output.

use crate::tensors::values;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d, Relu,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The network's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CnnConfig {
    /// Output channels of each conv block (each block halves both axes).
    pub channels: Vec<usize>,
    /// Dropout before the head.
    pub dropout: f64,
}

impl Default for CnnConfig {
    fn default() -> Self {
        CnnConfig {
            channels: vec![16, 32, 64, 128],
            dropout: 0.3,
        }
    }
}

/// The (valence, arousal) of each quadrant: Q1 (+,+), Q2 (-,+), Q3 (-,-), Q4 (+,-).
pub const QUADRANT_VA: [[f32; 2]; 4] = [[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]];

/// Conv 3x3 (no bias: the batch norm has one) -> batch norm -> ReLU -> max-pool 2x2.
#[derive(Module, Debug)]
pub struct Block {
    /// The convolution.
    pub conv: Conv2d,
    /// Its batch norm (folded into the convolution on export).
    pub norm: BatchNorm,
}

/// The whole network.
#[derive(Module, Debug)]
pub struct EmotionCnn {
    /// Conv blocks.
    pub blocks: Vec<Block>,
    pool: MaxPool2d,
    relu: Relu,
    dropout: Dropout,
    /// Embedding -> 4 quadrant logits.
    pub head: Linear,
}

impl EmotionCnn {
    /// A freshly initialised network.
    pub fn new(config: &CnnConfig, device: &Device) -> EmotionCnn {
        let mut blocks = Vec::new();
        let mut inp = 1;
        for &out in &config.channels {
            blocks.push(Block {
                conv: Conv2dConfig::new([inp, out], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .with_bias(false)
                    .init(device),
                norm: BatchNormConfig::new(out).init(device),
            });
            inp = out;
        }
        EmotionCnn {
            blocks,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            relu: Relu::new(),
            dropout: DropoutConfig::new(config.dropout).init(),
            head: LinearConfig::new(inp, 4).init(device),
        }
    }

    /// `[batch, 1, bands, frames]` -> (embedding `[batch, channels]`, logits `[batch, 4]`).
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let mut x = x;
        for b in &self.blocks {
            x = self
                .pool
                .forward(self.relu.forward(b.norm.forward(b.conv.forward(x))));
        }
        let [batch, channels, _, _] = x.dims();
        let embedding = x.mean_dim(3).mean_dim(2).reshape([batch, channels]);
        let logits = self.head.forward(self.dropout.forward(embedding.clone()));
        (embedding, logits)
    }
}

/// Folded inference weights of a trained network: what the ONNX file holds.
#[derive(Debug, Clone)]
pub struct FoldedCnn {
    /// Per block: conv weight `[out, in, 3, 3]` and bias `[out]` with the batch norm folded in.
    pub convs: Vec<(Vec<usize>, Vec<f32>, Vec<f32>)>,
    /// Head weight `[in, 4]` (burn's layout) and bias `[4]`.
    pub head: (usize, Vec<f32>, Vec<f32>),
}

impl EmotionCnn {
    /// Folds each batch norm (running statistics) into its convolution:
    /// `w' = w * g / sqrt(var + eps)`, `b' = beta - mean * g / sqrt(var + eps)`.
    pub fn fold(&self) -> FoldedCnn {
        let convs = self
            .blocks
            .iter()
            .map(|b| {
                let w = b.conv.weight.val();
                let dims = w.dims().to_vec();
                let w = values(w);
                let gamma = values(b.norm.gamma.val());
                let beta = values(b.norm.beta.val());
                let mean = values(b.norm.running_mean.value());
                let var = values(b.norm.running_var.value());
                let per_out = w.len() / dims[0];
                let mut wf = w;
                let mut bias = vec![0.0; dims[0]];
                for o in 0..dims[0] {
                    let s = gamma[o] / (var[o] + b.norm.epsilon as f32).sqrt();
                    for x in &mut wf[o * per_out..(o + 1) * per_out] {
                        *x *= s;
                    }
                    bias[o] = beta[o] - mean[o] * s;
                }
                (dims, wf, bias)
            })
            .collect();
        let w = self.head.weight.val();
        let inp = w.dims()[0];
        let head = (
            inp,
            values(w),
            values(self.head.bias.as_ref().expect("head has a bias").val()),
        );
        FoldedCnn { convs, head }
    }
}
