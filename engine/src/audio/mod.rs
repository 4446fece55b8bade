//! The audio front end shared by training (`model-export`) and the browser: mono samples at any
//! rate -> resampled to [`mel::SAMPLE_RATE`] -> log-mel spectrogram ([`mel::LogMel`]).
//!
//! - [`resample`]: channel mixdown and FFT resampling (rubato).
//! - [`mel`]: STFT (Hann, centred with reflect padding), Slaney mel filterbank, power in dB, as
//!   librosa's `melspectrogram` + `power_to_db(ref=1.0, amin=1e-10, top_db=80)` compute it.
//!
//! - [`decode`]: audio files (WAV, MP3, Ogg Vorbis, FLAC) to mono samples (symphonia), bounded.
//! - [`model_input`]: the log-mel as the emotion model reads it (gain-invariant scaling).
//!
//! Memory is bounded: decoding stops at a duration limit, and the analysis reads an excerpt
//! ([`excerpt`]) rather than a whole long file.

pub mod decode;
pub mod mel;
pub mod resample;

pub use mel::{LogMel, LogMelExtractor};

use std::sync::OnceLock;

/// Why audio could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// No samples.
    #[error("the audio has no samples")]
    Empty,
    /// NaN or infinite samples.
    #[error("the audio has invalid (non-finite) samples")]
    NonFinite,
    /// A sample rate outside 1 Hz..=384 kHz.
    #[error("sample rate {0} Hz is not supported")]
    SampleRate(u32),
    /// Zero channels, or a buffer that is not a whole number of frames.
    #[error("{samples} samples do not make whole frames of {channels} channel(s)")]
    Channels {
        /// Samples in the buffer.
        samples: usize,
        /// Channels claimed.
        channels: usize,
    },
    /// The resampler refused the input.
    #[error("resampling failed: {0}")]
    Resample(String),
}

/// Highest sample rate accepted.
pub const MAX_SAMPLE_RATE: u32 = 384_000;

/// The log-mel spectrogram of mono `samples` at `sample_rate`.
pub fn log_mel(samples: &[f32], sample_rate: u32) -> Result<LogMel, AudioError> {
    static EXTRACTOR: OnceLock<LogMelExtractor> = OnceLock::new();
    let resampled = resample::resample(samples, sample_rate, mel::SAMPLE_RATE)?;
    Ok(EXTRACTOR
        .get_or_init(LogMelExtractor::new)
        .compute(&resampled))
}

/// The middle `seconds` of mono `samples` at `sample_rate` (all of them if shorter): the part of a
/// song the analysis looks at, which bounds memory and time whatever the file's length.
pub fn excerpt(samples: &[f32], sample_rate: u32, seconds: f32) -> &[f32] {
    let want = (f64::from(sample_rate) * f64::from(seconds.max(0.0))) as usize;
    if samples.len() <= want {
        return samples;
    }
    let start = (samples.len() - want) / 2;
    &samples[start..start + want]
}

/// Scales a log-mel spectrogram (dB) for the emotion model: relative to its loudest bin, so the
/// file's overall gain does not matter, mapped from `[-80, 0]` dB to `[-1, 1]`. Row-major
/// `[band][frame]`, like [`LogMel::data`].
pub fn model_input(mel: &LogMel) -> Vec<f32> {
    let max = mel.data().iter().copied().fold(f32::NEG_INFINITY, f32::max);
    mel.data()
        .iter()
        .map(|&x| ((x - max) / (mel::TOP_DB / 2.0) + 1.0).max(-1.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, sr: u32, seconds: f32) -> Vec<f32> {
        let n = (sr as f32 * seconds) as usize;
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / sr as f32).sin())
            .collect()
    }

    #[test]
    fn the_same_tone_at_two_rates_lands_in_the_same_band() {
        let a = log_mel(&sine(880.0, 44_100, 2.0), 44_100).unwrap();
        let b = log_mel(&sine(880.0, 22_050, 2.0), 22_050).unwrap();
        assert!((a.frames() as i64 - b.frames() as i64).abs() <= 1);
        let t = b.frames() / 2;
        assert_eq!(a.loudest_band(t), b.loudest_band(t));
        let (ma, mb) = (a.get(a.loudest_band(t), t), b.get(b.loudest_band(t), t));
        assert!((ma - mb).abs() < 0.5, "{ma} dB vs {mb} dB");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(log_mel(&[], 22_050), Err(AudioError::Empty));
        assert_eq!(
            log_mel(&[0.0, f32::NAN], 22_050),
            Err(AudioError::NonFinite)
        );
        assert_eq!(log_mel(&[0.0; 10], 0), Err(AudioError::SampleRate(0)));
    }

    #[test]
    fn model_input_ignores_gain() {
        let loud = log_mel(&sine(440.0, 22_050, 1.0), 22_050).unwrap();
        let quiet: Vec<f32> = sine(440.0, 22_050, 1.0).iter().map(|x| x * 0.1).collect();
        let quiet = log_mel(&quiet, 22_050).unwrap();
        let (a, b) = (model_input(&loud), model_input(&quiet));
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-3, "{worst}");
        assert!(a.iter().all(|x| (-1.0..=1.0).contains(x)));
    }

    #[test]
    fn excerpt_takes_the_middle() {
        let x: Vec<f32> = (0..100).map(|i| i as f32).collect();
        assert_eq!(excerpt(&x, 10, 2.0), &x[40..60]);
        assert_eq!(excerpt(&x, 10, 20.0).len(), 100);
    }
}
