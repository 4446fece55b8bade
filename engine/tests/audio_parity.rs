//! The log-mel front end gives the same numbers natively and in wasm32 (headless Chromium): both
//! compare against one golden file computed natively (`fixtures/log_mel.json`); regenerate it after
//! changing the front end with `ATTUNE_BLESS=1 cargo test -p attune-engine --test audio_parity`.

mod support;

use attune_engine::audio::{log_mel, mel::N_MELS};
use serde_json::{json, Value};

const GOLDEN: &str = include_str!("fixtures/log_mel.json");
/// Largest difference allowed, in dB (FFT summation order differs between SIMD back ends).
const TOLERANCE_DB: f64 = 1e-2;

/// 2 s at 44.1 kHz (so resampling runs too): a chirp from 100 Hz to 5 kHz plus xorshift noise.
fn signal() -> Vec<f32> {
    let sr = 44_100.0f64;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..88_200)
        .map(|i| {
            let t = f64::from(i) / sr;
            let phase = 2.0 * std::f64::consts::PI * (100.0 * t + 4900.0 / 4.0 * t * t);
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 40) as f64 / f64::from(1u32 << 24) - 0.5;
            (0.4 * phase.sin() + 0.05 * noise) as f32
        })
        .collect()
}

fn compute() -> Value {
    let s = log_mel(&signal(), 44_100).expect("the test signal is valid");
    json!({ "n_mels": s.n_mels(), "frames": s.frames(), "data": s.data() })
}

/// Max absolute difference from the golden values, in dB.
fn check() -> f64 {
    let got = compute();
    let want: Value = serde_json::from_str(GOLDEN).expect("golden parses");
    assert_eq!(got["n_mels"], json!(N_MELS));
    assert_eq!(got["frames"], want["frames"], "frame count differs");
    let (g, w) = (
        got["data"].as_array().unwrap(),
        want["data"].as_array().unwrap(),
    );
    assert_eq!(g.len(), w.len());
    let diff = g
        .iter()
        .zip(w)
        .map(|(a, b)| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs())
        .fold(0.0, f64::max);
    assert!(diff <= TOLERANCE_DB, "log-mel differs by {diff} dB");
    diff
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_matches_golden() {
    if support::bless("log_mel.json", || {
        serde_json::to_string(&compute()).unwrap() + "\n"
    }) {
        return;
    }
    let diff = check();
    println!("log-mel native vs golden: max abs diff {diff:e} dB");
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use wasm_bindgen_test::*;
    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn wasm_matches_native_golden() {
        let diff = super::check();
        console_log!("log-mel wasm32 vs native golden: max abs diff {diff:e} dB");
    }
}
