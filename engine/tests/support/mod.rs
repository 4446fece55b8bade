//! The shipped assets compiled in, for the parity test and both benchmarks.
#![allow(dead_code)] // each including target uses a different subset

use attune_engine::assets::load_recommender;
use attune_engine::{ArtistIdx, Emotion, Manifest, MoodStrength, Recommender, Request};

const MANIFEST: &str = include_str!("../../../public/manifest.json");
const CATALOG: &[u8] = include_bytes!("../../../public/catalog.bin");
const CF: &[u8] = include_bytes!("../../../public/cf.bin");

/// The parsed shipped manifest.
pub fn manifest() -> Manifest {
    Manifest::parse(MANIFEST).expect("manifest")
}

/// The recommender built from `public/`, verified against its manifest like the app does.
pub fn recommender() -> Recommender {
    load_recommender(&manifest(), |f| match f {
        "catalog.bin" => Some(CATALOG),
        "cf.bin" => Some(CF),
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
