//! The shipped assets compiled in, for the parity test and both benchmarks.
#![allow(dead_code)] // each including target uses a different subset

use attune_engine::assets::load_recommender;
use attune_engine::{ArtistIdx, Emotion, Manifest, MoodStrength, Recommender, Request};

const MANIFEST: &str = include_str!("../../../public/manifest.json");
const CATALOG: &[u8] = include_bytes!("../../../public/catalog.bin");
const CF: &[u8] = include_bytes!("../../../public/cf.bin");
const TASTE: &[u8] = include_bytes!("../../../public/taste.bin");

/// The parsed shipped manifest.
pub fn manifest() -> Manifest {
    Manifest::parse(MANIFEST).expect("manifest")
}

/// The recommender built from `public/`, verified against its manifest like the app does.
pub fn recommender() -> Recommender {
    load_recommender(&manifest(), |f| match f {
        "catalog.bin" => Some(CATALOG),
        "cf.bin" => Some(CF),
        "taste.bin" => Some(TASTE),
        _ => None,
    })
    .expect("assets load")
}

/// The ten likes both benchmarks fold in.
pub fn bench_likes() -> Vec<ArtistIdx> {
    (0..10).map(|i| ArtistIdx(i * 13 + 3)).collect()
}

/// The request both benchmarks time: [`bench_likes`], a calm positive mood, the default strength.
pub fn bench_request(likes: &[ArtistIdx]) -> Request<'_> {
    Request {
        likes,
        mood: Some(Emotion::va(0.5, -0.4)),
        mood_strength: MoodStrength::DEFAULT,
        exclude: &[],
        neural: None,
        k: 10,
    }
}

/// With `ATTUNE_BLESS` set, writes `tests/fixtures/<file>` from `golden()` and returns true (the
/// caller then skips its comparison); otherwise returns false.
#[cfg(not(target_arch = "wasm32"))]
pub fn bless(file: &str, golden: impl FnOnce() -> String) -> bool {
    if std::env::var_os("ATTUNE_BLESS").is_none() {
        return false;
    }
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::write(&path, golden()).unwrap_or_else(|e| panic!("writing {path}: {e}"));
    true
}

/// A 30-second 44.1 kHz stereo 16-bit WAV file (a chord progression with a pulse): the benchmark
/// input for decode + log-mel + CNN. Timing does not depend on the music, so it is synthesised.
pub fn bench_wav() -> Vec<u8> {
    let (rate, seconds) = (44_100u32, 30usize);
    let chords = [
        [261.6f32, 329.6, 392.0],
        [220.0, 261.6, 329.6],
        [174.6, 220.0, 261.6],
        [196.0, 246.9, 293.7],
    ];
    let n = rate as usize * seconds;
    let mut data = Vec::with_capacity(n * 4);
    for i in 0..n {
        let t = i as f32 / rate as f32;
        let chord = chords[(t / 2.0) as usize % 4];
        let pulse = (-(t % 0.5) * 8.0).exp();
        let s: f32 = chord
            .iter()
            .map(|f| (std::f32::consts::TAU * f * t).sin())
            .sum::<f32>()
            * 0.2
            * (0.4 + 0.6 * pulse);
        let v = (s.clamp(-1.0, 1.0) * 32_000.0) as i16;
        data.extend_from_slice(&v.to_le_bytes());
        data.extend_from_slice(&v.to_le_bytes());
    }
    let mut b = Vec::with_capacity(44 + data.len());
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 4).to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    b
}

/// The shipped emotion model.
pub const EMOTION_MODEL: &[u8] = include_bytes!("../../../public/models/emotion.onnx");

/// The shipped user-emotion model.
pub const USER_EMOTION_MODEL: &[u8] = include_bytes!("../../../public/models/user-emotion.onnx");

/// The shipped neural CF model.
pub const NCF_MODEL: &[u8] = include_bytes!("../../../public/models/ncf.onnx");

/// A 50-event history (plays, ratings, stated moods, some heart readings, an hour apart) and the
/// moment after it: the user-emotion benchmark input. Timing does not depend on the values.
pub fn bench_history() -> (
    Vec<attune_engine::user_emotion::Observation>,
    attune_engine::user_emotion::Moment,
) {
    use attune_engine::user_emotion::{DayPeriod, Moment, Observation, Rating};
    let hour = 3.6e6;
    let history = (0..50)
        .map(|i| {
            let x = i as f32 / 50.0;
            Observation {
                at_ms: 1.7e12 + i as f64 * hour,
                mood: (i % 3 == 0).then(|| Emotion::va(x - 0.5, 0.5 - x)),
                song: (i % 3 != 0).then(|| Emotion::va(0.3 - x, x - 0.2)),
                rating: (i % 3 == 1).then(|| Rating::new(1.0 + (i % 5) as f32)),
                heart: (i % 4 == 0).then_some(0.2),
            }
        })
        .collect();
    let moment = Moment {
        now_ms: 1.7e12 + 50.5 * hour,
        heart: Some(0.1),
        period: Some(DayPeriod::Evening),
    };
    (history, moment)
}

/// `performance.now()` in the browser: the wasm benchmarks' clock (the engine itself has none).
#[cfg(target_arch = "wasm32")]
pub fn now_ms() -> f64 {
    use wasm_bindgen::JsCast;
    let perf = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).expect("performance");
    let now: js_sys::Function = js_sys::Reflect::get(&perf, &"now".into())
        .expect("now")
        .unchecked_into();
    now.call0(&perf).expect("call").as_f64().expect("number")
}
