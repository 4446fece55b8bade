//! The music-emotion CNN: log-mel excerpt -> quadrant probabilities, valence/arousal and an
//! embedding for content similarity.
//!
//! Silence is not music: an excerpt below [`audio::SILENCE_DBFS`] is not given to the network
//! (whose input is scaled to the excerpt's own loudest bin, so near-silence would read as loud,
//! busy music); it reads as calm and neutral ([`EmotionPrediction::silent`]) with the reason in
//! [`EmotionPrediction::silence`].

use super::ModelError;
use crate::audio::{self, mel, LogMel, Silence};
use crate::{Emotion, Quadrant};
use tract_onnx::prelude::*;

/// Seconds of audio the model looks at: the middle of the file.
pub const EXCERPT_SECONDS: f32 = 30.0;

/// Frames the network needs at least (four 2x2 poolings).
pub const MIN_FRAMES: usize = 16;

/// Graph input and output names (`model-export` writes them). The CNN reads `mel`
/// (`[batch, 1, 96, time]`, [`audio::model_input`]); the musicnn transfer model reads
/// [`PATCHES`] instead.
pub const INPUT: &str = "mel";
/// Input of the musicnn transfer model: `[patches, 187, 96]` ([`audio::musicnn::Patches`]) of
/// one excerpt; its outputs have a batch of 1.
pub const PATCHES: &str = "patches";
/// Output: `[batch, 4]` quadrant probabilities (Q1..Q4).
pub const PROBABILITIES: &str = "quadrant_probabilities";
/// Output: `[batch, 2]` valence and arousal in [-1, 1].
pub const VALENCE_AROUSAL: &str = "valence_arousal";
/// Output: `[batch, channels]` embedding.
pub const EMBEDDING: &str = "embedding";

/// Valence of a silent excerpt: neutral (silence is neither pleasant nor unpleasant).
pub const SILENT_VALENCE: f32 = 0.0;
/// Arousal of a silent excerpt: the calm end of the scale (nothing is happening).
pub const SILENT_AROUSAL: f32 = -1.0;
/// Quadrant probabilities of a silent excerpt: all on the calm side (Q3, Q4), split evenly because
/// valence is neutral. [`EmotionPrediction::quadrant`] is then the quadrant of the point
/// (valence 0 counts as positive, as in [`Emotion::quadrant`]): Q4.
pub const SILENT_PROBABILITIES: [f32; 4] = [0.0, 0.0, 0.5, 0.5];

/// What the model says about one piece of audio.
#[derive(Debug, Clone, PartialEq)]
pub struct EmotionPrediction {
    /// Valence in [-1, 1].
    pub valence: f32,
    /// Arousal in [-1, 1].
    pub arousal: f32,
    /// Probabilities of Q1 (V+A+), Q2 (V-A+), Q3 (V-A-), Q4 (V+A-).
    pub probabilities: [f32; 4],
    /// Content embedding (compare with cosine similarity); empty for a silent excerpt.
    pub embedding: Vec<f32>,
    /// Seconds of audio analysed.
    pub seconds: f32,
    /// `Some` when the excerpt was silence (below [`audio::SILENCE_DBFS`]): the model was not run
    /// and the reading is [`EmotionPrediction::silent`]'s calm and neutral one. Show
    /// [`Silence::reason`] beside it.
    pub silence: Option<Silence>,
}

impl EmotionPrediction {
    /// The reading of a silent excerpt of `seconds`: valence [`SILENT_VALENCE`] (neutral), arousal
    /// [`SILENT_AROUSAL`] (calm), probabilities [`SILENT_PROBABILITIES`], no embedding.
    pub fn silent(silence: Silence, seconds: f32) -> EmotionPrediction {
        EmotionPrediction {
            valence: SILENT_VALENCE,
            arousal: SILENT_AROUSAL,
            probabilities: SILENT_PROBABILITIES,
            embedding: Vec::new(),
            seconds,
            silence: Some(silence),
        }
    }

    /// The most probable quadrant; for a silent excerpt (whose probabilities tie between Q3 and
    /// Q4) the quadrant of its point, Q4.
    pub fn quadrant(&self) -> Quadrant {
        if self.silence.is_some() {
            Emotion::va(self.valence, self.arousal).quadrant()
        } else {
            Quadrant::argmax(&self.probabilities)
        }
    }
}

