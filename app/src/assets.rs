//! Downloads `public/manifest.json` and the files it lists, then hands them to the engine, which
//! verifies size and sha256 and decodes them into a [`Recommender`]: the catalogue first (the
//! first list needs nothing else), the taste models after it.

use attune_engine::assets::{add_taste, load_cold, FIRST_FILES, TASTE_FILES};
use attune_engine::heart::parse_rr_text;
use attune_engine::{Manifest, Recommender};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestCache, RequestInit, Response};

/// Folder, relative to the page, that holds the manifest and the binary assets.
pub const ASSET_DIR: &str = "public";

/// The script that registers the offline worker (`index.html` runs it; the app checks it ran).
pub const BOOT_FILE: &str = "boot.js";

/// The recorded RR series the simulated strap replays (listed in the manifest like every asset).
pub const DEMO_RR_FILE: &str = "demo/rr-sample.txt";

/// How hard to avoid the HTTP cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// Revalidate with the server (cheap 304s on a normal visit).
    Revalidate,
    /// Bypass the cache entirely (used by Retry after a failed or corrupted download).
    Bypass,
}

/// Fetches and verifies what the first list needs ([`FIRST_FILES`]: the catalogue). The error
/// is a sentence for the user that names the file at fault.
pub async fn load_first(mode: CacheMode) -> Result<Recommender, String> {
    let manifest = fetch_manifest(mode).await?;
    let files = fetch_all(&FIRST_FILES, mode).await?;
    load_cold(&manifest, |name| find(&files, name)).map_err(|e| e.to_string())
}

/// Fetches and verifies the taste models ([`TASTE_FILES`]) and adds them to `cold`'s catalogue.
pub async fn load_taste(cold: &Recommender, mode: CacheMode) -> Result<Recommender, String> {
    // The manifest the catalogue was checked against (kept by `load_first`).
    let manifest = fetch_manifest(CacheMode::Revalidate).await?;
    let files = fetch_all(&TASTE_FILES, mode).await?;
    add_taste(cold.clone(), &manifest, |name| find(&files, name)).map_err(|e| e.to_string())
}

async fn fetch_all<'a>(
    names: &[&'a str],
    mode: CacheMode,
) -> Result<Vec<(&'a str, Vec<u8>)>, String> {
    let mut files = Vec::with_capacity(names.len());
    for &name in names {
        files.push((name, fetch_bytes(name, mode).await?));
    }
    Ok(files)
}

fn find<'a>(files: &'a [(&str, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    files
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b.as_slice())
}

/// Fetches the demo RR series, checks it against the manifest and parses it (intervals in ms).
pub async fn load_demo_rr() -> Result<Vec<u16>, String> {
    let bytes = load_verified(DEMO_RR_FILE).await?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{DEMO_RR_FILE} is not valid: it is not UTF-8 text"))?;
    parse_rr_text(&text).map_err(|e| format!("{DEMO_RR_FILE} is not valid: {e}"))
}

/// The music-emotion model (ONNX), checked against the manifest.
pub const EMOTION_MODEL_FILE: &str = "models/emotion.onnx";

/// The user-emotion model (ONNX), checked against the manifest.
pub const USER_EMOTION_MODEL_FILE: &str = "models/user-emotion.onnx";

/// The neural CF model (ONNX), checked against the manifest.
pub const NCF_MODEL_FILE: &str = "models/ncf.onnx";

/// Fetches `public/<name>` (a model, the demo series) and checks its size and sha256 against the
/// manifest; a file the manifest does not list is not requested.
pub async fn load_verified(name: &str) -> Result<Vec<u8>, String> {
    let manifest = fetch_manifest(CacheMode::Revalidate).await?;
    manifest.entry(name).map_err(|e| e.to_string())?;
    let bytes = fetch_bytes(name, CacheMode::Revalidate).await?;
    manifest.verify(name, &bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

thread_local! {
    /// The manifest this page started with: every later file is checked against it (one
    /// download per page, and a file that fails is never blamed on the manifest).
    static MANIFEST: std::cell::RefCell<Option<std::rc::Rc<Manifest>>> =
        const { std::cell::RefCell::new(None) };
}

/// The page's manifest: fetched once, again only on a Retry of the start ([`CacheMode::Bypass`]).
async fn fetch_manifest(mode: CacheMode) -> Result<std::rc::Rc<Manifest>, String> {
    if mode == CacheMode::Revalidate {
        if let Some(m) = MANIFEST.with(|m| m.borrow().clone()) {
            return Ok(m);
        }
    }
    let text = fetch_bytes("manifest.json", mode).await?;
    let text = String::from_utf8(text)
        .map_err(|_| "manifest.json is not valid: it is not UTF-8 text".to_string())?;
    let manifest = std::rc::Rc::new(Manifest::parse(&text).map_err(|e| e.to_string())?);
    MANIFEST.with(|m| *m.borrow_mut() = Some(manifest.clone()));
    Ok(manifest)
}

/// How long a download may go without receiving any data before it counts as stalled.
pub const STALL_MS: i32 = 20_000;

/// The stall limit: [`STALL_MS`], or the page's `?stall-ms=N` (the fault tests shorten it).
pub fn stall_ms() -> i32 {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| {
            q.trim_start_matches('?')
                .split('&')
                .find_map(|kv| kv.strip_prefix("stall-ms=")?.parse().ok())
        })
        .filter(|&ms: &i32| ms > 0)
        .unwrap_or(STALL_MS)
}

/// Waits until the browser has painted the current view, so that a download started after it
/// never holds back the first list: the frame after next, or 250 ms in a hidden tab (which
/// draws no frames).
pub async fn next_frame() {
    let painted = js_sys::Promise::new(&mut |done, _| {
        let Some(w) = web_sys::window() else {
            let _ = done.call0(&JsValue::NULL);
            return;
        };
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&done, 250);
        let next = wasm_bindgen::closure::Closure::once_into_js(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.request_animation_frame(&done);
            }
        });
        let _ = w.request_animation_frame(next.unchecked_ref());
    });
    let _ = JsFuture::from(painted).await;
}

