//! The user's emotional state as the user-emotion model estimates it from the listening history.
//! A second instance of the analysis worker (`attune-analyse`, the only wasm that links tract)
//! runs the model; this module fetches and verifies the model, encodes the current history
//! (`engine::state_input`) whenever it changes and once a minute (ages change), posts it, and
//! keeps the latest estimate. Replies to superseded requests are ignored. Any failure leaves the
//! estimate empty and says why: the ranking then follows the stated mood alone.

use crate::assets::{js_error_text, load_verified, NCF_MODEL_FILE, USER_EMOTION_MODEL_FILE};
use crate::components::analyse::WORKER_URL;
use crate::neural_taste::NeuralTaste;
use crate::state::AppState;
use attune_engine::state_input::state_input;
use attune_engine::user_emotion::{DayPeriod, Moment, StateEstimate};
use attune_engine::{Emotion, Recommender};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

/// How often the estimate is renewed without a new event (the events' ages change).
pub const RENEW_EVERY: Duration = Duration::from_secs(60);

/// Where the model stands (`#state[data-state]`).
#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    /// Fetching, verifying or loading the model.
    Loading,
    /// Loaded; estimates follow the history.
    Ready,
    /// It could not be loaded or run: the sentence says why.
    Failed(String),
}

/// One estimate and what it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The request's number (increasing within a session).
    pub id: u32,
    /// The moment it is for, ms since the epoch.
    pub at_ms: f64,
    /// The part of the day given to the model.
    pub period: Option<DayPeriod>,
    /// The heart arousal given to the model, if the user's own strap read well.
    pub heart: Option<f32>,
    /// The model's answer.
    pub state: StateEstimate,
    /// Sequence numbers of the history events the attention is over, oldest first.
    pub seqs: Vec<u64>,
}

/// A request sent and not yet answered.
#[derive(Debug, Clone)]
struct Sent {
    id: u32,
    moment: Moment,
    seqs: Vec<u64>,
}

/// Copyable handles to the estimate, provided by [`UserState::start`].
#[derive(Debug, Clone, Copy)]
pub struct UserState {
    /// Where the model stands.
    pub status: RwSignal<ModelStatus>,
    /// The latest estimate (none before the first, without a history, or after a failure).
    pub estimate: RwSignal<Option<Estimate>>,
    /// Whether a request is waiting for its reply.
    pub pending: RwSignal<bool>,
    /// Now, in ms since the epoch, advanced every [`RENEW_EVERY`] (the stated mood's age).
    pub now_ms: RwSignal<f64>,
    /// The neural CF model's scores for the likes (same worker).
    pub neural: NeuralTaste,
    worker: StoredValue<Option<Worker>, LocalStorage>,
    sent: StoredValue<Option<Sent>>,
    next_id: StoredValue<u32>,
    loaded: StoredValue<bool>,
    /// The catalogue's size (the NCF model's input width).
    n_items: usize,
}

/// `DayPeriod`'s name in `#state[data-period]`.
pub fn period_name(p: Option<DayPeriod>) -> &'static str {
    match p {
        Some(DayPeriod::Morning) => "morning",
        Some(DayPeriod::Afternoon) => "afternoon",
        Some(DayPeriod::Evening) => "evening",
        None => "none",
    }
}

