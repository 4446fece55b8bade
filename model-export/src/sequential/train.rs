//! Fitting [`SasRec`] with burn (flex CPU backend + autodiff). Every training user's sequence is
//! cut into windows of `max_len + 1` artists from its end (consecutive windows share one artist,
//! so every step of the sequence is a target once); each step of a window predicts the next
//! artist, with the loss the cross-entropy of a full softmax over the catalog (about 6k artists:
//! no negative sampling needed). Adam with a cosine learning-rate decay; the epoch with the best
//! validation NDCG@10 is kept. Artists first tagged on the same date have no real order, so
//! (with `reshuffle_ties`) each epoch sees them in a fresh random order.

use super::model::{SasRec, SasRecShape};
use super::sequences::Sequence;
use crate::rng::Rng;
use crate::tensors::values;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::Serialize;

/// Artists already seen get this subtracted from their logits (with `mask_seen`; never the
/// step's own target, should it repeat).
const SEEN_BIAS: f32 = 1e4;

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SasRecConfig {
    /// Model width.
    pub width: usize,
    /// Attention blocks.
    pub blocks: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// Longest input sequence (older artists are dropped).
    pub max_len: usize,
    /// Epochs (the best one on validation is kept).
    pub epochs: usize,
    /// Windows per step.
    pub batch: usize,
    /// Peak Adam learning rate (cosine decay to 5% of it).
    pub lr: f64,
    /// Adam's L2 penalty.
    pub weight_decay: f32,
    /// Shuffle artists with the same first-tag date afresh every epoch.
    pub reshuffle_ties: bool,
    /// Leave the artists already in the window out of each step's softmax (the evaluation ranks
    /// the catalog minus the input, and a user tags an artist once).
    pub mask_seen: bool,
    /// Seed (initialisation, dropout, order).
    pub seed: u64,
}

/// A fitted network and its curve.
pub struct FittedSasRec {
    /// The best epoch's network (inference mode).
    pub net: SasRec,
    /// The epoch kept (0-based).
    pub best_epoch: usize,
    /// Per epoch: (train loss per target, validation NDCG@10).
    pub history: Vec<(f32, f64)>,
}

/// The training windows of one sequence: `max_len + 1` artists each, taken from the end.
pub fn windows(seq: &[u32], max_len: usize) -> Vec<&[u32]> {
    let mut out = Vec::new();
    let mut end = seq.len();
    while end >= 2 {
        let start = end.saturating_sub(max_len + 1);
        out.push(&seq[start..end]);
        if start == 0 {
            break;
        }
        end = start + 1;
    }
    out
}

/// Right-pads `rows` (each 1..=t long) into a `[rows, t]` index tensor; returns it and, per row,
/// the flat index of its last step.
fn padded(rows: &[&[u32]], device: &Device) -> (Tensor<2, Int>, usize) {
    let t = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
    let mut ids = vec![0i64; rows.len() * t];
    for (r, row) in rows.iter().enumerate() {
        for (p, &i) in row.iter().enumerate() {
            ids[r * t + p] = i64::from(i);
        }
    }
    (
        Tensor::from_data(TensorData::new(ids, [rows.len(), t]), device),
        t,
    )
}

/// Scores of every artist after each input sequence (its last `max_len` artists), under an
/// inference-mode network; one row of `items` scores per input.
pub fn score(net: &SasRec, inputs: &[&[u32]]) -> Vec<Vec<f32>> {
    let device = Device::flex();
    let shape = net.shape();
    let mut out = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(64) {
        let rows: Vec<&[u32]> = chunk
            .iter()
            .map(|s| &s[s.len().saturating_sub(shape.max_len)..])
            .collect();
        let (seq, t) = padded(&rows, &device);
        let last: Vec<i64> = rows
            .iter()
            .enumerate()
            .map(|(r, row)| (r * t + row.len() - 1) as i64)
            .collect();
        let h = net
            .hidden(seq)
            .reshape([rows.len() * t, shape.width])
            .select(
                0,
                Tensor::from_data(TensorData::new(last, [rows.len()]), &device),
            );
        let v = values(net.logits(h));
        out.extend(v.chunks_exact(shape.items).map(<[f32]>::to_vec));
    }
    out
}

