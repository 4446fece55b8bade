//! The top ten twice: for the stated mood alone, and for the current state that fuses it with the
//! live arousal from a heart-rate strap (`engine::fusion::fuse`). The list shows the fused one; the
//! heart panel compares the two.

use crate::state::AppState;
use attune_engine::fusion::{fuse, CurrentState};
use attune_engine::rank::Drivers;
use attune_engine::{ArtistIdx, Emotion, Recommender, Request};
use leptos::prelude::*;
use std::sync::Arc;

/// How many recommendations are shown.
pub const TOP_K: usize = 10;

/// One ranked item, ready to display.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable artist id.
    pub artist_id: u32,
    /// Artist name.
    pub name: String,
    /// The artist's track closest to the mood (may be empty).
    pub track: String,
    /// Why it is recommended, in one line.
    pub reason: String,
    /// Emotional fit as a whole percentage, when a mood is set.
    pub fit: Option<u32>,
    /// The score's taste and mood terms.
    pub drivers: Drivers,
    /// The liked artist whose listeners most play this one, if any.
    pub because: Option<String>,
    /// Listeners of the artist in the training data (for cold-start explanations).
    pub listeners: u32,
    /// Where the pick sits on the valence-arousal plane: its track's emotion, else the artist's.
    pub emotion: Option<Emotion>,
}

/// Both rankings and the state behind the shown one, as memos.
#[derive(Debug, Clone, Copy)]
pub struct Ranked {
    /// The stated mood and strength fused with the live arousal (equal to the stated ones without it).
    pub current: Memo<CurrentState>,
    /// The top ten for the stated mood and strength alone.
    pub stated: Memo<Vec<Item>>,
    /// The top ten for [`Ranked::current`]: what `#recommendations` shows.
    pub fused: Memo<Vec<Item>>,
}

impl Ranked {
    /// Memos over the app state's likes, mood, strength and live arousal.
    pub fn new(rec: Arc<Recommender>) -> Ranked {
        let state = AppState::get();
        let r = rec.clone();
        let to_idx = move |ids: &[u32]| {
            let catalog = r.catalog();
            ids.iter()
                .filter_map(|&id| catalog.artist_by_id(id))
                .collect::<Vec<ArtistIdx>>()
        };
        let likes = Memo::new(move |_| {
            state
                .profile
                .with(|p| (to_idx(&p.likes), to_idx(&p.excluded)))
        });
        let strength = Memo::new(move |_| state.profile.with(|p| p.mood_strength));
        let baseline = move || fuse(state.mood.get(), strength.get(), None);
        let current = Memo::new(move |_| fuse(state.mood.get(), strength.get(), state.live()));
        let r = rec.clone();
        let stated = Memo::new(move |_| likes.with(|(l, x)| rank(&r, l, x, &baseline())));
        let fused = Memo::new(move |_| {
            let now = current.get();
            if now == baseline() {
                stated.get()
            } else {
                likes.with(|(l, x)| rank(&rec, l, x, &now))
            }
        });
        Ranked {
            current,
            stated,
            fused,
        }
    }
}

fn rank(
    rec: &Recommender,
    likes: &[ArtistIdx],
    excluded: &[ArtistIdx],
    state: &CurrentState,
) -> Vec<Item> {
    let catalog = rec.catalog();
    let request = Request {
        likes,
        mood: state.emotion,
        mood_strength: state.mood_strength,
        exclude: excluded,
        k: TOP_K,
    };
    rec.recommend(&request)
        .into_iter()
        .map(|r| Item {
            artist_id: catalog.artist(r.artist).id,
            name: catalog.artist(r.artist).name.clone(),
            track: r
                .track
                .map(|t| catalog.track(t).title.clone())
                .unwrap_or_default(),
            reason: r.reason,
            fit: r.fit.map(|f| (f * 100.0).round() as u32),
            drivers: r.drivers,
            because: r.because.map(|b| catalog.artist(b).name.clone()),
            listeners: catalog.artist(r.artist).listeners,
            emotion: r
                .track
                .map(|t| catalog.track(t).emotion.emotion)
                .or(catalog.artist(r.artist).emotion.map(|e| e.emotion)),
        })
        .collect()
}

/// How many of `fused` are not in `stated` (picks the live signal brought in).
pub fn changed_picks(stated: &[Item], fused: &[Item]) -> usize {
    fused
        .iter()
        .filter(|f| !stated.iter().any(|s| s.artist_id == f.artist_id))
        .count()
}
