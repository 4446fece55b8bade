//! `#state`: "Your emotional state". The user-emotion model's estimate now (valence and arousal
//! with ± one standard deviation), its share of the state beside the mood the user set, the
//! history it read with the attention each event received (`#attention li[data-seq]`, newest
//! first), and the timeline of the estimates and of the list's mean emotion.

use crate::components::state_timeline::{record_points, StateTimeline};
use crate::ranking::{changed_picks, Ranked, TOP_K};
use crate::state::AppState;
use crate::user_state::{period_name, Estimate, ModelStatus, UserState};
use attune_engine::history::{Event, Item};
use attune_engine::{Catalog, Profile, Recommender};
use leptos::prelude::*;
use std::sync::Arc;

/// What an item is called: the catalog artist's name, or the file's.
pub fn item_name(item: &Item, catalog: &Catalog) -> String {
    match item {
        Item::Artist { artist_id } => catalog
            .artist_by_id(*artist_id)
            .map(|a| catalog.artist(a).name.clone())
            .unwrap_or_else(|| format!("artist {artist_id}")),
        Item::File { name, .. } => name.clone(),
    }
}

/// One event in words: "Liked Portishead", "Mood: calm and positive".
pub fn event_text(event: &Event, catalog: &Catalog) -> String {
    match (event, event.item()) {
        (Event::Mood { emotion }, _) => format!("Mood: {}", emotion.describe()),
        (_, Some(item)) => format!("{} {}", event.label(), item_name(item, catalog)),
        (_, None) => event.label().to_string(),
    }
}

/// "just now", "5 min ago", "3 h ago", "2 days ago".
pub fn ago(ms: f64) -> String {
    let min = (ms / 60_000.0).floor();
    if min < 1.0 {
        "just now".into()
    } else if min < 60.0 {
        format!("{min:.0} min ago")
    } else if min < 48.0 * 60.0 {
        format!("{:.0} h ago", (min / 60.0).floor())
    } else {
        format!("{:.0} days ago", (min / 1440.0).floor())
    }
}

/// The events the estimate read, newest first, with their attention (events since deleted are
/// left out).
fn attended<'a>(
    e: &Estimate,
    p: &'a Profile,
) -> Vec<(&'a attune_engine::history::HistoryEvent, f32)> {
    let events = p.history.events();
    e.seqs
        .iter()
        .zip(&e.state.attention)
        .rev()
        .filter_map(|(seq, w)| {
            events
                .binary_search_by_key(seq, |h| h.seq)
                .ok()
                .map(|i| (&events[i], *w))
        })
        .collect()
}

/// The event the model attended to most, in words, and its weight.
pub fn top_event(e: &Estimate, p: &Profile, catalog: &Catalog) -> Option<(String, f32)> {
    attended(e, p)
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(h, w)| (event_text(&h.event, catalog), w))
}

/// A number with two decimals, a sign and a true minus.
fn signed(x: f32) -> String {
    let s = format!("{:+.2}", if x.abs() < 0.005 { 0.0 } else { x });
    s.replacen('-', "\u{2212}", 1)
}

fn pct(x: f32) -> String {
    format!("{:.0}%", (x * 100.0).round())
}

