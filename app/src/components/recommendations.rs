//! `#recommendations`: the top ten for the current likes, mood, history, mood strength and live
//! arousal.

use crate::components::state_card::top_event;
use crate::ranking::{Item, Ranked, HISTORY_SIGNAL_SHARE};
use crate::state::AppState;
use crate::user_state::UserState;
use attune_engine::history::Item as Played;
use attune_engine::Recommender;
use leptos::prelude::*;
use std::sync::Arc;

/// Percent-encodes a path segment (RFC 3986 unreserved characters stay; Last.fm uses `+` for space).
fn url_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The artist's (or track's) page on Last.fm, where HetRec's listening data comes from. Opened
/// only when the user clicks it.
pub fn listen_url(it: &Item) -> String {
    let artist = url_segment(&it.name);
    if it.track.is_empty() {
        format!("https://www.last.fm/music/{artist}")
    } else {
        format!(
            "https://www.last.fm/music/{artist}/_/{}",
            url_segment(&it.track)
        )
    }
}

/// What the user's history did to the state: the model's share and the event it attended to most.
#[derive(Debug, Clone, PartialEq)]
struct HistorySignal {
    share: f32,
    top: String,
    weight: f32,
}

/// The signals behind one pick, one line each (`.rec-why li[data-signal]`).
fn why(
    it: &Item,
    heart: Option<f32>,
    mood: Option<String>,
    history: Option<&HistorySignal>,
) -> Vec<(&'static str, String)> {
    let d = it.drivers;
    let total = d.taste.abs() + d.mood.abs();
    let share = |x: f32| {
        if total > 0.0 {
            (100.0 * x.abs() / total).round()
        } else {
            0.0
        }
    };
    let mut lines = vec![(
        "taste",
        match &it.because {
            Some(b) => format!(
                "Taste ({}% of the score): people who play {b}, which you like, also play {}.",
                share(d.taste),
                it.name
            ),
            None => format!(
                "Taste ({}% of the score): {} listeners in the Last.fm data; like a few artists to make this yours.",
                share(d.taste),
                it.listeners
            ),
        },
    )];
    if let (Some(fit), Some(mood)) = (it.fit, mood) {
        lines.push((
            "mood",
            format!(
                "Mood ({}% of the score): a {fit}% emotional fit with your {mood} state.",
                share(d.mood)
            ),
        ));
    }
    if let Some(h) = history {
        lines.push((
            "history",
            format!(
                "Your history ({}% of your state): mostly \u{201c}{}\u{201d}, {}% of the model's attention.",
                (h.share * 100.0).round(),
                h.top,
                (h.weight * 100.0).round()
            ),
        ));
    }
    if let Some(shift) = heart {
        lines.push((
            "heart",
            format!(
                "Heart rate: your strap moved the arousal of your state by {shift:+.2}, which brought this pick in."
            ),
        ));
    }
    lines
}

