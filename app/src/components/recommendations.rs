//! `#recommendations`: the top ten for the current likes, mood, mood strength and live arousal.

use crate::ranking::Ranked;
use crate::state::AppState;
use leptos::prelude::*;

/// The ranked list, recomputed whenever likes, mood, strength or the live arousal change. Picks
/// that the heart signal brought in are marked.
#[component]
pub fn Recommendations(ranked: Ranked) -> impl IntoView {
    let state = AppState::get();
    let items = ranked.fused;
    let from_heart = move |id: u32| {
        ranked.current.with(|c| c.arousal_shift != 0.0)
            && ranked.stated.with(|s| !s.iter().any(|i| i.artist_id == id))
    };
    let cold = move || state.profile.with(|p| p.likes.is_empty());
    let summary = move || {
        let current = ranked.current.get();
        let heart = current.arousal_shift != 0.0;
        let mood = match (state.mood.get(), current.emotion, heart) {
            (Some(m), _, false) => format!("your {} mood", m.describe()),
            (_, Some(e), true) => format!("your {} state (mood plus heart rate)", e.describe()),
            _ => "any mood (place yours on the plane)".to_string(),
        };
        let taste = if cold() {
            "popular picks"
        } else {
            "your taste"
        };
        let pct = (current.mood_strength.get() * 100.0).round() as u32;
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
                            let new = from_heart(it.artist_id);
                            let heart = new.then(|| {
                                view! {
                                    <span class="rec-heart" title="In the list because of your heart rate">
                                        "\u{2665} new"
                                    </span>
                                }
                            });
                            view! {
                                <li
                                    class="rec"
                                    class:from-heart=new
                                    data-artist-id=it.artist_id.to_string()
                                >
                                    <div class="rec-main">
                                        <span class="rec-name">{it.name}</span>
                                        <span class="rec-track">{it.track}</span>
                                        {heart}
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
