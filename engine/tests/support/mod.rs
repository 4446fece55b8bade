//! The shipped assets compiled in, for the parity test and both benchmarks.
#![allow(dead_code)] // each including target uses a different subset

use attune_engine::assets::load_recommender;
use attune_engine::{ArtistIdx, Manifest, Recommender};

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
