//! The analysis Web Worker (`attune-analyse`): decodes audio files and runs the music-emotion model,
//! and runs the user-emotion model, off the main thread, so the page stays responsive. Trunk builds
//! it as a separate wasm binary (the only one that links tract); the page starts one instance for
//! "Analyse my music" and another for the user's emotional state.
//!
//! Protocol (structured-clone messages):
//! - in  `{kind: "model", bytes: Uint8Array}`: load the music-emotion ONNX model (verified by the
//!   page).
//! - in  `{kind: "file", id, name, bytes: ArrayBuffer}`: analyse one file.
//! - in  `{kind: "state-model", bytes: Uint8Array}`: load the user-emotion ONNX model.
//! - in  `{kind: "estimate", id, events: Float32Array, mask: Float32Array, context: Float32Array,
//!   len}`: one history encoded by `engine::user_emotion::encode` (the page encodes it).
//! - in  `{kind: "ncf-model", bytes: Uint8Array, items}`: load the neural CF ONNX model for a
//!   catalog of `items` artists.
//! - in  `{kind: "ncf", id, likes: Float32Array}`: the likes encoded by `engine::ncf::user_input`.
//! - out JSON strings: `{"kind":"ready"}` (send nothing before it), `{"kind":"model-ready"}`,
//!   `{"kind":"model-error","error"}`, `{"kind":"progress","id","stage"}` (`decoding`,
//!   `analysing`),
//!   `{"kind":"result","id","valence","arousal","quadrant","probabilities","seconds","duration",
//!   "truncated","silent"}` (`silent`: `null`, or `{"level_dbfs","threshold_dbfs","reason"}` when
//!   the excerpt was below `audio::SILENCE_DBFS` and read as calm and neutral without the model),
//!   `{"kind":"error","id","error"}`, `{"kind":"state-model-ready"}`,
//!   `{"kind":"state-model-error","error"}`,
//!   `{"kind":"estimate","id","valence","arousal","sd":[v, a],"attention":[..]}` (attention over
//!   the `len` events, oldest first), `{"kind":"estimate-error","id","error"}`,
//!   `{"kind":"ncf-model-ready"}`, `{"kind":"ncf-model-error","error"}`,
//!   `{"kind":"ncf","id","scores":[..]}` and `{"kind":"ncf-error","id","error"}`.

use attune_engine::audio::decode::{decode, MAX_DECODE_SECONDS};
use attune_engine::audio::SILENCE_DBFS;
use attune_engine::models::emotion::EmotionModel;
use attune_engine::models::ncf::NcfModel;
use attune_engine::models::user_emotion::UserEmotionModel;
use attune_engine::models::ModelError;
use attune_engine::user_emotion::ModelInput;
use serde_json::json;
use std::cell::RefCell;
use std::thread::LocalKey;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

thread_local! {
    static MODEL: RefCell<Option<EmotionModel>> = const { RefCell::new(None) };
    static STATE_MODEL: RefCell<Option<UserEmotionModel>> = const { RefCell::new(None) };
    static NCF_MODEL: RefCell<Option<NcfModel>> = const { RefCell::new(None) };
}

fn post(value: serde_json::Value) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = scope.post_message(&JsValue::from_str(&value.to_string()));
}

fn field(data: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(data, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Loads the model in the message's `bytes` into `slot`; replies `<kind>-ready` or `<kind>-error`.
fn load<M: 'static>(
    data: &JsValue,
    kind: &str,
    slot: &'static LocalKey<RefCell<Option<M>>>,
    from_bytes: impl FnOnce(&[u8]) -> Result<M, ModelError>,
) {
    let bytes = js_sys::Uint8Array::new(&field(data, "bytes")).to_vec();
    match from_bytes(&bytes) {
        Ok(m) => {
            slot.with(|s| *s.borrow_mut() = Some(m));
            post(json!({"kind": format!("{kind}-ready")}));
        }
        Err(e) => post(json!({"kind": format!("{kind}-error"), "error": e.to_string()})),
    }
}

fn floats(data: &JsValue, name: &str) -> Vec<f32> {
    js_sys::Float32Array::new(&field(data, name)).to_vec()
}

/// Runs the user-emotion model on one encoded history.
fn estimate(data: &JsValue) -> Result<serde_json::Value, String> {
    let input = ModelInput {
        events: floats(data, "events"),
        mask: floats(data, "mask"),
        context: floats(data, "context"),
        len: field(data, "len").as_f64().unwrap_or(0.0) as usize,
    };
    let e = STATE_MODEL.with(|slot| {
        slot.borrow()
            .as_ref()
            .ok_or_else(|| "the user-emotion model is not loaded".to_string())
            .and_then(|m| m.estimate(&input).map_err(|e| e.to_string()))
    })?;
    Ok(json!({
        "valence": e.emotion.valence.get(),
        "arousal": e.emotion.arousal.get(),
        "sd": e.sd,
        "attention": e.attention,
    }))
}

fn handle(data: JsValue) {
    match field(&data, "kind").as_string().as_deref() {
        Some("model") => load(&data, "model", &MODEL, EmotionModel::from_bytes),
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
                    "silent": p.silence.map(|s| json!({
                        "level_dbfs": s.level_dbfs,
                        "threshold_dbfs": SILENCE_DBFS,
                        "reason": s.reason(),
                    })),
                })),
                Err(e) => post(json!({"kind": "error", "id": id, "error": e})),
            }
        }
        Some("state-model") => load(
            &data,
            "state-model",
            &STATE_MODEL,
            UserEmotionModel::from_bytes,
        ),
        Some("ncf-model") => {
            let items = field(&data, "items").as_f64().unwrap_or(0.0) as usize;
            load(&data, "ncf-model", &NCF_MODEL, |b| {
                NcfModel::from_bytes(b, items)
            })
        }
        Some("ncf") => {
            let id = field(&data, "id").as_f64().unwrap_or(-1.0);
            let likes = floats(&data, "likes");
            let scores = NCF_MODEL.with(|slot| {
                slot.borrow()
                    .as_ref()
                    .ok_or_else(|| "the neural CF model is not loaded".to_string())
                    .and_then(|m| m.scores_for(&likes).map_err(|e| e.to_string()))
            });
            match scores {
                Ok(s) => post(json!({"kind": "ncf", "id": id, "scores": s})),
                Err(e) => post(json!({"kind": "ncf-error", "id": id, "error": e})),
            }
        }
        Some("estimate") => {
            let id = field(&data, "id").as_f64().unwrap_or(-1.0);
            match estimate(&data) {
                Ok(mut reply) => {
                    reply["kind"] = "estimate".into();
                    reply["id"] = id.into();
                    post(reply);
                }
                Err(e) => post(json!({"kind": "estimate-error", "id": id, "error": e})),
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
