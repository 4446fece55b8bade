//! The front end of the pretrained musicnn tagger (Pons & Serra, MSD model): mono audio at
//! 16 kHz, 512-point STFT with hop 256, 96 Slaney mel bands of power, compressed as
//! `log10(1 + 10000 S)`, cut into non-overlapping 3 s patches of [`PATCH_FRAMES`] frames.
//!
//! The same code feeds its training in `model-export` and the browser: the STFT and filterbank
//! are [`mel::MelPowerExtractor`], shared with the CNN's front end.

use super::mel::{self, MelPowerExtractor, MelSpec, N_MELS};
use super::{resample, AudioError};
use std::sync::OnceLock;

/// Sample rate musicnn was trained at.
pub const SAMPLE_RATE: u32 = 16_000;
/// STFT settings musicnn was trained with.
pub const SPEC: MelSpec = MelSpec {
    sample_rate: SAMPLE_RATE,
    n_fft: 512,
    hop: 256,
};
/// Frames in one patch: 3 s (`librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1`).
pub const PATCH_FRAMES: usize = 187;
/// Frames needed at least (0.3 s); shorter patches are filled by repeating the audio, as musicnn's
/// training did ("repeat-pad").
pub const MIN_FRAMES: usize = 19;
/// The compression's gain: `log10(1 + COMPRESSION * power)`.
pub const COMPRESSION: f32 = 10_000.0;
/// Every excerpt is brought to this RMS level before the front end, so a file's gain does not
/// change its reading (as the CNN's input is scaled to its loudest bin): -20 dBFS is typical of
/// mastered music (the shipped free excerpts measure -30 to -5 dBFS). Silence never gets here
/// ([`super::silence`] is checked first).
pub const LEVEL_DBFS: f32 = -20.0;

/// Patches of musicnn's input: `count` x [`PATCH_FRAMES`] x [`N_MELS`], frame-major within a
/// patch (`data[(p * PATCH_FRAMES + t) * N_MELS + band]`), the graph's `[patches, time, mel]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Patches {
    count: usize,
    data: Vec<f32>,
}

impl Patches {
    /// Patches from stored values (`data.len()` a positive multiple of one patch).
    pub fn from_data(data: Vec<f32>) -> Option<Patches> {
        let one = PATCH_FRAMES * N_MELS;
        (!data.is_empty() && data.len().is_multiple_of(one)).then(|| Patches {
            count: data.len() / one,
            data,
        })
    }

    /// How many patches.
    pub fn count(&self) -> usize {
        self.count
    }

    /// All values (`[patches, time, mel]`, row-major).
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Seconds of audio the patches cover.
    pub fn seconds(&self) -> f32 {
        (self.count * PATCH_FRAMES * SPEC.hop) as f32 / SAMPLE_RATE as f32
    }
}

/// The compressed mel frames of mono `samples` at `sample_rate` (frame-major).
pub fn frames(samples: &[f32], sample_rate: u32) -> Result<Vec<[f32; N_MELS]>, AudioError> {
    static EXTRACTOR: OnceLock<MelPowerExtractor> = OnceLock::new();
    let resampled = resample::resample(samples, sample_rate, SAMPLE_RATE)?;
    let mut frames = EXTRACTOR
        .get_or_init(|| MelPowerExtractor::new(SPEC))
        .compute(&resampled);
    for f in &mut frames {
        for v in f.iter_mut() {
            *v = (COMPRESSION * *v).ln_1p() / std::f32::consts::LN_10;
        }
    }
    Ok(frames)
}

/// musicnn's input for mono `samples` at `sample_rate`: every whole 3 s patch from the start (as
/// musicnn's own `batch_data` cuts them, without overlap); audio shorter than one patch but at
/// least [`MIN_FRAMES`] is repeated to fill it.
pub fn patches(samples: &[f32], sample_rate: u32) -> Result<Patches, AudioError> {
    patches_of(&frames(&at_level(samples), sample_rate)?)
}

/// `samples` scaled to [`LEVEL_DBFS`] RMS (unchanged when digitally silent).
pub fn at_level(samples: &[f32]) -> Vec<f32> {
    let level = super::level_dbfs(samples);
    if level <= super::LEVEL_FLOOR_DBFS {
        return samples.to_vec();
    }
    let gain = 10f32.powf((LEVEL_DBFS - level) / 20.0);
    samples.iter().map(|x| x * gain).collect()
}

/// [`patches`] from frames already computed.
pub fn patches_of(frames: &[[f32; N_MELS]]) -> Result<Patches, AudioError> {
    if frames.len() < MIN_FRAMES {
        return Err(AudioError::TooShort {
            ms: (frames.len().saturating_sub(1) * SPEC.hop * 1000 / SAMPLE_RATE as usize) as u32,
            needed_ms: (MIN_FRAMES * SPEC.hop * 1000 / SAMPLE_RATE as usize) as u32,
        });
    }
    let count = (frames.len() / PATCH_FRAMES).max(1);
    let data = (0..count * PATCH_FRAMES)
        .flat_map(|t| frames[t % frames.len()])
        .collect();
    Ok(Patches { count, data })
}

const _: () = assert!(mel::N_MELS == 96, "musicnn reads 96 mel bands");

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, seconds: f32, sr: u32) -> Vec<f32> {
        (0..(seconds * sr as f32) as usize)
            .map(|i| 0.3 * (2.0 * std::f32::consts::PI * freq * i as f32 / sr as f32).sin())
            .collect()
    }

    #[test]
    fn thirty_seconds_make_ten_patches() {
        let p = patches(&tone(440.0, 30.0, 44_100), 44_100).unwrap();
        assert_eq!(p.count(), 10);
        assert_eq!(p.data().len(), 10 * PATCH_FRAMES * N_MELS);
        assert!(p.data().iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!((p.seconds() - 29.92).abs() < 0.01, "{}", p.seconds());
    }

    #[test]
    fn short_audio_is_repeated_and_too_short_audio_is_an_error() {
        let p = patches(&tone(440.0, 1.0, 16_000), 16_000).unwrap();
        assert_eq!(p.count(), 1);
        let f = frames(&at_level(&tone(440.0, 1.0, 16_000)), 16_000).unwrap();
        assert_eq!(
            &p.data()[f.len() * N_MELS..(f.len() + 1) * N_MELS],
            &f[0][..]
        );
        assert!(matches!(
            patches(&tone(440.0, 0.1, 16_000), 16_000),
            Err(AudioError::TooShort { .. })
        ));
    }

    #[test]
    fn silence_compresses_to_zero_and_gain_does_not_matter() {
        let p = patches(&vec![0.0; 48_000], 16_000).unwrap();
        assert!(p.data().iter().all(|&v| v == 0.0));
        let loud = patches(&tone(440.0, 4.0, 16_000), 16_000).unwrap();
        let quiet: Vec<f32> = tone(440.0, 4.0, 16_000).iter().map(|x| x * 0.01).collect();
        let quiet = patches(&quiet, 16_000).unwrap();
        let worst = loud
            .data()
            .iter()
            .zip(quiet.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-3, "{worst}");
    }
}
