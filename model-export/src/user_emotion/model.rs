//! The user-emotion networks in burn. [`StateNet`]: events -> linear embedding -> one
//! self-attention encoder layer (single head, padding masked, residual + LayerNorm, feed-forward)
//! -> attention pooling with a query from the present moment (these pooling weights are the
//! attention the app shows) -> valence/arousal (a tanh correction of the mean stated mood) and their log-variance. [`GruNet`] is the
//! recurrent baseline over the same inputs.

use attune_engine::user_emotion::{CONTEXT_DIM, EVENT_DIM};
use burn::module::Module;
use burn::nn::gru::{Gru, GruConfig};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, softmax, tanh};

/// Masked positions get this added before the softmax (finite: a fully masked row stays finite).
pub const MASK_BIAS: f32 = 1e4;
/// burn's LayerNorm epsilon (its default; the field is private).
pub const LAYER_NORM_EPS: f32 = 1e-5;

/// The prior is shrunk by this factor before `atanh` (keeps it finite at ±1).
pub const PRIOR_SHRINK: f32 = 0.95;

/// `tanh(logits + atanh(PRIOR_SHRINK * mean stated mood))`: the networks learn a correction to
/// the user's mean stated mood (context features 6 and 7; 0 without a stated mood), the strongest
/// simple predictor on SiTunes, instead of rediscovering it from 500 examples.
fn state_with_prior(logits: Tensor<2>, context: &Tensor<2>) -> Tensor<2> {
    let p = context.clone().narrow(1, 6, 2) * PRIOR_SHRINK;
    let atanh = ((p.clone() + 1.0) / (p.neg() + 1.0)).log() * 0.5;
    tanh(logits + atanh)
}

/// One forward pass's outputs: `[batch, 2]` state, `[batch, 2]` log-variance, `[batch, seq]`
/// attention (uniform over events for the mean-pooling ablation; empty for the GRU).
pub struct Outputs {
    /// Valence and arousal.
    pub state: Tensor<2>,
    /// Their log-variance.
    pub log_var: Tensor<2>,
    /// Pooling weights.
    pub attention: Option<Tensor<2>>,
}

/// A network the trainer can fit.
pub trait StateModel: Module + Clone {
    /// `events [b, seq, EVENT_DIM]`, `mask [b, seq]`, `context [b, CONTEXT_DIM]`.
    fn run(&self, events: Tensor<3>, mask: Tensor<2>, context: Tensor<2>) -> Outputs;
}

/// The self-attention model.
#[derive(Module, Debug)]
pub struct StateNet {
    /// Event features -> model width.
    pub embed: Linear,
    /// Self-attention projections.
    pub q: Linear,
    /// Keys.
    pub k: Linear,
    /// Values.
    pub v: Linear,
    /// Output projection.
    pub o: Linear,
    /// After the attention residual.
    pub norm1: LayerNorm,
    /// Feed-forward in.
    pub ff1: Linear,
    /// Feed-forward out.
    pub ff2: Linear,
    /// After the feed-forward residual.
    pub norm2: LayerNorm,
    /// Context features -> model width.
    pub ctx: Linear,
    /// Pooling query (from the context).
    pub pool_q: Linear,
    /// Pooling keys (from the encoded events).
    pub pool_k: Linear,
    /// [pooled, context] -> hidden.
    pub head: Linear,
    /// Hidden -> valence, arousal.
    pub out_state: Linear,
    /// Hidden -> log-variances.
    pub out_log_var: Linear,
    /// Mean pooling instead of attention pooling (the ablation).
    pub mean_pool: bool,
}

