//! `#state-timeline`: the estimated state's valence and arousal over this session (with ± one
//! standard deviation), one point per estimate evenly spaced, and beside them the mean emotion of
//! the top ten shown at each estimate: how the recommendations follow the state (the "dynamic
//! response").

use crate::ranking::{mean_emotion, Ranked};
use crate::user_state::UserState;
use attune_engine::Emotion;
use leptos::prelude::*;
use std::collections::VecDeque;
use std::fmt::Write;

/// Most points kept (one per estimate; the oldest are dropped).
pub const MAX_POINTS: usize = 200;

/// Left edge of the plots (labels sit left of it) and their width, in viewBox units.
const X0: f64 = 50.0;
const W: f64 = 244.0;
/// Top and height of the valence and arousal strips.
const STRIPS: [(f64, f64); 2] = [(6.0, 60.0), (78.0, 60.0)];

/// One estimate on the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// When, ms since the epoch.
    pub at_ms: f64,
    /// The estimated state.
    pub state: Emotion,
    /// Its standard deviation (valence, arousal).
    pub sd: [f32; 2],
    /// The mean emotion of the top ten then.
    pub recs: Option<Emotion>,
}

/// Records one point per new estimate (for the session), with the list shown for it.
pub fn record_points(user: UserState, ranked: Ranked) -> RwSignal<VecDeque<Point>> {
    let points = RwSignal::new(VecDeque::new());
    Effect::new(move |last: Option<Option<u32>>| {
        let id = user.estimate.with(|e| e.as_ref().map(|e| e.id));
        if id.is_some() && id != last.flatten() {
            let point = user.estimate.with_untracked(|e| {
                e.as_ref().map(|e| Point {
                    at_ms: e.at_ms,
                    state: e.state.emotion,
                    sd: e.state.sd,
                    recs: ranked.fused.with_untracked(|f| mean_emotion(f)),
                })
            });
            if let Some(p) = point {
                points.update(|v: &mut VecDeque<Point>| {
                    v.push_back(p);
                    while v.len() > MAX_POINTS {
                        v.pop_front();
                    }
                });
            }
        }
        id
    });
    points
}

/// Point `i` of `n`, evenly spaced (a burst of events stays legible), the newest at the right.
fn x_of(i: usize, n: usize) -> f64 {
    if n <= 1 {
        X0 + W
    } else {
        X0 + W * i as f64 / (n - 1) as f64
    }
}

fn y_of(strip: usize, v: f32) -> f64 {
    let (top, h) = STRIPS[strip];
    top + h * (1.0 - (f64::from(v.clamp(-1.0, 1.0)) + 1.0) / 2.0)
}

/// A polyline through `values` (`M`/`L` commands), skipping missing ones.
fn line(xs: &[f64], values: impl Iterator<Item = Option<f64>>) -> String {
    let mut d = String::new();
    let mut open = false;
    for (x, y) in xs.iter().zip(values) {
        match y {
            Some(y) => {
                let _ = write!(d, "{}{x:.1} {y:.1}", if open { 'L' } else { 'M' });
                open = true;
            }
            None => open = false,
        }
    }
    d
}

/// The ± sd band of one axis: along the upper edge, back along the lower one.
fn band(xs: &[f64], points: &VecDeque<Point>, axis: usize) -> String {
    let value = |p: &Point| {
        let e = p.state;
        if axis == 0 {
            e.valence.get()
        } else {
            e.arousal.get()
        }
    };
    let mut d = String::new();
    if points.is_empty() {
        return d;
    }
    for (i, (x, p)) in xs.iter().zip(points).enumerate() {
        let y = y_of(axis, value(p) + p.sd[axis]);
        let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { 'M' } else { 'L' });
    }
    for (x, p) in xs.iter().zip(points).rev() {
        let y = y_of(axis, value(p) - p.sd[axis]);
        let _ = write!(d, "L{x:.1} {y:.1}");
    }
    d.push('Z');
    d
}

/// Minutes or hours between two times, for the axis label.
fn span_text(ms: f64) -> String {
    let min = (ms / 60_000.0).round();
    if min < 1.0 {
        "under a minute".into()
    } else if min < 90.0 {
        format!("{min:.0} min")
    } else {
        format!("{:.1} h", ms / 3.6e6)
    }
}

