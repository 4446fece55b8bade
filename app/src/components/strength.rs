//! `#mood-strength`: how much the mood counts against taste.

use crate::state::AppState;
use attune_engine::MoodStrength;
use leptos::prelude::*;

/// The range input bound to the profile's mood strength (0-100 = taste only to mood only).
#[component]
pub fn StrengthSlider() -> impl IntoView {
    let state = AppState::get();
    let percent = move || {
        state
            .profile
            .with(|p| (p.mood_strength.get() * 100.0).round() as u32)
    };
    let value_text = move || {
        let m = percent();
        format!("{m}% mood, {}% taste", 100 - m)
    };
    let on_input = move |ev| {
        if let Ok(x) = event_target_value(&ev).parse::<f32>() {
            state.set_strength(MoodStrength::new(x / 100.0));
        }
    };
    view! {
        <section class="card strength" aria-labelledby="strength-heading">
            <h2 id="strength-heading">
                <label for="mood-strength">"Mood strength"</label>
            </h2>
            <div class="range-row">
                <span aria-hidden="true">"Taste"</span>
                <input
                    id="mood-strength"
                    type="range"
                    min="0"
                    max="100"
                    step="1"
                    prop:value=move || percent().to_string()
                    aria-valuetext=value_text
                    on:input=on_input
                />
                <span aria-hidden="true">"Mood"</span>
            </div>
            <p class="hint" aria-hidden="true">{value_text}</p>
        </section>
    }
}
