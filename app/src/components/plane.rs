//! What every valence-arousal plane draws first: the four quadrants and the two axes, in a
//! 200 x 200 SVG coordinate system (valence left to right, arousal bottom to top).

use leptos::prelude::*;

/// The quadrant backgrounds (`.q1`..`.q4`, the palette's emotion colours) and the axes.
pub fn quadrants() -> impl IntoView {
    view! {
        <rect class="q q1" x="100" y="0" width="100" height="100" />
        <rect class="q q2" x="0" y="0" width="100" height="100" />
        <rect class="q q3" x="0" y="100" width="100" height="100" />
        <rect class="q q4" x="100" y="100" width="100" height="100" />
        <line class="axis" x1="100" y1="0" x2="100" y2="200" />
        <line class="axis" x1="0" y1="100" x2="200" y2="100" />
    }
}