/// The ranked list, recomputed whenever likes, mood, strength or the live arousal change. Picks
/// that the heart signal brought in are marked.
#[component]
pub fn Recommendations(ranked: Ranked, user: UserState, rec: Arc<Recommender>) -> impl IntoView {
    let state = AppState::get();
    let items = ranked.fused;
    let from_heart = move |id: u32| {
        ranked.current.with(|c| c.arousal_shift != 0.0)
            && ranked
                .blended
                .with(|s| !s.iter().any(|i| i.artist_id == id))
    };
    let history = Memo::new(move |_| {
        let share = ranked.model_share();
        if share <= HISTORY_SIGNAL_SHARE {
            return None;
        }
        let (top, weight) = user.estimate.with(|e| {
            let e = e.as_ref()?;
            state.profile.with(|p| top_event(e, p, rec.catalog()))
        })?;
        Some(HistorySignal { share, top, weight })
    });
    let cold = move || state.profile.with(|p| p.likes.is_empty());
    let summary = move || {
        let current = ranked.current.get();
        let heart = current.arousal_shift != 0.0;
        let from_history = history.with(Option::is_some);
        let sources = match (state.mood.with(Option::is_some), from_history, heart) {
            (true, true, true) => "mood, history and heart rate",
            (true, true, false) => "mood plus history",
            (true, false, true) => "mood plus heart rate",
            (false, true, true) => "history plus heart rate",
            (false, true, false) => "from your history",
            (false, false, true) => "heart rate",
            (_, false, false) => "",
        };
        let mood = match (state.mood.get(), current.emotion) {
            (Some(m), _) if sources.is_empty() => format!("your {} mood", m.describe()),
            (_, Some(e)) if !sources.is_empty() => {
                format!("your {} state ({sources})", e.describe())
            }
            _ => "any mood (place yours on the plane)".to_string(),
        };
        let taste = if cold() {
            "popular picks"
        } else if ranked.neural.get() == Some(true) {
            "your taste (with neural CF)"
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
            {move || match user.neural.status.get() {
                crate::user_state::ModelStatus::Failed(why) => Some(view! {
                    <p class="hint" id="neural-error" role="status">
                        {format!("{why} Your taste is ranked without the neural model. ")}
                        <button type="button" id="neural-retry"
                            on:click=move |_| user.retry_neural_model()>"Retry"</button>
                    </p>
                }),
                _ => None,
            }}
            <Show when=cold>
                <p class="callout">
                    "No likes yet, so these are popular picks. Search for artists or tracks you enjoy to make it yours."
                </p>
            </Show>
            <ol
                id="recommendations"
                data-neural=move || match ranked.neural.get() {
                    None => "none",
                    Some(true) => "on",
                    Some(false) => "off",
                }
                data-neural-status=move || match user.neural.status.get() {
                    crate::user_state::ModelStatus::Loading => "loading".to_string(),
                    crate::user_state::ModelStatus::Ready => "ready".to_string(),
                    crate::user_state::ModelStatus::Failed(why) => format!("failed: {why}"),
                }
            >
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
                            let shift = new.then(|| ranked.current.with_untracked(|c| c.arousal_shift));
                            let mood = ranked
                                .current
                                .with_untracked(|c| c.emotion.map(|e| e.describe()));
                            let reasons = history
                                .with(|h| why(&it, shift, mood, h.as_ref()))
                                .into_iter()
                                .map(|(signal, text)| view! { <li data-signal=signal>{text}</li> })
                                .collect_view();
                            let id = it.artist_id;
                            let listen = listen_url(&it);
                            let listen_label = format!("Listen to {} on Last.fm (opens a new tab)", it.name);
                            let hide_label = format!("Not for me: never recommend {}", it.name);
                            view! {
                                <li
                                    class="rec"
                                    class:from-heart=new
                                    data-artist-id=id.to_string()
                                >
                                    <div class="rec-main">
                                        <span class="rec-name">{it.name}</span>
                                        <span class="rec-track">{it.track}</span>
                                        {heart}
                                    </div>
                                    <p class="rec-reason">{it.reason}</p>
                                    {fit}
                                    <div class="rec-actions">
                                        <details class="rec-why">
                                            <summary>"Why?"</summary>
                                            <ul>{reasons}</ul>
                                        </details>
                                        <a
                                            class="rec-listen"
                                            href=listen
                                            target="_blank"
                                            rel="noopener noreferrer"
                                            referrerpolicy="no-referrer"
                                            aria-label=listen_label
                                            on:click=move |_| state.played(Played::Artist { artist_id: id })
                                        >
                                            "Listen \u{2197}"
                                        </a>
                                        <button
                                            class="rec-exclude secondary"
                                            type="button"
                                            aria-label=hide_label
                                            on:click=move |_| state.exclude(id)
                                        >
                                            "Not for me"
                                        </button>
                                    </div>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
            {move || {
                let mood = ranked.current.get().emotion.or_else(|| state.mood.get())?;
                let picks: Vec<(String, String)> = state.profile.with(|p| {
                    p.library_for(&mood, 3)
                        .into_iter()
                        .map(|t| (t.name.clone(), t.emotion.describe()))
                        .collect()
                });
                (!picks.is_empty()).then(|| view! {
                    <div id="library-picks">
                        <h3>"From My library, for this mood"</h3>
                        <ol>
                            {picks.into_iter().map(|(name, feel)| view! {
                                <li data-file=name.clone()>
                                    <span class="file-name">{name.clone()}</span>" · "{feel}
                                </li>
                            }).collect_view()}
                        </ol>
                    </div>
                })
            }}
        </section>
    }
}
