//! Transfer from musicnn (issue 16): every head candidate (layer x width x penalty x training
//! data) is trained on EMOPIA's training songs (optionally with the real-audio set's training
//! part), scored on the real-audio validation part and EMOPIA's validation songs, and the winner
//! on validation is written as the shipped ONNX model. Test parts are scored for the report only.

use super::dataset::{list_clips, part_of, Clip, Part, Quadrant};
use super::evaluate::Scores;
use super::musicnn::features::{clip_features, par_map, Extractor, Features};
use super::musicnn::head::{train, HeadConfig, Labelled, Layer, TrainedHead};
use super::real_audio::{self, auc_interval, roc_auc, Recording, Split};
use anyhow::Result;
use serde::Serialize;
use std::path::Path;

/// Features of both sets.
pub struct Data {
    /// EMOPIA clips and their features.
    pub emopia: Vec<(Clip, Features)>,
    /// Real recordings and their features.
    pub real: Vec<(Recording, Features)>,
}

/// Loads (or computes and caches) musicnn's features of EMOPIA and the real-audio set.
pub fn load(emopia: &Path) -> Result<Data> {
    let clips = list_clips(emopia)?;
    let recordings = real_audio::load()?;
    let ex = Extractor::load()?;
    eprintln!(
        "musicnn features: {} EMOPIA clips, {} real recordings",
        clips.len(),
        recordings.len()
    );
    let f = clip_features(&ex, &clips)?;
    let rf = par_map(&recordings, "recordings' musicnn features", |r| {
        ex.cached(
            &[b"real-audio:".as_slice(), r.sha256.as_bytes()].concat(),
            || r.samples(),
        )
    })?;
    Ok(Data {
        emopia: clips.into_iter().zip(f).collect(),
        real: recordings.into_iter().zip(rf).collect(),
    })
}

/// What a head is trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Source {
    /// EMOPIA's training songs.
    Emopia,
    /// EMOPIA's training songs and the real-audio training part (weighted up: it is small).
    EmopiaAndReal,
}

/// Weight of one real recording against one EMOPIA clip when both train a head.
pub const REAL_WEIGHT: f32 = 10.0;

/// One candidate: a head configuration and its training data.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The head.
    pub config: HeadConfig,
    /// Its data.
    pub source: Source,
}

impl Candidate {
    /// A short name for tables.
    pub fn name(&self) -> String {
        let c = &self.config;
        format!(
            "musicnn {} -> {} (L2 {}){}",
            c.layer.name(),
            if c.hidden == 0 {
                "linear".to_string()
            } else {
                format!("{} ReLU", c.hidden)
            },
            c.weight_decay,
            match self.source {
                Source::Emopia => "",
                Source::EmopiaAndReal => ", + real train",
            }
        )
    }
}

/// The grid searched.
pub fn candidates() -> Vec<Candidate> {
    let mut out = Vec::new();
    for layer in Layer::ALL {
        for hidden in [0, 64] {
            for weight_decay in [1e-3, 1e-1] {
                for source in [Source::Emopia, Source::EmopiaAndReal] {
                    out.push(Candidate {
                        config: HeadConfig {
                            layer,
                            hidden,
                            weight_decay,
                            ..HeadConfig::default()
                        },
                        source,
                    });
                }
            }
        }
    }
    out
}

fn training_set(d: &Data, c: &Candidate) -> Vec<Labelled> {
    let layer = c.config.layer;
    let mut set: Vec<Labelled> = d
        .emopia
        .iter()
        .filter(|(clip, _)| part_of(&clip.song) == Part::Train)
        .map(|(clip, f)| Labelled {
            x: layer.pick(f),
            valence: Some(clip.quadrant.positive_valence()),
            arousal: Some(clip.quadrant.high_arousal()),
            weight: 1.0,
        })
        .collect();
    if c.source == Source::EmopiaAndReal {
        set.extend(
            d.real
                .iter()
                .filter(|(r, _)| r.split == Split::Train)
                .map(|(r, f)| Labelled {
                    x: layer.pick(f),
                    valence: r.valence,
                    arousal: r.arousal,
                    weight: REAL_WEIGHT,
                }),
        );
    }
    set
}