/// The card.
#[component]
pub fn StateCard(rec: Arc<Recommender>, user: UserState, ranked: Ranked) -> impl IntoView {
    let state = AppState::get();
    let points = record_points(user, ranked);
    let status_name = move || match (user.status.get(), user.estimate.with(Option::is_some)) {
        (ModelStatus::Failed(_), _) => "error",
        (ModelStatus::Loading, _) => "loading",
        (ModelStatus::Ready, _) if user.pending.get() => "pending",
        (ModelStatus::Ready, true) => "ready",
        (ModelStatus::Ready, false) => "empty",
    };
    let message = move || {
        match user.status.get() {
        ModelStatus::Loading => Some(view! {
            <p id="state-status" class="hint" role="status">"Loading the state model\u{2026}"</p>
        }
        .into_any()),
        ModelStatus::Failed(why) => Some(view! {
            <div id="state-error" class="state-error" role="alert">
                <p><strong>"Your state cannot be estimated right now."</strong></p>
                <p class="why">{why}</p>
                <p>"The recommendations follow the mood you set."</p>
                <button type="button" id="state-retry" on:click=move |_| user.retry_state_model()>
                    "Retry"
                </button>
            </div>
        }
        .into_any()),
        ModelStatus::Ready if user.estimate.with(Option::is_none) => Some(view! {
            <p id="state-status" class="hint" role="status">
                "No history yet: set your mood, like artists, play music or mark picks \u{201c}Not for me\u{201d} and the model will read it."
            </p>
        }
        .into_any()),
        ModelStatus::Ready => None,
    }
    };
    let blend_share = move || ranked.blend.get().map_or([0.0; 2], |b| b.model_share);
    let stated_age = move || {
        let now = user.now_ms.get();
        state
            .profile
            .with(|p| p.moods.last().map(|m| ago(now - m.at_ms)))
    };
    let history_changed = move || {
        ranked
            .stated
            .with(|s| ranked.blended.with(|b| changed_picks(s, b)))
    };
    // A copyable handle, so that the views below can be re-run.
    let rec = StoredValue::new(rec);
    let summary = move || {
        user.estimate.get().map(|e| {
            let s = &e.state;
            let share = blend_share();
            let stated = match stated_age() {
                Some(age) => format!("the mood you set {age}"),
                None => "no mood set yet".into(),
            };
            let changed = history_changed();
            let top = state
                .profile
                .with(|p| rec.with_value(|r| top_event(&e, p, r.catalog())));
            view! {
                <div
                    id="state-estimate"
                    data-id=e.id.to_string()
                    data-valence=s.emotion.valence.get().to_string()
                    data-arousal=s.emotion.arousal.get().to_string()
                    data-sd-valence=s.sd[0].to_string()
                    data-sd-arousal=s.sd[1].to_string()
                    data-now=e.at_ms.to_string()
                    data-period=period_name(e.period)
                    data-heart=e.heart.map(|h| h.to_string())
                    data-events=e.seqs.len().to_string()
                >
                    <p class="state-describe">
                        "The model reads you as "<strong>{s.emotion.describe()}</strong>"."
                    </p>
                    <dl class="state-numbers">
                        <div>
                            <dt>"Valence"</dt>
                            <dd>{format!("{} \u{00b1} {:.2}", signed(s.emotion.valence.get()), s.sd[0])}</dd>
                        </div>
                        <div>
                            <dt>"Arousal"</dt>
                            <dd>{format!("{} \u{00b1} {:.2}", signed(s.emotion.arousal.get()), s.sd[1])}</dd>
                        </div>
                    </dl>
                    <p
                        id="state-share"
                        data-share-valence=share[0].to_string()
                        data-share-arousal=share[1].to_string()
                        data-changed=changed.to_string()
                    >
                        {format!(
                            "In the state the list follows, the model has {} of valence and {} of \
                             arousal; {stated} has the rest. Your history changed {changed} of the \
                             top {TOP_K}.",
                            pct(share[0]),
                            pct(share[1]),
                        )}
                    </p>
                    {top.map(|(text, w)| view! {
                        <p class="hint">
                            {format!("It attended most to \u{201c}{text}\u{201d} ({} of its attention).", pct(w))}
                        </p>
                    })}
                </div>
            }
        })
    };
    let rows = move || {
        let Some(e) = user.estimate.get() else {
            return Vec::new();
        };
        state.profile.with(|p| {
            attended(&e, p)
                .into_iter()
                .map(|(h, w)| {
                    let text = rec.with_value(|r| event_text(&h.event, r.catalog()));
                    let kind = match h.event {
                        Event::Mood { .. } => "mood",
                        Event::Play { .. } => "play",
                        Event::Like { .. } => "like",
                        Event::NotForMe { .. } => "not-for-me",
                    };
                    view! {
                        <li data-seq=h.seq.to_string() data-attention=w.to_string() data-kind=kind>
                            <span class="att-text">{text}</span>
                            <span class="att-when">{ago(e.at_ms - h.at_ms)}</span>
                            <span class="att-bar" aria-hidden="true">
                                // Set through the CSSOM: the CSP forbids style attributes.
                                <span style:width=format!("{:.1}%", 100.0 * w)></span>
                            </span>
                            <span class="att-weight">{pct(w)}</span>
                        </li>
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    let has_rows = move || user.estimate.with(Option::is_some);
    view! {
        <section id="state" class="card state" aria-labelledby="state-heading" data-state=status_name>
            <h2 id="state-heading">"Your emotional state"</h2>
            <p class="hint">
                "Estimated on this device from your history (moods, plays, likes, \u{201c}not for \
                 me\u{201d} and your heart when a strap reads well) by a self-attention model \
                 trained on the SiTunes study. A mood you set counts most while it is fresh, then \
                 gives way to the model."
            </p>
            {message}
            {summary}
            <Show when=has_rows>
                <h3 id="attention-heading">"What the model read"</h3>
                <div class="attention-scroll" tabindex="0" role="region" aria-labelledby="attention-heading">
                    <ol id="attention" aria-label="Your recent events, newest first, with the model's attention to each">
                        {rows}
                    </ol>
                </div>
            </Show>
            <h3>"Over this session"</h3>
            <StateTimeline points=points />
        </section>
    }
}
