//! [`SasRec`]: self-attentive sequential recommendation (Kang & McAuley, ICDM 2018). Item
//! embeddings (scaled by √d) plus learned positions, dropout, then blocks of single-head causal
//! self-attention and a point-wise feed-forward, each with a pre-LayerNorm, dropout and a
//! residual; a final LayerNorm. The hidden state at step t scores every catalog artist by its dot
//! product with the *same* item embeddings, as the prediction of step t + 1.
//!
//! Sequences are right-padded: with the causal mask a real step never sees a padding step, so no
//! padding mask is needed and padding outputs are simply never read.

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Distribution, TensorData};

/// Future steps get this subtracted before the attention softmax (finite).
const MASK_BIAS: f32 = 1e4;

/// Sizes of the network.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SasRecShape {
    /// Catalog artists.
    pub items: usize,
    /// Longest input (learned positions).
    pub max_len: usize,
    /// Model width.
    pub width: usize,
    /// Attention blocks.
    pub blocks: usize,
    /// Dropout probability (embeddings, attention output, feed-forward).
    pub dropout: f64,
}

/// One causal self-attention block.
#[derive(Module, Debug)]
pub struct Block {
    /// Before the attention.
    pub norm1: LayerNorm,
    /// Queries.
    pub q: Linear,
    /// Keys.
    pub k: Linear,
    /// Values.
    pub v: Linear,
    /// Output projection.
    pub o: Linear,
    /// Before the feed-forward.
    pub norm2: LayerNorm,
    /// Feed-forward in.
    pub ff1: Linear,
    /// Feed-forward out.
    pub ff2: Linear,
    /// On both sub-layers' outputs.
    pub dropout: Dropout,
}

impl Block {
    fn new(d: usize, dropout: f64, device: &Device) -> Block {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        Block {
            norm1: LayerNormConfig::new(d).init(device),
            q: lin(d, d),
            k: lin(d, d),
            v: lin(d, d),
            o: lin(d, d),
            norm2: LayerNormConfig::new(d).init(device),
            ff1: lin(d, d),
            ff2: lin(d, d),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    /// `x [b, t, d]`, `bias [1, t, t]` (causal) -> `[b, t, d]`.
    fn forward(&self, x: Tensor<3>, bias: Tensor<3>) -> Tensor<3> {
        let d = x.dims()[2];
        let h = self.norm1.forward(x.clone());
        let (q, k, v) = (
            self.q.forward(h.clone()),
            self.k.forward(h.clone()),
            self.v.forward(h),
        );
        let scores = q.matmul(k.swap_dims(1, 2)) / (d as f32).sqrt() + bias;
        let attended = self.o.forward(softmax(scores, 2).matmul(v));
        let x = x + self.dropout.forward(attended);
        let h = self.norm2.forward(x.clone());
        let ff = self
            .ff2
            .forward(self.dropout.forward(relu(self.ff1.forward(h))));
        x + self.dropout.forward(ff)
    }
}

/// The network.
#[derive(Module, Debug)]
pub struct SasRec {
    /// Item embeddings `[items, width]`, input and output side.
    pub item: Param<Tensor<2>>,
    /// Learned positions `[max_len, width]`.
    pub pos: Param<Tensor<2>>,
    /// The attention blocks.
    pub blocks: Vec<Block>,
    /// After the last block.
    pub norm: LayerNorm,
    /// On the input embeddings.
    pub dropout: Dropout,
}

impl SasRec {
    /// A fresh network (embeddings and positions N(0, 0.05²)).
    pub fn new(shape: SasRecShape, device: &Device) -> SasRec {
        let emb = |n| {
            Param::from_tensor(Tensor::random(
                [n, shape.width],
                Distribution::Normal(0.0, 0.05),
                device,
            ))
        };
        SasRec {
            item: emb(shape.items),
            pos: emb(shape.max_len),
            blocks: (0..shape.blocks)
                .map(|_| Block::new(shape.width, shape.dropout, device))
                .collect(),
            norm: LayerNormConfig::new(shape.width).init(device),
            dropout: DropoutConfig::new(shape.dropout).init(),
        }
    }

    /// Its sizes.
    pub fn shape(&self) -> SasRecShape {
        let [items, width] = self.item.val().dims();
        SasRecShape {
            items,
            max_len: self.pos.val().dims()[0],
            width,
            blocks: self.blocks.len(),
            dropout: self.dropout.prob,
        }
    }

    /// `seq [b, t]` (catalog indices, right-padded with any valid index, t <= max_len) ->
    /// hidden states `[b, t, width]`.
    pub fn hidden(&self, seq: Tensor<2, Int>) -> Tensor<3> {
        let [_, t] = seq.dims();
        let device = seq.device();
        let d = self.item.val().dims()[1];
        let x = burn::tensor::module::embedding(self.item.val(), seq) * (d as f32).sqrt()
            + self.pos.val().narrow(0, 0, t).unsqueeze_dim::<3>(0);
        let mut x = self.dropout.forward(x);
        let bias: Vec<f32> = (0..t * t)
            .map(|i| if i % t > i / t { -MASK_BIAS } else { 0.0 })
            .collect();
        let bias = Tensor::<2>::from_data(TensorData::new(bias, [t, t]), &device).unsqueeze_dim(0);
        for b in &self.blocks {
            x = b.forward(x, bias.clone());
        }
        self.norm.forward(x)
    }

    /// Hidden states `[m, width]` -> scores of every artist `[m, items]`.
    pub fn logits(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.item.val().transpose())
    }
}
