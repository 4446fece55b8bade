//! The top ten three times: for the stated mood alone; for the state without the heart (the stated
//! mood blended with the user-emotion model's estimate by `engine::fusion::blend_estimate`: a fresh
//! statement dominates, an old one gives way to the model); and for the current state, which adds
//! the live arousal of a heart-rate strap (`engine::fusion::fuse`). The list shows the current one;
//! the state card compares it with the stated mood's, the heart panel with the one before the heart.

use crate::state::AppState;
use crate::user_state::UserState;
use attune_engine::fusion::{blend_estimate, fuse, Blend, CurrentState};
use attune_engine::rank::Drivers;
use attune_engine::{ArtistIdx, Emotion, Recommender, Request};
use leptos::prelude::*;
use std::sync::Arc;

/// How many recommendations are shown.
pub const TOP_K: usize = 10;

/// The model's share of the blended state above which the history counts as a signal of a pick.
pub const HISTORY_SIGNAL_SHARE: f32 = 0.05;

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

/// The rankings and the states behind them, as memos.
#[derive(Debug, Clone, Copy)]
pub struct Ranked {
    /// The stated mood blended with the model's estimate (`None` with neither).
    pub blend: Memo<Option<Blend>>,
    /// The blend fused with the live arousal (equal to the blend without it).
    pub current: Memo<CurrentState>,
    /// The top ten for the stated mood and strength alone.
    pub stated: Memo<Vec<Item>>,
    /// The top ten for the blend alone, before the heart.
    pub blended: Memo<Vec<Item>>,
    /// The top ten for [`Ranked::current`]: what `#recommendations` shows.
    pub fused: Memo<Vec<Item>>,
    /// Whether the taste includes the neural CF model's scores for the current likes (`None`:
    /// no liked artist in the catalog, so there is nothing to score).
    pub neural: Memo<Option<bool>>,
}

impl Ranked {
    /// Memos over the app state's likes, mood, strength and live arousal and the model's estimate.
    /// `rec` grows once the taste models arrive (the catalogue stays): the lists follow it.
    pub fn new(rec: Signal<Arc<Recommender>>, user: UserState) -> Ranked {
        let state = AppState::get();
        let r = rec.get_untracked();
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
        // The neural CF scores, once the worker has answered for exactly these likes.
        let neural = Memo::new(move |_| likes.with(|(l, _)| user.neural.for_likes(l)));
        // The mood shown and its age (0 while it is only previewed, during a drag).
        let stated_mood = Memo::new(move |_| {
            let mood = state.mood.get()?;
            let at = state.profile.with(|p| {
                p.moods
                    .last()
                    .filter(|m| m.emotion == mood)
                    .map(|m| m.at_ms)
            });
            Some((mood, at.map_or(0.0, |at| (user.now_ms.get() - at).max(0.0))))
        });
        let blend = Memo::new(move |_| {
            user.estimate
                .with(|e| blend_estimate(stated_mood.get(), e.as_ref().map(|e| &e.state)))
        });
        let state_of = move |live| fuse(blend.get().map(|b| b.emotion), strength.get(), live);
        let baseline = move || fuse(state.mood.get(), strength.get(), None);
        let current = Memo::new(move |_| state_of(state.live()));
        let stated = Memo::new(move |_| {
            let n = neural.get();
            let r = rec.get();
            likes.with(|(l, x)| rank(&r, l, x, n.as_deref().map(Vec::as_slice), &baseline()))
        });
        // Equal states give equal lists: reuse the one already ranked.
        let blended = Memo::new(move |_| {
            let before_heart = state_of(None);
            if before_heart == baseline() {
                stated.get()
            } else {
                let n = neural.get();
                let r = rec.get();
                likes.with(|(l, x)| rank(&r, l, x, n.as_deref().map(Vec::as_slice), &before_heart))
            }
        });
        let fused = Memo::new(move |_| {
            let now = current.get();
            if now == state_of(None) {
                blended.get()
            } else {
                let n = neural.get();
                let r = rec.get();
                likes.with(|(l, x)| rank(&r, l, x, n.as_deref().map(Vec::as_slice), &now))
            }
        });
        let uses_neural = Memo::new(move |_| {
            let any = likes.with(|(l, _)| !l.is_empty());
            any.then(|| neural.with(Option::is_some))
        });
        Ranked {
            neural: uses_neural,
            blend,
            current,
            stated,
            blended,
            fused,
        }
    }

    /// The model's larger share of the state (valence or arousal), 0 without an estimate. Tracked.
    pub fn model_share(&self) -> f32 {
        self.blend
            .get()
            .map_or(0.0, |b| b.model_share[0].max(b.model_share[1]))
    }
}

fn rank(
    rec: &Recommender,
    likes: &[ArtistIdx],
    excluded: &[ArtistIdx],
    neural: Option<&[f32]>,
    state: &CurrentState,
) -> Vec<Item> {
    let catalog = rec.catalog();
    let request = Request {
        likes,
        mood: state.emotion,
        mood_strength: state.mood_strength,
        exclude: excluded,
        neural,
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

/// How many of `after` are not in `before` (picks a signal brought in).
pub fn changed_picks(before: &[Item], after: &[Item]) -> usize {
    after
        .iter()
        .filter(|f| !before.iter().any(|s| s.artist_id == f.artist_id))
        .count()
}

/// The mean emotion of the picks that have one.
pub fn mean_emotion(items: &[Item]) -> Option<Emotion> {
    let known: Vec<Emotion> = items.iter().filter_map(|i| i.emotion).collect();
    if known.is_empty() {
        return None;
    }
    let n = known.len() as f32;
    let sum = |f: fn(&Emotion) -> f32| known.iter().map(f).sum::<f32>() / n;
    Some(Emotion::va(
        sum(|e| e.valence.get()),
        sum(|e| e.arousal.get()),
    ))
}
