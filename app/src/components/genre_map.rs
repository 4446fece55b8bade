//! `#genre-map`: where the catalog's genres sit on the valence-arousal plane (engine
//! `genre_map`), with the user's current mood for reference and the numbers in a table.

use crate::components::plane::quadrants;
use crate::state::AppState;
use attune_engine::genre_map::{genre_map, GenrePoint};
use attune_engine::Recommender;
use leptos::prelude::*;
use std::sync::Arc;

/// Genres need this many artists with labelled tracks to be drawn.
const MIN_ARTISTS: usize = 15;
/// Side of the SVG's coordinate system.
const SIZE: f32 = 200.0;
/// The plot shows -EXTENT..EXTENT on both axes: genre means sit near the centre, so the full
/// [-1, 1] plane would pile their labels on top of each other.
const EXTENT: f32 = 0.7;

/// Plot coordinates, clamped to the plot (a mood beyond the extent sits on its edge).
fn to_svg(valence: f32, arousal: f32) -> (f32, f32) {
    let v = (valence / EXTENT).clamp(-1.0, 1.0);
    let a = (arousal / EXTENT).clamp(-1.0, 1.0);
    ((v + 1.0) / 2.0 * SIZE, (1.0 - a) / 2.0 * SIZE)
}

/// The figure and its table.
#[component]
pub fn GenreMap(rec: Arc<Recommender>) -> impl IntoView {
    let state = AppState::get();
    let points: Vec<GenrePoint> = genre_map(rec.catalog(), MIN_ARTISTS);
    let marks = points
        .iter()
        .map(|g| {
            let (x, y) = to_svg(g.valence, g.arousal);
            let r = 1.5 + (g.artists as f32).sqrt() / 4.0;
            // Labels go left of points on the right half, so they stay inside the plane.
            let (dx, anchor) = if x > SIZE * 0.7 {
                (-r - 1.5, "end")
            } else {
                (r + 1.5, "start")
            };
            view! {
                <g class="genre" data-genre=g.genre>
                    <circle cx=x cy=y r=r />
                    <text x=x + dx y=y + 2.0 text-anchor=anchor>{g.genre}</text>
                </g>
            }
        })
        .collect_view();
    let you = move || {
        state.mood.get().map(|m| {
            let (x, y) = to_svg(m.valence.get(), m.arousal.get());
            view! { <circle id="genre-you" class="you" cx=x cy=y r="4.5" /> }
        })
    };
    let rows = points
        .iter()
        .map(|g| {
            view! {
                <tr>
                    <th scope="row">{g.genre}</th>
                    <td>{format!("{:+.2}", g.valence)}</td>
                    <td>{format!("{:+.2}", g.arousal)}</td>
                    <td>{g.artists}</td>
                    <td>{g.tracks}</td>
                </tr>
            }
        })
        .collect_view();
    let summary = format!(
        "{} genres on the valence-arousal plane; each point is the mean mood label of its artists' tracks",
        points.len()
    );
    view! {
        <section id="genre-map" class="card genre-map" aria-labelledby="genre-heading">
            <h2 id="genre-heading">"How genres feel"</h2>
            <figure>
                <svg viewBox="0 0 200 200" role="img" aria-label=summary>
                    {quadrants()}
                    {marks}
                    {you}
                </svg>
                <figcaption class="hint">
                    "Left to right: unpleasant to pleasant; bottom to top: calm to energetic (zoomed to \u{2212}0.7 to +0.7 on both axes). Each point is a genre (by its artists' top Last.fm tag), placed at the average mood label of their tracks (Deezer mood dataset); bigger means more artists. The ring is your mood."
                </figcaption>
            </figure>
            <details>
                <summary>"The numbers"</summary>
                <table id="genre-table">
                    <thead>
                        <tr>
                            <th scope="col">"Genre"</th>
                            <th scope="col">"Valence"</th>
                            <th scope="col">"Arousal"</th>
                            <th scope="col">"Artists"</th>
                            <th scope="col">"Tracks"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </section>
    }
}
