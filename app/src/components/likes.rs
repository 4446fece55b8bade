//! `#likes`: the liked artists, each with an unlike button; `#excluded`: the artists marked
//! "Not for me", each with a button to let it back.

use crate::state::AppState;
use attune_engine::Recommender;
use leptos::prelude::*;
use std::sync::Arc;

/// The one button of an artist chip.
struct ChipButton {
    class: &'static str,
    glyph: &'static str,
    /// The accessible label, before and after the artist's name.
    label: (&'static str, &'static str),
}

impl ChipButton {
    const UNLIKE: ChipButton = ChipButton {
        class: "unlike",
        glyph: "\u{d7}",
        label: ("Remove ", " from your likes"),
    };
    const INCLUDE: ChipButton = ChipButton {
        class: "unlike include",
        glyph: "\u{21ba}",
        label: ("Recommend ", " again"),
    };
}

/// One `<li>` per (id, name), each with `button` calling `action(id)`.
fn chips(
    rows: Vec<(u32, String)>,
    button: ChipButton,
    action: impl Fn(u32) + Copy + 'static,
) -> impl IntoView {
    rows.into_iter()
        .map(|(id, name)| {
            let label = format!("{}{name}{}", button.label.0, button.label.1);
            view! {
                <li data-artist-id=id.to_string()>
                    <span class="row-title">{name}</span>
                    <button
                        class=button.class
                        type="button"
                        aria-label=label
                        on:click=move |_| action(id)
                    >
                        {button.glyph}
                    </button>
                </li>
            }
        })
        .collect_view()
}

/// The list of likes, newest first; ids no longer in the catalog are still shown so they can be removed.
#[component]
pub fn Likes(rec: Arc<Recommender>) -> impl IntoView {
    let state = AppState::get();
    // Copyable handle, so the closures below can be used inside `Show`.
    let names = StoredValue::new(rec);
    let name_of = move |id: u32| {
        names.with_value(|r| {
            r.catalog()
                .artist_by_id(id)
                .map(|a| r.catalog().artist(a).name.clone())
                .unwrap_or_else(|| format!("Unknown artist #{id}"))
        })
    };
    let named = move |ids: &[u32]| {
        ids.iter()
            .rev()
            .map(|&id| (id, name_of(id)))
            .collect::<Vec<_>>()
    };
    let rows = move || state.profile.with(|p| named(&p.likes));
    let excluded = move || state.profile.with(|p| named(&p.excluded));
    let empty = move || state.profile.with(|p| p.likes.is_empty());
    let any_excluded = move || state.profile.with(|p| !p.excluded.is_empty());
    view! {
        <section class="card likes" aria-labelledby="likes-heading">
            <h2 id="likes-heading">
                "Your likes "
                <span class="count">{move || state.profile.with(|p| p.likes.len())}</span>
            </h2>
            <Show when=empty>
                <p class="hint">"Nothing yet. Search above and press Like on a few artists or tracks."</p>
            </Show>
            <ul id="likes" class="rows chips">
                {move || chips(rows(), ChipButton::UNLIKE, move |id| state.unlike(id))}
            </ul>
            <Show when=any_excluded>
                <div class="excluded-list">
                    <h3 id="excluded-heading">"Not for me"</h3>
                    <ul id="excluded" class="rows chips" aria-labelledby="excluded-heading">
                        {move || chips(excluded(), ChipButton::INCLUDE, move |id| state.include(id))}
                    </ul>
                </div>
            </Show>
        </section>
    }
}
