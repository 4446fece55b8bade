//! `#your-data`: everything Attune keeps on this device, with export (JSON), import (validated:
//! a bad file is rejected with a reason and nothing is overwritten) and "delete everything".

use crate::state::AppState;
use crate::storage;
use attune_engine::data_export::{export_json, import_json, MAX_IMPORT_BYTES};
use attune_engine::Profile;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What the last action did, shown in `#data-message[data-kind]`.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Done(String),
    Failed(String),
}

/// One line per kind of stored data, from the profile.
fn inventory(p: &Profile) -> Vec<(&'static str, String)> {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut rows = vec![
        (
            "likes",
            plural(p.likes.len(), "liked artist", "liked artists"),
        ),
        (
            "excluded",
            plural(
                p.excluded.len(),
                "artist marked not for me",
                "artists marked not for me",
            ),
        ),
        (
            "moods",
            plural(p.moods.len(), "mood you set", "moods you set"),
        ),
        (
            "mood-strength",
            format!(
                "mood strength {:.0}%",
                (p.mood_strength.get() * 100.0).round()
            ),
        ),
    ];
    rows.push((
        "history",
        format!(
            "{} in your listening history",
            plural(p.history.len(), "event", "events")
        ),
    ));
    rows.push((
        "heart-baseline",
        match p.heart_baseline.and_then(|b| b.resting_bpm()) {
            Some(bpm) => format!("resting heart rate learned from your strap: {bpm:.0} bpm"),
            None => "no resting heart rate learned".into(),
        },
    ));
    rows.push((
        "heart-calibration",
        plural(
            p.heart_calibration.pairs().len(),
            "mood paired with your heart's reading",
            "moods paired with your heart's reading",
        ),
    ));
    rows
}

/// Offers `text` as a file download (an object URL, revoked once the download has started).
fn download(name: &str, text: &str) -> Result<(), String> {
    let js = |e: JsValue| crate::assets::js_error_text(&e);
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(js)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js)?;
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(js)?
        .dyn_into()
        .map_err(|_| "no anchor element")?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    web_sys::window()
        .ok_or("no window")?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000)
        .map_err(js)?;
    Ok(())
}

