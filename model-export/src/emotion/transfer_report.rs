//! The transfer candidates' evaluation (issue 16, not shipped): the musicnn model `emotion
//! transfer` wrote, the shipped EMOPIA CNN and the baselines, each on EMOPIA's held-out songs,
//! the real-audio set's validation and test parts and the free shelf, plus every candidate of the
//! search. Report: `model-export/reports/emotion-transfer.md`.

use super::evaluate::Scores;
use super::musicnn::features::par_map;
use super::pipeline::{emopia_markdown, logistic_probs, mel_probs, score_emopia, EmopiaScores};
use super::real_audio::{Recording, Split};
use super::render::{render_midi, RENDER_RATE};
use super::transfer::{self, spread, RealScores, Scored};
use anyhow::{Context, Result};
use attune_engine::audio::decode::{decode, MAX_DECODE_SECONDS};
use attune_engine::models::emotion::{EmotionModel, EXCERPT_SECONDS};
use serde::Serialize;
use std::path::Path;

/// The evaluation's results.
#[derive(Debug, Serialize)]
pub struct Evaluation {
    /// EMOPIA's test clips: the candidate first, the CNN, the baselines.
    #[serde(flatten)]
    pub emopia: EmopiaScores,
    /// Size of the ONNX file.
    pub model_bytes: usize,
    /// The candidate's name (its `attune.candidate` metadata).
    pub shipped: String,
    /// Real recordings and the free shelf, one row per model (the candidate first).
    pub real: Vec<RealRow>,
    /// Every transfer candidate, as chosen on validation.
    pub candidates: Vec<Scored>,
    /// The candidate validation chose.
    pub chosen: usize,
    /// The largest difference between the candidate ONNX (under tract, from samples) and the
    /// chosen candidate's head on cached features, over the real test recordings.
    pub shipped_vs_candidate: f32,
}

/// One model on real audio.
#[derive(Debug, Serialize)]
pub struct RealRow {
    /// The model.
    pub model: String,
    /// Real-audio validation part.
    pub val: RealScores,
    /// Real-audio test part.
    pub test: RealScores,
    /// Top quadrants of the free shelf's excerpts.
    pub free_shelf: [usize; 4],
}

/// The middle [`EXCERPT_SECONDS`] of decoded audio, kept (whole files would not fit in memory).
struct Excerpt {
    samples: Vec<f32>,
    rate: u32,
}

fn excerpt_of((samples, rate): (Vec<f32>, u32)) -> Excerpt {
    Excerpt {
        samples: attune_engine::audio::excerpt(&samples, rate, EXCERPT_SECONDS).to_vec(),
        rate,
    }
}

/// The shipped free-shelf excerpts, decoded.
fn free_shelf(public: &Path) -> Result<Vec<Excerpt>> {
    let mut files: Vec<_> = std::fs::read_dir(public.join("free"))
        .with_context(|| format!("reading {}/free", public.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ogg"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let d = decode(std::fs::read(p)?, Some("ogg"), MAX_DECODE_SECONDS)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            Ok(excerpt_of((d.samples, d.sample_rate)))
        })
        .collect()
}

fn probs_of(model: &EmotionModel, x: &[Excerpt]) -> Result<Vec<[f32; 4]>> {
    par_map(x, "excerpts analysed", |e| {
        Ok(model.predict_samples(&e.samples, e.rate)?.probabilities)
    })
}

