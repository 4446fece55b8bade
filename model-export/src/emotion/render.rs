//! MIDI to audio with fluidsynth and Debian's General MIDI soundfont (FluidR3_GM), the same way for
//! EMOPIA's training clips and for users' MIDI files.

use std::path::Path;
use std::process::Command;

/// The render's sample rate: the front end's own, so no resampling happens.
pub const RENDER_RATE: u32 = attune_engine::audio::mel::SAMPLE_RATE;

/// The soundfont (Debian package fluid-soundfont-gm).
pub const SOUNDFONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

/// Output gain passed to fluidsynth (its default 0.2 is quiet; 0.8 rarely clips on EMOPIA).
const GAIN: &str = "0.8";

/// Why a MIDI file could not be rendered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    /// The MIDI file could not be read.
    #[error("cannot read the MIDI file: {0}")]
    Read(String),
    /// fluidsynth or the soundfont is missing.
    #[error("fluidsynth could not run ({0}); scripts/setup.sh installs fluidsynth and fluid-soundfont-gm")]
    Tool(String),
    /// fluidsynth rejected the file or rendered silence.
    #[error("the MIDI file did not render: {0}")]
    Render(String),
    /// The render could not be analysed.
    #[error("{0}")]
    Audio(String),
}

/// Renders `midi` to mono samples at [`RENDER_RATE`].
pub fn render_midi(midi: &Path) -> Result<Vec<f32>, RenderError> {
    if !Path::new(SOUNDFONT).is_file() {
        return Err(RenderError::Tool(format!("{SOUNDFONT} is missing")));
    }
    let bytes = std::fs::read(midi).map_err(|e| RenderError::Read(e.to_string()))?;
    // fluidsynth happily renders garbage to silence: check the header first.
    if !bytes.starts_with(b"MThd") {
        return Err(RenderError::Render(
            "not a Standard MIDI File (no MThd header)".into(),
        ));
    }
    let out = tempfile_path("wav");
    let status = Command::new("fluidsynth")
        .args(["-ni", "-q", "-F"])
        .arg(&out)
        .args([
            "-T",
            "wav",
            "-r",
            &RENDER_RATE.to_string(),
            "-g",
            GAIN,
            SOUNDFONT,
        ])
        .arg(midi)
        .output()
        .map_err(|e| RenderError::Tool(e.to_string()))?;
    let wav = std::fs::read(&out);
    let _ = std::fs::remove_file(&out);
    if !status.status.success() {
        return Err(RenderError::Render(
            String::from_utf8_lossy(&status.stderr).trim().to_string(),
        ));
    }
    let wav = wav.map_err(|e| RenderError::Render(format!("no output: {e}")))?;
    let decoded = attune_engine::audio::decode::decode(
        wav,
        Some("wav"),
        attune_engine::audio::decode::MAX_DECODE_SECONDS,
    )
    .map_err(|e| RenderError::Render(e.to_string()))?;
    if decoded.sample_rate != RENDER_RATE {
        return Err(RenderError::Render(format!(
            "fluidsynth wrote {} Hz, expected {RENDER_RATE}",
            decoded.sample_rate
        )));
    }
    if decoded.samples.iter().all(|s| s.abs() < 1e-4) {
        return Err(RenderError::Render("the render is silent".into()));
    }
    Ok(decoded.samples)
}

fn tempfile_path(ext: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "attune-render-{}-{}.{ext}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}
