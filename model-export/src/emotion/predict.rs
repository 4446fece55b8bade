//! `model-export emotion predict`: valence, arousal and quadrant of audio and MIDI files, one entry
//! per file, errors included (one bad file never stops the others). A file whose excerpt is below
//! [`SILENCE_DBFS`] is read as calm and neutral (the model not run on it), and its entry says why
//! (`silent`).

use super::render::render_midi;
use attune_engine::audio::decode::{decode, MAX_DECODE_SECONDS};
use attune_engine::audio::{Silence, SILENCE_DBFS};
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
        /// `null`, or why the file was read as silence (calm and neutral, the model not run).
        silent: Option<Silent>,
    },
    /// Not analysed, and why.
    Err {
        /// The path as given.
        file: String,
        /// What went wrong, for a person.
        error: String,
    },
}

/// Why a file was read as silence.
#[derive(Debug, Clone, Serialize)]
pub struct Silent {
    /// RMS level of the excerpt in dBFS (full scale = 1.0).
    pub level_dbfs: f32,
    /// The threshold it is below ([`SILENCE_DBFS`]).
    pub threshold_dbfs: f32,
    /// For a person: "silent: -72.4 dBFS over the excerpt, below -60 dBFS: read as calm and
    /// neutral".
    pub reason: String,
}

impl From<Silence> for Silent {
    fn from(s: Silence) -> Silent {
        Silent {
            level_dbfs: s.level_dbfs,
            threshold_dbfs: SILENCE_DBFS,
            reason: s.reason(),
        }
    }
}

impl FileResult {
    /// One line for the terminal: the reading (and why, for silence) or the error.
    pub fn line(&self) -> String {
        match self {
            FileResult::Ok {
                file,
                valence,
                arousal,
                quadrant,
                seconds_analysed,
                silent,
                ..
            } => {
                let reading = format!(
                    "{file}: {quadrant}, valence {valence:+.2}, arousal {arousal:+.2} \
                     ({seconds_analysed:.1} s analysed)"
                );
                match silent {
                    Some(s) => format!("{reading}; {}", s.reason),
                    None => reading,
                }
            }
            FileResult::Err { file, error } => format!("{file}: error: {error}"),
        }
    }
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
            silent: p.silence.map(Silent::from),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// A 16-bit PCM WAV file of interleaved `samples`.
    fn wav(samples: &[i16], rate: u32, channels: u16) -> Vec<u8> {
        let data_len = (samples.len() * 2) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data_len).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
        b.extend_from_slice(&(2 * channels).to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    /// `emotion predict` on digital silence (a WAV file of zeros, and the same through the real
    /// Vorbis encoder) reads it as calm and neutral and says why, in its JSON and its line; a real
    /// shipped excerpt is analysed as before (`silent: null`).
    #[test]
    fn silent_files_say_why_in_the_json_and_the_line() {
        let model = EmotionModel::from_bytes(
            &std::fs::read(root().join("public/models/emotion.onnx")).unwrap(),
        )
        .unwrap();
        let dir = std::env::temp_dir().join(format!("attune-silent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let zeros = dir.join("zeros.wav");
        std::fs::write(&zeros, wav(&vec![0; 44_100 * 35 * 2], 44_100, 2)).unwrap();
        let ogg = dir.join("zeros.ogg");
        let out = Command::new("oggenc")
            .args(["-Q", "-o"])
            .arg(&ogg)
            .arg(&zeros)
            .output()
            .expect("oggenc (scripts/setup.sh installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let music = root().join("public/free/chimes-they-fade.ogg");
        let results: Vec<serde_json::Value> = [&zeros, &ogg, &music]
            .iter()
            .map(|f| {
                let r = predict_file(&model, f);
                println!("{}", r.line());
                serde_json::to_value(&r).unwrap()
            })
            .collect();
        std::fs::remove_dir_all(&dir).ok();
        for r in &results[..2] {
            let s = &r["silent"];
            assert!(s.is_object(), "{r}");
            assert!(s["level_dbfs"].as_f64().unwrap() < -100.0, "{r}");
            assert_eq!(s["threshold_dbfs"], -60.0);
            let reason = s["reason"].as_str().unwrap();
            assert!(
                reason.starts_with("silent: ") && reason.ends_with("read as calm and neutral"),
                "{reason}"
            );
            assert_eq!(r["valence"], 0.0);
            assert_eq!(r["arousal"], -1.0);
            assert_eq!(r["quadrant"], "Q4");
            assert!(r["seconds_analysed"].as_f64().unwrap() > 29.0, "{r}");
        }
        assert_eq!(
            results[0]["silent"]["reason"],
            "silent: -150 dBFS or less (digital silence) over the excerpt, below -60 dBFS: \
             read as calm and neutral"
        );
        assert!(results[2]["silent"].is_null(), "{}", results[2]);
        assert!(results[2]["arousal"].as_f64().unwrap() > -0.99);
        let line = predict_file(&model, &music).line();
        assert!(
            line.contains("valence") && !line.contains("silent"),
            "{line}"
        );
    }
}
