//! Transfer from musicnn, a network pretrained on real recordings (the Million Song Dataset's
//! 50 Last.fm tags): its checkpoint is read from the `musicnn` wheel on PyPI (ISC licence,
//! pinned by hash, cached outside git by `scripts/setup.sh`), rebuilt as ONNX and run by tract;
//! its features feed a small valence/arousal head.

pub mod checkpoint;
pub mod features;
pub mod graph;
pub mod head;

use crate::onnx::{Dim, Graph};
use anyhow::{Context, Result};
use attune_engine::audio::mel::N_MELS;
use attune_engine::audio::musicnn::PATCH_FRAMES;
use std::path::PathBuf;

/// The wheel the weights come from.
pub const WHEEL: &str = "musicnn-0.1.0-py3-none-any.whl";
/// The MSD model's checkpoint prefix inside the unpacked wheel (its files are `.index` and
/// `.data-00000-of-00001`).
pub const CHECKPOINT: &str = "musicnn/MSD_musicnn/";
/// Graph input of the feature extractor and the shipped model.
pub const INPUT: &str = "patches";

/// Where `scripts/setup.sh` unpacks the wheel: `<cache>/musicnn-0.1.0/`.
pub fn unpacked_dir() -> PathBuf {
    crate::emotion::dataset::cache_dir().join("musicnn-0.1.0")
}

/// Reads the MSD checkpoint from the unpacked wheel.
pub fn load_checkpoint() -> Result<checkpoint::Checkpoint> {
    let prefix = unpacked_dir().join(CHECKPOINT);
    checkpoint::Checkpoint::read(&prefix).with_context(|| {
        format!(
            "reading musicnn's checkpoint at {} (scripts/setup.sh fetches {WHEEL})",
            prefix.display()
        )
    })
}

/// The feature extractor alone: `patches` -> `pool`, `penultimate`, `tags` per patch.
pub fn extractor_bytes(ckpt: &checkpoint::Checkpoint) -> Result<Vec<u8>> {
    let mut g = Graph::new("musicnn_msd");
    let p = Dim::Named("patches");
    let x = g.input(
        INPUT,
        &[
            p,
            Dim::Fixed(PATCH_FRAMES as i64),
            Dim::Fixed(N_MELS as i64),
        ],
    );
    let f = graph::backbone(&mut g, ckpt, &x)?;
    for (name, value, width) in [
        ("pool", &f.pool, graph::POOL_WIDTH),
        ("penultimate", &f.penultimate, graph::PENULTIMATE_WIDTH),
        ("tags", &f.tags, graph::TAGS),
    ] {
        let out = g.node("Identity", &[value], vec![], Some(name));
        g.output(&out, &[p, Dim::Fixed(width as i64)]);
    }
    Ok(g.into_bytes("musicnn (MSD) feature extractor", &[]))
}

/// The shipped model: `patches` -> musicnn -> the head's layer, averaged over the patches ->
/// standardised -> head -> P(positive valence) `pv` and P(high arousal) `pa` ->
/// `quadrant_probabilities` `[pv pa, (1-pv) pa, (1-pv)(1-pa), pv (1-pa)]` (the axes taken as
/// independent), `valence_arousal` `2p - 1` and `embedding` (the head's hidden layer, or the
/// standardised features of a linear head).
pub fn model_bytes(
    ckpt: &checkpoint::Checkpoint,
    head: &head::TrainedHead,
    metadata: &[(&str, String)],
) -> Result<Vec<u8>> {
    use crate::onnx::Attr;
    use attune_engine::models::emotion::{EMBEDDING, PROBABILITIES, VALENCE_AROUSAL};
    let mut g = Graph::new("attune_emotion_musicnn");
    let x = g.input(
        INPUT,
        &[
            Dim::Named("patches"),
            Dim::Fixed(PATCH_FRAMES as i64),
            Dim::Fixed(N_MELS as i64),
        ],
    );
    let f = graph::backbone(&mut g, ckpt, &x)?;
    let layer = match head.config.layer {
        head::Layer::Penultimate => f.penultimate.clone(),
        head::Layer::Tags => f.tags.clone(),
        head::Layer::Pool => f.pool.clone(),
        head::Layer::PenultimateTags => g.node(
            "Concat",
            &[&f.penultimate, &f.tags],
            vec![Attr::Int("axis", 1)],
            None,
        ),
    };
    let width = head.config.layer.width();
    let mean = g.node(
        "ReduceMean",
        &[&layer],
        vec![Attr::Ints("axes", vec![0]), Attr::Int("keepdims", 1)],
        None,
    );
    let mu = g.constant("feature_mean", &[1, width], &head.mean);
    let inv: Vec<f32> = head.std.iter().map(|s| 1.0 / s).collect();
    let inv = g.constant("feature_inv_std", &[1, width], &inv);
    let centred = g.node("Sub", &[&mean, &mu], vec![], None);
    let mut h = g.node("Mul", &[&centred, &inv], vec![], None);
    if let Some((w, b)) = &head.hidden {
        let units = b.len();
        let w = g.constant("hidden_w", &[width, units], w);
        let b = g.constant("hidden_b", &[1, units], b);
        let z = g.node("MatMul", &[&h, &w], vec![], None);
        let z = g.node("Add", &[&z, &b], vec![], None);
        h = g.node("Relu", &[&z], vec![], None);
    }
    let inner = head.inner();
    let embedding = g.node("Identity", &[&h], vec![], Some(EMBEDDING));
    let w = g.constant("out_w", &[inner, 2], &head.out.0);
    let b = g.constant("out_b", &[1, 2], &head.out.1);
    let z = g.node("MatMul", &[&h, &w], vec![], None);
    let z = g.node("Add", &[&z, &b], vec![], None);
    let p = g.node("Sigmoid", &[&z], vec![], None);
    let two = g.constant("two", &[1], &[2.0]);
    let one = g.constant("one", &[1], &[1.0]);
    let scaled = g.node("Mul", &[&p, &two], vec![], None);
    let va = g.node("Sub", &[&scaled, &one], vec![], Some(VALENCE_AROUSAL));
    let q = g.node("Sub", &[&one, &p], vec![], None);
    let col = |g: &mut Graph, t: &str, i: i64| {
        let idx = g.ints("column", &[i]);
        g.node("Gather", &[t, &idx], vec![Attr::Int("axis", 1)], None)
    };
    let (pv, pa, qv, qa) = (
        col(&mut g, &p, 0),
        col(&mut g, &p, 1),
        col(&mut g, &q, 0),
        col(&mut g, &q, 1),
    );
    let q1 = g.node("Mul", &[&pv, &pa], vec![], None);
    let q2 = g.node("Mul", &[&qv, &pa], vec![], None);
    let q3 = g.node("Mul", &[&qv, &qa], vec![], None);
    let q4 = g.node("Mul", &[&pv, &qa], vec![], None);
    let probs = g.node(
        "Concat",
        &[&q1, &q2, &q3, &q4],
        vec![Attr::Int("axis", 1)],
        Some(PROBABILITIES),
    );
    g.output(&probs, &[Dim::Fixed(1), Dim::Fixed(4)]);
    g.output(&va, &[Dim::Fixed(1), Dim::Fixed(2)]);
    g.output(&embedding, &[Dim::Fixed(1), Dim::Fixed(inner as i64)]);
    Ok(g.into_bytes(
        "Attune music emotion: musicnn (MSD) features under a valence/arousal head",
        metadata,
    ))
}

