//! The neural CF model's scores for the user's likes. The model (`models/ncf.onnx`, verified
//! against the manifest) runs in the same worker instance as the user-emotion model; the page
//! encodes the likes (`engine::ncf::user_input`), posts them whenever they change, and keeps the
//! latest reply with the likes it was for. Until a reply for the current likes arrives, or if
//! the model fails, the ranking uses the rest of the taste blend and `#recommendations[data-neural]` says so.

use crate::user_state::ModelStatus;
use attune_engine::ncf::user_input;
use attune_engine::ArtistIdx;
use leptos::prelude::*;
use std::sync::Arc;
use wasm_bindgen::JsValue;

/// Scores for one set of likes.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralScores {
    /// The likes (catalog indices, as ranked) these scores are for.
    pub likes: Vec<ArtistIdx>,
    /// One score per catalog artist.
    pub scores: Arc<Vec<f32>>,
}

/// Copyable handles (part of [`crate::user_state::UserState`]).
#[derive(Debug, Clone, Copy)]
pub struct NeuralTaste {
    /// Where the model stands.
    pub status: RwSignal<ModelStatus>,
    /// The latest scores.
    pub scores: RwSignal<Option<NeuralScores>>,
    sent: StoredValue<Option<(u32, Vec<ArtistIdx>)>>,
    next_id: StoredValue<u32>,
    loaded: StoredValue<bool>,
}

impl NeuralTaste {
    /// Nothing loaded yet.
    pub fn new() -> NeuralTaste {
        NeuralTaste {
            status: RwSignal::new(ModelStatus::Loading),
            scores: RwSignal::new(None),
            sent: StoredValue::new(None),
            next_id: StoredValue::new(1),
            loaded: StoredValue::new(false),
        }
    }

    /// The message that loads the model's verified bytes into the worker.
    pub fn load_message(bytes: &[u8], n_items: usize) -> JsValue {
        let msg = js_sys::Object::new();
        let array = js_sys::Uint8Array::from(bytes);
        let _ = js_sys::Reflect::set(&msg, &"kind".into(), &"ncf-model".into());
        let _ = js_sys::Reflect::set(&msg, &"bytes".into(), &array);
        let _ = js_sys::Reflect::set(&msg, &"items".into(), &JsValue::from(n_items as u32));
        msg.into()
    }

    /// The model could not be loaded or run: the blend without it from now on.
    pub fn fail(&self, why: String) {
        self.loaded.set_value(false);
        self.status.set(ModelStatus::Failed(why));
        self.scores.set(None);
        self.sent.set_value(None);
    }

    /// Posts the likes (a newer request supersedes an older); `post` sends to the worker.
    pub fn request(&self, likes: &[ArtistIdx], n_items: usize, post: impl Fn(&JsValue)) {
        if !self.loaded.get_value() {
            return;
        }
        if likes.is_empty() {
            self.sent.set_value(None);
            self.scores.set(None);
            return;
        }
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"kind".into(), &"ncf".into());
        let _ = js_sys::Reflect::set(&msg, &"id".into(), &JsValue::from(id));
        let input = user_input(likes, n_items);
        let _ = js_sys::Reflect::set(
            &msg,
            &"likes".into(),
            &js_sys::Float32Array::from(&input[..]),
        );
        self.sent.set_value(Some((id, likes.to_vec())));
        post(&msg.into());
    }

    /// Handles a worker reply of kind `ncf-*` (readiness shows in [`NeuralTaste::status`]).
    pub fn on_message(&self, kind: &str, m: &serde_json::Value) {
        let error = m["error"].as_str().unwrap_or_default();
        match kind {
            "ncf-model-ready" => {
                self.loaded.set_value(true);
                self.status.set(ModelStatus::Ready);
            }
            "ncf-model-error" => {
                self.fail(format!(
                    "The neural taste model could not be loaded: {error}."
                ));
            }
            "ncf" | "ncf-error" => {
                let id = m["id"].as_f64().unwrap_or(-1.0);
                let Some((_, likes)) = self
                    .sent
                    .with_value(|s| s.clone())
                    .filter(|(sid, _)| f64::from(*sid) == id)
                else {
                    return; // superseded
                };
                self.sent.set_value(None);
                if kind == "ncf-error" {
                    self.fail(format!("The neural taste model could not run: {error}."));
                    return;
                }
                let scores: Vec<f32> = m["scores"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_f64().unwrap_or(f64::NAN) as f32)
                            .collect()
                    })
                    .unwrap_or_default();
                if scores.iter().any(|s| !s.is_finite()) {
                    self.fail("The neural taste model gave unreadable scores.".into());
                    return;
                }
                self.scores.set(Some(NeuralScores {
                    likes,
                    scores: Arc::new(scores),
                }));
            }
            _ => {}
        }
    }

    /// The scores for exactly these likes, if the model has answered for them. Tracked.
    pub fn for_likes(&self, likes: &[ArtistIdx]) -> Option<Arc<Vec<f32>>> {
        self.scores.with(|s| {
            s.as_ref()
                .filter(|s| s.likes == likes)
                .map(|s| s.scores.clone())
        })
    }
}

impl Default for NeuralTaste {
    fn default() -> Self {
        NeuralTaste::new()
    }
}
