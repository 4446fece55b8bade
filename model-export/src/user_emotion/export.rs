//! [`StateNet`] as an ONNX graph with the names the engine's runner expects
//! (`engine::models::user_emotion`): inputs `events [batch, seq, EVENT_DIM]`, `mask [batch, seq]`,
//! `context [batch, CONTEXT_DIM]`; outputs `state`, `log_var` `[batch, 2]` and `attention
//! [batch, seq]`.

use super::model::{StateNet, LAYER_NORM_EPS, MASK_BIAS, PRIOR_SHRINK};
use crate::onnx::{Attr, Dim, Graph};
use crate::tensors::values;
use attune_engine::models::user_emotion::{ATTENTION, CONTEXT, EVENTS, LOG_VAR, MASK, STATE};
use attune_engine::user_emotion::{CONTEXT_DIM, EVENT_DIM};
use burn::nn::{LayerNorm, Linear};

/// Writes burn Linear layers ([in, out] weights) into the graph.
struct Writer {
    g: Graph,
}

impl Writer {
    fn weights(&mut self, name: &str, l: &Linear) -> (String, String) {
        let w = l.weight.val();
        let [i, o] = w.dims();
        let w = self.g.constant(&format!("{name}_w"), &[i, o], &values(w));
        let b = values(l.bias.as_ref().expect("linear layers have biases").val());
        let b = self.g.constant(&format!("{name}_b"), &[o], &b);
        (w, b)
    }
    /// `x [.., in] -> [.., out]` for any rank (MatMul + Add).
    fn linear(&mut self, name: &str, l: &Linear, x: &str) -> String {
        let (w, b) = self.weights(name, l);
        let m = self.g.node("MatMul", &[x, &w], vec![], None);
        self.g.node("Add", &[&m, &b], vec![], None)
    }
    /// `x [batch, in] -> [batch, out]` (Gemm).
    fn gemm(&mut self, name: &str, l: &Linear, x: &str, out: Option<&str>) -> String {
        let (w, b) = self.weights(name, l);
        self.g.node("Gemm", &[x, &w, &b], vec![], out)
    }
    fn layer_norm(&mut self, name: &str, n: &LayerNorm, x: &str) -> String {
        let gamma = values(n.gamma.val());
        let d = gamma.len();
        let beta = n
            .beta
            .as_ref()
            .map_or_else(|| vec![0.0; d], |b| values(b.val()));
        let s = self.g.constant(&format!("{name}_scale"), &[d], &gamma);
        let b = self.g.constant(&format!("{name}_bias"), &[d], &beta);
        self.g.node(
            "LayerNormalization",
            &[x, &s, &b],
            vec![
                Attr::Int("axis", -1),
                Attr::Float("epsilon", LAYER_NORM_EPS),
            ],
            None,
        )
    }
    fn op(&mut self, op: &str, inputs: &[&str]) -> String {
        self.g.node(op, inputs, vec![], None)
    }
    fn scalar(&mut self, name: &str, v: f32) -> String {
        self.g.constant(name, &[1], &[v])
    }
}