/// Fits on `train` (the training users' sequences) for `items` artists; `validate` scores a
/// network (NDCG@10 on the validation users, higher is better) after every epoch.
pub fn fit(
    train: &[Sequence],
    items: usize,
    cfg: &SasRecConfig,
    mut validate: impl FnMut(&SasRec) -> f64,
) -> FittedSasRec {
    Device::flex().seed(cfg.seed);
    let device = Device::flex().autodiff();
    let shape = SasRecShape {
        items,
        max_len: cfg.max_len,
        width: cfg.width,
        blocks: cfg.blocks,
        dropout: cfg.dropout,
    };
    let mut net = SasRec::new(shape, &device);
    let mut optim = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(cfg.weight_decay)))
        .init();
    let mut rng = Rng::new(cfg.seed);
    let started = std::time::Instant::now();
    let n_windows: usize = train
        .iter()
        .map(|s| windows(&s.items, cfg.max_len).len())
        .sum();
    let targets: usize = train.iter().map(|s| s.items.len().saturating_sub(1)).sum();
    let total = (n_windows.div_ceil(cfg.batch) * cfg.epochs).max(1);
    let mut step = 0;
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut best: Option<(f64, usize, SasRec)> = None;
    for epoch in 0..cfg.epochs {
        let seqs: Vec<Vec<u32>> = train
            .iter()
            .map(|s| {
                if cfg.reshuffle_ties {
                    s.reshuffled(&mut rng)
                } else {
                    s.items.clone()
                }
            })
            .collect();
        let wins: Vec<&[u32]> = seqs.iter().flat_map(|s| windows(s, cfg.max_len)).collect();
        let mut order: Vec<usize> = (0..wins.len()).collect();
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0f32;
        for chunk in order.chunks(cfg.batch) {
            let inputs: Vec<&[u32]> = chunk
                .iter()
                .map(|&w| &wins[w][..wins[w].len() - 1])
                .collect();
            let (seq, t) = padded(&inputs, &device);
            let (mut at, mut next) = (Vec::new(), Vec::new());
            for (r, &w) in chunk.iter().enumerate() {
                for (p, &i) in wins[w][1..].iter().enumerate() {
                    at.push((r * t + p) as i64);
                    next.push(i64::from(i));
                }
            }
            let m = at.len();
            let seen = cfg.mask_seen.then(|| {
                let mut bias = vec![0.0f32; m * items];
                let mut row = 0;
                for &w in chunk {
                    let win = wins[w];
                    for p in 0..win.len() - 1 {
                        for &i in win[..=p].iter().filter(|&&i| i != win[p + 1]) {
                            bias[row * items + i as usize] = -SEEN_BIAS;
                        }
                        row += 1;
                    }
                }
                Tensor::<2>::from_data(TensorData::new(bias, [m, items]), &device)
            });
            let h = net
                .hidden(seq)
                .reshape([chunk.len() * t, cfg.width])
                .select(0, Tensor::from_data(TensorData::new(at, [m]), &device));
            // Cross-entropy as logsumexp(all) - target logit: no [m, items] one-hot or gather.
            let next = Tensor::<1, Int>::from_data(TensorData::new(next, [m]), &device);
            let target = (h.clone() * net.item.val().select(0, next)).sum_dim(1);
            let logits = match seen {
                Some(bias) => net.logits(h) + bias,
                None => net.logits(h),
            };
            let top = logits.clone().max_dim(1).detach();
            let lse = (logits - top.clone()).exp().sum_dim(1).log() + top;
            let loss = (lse - target).mean();
            loss_sum += loss.clone().into_scalar::<f32>() * m as f32;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            let progress = step as f64 / total as f64;
            let lr = crate::schedule::cosine_lr(cfg.lr, progress);
            net = optim.step(lr, net, grads);
            step += 1;
        }
        let inference = net.valid();
        let score = validate(&inference);
        let loss = loss_sum / targets.max(1) as f32;
        eprintln!(
            "  SASRec width {} blocks {} dropout {} lr {} epoch {epoch}: loss {loss:.4}, validation NDCG@10 {score:.4} ({:.0} s)",
            cfg.width, cfg.blocks, cfg.dropout, cfg.lr, started.elapsed().as_secs_f64()
        );
        history.push((loss, score));
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, epoch, inference));
        }
    }
    let (_, best_epoch, net) = best.expect("at least one epoch");
    FittedSasRec {
        net,
        best_epoch,
        history,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_every_step_once() {
        let s: Vec<u32> = (0..10).collect();
        let w = windows(&s, 4);
        assert_eq!(w, vec![&s[5..10], &s[1..6], &s[0..2]]);
        let steps: usize = w.iter().map(|w| w.len() - 1).sum();
        assert_eq!(steps, 9);
        assert!(windows(&[3], 4).is_empty());
        assert_eq!(windows(&[3, 4], 4), vec![&[3u32, 4][..]]);
    }

    #[test]
    fn sasrec_learns_a_deterministic_cycle() {
        // 8 artists; every user walks the cycle 0 -> 1 -> ... -> 7 -> 0 from a different start.
        let items = 8;
        let train: Vec<Sequence> = (0..64)
            .map(|u| Sequence {
                user: u as u32,
                items: (0..12).map(|p| ((u + p) % items) as u32).collect(),
                dates: (0..12).collect(),
            })
            .collect();
        let cfg = SasRecConfig {
            width: 16,
            blocks: 1,
            dropout: 0.1,
            max_len: 8,
            epochs: 40,
            batch: 32,
            lr: 1e-2,
            weight_decay: 0.0,
            reshuffle_ties: true,
            mask_seen: false,
            seed: 3,
        };
        // Rising "validation" scores keep the last epoch.
        let mut epoch = 0.0;
        let fitted = fit(&train, items, &cfg, |_| {
            epoch += 1.0;
            epoch
        });
        // Prefixes of unseen start points and lengths, also longer than max_len.
        let probes: Vec<Vec<u32>> = (0..items)
            .flat_map(|s| [1, 3, 10].map(|n| (0..n).map(|p| ((s + p) % items) as u32).collect()))
            .collect();
        let refs: Vec<&[u32]> = probes.iter().map(Vec::as_slice).collect();
        for (p, s) in probes.iter().zip(score(&fitted.net, &refs)) {
            let next = (p.last().unwrap() + 1) % items as u32;
            let top = (0..items).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
            assert_eq!(top as u32, next, "after {p:?}: {s:?}");
        }
    }
}