impl UserState {
    /// Starts the worker once `go` holds (after the first list and the taste models), loads the
    /// model into it, and renews the estimate whenever the history (or My library, whose files'
    /// emotions it reads) changes and every minute.
    pub fn start(rec: Arc<Recommender>, go: Signal<bool>) -> UserState {
        let app = AppState::get();
        let n_items = rec.catalog().artists().len();
        let this = UserState {
            status: RwSignal::new(ModelStatus::Loading),
            estimate: RwSignal::new(None),
            pending: RwSignal::new(false),
            now_ms: RwSignal::new(js_sys::Date::now()),
            neural: NeuralTaste::new(),
            worker: StoredValue::new_local(None),
            sent: StoredValue::new(None),
            next_id: StoredValue::new(1),
            loaded: StoredValue::new(false),
            n_items,
        };
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            let now = go.get();
            if now {
                this.start_worker();
            }
            now
        });
        if let Ok(handle) =
            set_interval_with_handle(move || this.now_ms.set(js_sys::Date::now()), RENEW_EVERY)
        {
            on_cleanup(move || handle.clear());
        }
        let changes = Memo::new(move |_| {
            app.profile
                .with(|p| (p.history.len(), p.history.next_seq(), p.library.len()))
        });
        let r = rec.clone();
        Effect::new(move |_| {
            // Read, not only tracked: a memo computes (and follows its sources) when read.
            let _ = changes.get();
            this.now_ms.track();
            this.request(&r, app);
        });
        let likes = Memo::new(move |_| {
            app.profile.with(|p| {
                p.likes
                    .iter()
                    .filter_map(|&id| rec.catalog().artist_by_id(id))
                    .collect::<Vec<_>>()
            })
        });
        Effect::new(move |_| {
            this.neural.status.track(); // ready: send the likes
            likes.with(|l| this.neural.request(l, n_items, |m| this.post_neural(m)));
        });
        this
    }

    fn post_neural(&self, msg: &JsValue) {
        let sent = self
            .worker
            .with_value(|w| w.as_ref().map(|w| w.post_message(msg).is_ok()));
        if sent != Some(true) {
            self.neural
                .fail("The neural taste model is not running.".into());
        }
    }

    fn fail(&self, why: String) {
        self.status.set(ModelStatus::Failed(why));
        self.estimate.set(None);
        self.pending.set(false);
        self.sent.set_value(None);
    }

    /// Retry after the state model failed: loads it again (and starts a new worker if the
    /// old one stopped, which reloads the neural model too).
    pub fn retry_state_model(self) {
        self.status.set(ModelStatus::Loading);
        if self.worker.with_value(Option::is_none) {
            self.neural.status.set(ModelStatus::Loading);
            self.start_worker();
        } else {
            self.send_model();
        }
    }

    /// Retry after the neural taste model failed: loads it again (in a new worker if the old
    /// one stopped, which reloads the state model too).
    pub fn retry_neural_model(self) {
        self.neural.status.set(ModelStatus::Loading);
        if self.worker.with_value(Option::is_none) {
            self.status.set(ModelStatus::Loading);
            self.start_worker();
        } else {
            self.send_neural_model();
        }
    }

    fn start_worker(self) {
        let worker = match Worker::new(WORKER_URL) {
            Ok(w) => w,
            Err(e) => {
                return self.fail(format!(
                    "The state model could not start: {}.",
                    js_error_text(&e)
                ))
            }
        };
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                self.on_message(&text);
            }
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            self.loaded.set_value(false);
            // A Retry starts a new one.
            if let Some(w) = self.worker.try_update_value(Option::take).flatten() {
                w.terminate();
            }
            self.fail("The state model stopped (it may have run out of memory).".into());
            self.neural
                .fail("The neural taste model stopped with the worker.".into());
        });
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        onerror.forget();
        self.worker.set_value(Some(worker));
        on_cleanup(move || {
            if let Some(w) = self.worker.try_update_value(Option::take).flatten() {
                w.terminate();
            }
        });
    }

    /// Sends the verified model to the worker (once it says it is ready).
    fn send_model(self) {
        spawn_local(async move {
            match load_verified(USER_EMOTION_MODEL_FILE).await {
                Ok(bytes) => {
                    let msg = js_sys::Object::new();
                    let array = js_sys::Uint8Array::from(bytes.as_slice());
                    let _ = js_sys::Reflect::set(&msg, &"kind".into(), &"state-model".into());
                    let _ = js_sys::Reflect::set(&msg, &"bytes".into(), &array);
                    self.post(&msg);
                }
                Err(e) => self.fail(format!("The state model could not be loaded: {e}.")),
            }
        });
    }

    fn post(&self, msg: &JsValue) {
        let sent = self
            .worker
            .with_value(|w| w.as_ref().map(|w| w.post_message(msg).is_ok()));
        if sent != Some(true) {
            self.fail("The state model is not running.".into());
        }
    }

    /// Sends the verified NCF model to the worker.
    fn send_neural_model(self) {
        spawn_local(async move {
            match load_verified(NCF_MODEL_FILE).await {
                Ok(bytes) => self.post_neural(&NeuralTaste::load_message(&bytes, self.n_items)),
                Err(e) => self
                    .neural
                    .fail(format!("The neural taste model could not be loaded: {e}.")),
            }
        });
    }

    fn on_message(self, text: &str) {
        let Ok(m) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        let error = m["error"].as_str().unwrap_or_default();
        match m["kind"].as_str().unwrap_or_default() {
            "ready" => {
                self.send_model();
                self.send_neural_model();
            }
            kind if kind.starts_with("ncf") => self.neural.on_message(kind, &m),
            "state-model-ready" => {
                self.loaded.set_value(true);
                self.status.set(ModelStatus::Ready);
                // Renews through the effect (it reads the profile and the catalog).
                self.now_ms.set(js_sys::Date::now());
            }
            "state-model-error" => {
                self.fail(format!("The state model could not be loaded: {error}."))
            }
            kind @ ("estimate" | "estimate-error") => {
                let id = m["id"].as_f64().unwrap_or(-1.0);
                let Some(sent) = self
                    .sent
                    .with_value(|s| s.clone())
                    .filter(|s| f64::from(s.id) == id)
                else {
                    return; // superseded
                };
                self.sent.set_value(None);
                self.pending.set(false);
                if kind == "estimate-error" {
                    return self.fail(format!("The state model could not run: {error}."));
                }
                let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN) as f32;
                let attention: Vec<f32> = m["attention"]
                    .as_array()
                    .map(|a| a.iter().map(f).collect())
                    .unwrap_or_default();
                let state = StateEstimate {
                    emotion: Emotion::va(f(&m["valence"]), f(&m["arousal"])),
                    sd: [f(&m["sd"][0]), f(&m["sd"][1])],
                    attention,
                };
                self.status.set(ModelStatus::Ready);
                self.estimate.set(Some(Estimate {
                    id: sent.id,
                    at_ms: sent.moment.now_ms,
                    period: sent.moment.period,
                    heart: sent.moment.heart,
                    state,
                    seqs: sent.seqs,
                }));
            }
            _ => {}
        }
    }

    /// Posts the current history, if the model is loaded (a newer request supersedes an older).
    fn request(self, rec: &Recommender, app: AppState) {
        if !self.loaded.get_value() {
            return;
        }
        let last_at = app
            .profile
            .with_untracked(|p| p.history.events().last().map_or(f64::MIN, |e| e.at_ms));
        // Strictly after the newest event, so that it is read even within the same millisecond.
        let moment = Moment {
            now_ms: js_sys::Date::now().max(last_at + 1.0),
            heart: app.own_heart_arousal(),
            period: DayPeriod::from_hour(js_sys::Date::new_0().get_hours()),
        };
        let Some(read) = app
            .profile
            .with_untracked(|p| state_input(p, rec.catalog(), &moment))
        else {
            self.sent.set_value(None);
            self.pending.set(false);
            self.estimate.set(None);
            return;
        };
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let msg = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(&msg, &JsValue::from_str(k), v);
        };
        set("kind", &"estimate".into());
        set("id", &JsValue::from(id));
        set(
            "events",
            &js_sys::Float32Array::from(&read.input.events[..]),
        );
        set("mask", &js_sys::Float32Array::from(&read.input.mask[..]));
        set(
            "context",
            &js_sys::Float32Array::from(&read.input.context[..]),
        );
        set("len", &JsValue::from(read.input.len as u32));
        self.sent.set_value(Some(Sent {
            id,
            moment,
            seqs: read.seqs,
        }));
        self.pending.set(true);
        self.post(&msg);
    }
}