/// Which front end a model reads, told by its input's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontEnd {
    /// The EMOPIA CNN: the engine's 22.05 kHz log-mel, gain-invariant ([`INPUT`]).
    LogMel,
    /// The musicnn transfer model: 16 kHz compressed mel in 3 s patches ([`PATCHES`]).
    Musicnn,
}

/// A loaded, optimised emotion model.
pub struct EmotionModel {
    plan: std::sync::Arc<TypedRunnableModel>,
    order: [usize; 3],
    front: FrontEnd,
}

impl std::fmt::Debug for EmotionModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmotionModel")
    }
}

impl EmotionModel {
    /// Loads and checks an ONNX model written by `model-export emotion train`.
    pub fn from_bytes(bytes: &[u8]) -> Result<EmotionModel, ModelError> {
        let outputs = [PROBABILITIES, VALENCE_AROUSAL, EMBEDDING];
        let (front, (model, order)) = match super::read_checked(bytes, &[INPUT], &outputs) {
            Err(ModelError::Interface(_)) => (
                FrontEnd::Musicnn,
                super::read_checked(bytes, &[PATCHES], &outputs).map_err(|e| match e {
                    ModelError::Interface(why) => ModelError::Interface(format!(
                        "{why} (or {:?} for the musicnn model)",
                        [INPUT]
                    )),
                    e => e,
                })?,
            ),
            other => (FrontEnd::LogMel, other?),
        };
        let order = [order[0], order[1], order[2]];
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| ModelError::Load(format!("{e:#}")))?;
        Ok(EmotionModel { plan, order, front })
    }

    /// The front end this model reads.
    pub fn front_end(&self) -> FrontEnd {
        self.front
    }

    /// Runs the model on a log-mel spectrogram (the whole of it: pass an excerpt). It sees no
    /// samples, so it does not judge the level: audio goes through
    /// [`EmotionModel::predict_samples`], which reads silence as silence.
    pub fn predict_mel(&self, mel: &LogMel) -> Result<EmotionPrediction, ModelError> {
        if self.front != FrontEnd::LogMel {
            return Err(ModelError::Input(
                "this model reads audio (musicnn patches), not a log-mel".into(),
            ));
        }
        check_length(mel)?;
        let input =
            Tensor::from_shape(&[1, 1, mel::N_MELS, mel.frames()], &audio::model_input(mel))
                .map_err(|e| ModelError::Input(e.to_string()))?;
        self.run(input, mel.seconds())
    }

    /// Runs the musicnn transfer model on the patches of one excerpt.
    pub fn predict_patches(
        &self,
        patches: &audio::musicnn::Patches,
    ) -> Result<EmotionPrediction, ModelError> {
        if self.front != FrontEnd::Musicnn {
            return Err(ModelError::Input(
                "this model reads a log-mel, not musicnn patches".into(),
            ));
        }
        let input = Tensor::from_shape(
            &[patches.count(), audio::musicnn::PATCH_FRAMES, mel::N_MELS],
            patches.data(),
        )
        .map_err(|e| ModelError::Input(e.to_string()))?;
        self.run(input, patches.seconds())
    }

    fn run(&self, input: Tensor, seconds: f32) -> Result<EmotionPrediction, ModelError> {
        let out = self
            .plan
            .run(tvec!(input.into()))
            .map_err(|e| ModelError::Run(format!("{e:#}")))?;
        let get = |i: usize| -> Result<Vec<f32>, ModelError> {
            let view = out[self.order[i]]
                .to_plain_array_view::<f32>()
                .map_err(|e| ModelError::Run(e.to_string()))?;
            Ok(view.iter().copied().collect())
        };
        let (p, va, embedding) = (get(0)?, get(1)?, get(2)?);
        if p.len() != 4 || va.len() != 2 || p.iter().chain(&va).any(|x| !x.is_finite()) {
            return Err(ModelError::Run(format!("unexpected outputs {p:?} {va:?}")));
        }
        Ok(EmotionPrediction {
            valence: va[0],
            arousal: va[1],
            probabilities: [p[0], p[1], p[2], p[3]],
            embedding,
            seconds,
            silence: None,
        })
    }

    /// Analyses mono samples at `sample_rate`: the middle [`EXCERPT_SECONDS`], resampled, log-mel,
    /// model; or, when that excerpt is below [`audio::SILENCE_DBFS`], the calm and neutral reading
    /// of silence ([`EmotionPrediction::silent`], the model not run). Invalid or too short audio
    /// is an error either way. The browser worker and `model-export emotion predict` both come
    /// here.
    pub fn predict_samples(
        &self,
        samples: &[f32],
        sample_rate: u32,
    ) -> Result<EmotionPrediction, ModelError> {
        let excerpt = audio::excerpt(samples, sample_rate, EXCERPT_SECONDS);
        let input = |e: audio::AudioError| ModelError::Input(e.to_string());
        match self.front {
            FrontEnd::LogMel => {
                let mel = audio::log_mel(excerpt, sample_rate).map_err(input)?;
                match audio::silence(excerpt) {
                    Some(silence) => {
                        check_length(&mel)?;
                        Ok(EmotionPrediction::silent(silence, mel.seconds()))
                    }
                    None => self.predict_mel(&mel),
                }
            }
            FrontEnd::Musicnn => {
                let silence = audio::silence(excerpt);
                let patches = audio::musicnn::patches(excerpt, sample_rate).map_err(input)?;
                match silence {
                    Some(silence) => Ok(EmotionPrediction::silent(silence, patches.seconds())),
                    None => self.predict_patches(&patches),
                }
            }
        }
    }
}