/// Reads a picked file, refusing oversized ones before reading them.
async fn read_file(file: web_sys::File) -> Result<Vec<u8>, String> {
    let size = file.size();
    if size > MAX_IMPORT_BYTES as f64 {
        return Err(format!(
            "the file is {size:.0} bytes, more than an Attune export can be ({MAX_IMPORT_BYTES} bytes)"
        ));
    }
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| crate::assets::js_error_text(&e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The "Your data" card.
#[component]
pub fn YourData() -> impl IntoView {
    let state = AppState::get();
    let outcome = RwSignal::new(None::<Outcome>);
    let confirming = RwSignal::new(false);

    let rows = move || state.profile.with(inventory);
    // What is really in storage: the journal's summary as of the last save or read, and the
    // write-ahead copies in `localStorage`.
    let stored = move || {
        state.profile.track();
        let summary = state.stored.get();
        let mut parts = Vec::new();
        if summary.indexed {
            parts.push(format!(
                "IndexedDB \"{}\" (your profile: {} recent change{}{})",
                storage::DB_NAME,
                summary.entries,
                if summary.entries == 1 { "" } else { "s" },
                if summary.snapshot_chars > 0 {
                    format!(" and a summary of {} characters", summary.snapshot_chars)
                } else {
                    String::new()
                }
            ));
            if summary.legacy > 0 {
                parts.push(format!(
                    "{} profile{} moved from an earlier version",
                    summary.legacy,
                    if summary.legacy == 1 { "" } else { "s" }
                ));
            }
            if summary.aside > 0 {
                parts.push(format!(
                    "{} unreadable record{} set aside",
                    summary.aside,
                    if summary.aside == 1 { "" } else { "s" }
                ));
            }
        } else {
            parts.push(
                "nothing (this browser lets Attune keep data in this tab's memory only)".into(),
            );
        }
        if summary.unsaved > 0 {
            parts.push(format!(
                "{} change{} not saved yet",
                summary.unsaved,
                if summary.unsaved == 1 { "" } else { "s" }
            ));
        }
        match storage::local_items() {
            Ok(items) => parts.extend(items.iter().map(|(k, n)| format!("{k} ({n} characters)"))),
            Err(e) => parts.push(format!("local storage cannot be read: {e}")),
        }
        format!("Stored: {}.", parts.join(", "))
    };
    let fingerprint = move || state.profile.with(storage::fingerprint);
    let writer = move || {
        state.profile.track();
        state.writer()
    };

    let export = move |_| {
        let now = js_sys::Date::now();
        let text = state.profile.with_untracked(|p| export_json(p, now));
        let day = js_sys::Date::new(&JsValue::from_f64(now))
            .to_iso_string()
            .as_string()
            .unwrap_or_default();
        let name = format!("attune-profile-{}.json", day.get(..10).unwrap_or("export"));
        outcome.set(Some(match download(&name, &text) {
            Ok(()) => Outcome::Done(format!("Exported your data as {name}.")),
            Err(e) => Outcome::Failed(format!("Export failed: {e}")),
        }));
    };

    let import = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        // Cleared so that picking the same file again fires `change` again.
        input.set_value("");
        let name = file.name();
        spawn_local(async move {
            let result = match read_file(file).await {
                Ok(bytes) => match import_json(&bytes) {
                    Ok(p) => state.import_profile(p).await,
                    Err(e) => Err(e.to_string()),
                },
                Err(e) => Err(e),
            };
            outcome.set(Some(match result {
                Ok(()) => Outcome::Done(format!("Imported {name}: your data is now the file's.")),
                Err(e) => Outcome::Failed(format!(
                    "{name} was not imported: {e}. Nothing was changed."
                )),
            }));
        });
    };

    let delete = move |_| {
        confirming.set(false);
        spawn_local(async move {
            outcome.set(Some(match state.delete_everything().await {
                Ok(removed) => Outcome::Done(format!(
                    "Deleted everything Attune stored in this browser: {}.",
                    removed.join(", ")
                )),
                Err(e) => Outcome::Failed(format!("Could not delete everything: {e}")),
            }));
        });
    };

    view! {
        <section id="your-data" class="card your-data" aria-labelledby="data-heading">
            <h2 id="data-heading">"Your data"</h2>
            <p class="hint">
                "Everything Attune knows about you lives in this browser's storage (IndexedDB). Nothing is sent anywhere."
            </p>
            <ul id="data-inventory" class="data-inventory">
                {move || {
                    rows()
                        .into_iter()
                        .map(|(key, text)| view! { <li data-key=key>{text}</li> })
                        .collect_view()
                }}
            </ul>
            <p
                id="data-stored"
                class="hint"
                data-fingerprint=fingerprint
                data-writer=move || writer().0
                data-seq=move || writer().1.to_string()
            >
                {stored}
            </p>
            <div class="data-buttons">
                <button id="data-export" type="button" on:click=export>
                    "Export (JSON)"
                </button>
                <label class="button secondary" for="data-import">
                    "Import\u{2026}"
                </label>
                <input
                    id="data-import"
                    class="visually-hidden"
                    type="file"
                    accept="application/json,.json"
                    on:change=import
                />
                <button
                    id="data-delete"
                    class="danger"
                    type="button"
                    aria-expanded=move || confirming.get().to_string()
                    on:click=move |_| confirming.set(true)
                >
                    "Delete everything"
                </button>
            </div>
            <Show when=move || confirming.get()>
                <div id="data-delete-confirm" class="notice warn" role="alertdialog" aria-labelledby="data-delete-question">
                    <p id="data-delete-question">
                        "Delete your likes, moods and heart data from this browser? This cannot be undone (export first to keep a copy)."
                    </p>
                    <button id="data-delete-yes" class="danger" type="button" on:click=delete>
                        "Delete"
                    </button>
                    <button
                        id="data-delete-no"
                        class="secondary"
                        type="button"
                        on:click=move |_| confirming.set(false)
                    >
                        "Cancel"
                    </button>
                </div>
            </Show>
            <p
                id="data-message"
                role="status"
                data-kind=move || match outcome.get() {
                    Some(Outcome::Done(_)) => "done",
                    Some(Outcome::Failed(_)) => "error",
                    None => "",
                }
            >
                {move || match outcome.get() {
                    Some(Outcome::Done(m) | Outcome::Failed(m)) => m,
                    None => String::new(),
                }}
            </p>
        </section>
    }
}
