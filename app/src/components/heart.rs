//! `#heart`: connect a Bluetooth heart-rate strap (or the simulated one), show its readings, and
//! say how its arousal moved the list.

use crate::components::heart_chart::HeartChart;
use crate::heart::{use_heart_rate, HeartRate, Status, UseHeartRateOptions};
use crate::ranking::{changed_picks, Ranked};
use crate::state::{AppState, HeartReading};
use attune_engine::heart::calibration::{MIN_PAIRS, MIN_PAIR_GAP_MS};
use attune_engine::heart::{HeartWeight, WeightSource, HEART_AROUSAL_R};
use leptos::prelude::*;
use std::rc::Rc;

/// A number with two decimals and no negative zero (`data-arousal`, `data-confidence`).
fn fixed2(x: f32) -> String {
    let r = (x * 100.0).round() / 100.0;
    format!("{:.2}", if r == 0.0 { 0.0 } else { r })
}

/// As [`fixed2`], with a sign.
fn signed2(x: f32) -> String {
    let s = fixed2(x);
    if s.starts_with('-') {
        s.replacen('-', "\u{2212}", 1)
    } else {
        format!("+{s}")
    }
}

/// The sentence in `#hr-calibration`.
fn calibration_text(w: &HeartWeight, simulated: bool) -> String {
    if simulated {
        return format!(
            "Calibration: {} moments paired with your own heart. The simulated strap's heart is \
             not yours, so moods you set now are not paired with it.",
            w.pairs
        );
    }
    match w.source {
        WeightSource::Population => format!(
            "Calibration: {} of {MIN_PAIRS} moments collected. Each time you set your mood while \
             the strap reads well (at least {} min apart), your heart's reading is paired with it.",
            w.pairs,
            MIN_PAIR_GAP_MS / 60_000.0
        ),
        WeightSource::Personal => format!(
            "Calibration: {} moments; your heart follows your stated arousal with r = {}, \
             so it gets {:.0}% weight (the cautious lower bound of that r).",
            w.pairs,
            signed2(w.r),
            w.weight * 100.0
        ),
    }
}

/// The sentence in `#hr-effect`.
fn effect_text(hr: &HeartRate, ranked: &Ranked, weight: &HeartWeight) -> String {
    let status = hr.status.get();
    let Some(est) = hr.estimate.get() else {
        return match status {
            Status::Connected | Status::Simulated => {
                "Waiting for heart-rate readings; the list is not adjusted yet.".into()
            }
            Status::Reconnecting => {
                "No fresh readings while the strap reconnects: the list follows your stated mood."
                    .into()
            }
            _ => {
                "Connect a strap, or try the simulated one, to let your heart rate adjust the list."
                    .into()
            }
        };
    };
    let current = ranked.current.get();
    if est.confidence(weight.weight) <= 0.0 {
        return if weight.weight <= 0.0 && weight.source == WeightSource::Population {
            format!(
                "Your heart rate is measured but does not move the list yet: in the SiTunes study, \
                 heart rate did not follow the arousal people reported (r = {HEART_AROUSAL_R:.3}), \
                 so a new strap starts with no weight. It earns weight only if your own heart \
                 follows the moods you set."
            )
        } else if weight.weight <= 0.0 {
            format!(
                "Your heart has not followed the moods you set (r = {} over {} moments), so it \
                 does not move the list.",
                signed2(weight.r),
                weight.pairs
            )
        } else if est.baseline_progress < 1.0 {
            format!(
                "Learning your resting heart rate ({}% done); the list is not adjusted yet.",
                (est.baseline_progress * 100.0).floor()
            )
        } else {
            "The heart signal is too noisy or too old to trust right now; the list is not adjusted."
                .into()
        };
    }
    let changed = ranked
        .blended
        .with(|s| ranked.fused.with(|f| changed_picks(s, f)));
    let picks = match changed {
        0 => "the top 10 is the same".to_string(),
        1 => "1 pick changed".to_string(),
        n => format!("{n} picks changed"),
    };
    format!(
        "Your heart rate moved arousal {} and mood weight to {}%: {picks}.",
        signed2(current.arousal_shift),
        (current.mood_strength.get() * 100.0).round()
    )
}

