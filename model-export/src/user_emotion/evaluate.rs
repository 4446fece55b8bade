//! Scores the model, its baselines and ablations on held-out examples: RMSE and MAE per axis,
//! quadrant accuracy, and a 95% bootstrap interval over users for the overall RMSE.

use super::baselines::{self, points, Ridge};
use super::dataset::{Drop, Example, Split};
use super::model::{GruNet, StateNet};
use super::train::{fit, predict, FitConfig, Fitted, Prediction};
use crate::rng::Rng;
use serde::Serialize;
use std::collections::BTreeMap;

/// Bootstrap resamples over users.
pub const BOOTSTRAP: usize = 1000;

/// Scores of one model on one set.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// Examples scored.
    pub n: usize,
    /// RMSE over both axes.
    pub rmse: f32,
    /// 95% bootstrap interval of `rmse` over users.
    pub rmse_ci: [f32; 2],
    /// RMSE of valence.
    pub rmse_valence: f32,
    /// RMSE of arousal.
    pub rmse_arousal: f32,
    /// MAE of valence.
    pub mae_valence: f32,
    /// MAE of arousal.
    pub mae_arousal: f32,
    /// Share of examples whose predicted quadrant (signs, 0 counts as positive) is the reported one.
    pub quadrant_accuracy: f32,
}

fn quadrant(v: [f32; 2]) -> (bool, bool) {
    (v[0] >= 0.0, v[1] >= 0.0)
}

fn rmse_of(pairs: &[(&Prediction, &Example)]) -> f32 {
    let se: f32 = pairs
        .iter()
        .map(|((p, _), e)| (p[0] - e.target[0]).powi(2) + (p[1] - e.target[1]).powi(2))
        .sum();
    (se / (2 * pairs.len().max(1)) as f32).sqrt()
}

/// Scores predictions against their examples.
pub fn metrics(pred: &[Prediction], examples: &[Example]) -> Metrics {
    let n = examples.len().max(1) as f32;
    let axis = |k: usize, sq: bool| {
        let s: f32 = pred
            .iter()
            .zip(examples)
            .map(|((p, _), e)| {
                let d = (p[k] - e.target[k]).abs();
                if sq {
                    d * d
                } else {
                    d
                }
            })
            .sum::<f32>()
            / n;
        if sq {
            s.sqrt()
        } else {
            s
        }
    };
    let hits = pred
        .iter()
        .zip(examples)
        .filter(|((p, _), e)| quadrant(*p) == quadrant(e.target))
        .count();
    let mut by_user: BTreeMap<u32, Vec<(&Prediction, &Example)>> = BTreeMap::new();
    for (p, e) in pred.iter().zip(examples) {
        by_user.entry(e.user).or_default().push((p, e));
    }
    let users: Vec<&Vec<(&Prediction, &Example)>> = by_user.values().collect();
    let mut rng = Rng::new(2024);
    let mut boot: Vec<f32> = (0..BOOTSTRAP)
        .map(|_| {
            let mut sample = Vec::new();
            for _ in 0..users.len() {
                sample.extend(users[rng.below(users.len())].iter().copied());
            }
            rmse_of(&sample)
        })
        .collect();
    boot.sort_by(f32::total_cmp);
    let all: Vec<(&Prediction, &Example)> = pred.iter().zip(examples).collect();
    Metrics {
        n: examples.len(),
        rmse: rmse_of(&all),
        rmse_ci: [
            boot[BOOTSTRAP * 25 / 1000],
            boot[BOOTSTRAP * 975 / 1000 - 1],
        ],
        rmse_valence: axis(0, true),
        rmse_arousal: axis(1, true),
        mae_valence: axis(0, false),
        mae_arousal: axis(1, false),
        quadrant_accuracy: hits as f32 / n,
    }
}

/// One row of the results table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What it is.
    pub name: String,
    /// `model`, `baseline` or `ablation`.
    pub kind: &'static str,
    /// How it was tuned (the chosen values).
    pub tuned: String,
    /// Test scores.
    pub test: Metrics,
    /// Validation RMSE (what tuning saw).
    pub valid_rmse: f32,
}