/// Scores the candidate ONNX model (run by the engine's tract runner from samples, as in the
/// browser), the shipped EMOPIA CNN, the baselines and every transfer candidate: on EMOPIA's
/// held-out songs (or every clip of `test`, an independent EMOPIA-layout folder), on the
/// real-audio set's validation and test parts, and on the free shelf.
pub fn evaluate_cmd(
    data: &Path,
    test: Option<&Path>,
    model_path: &Path,
    cnn_path: &Path,
    public: &Path,
) -> Result<Evaluation> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let bytes = read(model_path)?;
    let model = EmotionModel::from_bytes(&bytes)?;
    let cnn = EmotionModel::from_bytes(&read(cnn_path)?)?;
    let shipped = crate::onnx::metadata(&bytes, "attune.candidate")
        .unwrap_or_else(|| "transfer model".into());
    // EMOPIA: every model from its own front end; the candidate from rendered samples.
    let (emopia, lr) = score_emopia(data, test, |test_clips, test_mels, truth, clip_songs| {
        eprintln!("candidate on {} rendered EMOPIA clips", test_clips.len());
        let rendered = par_map(test_clips, "clips rendered", |c| {
            Ok(excerpt_of((render_midi(&c.path)?, RENDER_RATE)))
        })?;
        let candidate = Scores::of(
            &format!("{shipped} (candidate; ONNX under tract)"),
            truth,
            &probs_of(&model, &rendered)?,
            clip_songs,
        );
        drop(rendered);
        Ok(vec![
            candidate,
            Scores::of(
                "EMOPIA CNN (shipped model; log-mel, middle 30 s)",
                truth,
                &mel_probs(&cnn, test_mels)?,
                clip_songs,
            ),
        ])
    })?;

    // Real audio and the free shelf.
    let d = transfer::load(data)?;
    let part = |split| -> Vec<&Recording> {
        d.real
            .iter()
            .filter(|(r, _)| r.split == split)
            .map(|(r, _)| r)
            .collect()
    };
    let (val, tst) = (part(Split::Val), part(Split::Test));
    let decoded = |recs: &[&Recording]| -> Result<Vec<Excerpt>> {
        par_map(recs, "recordings decoded", |r| Ok(excerpt_of(r.samples()?)))
    };
    let (val_x, test_x, free_x) = (decoded(&val)?, decoded(&tst)?, free_shelf(public)?);
    let mut real = Vec::new();
    let shipped_probs = probs_of(&model, &test_x)?;
    for (name, m, test_probs) in [
        (
            format!("{shipped} (candidate)"),
            &model,
            shipped_probs.clone(),
        ),
        (
            "EMOPIA CNN (shipped model)".to_string(),
            &cnn,
            probs_of(&cnn, &test_x)?,
        ),
    ] {
        real.push(RealRow {
            model: name,
            val: RealScores::of(&val, &probs_of(m, &val_x)?),
            test: RealScores::of(&tst, &test_probs),
            free_shelf: spread(&probs_of(m, &free_x)?),
        });
    }
    let lr_real = |x: &[Excerpt]| -> Result<Vec<[f32; 4]>> {
        x.iter()
            .map(|e| {
                Ok(logistic_probs(
                    &lr,
                    &attune_engine::audio::log_mel(&e.samples, e.rate)?,
                ))
            })
            .collect()
    };
    real.push(RealRow {
        model: "logistic regression on summary audio features".into(),
        val: RealScores::of(&val, &lr_real(&val_x)?),
        test: RealScores::of(&tst, &lr_real(&test_x)?),
        free_shelf: spread(&lr_real(&free_x)?),
    });

    eprintln!("transfer candidates");
    let (candidates, heads, chosen) = transfer::search(&d);
    // The candidate file is the chosen head: its outputs from samples against the chosen
    // head on cached features.
    let head = &heads[chosen];
    let shipped_vs_candidate = d
        .real
        .iter()
        .filter(|(r, _)| r.split == Split::Test)
        .zip(&shipped_probs)
        .flat_map(|((_, f), p)| {
            let want = transfer::quadrants(head.predict(&head.config.layer.pick(f)).0);
            (0..4).map(move |k| (want[k] - p[k]).abs())
        })
        .fold(0.0f32, f32::max);
    Ok(Evaluation {
        emopia,
        model_bytes: bytes.len(),
        shipped,
        real,
        candidates,
        chosen,
        shipped_vs_candidate,
    })
}

fn auc(a: Option<f32>, ci: [f32; 2]) -> String {
    a.map_or("-".into(), |a| {
        format!("{a:.3} [{:.2}, {:.2}]", ci[0], ci[1])
    })
}

fn quads(s: [usize; 4]) -> String {
    format!("{}/{}/{}/{}", s[0], s[1], s[2], s[3])
}