/// Quadrant probabilities from the two axis probabilities (taken as independent), as the ONNX
/// graph computes them.
pub fn quadrants([pv, pa]: [f32; 2]) -> [f32; 4] {
    [
        pv * pa,
        (1.0 - pv) * pa,
        (1.0 - pv) * (1.0 - pa),
        pv * (1.0 - pa),
    ]
}

/// Recordings per top quadrant Q1..Q4.
pub fn spread(probs: &[[f32; 4]]) -> [usize; 4] {
    let mut s = [0; 4];
    for p in probs {
        s[Quadrant::argmax(p).index()] += 1;
    }
    s
}

/// A model's scores on one part of the real-audio set.
#[derive(Debug, Clone, Serialize)]
pub struct RealScores {
    /// Arousal ROC-AUC (scores: expected arousal) over the arousal-labelled recordings.
    pub arousal_auc: Option<f32>,
    /// Its 95% bootstrap interval.
    pub arousal_ci: [f32; 2],
    /// (high, low) recordings.
    pub arousal_n: [usize; 2],
    /// Valence ROC-AUC.
    pub valence_auc: Option<f32>,
    /// Its interval.
    pub valence_ci: [f32; 2],
    /// (positive, negative) recordings.
    pub valence_n: [usize; 2],
    /// Recordings per top quadrant Q1..Q4 (every recording of the part).
    pub spread: [usize; 4],
}

impl RealScores {
    /// Scores `probs` (quadrant probabilities, one per recording of `recs`).
    pub fn of(recs: &[&Recording], probs: &[[f32; 4]]) -> RealScores {
        let axis = |get: fn(&Recording) -> Option<bool>, sign: fn(&[f32; 4]) -> f32| {
            let (s, l): (Vec<f32>, Vec<bool>) = recs
                .iter()
                .zip(probs)
                .filter_map(|(r, p)| get(r).map(|l| (sign(p), l)))
                .unzip();
            let n = [
                l.iter().filter(|x| **x).count(),
                l.iter().filter(|x| !**x).count(),
            ];
            (roc_auc(&s, &l), auc_interval(&s, &l), n)
        };
        let (arousal_auc, arousal_ci, arousal_n) =
            axis(|r| r.arousal, |p| p[0] + p[1] - p[2] - p[3]);
        let (valence_auc, valence_ci, valence_n) =
            axis(|r| r.valence, |p| p[0] + p[3] - p[1] - p[2]);
        RealScores {
            arousal_auc,
            arousal_ci,
            arousal_n,
            valence_auc,
            valence_ci,
            valence_n,
            spread: spread(probs),
        }
    }

    /// The selection score: the mean of the two AUCs (0.5 for an axis without both classes).
    pub fn mean_auc(&self) -> f32 {
        (self.arousal_auc.unwrap_or(0.5) + self.valence_auc.unwrap_or(0.5)) / 2.0
    }
}

/// The recordings of one split.
pub fn real_part(d: &Data, split: Split) -> Vec<&(Recording, Features)> {
    d.real.iter().filter(|(r, _)| r.split == split).collect()
}

/// A candidate's results.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    /// What was trained.
    pub candidate: Candidate,
    /// Its name.
    pub name: String,
    /// Real-audio validation part (chooses).
    pub real_val: RealScores,
    /// EMOPIA validation songs (breaks ties).
    pub emopia_val_quadrant: f32,
    /// Real-audio test part (reported only).
    pub real_test: RealScores,
    /// EMOPIA held-out songs (reported only).
    pub emopia_test: Scores,
}

/// Scores a trained head on every part.
pub fn score(d: &Data, head: &TrainedHead, name: &str) -> (RealScores, f32, RealScores, Scores) {
    let layer = head.config.layer;
    let real = |split| {
        let part = real_part(d, split);
        let recs: Vec<&Recording> = part.iter().map(|(r, _)| r).collect();
        let probs: Vec<[f32; 4]> = part
            .iter()
            .map(|(_, f)| quadrants(head.predict(&layer.pick(f)).0))
            .collect();
        RealScores::of(&recs, &probs)
    };
    let emopia = |part| {
        let clips: Vec<&(Clip, Features)> = d
            .emopia
            .iter()
            .filter(|(c, _)| part_of(&c.song) == part)
            .collect();
        let truth: Vec<Quadrant> = clips.iter().map(|(c, _)| c.quadrant).collect();
        let songs: Vec<&str> = clips.iter().map(|(c, _)| c.song.as_str()).collect();
        let probs: Vec<[f32; 4]> = clips
            .iter()
            .map(|(_, f)| quadrants(head.predict(&layer.pick(f)).0))
            .collect();
        Scores::of(name, &truth, &probs, &songs)
    };
    (
        real(Split::Val),
        emopia(Part::Validation).quadrant_accuracy,
        real(Split::Test),
        emopia(Part::Test),
    )
}

