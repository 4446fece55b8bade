//! Reactive state shared by the components: the profile (every change recorded in the journal of
//! [`storage`] and applied here at once; other tabs' changes arrive through it), the live mood
//! (which moves during a drag before it is recorded), the heart's reading from a strap, and what
//! went wrong with storage.

use crate::storage;
use attune_engine::fusion::LiveArousal;
use attune_engine::heart::calibration::MIN_PAIR_QUALITY;
use attune_engine::heart::{ArousalEstimate, HeartBaseline, HeartWeight};
use attune_engine::history::Item;
use attune_engine::journal::Change;
use attune_engine::{Emotion, MoodStrength, Profile};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// How often a tab looks for the write-ahead copies of closed tabs.
const REPLAY_EVERY_MS: i32 = 1500;

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
    /// What is stored, as of the last save or read.
    pub stored: RwSignal<storage::Summary>,
    store: StoredValue<storage::Shared, LocalStorage>,
}

impl AppState {
    /// The state over an opened store; listens to the other tabs' changes.
    pub fn new(opened: storage::Opened) -> AppState {
        let profile = opened.store.borrow().profile();
        let summary = opened.store.borrow().summary();
        let state = AppState {
            mood: RwSignal::new(profile.mood()),
            heart: RwSignal::new(None),
            profile: RwSignal::new(profile),
            save_error: RwSignal::new(None),
            notice: RwSignal::new((!opened.notices.is_empty()).then(|| opened.notices.join(" "))),
            stored: RwSignal::new(summary),
            store: StoredValue::new_local(opened.store.clone()),
        };
        storage::join_tabs(&opened.store, move |message| {
            let store = state.store.get_value();
            spawn_local(async move {
                match message {
                    storage::Message::Changed => {
                        if let Ok(Some(p)) = storage::reload(&store).await {
                            state.mood.set(p.mood());
                            state.profile.set(p);
                        }
                    }
                    storage::Message::Deleted => {
                        storage::deleted_elsewhere(&store).await;
                        state.mood.set(None);
                        state.profile.set(Profile::default());
                        state.save_error.set(None);
                    }
                }
                state.stored.set(store.borrow().summary());
            });
        });
        // A tab killed mid-write leaves its write-ahead copy behind: replay it soon.
        let replay = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
            let store = state.store.get_value();
            spawn_local(async move {
                if let Some(p) = storage::replay_closed(&store).await {
                    state.mood.set(p.mood());
                    state.profile.set(p);
                }
                state.stored.set(store.borrow().summary());
            });
        });
        if let Some(w) = web_sys::window() {
            use wasm_bindgen::JsCast;
            let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
                replay.as_ref().unchecked_ref(),
                REPLAY_EVERY_MS,
            );
        }
        replay.forget();
        state
    }

    /// The state provided by [`crate::app::App`].
    pub fn get() -> AppState {
        expect_context::<AppState>()
    }

    /// This tab's writer id and the last sequence number it wrote (shown for the tests).
    pub fn writer(&self) -> (String, u64) {
        let (id, seq) = self.store.with_value(|s| s.borrow().writer());
        (id.hex(), seq)
    }

    /// Applies `change` to the profile and, if it changed anything, records it in the journal
    /// and saves it (the write-ahead copy at once, IndexedDB in the background).
    fn change(&self, change: Change) {
        let now = js_sys::Date::now();
        let mut changed = false;
        self.profile.update(|p| changed = p.apply(now, &change));
        if !changed {
            return;
        }
        let store = self.store.get_value();
        store.borrow_mut().record(now, change);
        let state = *self;
        spawn_local(async move {
            let result = storage::flush(&store).await;
            state.save_error.set(result.err());
            state.stored.set(store.borrow().summary());
        });
    }

    /// Adds an analysed file to "My library".
    pub fn add_to_library(&self, track: attune_engine::profile::LibraryTrack) {
        self.change(Change::AddToLibrary { track });
    }

    /// Removes a file from "My library".
    pub fn remove_from_library(&self, name: &str, bytes: u64) {
        self.change(Change::RemoveFromLibrary {
            name: name.to_string(),
            bytes,
        });
    }

    /// The arousal of the user's own heart now, when the strap reads as well as calibration asks
    /// ([`MIN_PAIR_QUALITY`]); the simulated strap's is a stranger's and never counts. Untracked.
    pub fn own_heart_arousal(&self) -> Option<f32> {
        self.heart
            .get_untracked()
            .filter(|r| r.own && r.estimate.quality >= MIN_PAIR_QUALITY)
            .map(|r| r.estimate.arousal.get())
    }

    /// Records that the user played `item` (a pick's "Listen", a My library file).
    pub fn played(&self, item: Item) {
        let heart = self.own_heart_arousal();
        self.change(Change::Play { item, heart });
    }

    /// Likes an artist by stable id.
    pub fn like(&self, artist_id: u32) {
        let heart = self.own_heart_arousal();
        self.change(Change::Like { artist_id, heart });
    }

    /// Removes a like.
    pub fn unlike(&self, artist_id: u32) {
        self.change(Change::Unlike { artist_id });
    }

    /// Never recommends this artist again ("Not for me").
    pub fn exclude(&self, artist_id: u32) {
        let heart = self.own_heart_arousal();
        self.change(Change::NotForMe { artist_id, heart });
    }

    /// Lets an excluded artist back into the recommendations.
    pub fn include(&self, artist_id: u32) {
        self.change(Change::Include { artist_id });
    }

    /// Sets the taste-versus-mood balance.
    pub fn set_strength(&self, strength: MoodStrength) {
        self.change(Change::MoodStrength {
            value: strength.get(),
        });
    }

    /// Keeps the resting heart baseline learned from the user's strap.
    pub fn set_heart_baseline(&self, baseline: HeartBaseline) {
        self.change(Change::HeartBaseline { baseline });
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
        self.change(Change::ForgetCalibration);
    }

    /// Replaces the profile with an imported one and saves it; the error says why it could not
    /// be saved (the import then stays in this tab and is saved with the next change).
    pub async fn import_profile(&self, imported: Profile) -> Result<(), String> {
        self.mood.set(imported.mood());
        self.change(Change::Replace {
            profile: Box::new(imported),
        });
        let store = self.store.get_value();
        let result = storage::flush(&store).await;
        self.stored.set(store.borrow().summary());
        result
    }

    /// Deletes everything Attune stored in this browser and starts a fresh profile in memory;
    /// returns what was removed.
    pub async fn delete_everything(&self) -> Result<Vec<String>, String> {
        let store = self.store.get_value();
        let removed = storage::delete_everything(&store).await?;
        self.mood.set(None);
        self.profile.set(Profile::default());
        self.save_error.set(None);
        self.notice.set(None);
        self.stored.set(store.borrow().summary());
        Ok(removed)
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
        if self.profile.with_untracked(|p| p.mood()) == Some(mood) {
            return;
        }
        let heart = self.own_heart_arousal();
        self.change(Change::Mood {
            emotion: mood,
            heart,
        });
    }
}
