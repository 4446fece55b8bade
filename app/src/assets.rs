//! Downloads `public/manifest.json` and the files it lists, then hands them to the engine, which
//! verifies size and sha256 and decodes them into a [`Recommender`].

use attune_engine::assets::{load_recommender, REQUIRED_FILES};
use attune_engine::heart::parse_rr_text;
use attune_engine::{Manifest, Recommender};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestCache, RequestInit, Response};

/// Folder, relative to the page, that holds the manifest and the binary assets.
pub const ASSET_DIR: &str = "public";

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

/// Fetches and verifies everything the recommender needs. The error is a sentence for the user
/// that names the file at fault.
pub async fn load(mode: CacheMode) -> Result<Recommender, String> {
    let manifest = fetch_manifest(mode).await?;
    let mut files: Vec<(&str, Vec<u8>)> = Vec::with_capacity(REQUIRED_FILES.len());
    for name in REQUIRED_FILES {
        files.push((name, fetch_bytes(name, mode).await?));
    }
    load_recommender(&manifest, |name| {
        files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.as_slice())
    })
    .map_err(|e| e.to_string())
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

async fn fetch_manifest(mode: CacheMode) -> Result<Manifest, String> {
    let text = fetch_bytes("manifest.json", mode).await?;
    let text = String::from_utf8(text)
        .map_err(|_| "manifest.json is not valid: it is not UTF-8 text".to_string())?;
    Manifest::parse(&text).map_err(|e| e.to_string())
}

/// GETs `public/<name>` and returns its body; HTTP and network failures name the file.
async fn fetch_bytes(name: &str, mode: CacheMode) -> Result<Vec<u8>, String> {
    let failed = |why: String| format!("{name} could not be downloaded: {why}");
    let window = web_sys::window().ok_or_else(|| failed("no browser window".into()))?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_cache(match mode {
        CacheMode::Revalidate => RequestCache::NoCache,
        CacheMode::Bypass => RequestCache::NoStore,
    });
    let url = format!("{ASSET_DIR}/{name}");
    let request = web_sys::Request::new_with_str_and_init(&url, &init)
        .map_err(|e| failed(js_error_text(&e)))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| failed(js_error_text(&e)))?
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
    let buffer = response
        .array_buffer()
        .map_err(|e| failed(js_error_text(&e)))?;
    let buffer = JsFuture::from(buffer)
        .await
        .map_err(|e| failed(js_error_text(&e)))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
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
