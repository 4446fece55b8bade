//! `#analyse`: "Analyse my music". The user picks or drops audio files (or a folder); each is read
//! here, sent to the analysis worker (`attune-analyse`, decoding + the music-emotion model off the main
//! thread) one at a time, placed on the valence-arousal plane, playable from an object URL, and
//! kept in "My library" (name, size and emotion only). Nothing is uploaded.

use crate::components::plane::quadrants;
use crate::state::AppState;
use attune_engine::history::Item;
use attune_engine::profile::LibraryTrack;
use attune_engine::Emotion;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, MessageEvent, Worker};

/// Largest file accepted (it is read into memory whole before decoding).
pub const MAX_FILE_BYTES: f64 = 300.0 * 1024.0 * 1024.0;

/// The worker's loader script (Trunk names worker outputs after the binary).
pub const WORKER_URL: &str = "/attune-analyse_loader.js";

/// Where one file is.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Queued,
    Decoding,
    Analysing,
    Done {
        emotion: Emotion,
        quadrant: String,
        seconds: f32,
        /// Why the file was read as silence (calm and neutral, the model not run), if it was.
        silent: Option<String>,
    },
    Failed(String),
}

impl Stage {
    fn name(&self) -> &'static str {
        match self {
            Stage::Queued => "queued",
            Stage::Decoding => "decoding",
            Stage::Analysing => "analysing",
            Stage::Done { .. } => "done",
            Stage::Failed(_) => "error",
        }
    }
}