/// The ONNX bytes of a trained network; `metadata` goes into the model's properties.
pub fn onnx_bytes(net: &StateNet, metadata: &[(&str, String)]) -> Vec<u8> {
    let mut w = Writer {
        g: Graph::new("attune_user_emotion"),
    };
    let (batch, seq) = (Dim::Named("batch"), Dim::Named("seq"));
    let events =
        w.g.input(EVENTS, &[batch, seq, Dim::Fixed(EVENT_DIM as i64)]);
    let mask = w.g.input(MASK, &[batch, seq]);
    let context = w.g.input(CONTEXT, &[batch, Dim::Fixed(CONTEXT_DIM as i64)]);
    let scale = w.scalar("scale", 1.0 / (net.width() as f32).sqrt());
    let one = w.scalar("one", 1.0);
    let big = w.scalar("mask_bias", MASK_BIAS);
    let axis1 = w.g.ints("axis1", &[1]);
    let axis2 = w.g.ints("axis2", &[2]);
    // bias = (mask - 1) * 1e4
    let m1 = w.op("Sub", &[&mask, &one]);
    let bias = w.op("Mul", &[&m1, &big]);
    // Encoder layer.
    let e = w.linear("embed", &net.embed, &events);
    let h = w.op("Relu", &[&e]);
    let q = w.linear("q", &net.q, &h);
    let k = w.linear("k", &net.k, &h);
    let v = w.linear("v", &net.v, &h);
    let kt = w.g.node(
        "Transpose",
        &[&k],
        vec![Attr::Ints("perm", vec![0, 2, 1])],
        None,
    );
    let s = w.op("MatMul", &[&q, &kt]);
    let s = w.op("Mul", &[&s, &scale]);
    let row_bias = w.op("Unsqueeze", &[&bias, &axis1]);
    let s = w.op("Add", &[&s, &row_bias]);
    let a = w.g.node("Softmax", &[&s], vec![Attr::Int("axis", 2)], None);
    let av = w.op("MatMul", &[&a, &v]);
    let o = w.linear("o", &net.o, &av);
    let r = w.op("Add", &[&h, &o]);
    let h = w.layer_norm("norm1", &net.norm1, &r);
    let f = w.linear("ff1", &net.ff1, &h);
    let f = w.op("Relu", &[&f]);
    let f = w.linear("ff2", &net.ff2, &f);
    let r = w.op("Add", &[&h, &f]);
    let h = w.layer_norm("norm2", &net.norm2, &r);
    // Context and pooling.
    let c = w.gemm("ctx", &net.ctx, &context, None);
    let c = w.op("Relu", &[&c]);
    let attention = if net.mean_pool {
        let total = w.g.node(
            "ReduceSum",
            &[&mask, &axis1],
            vec![Attr::Int("keepdims", 1)],
            None,
        );
        w.g.node("Div", &[&mask, &total], vec![], Some(ATTENTION))
    } else {
        let qp = w.gemm("pool_q", &net.pool_q, &c, None);
        let qp = w.op("Unsqueeze", &[&qp, &axis2]);
        let kp = w.linear("pool_k", &net.pool_k, &h);
        let sp = w.op("MatMul", &[&kp, &qp]);
        let sp = w.op("Squeeze", &[&sp, &axis2]);
        let sp = w.op("Mul", &[&sp, &scale]);
        let sp = w.op("Add", &[&sp, &bias]);
        w.g.node(
            "Softmax",
            &[&sp],
            vec![Attr::Int("axis", 1)],
            Some(ATTENTION),
        )
    };
    let a3 = w.op("Unsqueeze", &[&attention, &axis1]);
    let pooled = w.op("MatMul", &[&a3, &h]);
    let pooled = w.op("Squeeze", &[&pooled, &axis1]);
    let cat =
        w.g.node("Concat", &[&pooled, &c], vec![Attr::Int("axis", 1)], None);
    let z = w.gemm("head", &net.head, &cat, None);
    let z = w.op("Relu", &[&z]);
    let st = w.gemm("out_state", &net.out_state, &z, None);
    // + atanh(PRIOR_SHRINK * context[:, 6..8]) = 0.5 ln((1 + p) / (1 - p)), the column pick as a MatMul.
    let mut pick = vec![0.0f32; CONTEXT_DIM * 2];
    pick[6 * 2] = PRIOR_SHRINK;
    pick[7 * 2 + 1] = PRIOR_SHRINK;
    let pick = w.g.constant("prior_pick", &[CONTEXT_DIM, 2], &pick);
    let p = w.op("MatMul", &[&context, &pick]);
    let num = w.op("Add", &[&one, &p]);
    let den = w.op("Sub", &[&one, &p]);
    let ratio = w.op("Div", &[&num, &den]);
    let log = w.op("Log", &[&ratio]);
    let half = w.scalar("half", 0.5);
    let atanh = w.op("Mul", &[&log, &half]);
    let st = w.op("Add", &[&st, &atanh]);
    w.g.node("Tanh", &[&st], vec![], Some(STATE));
    w.gemm("out_log_var", &net.out_log_var, &z, Some(LOG_VAR));
    w.g.output(STATE, &[batch, Dim::Fixed(2)]);
    w.g.output(LOG_VAR, &[batch, Dim::Fixed(2)]);
    w.g.output(ATTENTION, &[batch, seq]);
    w.g.into_bytes(
        "Attune user emotion: the user's last events (engine::user_emotion::encode) -> current \
         valence/arousal (tanh), their log-variance, and the pooling attention over the events",
        metadata,
    )
}