/// The network needs [`MIN_FRAMES`].
fn check_length(mel: &LogMel) -> Result<(), ModelError> {
    if mel.frames() < MIN_FRAMES {
        return Err(ModelError::Input(format!(
            "the audio is too short to analyse ({:.2} s; at least {:.2} s)",
            mel.seconds(),
            (MIN_FRAMES * mel::HOP) as f32 / mel::SAMPLE_RATE as f32
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Quiet input, on real recordings: shipped free-music excerpts (`public/free/*.ogg`, real
    //! CC BY-SA music) decoded by the engine, attenuated, and a WAV file of zeros; the shipped
    //! model.
    use super::*;
    use crate::audio::decode::{decode, tests::wav, Decoded, MAX_DECODE_SECONDS};
    use std::path::PathBuf;

    fn model() -> EmotionModel {
        EmotionModel::from_bytes(include_bytes!("../../../public/models/emotion.onnx")).unwrap()
    }

    fn free_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../public/free")
    }

    fn real(name: &str) -> Decoded {
        let bytes = std::fs::read(free_dir().join(name)).unwrap();
        decode(bytes, Some("ogg"), MAX_DECODE_SECONDS).unwrap()
    }

    fn attenuated(samples: &[f32], db: f32) -> Vec<f32> {
        let gain = 10f32.powf(-db / 20.0);
        samples.iter().map(|x| x * gain).collect()
    }

    /// Through a real 16-bit WAV file (quantised, as a quiet file on disk is) and back.
    fn via_wav(samples: &[f32], rate: u32) -> Decoded {
        let pcm: Vec<i16> = samples
            .iter()
            .map(|x| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
            .collect();
        decode(wav(&pcm, rate, 1), Some("wav"), MAX_DECODE_SECONDS).unwrap()
    }

    fn level_of(d: &Decoded) -> f32 {
        audio::level_dbfs(audio::excerpt(&d.samples, d.sample_rate, EXCERPT_SECONDS))
    }

    /// A calm, quiet piece (-21 dBFS over its excerpt; the model reads it calm and dark): the
    /// most sensitive of the shipped excerpts to the log-mel's absolute floor.
    const QUIET_PIECE: &str = "chimes-they-fade.ogg";

    #[test]
    fn real_music_70_db_down_is_silence_with_its_level() {
        let m = model();
        let d = real(QUIET_PIECE);
        let full = m.predict_samples(&d.samples, d.sample_rate).unwrap();
        assert_eq!(full.silence, None);
        let level = level_of(&d);
        let quiet = attenuated(&d.samples, 70.0);
        let p = m.predict_samples(&quiet, d.sample_rate).unwrap();
        let s = p.silence.expect("70 dB down is silence");
        assert!(
            (s.level_dbfs - (level - 70.0)).abs() < 0.01,
            "{s:?} vs {level}"
        );
        assert!(s.level_dbfs < audio::SILENCE_DBFS);
        assert_eq!((p.valence, p.arousal), (SILENT_VALENCE, SILENT_AROUSAL));
        assert_eq!(p.probabilities, SILENT_PROBABILITIES);
        assert_eq!(p.quadrant(), Quadrant::Q4);
        assert_eq!(Emotion::va(p.valence, p.arousal).describe(), "calm");
        assert!(p.embedding.is_empty());
        assert_eq!(p.seconds, full.seconds);
        assert_eq!(
            s.reason(),
            format!(
                "silent: {:.1} dBFS over the excerpt, below -60 dBFS: read as calm and neutral",
                level - 70.0
            )
        );
        // The same, written to a 16-bit WAV file (its quantisation noise is louder than the music
        // now) and decoded again.
        let w = via_wav(&quiet, d.sample_rate);
        let p = m.predict_samples(&w.samples, w.sample_rate).unwrap();
        assert!(p.silence.is_some(), "{p:?}");
    }

    #[test]
    fn very_quiet_real_music_is_analysed_as_music() {
        let m = model();
        let d = real(QUIET_PIECE);
        let full = m.predict_samples(&d.samples, d.sample_rate).unwrap();
        // 28 dB down (about -49 dBFS), through a 16-bit WAV file.
        let w = via_wav(&attenuated(&d.samples, 28.0), d.sample_rate);
        let level = level_of(&w);
        assert!((level - (level_of(&d) - 28.0)).abs() < 0.1, "{level}");
        assert!(level > audio::SILENCE_DBFS + 10.0, "{level}");
        let p = m.predict_samples(&w.samples, w.sample_rate).unwrap();
        assert_eq!(p.silence, None, "{level} dBFS is quiet music, not silence");
        assert!(
            (p.valence - full.valence).abs() < 0.02 && (p.arousal - full.arousal).abs() < 0.02,
            "{p:?} vs {full:?}"
        );
        assert_eq!(p.quadrant(), full.quadrant());
        assert_eq!(p.embedding.len(), full.embedding.len());
        assert!(!p.embedding.is_empty());
    }

    #[test]
    fn a_wav_file_of_zeros_is_silence() {
        let m = model();
        // 40 s of 44.1 kHz stereo digital silence, as a real WAV file.
        let d = decode(
            wav(&vec![0i16; 44_100 * 40 * 2], 44_100, 2),
            Some("wav"),
            MAX_DECODE_SECONDS,
        )
        .unwrap();
        let p = m.predict_samples(&d.samples, d.sample_rate).unwrap();
        let s = p.silence.expect("zeros are silence");
        assert_eq!(s.level_dbfs, audio::LEVEL_FLOOR_DBFS);
        assert_eq!((p.valence, p.arousal), (SILENT_VALENCE, SILENT_AROUSAL));
        assert!((p.seconds - EXCERPT_SECONDS).abs() < 0.1, "{}", p.seconds);
        assert!(s.reason().contains("digital silence"), "{}", s.reason());
        // Too short is still an error, silent or not.
        let short = decode(wav(&[0; 800], 8_000, 1), Some("wav"), MAX_DECODE_SECONDS).unwrap();
        assert!(matches!(
            m.predict_samples(&short.samples, short.sample_rate),
            Err(ModelError::Input(_))
        ));
    }

    /// The threshold is far from real music: every shipped excerpt measures -30..-5 dBFS, and each
    /// turned down to just above the threshold (-58 dBFS) is still music, with its own reading.
    #[test]
    fn shipped_real_music_is_far_above_the_threshold() {
        let m = model();
        let mut names: Vec<String> = std::fs::read_dir(free_dir())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".ogg"))
            .collect();
        names.sort();
        assert!(names.len() >= 8, "{names:?}");
        for n in &names {
            let d = real(n);
            let level = level_of(&d);
            assert!((-30.0..-5.0).contains(&level), "{n}: {level} dBFS");
            let full = m.predict_samples(&d.samples, d.sample_rate).unwrap();
            assert_eq!(full.silence, None, "{n}");
            let quiet = attenuated(&d.samples, level + 58.0);
            let p = m.predict_samples(&quiet, d.sample_rate).unwrap();
            assert_eq!(p.silence, None, "{n} at -58 dBFS");
            assert!(
                (p.valence - full.valence).abs() < 0.05 && (p.arousal - full.arousal).abs() < 0.05,
                "{n} at -58 dBFS: {:+.3} {:+.3} vs {:+.3} {:+.3}",
                p.valence,
                p.arousal,
                full.valence,
                full.arousal
            );
        }
    }
}