/// Everything an evaluation produced.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Examples per part of the split.
    pub counts: [usize; 3],
    /// Users with test examples.
    pub test_users: usize,
    /// The rows, model first.
    pub rows: Vec<Row>,
    /// The attention model's configuration.
    pub config: FitConfig,
    /// Validation RMSE of every configuration tried for the attention model and the GRU.
    pub search: Vec<(String, f32)>,
    /// Per epoch of the kept attention model: (train loss, validation RMSE).
    pub curve: Vec<(f32, f32)>,
    /// The epoch kept.
    pub best_epoch: usize,
    /// Mean attention on the newest event of each test history, and the share of test histories
    /// whose most attended event is a stated mood.
    pub attention: AttentionStats,
}

/// What the attention looks at, over the test histories.
#[derive(Debug, Clone, Serialize)]
pub struct AttentionStats {
    /// Mean weight of the newest event.
    pub newest: f32,
    /// Mean weight a uniform pooling would give the newest event.
    pub uniform_newest: f32,
    /// Share of histories whose most attended event is a stated mood.
    pub top_is_mood: f32,
}

fn row(
    name: &str,
    kind: &'static str,
    tuned: String,
    split: &Split,
    pred: (Vec<Prediction>, Vec<Prediction>),
) -> Row {
    Row {
        name: name.into(),
        kind,
        tuned,
        test: metrics(&pred.1, &split.test),
        valid_rmse: super::train::rmse(&pred.0, &split.valid),
    }
}

fn both<M: super::model::StateModel>(
    m: &M,
    split: &Split,
    drop: Drop,
) -> (Vec<Prediction>, Vec<Prediction>) {
    (
        predict(m, &split.valid, drop),
        predict(m, &split.test, drop),
    )
}

fn attention_stats(net: &StateNet, test: &[Example]) -> AttentionStats {
    use attune_engine::user_emotion::MAX_EVENTS;
    let device = burn::prelude::Device::flex();
    let (mut newest, mut uniform, mut mood) = (0.0, 0.0, 0.0);
    for chunk in test.chunks(256) {
        let refs: Vec<&Example> = chunk.iter().collect();
        let b = super::train::batch(&refs, Drop::Nothing, None, &device);
        let out = super::model::StateModel::run(net, b.events, b.mask, b.context);
        let att: Vec<f32> = out
            .attention
            .expect("attention")
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        for (i, ex) in chunk.iter().enumerate() {
            let row = &att[i * MAX_EVENTS..(i + 1) * MAX_EVENTS];
            newest += row[MAX_EVENTS - 1];
            uniform += 1.0 / ex.input.len as f32;
            let top = (0..MAX_EVENTS)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .expect("rows");
            if ex.input.row(top)[2] == 1.0 {
                mood += 1.0;
            }
        }
    }
    let n = test.len().max(1) as f32;
    AttentionStats {
        newest: newest / n,
        uniform_newest: uniform / n,
        top_is_mood: mood / n,
    }
}