/// The chart.
#[component]
pub fn StateTimeline(points: RwSignal<VecDeque<Point>>) -> impl IntoView {
    let drawing = Memo::new(move |_| {
        points.with(|p| {
            let first = p.front().map_or(0.0, |x| x.at_ms);
            let last = p.back().map_or(0.0, |x| x.at_ms);
            let xs: Vec<f64> = (0..p.len()).map(|i| x_of(i, p.len())).collect();
            let axes = [0usize, 1].map(|axis| {
                let get = |e: &Emotion| {
                    if axis == 0 {
                        e.valence.get()
                    } else {
                        e.arousal.get()
                    }
                };
                (
                    band(&xs, p, axis),
                    line(&xs, p.iter().map(|x| Some(y_of(axis, get(&x.state))))),
                    line(&xs, p.iter().map(|x| x.recs.map(|r| y_of(axis, get(&r))))),
                )
            });
            let label = match p.back() {
                Some(x) => format!(
                    "{} estimates over {}: your state now valence {:+.2}, arousal {:+.2}; the top 10's mean {}.",
                    p.len(),
                    span_text(last - first),
                    x.state.valence.get(),
                    x.state.arousal.get(),
                    x.recs.map_or("unknown".to_string(), |r| format!(
                        "valence {:+.2}, arousal {:+.2}",
                        r.valence.get(),
                        r.arousal.get()
                    ))
                ),
                None => "No estimates yet.".to_string(),
            };
            let dots: Vec<(f64, f64, f64)> = xs
                .iter()
                .zip(p.iter())
                .map(|(x, q)| (*x, y_of(0, q.state.valence.get()), y_of(1, q.state.arousal.get())))
                .collect();
            (axes, label, dots, span_text(last - first), p.is_empty())
        })
    });
    let strip = move |axis: usize, name: &'static str| {
        let (top, h) = STRIPS[axis];
        view! {
            <rect x=X0 y=top width=W height=h />
            <line x1=X0 x2=X0 + W y1=top + h / 2.0 y2=top + h / 2.0 />
            <text class="axis-name" x="4" y=top + h / 2.0 + 3.0>{name}</text>
            <text class="range" x="4" y=top + 9.0>"+1"</text>
            <text class="range" x="4" y=top + h - 2.0>"\u{2212}1"</text>
        }
    };
    let paths = move |axis: usize| {
        view! {
            <path class="band" d=move || drawing.with(|d| d.0[axis].0.clone()) />
            <path class="line recs" d=move || drawing.with(|d| d.0[axis].2.clone()) />
            <path class="line est" d=move || drawing.with(|d| d.0[axis].1.clone()) />
        }
    };
    let dots = move || {
        drawing.with(|d| {
            d.2.iter()
                .map(|&(x, yv, ya)| {
                    view! {
                        <circle class="point" cx=x cy=yv r="1.8" />
                        <circle class="point" cx=x cy=ya r="1.8" />
                    }
                })
                .collect_view()
        })
    };
    view! {
        <figure class="state-timeline">
            <svg
                id="state-timeline"
                viewBox="0 0 300 156"
                role="img"
                data-points=move || points.with(|p| p.len().to_string())
                aria-label=move || drawing.with(|d| d.1.clone())
            >
                <g class="grid">{strip(0, "valence")}{strip(1, "arousal")}</g>
                {paths(0)}
                {paths(1)}
                {dots}
                <text class="range" x=X0 y="152">
                    {move || drawing.with(|d| if d.4 { String::new() } else { format!("first, {} ago", d.3) })}
                </text>
                <text class="range" x=X0 + W y="152" text-anchor="end">"now"</text>
                <text
                    class="range"
                    x=X0 + W / 2.0
                    y="75"
                    text-anchor="middle"
                    visibility=move || if drawing.with(|d| d.4) { "visible" } else { "hidden" }
                >
                    "No estimates yet"
                </text>
            </svg>
            <figcaption class="legend">
                <span class="key est" aria-hidden="true"></span>
                "your estimated state (band: \u{00b1} 1 SD)"
                <span class="key recs" aria-hidden="true"></span>
                "mean emotion of your top 10"
            </figcaption>
        </figure>
    }
}
