//! `#likes`: the liked artists, each with an unlike button.

use crate::state::AppState;
use attune_engine::Recommender;
use leptos::prelude::*;
use std::sync::Arc;

/// The list of likes, newest first; ids no longer in the catalog are still shown so they can be removed.
#[component]
pub fn Likes(rec: Arc<Recommender>) -> impl IntoView {
    let state = AppState::get();
    let rows = move || {
        state.profile.with(|p| {
            p.likes
                .iter()
                .rev()
                .map(|&id| {
                    let name = rec
                        .catalog()
                        .artist_by_id(id)
                        .map(|a| rec.catalog().artist(a).name.clone())
                        .unwrap_or_else(|| format!("Unknown artist #{id}"));
                    (id, name)
                })
                .collect::<Vec<_>>()
        })
    };
    let empty = move || state.profile.with(|p| p.likes.is_empty());
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
                {move || {
                    rows()
                        .into_iter()
                        .map(|(id, name)| {
                            let label = format!("Remove {name} from your likes");
                            view! {
                                <li data-artist-id=id.to_string()>
                                    <span class="row-title">{name}</span>
                                    <button
                                        class="unlike"
                                        type="button"
                                        aria-label=label
                                        on:click=move |_| state.unlike(id)
                                    >
                                        "\u{d7}"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
