//! The valence-arousal plane: click, drag or use the arrow keys to place the current mood. The
//! current recommendations are drawn on it (numbered squares), and so is the state the list
//! follows when the history or the heart moved it away from the mood (a ring), live.

use crate::components::plane::quadrants;
use crate::ranking::Ranked;
use crate::state::AppState;
use attune_engine::Emotion;
use leptos::prelude::*;
use leptos::svg::Svg;

/// Side of the SVG's coordinate system; the plane's [-1, 1]² maps onto [0, SIZE]².
const SIZE: f64 = 200.0;
/// How far one arrow-key press moves the point.
const KEY_STEP: f32 = 0.1;
/// How many earlier moods are drawn as a fading trail.
const TRAIL: usize = 6;
/// A click this soon after a pointerup belongs to the same press (already recorded), in ms.
const CLICK_AFTER_PRESS_MS: f64 = 600.0;

/// Rounds to the two decimals the plane shows and stores.
fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

fn to_svg(e: &Emotion) -> (f64, f64) {
    let x = (f64::from(e.valence.get()) + 1.0) / 2.0 * SIZE;
    let y = (1.0 - f64::from(e.arousal.get())) / 2.0 * SIZE;
    (x, y)
}

/// The mood under the pointer, from the plane's on-screen rectangle.
fn mood_at(plane: NodeRef<Svg>, ev: &web_sys::MouseEvent) -> Option<Emotion> {
    let rect = plane.get_untracked()?.get_bounding_client_rect();
    if rect.width() <= 0.0 || rect.height() <= 0.0 {
        return None;
    }
    let fx = (ev.client_x() - rect.left()) / rect.width();
    let fy = (ev.client_y() - rect.top()) / rect.height();
    Some(Emotion::va(
        round2((fx * 2.0 - 1.0) as f32),
        round2((1.0 - fy * 2.0) as f32),
    ))
}

/// Where an arrow key moves `from`, or `None` for other keys.
fn stepped(from: Emotion, key: &str) -> Option<Emotion> {
    let (dv, da) = match key {
        "ArrowLeft" => (-KEY_STEP, 0.0),
        "ArrowRight" => (KEY_STEP, 0.0),
        "ArrowUp" => (0.0, KEY_STEP),
        "ArrowDown" => (0.0, -KEY_STEP),
        "Home" => return Some(Emotion::NEUTRAL),
        _ => return None,
    };
    Some(Emotion::va(
        round2(from.valence.get() + dv),
        round2(from.arousal.get() + da),
    ))
}

