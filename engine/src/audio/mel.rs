//! Log-mel spectrogram: short-time Fourier transform (Hann window, frames centred with reflect
//! padding), a Slaney-style mel filterbank (area-normalised triangles), power in decibels with a
//! floor of [`TOP_DB`] below the loudest value. The conventions are librosa's defaults, so numbers
//! can be checked against it.

use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Sample rate the spectrogram is computed at (input is resampled to it).
pub const SAMPLE_RATE: u32 = 22_050;
/// FFT size (about 93 ms).
pub const N_FFT: usize = 2048;
/// Hop between frames (about 23 ms): 30 s give 1,292 frames.
pub const HOP: usize = 512;
/// Mel bands.
pub const N_MELS: usize = 96;
/// Lowest frequency of the filterbank.
pub const F_MIN: f64 = 0.0;
/// Highest frequency of the filterbank (Nyquist).
pub const F_MAX: f64 = SAMPLE_RATE as f64 / 2.0;
/// Power floor before taking decibels.
pub const AMIN: f32 = 1e-10;
/// Dynamic range kept below the loudest value, in dB.
pub const TOP_DB: f32 = 80.0;

/// Hz to mel on the Slaney scale (linear below 1 kHz, logarithmic above), as librosa's default.
pub fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    let logstep = 6.4f64.ln() / 27.0;
    if hz < 1000.0 {
        hz / F_SP
    } else {
        15.0 + (hz / 1000.0).ln() / logstep
    }
}

/// The inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    let logstep = 6.4f64.ln() / 27.0;
    if mel < 15.0 {
        mel * F_SP
    } else {
        1000.0 * ((mel - 15.0) * logstep).exp()
    }
}

/// A log-mel spectrogram, band-major: `N_MELS` rows of `frames` values in dB.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMel {
    frames: usize,
    data: Vec<f32>,
}

impl LogMel {
    /// A spectrogram from stored values (`bands` must be [`N_MELS`], `data` band-major with
    /// `bands * frames` values): `None` when they do not fit.
    pub fn from_parts(bands: usize, frames: usize, data: Vec<f32>) -> Option<LogMel> {
        (bands == N_MELS && frames > 0 && data.len() == bands * frames)
            .then_some(LogMel { frames, data })
    }

    /// The frames `start..start + len` (clamped to the spectrogram).
    pub fn window(&self, start: usize, len: usize) -> LogMel {
        let start = start.min(self.frames.saturating_sub(1));
        let end = (start + len).min(self.frames);
        let frames = end - start;
        let data = (0..N_MELS)
            .flat_map(|b| {
                self.data[b * self.frames + start..b * self.frames + end]
                    .iter()
                    .copied()
            })
            .collect();
        LogMel { frames, data }
    }

    /// Mel bands (rows).
    pub fn n_mels(&self) -> usize {
        N_MELS
    }

    /// Frames (columns), one every [`HOP`] samples.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// All values, band-major (`data[band * frames + frame]`): the CNN's 1 x N_MELS x frames input.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The value of `band` at `frame`, in dB.
    pub fn get(&self, band: usize, frame: usize) -> f32 {
        self.data[band * self.frames + frame]
    }

    /// The loudest band at `frame`.
    pub fn loudest_band(&self, frame: usize) -> usize {
        (0..N_MELS)
            .max_by(|&a, &b| self.get(a, frame).total_cmp(&self.get(b, frame)))
            .unwrap_or(0)
    }

    /// Seconds of audio the frames cover.
    pub fn seconds(&self) -> f32 {
        (self.frames.saturating_sub(1) * HOP) as f32 / SAMPLE_RATE as f32
    }
}

/// The STFT and filterbank settings of one front end (the mel bands are always [`N_MELS`],
/// Slaney-normalised from 0 Hz to Nyquist, periodic Hann window, reflect-padded centred frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MelSpec {
    /// Sample rate the input must be at.
    pub sample_rate: u32,
    /// FFT size (= window length).
    pub n_fft: usize,
    /// Hop between frames.
    pub hop: usize,
}

impl MelSpec {
    /// The emotion CNN's front end: [`SAMPLE_RATE`], [`N_FFT`], [`HOP`].
    pub const CNN: MelSpec = MelSpec {
        sample_rate: SAMPLE_RATE,
        n_fft: N_FFT,
        hop: HOP,
    };
}

/// One triangular filter: the first FFT bin it touches and its weights from there.
#[derive(Debug, Clone)]
struct Filter {
    start: usize,
    weights: Vec<f32>,
}

/// A mel filterbank ([`N_MELS`] bands) for one [`MelSpec`].
#[derive(Debug, Clone)]
pub struct MelFilterbank {
    filters: Vec<Filter>,
}

impl MelFilterbank {
    /// The CNN's filterbank ([`MelSpec::CNN`]).
    pub fn new() -> MelFilterbank {
        MelFilterbank::for_spec(MelSpec::CNN)
    }

