//! Reactive state shared by the components: the profile (persisted on every change, with each
//! like, "not for me", play and stated mood appended to its history), the live mood (which moves
//! during a drag before it is recorded), the heart's reading from a strap, and what went wrong
//! with storage.

use crate::storage;
use attune_engine::fusion::LiveArousal;
use attune_engine::heart::calibration::MIN_PAIR_QUALITY;
use attune_engine::heart::{ArousalEstimate, HeartBaseline, HeartCalibration, HeartWeight};
use attune_engine::history::{Event, Item};
use attune_engine::{Emotion, MoodStrength, Profile};
use leptos::prelude::*;

/// A reading of the heart and whose heart it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeartReading {
    /// What the engine makes of the strap's packets now.
    pub estimate: ArousalEstimate,
    /// The user's own strap (false for the simulated one: a recorded stranger's heart, which may
    /// move the list like any reading but never calibrates the user's weight).
    pub own: bool,
}

/// Copyable handles to the app's state, provided as context.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    /// The stored profile: likes, mood history, mood strength.
    pub profile: RwSignal<Profile>,
    /// The mood shown and used for ranking; ahead of the profile while the user drags.
    pub mood: RwSignal<Option<Emotion>>,
    /// The heart's arousal reading, while a strap delivers fresh readings.
    pub heart: RwSignal<Option<HeartReading>>,
    /// Why the last save failed, until a save succeeds.
    pub save_error: RwSignal<Option<String>>,
    /// A start-up message about the stored profile, until dismissed.
    pub notice: RwSignal<Option<String>>,
    may_save: StoredValue<bool>,
}

impl AppState {
    /// Loads the profile from storage.
    pub fn load() -> AppState {
        let loaded = storage::load_profile();
        AppState {
            mood: RwSignal::new(loaded.profile.mood()),
            heart: RwSignal::new(None),
            profile: RwSignal::new(loaded.profile),
            save_error: RwSignal::new(None),
            notice: RwSignal::new(loaded.notice),
            may_save: StoredValue::new(loaded.may_save),
        }
    }

    /// The state provided by [`crate::app::App`].
    pub fn get() -> AppState {
        expect_context::<AppState>()
    }

    /// Applies `change` to the profile and saves it if `change` reports a change.
    fn change(&self, change: impl FnOnce(&mut Profile) -> bool) {
        let mut changed = false;
        self.profile.update(|p| changed = change(p));
        if !changed || !self.may_save.get_value() {
            return;
        }
        let result = self.profile.with_untracked(storage::save_profile);
        self.save_error.set(result.err());
    }

    /// Adds an analysed file to "My library".
    pub fn add_to_library(&self, track: attune_engine::profile::LibraryTrack) {
        self.change(|p| {
            p.add_to_library(track);
            true
        });
    }

    /// Removes a file from "My library".
    pub fn remove_from_library(&self, name: &str, bytes: u64) {
        self.change(|p| p.remove_from_library(name, bytes));
    }

    /// The arousal of the user's own heart now, when the strap reads as well as calibration asks
    /// ([`MIN_PAIR_QUALITY`]); the simulated strap's is a stranger's and never counts. Untracked.
    pub fn own_heart_arousal(&self) -> Option<f32> {
        self.heart
            .get_untracked()
            .filter(|r| r.own && r.estimate.quality >= MIN_PAIR_QUALITY)
            .map(|r| r.estimate.arousal.get())
    }

    /// Applies `change` and, if it changed the profile, appends `event` to the history (now,
    /// with the own heart's reading).
    fn change_and_log(&self, event: Event, change: impl FnOnce(&mut Profile) -> bool) {
        let heart = self.own_heart_arousal();
        self.change(|p| {
            let changed = change(p);
            if changed {
                p.log(js_sys::Date::now(), event, heart);
            }
            changed
        });
    }

    /// Records that the user played `item` (a pick's "Listen", a My library file).
    pub fn played(&self, item: Item) {
        self.change_and_log(Event::Play { item }, |_| true);
    }

    /// Likes an artist by stable id.
    pub fn like(&self, artist_id: u32) {
        let item = Item::Artist { artist_id };
        self.change_and_log(Event::Like { item }, |p| p.like(artist_id));
    }

    /// Removes a like.
    pub fn unlike(&self, artist_id: u32) {
        self.change(|p| p.unlike(artist_id));
    }

    /// Never recommends this artist again ("Not for me").
    pub fn exclude(&self, artist_id: u32) {
        let item = Item::Artist { artist_id };
        self.change_and_log(Event::NotForMe { item }, |p| p.exclude(artist_id));
    }

    /// Lets an excluded artist back into the recommendations.
    pub fn include(&self, artist_id: u32) {
        self.change(|p| p.include(artist_id));
    }

    /// Sets the taste-versus-mood balance.
    pub fn set_strength(&self, strength: MoodStrength) {
        self.change(|p| {
            let changed = p.mood_strength != strength;
            p.mood_strength = strength;
            changed
        });
    }

    /// Keeps the resting heart baseline learned from the user's strap.
    pub fn set_heart_baseline(&self, baseline: HeartBaseline) {
        self.change(|p| {
            let changed = p.heart_baseline != Some(baseline);
            p.heart_baseline = Some(baseline);
            changed
        });
    }

    /// The heart's weight for this user (population figure until calibrated). Tracked.
    pub fn heart_weight(&self) -> HeartWeight {
        self.profile.with(|p| p.heart_calibration.weight())
    }

    /// The heart's reading at this user's weight, as the ranking fuses it. Tracked.
    pub fn live(&self) -> Option<LiveArousal> {
        let weight = self.heart_weight().weight;
        self.heart.get().map(|r| r.estimate.live(weight))
    }

    /// Forgets the pairs of stated moods and heart readings (the weight returns to the population's).
    pub fn forget_heart_calibration(&self) {
        self.change(|p| {
            let changed = !p.heart_calibration.is_empty();
            p.heart_calibration = HeartCalibration::default();
            changed
        });
    }

    /// Replaces the profile with an imported one and saves it; on a failed save the previous
    /// profile stays, in memory and in storage.
    pub fn import_profile(&self, imported: Profile) -> Result<(), String> {
        storage::save_profile(&imported)?;
        self.mood.set(imported.mood());
        self.profile.set(imported);
        self.may_save.set_value(true);
        self.save_error.set(None);
        Ok(())
    }

    /// Deletes everything Attune stored on this device and starts a fresh profile in memory.
    pub fn delete_everything(&self) -> Result<usize, String> {
        let n = storage::delete_all()?;
        self.mood.set(None);
        self.profile.set(Profile::default());
        self.may_save.set_value(true);
        self.save_error.set(None);
        self.notice.set(None);
        Ok(n)
    }

    /// Moves the live mood without recording it (during a drag).
    pub fn preview_mood(&self, mood: Emotion) {
        self.mood.set(Some(mood));
    }

    /// Moves the live mood and records it in the history, unless it is already the current one.
    /// With a trustworthy reading of the user's own heart, the statement carries it and also
    /// becomes a calibration pair.
    pub fn record_mood(&self, mood: Emotion) {
        self.mood.set(Some(mood));
        let reading = self
            .heart
            .get_untracked()
            .filter(|r| r.own)
            .map(|r| r.estimate);
        let heart = self.own_heart_arousal();
        self.change(|p| {
            if p.mood() == Some(mood) {
                return false;
            }
            let now = js_sys::Date::now();
            p.state_mood(mood, now, heart);
            p.heart_calibration
                .record(now, reading.as_ref(), mood.arousal);
            true
        });
    }
}