#[cfg(test)]
mod tests {
    //! The rebuild against musicnn's own TensorFlow outputs (`scripts/musicnn_reference.py`
    //! wrote the fixtures from the same checkpoint and a shipped free-shelf excerpt).
    use super::*;
    use attune_engine::audio::musicnn as front;
    use tract_onnx::prelude::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/musicnn")
            .join(name)
    }

    fn worst(got: &[f32], want: &[f32]) -> f32 {
        assert_eq!(got.len(), want.len());
        got.iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    fn flat(v: &serde_json::Value) -> Vec<f32> {
        match v {
            serde_json::Value::Array(a) => a.iter().flat_map(flat).collect(),
            x => vec![x.as_f64().unwrap() as f32],
        }
    }

    #[test]
    fn the_rebuilt_network_matches_tensorflow() {
        let ckpt = load_checkpoint().unwrap();
        let model = tract_onnx::onnx()
            .model_for_read(&mut &extractor_bytes(&ckpt).unwrap()[..])
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let bytes = std::fs::read(fixture("network.f32")).unwrap();
        let input: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let t = Tensor::from_shape(&[2, PATCH_FRAMES, N_MELS], &input).unwrap();
        let out = model.run(tvec!(t.into())).unwrap();
        let get = |i: usize| -> Vec<f32> {
            out[i]
                .to_plain_array_view::<f32>()
                .unwrap()
                .iter()
                .copied()
                .collect()
        };
        let want: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fixture("network.json")).unwrap()).unwrap();
        let (pool, pen, tags) = (get(0), get(1), get(2));
        let (max, mean) = (flat(&want["max_pool"]), flat(&want["mean_pool"]));
        let pool_want: Vec<f32> = (0..2 * 753).flat_map(|i| [max[i], mean[i]]).collect();
        assert!(
            worst(&pool, &pool_want) < 1e-3,
            "pool {}",
            worst(&pool, &pool_want)
        );
        assert!(
            worst(&pen, &flat(&want["penultimate"])) < 1e-3,
            "penultimate {}",
            worst(&pen, &flat(&want["penultimate"]))
        );
        assert!(
            worst(&tags, &flat(&want["tags"])) < 1e-4,
            "tags {}",
            worst(&tags, &flat(&want["tags"]))
        );
    }

    /// The wheel's SHA-256 (PyPI's).
    const WHEEL_SHA256: &str = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa";

    /// The setup script fetches the wheel this module pins.
    #[test]
    fn setup_pins_the_same_wheel() {
        let setup = include_str!("../../../../scripts/setup.sh");
        assert!(setup.contains(WHEEL_SHA256) && setup.contains("musicnn==0.1.0"));
    }

    #[test]
    fn the_engine_front_end_matches_librosa() {
        let n = 32_000usize;
        let signal: Vec<f32> = (0..n)
            .map(|i| {
                let (i, n) = (i as f64, n as f64);
                let pi2 = 2.0 * std::f64::consts::PI;
                (0.4 * (pi2 * (200.0 + 1500.0 * i / n) * i / 16_000.0).sin()
                    + 0.1 * (pi2 * 3000.0 * i / 16_000.0).sin()) as f32
            })
            .collect();
        let got: Vec<f32> = front::frames(&signal, 16_000)
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        let want: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fixture("frontend.json")).unwrap()).unwrap();
        let want = flat(&want["frames"]);
        // log10(1 + 10^4 S) is within 1e-3 of librosa's wherever it is above the noise floor.
        assert!(
            worst(&got, &want) < 2e-3,
            "front end {}",
            worst(&got, &want)
        );
    }
}
