//! `#recommendations`: the top ten for the current likes, mood and mood strength.

use crate::state::AppState;
use attune_engine::{ArtistIdx, Recommender, Request};
use leptos::prelude::*;
use std::sync::Arc;

/// How many recommendations are shown.
pub const TOP_K: usize = 10;

/// One ranked item, ready to display.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    artist_id: u32,
    name: String,
    track: String,
    reason: String,
    /// Emotional fit as a whole percentage, when a mood is set.
    fit: Option<u32>,
}

fn rank(rec: &Recommender, state: &AppState) -> Vec<Item> {
    let catalog = rec.catalog();
    let (likes, strength): (Vec<ArtistIdx>, _) = state.profile.with(|p| {
        (
            p.likes
                .iter()
                .filter_map(|&id| catalog.artist_by_id(id))
                .collect(),
            p.mood_strength,
        )
    });
    let request = Request {
        likes: &likes,
        mood: state.mood.get(),
        mood_strength: strength,
        exclude: &[],
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
        })
        .collect()
}

/// The ranked list, recomputed whenever likes, mood or strength change.
#[component]
pub fn Recommendations(rec: Arc<Recommender>) -> impl IntoView {
    let state = AppState::get();
    let items = Memo::new(move |_| rank(&rec, &state));
    let cold = move || state.profile.with(|p| p.likes.is_empty());
    let summary = move || {
        let mood = state
            .mood
            .get()
            .map(|m| format!("your {} mood", m.describe()))
            .unwrap_or_else(|| "any mood (place yours on the plane)".to_string());
        let taste = if cold() {
            "popular picks"
        } else {
            "your taste"
        };
        let pct = state
            .profile
            .with(|p| (p.mood_strength.get() * 100.0).round() as u32);
        format!("Blending {taste} with {mood}, {pct}% mood.")
    };
    view! {
        <section class="card recs" aria-labelledby="recs-heading">
            <h2 id="recs-heading">"Your top 10 right now"</h2>
            <p class="hint">{summary}</p>
            <Show when=cold>
                <p class="callout">
                    "No likes yet, so these are popular picks. Search for artists or tracks you enjoy to make it yours."
                </p>
            </Show>
            <ol id="recommendations">
                {move || {
                    items
                        .get()
                        .into_iter()
                        .map(|it| {
                            let fit = it.fit.map(|f| {
                                view! {
                                    <span class="rec-fit" title="How well it fits your mood">
                                        <span class="fit-n">{format!("{f}%")}</span>
                                        <span class="fit-l">" mood fit"</span>
                                    </span>
                                }
                            });
                            view! {
                                <li class="rec" data-artist-id=it.artist_id.to_string()>
                                    <div class="rec-main">
                                        <span class="rec-name">{it.name}</span>
                                        <span class="rec-track">{it.track}</span>
                                    </div>
                                    <p class="rec-reason">{it.reason}</p>
                                    {fit}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
        </section>
    }
}