impl StateNet {
    /// A fresh network of width `d`.
    pub fn new(d: usize, mean_pool: bool, device: &Device) -> StateNet {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        StateNet {
            embed: lin(EVENT_DIM, d),
            q: lin(d, d),
            k: lin(d, d),
            v: lin(d, d),
            o: lin(d, d),
            norm1: LayerNormConfig::new(d).init(device),
            ff1: lin(d, 2 * d),
            ff2: lin(2 * d, d),
            norm2: LayerNormConfig::new(d).init(device),
            ctx: lin(CONTEXT_DIM, d),
            pool_q: lin(d, d),
            pool_k: lin(d, d),
            head: lin(2 * d, d),
            out_state: lin(d, 2),
            out_log_var: lin(d, 2),
            mean_pool,
        }
    }

    /// The model width.
    pub fn width(&self) -> usize {
        self.q.weight.val().dims()[0]
    }
}

impl StateModel for StateNet {
    fn run(&self, events: Tensor<3>, mask: Tensor<2>, context: Tensor<2>) -> Outputs {
        let scale = 1.0 / (self.width() as f32).sqrt();
        let bias = (mask.clone() - 1.0) * MASK_BIAS; // [b, seq]
        let h = relu(self.embed.forward(events));
        let (q, k, v) = (
            self.q.forward(h.clone()),
            self.k.forward(h.clone()),
            self.v.forward(h.clone()),
        );
        let scores = q.matmul(k.swap_dims(1, 2)) * scale + bias.clone().unsqueeze_dim::<3>(1);
        let attended = softmax(scores, 2).matmul(v);
        let h = self.norm1.forward(h + self.o.forward(attended));
        let h = self
            .norm2
            .forward(h.clone() + self.ff2.forward(relu(self.ff1.forward(h))));
        let c = relu(self.ctx.forward(context.clone()));
        let attention = if self.mean_pool {
            mask.clone() / mask.sum_dim(1)
        } else {
            let query = self.pool_q.forward(c.clone()).unsqueeze_dim::<3>(2); // [b, d, 1]
            let keys = self.pool_k.forward(h.clone()); // [b, seq, d]
            let s = keys.matmul(query).squeeze_dim::<2>(2) * scale + bias;
            softmax(s, 1)
        };
        let pooled = attention
            .clone()
            .unsqueeze_dim::<3>(1)
            .matmul(h)
            .squeeze_dim::<2>(1);
        let z = relu(self.head.forward(Tensor::cat(vec![pooled, c], 1)));
        Outputs {
            state: state_with_prior(self.out_state.forward(z.clone()), &context),
            log_var: self.out_log_var.forward(z),
            attention: Some(attention),
        }
    }
}

/// The recurrent baseline: a GRU over the events (front padding runs first, so the last step
/// has read every real event), its last state with the context -> the same two heads.
#[derive(Module, Debug)]
pub struct GruNet {
    /// The recurrence.
    pub gru: Gru,
    /// Context features -> hidden.
    pub ctx: Linear,
    /// [state, context] -> hidden.
    pub head: Linear,
    /// Hidden -> valence, arousal.
    pub out_state: Linear,
    /// Hidden -> log-variances.
    pub out_log_var: Linear,
}

impl GruNet {
    /// A fresh GRU network of hidden size `d`.
    pub fn new(d: usize, device: &Device) -> GruNet {
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        GruNet {
            gru: GruConfig::new(EVENT_DIM, d, true).init(device),
            ctx: lin(CONTEXT_DIM, d),
            head: lin(2 * d, d),
            out_state: lin(d, 2),
            out_log_var: lin(d, 2),
        }
    }
}

impl StateModel for GruNet {
    fn run(&self, events: Tensor<3>, _mask: Tensor<2>, context: Tensor<2>) -> Outputs {
        let [_, seq, _] = events.dims();
        let h = self.gru.forward(events, None);
        let last = h.narrow(1, seq - 1, 1).squeeze_dim::<2>(1);
        let c = relu(self.ctx.forward(context.clone()));
        let z = relu(self.head.forward(Tensor::cat(vec![last, c], 1)));
        Outputs {
            state: state_with_prior(self.out_state.forward(z.clone()), &context),
            log_var: self.out_log_var.forward(z),
            attention: None,
        }
    }
}
