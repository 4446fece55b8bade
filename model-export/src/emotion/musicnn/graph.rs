//! musicnn (MSD, Pons & Serra 2019) rebuilt as an ONNX graph from its TensorFlow checkpoint:
//! front end (timbral 7x38 and 7x67 filters, temporal 128/64/32 filters, each max-pooled over
//! frequency), mid end (three 7-frame convolutions with residual connections), back end (max and
//! mean over time, dense 200, the 50 MSD tags). Batch norms (inference form, epsilon 1e-3, after
//! each ReLU as in the original) are `Mul` + `Add`; layout is `[patch, channel, time]` after the
//! front end. Every shape and name is checked against the checkpoint.

use super::checkpoint::{Checkpoint, CheckpointError};
use crate::onnx::{Attr, Graph};
use attune_engine::audio::mel::N_MELS;
use attune_engine::audio::musicnn::PATCH_FRAMES;

/// Batch-norm epsilon of `tf.compat.v1.layers.batch_normalization`.
const BN_EPSILON: f32 = 1e-3;

/// Widths of the back end's outputs.
pub const POOL_WIDTH: usize = 2 * 753;
/// The penultimate layer's width.
pub const PENULTIMATE_WIDTH: usize = 200;
/// MSD tags.
pub const TAGS: usize = 50;

/// The tensors the back end gives per patch.
pub struct Features {
    /// `[patches, 1506]`: max and mean over time of every mid-end feature, interleaved
    /// (musicnn's flattened pool, before its batch norm).
    pub pool: String,
    /// `[patches, 200]`: the penultimate dense layer after its batch norm (musicnn's
    /// "penultimate" feature).
    pub penultimate: String,
    /// `[patches, 50]`: tag probabilities (sigmoid of the logits).
    pub tags: String,
}

/// A batch norm in inference form as (scale, shift) per channel.
fn bn(ckpt: &Checkpoint, name: &str, n: usize) -> Result<(Vec<f32>, Vec<f32>), CheckpointError> {
    let get = |v: &str| {
        ckpt.get(&format!("{name}/{v}"), &[n])
            .map(|v| v.values.clone())
    };
    let (gamma, beta, mean, var) = (
        get("gamma")?,
        get("beta")?,
        get("moving_mean")?,
        get("moving_variance")?,
    );
    let scale: Vec<f32> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| g / (v + BN_EPSILON).sqrt())
        .collect();
    let shift = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    Ok((scale, shift))
}

/// `x * scale + shift`, with the per-channel vectors shaped `dims` to broadcast.
fn affine(
    g: &mut Graph,
    x: &str,
    (scale, shift): (Vec<f32>, Vec<f32>),
    dims: &[usize],
    hint: &str,
) -> String {
    let s = g.constant(&format!("{hint}_scale"), dims, &scale);
    let b = g.constant(&format!("{hint}_shift"), dims, &shift);
    let m = g.node("Mul", &[x, &s], vec![], None);
    g.node("Add", &[&m, &b], vec![], None)
}

/// A TF conv kernel `[kh, kw, in, out]` as ONNX `[out, in, kh, kw]`.
fn conv_kernel(tf: &[f32], [kh, kw, cin, cout]: [usize; 4]) -> Vec<f32> {
    let mut out = vec![0.0; tf.len()];
    for h in 0..kh {
        for w in 0..kw {
            for i in 0..cin {
                for o in 0..cout {
                    out[((o * cin + i) * kh + h) * kw + w] =
                        tf[((h * kw + w) * cin + i) * cout + o];
                }
            }
        }
    }
    out
}

