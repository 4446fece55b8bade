//! Native and wasm32 must fold in and rank identically on the shipped assets.
//!
//! Both targets compare against one golden file computed natively
//! (`fixtures/parity.json`); regenerate it after rebuilding the assets with
//! `ATTUNE_BLESS=1 cargo test -p attune-engine --test parity`.

mod support;

use attune_engine::{ArtistIdx, Emotion, FoldIn, MoodStrength, Request};
use serde_json::{json, Value};

const GOLDEN: &str = include_str!("fixtures/parity.json");

/// Runs the fixed scenarios and returns their results as JSON.
fn compute() -> Value {
    let manifest = support::manifest();
    let rec = support::recommender();
    let n = rec.catalog().artists().len() as u32;
    let like_sets: Vec<Vec<ArtistIdx>> = vec![
        vec![ArtistIdx(0), ArtistIdx(1), ArtistIdx(2)],
        [10, 50, 100, 200, 300]
            .iter()
            .map(|&i| ArtistIdx(i % n))
            .collect(),
        (0..20).map(|i| ArtistIdx((i * 37 + 5) % n)).collect(),
        vec![],
    ];
    let moods = [
        None,
        Some(Emotion::va(0.6, -0.5)),
        Some(Emotion::va(-0.7, 0.8)),
    ];
    let strengths = [0.35f32, 1.0];
    let mut out = Vec::new();
    for likes in &like_sets {
        let ls = rec
            .cf()
            .expect("cf.bin loaded")
            .fold_in(likes, FoldIn::LeastSquares);
        let io = rec
            .cf()
            .expect("cf.bin loaded")
            .fold_in(likes, FoldIn::ImplicitOnly);
        for mood in moods {
            for s in strengths {
                let recs = rec.recommend(&Request {
                    likes,
                    mood,
                    mood_strength: MoodStrength::new(s),
                    exclude: &[],
                    neural: None,
                    k: 10,
                });
                out.push(json!({
                    "likes": likes.iter().map(|a| a.0).collect::<Vec<_>>(),
                    "mood": mood.map(|m| [m.valence.get(), m.arousal.get()]),
                    "strength": s,
                    "user_ls": ls.factors.iter().take(8).collect::<Vec<_>>(),
                    "bias_ls": ls.bias,
                    "user_implicit": io.factors.iter().take(8).collect::<Vec<_>>(),
                    "ids": recs.iter().map(|r| rec.catalog().artist(r.artist).id).collect::<Vec<_>>(),
                    "scores": recs.iter().map(|r| r.score).collect::<Vec<_>>(),
                    "reasons": recs.iter().map(|r| r.reason.clone()).collect::<Vec<_>>(),
                }));
            }
        }
    }
    json!({ "cf_sha256": manifest.entry("cf.bin").unwrap().sha256, "cases": out })
}

/// Max absolute difference over all numbers; panics on any structural or id difference, or on a
/// number differing by more than 1e-5 relative (f32 libm functions may differ by an ulp or two
/// between targets; scores reach about 10, where one f32 ulp is ~1e-6).
fn compare(got: &Value, want: &Value, path: &str) -> f64 {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            let d = (a - b).abs();
            assert!(d <= 1e-5 * b.abs().max(1.0), "{path}: {a} vs {b}");
            d
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "length differs at {path}");
            a.iter()
                .zip(b)
                .enumerate()
                .map(|(i, (x, y))| compare(x, y, &format!("{path}[{i}]")))
                .fold(0.0, f64::max)
        }
        (Value::Object(a), Value::Object(b)) => {
            assert_eq!(a.len(), b.len(), "keys differ at {path}");
            a.iter()
                .map(|(k, x)| compare(x, &b[k], &format!("{path}.{k}")))
                .fold(0.0, f64::max)
        }
        _ => {
            assert_eq!(got, want, "value differs at {path}");
            0.0
        }
    }
}

fn check() -> f64 {
    let got = compute();
    let want: Value = serde_json::from_str(GOLDEN).expect("golden parses");
    assert_eq!(
        got["cf_sha256"], want["cf_sha256"],
        "public/ assets changed since the golden file was written: run ATTUNE_BLESS=1 cargo test -p attune-engine --test parity"
    );
    let ids = |v: &Value| {
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["ids"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&got), ids(&want), "ranked ids differ");
    compare(&got, &want, "")
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn native_matches_golden() {
    if support::bless("parity.json", || {
        serde_json::to_string_pretty(&compute()).unwrap() + "\n"
    }) {
        return;
    }
    let diff = check();
    println!("native vs golden: max abs diff {diff:e}");
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use wasm_bindgen_test::*;
    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn wasm_matches_native_golden() {
        let diff = super::check();
        console_log!("wasm32 vs native golden: max abs diff {diff:e}");
    }
}
