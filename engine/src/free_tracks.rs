//! Free tracks: short excerpts of freely licensed music shipped with the site
//! (`public/free/tracks.json` + one Ogg Vorbis file each), so every visitor has music that plays
//! here and now. None of them has listening data, so their place on the plane is the emotion
//! CNN's reading of the shipped excerpt itself (`model-export free-tracks`); they are matched to
//! the user's state by the same emotional fit as everything else.

use crate::emotion::{Emotion, Quadrant};
use crate::error::AssetError;
use serde::{Deserialize, Serialize};

/// The shelf's index, under `public/`.
pub const INDEX_FILE: &str = "free/tracks.json";

/// One track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreeTrack {
    /// Title.
    pub title: String,
    /// Composer or performer.
    pub artist: String,
    /// The excerpt, relative to `public/` (under `free/`, an `.ogg`).
    pub file: String,
    /// Licence, e.g. "CC BY-SA 3.0".
    pub licence: String,
    /// Where the full work comes from.
    pub source: String,
    /// Seconds of audio in the excerpt.
    pub seconds: f32,
    /// The CNN's valence of the excerpt, [-1, 1].
    pub valence: f32,
    /// The CNN's arousal of the excerpt, [-1, 1].
    pub arousal: f32,
    /// The CNN's quadrant probabilities (Q1..Q4).
    pub probabilities: [f32; 4],
}

impl FreeTrack {
    /// Its point on the plane.
    pub fn emotion(&self) -> Emotion {
        Emotion::va(self.valence, self.arousal)
    }
    /// Its most probable quadrant.
    pub fn quadrant(&self) -> Quadrant {
        Quadrant::argmax(&self.probabilities)
    }
}

/// The shelf: every track, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreeShelf {
    /// The tracks, in the index's order.
    pub tracks: Vec<FreeTrack>,
}

fn malformed(reason: String) -> AssetError {
    AssetError::Malformed {
        file: INDEX_FILE.into(),
        reason,
    }
}

impl FreeShelf {
    /// Parses and checks the index: names present, files under `free/` ending in `.ogg` (no
    /// `..`), emotion in range, probabilities a distribution.
    pub fn parse(json: &str) -> Result<FreeShelf, AssetError> {
        let shelf: FreeShelf =
            serde_json::from_str(json).map_err(|e| malformed(format!("not a track list: {e}")))?;
        let mut files = std::collections::HashSet::new();
        for (i, t) in shelf.tracks.iter().enumerate() {
            let at = |what: &str| malformed(format!("track {}: {what}", i + 1));
            if !files.insert(t.file.as_str()) {
                return Err(at(&format!("file {:?} listed twice", t.file)));
            }
            if t.title.trim().is_empty() || t.artist.trim().is_empty() || t.licence.is_empty() {
                return Err(at("missing title, artist or licence"));
            }
            if !t.file.starts_with("free/") || !t.file.ends_with(".ogg") || t.file.contains("..") {
                return Err(at(&format!("bad file {:?}", t.file)));
            }
            let in_range = |x: f32| x.is_finite() && (-1.0..=1.0).contains(&x);
            if !in_range(t.valence) || !in_range(t.arousal) {
                return Err(at("emotion outside [-1, 1]"));
            }
            let sum: f32 = t.probabilities.iter().sum();
            if t.probabilities.iter().any(|p| !p.is_finite() || *p < 0.0)
                || (sum - 1.0).abs() > 1e-3
            {
                return Err(at("probabilities are not a distribution"));
            }
            if !(t.seconds.is_finite() && t.seconds > 0.0) {
                return Err(at("no duration"));
            }
        }
        Ok(shelf)
    }

    /// The `n` tracks closest to `mood` on the valence-arousal plane, best first (ties by order).
    pub fn for_mood(&self, mood: &Emotion, n: usize) -> Vec<&FreeTrack> {
        let mut v: Vec<&FreeTrack> = self.tracks.iter().collect();
        v.sort_by(|a, b| {
            a.emotion()
                .va_distance(mood)
                .total_cmp(&b.emotion().va_distance(mood))
        });
        v.truncate(n);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(title: &str, v: f32, a: f32) -> FreeTrack {
        FreeTrack {
            title: title.into(),
            artist: "A".into(),
            file: format!("free/{title}.ogg"),
            licence: "CC BY-SA 3.0".into(),
            source: "x".into(),
            seconds: 30.0,
            valence: v,
            arousal: a,
            probabilities: [0.25; 4],
        }
    }

    #[test]
    fn parses_checks_and_ranks_by_distance() {
        let shelf = FreeShelf {
            tracks: vec![
                track("calm", 0.5, -0.5),
                track("tense", -0.6, 0.7),
                track("joy", 0.6, 0.6),
            ],
        };
        let json = serde_json::to_string(&shelf).unwrap();
        let back = FreeShelf::parse(&json).unwrap();
        assert_eq!(back, shelf);
        let picks = back.for_mood(&Emotion::va(0.7, 0.5), 2);
        assert_eq!(picks[0].title, "joy");
        assert_eq!(picks[1].title, "calm");
        for bad in [
            json.replace("free/calm.ogg", "../calm.ogg"),
            json.replace("free/calm.ogg", "free/calm.mp3"),
            json.replace("\"valence\":0.5", "\"valence\":1.5"),
            json.replace("\"title\":\"calm\"", "\"title\":\" \""),
            json.replace("free/tense.ogg", "free/calm.ogg"),
            "[1, 2]".to_string(),
        ] {
            assert!(
                matches!(FreeShelf::parse(&bad), Err(AssetError::Malformed { .. })),
                "{bad}"
            );
        }
    }
}
