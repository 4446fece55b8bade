//! The emotion commands end to end: train (writes the ONNX model) and evaluate (writes the report).

use super::baseline::Logistic;
use super::cnn::EmotionCnn;
use super::dataset::{list_clips, part_of, Clip, Part, Quadrant};
use super::evaluate::{fit_logistic, held_out, majority, Scores};
use super::train::{train, Example, TrainConfig};
use super::{clip_mels, example, excerpt_mel, export};
use anyhow::{Context, Result};
use attune_engine::audio::LogMel;
use attune_engine::models::emotion::EmotionModel;
use serde::Serialize;
use std::path::Path;

/// Where the shipped model lives under the site's folder.
pub const MODEL_FILE: &str = "models/emotion.onnx";

/// Loads clips and their log-mels.
pub fn load(data: &Path) -> Result<(Vec<Clip>, Vec<LogMel>)> {
    let clips = list_clips(data)?;
    eprintln!("{} clips from {}", clips.len(), data.display());
    let mels = clip_mels(&clips)?;
    Ok((clips, mels))
}

fn examples(clips: &[Clip], mels: &[LogMel], part: Part, excerpt: bool) -> Vec<Example> {
    clips
        .iter()
        .zip(mels)
        .filter(|(c, _)| part_of(&c.song) == part)
        .map(|(c, m)| example(m, c, excerpt))
        .collect()
}

/// Trains the CNN on the training songs, picks the epoch on the validation songs, and writes the
/// ONNX model to `<out>/models/emotion.onnx`; returns the network and its training log.
pub fn train_cmd(
    data: &Path,
    out: &Path,
    cfg: &TrainConfig,
) -> Result<(EmotionCnn, serde_json::Value)> {
    let (clips, mels) = load(data)?;
    let tr = examples(&clips, &mels, Part::Train, false);
    let va = examples(&clips, &mels, Part::Validation, true);
    eprintln!("training on {} clips, validating on {}", tr.len(), va.len());
    let started = std::time::Instant::now();
    let t = train(&tr, &va, cfg);
    let seconds = started.elapsed().as_secs_f32();
    let meta = [
        ("attune.kind", "music-emotion".to_string()),
        ("attune.train_config", serde_json::to_string(cfg)?),
        ("attune.best_epoch", (t.best_epoch + 1).to_string()),
    ];
    let bytes = export::onnx_bytes(&t.folded, &meta);
    let path = out.join(MODEL_FILE);
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(&path, &bytes)?;
    eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
    let log = serde_json::json!({
        "config": cfg,
        "train_clips": tr.len(),
        "validation_clips": va.len(),
        "epochs": t.history.iter().enumerate().map(|(i, (l, a))| serde_json::json!({"epoch": i + 1, "train_loss": l, "validation_accuracy": a})).collect::<Vec<_>>(),
        "best_epoch": t.best_epoch + 1,
        "seconds": seconds,
        "model_bytes": bytes.len(),
    });
    Ok((t.model, log))
}

/// The EMOPIA part of every music-emotion report: the test clips, each model's scores and the
/// baselines fitted on the other songs (serialised flat into each report's JSON).
#[derive(Debug, Serialize)]
pub struct EmopiaScores {
    /// Which clips were scored and how they were chosen.
    pub protocol: String,
    /// Songs and clips scored.
    pub test_songs: usize,
    /// Clips scored.
    pub test_clips: usize,
    /// Clips and songs the baselines were fitted on.
    pub train_clips: usize,
    /// One row per model, then the majority class and the logistic regression.
    pub scores: Vec<Scores>,
    /// Logistic regression: (L2, validation accuracy) per candidate, and the one chosen.
    pub logistic_search: Vec<(f32, f32)>,
    /// The chosen L2.
    pub logistic_l2: f32,
}

/// The evaluation's results.
#[derive(Debug, Serialize)]
pub struct Evaluation {
    /// EMOPIA's test clips: the CNN and the baselines.
    #[serde(flatten)]
    pub emopia: EmopiaScores,
    /// Size of the ONNX file.
    pub model_bytes: usize,
}

/// A model's probabilities for clips from their log-mels (the middle 30 s, as the browser reads).
pub fn mel_probs(model: &EmotionModel, mels: &[LogMel]) -> Result<Vec<[f32; 4]>> {
    Ok(mels
        .iter()
        .map(|m| model.predict_mel(&excerpt_mel(m)).map(|p| p.probabilities))
        .collect::<Result<_, _>>()?)
}

/// The logistic baseline's probabilities for one clip.
pub fn logistic_probs(lr: &Logistic, m: &LogMel) -> [f32; 4] {
    let p = lr.predict(&super::baseline::summary_features(&excerpt_mel(m)));
    [p[0], p[1], p[2], p[3]]
}