/// Tells `boot.js` that the page's own downloads are over or failed, so that the offline copy
/// may start without downloading any file a second time: `<html data-loaded>` and the
/// `attune-loaded` event on the window.
pub fn announce_settled() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(root) = window.document().and_then(|d| d.document_element()) {
        if root.has_attribute("data-loaded") {
            return;
        }
        let _ = root.set_attribute("data-loaded", "");
    }
    if let Ok(event) = web_sys::Event::new("attune-loaded") {
        let _ = window.dispatch_event(&event);
    }
}

/// Waits `ms` milliseconds.
pub async fn sleep_ms(ms: i32) {
    let timer = js_sys::Promise::new(&mut |done, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&done, ms);
        }
    });
    let _ = JsFuture::from(timer).await;
}

/// Resolves with `promise`'s outcome, or with `Ok(None)` when it has not settled after `ms`.
async fn within(promise: js_sys::Promise, ms: i32) -> Result<Option<JsValue>, JsValue> {
    let late: JsValue = js_sys::Object::new().into();
    let timer = js_sys::Promise::new(&mut |done, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_1(&done, ms, &late);
        }
    });
    let winner =
        JsFuture::from(js_sys::Promise::race(&js_sys::Array::of2(&promise, &timer))).await?;
    Ok((!js_sys::Object::is(&winner, &late)).then_some(winner))
}

/// GETs `public/<name>` and returns its body; HTTP and network failures name the file, and so
/// does a download that stops sending data for [`STALL_MS`], or is not answered within three
/// times that (it is then aborted).
async fn fetch_bytes(name: &str, mode: CacheMode) -> Result<Vec<u8>, String> {
    let failed = |why: String| format!("{name} could not be downloaded: {why}");
    let window = web_sys::window().ok_or_else(|| failed("no browser window".into()))?;
    let stall = stall_ms();
    let timed_out = |why: &str, ms: i32| {
        failed(format!(
            "{why} (nothing arrived for {} s)",
            f64::from(ms) / 1000.0
        ))
    };
    let abort = web_sys::AbortController::new().map_err(|e| failed(js_error_text(&e)))?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_signal(Some(&abort.signal()));
    init.set_cache(match mode {
        CacheMode::Revalidate => RequestCache::NoCache,
        CacheMode::Bypass => RequestCache::NoStore,
    });
    let url = format!("{ASSET_DIR}/{name}");
    let request = web_sys::Request::new_with_str_and_init(&url, &init)
        .map_err(|e| failed(js_error_text(&e)))?;
    // The answer may wait behind other downloads to the same server (the browser's connection
    // limit, the offline copy's downloads): three times as long.
    let Some(response) = within(window.fetch_with_request(&request), 3 * stall)
        .await
        .map_err(|e| failed(js_error_text(&e)))?
    else {
        abort.abort();
        return Err(timed_out("the server did not answer", 3 * stall));
    };
    let response: Response = response
        .dyn_into()
        .map_err(|_| failed("the browser returned no response".into()))?;
    if !response.ok() {
        let status = response.status();
        let why = if status == 404 {
            "it is missing on the server (HTTP 404)".to_string()
        } else {
            format!("HTTP {status} {}", response.status_text())
        };
        return Err(failed(why));
    }
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| failed("the browser gave no reader for the body".into()))?;
    let mut bytes = Vec::new();
    loop {
        let Some(chunk) = within(reader.read(), stall)
            .await
            .map_err(|e| failed(js_error_text(&e)))?
        else {
            abort.abort();
            return Err(timed_out("the server stopped sending it", stall));
        };
        let field = |k: &str| js_sys::Reflect::get(&chunk, &JsValue::from_str(k));
        if field("done").ok().and_then(|d| d.as_bool()) == Some(true) {
            return Ok(bytes);
        }
        let value = field("value").map_err(|e| failed(js_error_text(&e)))?;
        bytes.extend(js_sys::Uint8Array::new(&value).to_vec());
    }
}

/// A readable one-line description of a thrown JavaScript value (`name: message` when it has them).
pub fn js_error_text(value: &JsValue) -> String {
    let field = |key: &str| {
        js_sys::Reflect::get(value, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty())
    };
    match (field("name"), field("message")) {
        (Some(n), Some(m)) => format!("{n}: {m}"),
        (None, Some(m)) => m,
        (Some(n), None) => n,
        (None, None) => value
            .as_string()
            .unwrap_or_else(|| "unknown error".to_string()),
    }
}