/// Conv (2-D, TF kernel `[kh, kw, 1, out]` on a 1-channel `[p, 1, time, mel]` input) -> ReLU ->
/// BN -> max over frequency: `[p, out, time]`.
fn front_block(
    g: &mut Graph,
    ckpt: &Checkpoint,
    x: &str,
    (conv, norm): (&str, &str),
    [kh, kw, out]: [usize; 3],
    pads: [i64; 2],
) -> Result<String, CheckpointError> {
    let k = ckpt.get(&format!("{conv}/kernel"), &[kh, kw, 1, out])?;
    let b = ckpt.get(&format!("{conv}/bias"), &[out])?;
    let w = g.constant(
        conv,
        &[out, 1, kh, kw],
        &conv_kernel(&k.values, [kh, kw, 1, out]),
    );
    let bias = g.constant(&format!("{conv}_b"), &[out], &b.values);
    let c = g.node(
        "Conv",
        &[x, &w, &bias],
        vec![
            Attr::Ints("kernel_shape", vec![kh as i64, kw as i64]),
            Attr::Ints("pads", vec![pads[0], 0, pads[1], 0]),
        ],
        None,
    );
    let r = g.node("Relu", &[&c], vec![], None);
    let n = affine(g, &r, bn(ckpt, norm, out)?, &[out, 1, 1], norm);
    Ok(g.node(
        "ReduceMax",
        &[&n],
        vec![Attr::Ints("axes", vec![3]), Attr::Int("keepdims", 0)],
        None,
    ))
}

/// A mid-end layer: 1-D conv over time (7 frames, same padding) -> ReLU -> BN, `[p, c, time]`.
fn mid_block(
    g: &mut Graph,
    ckpt: &Checkpoint,
    x: &str,
    (conv, norm): (&str, &str),
    cin: usize,
    out: usize,
) -> Result<String, CheckpointError> {
    let k = ckpt.get(&format!("{conv}/kernel"), &[7, cin, 1, out])?;
    let b = ckpt.get(&format!("{conv}/bias"), &[out])?;
    // TF [7, cin, 1, out] (time, feature, 1, out) -> ONNX 1-D [out, cin, 7].
    let mut w = vec![0.0; k.values.len()];
    for t in 0..7 {
        for i in 0..cin {
            for o in 0..out {
                w[(o * cin + i) * 7 + t] = k.values[(t * cin + i) * out + o];
            }
        }
    }
    let w = g.constant(conv, &[out, cin, 7], &w);
    let bias = g.constant(&format!("{conv}_b"), &[out], &b.values);
    let c = g.node(
        "Conv",
        &[x, &w, &bias],
        vec![
            Attr::Ints("kernel_shape", vec![7]),
            Attr::Ints("pads", vec![3, 3]),
        ],
        None,
    );
    let r = g.node("Relu", &[&c], vec![], None);
    Ok(affine(g, &r, bn(ckpt, norm, out)?, &[out, 1], norm))
}

/// A dense layer with a TF kernel `[in, out]`.
fn dense(
    g: &mut Graph,
    ckpt: &Checkpoint,
    x: &str,
    name: &str,
    cin: usize,
    out: usize,
) -> Result<String, CheckpointError> {
    let k = ckpt.get(&format!("{name}/kernel"), &[cin, out])?;
    let b = ckpt.get(&format!("{name}/bias"), &[out])?;
    let w = g.constant(name, &[cin, out], &k.values);
    let b = g.constant(&format!("{name}_b"), &[out], &b.values);
    Ok(g.node("Gemm", &[x, &w, &b], vec![], None))
}