    /// Slaney-normalised triangles from 0 Hz to Nyquist, equally spaced in mel.
    pub fn for_spec(spec: MelSpec) -> MelFilterbank {
        let bins = spec.n_fft / 2 + 1;
        let bin_hz = |k: usize| k as f64 * f64::from(spec.sample_rate) / spec.n_fft as f64;
        let (lo, hi) = (
            hz_to_mel(F_MIN),
            hz_to_mel(f64::from(spec.sample_rate) / 2.0),
        );
        let edges: Vec<f64> = (0..N_MELS + 2)
            .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (N_MELS + 1) as f64))
            .collect();
        let filters = (0..N_MELS)
            .map(|m| {
                let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
                let norm = 2.0 / (right - left);
                let w: Vec<(usize, f32)> = (0..bins)
                    .filter_map(|k| {
                        let f = bin_hz(k);
                        let rise = (f - left) / (centre - left);
                        let fall = (right - f) / (right - centre);
                        let w = rise.min(fall).max(0.0) * norm;
                        (w > 0.0).then_some((k, w as f32))
                    })
                    .collect();
                Filter {
                    start: w.first().map_or(0, |&(k, _)| k),
                    weights: w.into_iter().map(|(_, x)| x).collect(),
                }
            })
            .collect();
        MelFilterbank { filters }
    }

    /// The weight of FFT bin `k` in band `m`.
    pub fn weight(&self, m: usize, k: usize) -> f32 {
        let f = &self.filters[m];
        k.checked_sub(f.start)
            .and_then(|i| f.weights.get(i))
            .copied()
            .unwrap_or(0.0)
    }

    fn apply(&self, power: &[f32], out: &mut [f32]) {
        for (o, f) in out.iter_mut().zip(&self.filters) {
            *o = f
                .weights
                .iter()
                .zip(&power[f.start..])
                .map(|(w, p)| w * p)
                .sum();
        }
    }
}

impl Default for MelFilterbank {
    fn default() -> Self {
        MelFilterbank::new()
    }
}

/// Mel power spectrograms for one [`MelSpec`] (the FFT plan, window and filterbank made once):
/// the one STFT every front end shares.
pub struct MelPowerExtractor {
    spec: MelSpec,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    filterbank: MelFilterbank,
}

impl MelPowerExtractor {
    /// Plans the FFT and builds the window and filterbank for `spec`.
    pub fn new(spec: MelSpec) -> MelPowerExtractor {
        let window = (0..spec.n_fft)
            .map(|i| {
                // Periodic Hann, as scipy.signal.get_window("hann", n_fft) (librosa's default).
                let x = 2.0 * std::f64::consts::PI * i as f64 / spec.n_fft as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        MelPowerExtractor {
            spec,
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(spec.n_fft),
            window,
            filterbank: MelFilterbank::for_spec(spec),
        }
    }

    /// The settings.
    pub fn spec(&self) -> MelSpec {
        self.spec
    }

    /// The filterbank in use.
    pub fn filterbank(&self) -> &MelFilterbank {
        &self.filterbank
    }

    /// The power spectrum |X(k)|^2 of one windowed frame of `n_fft` samples (zero-padded if
    /// shorter).
    pub fn power_spectrum(&self, frame: &[f32]) -> Vec<f32> {
        let mut input: Vec<f32> = frame.iter().zip(&self.window).map(|(x, w)| x * w).collect();
        input.resize(self.spec.n_fft, 0.0);
        let mut spectrum = self.fft.make_output_vec();
        self.fft
            .process(&mut input, &mut spectrum)
            .expect("buffers have the planned sizes");
        spectrum.iter().map(|c| c.norm_sqr()).collect()
    }

    /// The mel power of mono `samples` at the spec's rate, frame-major (`[frame][band]`, at least
    /// one frame; an empty input gives one frame of zeros).
    pub fn compute(&self, samples: &[f32]) -> Vec<[f32; N_MELS]> {
        let (n_fft, hop) = (self.spec.n_fft, self.spec.hop);
        let padded = centre_pad(samples, n_fft / 2);
        let frames = 1 + padded.len().saturating_sub(n_fft) / hop;
        (0..frames)
            .map(|t| {
                let start = t * hop;
                let end = (start + n_fft).min(padded.len());
                let power = self.power_spectrum(&padded[start..end]);
                let mut mel = [0.0f32; N_MELS];
                self.filterbank.apply(&power, &mut mel);
                mel
            })
            .collect()
    }
}

/// Computes the CNN's log-mel spectrograms ([`MelSpec::CNN`], power in dB).
pub struct LogMelExtractor {
    power: MelPowerExtractor,
}

impl Default for LogMelExtractor {
    fn default() -> Self {
        LogMelExtractor::new()
    }
}

impl LogMelExtractor {
    /// Plans the FFT and builds the window and filterbank.
    pub fn new() -> LogMelExtractor {
        LogMelExtractor {
            power: MelPowerExtractor::new(MelSpec::CNN),
        }
    }

    /// The filterbank in use.
    pub fn filterbank(&self) -> &MelFilterbank {
        self.power.filterbank()
    }

    /// The power spectrum |X(k)|^2 of one windowed frame of [`N_FFT`] samples.
    pub fn power_spectrum(&self, frame: &[f32]) -> Vec<f32> {
        self.power.power_spectrum(frame)
    }

    /// The log-mel spectrogram of mono `samples` at [`SAMPLE_RATE`] (at least one frame; an empty
    /// input gives one frame of silence).
    pub fn compute(&self, samples: &[f32]) -> LogMel {
        let columns: Vec<Vec<f32>> = self
            .power
            .compute(samples)
            .iter()
            .map(|mel| mel.iter().map(|&p| 10.0 * p.max(AMIN).log10()).collect())
            .collect();
        let frames = columns.len();
        let top = columns
            .iter()
            .flatten()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        let floor = top - TOP_DB;
        let mut data = vec![0.0f32; N_MELS * frames];
        for (t, col) in columns.iter().enumerate() {
            for (m, &db) in col.iter().enumerate() {
                data[m * frames + t] = db.max(floor);
            }
        }
        LogMel { frames, data }
    }
}

/// Pads `pad` samples on each side by reflection without repeating the edge (numpy's "reflect",
/// librosa's `center=True`); zeros beyond one reflection (signals shorter than `pad`).
fn centre_pad(x: &[f32], pad: usize) -> Vec<f32> {
    let n = x.len() as isize;
    let reflect = |i: isize| -> f32 {
        let j = if i < 0 {
            -i
        } else if i >= n {
            2 * (n - 1) - i
        } else {
            i
        };
        if (0..n).contains(&j) {
            x[j as usize]
        } else {
            0.0
        }
    };
    (-(pad as isize)..n + pad as isize).map(reflect).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_known_values() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        // 2 kHz: 15 + 27 ln 2 / ln 6.4 = 25.0819 (librosa.hz_to_mel(2000) = 25.08190...).
        assert!((hz_to_mel(2000.0) - 25.0819).abs() < 1e-4);
        for hz in [0.0, 123.0, 999.0, 1000.0, 4321.0, 11_025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz}");
        }
    }

