//! The audio front end shared by training (`model-export`) and the browser: mono samples at any
//! rate -> resampled to [`mel::SAMPLE_RATE`] -> log-mel spectrogram ([`mel::LogMel`]).
//!
//! - [`resample`]: channel mixdown and FFT resampling (rubato).
//! - [`mel`]: STFT (Hann, centred with reflect padding), Slaney mel filterbank, power in dB, as
//!   librosa's `melspectrogram` + `power_to_db(ref=1.0, amin=1e-10, top_db=80)` compute it.
//!
//! - [`musicnn`]: the pretrained musicnn tagger's front end (16 kHz, 3 s patches), on the same
//!   STFT and filterbank code ([`mel::MelPowerExtractor`]).
//! - [`decode`]: audio files (WAV, MP3, Ogg Vorbis, FLAC) to mono samples (symphonia), bounded.
//! - [`model_input`]: the log-mel as the emotion model reads it (gain-invariant scaling).
//! - [`level_dbfs`] and [`silence`]: how loud the excerpt is, and whether it is too quiet to be
//!   analysed at all (below [`SILENCE_DBFS`]: the gain-invariant scaling would blow the noise floor
//!   of near-silence up to full scale, and the model would hear it as loud, busy music).
//!
//! Memory is bounded: decoding stops at a duration limit, and the analysis reads an excerpt
//! ([`excerpt`]) rather than a whole long file.

pub mod decode;
pub mod mel;
pub mod musicnn;
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
    /// Too little audio for the model.
    #[error("the audio is too short to analyse ({:.2} s; at least {:.2} s)", *.ms as f32 / 1000.0, *.needed_ms as f32 / 1000.0)]
    TooShort {
        /// Milliseconds given.
        ms: u32,
        /// Milliseconds needed.
        needed_ms: u32,
    },
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

/// Below this RMS level over the excerpt (dBFS, full scale = 1.0) the audio is silence, not
/// music: it is read as calm and neutral and the emotion model is not run on it.
///
/// Why -60 dBFS: the model's input is scaled relative to the excerpt's own loudest bin, so any
/// level "works" numerically, and 10 s of near-silence (-104 dBFS) reads as arousal +1.00. Real
/// music is far above -60 dBFS over 30 s: the shipped free excerpts measure -25 to -7 dBFS, and
/// turned down, each keeps its reading (within 0.01) to about -65 dBFS; below that the log-mel's
/// absolute floor ([`mel::AMIN`], -100 dB) eats into the [`mel::TOP_DB`] window and the reading
/// drifts (tested in `models::emotion`). Played back at a normal volume -60 dBFS is near
/// inaudible, while the dither, hiss or room noise of a silent track sits below it (16-bit dither
/// is about -96 dBFS).
pub const SILENCE_DBFS: f32 = -60.0;

/// The lowest level reported: quieter audio (digital silence, all zeros, included) reads as this
/// (below the smallest step of a 24-bit file, -144.5 dBFS; keeps the level a finite number).
pub const LEVEL_FLOOR_DBFS: f32 = -150.0;

/// The RMS level of `samples` in dBFS (full scale = 1.0, so a full-scale sine reads -3.01 dBFS),
/// at least [`LEVEL_FLOOR_DBFS`]; empty or non-finite input reads as the floor.
pub fn level_dbfs(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return LEVEL_FLOOR_DBFS;
    }
    let mean_square = samples
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / samples.len() as f64;
    let db = 10.0 * mean_square.log10();
    if db.is_finite() {
        (db as f32).max(LEVEL_FLOOR_DBFS)
    } else {
        LEVEL_FLOOR_DBFS
    }
}

/// Why an excerpt was read as silence rather than analysed: its level.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Silence {
    /// RMS level of the excerpt in dBFS ([`level_dbfs`]), below [`SILENCE_DBFS`].
    pub level_dbfs: f32,
}

impl Silence {
    /// The threshold it is below ([`SILENCE_DBFS`]).
    pub const THRESHOLD_DBFS: f32 = SILENCE_DBFS;

    /// The reason, for a person: "silent: -72.4 dBFS over the excerpt, below -60 dBFS: read as
    /// calm and neutral".
    pub fn reason(&self) -> String {
        let level = if self.level_dbfs <= LEVEL_FLOOR_DBFS {
            format!("{LEVEL_FLOOR_DBFS:.0} dBFS or less (digital silence)")
        } else {
            format!("{:.1} dBFS", self.level_dbfs)
        };
        format!("silent: {level} over the excerpt, below {SILENCE_DBFS:.0} dBFS: read as calm and neutral")
    }
}

impl std::fmt::Display for Silence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason())
    }
}

/// `Some` when `excerpt` (the samples the analysis looks at) is below [`SILENCE_DBFS`].
pub fn silence(excerpt: &[f32]) -> Option<Silence> {
    let level_dbfs = level_dbfs(excerpt);
    (level_dbfs < SILENCE_DBFS).then_some(Silence { level_dbfs })
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
    fn level_is_rms_in_dbfs() {
        // A full-scale square wave is 0 dBFS, a full-scale sine -3.01, half of it -6.02 more.
        let square: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!(level_dbfs(&square).abs() < 1e-4);
        let full: Vec<f32> = sine(440.0, 22_050, 1.0).iter().map(|x| x * 2.0).collect();
        assert!(
            (level_dbfs(&full) + 3.01).abs() < 0.01,
            "{}",
            level_dbfs(&full)
        );
        let half = sine(440.0, 22_050, 1.0);
        assert!((level_dbfs(&half) - level_dbfs(&full) + 6.02).abs() < 0.01);
        assert_eq!(level_dbfs(&[0.0; 100]), LEVEL_FLOOR_DBFS);
        assert_eq!(level_dbfs(&[]), LEVEL_FLOOR_DBFS);
        assert_eq!(level_dbfs(&[1e-30; 100]), LEVEL_FLOOR_DBFS);
    }

    #[test]
    fn silence_is_below_the_threshold_and_says_so() {
        let at = |db: f32| -> Vec<f32> {
            let g = 10f32.powf(db / 20.0);
            (0..2000).map(|i| if i % 2 == 0 { g } else { -g }).collect()
        };
        assert_eq!(silence(&at(-59.9)), None);
        let s = silence(&at(-72.4)).expect("silent");
        assert!((s.level_dbfs + 72.4).abs() < 1e-3);
        assert_eq!(
            s.reason(),
            "silent: -72.4 dBFS over the excerpt, below -60 dBFS: read as calm and neutral"
        );
        let zero = silence(&[0.0; 2000]).expect("silent");
        assert_eq!(
            zero.to_string(),
            "silent: -150 dBFS or less (digital silence) over the excerpt, below -60 dBFS: \
             read as calm and neutral"
        );
    }

    #[test]
    fn excerpt_takes_the_middle() {
        let x: Vec<f32> = (0..100).map(|i| i as f32).collect();
        assert_eq!(excerpt(&x, 10, 2.0), &x[40..60]);
        assert_eq!(excerpt(&x, 10, 20.0).len(), 100);
    }
}
