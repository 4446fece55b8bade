//! What the device keeps about its user: likes, mood history, preferences. Versioned JSON, so a
//! stored profile from an older build migrates instead of being lost.

use crate::emotion::Emotion;
use crate::heart::{HeartBaseline, HeartCalibration};
use crate::history::{Event, History};
use crate::rank::MoodStrength;
use serde::{Deserialize, Serialize};

/// Schema version written by this build.
pub const PROFILE_SCHEMA: u32 = 1;
/// Most mood entries kept (oldest dropped first).
pub const MAX_MOOD_HISTORY: usize = 500;
/// Most "My library" entries kept (oldest dropped first).
pub const MAX_LIBRARY: usize = 1000;

/// A file the user analysed on this device ("My library"): its name, size and what the
/// music-emotion model said. The audio itself never leaves the file system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryTrack {
    /// The file's name.
    pub name: String,
    /// Its size in bytes (with the name, identifies the file).
    pub bytes: u64,
    /// Valence and arousal from the model.
    pub emotion: Emotion,
    /// Quadrant probabilities Q1..Q4.
    pub probabilities: [f32; 4],
    /// Seconds analysed.
    pub seconds: f32,
    /// When it was analysed, ms since the epoch.
    pub added_ms: f64,
}

/// One stated mood, with when it was stated (milliseconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MoodEntry {
    /// When, in ms since the epoch.
    pub at_ms: f64,
    /// The mood.
    pub emotion: Emotion,
}

/// The user's on-device profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Schema version; always [`PROFILE_SCHEMA`] after [`Profile::from_json`].
    pub schema: u32,
    /// Liked artists by stable id, oldest first, no duplicates.
    pub likes: Vec<u32>,
    /// Artists the user never wants recommended, by stable id, oldest first, no duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<u32>,
    /// Stated moods, oldest first; the last one is the current mood.
    pub moods: Vec<MoodEntry>,
    /// Taste-versus-mood balance.
    #[serde(with = "strength")]
    pub mood_strength: MoodStrength,
    /// Resting heart rate and RMSSD learned from the user's strap (absent until one is used).
    /// An invalid stored baseline reads as absent: it is relearned, and the likes survive.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_baseline"
    )]
    pub heart_baseline: Option<HeartBaseline>,
    /// Stated moods paired with the heart's reading, which set the heart's weight for this user.
    /// An invalid stored calibration reads as empty (the likes survive).
    #[serde(
        default,
        skip_serializing_if = "HeartCalibration::is_empty",
        deserialize_with = "lenient_calibration"
    )]
    pub heart_calibration: HeartCalibration,
    /// Files analysed on this device, oldest first, one entry per (name, size).
    /// An invalid stored library reads as empty (the likes survive).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_library"
    )]
    pub library: Vec<LibraryTrack>,
    /// What the user did and when (plays, likes, "not for me", moods): the user-emotion model's
    /// input. An invalid stored history reads as empty (the likes survive).
    #[serde(
        default,
        skip_serializing_if = "History::is_empty",
        deserialize_with = "lenient_history"
    )]
    pub history: History,
}

/// Reads a history, turning an invalid one into an empty one instead of failing the profile.
fn lenient_history<'de, D: serde::Deserializer<'de>>(d: D) -> Result<History, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value::<History>(v)
        .ok()
        .filter(|h| h.validate().is_ok())
        .unwrap_or_default())
}

/// Reads a library, turning an invalid one into an empty one instead of failing the profile.
fn lenient_library<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<LibraryTrack>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// Reads a calibration, turning an invalid one into an empty one instead of failing the profile.
fn lenient_calibration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<HeartCalibration, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// Reads a baseline, turning an invalid one into `None` instead of failing the whole profile.
fn lenient_baseline<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<HeartBaseline>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

mod strength {
    use super::MoodStrength;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(m: &MoodStrength, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f32(m.get())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MoodStrength, D::Error> {
        Ok(MoodStrength::new(f32::deserialize(d)?))
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            schema: PROFILE_SCHEMA,
            likes: Vec::new(),
            excluded: Vec::new(),
            moods: Vec::new(),
            mood_strength: MoodStrength::DEFAULT,
            heart_baseline: None,
            heart_calibration: HeartCalibration::default(),
            library: Vec::new(),
            history: History::default(),
        }
    }
}