/// Trains and scores everything on `split`; returns the evaluation and the attention model.
pub fn evaluate(split: &Split, base: &FitConfig, quick: bool) -> (Evaluation, Fitted<StateNet>) {
    let mut search = Vec::new();
    // The attention model: width, learning rate and L2 chosen on validation.
    let grid: Vec<(usize, f64, f32)> = if quick {
        vec![(base.width, base.lr, base.weight_decay)]
    } else {
        vec![
            (16, 1e-3, 1e-4),
            (32, 3e-3, 1e-4),
            (32, 3e-4, 1e-4),
            (32, 1e-3, 1e-2),
            (64, 3e-4, 1e-3),
        ]
    };
    let mut best: Option<(f32, FitConfig, Fitted<StateNet>)> = None;
    for (width, lr, weight_decay) in grid {
        let cfg = FitConfig {
            width,
            lr,
            weight_decay,
            ..base.clone()
        };
        let f = fit(
            |d| StateNet::new(width, false, d),
            &split.train,
            &split.valid,
            Drop::Nothing,
            &cfg,
        );
        let score = f.history[f.best_epoch].1;
        eprintln!(
            "  attention width {width} lr {lr} L2 {weight_decay}: validation RMSE {score:.4} (epoch {})",
            f.best_epoch + 1
        );
        search.push((
            format!("attention width {width}, lr {lr}, L2 {weight_decay}"),
            score,
        ));
        if best.as_ref().is_none_or(|(s, _, _)| score < *s) {
            best = Some((score, cfg, f));
        }
    }
    let (_, cfg, model) = best.expect("grid");
    let tuned = format!(
        "width {}, lr {}, L2 {}, epoch {} of {}",
        cfg.width,
        cfg.lr,
        cfg.weight_decay,
        model.best_epoch + 1,
        cfg.epochs
    );
    let mut rows = vec![row(
        "Attune self-attention",
        "model",
        tuned,
        split,
        both(&model.model, split, Drop::Nothing),
    )];

    // Baselines.
    rows.push(row(
        "last stated mood",
        "baseline",
        "-".into(),
        split,
        (
            points(&split.valid, baselines::last),
            points(&split.test, baselines::last),
        ),
    ));
    rows.push(row(
        "user mean so far",
        "baseline",
        "-".into(),
        split,
        (
            points(&split.valid, baselines::mean),
            points(&split.test, baselines::mean),
        ),
    ));
    let (alpha, _) = baselines::tune_ema(&split.valid);
    rows.push(row(
        "exponential moving average",
        "baseline",
        format!("rate {alpha}"),
        split,
        (
            points(&split.valid, |e| baselines::ema(e, alpha)),
            points(&split.test, |e| baselines::ema(e, alpha)),
        ),
    ));
    let (ridge, lambda, _) = Ridge::tune(&split.train, &split.valid, alpha);
    rows.push(row(
        "linear (ridge) on history summaries",
        "baseline",
        format!("L2 {lambda}, EMA rate {alpha}"),
        split,
        (
            points(&split.valid, |e| ridge.predict(e)),
            points(&split.test, |e| ridge.predict(e)),
        ),
    ));
    let gru_grid: &[usize] = if quick { &[16] } else { &[16, 32] };
    let mut best_gru: Option<(f32, usize, Fitted<GruNet>)> = None;
    for &h in gru_grid {
        let c = FitConfig {
            width: h,
            ..cfg.clone()
        };
        let f = fit(
            |d| GruNet::new(h, d),
            &split.train,
            &split.valid,
            Drop::Nothing,
            &c,
        );
        let score = f.history[f.best_epoch].1;
        eprintln!("  GRU hidden {h}: validation RMSE {score:.4}");
        search.push((format!("GRU hidden {h}"), score));
        if best_gru.as_ref().is_none_or(|(s, _, _)| score < *s) {
            best_gru = Some((score, h, f));
        }
    }
    let (_, h, gru) = best_gru.expect("grid");
    rows.push(row(
        "GRU",
        "baseline",
        format!("hidden {h}, epoch {}", gru.best_epoch + 1),
        split,
        both(&gru.model, split, Drop::Nothing),
    ));

    // Ablations: the chosen configuration retrained without one part.
    for (name, drop, mean_pool) in [
        ("without heart rate", Drop::Heart, false),
        ("without attention (mean pooling)", Drop::Nothing, true),
        ("without song emotion", Drop::Song, false),
    ] {
        let f = fit(
            |d| StateNet::new(cfg.width, mean_pool, d),
            &split.train,
            &split.valid,
            drop,
            &cfg,
        );
        eprintln!(
            "  ablation {name}: validation RMSE {:.4}",
            f.history[f.best_epoch].1
        );
        rows.push(row(
            name,
            "ablation",
            format!("epoch {}", f.best_epoch + 1),
            split,
            both(&f.model, split, drop),
        ));
    }
    let users = split
        .test
        .iter()
        .map(|e| e.user)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let attention = attention_stats(&model.model, &split.test);
    (
        Evaluation {
            counts: [split.train.len(), split.valid.len(), split.test.len()],
            test_users: users,
            rows,
            config: cfg,
            search,
            curve: model.history.clone(),
            best_epoch: model.best_epoch,
            attention,
        },
        model,
    )
}

/// The results as a markdown table.
pub fn table(e: &Evaluation) -> String {
    let mut s = String::from("| model | kind | RMSE [95% CI] | RMSE V | RMSE A | MAE V | MAE A | quadrant acc. | tuned (validation) |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for r in &e.rows {
        let m = &r.test;
        s.push_str(&format!(
            "| {} | {} | {:.4} [{:.3}, {:.3}] | {:.4} | {:.4} | {:.4} | {:.4} | {:.3} | {} (valid RMSE {:.4}) |\n",
            r.name, r.kind, m.rmse, m.rmse_ci[0], m.rmse_ci[1], m.rmse_valence, m.rmse_arousal, m.mae_valence, m.mae_arousal, m.quadrant_accuracy, r.tuned, r.valid_rmse
        ));
    }
    s
}
