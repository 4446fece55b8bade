//! Deezer mood detection dataset: MSD tracks with valence and arousal (standardised scores).

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;

/// One labelled track.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeezerTrack {
    /// Deezer song id.
    pub dzr_sng_id: u64,
    /// Valence (standardised; about -2.2..1.6).
    pub valence: f32,
    /// Arousal (standardised; about -2.3..2.8).
    pub arousal: f32,
    /// Artist name as in the MSD.
    pub artist_name: String,
    /// Track title.
    pub track_name: String,
}

/// Loads `train.csv`, `validation.csv` and `test.csv` (all splits: none is used for training a
/// model here, the labels are catalog metadata).
pub fn load(dir: &Path) -> Result<Vec<DeezerTrack>> {
    let mut out = Vec::new();
    for split in ["train.csv", "validation.csv", "test.csv"] {
        let path = dir.join(split);
        let mut rdr =
            csv::Reader::from_path(&path).with_context(|| format!("opening {}", path.display()))?;
        for row in rdr.deserialize() {
            let t: DeezerTrack = row.with_context(|| format!("parsing {}", path.display()))?;
            if t.valence.is_finite() && t.arousal.is_finite() {
                out.push(t);
            }
        }
    }
    Ok(out)
}