/// Trains and scores every candidate; returns them (grid order) and the index of the winner:
/// the best mean of real-validation arousal and valence AUC, ties within 0.005 going to
/// EMOPIA-validation 4-quadrant accuracy.
pub fn search(d: &Data) -> (Vec<Scored>, Vec<TrainedHead>, usize) {
    let mut scored = Vec::new();
    let mut heads = Vec::new();
    for c in candidates() {
        let started = std::time::Instant::now();
        let head = train(&training_set(d, &c), &c.config);
        let name = c.name();
        let (real_val, emopia_val_quadrant, real_test, emopia_test) = score(d, &head, &name);
        eprintln!(
            "  {name}: real val AUC arousal {:?} valence {:?}, EMOPIA val 4Q {emopia_val_quadrant:.3} ({:.1} s)",
            real_val.arousal_auc,
            real_val.valence_auc,
            started.elapsed().as_secs_f32()
        );
        scored.push(Scored {
            candidate: c,
            name,
            real_val,
            emopia_val_quadrant,
            real_test,
            emopia_test,
        });
        heads.push(head);
    }
    let best = choose(&scored);
    (scored, heads, best)
}

fn choose(scored: &[Scored]) -> usize {
    let top = scored
        .iter()
        .map(|s| s.real_val.mean_auc())
        .fold(f32::MIN, f32::max);
    (0..scored.len())
        .filter(|&i| scored[i].real_val.mean_auc() >= top - 0.005)
        .max_by(|&a, &b| {
            scored[a]
                .emopia_val_quadrant
                .total_cmp(&scored[b].emopia_val_quadrant)
                .then(b.cmp(&a))
        })
        .expect("at least one candidate")
}

/// Searches every candidate, writes the winner to `path` (checked under tract against the head
/// it was built from) and returns the training log.
pub fn train_cmd(emopia: &Path, path: &Path) -> Result<serde_json::Value> {
    let d = load(emopia)?;
    let started = std::time::Instant::now();
    let (scored, heads, best) = search(&d);
    let seconds = started.elapsed().as_secs_f32();
    let head = &heads[best];
    let name = scored[best].name.clone();
    eprintln!("chosen on validation: {name}");
    let meta = [
        ("attune.kind", "music-emotion".to_string()),
        ("attune.candidate", name.clone()),
        ("attune.head_config", serde_json::to_string(&head.config)?),
    ];
    let bytes = super::musicnn::model_bytes(&super::musicnn::load_checkpoint()?, head, &meta)?;
    let model = attune_engine::models::emotion::EmotionModel::from_bytes(&bytes)?;
    let mut worst = 0.0f32;
    for (r, f) in real_part(&d, Split::Val).into_iter().take(4) {
        let (samples, rate) = r.samples()?;
        let got = model.predict_samples(&samples, rate)?;
        let (p, emb) = head.predict(&head.config.layer.pick(f));
        let want = quadrants(p);
        for (a, b) in want
            .iter()
            .zip(&got.probabilities)
            .chain(emb.iter().zip(&got.embedding))
        {
            worst = worst.max((a - b).abs());
        }
    }
    anyhow::ensure!(
        worst < 1e-3,
        "the ONNX model differs from its head by {worst}"
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, &bytes)?;
    eprintln!(
        "wrote {} ({} bytes; ONNX vs head {worst:.1e})",
        path.display(),
        bytes.len()
    );
    Ok(serde_json::json!({
        "chosen": name,
        "config": head.config,
        "candidates": scored.len(),
        "seconds": seconds,
        "model_bytes": bytes.len(),
        "onnx_vs_head": worst,
    }))
}