/// The heart-rate card. Its live arousal feeds [`AppState::live`] while it is mounted.
#[component]
pub fn HeartPanel(ranked: Ranked) -> impl IntoView {
    let state = AppState::get();
    let (hr, controls) = use_heart_rate(UseHeartRateOptions {
        baseline: state.profile.with_untracked(|p| p.heart_baseline),
        on_baseline: Rc::new(move |b| state.set_heart_baseline(b)),
    });
    Effect::new(move |_| {
        let own = hr.status.get() != Status::Simulated;
        state.heart.set(
            hr.estimate
                .get()
                .map(|estimate| HeartReading { estimate, own }),
        );
    });
    on_cleanup(move || state.heart.set(None));
    let weight = Memo::new(move |_| state.heart_weight());

    // Deleting (or importing over) the stored baseline must not be undone by the next save.
    let c0 = controls.clone();
    Effect::new(move |had: Option<bool>| {
        let has = state.profile.with(|p| p.heart_baseline.is_some());
        if had == Some(true) && !has {
            c0.forget_baseline();
        }
        has
    });
    let status = hr.status;
    let (c1, c2, c3) = (controls.clone(), controls.clone(), controls);
    let connect_label = move || {
        if hr.reconnectable.get() {
            "Reconnect"
        } else {
            "Connect a strap"
        }
    };
    let busy = move || {
        matches!(
            status.get(),
            Status::Connecting | Status::Connected | Status::Reconnecting
        )
    };
    let est = hr.estimate;
    // Empty with no device; "unknown" when the strap does not say; "n/a" for the simulated one.
    let shown = move |v: Option<String>| {
        v.unwrap_or_else(|| match (status.get(), hr.device.with(String::is_empty)) {
            (_, true) => String::new(),
            (Status::Simulated, false) => "n/a".into(),
            (_, false) => "unknown".into(),
        })
    };
    let effect = move || effect_text(&hr, &ranked, &weight.get());
    let effect_shift = move || fixed2(ranked.current.with(|c| c.arousal_shift));
    let effect_changed = move || {
        ranked
            .blended
            .with(|s| ranked.fused.with(|f| changed_picks(s, f)))
            .to_string()
    };

    view! {
        <section id="heart" class="card heart" aria-labelledby="heart-heading">
            <h2 id="heart-heading">"Heart rate (optional)"</h2>
            <p class="hint">
                "A Bluetooth chest strap lets your body's arousal adjust the list. Readings stay in this browser."
            </p>
            <div class="hr-buttons">
                <button id="hr-connect" type="button" disabled=busy on:click=move |_| c1.connect()>
                    {connect_label}
                </button>
                <button
                    id="hr-simulate"
                    class="secondary"
                    type="button"
                    disabled=move || status.get() == Status::Simulated
                    on:click=move |_| c2.simulate()
                >
                    "Simulated strap"
                </button>
                <button
                    id="hr-disconnect"
                    class="secondary"
                    type="button"
                    disabled=move || !status.get().active()
                    on:click=move |_| c3.disconnect()
                >
                    "Disconnect"
                </button>
            </div>
            <p
                id="hr-status"
                class="hr-status"
                data-status=move || status.get().name()
                role="status"
            >
                <span class="hr-dot" aria-hidden="true"></span>
                {move || status.get().label()}
            </p>
            <p id="hr-message" class="hr-message" aria-live="polite">
                {move || hr.message.get()}
            </p>
            <p class="hr-contact" role="alert" hidden=move || !hr.no_contact.get()>
                "The strap reports no skin contact: moisten its electrodes and tighten it."
            </p>
            <dl class="hr-facts">
                <div>
                    <dt>"Device"</dt>
                    <dd id="hr-device">{move || hr.device.get()}</dd>
                </div>
                <div>
                    <dt>"Worn on"</dt>
                    <dd id="hr-location">{move || shown(hr.location.get())}</dd>
                </div>
                <div>
                    <dt>"Battery"</dt>
                    <dd id="hr-battery">{move || shown(hr.battery.get().map(|p| format!("{p}%")))}</dd>
                </div>
            </dl>
            <div class="hr-readings">
                <div class="reading">
                    <span
                        id="hr-bpm"
                        class="value"
                        data-bpm=move || hr.bpm.get().map(|b| b.to_string())
                    >
                        {move || hr.bpm.get().map(|b| b.to_string()).unwrap_or_else(|| "-".into())}
                    </span>
                    <span class="unit">"bpm"</span>
                </div>
                <div class="reading">
                    <span id="hr-rmssd" class="value">
                        {move || {
                            est.get()
                                .and_then(|e| e.rmssd_ms)
                                .map(|r| format!("{r:.0}"))
                                .unwrap_or_else(|| "-".into())
                        }}
                    </span>
                    <span class="unit">"ms HRV (RMSSD)"</span>
                </div>
                <div class="reading">
                    <span
                        id="hr-arousal"
                        class="value"
                        data-arousal=move || est.get().map(|e| fixed2(e.arousal.get()))
                        data-quality=move || est.get().map(|e| fixed2(e.quality))
                        data-confidence=move || {
                            est.get().map(|e| fixed2(e.confidence(weight.get().weight)))
                        }
                    >
                        {move || est.get().map(|e| signed2(e.arousal.get())).unwrap_or_else(|| "-".into())}
                    </span>
                    <span class="unit">
                        {move || {
                            est.get()
                                .map(|e| {
                                    format!(
                                        "arousal, {:.0}% weight",
                                        e.confidence(weight.get().weight) * 100.0
                                    )
                                })
                                .unwrap_or_else(|| "arousal".into())
                        }}
                    </span>
                </div>
            </div>
            <p id="hr-packet-error" class="hr-packet-error">
                {move || hr.packet_error.get().unwrap_or_default()}
            </p>
            <HeartChart history=hr.history now=hr.now_ms />
            <p
                id="hr-effect"
                class="callout"
                data-shift=effect_shift
                data-changed=effect_changed
            >
                {effect}
            </p>
            <div class="hr-calibration">
                <p
                    id="hr-calibration"
                    data-pairs=move || weight.get().pairs.to_string()
                    data-weight=move || fixed2(weight.get().weight)
                    data-source=move || match weight.get().source {
                        WeightSource::Population => "population",
                        WeightSource::Personal => "personal",
                    }
                >
                    {move || calibration_text(&weight.get(), status.get() == Status::Simulated)}
                </p>
                <button
                    id="hr-calibration-reset"
                    class="secondary"
                    type="button"
                    disabled=move || weight.get().pairs == 0
                    on:click=move |_| state.forget_heart_calibration()
                >
                    "Forget calibration"
                </button>
            </div>
        </section>
    }
}