/// One picked file.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: u32,
    name: String,
    bytes: u64,
    /// Object URL for playback (this session only).
    url: Option<String>,
    stage: Stage,
    /// The picked file, kept while it can be sent again.
    file: Option<File>,
    /// It failed because the analysis engine or its model did not start: Retry sends it again.
    retry: bool,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
    static QUEUE: RefCell<VecDeque<(u32, File)>> = const { RefCell::new(VecDeque::new()) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
    static MODEL_READY: Cell<bool> = const { Cell::new(false) };
    /// The model is being fetched or loaded (a Retry does not ask twice).
    static MODEL_LOADING: Cell<bool> = const { Cell::new(false) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

fn set_stage(entries: RwSignal<Vec<Entry>>, id: u32, stage: Stage) {
    entries.update(|v| {
        if let Some(e) = v.iter_mut().find(|e| e.id == id) {
            e.stage = stage;
        }
    });
}

/// Fails every file still waiting (the worker or the model could not start).
fn fail_all(entries: RwSignal<Vec<Entry>>, why: &str) {
    QUEUE.with(|q| q.borrow_mut().clear());
    BUSY.with(|b| b.set(false));
    entries.update(|v| {
        for e in v.iter_mut() {
            if matches!(e.stage, Stage::Queued | Stage::Decoding | Stage::Analysing) {
                e.stage = Stage::Failed(why.to_string());
                e.retry = e.file.is_some();
            }
        }
    });
}

/// Sends the next queued file to the worker when it is idle and the model is loaded.
fn send_next(entries: RwSignal<Vec<Entry>>) {
    if BUSY.with(Cell::get) || !MODEL_READY.with(Cell::get) {
        return;
    }
    let Some((id, file)) = QUEUE.with(|q| q.borrow_mut().pop_front()) else {
        return;
    };
    BUSY.with(|b| b.set(true));
    spawn_local(async move {
        let read = JsFuture::from(file.array_buffer()).await;
        let buffer = match read {
            Ok(b) => b,
            Err(e) => {
                set_stage(
                    entries,
                    id,
                    Stage::Failed(format!(
                        "the file could not be read: {}",
                        crate::assets::js_error_text(&e)
                    )),
                );
                BUSY.with(|b| b.set(false));
                return send_next(entries);
            }
        };
        let msg = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(&msg, &JsValue::from_str(k), v);
        };
        set("kind", &"file".into());
        set("id", &JsValue::from(id));
        set("name", &JsValue::from_str(&file.name()));
        set("bytes", &buffer);
        let sent = WORKER.with(|w| {
            w.borrow()
                .as_ref()
                .map(|w| w.post_message_with_transfer(&msg, &js_sys::Array::of1(&buffer)))
        });
        if !matches!(sent, Some(Ok(()))) {
            fail_all(entries, "the analysis engine is not running");
        }
    });
}

/// Sends the worker the verified model (once it says it is ready: messages sent before its wasm
/// has started would be lost).
fn send_model(entries: RwSignal<Vec<Entry>>) {
    MODEL_LOADING.with(|l| l.set(true));
    spawn_local(async move {
        match crate::assets::load_verified(crate::assets::EMOTION_MODEL_FILE).await {
            Ok(bytes) => {
                let msg = js_sys::Object::new();
                let array = js_sys::Uint8Array::from(bytes.as_slice());
                let _ = js_sys::Reflect::set(&msg, &"kind".into(), &"model".into());
                let _ = js_sys::Reflect::set(&msg, &"bytes".into(), &array);
                WORKER.with(|w| {
                    if let Some(w) = w.borrow().as_ref() {
                        let _ = w.post_message(&msg);
                    }
                });
            }
            Err(e) => {
                MODEL_LOADING.with(|l| l.set(false));
                fail_all(entries, &e)
            }
        }
    });
}

/// Retry for a file that failed with the engine: queues it again and, unless the model is
/// loaded, starts the worker or asks for the model again.
fn retry_entry(entries: RwSignal<Vec<Entry>>, state: AppState, id: u32) {
    let Some(file) = entries.with_untracked(|v| {
        v.iter()
            .find(|e| e.id == id && e.retry)
            .and_then(|e| e.file.clone())
    }) else {
        return;
    };
    entries.update(|v| {
        if let Some(e) = v.iter_mut().find(|e| e.id == id) {
            e.stage = Stage::Queued;
            e.retry = false;
        }
    });
    QUEUE.with(|q| q.borrow_mut().push_back((id, file)));
    if WORKER.with(|w| w.borrow().is_none()) {
        ensure_worker(entries, state);
    } else if !MODEL_READY.with(Cell::get) && !MODEL_LOADING.with(Cell::get) {
        send_model(entries);
    }
    send_next(entries);
}

/// Handles one message from the worker.
fn on_message(entries: RwSignal<Vec<Entry>>, state: AppState, text: &str) {
    let Ok(m) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let id = m["id"].as_f64().unwrap_or(-1.0) as u32;
    let text_of = |k: &str| m[k].as_str().unwrap_or_default().to_string();
    match m["kind"].as_str().unwrap_or_default() {
        "ready" => send_model(entries),
        "model-ready" => {
            MODEL_LOADING.with(|l| l.set(false));
            MODEL_READY.with(|r| r.set(true));
            send_next(entries);
        }
        "model-error" => {
            MODEL_LOADING.with(|l| l.set(false));
            fail_all(
                entries,
                &format!("the emotion model could not load: {}", text_of("error")),
            )
        }
        "progress" => set_stage(
            entries,
            id,
            if m["stage"] == "decoding" {
                Stage::Decoding
            } else {
                Stage::Analysing
            },
        ),
        "result" => {
            let f = |k: &str| m[k].as_f64().unwrap_or(0.0) as f32;
            let emotion = Emotion::va(f("valence"), f("arousal"));
            let p = &m["probabilities"];
            let probabilities = [0, 1, 2, 3].map(|i| p[i].as_f64().unwrap_or(0.0) as f32);
            set_stage(
                entries,
                id,
                Stage::Done {
                    emotion,
                    quadrant: text_of("quadrant"),
                    seconds: f("seconds"),
                    silent: m["silent"]["reason"].as_str().map(str::to_string),
                },
            );
            if let Some(e) = entries.with_untracked(|v| v.iter().find(|e| e.id == id).cloned()) {
                state.add_to_library(LibraryTrack {
                    name: e.name,
                    bytes: e.bytes,
                    emotion,
                    probabilities,
                    seconds: f("seconds"),
                    added_ms: js_sys::Date::now(),
                });
            }
            BUSY.with(|b| b.set(false));
            send_next(entries);
        }
        "error" => {
            set_stage(entries, id, Stage::Failed(text_of("error")));
            BUSY.with(|b| b.set(false));
            send_next(entries);
        }
        _ => {}
    }
}

/// Starts the worker once; it asks for the model when it is up.
fn ensure_worker(entries: RwSignal<Vec<Entry>>, state: AppState) {
    if WORKER.with(|w| w.borrow().is_some()) {
        return;
    }
    let worker = match Worker::new(WORKER_URL) {
        Ok(w) => w,
        Err(e) => {
            return fail_all(
                entries,
                &format!(
                    "the analysis engine could not start: {}",
                    crate::assets::js_error_text(&e)
                ),
            )
        }
    };
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if let Some(text) = ev.data().as_string() {
            on_message(entries, state, &text);
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        fail_all(
            entries,
            "the analysis engine stopped (it may have run out of memory)",
        );
        if let Some(w) = WORKER.with(|w| w.borrow_mut().take()) {
            w.terminate();
        }
        MODEL_READY.with(|r| r.set(false));
        MODEL_LOADING.with(|l| l.set(false));
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
    WORKER.with(|w| *w.borrow_mut() = Some(worker));
}

/// Queues picked or dropped files.
fn add_files(files: Vec<File>, entries: RwSignal<Vec<Entry>>, state: AppState) {
    let mut any = false;
    for file in files {
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        let name = file.name();
        let lower = name.to_ascii_lowercase();
        let stage = if file.size() > MAX_FILE_BYTES {
            Stage::Failed(format!(
                "the file is too large ({:.0} MB; at most {:.0} MB)",
                file.size() / 1048576.0,
                MAX_FILE_BYTES / 1048576.0
            ))
        } else if lower.ends_with(".mid") || lower.ends_with(".midi") {
            Stage::Failed(
                "MIDI has no sound of its own: render it to audio first \
                 (model-export emotion predict renders and analyses MIDI)"
                    .into(),
            )
        } else {
            Stage::Queued
        };
        let url = matches!(stage, Stage::Queued)
            .then(|| web_sys::Url::create_object_url_with_blob(&file).ok())
            .flatten();
        if matches!(stage, Stage::Queued) {
            QUEUE.with(|q| q.borrow_mut().push_back((id, file.clone())));
            any = true;
        }
        entries.update(|v| {
            v.push(Entry {
                id,
                name,
                bytes: file.size() as u64,
                url,
                file: matches!(stage, Stage::Queued).then(|| file.clone()),
                stage,
                retry: false,
            })
        });
    }
    if any {
        ensure_worker(entries, state);
        send_next(entries);
    }
}

fn file_list(list: Option<web_sys::FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Plot coordinates on the 200 x 200 plane.
fn to_svg(e: &Emotion) -> (f32, f32) {
    (
        (e.valence.get() + 1.0) * 100.0,
        (1.0 - e.arousal.get()) * 100.0,
    )
}

/// The card.
#[component]
pub fn AnalyseMusic() -> impl IntoView {
    let state = AppState::get();
    let entries: RwSignal<Vec<Entry>> = RwSignal::new(Vec::new());
    let dragging = RwSignal::new(false);
    // `webkitdirectory` (pick a folder) has no typed attribute in Leptos: set it once mounted.
    let folder = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        add_files(file_list(input.files()), entries, state);
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        add_files(
            file_list(ev.data_transfer().and_then(|d| d.files())),
            entries,
            state,
        );
    };
    let progress = move || {
        entries.with(|v| {
            let done = v
                .iter()
                .filter(|e| matches!(e.stage, Stage::Done { .. } | Stage::Failed(_)))
                .count();
            (done, v.len())
        })
    };
    let rows = move || {
        entries
            .get()
            .into_iter()
            .rev()
            .map(|e| {
                let status = match &e.stage {
                    Stage::Queued => "waiting".to_string(),
                    Stage::Decoding => "decoding…".to_string(),
                    Stage::Analysing => "analysing…".to_string(),
                    Stage::Done {
                        emotion,
                        quadrant,
                        seconds,
                        ..
                    } => format!(
                        "{} ({quadrant}): valence {:+.2}, arousal {:+.2}, {seconds:.0} s analysed",
                        emotion.describe(),
                        emotion.valence.get(),
                        emotion.arousal.get()
                    ),
                    Stage::Failed(why) => why.clone(),
                };
                let silent = match &e.stage {
                    Stage::Done { silent, .. } => silent.clone(),
                    _ => None,
                };
                let is_silent = silent.is_some().then_some("true");
                let failed = matches!(e.stage, Stage::Failed(_));
                let (id, retry) = (e.id, failed && e.retry);
                let playable = matches!(e.stage, Stage::Done { .. });
                let played = Item::File {
                    name: e.name.clone(),
                    bytes: e.bytes,
                };
                view! {
                    <li data-file=e.name.clone() data-state=e.stage.name() data-silent=is_silent>
                        <span class="file-name">{e.name.clone()}</span>
                        <span class=if failed { "analyse-error" } else { "analyse-status" }
                            role=if failed { Some("alert") } else { None }>{status}</span>
                        {silent.map(|why| view! { <span class="analyse-silent">" · "{why}</span> })}
                        {retry.then(|| view! {
                            <button type="button" class="analyse-retry"
                                aria-label=format!("Retry {}", e.name)
                                on:click=move |_| retry_entry(entries, state, id)>"Retry"</button>
                        })}
                        {(playable && e.url.is_some()).then(|| view! {
                            <audio controls preload="none" src=e.url.clone()
                                aria-label=format!("Play {}", e.name)
                                on:play=move |_| state.played(played.clone())></audio>
                        })}
                    </li>
                }
            })
            .collect_view()
    };
    let marks = move || {
        state.profile.with(|p| {
            p.library
                .iter()
                .map(|t| {
                    let (x, y) = to_svg(&t.emotion);
                    view! {
                        <circle class="lib-mark" data-file=t.name.clone() cx=x cy=y r="4">
                            <title>{t.name.clone()}</title>
                        </circle>
                    }
                })
                .collect_view()
        })
    };
    let you = move || {
        state.mood.get().map(|m| {
            let (x, y) = to_svg(&m);
            view! { <circle class="you" cx=x cy=y r="5" /> }
        })
    };
    let library = move || {
        state.profile.with(|p| {
            p.library
                .iter()
                .rev()
                .map(|t| {
                    let (name, bytes) = (t.name.clone(), t.bytes);
                    view! {
                        <li data-file=t.name.clone()>
                            <span class="file-name">{t.name.clone()}</span>
                            " · "{t.emotion.describe()}
                            <button type="button" class="link library-remove"
                                aria-label=format!("Remove {} from My library", t.name)
                                on:click=move |_| state.remove_from_library(&name, bytes)>
                                "Remove"
                            </button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section id="analyse" class="card" aria-labelledby="analyse-title">
            <h2 id="analyse-title">"Analyse my music"</h2>
            <p class="hint">
                "Pick or drop audio files (MP3, Ogg, FLAC, WAV) or a folder. Each is decoded and \
                 analysed here, in your browser, by the same emotion model as the catalog's; \
                 nothing is uploaded. The middle 30 seconds are analysed."
            </p>
            <div id="analyse-drop" class="drop" class:dragging=move || dragging.get()
                on:dragover=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <input id="analyse-input" class="visually-hidden" type="file" multiple
                    accept="audio/*,.mp3,.ogg,.oga,.flac,.wav" on:change=on_pick />
                <label class="button" for="analyse-input">"Choose files"</label>
                <input id="analyse-folder" class="visually-hidden" type="file" multiple
                    node_ref=folder on:change=on_pick />
                <label class="button" for="analyse-folder">"Choose a folder"</label>
                <span>" or drop files here"</span>
            </div>
            <Show when=move || progress().1 != 0>
                <p class="analyse-progress-line">
                    <progress id="analyse-progress" aria-label="Analysis progress" max=move || progress().1 value=move || progress().0></progress>
                    <span id="analyse-count">
                        {move || format!("{} of {} done", progress().0, progress().1)}
                    </span>
                </p>
            </Show>
            <ul id="analyse-results" aria-live="polite">{rows}</ul>
            <h3>"My library"</h3>
            <svg id="analyse-plane" class="plane small" viewBox="0 0 200 200" role="img"
                aria-label="Your analysed files on the valence-arousal plane">
                {quadrants()}
                {marks}
                {you}
            </svg>
            <ul id="library">{library}</ul>
        </section>
    }
}
