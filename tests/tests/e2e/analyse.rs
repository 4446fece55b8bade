//! "Analyse my music": two real audio files (EMOPIA clips rendered by fluidsynth at 44.1 kHz and
//! encoded by the real Ogg Vorbis and MP3 encoders) and one corrupt file are picked; the page
//! decodes and analyses them in the worker, places the two on the plane with a player each, and
//! gives the corrupt one its own clear error. The browser's numbers must equal the engine's
//! native run on the same files (the same code), and My library survives a reload.

use anyhow::{ensure, Context, Result};
use attune_e2e::{with_ready_app, workspace_root, Harness};
use attune_engine::audio::decode::{decode, MAX_DECODE_SECONDS};
use attune_engine::models::emotion::EmotionModel;
use fantoccini::Locator;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("{cmd:?} (scripts/setup.sh installs it)"))?;
    ensure!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Renders an EMOPIA clip to a 44.1 kHz stereo WAV.
fn render(midi: &str, wav: &Path) -> Result<()> {
    let midi = workspace_root()
        .join("../shared/data/emopia/midis")
        .join(midi);
    run(Command::new("fluidsynth")
        .args(["-ni", "-q", "-F"])
        .arg(wav)
        .args([
            "-T",
            "wav",
            "-r",
            "44100",
            "-g",
            "0.8",
            "/usr/share/sounds/sf2/FluidR3_GM.sf2",
        ])
        .arg(midi))
}

/// The three files: an Ogg Vorbis and an MP3 of two clips from opposite quadrants, and garbage.
fn make_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let (a, b) = (dir.join("a.wav"), dir.join("b.wav"));
    render("Q1_0vLPYiPN7qY_0.mid", &a)?;
    render("Q3_2Z9SjI131jA_0.mid", &b).or_else(|_| {
        // Any Q3 clip will do if that one is not in this copy of the data.
        let q3 = std::fs::read_dir(workspace_root().join("../shared/data/emopia/midis"))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .find(|n| n.starts_with("Q3_"))
            .context("no Q3 clip")?;
        render(&q3, &b)
    })?;
    let ogg = dir.join("bright piano.ogg");
    let mp3 = dir.join("dark piano.mp3");
    run(Command::new("oggenc").args(["-Q", "-o"]).arg(&ogg).arg(&a))?;
    run(Command::new("lame")
        .args(["--quiet", "-b", "160"])
        .arg(&b)
        .arg(&mp3))?;
    let broken = dir.join("broken.flac");
    std::fs::write(
        &broken,
        b"fLaC but then nothing that a decoder could use".repeat(40),
    )?;
    Ok(vec![ogg, mp3, broken])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_files_are_placed_and_a_corrupt_one_gets_an_error() -> Result<()> {
    with_ready_app("analyse", body).await
}

async fn body(h: &mut Harness) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let files = make_files(dir.path())?;
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    h.client()
        .find(Locator::Id("analyse-input"))
        .await
        .context("no #analyse-input")?
        .send_keys(&paths.join("\n"))
        .await
        .context("choosing the files")?;
    h.wait_js(
        "three files analysed or failed",
        "(() => { const li = [...document.querySelectorAll('#analyse-results li')]; \
         return li.length === 3 && li.every(l => ['done', 'error'].includes(l.dataset.state)); })()",
    )
    .await?;
    let rows = h
        .js(
            "[...document.querySelectorAll('#analyse-results li')].map(l => ({ \
             file: l.dataset.file, state: l.dataset.state, text: l.textContent, \
             audio: l.querySelector('audio')?.src ?? null }))",
        )
        .await?;
    println!("analyse rows: {rows}");
    let rows = rows.as_array().context("rows")?;
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["file"] == name)
            .cloned()
            .unwrap_or_default()
    };
    for name in ["bright piano.ogg", "dark piano.mp3"] {
        let r = row(name);
        ensure!(r["state"] == "done", "{name} was not analysed: {r}");
        ensure!(
            r["audio"].as_str().is_some_and(|s| s.starts_with("blob:")),
            "{name} has no player with an object URL: {r}"
        );
    }
    let broken = row("broken.flac");
    ensure!(
        broken["state"] == "error",
        "the corrupt file was not rejected: {broken}"
    );
    let text = broken["text"].as_str().unwrap_or_default();
    ensure!(
        text.contains("not a supported audio file")
            || text.contains("damaged")
            || text.contains("no audio"),
        "the corrupt file's message is not clear: {text:?}"
    );
    let progress = h
        .js("document.querySelector('#analyse-count')?.textContent")
        .await?;
    ensure!(progress == "3 of 3 done", "progress reads {progress}");

    // The browser's analysis (wasm, in the worker) equals the engine's native run on the same file.
    let model = EmotionModel::from_bytes(&std::fs::read(
        workspace_root().join("public/models/emotion.onnx"),
    )?)?;
    let library = serde_json::to_value(&h.stored_profile().await?.library)?;
    let library = library
        .as_array()
        .context("no library in the stored profile")?;
    ensure!(
        library.len() == 2,
        "My library holds {} files",
        library.len()
    );
    for (path, name) in files.iter().zip(["bright piano.ogg", "dark piano.mp3"]) {
        let ext = path.extension().and_then(|e| e.to_str());
        let d = decode(std::fs::read(path)?, ext, MAX_DECODE_SECONDS)?;
        let native = model.predict_samples(&d.samples, d.sample_rate)?;
        let stored = library
            .iter()
            .find(|t| t["name"] == name)
            .with_context(|| format!("{name} is not in My library"))?;
        let v = stored["emotion"]["valence"].as_f64().unwrap_or(9.0) as f32;
        let a = stored["emotion"]["arousal"].as_f64().unwrap_or(9.0) as f32;
        println!(
            "{name}: browser ({v:+.4}, {a:+.4}) native ({:+.4}, {:+.4})",
            native.valence, native.arousal
        );
        ensure!(
            (v - native.valence).abs() < 2e-3 && (a - native.arousal).abs() < 2e-3,
            "{name}: browser ({v}, {a}) vs native ({}, {})",
            native.valence,
            native.arousal
        );
    }
    let marks = h
        .js("document.querySelectorAll('#analyse-plane .lib-mark').length")
        .await?;
    ensure!(marks == 2, "{marks} files on the plane");
    h.screenshot("analysed").await?;

    // My library survives a reload (the files' players do not: they were object URLs).
    h.reload().await?;
    h.wait_ready().await?;
    let names = h
        .wait_js(
            "My library after reload",
            "(() => { const l = [...document.querySelectorAll('#library li')].map(l => l.dataset.file); \
             return l.length === 2 && l.sort(); })()",
        )
        .await?;
    ensure!(
        names == serde_json::json!(["bright piano.ogg", "dark piano.mp3"]),
        "library after reload: {names}"
    );
    Ok(())
}