/// The report as markdown.
pub fn markdown(e: &Evaluation, training: Option<&serde_json::Value>) -> String {
    let mut s = String::from("# Music emotion: transfer from musicnn (not shipped)\n\n");
    s += "Regenerate: `scripts/real_audio.sh && cargo run --release -p attune-model-export -- emotion transfer`. \
          The chosen candidate loses to the shipped CNN on both test parts, so it is not shipped.\n\n";
    s += &format!(
        "Candidate: **{}**, chosen on validation only (the real-audio set's validation part, then \
         EMOPIA's validation songs). {} bytes. Largest difference between the candidate file under \
         tract (from samples) and the chosen head on cached features, over the real test \
         recordings: {:.1e}.\n\n",
        e.shipped, e.model_bytes, e.shipped_vs_candidate
    );
    s += "## Real recordings\n\n";
    s +=
        "Freely licensed game and soundtrack music from Debian packages, weakly labelled from the \
          scene or mood the names give (`model-export/config/real-audio.md`: labels, limits, \
          exclusions); split by package. AUC: ROC-AUC of the model's expected arousal / valence \
          against the labels, 95% bootstrap interval over recordings in brackets. Spread: \
          recordings per top quadrant Q1/Q2/Q3/Q4.\n\n";
    if let Some(r) = e.real.first() {
        s += &format!(
            "Test part: arousal {} high / {} low, valence {} positive / {} negative, {} recordings. \
             Validation part: arousal {}/{}, valence {}/{}.\n\n",
            r.test.arousal_n[0],
            r.test.arousal_n[1],
            r.test.valence_n[0],
            r.test.valence_n[1],
            r.test.spread.iter().sum::<usize>(),
            r.val.arousal_n[0],
            r.val.arousal_n[1],
            r.val.valence_n[0],
            r.val.valence_n[1]
        );
    }
    s += "| model | test arousal AUC | test valence AUC | test spread | val arousal AUC | val valence AUC | free shelf spread |\n|---|---:|---:|---:|---:|---:|---:|\n";
    for r in &e.real {
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.model,
            auc(r.test.arousal_auc, r.test.arousal_ci),
            auc(r.test.valence_auc, r.test.valence_ci),
            quads(r.test.spread),
            auc(r.val.arousal_auc, r.val.arousal_ci),
            auc(r.val.valence_auc, r.val.valence_ci),
            quads(r.free_shelf)
        );
    }
    s += "\nGoal (issue 16): test arousal AUC >= 0.85, valence AUC >= 0.75, all four quadrants used; \
          EMOPIA held-out 4Q >= 0.70.\n\n";
    s += "## EMOPIA held-out songs\n\n";
    s += &emopia_markdown(&e.emopia, "every model reads", "the candidate");
    s += "\n## Every transfer candidate\n\n";
    s += "musicnn (MSD) features averaged over the excerpt's 3 s patches, a head trained with burn \
          (masked binary cross-entropy on the two axes). Chosen by the mean of the validation \
          AUCs (ties within 0.005 by EMOPIA validation 4Q); test columns are reported, never used.\n\n";
    s += "| candidate | val arousal AUC | val valence AUC | EMOPIA val 4Q | test arousal AUC | test valence AUC | test spread | EMOPIA test 4Q |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (i, c) in e.candidates.iter().enumerate() {
        let f = |a: Option<f32>| a.map_or("-".into(), |a| format!("{a:.3}"));
        s += &format!(
            "| {}{} | {} | {} | {:.3} | {} | {} | {} | {:.3} |\n",
            c.name,
            if i == e.chosen { " **(chosen)**" } else { "" },
            f(c.real_val.arousal_auc),
            f(c.real_val.valence_auc),
            c.emopia_val_quadrant,
            f(c.real_test.arousal_auc),
            f(c.real_test.valence_auc),
            quads(c.real_test.spread),
            c.emopia_test.quadrant_accuracy
        );
    }
    if let Some(t) = training {
        s += &format!(
            "\nTraining: {} candidates in {:.0} s on this machine's CPU (burn flex), after musicnn's \
             features were cached.\n",
            t["candidates"], t["seconds"].as_f64().unwrap_or(0.0)
        );
    }
    s
}
