//! `model-export emotion predict`: valence, arousal and quadrant of audio and MIDI files, one entry
//! per file, errors included (one bad file never stops the others).

use super::render::render_midi;
use attune_engine::audio::decode::{decode, MAX_DECODE_SECONDS};
use attune_engine::models::emotion::{EmotionModel, EXCERPT_SECONDS};
use serde::Serialize;
use std::path::Path;

/// Largest file read.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// The result for one file.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum FileResult {
    /// Analysed.
    Ok {
        /// The path as given.
        file: String,
        /// Valence in [-1, 1].
        valence: f32,
        /// Arousal in [-1, 1].
        arousal: f32,
        /// "Q1".."Q4".
        quadrant: String,
        /// Probabilities of Q1..Q4.
        probabilities: [f32; 4],
        /// Seconds analysed (the middle of the file, at most 30).
        seconds_analysed: f32,
        /// Seconds decoded (the file's length, up to the decode limit).
        seconds_decoded: f32,
        /// "audio" or "midi (rendered with fluidsynth + FluidR3_GM)".
        source: String,
    },
    /// Not analysed, and why.
    Err {
        /// The path as given.
        file: String,
        /// What went wrong, for a person.
        error: String,
    },
}

/// Analyses one file.
pub fn predict_file(model: &EmotionModel, path: &Path) -> FileResult {
    let file = path.display().to_string();
    match analyse(model, path) {
        Ok((p, decoded, source)) => FileResult::Ok {
            file,
            valence: p.valence,
            arousal: p.arousal,
            quadrant: p.quadrant().name().into(),
            probabilities: p.probabilities,
            seconds_analysed: p.seconds,
            seconds_decoded: decoded,
            source,
        },
        Err(error) => FileResult::Err { file, error },
    }
}

fn analyse(
    model: &EmotionModel,
    path: &Path,
) -> Result<
    (
        attune_engine::models::emotion::EmotionPrediction,
        f32,
        String,
    ),
    String,
> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the file: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "the file is too large ({} MB; at most {} MB)",
            size >> 20,
            MAX_FILE_BYTES >> 20
        ));
    }
    let (samples, rate, source) = if matches!(ext.as_deref(), Some("mid" | "midi")) {
        let s = render_midi(path).map_err(|e| e.to_string())?;
        (
            s,
            super::render::RENDER_RATE,
            "midi (rendered with fluidsynth + FluidR3_GM)".to_string(),
        )
    } else {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
        let d = decode(bytes, ext.as_deref(), MAX_DECODE_SECONDS).map_err(|e| e.to_string())?;
        (d.samples, d.sample_rate, "audio".to_string())
    };
    let decoded = samples.len() as f32 / rate as f32;
    let p = model
        .predict_samples(&samples, rate)
        .map_err(|e| e.to_string())?;
    debug_assert!(p.seconds <= EXCERPT_SECONDS + 0.1);
    Ok((p, decoded, source))
}