    #[test]
    fn filters_are_area_normalised_triangles() {
        let fb = MelFilterbank::new();
        let bin_hz = f64::from(SAMPLE_RATE) / N_FFT as f64;
        for m in 10..N_MELS - 1 {
            // Area in Hz of each triangle is 1 (Slaney norm), up to the sampling of the bins.
            let area: f64 = (0..=N_FFT / 2)
                .map(|k| f64::from(fb.weight(m, k)) * bin_hz)
                .sum();
            assert!((area - 1.0).abs() < 0.05, "band {m}: area {area}");
        }
        assert!((0..=N_FFT / 2).all(|k| (0..N_MELS).all(|m| fb.weight(m, k) >= 0.0)));
    }

    #[test]
    fn power_spectrum_matches_a_direct_dft() {
        let ex = LogMelExtractor::new();
        let frame: Vec<f32> = (0..N_FFT)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let fast = ex.power_spectrum(&frame);
        let w: Vec<f64> = frame
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let h = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos();
                f64::from(x) * h
            })
            .collect();
        for k in [0, 1, 17, 255, 512, 1000, N_FFT / 2] {
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for (n, x) in w.iter().enumerate() {
                let a = -2.0 * std::f64::consts::PI * (k * n) as f64 / N_FFT as f64;
                re += x * a.cos();
                im += x * a.sin();
            }
            let want = re * re + im * im;
            let got = f64::from(fast[k]);
            assert!(
                (got - want).abs() <= 1e-3 * want.max(1.0),
                "bin {k}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn a_tone_peaks_in_its_band_and_silence_is_the_floor() {
        let ex = LogMelExtractor::new();
        let x: Vec<f32> = (0..SAMPLE_RATE as usize)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / SAMPLE_RATE as f32).sin())
            .collect();
        let s = ex.compute(&x);
        assert_eq!(s.frames(), 1 + SAMPLE_RATE as usize / HOP);
        let t = s.frames() / 2;
        let band = s.loudest_band(t);
        let (lo, hi) = (hz_to_mel(F_MIN), hz_to_mel(F_MAX));
        let centre = mel_to_hz(lo + (hi - lo) * (band + 1) as f64 / (N_MELS + 1) as f64);
        assert!(
            (centre - 1000.0).abs() < 120.0,
            "band {band} centred at {centre} Hz"
        );
        let silence = ex.compute(&vec![0.0; 4096]);
        assert!(silence.data().iter().all(|&v| v == silence.data()[0]));
        let top = s.data().iter().copied().fold(f32::MIN, f32::max);
        assert!(s.data().iter().all(|&v| v >= top - TOP_DB));
    }

    #[test]
    fn reflect_padding_is_numpy_reflect() {
        assert_eq!(
            centre_pad(&[1.0, 2.0, 3.0, 4.0], 2),
            vec![3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]
        );
        assert_eq!(centre_pad(&[5.0], 1), vec![0.0, 5.0, 0.0]);
    }
}
