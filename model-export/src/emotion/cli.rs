//! The `emotion` commands: EMOPIA renders, the CNN's training and evaluation, the musicnn
//! transfer, and predictions for any audio or MIDI file.

use crate::{emotion, manifest};
use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum EmotionCmd {
    /// Render every clip of an EMOPIA folder and cache its log-mel (`$ATTUNE_CACHE`, default
    /// `~/.cache/attune`).
    Prepare {
        /// The EMOPIA folder (holds midis/).
        #[arg(long, default_value = "../shared/data/emopia")]
        data: PathBuf,
    },
    /// Train the CNN on the training songs and write `<out>/models/emotion.onnx`, then evaluate.
    Train {
        /// The EMOPIA folder.
        #[arg(long, default_value = "../shared/data/emopia")]
        data: PathBuf,
        /// The site's asset folder.
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// Epochs (default from the training configuration).
        #[arg(long)]
        epochs: Option<usize>,
    },
    /// Score the shipped model and the baselines on held-out songs; writes
    /// `<out>/report/emotion.{md,json}`.
    Evaluate {
        /// The EMOPIA folder (baselines are fitted on its training songs).
        #[arg(long, default_value = "../shared/data/emopia")]
        data: PathBuf,
        /// An independent EMOPIA-layout folder to score instead of the held-out songs.
        #[arg(long)]
        test: Option<PathBuf>,
        /// The model.
        #[arg(long, default_value = "public/models/emotion.onnx")]
        model: PathBuf,
        /// The site's asset folder (report and manifest).
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// Where the JSON goes (default `<out>/report/emotion.json`).
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Transfer from musicnn (issue 16): train every head candidate, write the one validation
    /// chooses to `--model` (not shipped), and score it beside the shipped CNN and the baselines
    /// on EMOPIA, the real-audio set (`scripts/real_audio.sh`) and the free shelf.
    Transfer {
        /// The EMOPIA folder.
        #[arg(long, default_value = "../shared/data/emopia")]
        data: PathBuf,
        /// Where the chosen candidate goes.
        #[arg(long, default_value = "target/emotion-musicnn.onnx")]
        model: PathBuf,
        /// The shipped model it is compared with.
        #[arg(long, default_value = "public/models/emotion.onnx")]
        shipped: PathBuf,
        /// The report (markdown; JSON beside it).
        #[arg(long, default_value = "model-export/reports/emotion-transfer.md")]
        report: PathBuf,
    },
    /// Valence, arousal and quadrant of audio (wav, mp3, ogg, flac) and MIDI files.
    Predict {
        /// The ONNX model.
        #[arg(long, default_value = "public/models/emotion.onnx")]
        model: PathBuf,
        /// Where the JSON results go.
        #[arg(long)]
        json: PathBuf,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn emotion_cmd(cmd: EmotionCmd) -> Result<()> {
    match cmd {
        EmotionCmd::Prepare { data } => {
            let clips = emotion::dataset::list_clips(&data)?;
            let mels = emotion::clip_mels(&clips)?;
            let secs: f32 = mels.iter().map(|m| m.seconds()).sum();
            println!(
                "{} clips, {:.0} s of audio, cached in {}",
                clips.len(),
                secs,
                emotion::dataset::cache_dir().display()
            );
            Ok(())
        }
        EmotionCmd::Train { data, out, epochs } => {
            let mut cfg = emotion::train::TrainConfig::default();
            if let Some(e) = epochs {
                cfg.epochs = e;
            }
            let (_, log) = emotion::pipeline::train_cmd(&data, &out, &cfg)?;
            std::fs::create_dir_all(out.join("report"))?;
            std::fs::write(
                out.join("report/emotion-training.json"),
                serde_json::to_string_pretty(&log)? + "\n",
            )?;
            let model = out.join(emotion::pipeline::MODEL_FILE);
            emotion_evaluate(&data, None, &model, &out, None)
        }
        EmotionCmd::Evaluate {
            data,
            test,
            model,
            out,
            json,
        } => emotion_evaluate(&data, test.as_deref(), &model, &out, json.as_deref()),
        EmotionCmd::Transfer {
            data,
            model,
            shipped,
            report,
        } => {
            let log = emotion::transfer::train_cmd(&data, &model)?;
            let e = emotion::transfer_report::evaluate_cmd(
                &data,
                None,
                &model,
                &shipped,
                Path::new("public"),
            )?;
            let md = emotion::transfer_report::markdown(&e, Some(&log));
            print!("{md}");
            if let Some(dir) = report.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&report, md)?;
            std::fs::write(
                report.with_extension("json"),
                serde_json::to_string_pretty(&TransferJson {
                    training: &log,
                    evaluation: &e,
                })? + "\n",
            )?;
            Ok(())
        }
        EmotionCmd::Predict { model, json, files } => {
            let bytes =
                std::fs::read(&model).with_context(|| format!("reading {}", model.display()))?;
            let model = attune_engine::models::emotion::EmotionModel::from_bytes(&bytes)?;
            let results: Vec<_> = files
                .iter()
                .map(|f| emotion::predict::predict_file(&model, f))
                .collect();
            for r in &results {
                println!("{}", r.line());
            }
            let failed = results
                .iter()
                .filter(|r| matches!(r, emotion::predict::FileResult::Err { .. }))
                .count();
            std::fs::write(&json, serde_json::to_string_pretty(&results)? + "\n")?;
            println!(
                "{} files analysed, {failed} failed; results in {}",
                results.len() - failed,
                json.display()
            );
            Ok(())
        }
    }
}

pub fn emotion_evaluate(
    data: &Path,
    test: Option<&Path>,
    model: &Path,
    out: &Path,
    json: Option<&Path>,
) -> Result<()> {
    let e = emotion::pipeline::evaluate_cmd(data, test, model)?;
    let training = std::fs::read_to_string(out.join("report/emotion-training.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
    let md = emotion::pipeline::markdown(&e, training.as_ref());
    print!("{md}");
    std::fs::create_dir_all(out.join("report"))?;
    let json = json.map_or_else(|| out.join("report/emotion.json"), Path::to_path_buf);
    std::fs::write(&json, serde_json::to_string_pretty(&e)? + "\n")?;
    if test.is_none() {
        std::fs::write(out.join("report/emotion.md"), md)?;
        manifest::write_manifest(out)?;
    }
    Ok(())
}

/// The transfer report's JSON: serialised directly (not through `serde_json::Value`) so the
/// evaluation's `f32`s keep their short form.
#[derive(serde::Serialize)]
struct TransferJson<'a> {
    training: &'a serde_json::Value,
    evaluation: &'a emotion::transfer_report::Evaluation,
}
