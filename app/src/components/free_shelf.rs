//! `#free-shelf`: "Free music for this mood": freely licensed excerpts shipped with the site
//! (`public/free/`, `engine::free_tracks`), placed on the plane by the music-emotion model and ranked by
//! closeness to the current state. Each plays here: on "Play" the file is downloaded, checked
//! against the manifest and handed to an `<audio>` element as an object URL; a file that fails
//! the check gets its own message and the rest still play. Audio downloads only when played
//! (the offline copy then keeps it), or all at once on "Keep for offline".

use crate::assets::load_verified;
use crate::ranking::Ranked;
use crate::state::AppState;
use attune_engine::free_tracks::{FreeShelf, FreeTrack, INDEX_FILE};
use attune_engine::Emotion;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;

/// How many tracks are shown.
pub const SHOWN: usize = 3;

/// One track's player.
#[derive(Debug, Clone, PartialEq)]
enum Player {
    Loading,
    Ready(String),
    Failed(String),
}

fn blob_url(bytes: &[u8]) -> Result<String, String> {
    let js = |e: wasm_bindgen::JsValue| crate::assets::js_error_text(&e);
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("audio/ogg");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(js)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(js)
}

/// The shelf, for the current state (or the stated mood).
#[component]
pub fn FreeShelfCard(ranked: Ranked) -> impl IntoView {
    let state = AppState::get();
    let shelf: RwSignal<Option<Result<FreeShelf, String>>> = RwSignal::new(None);
    let load_shelf = move || {
        shelf.set(None);
        spawn_local(async move {
            let r = match load_verified(INDEX_FILE).await {
                Ok(bytes) => String::from_utf8(bytes)
                    .map_err(|_| format!("{INDEX_FILE} is not UTF-8 text"))
                    .and_then(|t| FreeShelf::parse(&t).map_err(|e| e.to_string())),
                Err(e) => Err(e),
            };
            shelf.set(Some(r));
        });
    };
    load_shelf();
    let players: RwSignal<HashMap<String, Player>> = RwSignal::new(HashMap::new());
    let play = move |file: String| {
        if matches!(
            players.with_untracked(|p| p.get(&file).cloned()),
            Some(Player::Ready(_) | Player::Loading)
        ) {
            return;
        }
        players.update(|p| {
            p.insert(file.clone(), Player::Loading);
        });
        spawn_local(async move {
            let result = load_verified(&file).await.and_then(|b| blob_url(&b));
            players.update(|p| {
                p.insert(
                    file.clone(),
                    match result {
                        Ok(url) => Player::Ready(url),
                        Err(e) => Player::Failed(format!("This track could not be played: {e}.")),
                    },
                );
            });
        });
    };
    // "Keep for offline": every track through the offline copy, which keeps each verified one
    // (unplayed tracks are not part of the first download).
    let kept: RwSignal<Option<String>> = RwSignal::new(None);
    let keep_all = move |files: Vec<String>| {
        if !offline_copy_running() {
            kept.set(Some(
                "The offline copy is not installed yet (it follows the first visit's downloads):                  try again in a moment."
                    .into(),
            ));
            return;
        }
        kept.set(Some(format!("Keeping 0 of {} tracks\u{2026}", files.len())));
        spawn_local(async move {
            let mut failed = Vec::new();
            for (i, file) in files.iter().enumerate() {
                if let Err(e) = load_verified(file).await {
                    failed.push(e);
                }
                kept.set(Some(format!(
                    "Keeping {} of {} tracks\u{2026}",
                    i + 1,
                    files.len()
                )));
            }
            kept.set(Some(if failed.is_empty() {
                format!("All {} tracks are kept for offline use.", files.len())
            } else {
                format!(
                    "{} of {} tracks are kept for offline use; not downloaded: {}",
                    files.len() - failed.len(),
                    files.len(),
                    failed.join("; ")
                )
            }));
        });
    };
    let mood = move || ranked.current.get().emotion.or_else(|| state.mood.get());
    let row = move |t: FreeTrack| {
        let file = t.file.clone();
        let f2 = file.clone();
        let q = t.quadrant();
        let p = t.probabilities;
        let label = format!("Play {}", t.title);
        view! {
            <li class="free-track" data-file=file.clone() data-valence=t.valence.to_string()
                data-arousal=t.arousal.to_string() data-quadrant=q.name()>
                <span class="rec-name">{t.title.clone()}</span>
                <span class="free-meta">
                    {format!(
                        "{} · {} · the audio model hears {} (valence {:+.2}, arousal {:+.2}; {:.0}% sure)",
                        t.artist,
                        t.licence,
                        t.emotion().describe(),
                        t.valence,
                        t.arousal,
                        100.0 * p.iter().cloned().fold(0.0f32, f32::max)
                    )}
                </span>
                {move || match players.with(|m| m.get(&f2).cloned()) {
                    None => {
                        let f = f2.clone();
                        view! {
                            <button type="button" class="free-play" aria-label=label.clone()
                                on:click=move |_| play(f.clone())>"Play"</button>
                        }
                        .into_any()
                    }
                    Some(Player::Loading) => {
                        view! { <span class="free-status" role="status">"Loading…"</span> }.into_any()
                    }
                    Some(Player::Ready(url)) => {
                        view! { <audio class="free-audio" controls autoplay src=url></audio> }
                            .into_any()
                    }
                    Some(Player::Failed(why)) => {
                        let f = f2.clone();
                        view! {
                            <span class="free-error" role="alert">{why}</span>
                            <button type="button" class="free-retry"
                                on:click=move |_| play(f.clone())>"Retry"</button>
                        }
                        .into_any()
                    }
                }}
            </li>
        }
    };
    view! {
        <section class="card" id="free-shelf" aria-labelledby="free-heading"
            data-state=move || match shelf.get() {
                None => "loading",
                Some(Ok(_)) => "ready",
                Some(Err(_)) => "error",
            }>
            <h2 id="free-heading">"Free music for this mood"</h2>
            <p class="hint">
                "Freely licensed tracks that play right here. With no listening data behind them, \
                 their place on the mood plane is what Attune's audio model hears in them."
            </p>
            {move || match shelf.get() {
                None => view! { <p class="hint">"Loading the free tracks…"</p> }.into_any(),
                Some(Err(e)) => view! {
                    <p class="error" id="free-error" role="alert">
                        {format!("The free tracks could not be loaded: {e}.")}
                    </p>
                    <button type="button" id="free-retry" on:click=move |_| load_shelf()>"Retry"</button>
                }
                .into_any(),
                Some(Ok(s)) => {
                    let target = mood();
                    let picks: Vec<FreeTrack> = s
                        .for_mood(&target.unwrap_or(Emotion::va(0.0, 0.0)), SHOWN)
                        .into_iter()
                        .cloned()
                        .collect();
                    let (tv, ta) = target.map_or((String::new(), String::new()), |m| {
                        (m.valence.get().to_string(), m.arousal.get().to_string())
                    });
                    let note = match target {
                        Some(m) => format!("Closest to your {} state.", m.describe()),
                        None => "Place your mood on the plane to match them to it.".to_string(),
                    };
                    // Every other track, by title: each one is reachable, and listed once.
                    let mut rest: Vec<FreeTrack> = s
                        .tracks
                        .iter()
                        .filter(|t| picks.iter().all(|p| p.file != t.file))
                        .cloned()
                        .collect();
                    rest.sort_by(|a, b| a.title.cmp(&b.title));
                    let more = format!("{} more free tracks", rest.len());
                    let files: Vec<String> = s.tracks.iter().map(|t| t.file.clone()).collect();
                    let count = s.tracks.len();
                    view! {
                        <p class="hint" id="free-target">{note}</p>
                        <ol id="free-tracks" data-valence=tv data-arousal=ta>
                            {picks.into_iter().map(row).collect_view()}
                        </ol>
                        <details id="free-more">
                            <summary>{more}</summary>
                            <ul class="free-more">{rest.into_iter().map(row).collect_view()}</ul>
                        </details>
                        <p class="free-keep">
                            <button type="button" id="free-keep" class="secondary"
                                on:click=move |_| keep_all(files.clone())>
                                {format!("Keep all {count} tracks for offline")}
                            </button>
                            " Played tracks are kept for offline use; the others download only when played or kept here."
                        </p>
                        <p id="free-keep-status" role="status" hidden=move || kept.with(Option::is_none)>
                            {move || kept.get().unwrap_or_default()}
                        </p>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// Whether an offline copy (the service worker) controls this page, so that a download through
/// it is kept.
fn offline_copy_running() -> bool {
    let get = |v: &wasm_bindgen::JsValue, k: &str| js_sys::Reflect::get(v, &k.into()).ok();
    web_sys::window()
        .and_then(|w| get(&w.navigator().into(), "serviceWorker"))
        .filter(|c| !c.is_undefined())
        .and_then(|c| get(&c, "controller"))
        .is_some_and(|c| !c.is_null() && !c.is_undefined())
}