/// The EMOPIA test set (`test`, or the held-out songs of `data`), the rows `models` scores on it
/// (its test clips, their log-mels, true quadrants and songs), then the majority class and the
/// logistic regression fitted on the other songs; returns the fitted logistic too.
pub fn score_emopia(
    data: &Path,
    test: Option<&Path>,
    models: impl FnOnce(&[Clip], &[LogMel], &[Quadrant], &[&str]) -> Result<Vec<Scores>>,
) -> Result<(EmopiaScores, Logistic)> {
    let (clips, mels) = load(data)?;
    let (test_clips, test_mels, protocol) = test_set(&clips, &mels, test)?;
    let truth: Vec<Quadrant> = test_clips.iter().map(|c| c.quadrant).collect();
    let clip_songs: Vec<&str> = test_clips.iter().map(|c| c.song.as_str()).collect();
    let mut songs = clip_songs.clone();
    songs.sort();
    songs.dedup();

    let mut scores = models(&test_clips, &test_mels, &truth, &clip_songs)?;
    let labelled = |part: Part| -> Vec<(&LogMel, Quadrant)> {
        clips
            .iter()
            .zip(&mels)
            .filter(|(c, _)| part_of(&c.song) == part)
            .map(|(c, m)| (m, c.quadrant))
            .collect()
    };
    let (fit, valid) = (labelled(Part::Train), labelled(Part::Validation));
    let train_q: Vec<Quadrant> = fit.iter().map(|(_, q)| *q).collect();
    let maj = majority(&train_q);
    scores.push(Scores::of(
        &format!("majority class ({})", Quadrant::argmax(&maj).name()),
        &truth,
        &vec![maj; truth.len()],
        &clip_songs,
    ));
    let (lr, l2, search) = fit_logistic(&fit, &valid);
    let lrp: Vec<[f32; 4]> = test_mels.iter().map(|m| logistic_probs(&lr, m)).collect();
    scores.push(Scores::of(
        "logistic regression on summary audio features",
        &truth,
        &lrp,
        &clip_songs,
    ));
    Ok((
        EmopiaScores {
            protocol,
            test_songs: songs.len(),
            test_clips: truth.len(),
            train_clips: fit.len() + valid.len(),
            scores,
            logistic_search: search,
            logistic_l2: l2,
        },
        lr,
    ))
}

/// Scores the shipped ONNX model (run by the engine's tract runner, as in the browser) and the
/// baselines on held-out songs: those of `data` (split by song), or every clip of `test` when given
/// (an independent EMOPIA-layout folder).
pub fn evaluate_cmd(data: &Path, test: Option<&Path>, model_path: &Path) -> Result<Evaluation> {
    let bytes =
        std::fs::read(model_path).with_context(|| format!("reading {}", model_path.display()))?;
    let model = EmotionModel::from_bytes(&bytes)?;
    let (emopia, _) = score_emopia(data, test, |_, mels, truth, songs| {
        Ok(vec![Scores::of(
            "Attune CNN (ONNX under tract, middle 30 s)",
            truth,
            &mel_probs(&model, mels)?,
            songs,
        )])
    })?;
    Ok(Evaluation {
        emopia,
        model_bytes: bytes.len(),
    })
}

/// The EMOPIA section of a report: protocol, scores table, the confusion of its first row and the
/// logistic search. `reads` names what reads the middle 30 s, `first` the first row's model.
pub fn emopia_markdown(e: &EmopiaScores, reads: &str, first: &str) -> String {
    let mut s = format!(
        "Protocol: {}. {} clips from {} songs scored; baselines fitted on {} clips of the other songs. \
         MIDI rendered with fluidsynth + FluidR3_GM at 22.05 kHz; {reads} the middle 30 s \
         exactly as the browser does. Valence/arousal accuracy is the sign of the model's expected \
         valence/arousal.\n\n",
        e.protocol, e.test_clips, e.test_songs, e.train_clips
    );
    s += &scores_table(&e.scores);
    s += "\nBrackets: 95% intervals from a bootstrap over songs (2,000 resamples).\n";
    s += "\nPublished models on EMOPIA *audio* (real recordings, far larger networks) reach 0.76-0.78 \
          4-quadrant, 0.89-0.92 arousal and 0.81-0.84 valence accuracy.\n\n";
    s += &format!("Confusion of {first} (rows: true Q1..Q4, columns: predicted):\n\n| | Q1 | Q2 | Q3 | Q4 |\n|---|---:|---:|---:|---:|\n");
    s += &confusion_table(&e.scores[0]);
    s += &format!(
        "\nLogistic regression L2 search (validation accuracy): {}; chosen {}.\n",
        e.logistic_search
            .iter()
            .map(|(l2, a)| format!("{l2}: {a:.3}"))
            .collect::<Vec<_>>()
            .join(", "),
        e.logistic_l2,
    );
    s
}

