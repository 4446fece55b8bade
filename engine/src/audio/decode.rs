//! Decoding audio files (WAV, MP3, Ogg Vorbis, FLAC) into mono samples with symphonia, the same
//! code natively and in the browser. Memory is bounded: decoding stops after a fixed duration.

use super::AudioError;
use std::io::Cursor;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Longest stretch of a file decoded (the analysis reads the middle 30 s of it): bounds memory and
/// time whatever the file's length. The browser worker and `model-export` use the same limit.
pub const MAX_DECODE_SECONDS: f32 = 600.0;

/// Mono audio decoded from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Mono samples (channels averaged).
    pub samples: Vec<f32>,
    /// Their sample rate in Hz.
    pub sample_rate: u32,
    /// Channels in the file.
    pub channels: usize,
    /// Whether decoding stopped at the duration limit before the end of the file.
    pub truncated: bool,
}

impl Decoded {
    /// Seconds of audio decoded.
    pub fn seconds(&self) -> f32 {
        self.samples.len() as f32 / self.sample_rate as f32
    }
}

/// Why a file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not a container/codec this build reads (or not audio at all).
    #[error("not a supported audio file (WAV, MP3, Ogg Vorbis or FLAC): {0}")]
    Unsupported(String),
    /// The file is damaged.
    #[error("the audio file is damaged: {0}")]
    Corrupt(String),
    /// A file with no audio track or no samples.
    #[error("the file holds no audio")]
    NoAudio,
    /// The decoded audio is unusable.
    #[error(transparent)]
    Audio(#[from] AudioError),
}

/// Decodes at most `max_seconds` of `bytes` (any supported format, detected from the content;
/// `extension` is only a hint) into mono samples at the file's own rate.
pub fn decode(
    bytes: Vec<u8>,
    extension: Option<&str>,
    max_seconds: f32,
) -> Result<Decoded, DecodeError> {
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                DecodeError::Corrupt("the file ends too early (truncated?)".into())
            }
            other => DecodeError::Unsupported(other.to_string()),
        })?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or(DecodeError::NoAudio)?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or(DecodeError::NoAudio)?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| DecodeError::Unsupported(e.to_string()))?;
    let track_id = track.id;

    let mut mono = Vec::new();
    let mut rate = 0u32;
    let mut channels = 0usize;
    let mut interleaved: Vec<f32> = Vec::new();
    let mut truncated = false;
    let mut damaged = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A truncated file ends early: keep what was decoded.
            Err(SymphoniaError::IoError(_)) if !mono.is_empty() => break,
            Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(b) => b,
            Err(SymphoniaError::DecodeError(_)) => {
                damaged += 1;
                if damaged > 16 && mono.is_empty() {
                    return Err(DecodeError::Corrupt("no packet could be decoded".into()));
                }
                continue;
            }
            Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
        };
        let spec = buf.spec();
        if rate == 0 {
            rate = spec.rate();
            channels = spec.channels().count();
            if rate == 0 || rate > super::MAX_SAMPLE_RATE {
                return Err(AudioError::SampleRate(rate).into());
            }
            if channels == 0 {
                return Err(DecodeError::NoAudio);
            }
        } else if spec.rate() != rate || spec.channels().count() != channels {
            return Err(DecodeError::Corrupt(
                "the stream changes format midway".into(),
            ));
        }
        interleaved.resize(buf.samples_interleaved(), 0.0);
        buf.copy_to_slice_interleaved(&mut interleaved);
        mono.extend(
            interleaved
                .chunks_exact(channels)
                .map(|f| f.iter().sum::<f32>() / channels as f32),
        );
        if mono.len() as f32 >= max_seconds * rate as f32 {
            mono.truncate((max_seconds * rate as f32) as usize);
            truncated = true;
            break;
        }
    }
    if mono.is_empty() {
        return Err(DecodeError::NoAudio);
    }
    if !mono.iter().all(|x| x.is_finite()) {
        return Err(AudioError::NonFinite.into());
    }
    Ok(Decoded {
        samples: mono,
        sample_rate: rate,
        channels,
        truncated,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 16-bit PCM WAV file of `samples` (interleaved `channels`) at `rate`.
    pub(crate) fn wav(samples: &[i16], rate: u32, channels: u16) -> Vec<u8> {
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

    #[test]
    fn a_stereo_wav_decodes_to_its_mono_mix() {
        // Left 0.5, right -0.25 (full scale 32768) for 1000 frames.
        let frames: Vec<i16> = (0..1000).flat_map(|_| [16_384i16, -8_192]).collect();
        let d = decode(wav(&frames, 8_000, 2), Some("wav"), 60.0).unwrap();
        assert_eq!(
            (d.sample_rate, d.channels, d.samples.len()),
            (8_000, 2, 1000)
        );
        assert!(d.samples.iter().all(|s| (s - 0.125).abs() < 1e-3));
        assert!(!d.truncated);
    }

    #[test]
    fn decoding_stops_at_the_limit() {
        let d = decode(wav(&vec![100; 8_000 * 3], 8_000, 1), None, 1.5).unwrap();
        assert_eq!(d.samples.len(), 12_000);
        assert!(d.truncated);
    }

    #[test]
    fn garbage_and_empty_files_are_errors_not_panics() {
        assert!(matches!(
            decode(b"definitely not audio".repeat(100), Some("mp3"), 30.0),
            Err(DecodeError::Unsupported(_) | DecodeError::Corrupt(_) | DecodeError::NoAudio)
        ));
        assert!(decode(Vec::new(), None, 30.0).is_err());
        assert!(decode(wav(&[], 8_000, 1), None, 30.0).is_err());
    }

    #[test]
    fn a_truncated_wav_keeps_what_it_has() {
        let full = wav(&vec![1_000; 8_000], 8_000, 1);
        let cut = full[..full.len() / 2].to_vec();
        let d = decode(cut, Some("wav"), 30.0).unwrap();
        assert!(
            d.samples.len() > 3_000 && d.samples.len() < 4_100,
            "{}",
            d.samples.len()
        );
    }
}