/// Adds musicnn to `g`, reading `input` (`[patches, 187, 96]`, the engine's
/// `audio::musicnn::Patches`), and returns its per-patch features.
pub fn backbone(
    g: &mut Graph,
    ckpt: &Checkpoint,
    input: &str,
) -> Result<Features, CheckpointError> {
    let axes = g.ints("axis1", &[1]);
    let x = g.node("Unsqueeze", &[input, &axes], vec![], None);
    let x = affine(g, &x, bn(ckpt, "batch_normalization", 1)?, &[1], "input_bn");
    // Front end: timbral (time padded by 3 on both sides, valid in frequency) and temporal
    // ("same" padding in time as TensorFlow splits it: the extra frame goes after).
    let f74 = front_block(
        g,
        ckpt,
        &x,
        ("conv2d", "batch_normalization_1"),
        [7, 38, 204],
        [3, 3],
    )?;
    let f77 = front_block(
        g,
        ckpt,
        &x,
        ("conv2d_1", "batch_normalization_2"),
        [7, 67, 204],
        [3, 3],
    )?;
    let s1 = front_block(
        g,
        ckpt,
        &x,
        ("conv2d_2", "batch_normalization_3"),
        [128, 1, 51],
        [63, 64],
    )?;
    let s2 = front_block(
        g,
        ckpt,
        &x,
        ("conv2d_3", "batch_normalization_4"),
        [64, 1, 51],
        [31, 32],
    )?;
    let s3 = front_block(
        g,
        ckpt,
        &x,
        ("conv2d_4", "batch_normalization_5"),
        [32, 1, 51],
        [15, 16],
    )?;
    let front = g.node(
        "Concat",
        &[&f74, &f77, &s1, &s2, &s3],
        vec![Attr::Int("axis", 1)],
        None,
    );
    // Mid end: dense connections with residuals.
    let c1 = mid_block(
        g,
        ckpt,
        &front,
        ("conv2d_5", "batch_normalization_6"),
        561,
        64,
    )?;
    let c2 = mid_block(g, ckpt, &c1, ("conv2d_6", "batch_normalization_7"), 64, 64)?;
    let c2 = g.node("Add", &[&c2, &c1], vec![], None);
    let c3 = mid_block(g, ckpt, &c2, ("conv2d_7", "batch_normalization_8"), 64, 64)?;
    let c3 = g.node("Add", &[&c3, &c2], vec![], None);
    let mid = g.node(
        "Concat",
        &[&front, &c1, &c2, &c3],
        vec![Attr::Int("axis", 1)],
        None,
    );
    // Back end: [p, 753, 2] (max, mean) flattened, as TF's flatten of [p, 753, 2] orders it.
    let keep = |axis: i64| vec![Attr::Ints("axes", vec![axis]), Attr::Int("keepdims", 1)];
    let max = g.node("ReduceMax", &[&mid], keep(2), None);
    let mean = g.node("ReduceMean", &[&mid], keep(2), None);
    let both = g.node("Concat", &[&max, &mean], vec![Attr::Int("axis", 2)], None);
    let pool = g.node("Flatten", &[&both], vec![Attr::Int("axis", 1)], None);
    let normed = affine(
        g,
        &pool,
        bn(ckpt, "batch_normalization_9", POOL_WIDTH)?,
        &[POOL_WIDTH],
        "pool_bn",
    );
    let d = dense(g, ckpt, &normed, "dense", POOL_WIDTH, PENULTIMATE_WIDTH)?;
    let d = g.node("Relu", &[&d], vec![], None);
    let penultimate = affine(
        g,
        &d,
        bn(ckpt, "batch_normalization_10", PENULTIMATE_WIDTH)?,
        &[PENULTIMATE_WIDTH],
        "dense_bn",
    );
    let logits = dense(g, ckpt, &penultimate, "dense_1", PENULTIMATE_WIDTH, TAGS)?;
    let tags = g.node("Sigmoid", &[&logits], vec![], None);
    debug_assert_eq!(N_MELS, 96);
    debug_assert_eq!(PATCH_FRAMES, 187);
    Ok(Features {
        pool,
        penultimate,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_are_transposed_to_onnx_order() {
        // TF [kh=2, kw=1, in=1, out=2]: values (h, o) = 10h + o.
        let tf = [0.0, 1.0, 10.0, 11.0];
        assert_eq!(conv_kernel(&tf, [2, 1, 1, 2]), vec![0.0, 10.0, 1.0, 11.0]);
    }
}