/// `#mood-plane` with its `#mood-label`, the picks of `ranked` and the fused state.
#[component]
pub fn MoodPlane(ranked: Ranked) -> impl IntoView {
    let state = AppState::get();
    let plane = NodeRef::<Svg>::new();
    let dragging = StoredValue::new(false);
    let released_at = StoredValue::new(f64::NEG_INFINITY);
    let current = move || state.mood.get().unwrap_or(Emotion::NEUTRAL);
    let valence = move || format!("{:.2}", current().valence.get());
    let arousal = move || format!("{:.2}", current().arousal.get());
    let value_text = move || {
        let e = current();
        let unset = if state.mood.with(Option::is_none) {
            " (not set yet)"
        } else {
            ""
        };
        format!(
            "valence {:.2}, arousal {:.2}, {}{unset}",
            e.valence.get(),
            e.arousal.get(),
            e.describe()
        )
    };
    let dot = move || to_svg(&current());
    let trail = move || {
        state.profile.with(|p| {
            let n = p.moods.len();
            let earlier = &p.moods[n.saturating_sub(TRAIL + 1)..n.saturating_sub(1)];
            let len = earlier.len();
            earlier
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let (x, y) = to_svg(&m.emotion);
                    let opacity = 0.15 + 0.45 * (i + 1) as f64 / len as f64;
                    view! { <circle class="trail" cx=x cy=y r="3.5" opacity=opacity /> }
                })
                .collect_view()
        })
    };

    // Decorative for screen readers: the list itself is the accessible form.
    let marks = move || {
        ranked
            .fused
            .get()
            .into_iter()
            .enumerate()
            .filter_map(|(i, it)| {
                let (x, y) = to_svg(&it.emotion?);
                // Whole marks at the plane's edges.
                let (x, y) = (x.clamp(6.0, SIZE - 6.0), y.clamp(6.0, SIZE - 6.0));
                let title = format!("{}. {}", i + 1, it.name);
                Some(view! {
                    <g
                        class="rec-mark"
                        data-artist-id=it.artist_id.to_string()
                        transform=format!("translate({x:.1} {y:.1})")
                    >
                        <title>{title}</title>
                        <rect x="-5" y="-5" width="10" height="10" rx="1.5" />
                        <text y="3.2" text-anchor="middle">{(i + 1).to_string()}</text>
                    </g>
                })
            })
            .collect_view()
    };
    let fused = move || {
        let c = ranked.current.get();
        (c.emotion != state.mood.get())
            .then(|| c.emotion.map(|e| to_svg(&e)))
            .flatten()
            .map(|(x, y)| view! { <circle id="fused-state" class="fused" cx=x cy=y r="10" /> })
    };
    let on_down = move |ev: web_sys::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        ev.prevent_default();
        if let Some(svg) = plane.get_untracked() {
            let _ = svg.set_pointer_capture(ev.pointer_id());
            let _ = svg.focus();
        }
        dragging.set_value(true);
        if let Some(m) = mood_at(plane, &ev) {
            state.preview_mood(m);
        }
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        if dragging.get_value() {
            if let Some(m) = mood_at(plane, &ev) {
                state.preview_mood(m);
            }
        }
    };
    let on_up = move |ev: web_sys::PointerEvent| {
        if !dragging.get_value() {
            return;
        }
        dragging.set_value(false);
        released_at.set_value(js_sys::Date::now());
        if let Some(m) = mood_at(plane, &ev).or_else(|| state.mood.get_untracked()) {
            state.record_mood(m);
        }
    };
    let on_cancel = move |_: web_sys::PointerEvent| {
        if dragging.get_value() {
            dragging.set_value(false);
            if let Some(m) = state.mood.get_untracked() {
                state.record_mood(m);
            }
        }
    };
    // A click without pointer events (e.g. synthetic). After a real press the click repeats
    // pointerup's point, in whole pixels: ignore it rather than record a second, rounded mood.
    let on_click = move |ev: web_sys::MouseEvent| {
        if js_sys::Date::now() - released_at.get_value() < CLICK_AFTER_PRESS_MS {
            return;
        }
        if let Some(m) = mood_at(plane, &ev) {
            state.record_mood(m);
        }
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let from = state.mood.get_untracked().unwrap_or(Emotion::NEUTRAL);
        if let Some(m) = stepped(from, &ev.key()) {
            ev.prevent_default();
            state.record_mood(m);
        }
    };

    view! {
        <section class="card mood" aria-labelledby="mood-heading">
            <h2 id="mood-heading">"How do you feel right now?"</h2>
            <div class="plane-wrap">
                <span class="axis-label top" aria-hidden="true">"energetic"</span>
                <span class="axis-label bottom" aria-hidden="true">"calm"</span>
                <span class="axis-label left" aria-hidden="true">"unpleasant"</span>
                <span class="axis-label right" aria-hidden="true">"pleasant"</span>
                <svg
                    id="mood-plane"
                    node_ref=plane
                    viewBox="0 0 200 200"
                    preserveAspectRatio="none"
                    tabindex="0"
                    role="slider"
                    aria-label="Your mood: valence from unpleasant (left) to pleasant (right), arousal from calm (bottom) to energetic (top)"
                    aria-describedby="mood-help"
                    aria-valuemin="-1"
                    aria-valuemax="1"
                    aria-valuenow=valence
                    aria-valuetext=value_text
                    data-valence=valence
                    data-arousal=arousal
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:pointercancel=on_cancel
                    on:click=on_click
                    on:keydown=on_key
                >
                    {quadrants()}
                    <text class="q-name" x="190" y="16" text-anchor="end">"excited"</text>
                    <text class="q-name" x="10" y="16">"tense"</text>
                    <text class="q-name" x="10" y="192">"sad"</text>
                    <text class="q-name" x="190" y="192" text-anchor="end">"relaxed"</text>
                    <g class="rec-marks" aria-hidden="true">{marks}</g>
                    {trail}
                    {fused}
                    <circle
                        class="dot"
                        class:unset=move || state.mood.with(Option::is_none)
                        cx=move || dot().0
                        cy=move || dot().1
                        r="7"
                    />
                </svg>
            </div>
            <p class="mood-readout">
                "You feel "
                <strong id="mood-label">{move || current().describe()}</strong>
                {move || state.mood.with(Option::is_none).then_some(" (not set yet)")}
            </p>
            <p id="mood-help" class="hint">
                "Click or drag on the plane, or focus it and use the arrow keys (Home re-centres)."
            </p>
        </section>
    }
}
