//! The music-emotion CNN: log-mel excerpt -> quadrant probabilities, valence/arousal and an
//! embedding for content similarity.

use super::ModelError;
use crate::audio::{self, mel, LogMel};
use crate::Quadrant;
use tract_onnx::prelude::*;

/// Seconds of audio the model looks at: the middle of the file.
pub const EXCERPT_SECONDS: f32 = 30.0;

/// Frames the network needs at least (four 2x2 poolings).
pub const MIN_FRAMES: usize = 16;

/// Graph input and output names (`model-export` writes them).
pub const INPUT: &str = "mel";
/// Output: `[batch, 4]` quadrant probabilities (Q1..Q4).
pub const PROBABILITIES: &str = "quadrant_probabilities";
/// Output: `[batch, 2]` valence and arousal in [-1, 1].
pub const VALENCE_AROUSAL: &str = "valence_arousal";
/// Output: `[batch, channels]` embedding.
pub const EMBEDDING: &str = "embedding";

/// What the model says about one piece of audio.
#[derive(Debug, Clone, PartialEq)]
pub struct EmotionPrediction {
    /// Valence in [-1, 1].
    pub valence: f32,
    /// Arousal in [-1, 1].
    pub arousal: f32,
    /// Probabilities of Q1 (V+A+), Q2 (V-A+), Q3 (V-A-), Q4 (V+A-).
    pub probabilities: [f32; 4],
    /// Content embedding (compare with cosine similarity).
    pub embedding: Vec<f32>,
    /// Seconds of audio analysed.
    pub seconds: f32,
}

impl EmotionPrediction {
    /// The most probable quadrant.
    pub fn quadrant(&self) -> Quadrant {
        Quadrant::argmax(&self.probabilities)
    }
}

/// A loaded, optimised emotion model.
pub struct EmotionModel {
    plan: std::sync::Arc<TypedRunnableModel>,
    order: [usize; 3],
}

impl std::fmt::Debug for EmotionModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmotionModel")
    }
}

impl EmotionModel {
    /// Loads and checks an ONNX model written by `model-export emotion train`.
    pub fn from_bytes(bytes: &[u8]) -> Result<EmotionModel, ModelError> {
        let (model, order) = super::read_checked(
            bytes,
            &[INPUT],
            &[PROBABILITIES, VALENCE_AROUSAL, EMBEDDING],
        )?;
        let order = [order[0], order[1], order[2]];
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| ModelError::Load(format!("{e:#}")))?;
        Ok(EmotionModel { plan, order })
    }

    /// Runs the model on a log-mel spectrogram (the whole of it: pass an excerpt).
    pub fn predict_mel(&self, mel: &LogMel) -> Result<EmotionPrediction, ModelError> {
        if mel.frames() < MIN_FRAMES {
            return Err(ModelError::Input(format!(
                "the audio is too short to analyse ({:.2} s; at least {:.2} s)",
                mel.seconds(),
                (MIN_FRAMES * mel::HOP) as f32 / mel::SAMPLE_RATE as f32
            )));
        }
        let input =
            Tensor::from_shape(&[1, 1, mel::N_MELS, mel.frames()], &audio::model_input(mel))
                .map_err(|e| ModelError::Input(e.to_string()))?;
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
            seconds: mel.seconds(),
        })
    }

    /// Analyses mono samples at `sample_rate`: the middle [`EXCERPT_SECONDS`], resampled, log-mel,
    /// model.
    pub fn predict_samples(
        &self,
        samples: &[f32],
        sample_rate: u32,
    ) -> Result<EmotionPrediction, ModelError> {
        let excerpt = audio::excerpt(samples, sample_rate, EXCERPT_SECONDS);
        let mel =
            audio::log_mel(excerpt, sample_rate).map_err(|e| ModelError::Input(e.to_string()))?;
        self.predict_mel(&mel)
    }
}
