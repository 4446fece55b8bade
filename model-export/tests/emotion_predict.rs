//! `model-export emotion predict` on real files: one EMOPIA clip rendered with fluidsynth at
//! 44.1 kHz stereo and encoded by the real encoders (FLAC, Ogg Vorbis, MP3), the MIDI itself, and
//! two broken files. Runs the shipped model (`public/models/emotion.onnx`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/setup.sh installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_format_is_analysed_and_broken_files_get_their_own_error() {
    let dir = std::env::temp_dir().join(format!("attune-predict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let midi = root().join("../shared/data/emopia/midis/Q1_0vLPYiPN7qY_0.mid");
    let wav = dir.join("clip.wav");
    run(Command::new("fluidsynth")
        .args(["-ni", "-q", "-F"])
        .arg(&wav)
        .args([
            "-T",
            "wav",
            "-r",
            "44100",
            "-g",
            "0.8",
            "/usr/share/sounds/sf2/FluidR3_GM.sf2",
        ])
        .arg(&midi));
    run(Command::new("flac")
        .args(["-s", "-f", "-o"])
        .arg(dir.join("clip.flac"))
        .arg(&wav));
    run(Command::new("oggenc")
        .args(["-Q", "-o"])
        .arg(dir.join("clip.ogg"))
        .arg(&wav));
    run(Command::new("lame")
        .args(["--quiet", "-b", "192"])
        .arg(&wav)
        .arg(dir.join("clip.mp3")));
    std::fs::write(
        dir.join("broken.mp3"),
        b"ID3 this is not really an mp3 file".repeat(50),
    )
    .unwrap();
    let flac = std::fs::read(dir.join("clip.flac")).unwrap();
    std::fs::write(dir.join("cut.flac"), &flac[..60]).unwrap();
    let names = [
        "clip.wav",
        "clip.flac",
        "clip.ogg",
        "clip.mp3",
        "broken.mp3",
        "cut.flac",
    ];
    let json = dir.join("out.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_model-export"));
    cmd.current_dir(root())
        .args([
            "emotion",
            "predict",
            "--model",
            "public/models/emotion.onnx",
            "--json",
        ])
        .arg(&json)
        .args(names.iter().map(|n| dir.join(n)))
        .arg(&midi);
    run(&mut cmd);
    let out: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.len(), 7);
    for r in &out {
        println!("{r}");
    }
    let ok: Vec<&serde_json::Value> = out.iter().filter(|r| r.get("error").is_none()).collect();
    assert_eq!(ok.len(), 5, "wav, flac, ogg, mp3 and the MIDI analyse");
    for bad in [&out[4], &out[5]] {
        let e = bad["error"].as_str().expect("an error entry");
        assert!(e.len() > 10, "{e}");
    }
    // The same music through every route lands in the same place: lossless and lossy encodings,
    // and the MIDI rendered at the model's own rate (no resampling) vs the 44.1 kHz WAV.
    let (v0, a0) = (
        ok[0]["valence"].as_f64().unwrap(),
        ok[0]["arousal"].as_f64().unwrap(),
    );
    for r in &ok {
        let (v, a) = (
            r["valence"].as_f64().unwrap(),
            r["arousal"].as_f64().unwrap(),
        );
        assert!(
            (v - v0).abs() < 0.15 && (a - a0).abs() < 0.15,
            "{r} vs {v0} {a0}"
        );
        assert!(r["seconds_analysed"].as_f64().unwrap() > 20.0);
    }
    assert_eq!(
        ok[1]["valence"], ok[0]["valence"],
        "FLAC is lossless: identical to the WAV"
    );
}
