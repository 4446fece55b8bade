//! The music-emotion model (issue 3): EMOPIA renders -> log-mel (the engine's front end) ->
//! baselines and a CNN trained with burn -> a hand-written ONNX graph run by tract.
//!
//! - [`render`], [`dataset`]: EMOPIA MIDI through fluidsynth into clips and their log-mels.
//! - [`baseline`], [`cnn`], [`train`], [`evaluate`], [`export`]: the baselines, the burn CNN, its
//!   training, held-out scores and ONNX graph; [`pipeline`] ties them into `emotion train|evaluate`.
//! - [`musicnn`], [`real_audio`], [`transfer`], [`transfer_report`]: the pretrained musicnn
//!   backbone, the real-audio dev set and the transfer heads (`emotion transfer`).
//! - [`predict`]: valence/arousal of any audio or MIDI file; [`cli`]: the `emotion` commands.

pub mod baseline;
pub mod cli;
pub mod cnn;
pub mod dataset;
pub mod evaluate;
pub mod export;
pub mod musicnn;
pub mod pipeline;
pub mod predict;
pub mod real_audio;
pub mod render;
pub mod train;
pub mod transfer;
pub mod transfer_report;

use anyhow::Result;
use attune_engine::audio::{self, LogMel};
use attune_engine::models::emotion::EXCERPT_SECONDS;
use dataset::{midi_log_mel, Clip};
use train::Example;

/// The part of a clip the model reads: its middle [`EXCERPT_SECONDS`], exactly as the browser cuts
/// an excerpt from samples (same start frame, rounded to hops).
pub fn excerpt_mel(mel: &LogMel) -> LogMel {
    let fps = audio::mel::SAMPLE_RATE as f32 / audio::mel::HOP as f32;
    let want = (EXCERPT_SECONDS * fps) as usize + 1;
    if mel.frames() <= want {
        return mel.clone();
    }
    mel.window((mel.frames() - want) / 2, want)
}

/// A clip as a training/evaluation example: the model input of its whole render (`excerpt` =
/// the middle 30 s only).
pub fn example(mel: &LogMel, clip: &Clip, excerpt: bool) -> Example {
    let m = if excerpt {
        excerpt_mel(mel)
    } else {
        mel.clone()
    };
    Example {
        input: audio::model_input(&m),
        frames: m.frames(),
        label: clip.quadrant.index(),
    }
}

/// The log-mel of every clip, rendered (or read from the cache) on all cores, in clip order.
pub fn clip_mels(clips: &[Clip]) -> Result<Vec<LogMel>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<LogMel>> = vec![None; clips.len()];
    let slots: Vec<std::sync::Mutex<&mut Option<LogMel>>> =
        out.iter_mut().map(std::sync::Mutex::new).collect();
    let errors = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(clip) = clips.get(i) else { break };
                match midi_log_mel(&clip.path) {
                    Ok(mel) => **slots[i].lock().unwrap() = Some(mel),
                    Err(e) => errors
                        .lock()
                        .unwrap()
                        .push(format!("{}: {e}", clip.path.display())),
                }
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if d.is_multiple_of(100) {
                    eprintln!("  {d}/{} clips rendered or cached", clips.len());
                }
            });
        }
    });
    drop(slots);
    let errors = errors.into_inner().unwrap();
    anyhow::ensure!(
        errors.is_empty(),
        "{} clips failed: {}",
        errors.len(),
        errors.join("; ")
    );
    Ok(out
        .into_iter()
        .map(|m| m.expect("every clip rendered"))
        .collect())
}

/// The shared EMOPIA folder, for tests.
#[cfg(test)]
pub fn tests_data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/emopia")
}
