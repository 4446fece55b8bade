//! `#hr-chart`: heart rate, HRV (RMSSD) and the heart's arousal over the last two minutes, as three
//! stacked strips sharing one time axis.

use crate::heart::hook::HISTORY_MS;
use crate::heart::Sample;
use leptos::prelude::*;
use std::collections::VecDeque;
use std::fmt::Write;

/// Left edge of the plots (labels sit left of it) and their width, in viewBox units.
const X0: f64 = 50.0;
const W: f64 = 246.0;
/// A gap longer than this (ms) breaks the line (a disconnect, a stall).
const GAP_MS: f64 = 3_000.0;

/// One horizontal strip: where it sits and the value range it shows.
#[derive(Clone, Copy)]
struct Strip {
    top: f64,
    height: f64,
    lo: f64,
    hi: f64,
}

impl Strip {
    fn y(&self, v: f64) -> f64 {
        let f = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        self.top + self.height * (1.0 - f)
    }
}

/// An SVG path through the samples' values, broken at gaps and missing values.
fn path(
    samples: &VecDeque<Sample>,
    now: f64,
    strip: Strip,
    value: impl Fn(&Sample) -> Option<f32>,
) -> String {
    let mut d = String::new();
    let mut prev: Option<f64> = None;
    for s in samples {
        let Some(v) = value(s) else {
            prev = None;
            continue;
        };
        let x = X0 + W * (1.0 - ((now - s.at_ms) / HISTORY_MS).clamp(0.0, 1.0));
        let y = strip.y(f64::from(v));
        let cmd = if prev.is_some_and(|t| s.at_ms - t <= GAP_MS) {
            'L'
        } else {
            'M'
        };
        let _ = write!(d, "{cmd}{x:.1} {y:.1}");
        prev = Some(s.at_ms);
    }
    d
}

/// Rounds a heart-rate range out to tens, at least 30 bpm tall.
fn bpm_range(samples: &VecDeque<Sample>) -> (f64, f64) {
    let (mut lo, mut hi) = samples.iter().fold((f64::MAX, f64::MIN), |(lo, hi), s| {
        (lo.min(f64::from(s.bpm)), hi.max(f64::from(s.bpm)))
    });
    if lo > hi {
        (lo, hi) = (60.0, 90.0);
    }
    lo = ((lo - 5.0) / 10.0).floor() * 10.0;
    hi = ((hi + 5.0) / 10.0).ceil() * 10.0;
    if hi - lo < 30.0 {
        hi = lo + 30.0;
    }
    (lo.max(0.0), hi)
}

/// The chart; redrawn on every reading and every tick of `now`.
#[component]
pub fn HeartChart(history: RwSignal<VecDeque<Sample>>, now: RwSignal<f64>) -> impl IntoView {
    let drawing = move || {
        let now = now.get();
        history.with(|h| {
            let (lo, hi) = bpm_range(h);
            let bpm = Strip {
                top: 6.0,
                height: 52.0,
                lo,
                hi,
            };
            let top_rmssd = h
                .iter()
                .filter_map(|s| s.rmssd_ms)
                .fold(0.0f64, |m, r| m.max(f64::from(r)));
            let hrv_hi = (top_rmssd * 1.15 / 20.0).ceil().max(4.0) * 20.0;
            let hrv = Strip {
                top: 70.0,
                height: 32.0,
                lo: 0.0,
                hi: hrv_hi,
            };
            let arousal = Strip {
                top: 114.0,
                height: 36.0,
                lo: -1.0,
                hi: 1.0,
            };
            let label = match h.back() {
                Some(s) => format!(
                    "Last two minutes: heart rate between {lo:.0} and {hi:.0} bpm, now {:.0}.",
                    s.bpm
                ),
                None => "No heart-rate readings yet.".to_string(),
            };
            let lines = (
                path(h, now, bpm, |s| Some(s.bpm)),
                path(h, now, hrv, |s| s.rmssd_ms),
                path(h, now, arousal, |s| s.arousal),
            );
            (label, lines, (lo, hi), hrv_hi, h.is_empty())
        })
    };
    let d = Memo::new(move |_| drawing());
    view! {
        <svg
            id="hr-chart"
            class="hr-chart"
            viewBox="0 0 300 166"
            role="img"
            aria-label=move || d.with(|x| x.0.clone())
        >
            <g class="grid">
                <rect x=X0 y="6" width=W height="52" />
                <rect x=X0 y="70" width=W height="32" />
                <rect x=X0 y="114" width=W height="36" />
                <line x1=X0 x2=X0 + W y1="132" y2="132" />
            </g>
            <g class="labels">
                <text x="4" y="20">"bpm"</text>
                <text class="range" x="4" y="33">{move || d.with(|x| format!("{:.0}\u{2013}{:.0}", x.2.0, x.2.1))}</text>
                <text x="4" y="84">"HRV ms"</text>
                <text class="range" x="4" y="97">{move || d.with(|x| format!("0\u{2013}{:.0}", x.3))}</text>
                <text x="4" y="128">"arousal"</text>
                <text class="range" x="4" y="141">"\u{2212}1\u{2013}+1"</text>
                <text class="range" x=X0 + W y="163" text-anchor="end">"now"</text>
                <text class="range" x=X0 y="163">"2 min ago"</text>
            </g>
            <path class="line bpm" d=move || d.with(|x| x.1.0.clone()) />
            <path class="line hrv" d=move || d.with(|x| x.1.1.clone()) />
            <path class="line arousal" d=move || d.with(|x| x.1.2.clone()) />
            <text class="empty" x=X0 + W / 2.0 y="86" text-anchor="middle" visibility=move || if d.with(|x| x.4) { "visible" } else { "hidden" }>
                "No readings yet"
            </text>
        </svg>
    }
}