/// Why a stored profile could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// Not JSON, or not the shape of any known schema.
    #[error("stored profile is unreadable: {0}")]
    Unreadable(String),
    /// Written by a newer build.
    #[error("stored profile has schema {0}, newer than this build's {PROFILE_SCHEMA}")]
    TooNew(u32),
}

/// Schema 0 (the first prototype): likes only, as a bare list of ids.
#[derive(Deserialize)]
struct ProfileV0 {
    likes: Vec<u32>,
}

impl Profile {
    /// Reads a stored profile of any known schema, migrating it to the current one.
    pub fn from_json(text: &str) -> Result<Profile, ProfileError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ProfileError::Unreadable(e.to_string()))?;
        let schema = value.get("schema").and_then(|s| s.as_u64()).unwrap_or(0) as u32;
        let mut p = match schema {
            0 => {
                let v0: ProfileV0 = serde_json::from_value(value)
                    .map_err(|e| ProfileError::Unreadable(e.to_string()))?;
                Profile {
                    likes: v0.likes,
                    ..Profile::default()
                }
            }
            PROFILE_SCHEMA => serde_json::from_value(value)
                .map_err(|e| ProfileError::Unreadable(e.to_string()))?,
            newer => return Err(ProfileError::TooNew(newer)),
        };
        p.schema = PROFILE_SCHEMA;
        let mut seen = std::collections::HashSet::new();
        p.likes.retain(|id| seen.insert(*id));
        let mut seen = std::collections::HashSet::new();
        p.excluded.retain(|id| seen.insert(*id));
        Ok(p)
    }

    /// The JSON form that is stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("profile serialises")
    }

    /// Appends an event to the history (see [`History::push`]); returns its sequence number.
    pub fn log(&mut self, at_ms: f64, event: Event, heart: Option<f32>) -> u64 {
        self.history.push(at_ms, event, heart)
    }

    /// The current mood (the last one stated).
    pub fn mood(&self) -> Option<Emotion> {
        self.moods.last().map(|m| m.emotion)
    }

    /// Adds a like (and lifts an exclusion of it); returns false if it was already liked.
    pub fn like(&mut self, artist_id: u32) -> bool {
        // Liking an artist takes back an earlier "not for me".
        self.include(artist_id);
        if self.likes.contains(&artist_id) {
            false
        } else {
            self.likes.push(artist_id);
            true
        }
    }

    /// Removes a like; returns whether it was there.
    pub fn unlike(&mut self, artist_id: u32) -> bool {
        let before = self.likes.len();
        self.likes.retain(|&x| x != artist_id);
        before != self.likes.len()
    }

    /// Never recommends an artist again (and drops it from the likes); false if already excluded.
    pub fn exclude(&mut self, artist_id: u32) -> bool {
        self.unlike(artist_id);
        if self.excluded.contains(&artist_id) {
            false
        } else {
            self.excluded.push(artist_id);
            true
        }
    }

    /// Lets an excluded artist be recommended again; returns whether it was excluded.
    pub fn include(&mut self, artist_id: u32) -> bool {
        let before = self.excluded.len();
        self.excluded.retain(|&x| x != artist_id);
        before != self.excluded.len()
    }

    /// Adds (or replaces, by name and size) an analysed file in "My library", keeping at most
    /// [`MAX_LIBRARY`] entries.
    pub fn add_to_library(&mut self, track: LibraryTrack) {
        self.library
            .retain(|t| !(t.name == track.name && t.bytes == track.bytes));
        self.library.push(track);
        if self.library.len() > MAX_LIBRARY {
            let excess = self.library.len() - MAX_LIBRARY;
            self.library.drain(..excess);
        }
    }

    /// Removes a file from "My library"; whether it was there.
    pub fn remove_from_library(&mut self, name: &str, bytes: u64) -> bool {
        let before = self.library.len();
        self.library
            .retain(|t| !(t.name == name && t.bytes == bytes));
        self.library.len() != before
    }

    /// The library tracks closest to `mood` on the valence-arousal plane, best first.
    pub fn library_for(&self, mood: &Emotion, n: usize) -> Vec<&LibraryTrack> {
        let mut v: Vec<&LibraryTrack> = self.library.iter().collect();
        v.sort_by(|a, b| {
            a.emotion
                .va_distance(mood)
                .total_cmp(&b.emotion.va_distance(mood))
        });
        v.truncate(n);
        v
    }

    /// Records a stated mood (also in the history), keeping at most [`MAX_MOOD_HISTORY`] entries.
    pub fn set_mood(&mut self, emotion: Emotion, at_ms: f64) {
        self.state_mood(emotion, at_ms, None);
    }

    /// Records a stated mood with the heart's reading at that moment.
    pub fn state_mood(&mut self, emotion: Emotion, at_ms: f64, heart: Option<f32>) {
        self.history.push(at_ms, Event::Mood { emotion }, heart);
        self.moods.push(MoodEntry { at_ms, emotion });
        if self.moods.len() > MAX_MOOD_HISTORY {
            let extra = self.moods.len() - MAX_MOOD_HISTORY;
            self.moods.drain(..extra);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(name: &str, v: f32, a: f32) -> LibraryTrack {
        LibraryTrack {
            name: name.into(),
            bytes: 10,
            emotion: Emotion::va(v, a),
            probabilities: [0.25; 4],
            seconds: 30.0,
            added_ms: 0.0,
        }
    }

    #[test]
    fn library_replaces_by_file_orders_by_mood_and_survives_a_round_trip() {
        let mut p = Profile::default();
        p.add_to_library(track("a.mp3", 0.8, 0.8));
        p.add_to_library(track("b.ogg", -0.7, -0.6));
        p.add_to_library(track("a.mp3", 0.5, -0.5));
        assert_eq!(p.library.len(), 2);
        assert_eq!(p.library_for(&Emotion::va(0.6, -0.6), 1)[0].name, "a.mp3");
        assert_eq!(p.library_for(&Emotion::va(-0.6, -0.6), 2)[0].name, "b.ogg");
        let back = Profile::from_json(&p.to_json()).unwrap();
        assert_eq!(back.library, p.library);
        assert!(p.remove_from_library("b.ogg", 10));
        assert!(!p.remove_from_library("b.ogg", 10));
    }

    #[test]
    fn a_damaged_library_reads_as_empty_and_the_likes_survive() {
        let text =
            r#"{"schema":1,"likes":[3],"moods":[],"mood_strength":0.35,"library":[{"name":1}]}"#;
        let p = Profile::from_json(text).unwrap();
        assert_eq!(p.likes, vec![3]);
        assert!(p.library.is_empty());
    }

    #[test]
    fn round_trip() {
        let mut p = Profile::default();
        assert!(p.like(7));
        assert!(!p.like(7));
        p.set_mood(Emotion::va(0.5, -0.25), 1000.0);
        let back = Profile::from_json(&p.to_json()).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.mood(), Some(Emotion::va(0.5, -0.25)));
    }

    #[test]
    fn migrates_schema_zero_and_dedups() {
        let p = Profile::from_json(r#"{"likes":[3,4,3]}"#).unwrap();
        assert_eq!(p.schema, PROFILE_SCHEMA);
        assert_eq!(p.likes, vec![3, 4]);
    }

    #[test]
    fn rejects_garbage_and_future_schemas() {
        assert!(matches!(
            Profile::from_json("nope"),
            Err(ProfileError::Unreadable(_))
        ));
        assert!(matches!(
            Profile::from_json(r#"{"schema":99}"#),
            Err(ProfileError::TooNew(99))
        ));
        assert!(Profile::from_json(r#"{"schema":1,"likes":[],"moods":[{"at_ms":0,"emotion":{"valence":5,"arousal":0,"dominance":0}}],"mood_strength":0.3}"#).is_err());
    }

    #[test]
    fn an_invalid_heart_baseline_does_not_lose_the_likes() {
        let bad = r#"{"schema":1,"likes":[5,6],"moods":[],"mood_strength":0.35,"heart_baseline":{"schema":1,"bpm":-3}}"#;
        let p = Profile::from_json(bad).unwrap();
        assert_eq!(p.likes, vec![5, 6]);
        assert_eq!(p.heart_baseline, None);
    }

    #[test]
    fn heart_baseline_is_optional_and_round_trips() {
        // Profiles stored before the field existed read as "nothing learned", and a profile
        // without a baseline is stored exactly as before.
        let old = r#"{"schema":1,"likes":[5],"moods":[],"mood_strength":0.35}"#;
        let p = Profile::from_json(old).unwrap();
        assert_eq!(p.heart_baseline, None);
        assert_eq!(p.to_json(), old);
        let b = HeartBaseline::from_json(
            r#"{"schema":1,"bpm":62.5,"bpm_learned_ms":120000,"rmssd_ms":41.0,"rmssd_learned_ms":90000}"#,
        )
        .unwrap();
        let with = Profile {
            heart_baseline: Some(b),
            ..p
        };
        let back = Profile::from_json(&with.to_json()).unwrap();
        assert_eq!(back, with);
        assert_eq!(back.heart_baseline.unwrap().resting_bpm(), Some(62.5));
    }

    #[test]
    fn heart_calibration_is_optional_lenient_and_round_trips() {
        use crate::emotion::Axis;
        use crate::heart::{ArousalEstimate, Recorded};
        let old = r#"{"schema":1,"likes":[5],"moods":[],"mood_strength":0.35}"#;
        let mut p = Profile::from_json(old).unwrap();
        assert!(p.heart_calibration.is_empty());
        let reading = ArousalEstimate::steady(0.4, 1.0);
        assert_eq!(
            p.heart_calibration
                .record(1e12, Some(&reading), Axis::clamped(0.5)),
            Recorded::Added
        );
        let back = Profile::from_json(&p.to_json()).unwrap();
        assert_eq!(back, p);
        let bad = r#"{"schema":1,"likes":[5],"moods":[],"mood_strength":0.35,"heart_calibration":{"schema":1,"pairs":[{"at_ms":0,"heart":9,"stated":0}]}}"#;
        let p = Profile::from_json(bad).unwrap();
        assert_eq!(p.likes, vec![5]);
        assert!(p.heart_calibration.is_empty());
    }

    #[test]
    fn exclusions_round_trip_and_beat_likes() {
        let mut p = Profile::default();
        p.like(4);
        assert!(p.exclude(4) && !p.exclude(4));
        assert!(p.likes.is_empty(), "an excluded artist is no longer liked");
        let back = Profile::from_json(&p.to_json()).unwrap();
        assert_eq!(back.excluded, vec![4]);
        let mut back = back;
        assert!(back.include(4) && !back.include(4));
        // Profiles stored before the field existed still read.
        let old = r#"{"schema":1,"likes":[5],"moods":[],"mood_strength":0.35}"#;
        assert!(Profile::from_json(old).unwrap().excluded.is_empty());
    }

    #[test]
    fn moods_and_events_land_in_the_history_and_a_damaged_one_reads_as_empty() {
        use crate::history::Item;
        let mut p = Profile::default();
        p.like(3);
        p.log(
            5.0,
            Event::Like {
                item: Item::Artist { artist_id: 3 },
            },
            None,
        );
        p.state_mood(Emotion::va(0.1, 0.2), 6.0, Some(0.5));
        assert_eq!(p.history.len(), 2);
        assert_eq!(p.history.events()[1].heart, Some(0.5));
        let back = Profile::from_json(&p.to_json()).unwrap();
        assert_eq!(back, p);
        let text = p.to_json().replace("\"seq\":2", "\"seq\":1");
        let damaged = Profile::from_json(&text).unwrap();
        assert_eq!(damaged.likes, vec![3]);
        assert!(damaged.history.is_empty());
    }

    #[test]
    fn mood_history_is_bounded() {
        let mut p = Profile::default();
        for i in 0..(MAX_MOOD_HISTORY + 10) {
            p.set_mood(Emotion::NEUTRAL, i as f64);
        }
        assert_eq!(p.moods.len(), MAX_MOOD_HISTORY);
        assert_eq!(p.moods[0].at_ms, 10.0);
    }
}
