//! The genre-emotion map on the shipped catalog: enough genres, points in range, and the broad
//! shape the music literature reports (metal and punk more aroused than folk, ambient and
//! classical).
#![cfg(not(target_arch = "wasm32"))]

mod support;

use attune_engine::genre_map::genre_map;

#[test]
fn the_shipped_catalog_maps_its_genres() {
    let rec = support::recommender();
    let map = genre_map(rec.catalog(), 15);
    for g in &map {
        println!(
            "{:<18} {:>4} artists {:>5} tracks  valence {:+.2}  arousal {:+.2}  sd {:.2}/{:.2}",
            g.genre, g.artists, g.tracks, g.valence, g.arousal, g.spread[0], g.spread[1]
        );
    }
    assert!(map.len() >= 10, "{} genres", map.len());
    assert!(map
        .iter()
        .all(|g| (-1.0..=1.0).contains(&g.valence) && (-1.0..=1.0).contains(&g.arousal)));
    assert!(map.windows(2).all(|w| w[0].artists >= w[1].artists));
    let arousal = |name: &str| map.iter().find(|g| g.genre == name).map(|g| g.arousal);
    let calm = ["folk", "ambient", "classical"]
        .iter()
        .filter_map(|g| arousal(g))
        .fold(f32::MIN, f32::max);
    let loud = ["metal", "punk"]
        .iter()
        .filter_map(|g| arousal(g))
        .fold(f32::MAX, f32::min);
    assert!(
        loud > calm,
        "metal/punk arousal {loud} vs folk/ambient/classical {calm}"
    );
}
