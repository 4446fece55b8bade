//! Channel mixdown and sample-rate conversion (rubato's synchronous FFT resampler).

use super::{AudioError, MAX_SAMPLE_RATE};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Frames per resampler chunk.
const CHUNK: usize = 1024;

/// Averages interleaved `channels` into one.
pub fn to_mono(interleaved: &[f32], channels: usize) -> Result<Vec<f32>, AudioError> {
    if channels == 0 || !interleaved.len().is_multiple_of(channels) {
        return Err(AudioError::Channels {
            samples: interleaved.len(),
            channels,
        });
    }
    Ok(interleaved
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect())
}

/// Converts mono `samples` from `from` Hz to `to` Hz (a copy when they are equal). Rejects empty
/// or non-finite input and unsupported rates.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    for rate in [from, to] {
        if rate == 0 || rate > MAX_SAMPLE_RATE {
            return Err(AudioError::SampleRate(rate));
        }
    }
    if samples.is_empty() {
        return Err(AudioError::Empty);
    }
    if !samples.iter().all(|x| x.is_finite()) {
        return Err(AudioError::NonFinite);
    }
    if from == to {
        return Ok(samples.to_vec());
    }
    let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
    let mut fft = Fft::<f32>::new(from as usize, to as usize, CHUNK, 1, FixedSync::Input)
        .map_err(|e| err(&e))?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| err(&e))?;
    let out = fft
        .process_all(&input, samples.len(), None)
        .map_err(|e| err(&e))?;
    Ok(out.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixdown_averages_and_checks_frames() {
        assert_eq!(to_mono(&[1.0, 3.0, -1.0, 1.0], 2).unwrap(), vec![2.0, 0.0]);
        assert!(to_mono(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(to_mono(&[1.0], 0).is_err());
    }

    #[test]
    fn halving_the_rate_halves_the_length_and_keeps_the_level() {
        let n = 44_100;
        let x: Vec<f32> = (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 44_100.0).sin())
            .collect();
        let y = resample(&x, 44_100, 22_050).unwrap();
        assert!((y.len() as i64 - 22_050).abs() <= 2, "{}", y.len());
        let rms = |v: &[f32]| (v.iter().map(|s| s * s).sum::<f32>() / v.len() as f32).sqrt();
        let (a, b) = (rms(&x[4410..39690]), rms(&y[2205..19845]));
        assert!((a - b).abs() / a < 0.02, "{a} vs {b}");
        assert_eq!(resample(&x, 22_050, 22_050).unwrap(), x);
        assert_eq!(
            resample(&x, 500_000, 22_050),
            Err(AudioError::SampleRate(500_000))
        );
    }
}