/// The clips scored: every clip of `test` (an independent EMOPIA-layout folder, checked to share
/// no song with `clips`), or the held-out songs of `clips`; with the protocol's description.
pub fn test_set(
    clips: &[Clip],
    mels: &[LogMel],
    test: Option<&Path>,
) -> Result<(Vec<Clip>, Vec<LogMel>, String)> {
    Ok(match test {
        Some(dir) => {
            let (c, m) = load(dir)?;
            let known: std::collections::HashSet<&str> =
                clips.iter().map(|c| c.song.as_str()).collect();
            let overlap = c.iter().filter(|c| known.contains(c.song.as_str())).count();
            anyhow::ensure!(
                overlap == 0,
                "{overlap} test clips come from songs in the training folder"
            );
            (
                c,
                m,
                format!(
                    "every clip of {} (songs disjoint from the training folder)",
                    dir.display()
                ),
            )
        }
        None => {
            let idx = held_out(clips);
            (
                idx.iter().map(|&i| clips[i].clone()).collect(),
                idx.iter().map(|&i| mels[i].clone()).collect(),
                "held-out songs of the EMOPIA folder (20% of songs by a hash of the YouTube id; all clips of a song on one side)".to_string(),
            )
        }
    })
}

/// The EMOPIA scores as a markdown table (accuracies with their song-bootstrap intervals).
pub fn scores_table(scores: &[Scores]) -> String {
    let mut s = String::new();
    s += "| model | 4-quadrant | valence sign | arousal sign |\n|---|---:|---:|---:|\n";
    for r in scores {
        let ci = |k: usize| format!("[{:.2}, {:.2}]", r.ci95[k][0], r.ci95[k][1]);
        s += &format!(
            "| {} | {:.3} {} | {:.3} {} | {:.3} {} |\n",
            r.model,
            r.quadrant_accuracy,
            ci(0),
            r.valence_accuracy,
            ci(1),
            r.arousal_accuracy,
            ci(2)
        );
    }
    s
}

/// One model's confusion matrix as markdown rows (after a header the caller writes).
pub fn confusion_table(scores: &Scores) -> String {
    let mut s = String::new();
    for (i, row) in scores.confusion.iter().enumerate() {
        s += &format!(
            "| Q{} | {} | {} | {} | {} |\n",
            i + 1,
            row[0],
            row[1],
            row[2],
            row[3]
        );
    }
    s
}

/// The report as markdown.
pub fn markdown(e: &Evaluation, training: Option<&serde_json::Value>) -> String {
    let mut s = String::from("# Music emotion (EMOPIA renders)\n\n");
    s += "Regenerate: `cargo run --release -p attune-model-export -- emotion evaluate` \
          (add `--test <dir>` for an independent EMOPIA-layout folder).\n\n";
    s += &emopia_markdown(&e.emopia, "the CNN reads", "the CNN");
    s += &format!("\nModel file: {} bytes.\n", e.model_bytes);
    if let Some(t) = training {
        s += &format!(
            "\nTraining: {} clips, {} validation clips, best epoch {} of {}, {:.0} s on this machine's CPU (burn flex).\n",
            t["train_clips"], t["validation_clips"], t["best_epoch"],
            t["epochs"].as_array().map_or(0, Vec::len), t["seconds"].as_f64().unwrap_or(0.0)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::train::{forward_plain, train, TrainConfig};
    use super::*;

    /// Trains a small network briefly on real clips (so the batch norms hold real running
    /// statistics), exports it, and runs it under tract through the engine's runner: the outputs
    /// must match burn's forward pass on the same input.
    #[test]
    fn onnx_under_tract_matches_burn() {
        let clips: Vec<Clip> = list_clips(&super::super::tests_data_dir())
            .unwrap()
            .into_iter()
            .step_by(97)
            .take(6)
            .collect();
        let mels = clip_mels(&clips).unwrap();
        let ex: Vec<Example> = clips
            .iter()
            .zip(&mels)
            .map(|(c, m)| example(m, c, true))
            .collect();
        let cfg = TrainConfig {
            cnn: super::super::cnn::CnnConfig {
                channels: vec![8, 16, 16, 32],
                dropout: 0.3,
            },
            crop: 128,
            crops_per_clip: 2,
            batch: 4,
            epochs: 2,
            ..TrainConfig::default()
        };
        let t = train(&ex[..4], &ex[4..], &cfg);
        let bytes = export::onnx_bytes(&t.folded, &[]);
        let runner = EmotionModel::from_bytes(&bytes).unwrap();
        let mut worst = 0.0f32;
        for (e, m) in ex.iter().zip(&mels) {
            let m = excerpt_mel(m);
            let (emb, probs) = forward_plain(&t.model, &e.input, e.frames);
            let got = runner.predict_mel(&m).unwrap();
            for (a, b) in emb
                .iter()
                .zip(&got.embedding)
                .chain(probs.iter().zip(&got.probabilities))
            {
                worst = worst.max((a - b).abs());
            }
            let va = got.probabilities[0] + got.probabilities[3]
                - got.probabilities[1]
                - got.probabilities[2];
            assert!((va - got.valence).abs() < 1e-5);
            assert_eq!(emb.len(), 32);
        }
        println!("ONNX (tract) vs burn: max abs diff {worst:.2e}");
        assert!(worst <= 1e-4, "max abs diff {worst}");
        // The batch norms moved off their initial statistics, so the fold was exercised.
        let moved = t
            .folded
            .convs
            .iter()
            .any(|(_, _, b)| b.iter().any(|x| x.abs() > 1e-3));
        assert!(moved);
    }
}
