//! `#search` and `#search-results`: find artists and tracks, and like them.

use crate::state::AppState;
use attune_engine::catalog::SearchHit;
use attune_engine::Recommender;
use leptos::prelude::*;
use std::sync::Arc;

/// Most results shown.
const LIMIT: usize = 8;

/// One row of results: the artist that a like goes to, and how the hit reads.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    artist_id: u32,
    title: String,
    detail: String,
    like_label: String,
}

fn row(rec: &Recommender, hit: SearchHit) -> Row {
    let catalog = rec.catalog();
    match hit {
        SearchHit::Artist(a) => {
            let artist = catalog.artist(a);
            Row {
                artist_id: artist.id,
                title: artist.name.clone(),
                detail: if artist.tags.is_empty() {
                    "artist".to_string()
                } else {
                    format!("artist · {}", artist.tags.join(", "))
                },
                like_label: format!("Like {}", artist.name),
            }
        }
        SearchHit::Track(t) => {
            let track = catalog.track(t);
            let artist = catalog.artist(track.artist);
            Row {
                artist_id: artist.id,
                title: track.title.clone(),
                detail: format!("track by {}", artist.name),
                like_label: format!("Like {}, who plays {}", artist.name, track.title),
            }
        }
    }
}

/// The search box and its results; liking a track likes its artist.
#[component]
pub fn Search(rec: Arc<Recommender>) -> impl IntoView {
    let state = AppState::get();
    let query = RwSignal::new(String::new());
    let rows = Memo::new(move |_| {
        query.with(|q| {
            rec.catalog()
                .search(q, LIMIT)
                .into_iter()
                .map(|h| row(&rec, h))
                .collect::<Vec<_>>()
        })
    });
    let status = move || {
        let n = rows.with(Vec::len);
        query.with(|q| match (q.trim().is_empty(), n) {
            (true, _) => String::new(),
            (false, 0) => format!("Nothing matches \u{201c}{}\u{201d}.", q.trim()),
            (false, 1) => "1 result".to_string(),
            (false, n) => format!("{n} results"),
        })
    };
    view! {
        <section class="card search" aria-labelledby="search-heading">
            <h2 id="search-heading">
                <label for="search">"What do you like?"</label>
            </h2>
            <input
                id="search"
                type="search"
                placeholder="Search artists, tags or tracks"
                autocomplete="off"
                spellcheck="false"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
            />
            <p class="hint" role="status" aria-live="polite">{status}</p>
            <ul id="search-results" class="rows">
                {move || {
                    rows.get()
                        .into_iter()
                        .map(|r| {
                            let id = r.artist_id;
                            let liked = move || state.profile.with(|p| p.likes.contains(&id));
                            view! {
                                <li data-artist-id=id.to_string()>
                                    <span class="row-text">
                                        <span class="row-title">{r.title}</span>
                                        <span class="row-detail">{r.detail}</span>
                                    </span>
                                    <button
                                        class="like"
                                        type="button"
                                        aria-label={
                                            let label = r.like_label;
                                            // The name holds the visible word ("Like"/"Liked").
                                            move || {
                                                if liked() {
                                                    label.replacen("Like", "Liked", 1)
                                                } else {
                                                    label.clone()
                                                }
                                            }
                                        }
                                        aria-pressed=move || liked().to_string()
                                        on:click=move |_| state.like(id)
                                    >
                                        {move || if liked() { "\u{2665} Liked" } else { "\u{2661} Like" }}
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
