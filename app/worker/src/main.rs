//! The analysis Web Worker (`attune-analyse`): decodes audio files and runs the music-emotion model
//! off the main thread, so the page stays responsive. Trunk builds it as a separate wasm binary,
//! loaded only when the user opens "Analyse my music".
//!
//! Protocol (structured-clone messages):
//! - in  `{kind: "model", bytes: Uint8Array}`: load the ONNX model (verified by the page).
//! - in  `{kind: "file", id, name, bytes: ArrayBuffer}`: analyse one file.
//! - out JSON strings: `{"kind":"model-ready"}`, `{"kind":"model-error","error"}`,
//!   `{"kind":"progress","id","stage"}` (`decoding`, `analysing`),
//!   `{"kind":"result","id","valence","arousal","quadrant","probabilities","seconds","duration"}`,
//!   `{"kind":"error","id","error"}`.

use attune_engine::audio::decode::{decode, MAX_DECODE_SECONDS};
use attune_engine::models::emotion::EmotionModel;
use serde_json::json;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

thread_local! {
    static MODEL: RefCell<Option<EmotionModel>> = const { RefCell::new(None) };
}

fn post(value: serde_json::Value) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = scope.post_message(&JsValue::from_str(&value.to_string()));
}

fn field(data: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(data, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn handle(data: JsValue) {
    match field(&data, "kind").as_string().as_deref() {
        Some("model") => {
            let bytes = js_sys::Uint8Array::new(&field(&data, "bytes")).to_vec();
            match EmotionModel::from_bytes(&bytes) {
                Ok(m) => {
                    MODEL.with(|slot| *slot.borrow_mut() = Some(m));
                    post(json!({"kind": "model-ready"}));
                }
                Err(e) => post(json!({"kind": "model-error", "error": e.to_string()})),
            }
        }
        Some("file") => {
            let id = field(&data, "id").as_f64().unwrap_or(-1.0);
            let name = field(&data, "name").as_string().unwrap_or_default();
            let bytes = js_sys::Uint8Array::new(&field(&data, "bytes")).to_vec();
            post(json!({"kind": "progress", "id": id, "stage": "decoding"}));
            let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            let decoded = match decode(bytes, ext.as_deref(), MAX_DECODE_SECONDS) {
                Ok(d) => d,
                Err(e) => return post(json!({"kind": "error", "id": id, "error": e.to_string()})),
            };
            post(json!({"kind": "progress", "id": id, "stage": "analysing"}));
            let result = MODEL.with(|slot| {
                slot.borrow()
                    .as_ref()
                    .ok_or_else(|| "the model is not loaded".to_string())
                    .and_then(|m| {
                        m.predict_samples(&decoded.samples, decoded.sample_rate)
                            .map_err(|e| e.to_string())
                    })
            });
            match result {
                Ok(p) => post(json!({
                    "kind": "result",
                    "id": id,
                    "valence": p.valence,
                    "arousal": p.arousal,
                    "quadrant": p.quadrant().name(),
                    "probabilities": p.probabilities,
                    "seconds": p.seconds,
                    "duration": decoded.seconds(),
                    "truncated": decoded.truncated,
                })),
                Err(e) => post(json!({"kind": "error", "id": id, "error": e})),
            }
        }
        _ => {}
    }
}

fn main() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| handle(ev.data()));
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(json!({"kind": "ready"}));
}
