//! The emotion CNN as an ONNX graph (batch norms folded into the convolutions), with the names the
//! engine's runner expects.

use super::cnn::{FoldedCnn, QUADRANT_VA};
use crate::onnx::{Attr, Dim, Graph};
use attune_engine::audio::mel::N_MELS;
use attune_engine::models::emotion::{EMBEDDING, INPUT, PROBABILITIES, VALENCE_AROUSAL};

/// The ONNX bytes of a folded network; `metadata` goes into the model's properties.
pub fn onnx_bytes(cnn: &FoldedCnn, metadata: &[(&str, String)]) -> Vec<u8> {
    let mut g = Graph::new("attune_music_emotion");
    let batch = Dim::Named("batch");
    let mut x = g.input(
        INPUT,
        &[
            batch,
            Dim::Fixed(1),
            Dim::Fixed(N_MELS as i64),
            Dim::Named("time"),
        ],
    );
    for (i, (dims, w, b)) in cnn.convs.iter().enumerate() {
        let w = g.constant(&format!("conv{i}_w"), dims, w);
        let b = g.constant(&format!("conv{i}_b"), &[dims[0]], b);
        let c = g.node(
            "Conv",
            &[&x, &w, &b],
            vec![
                Attr::Ints("kernel_shape", vec![3, 3]),
                Attr::Ints("pads", vec![1, 1, 1, 1]),
                Attr::Ints("strides", vec![1, 1]),
            ],
            None,
        );
        let r = g.node("Relu", &[&c], vec![], None);
        x = g.node(
            "MaxPool",
            &[&r],
            vec![
                Attr::Ints("kernel_shape", vec![2, 2]),
                Attr::Ints("strides", vec![2, 2]),
            ],
            None,
        );
    }
    let pooled = g.node("GlobalAveragePool", &[&x], vec![], None);
    let emb = g.node(
        "Flatten",
        &[&pooled],
        vec![Attr::Int("axis", 1)],
        Some(EMBEDDING),
    );
    let (inp, hw, hb) = &cnn.head;
    let w = g.constant("head_w", &[*inp, 4], hw);
    let b = g.constant("head_b", &[4], hb);
    let logits = g.node("Gemm", &[&emb, &w, &b], vec![], None);
    let probs = g.node(
        "Softmax",
        &[&logits],
        vec![Attr::Int("axis", 1)],
        Some(PROBABILITIES),
    );
    let va: Vec<f32> = QUADRANT_VA.iter().flatten().copied().collect();
    let m = g.constant("quadrant_va", &[4, 2], &va);
    g.node("MatMul", &[&probs, &m], vec![], Some(VALENCE_AROUSAL));
    g.output(PROBABILITIES, &[batch, Dim::Fixed(4)]);
    g.output(VALENCE_AROUSAL, &[batch, Dim::Fixed(2)]);
    g.output(EMBEDDING, &[batch, Dim::Fixed(*inp as i64)]);
    g.into_bytes(
        "Attune music emotion: log-mel (96 bands, 22.05 kHz, hop 512, engine::audio::model_input) -> \
         quadrant probabilities (Q1..Q4), valence/arousal = expected quadrant signs, embedding",
        metadata,
    )
}
