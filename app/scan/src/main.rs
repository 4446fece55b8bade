//! The scan Web Worker (`attune-scan`): holds the shards of a large catalogue and answers top-k
//! requests for a user folded in from their likes, off the page's thread. Messages are
//! `engine::scale::protocol`'s typed [`ScanRequest`] and [`ScanReply`] (plain objects, bytes as
//! `Uint8Array`); `app/scale/scale.js` is the page that drives it.
//!
//! Every shard is verified against the index (size, sha256) and decoded before it is ranked; one
//! that fails is reported and left out, and the others keep ranking.

use attune_engine::manifest::Manifest;
use attune_engine::scale::protocol::{ExactCheck, ScanReply, ScanRequest};
use attune_engine::scale::{ScaleIndex, Scanner, Shard};
use attune_engine::{ArtistIdx, CfModel, FoldIn};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, WorkerGlobalScope};

/// What the worker holds.
#[derive(Default)]
struct State {
    index: Option<ScaleIndex>,
    scanner: Option<Scanner>,
    cf: Option<CfModel>,
    /// Global item -> real artist.
    real_of: HashMap<u32, u32>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn post(reply: &ScanReply) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let value = serde_wasm_bindgen::to_value(reply)
        .unwrap_or_else(|e| JsValue::from_str(&format!("unserialisable reply: {e}")));
    let _ = scope.post_message(&value);
}

fn now_ms() -> f64 {
    js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .performance()
        .map_or(0.0, |p| p.now())
}

fn error(e: impl ToString) -> ScanReply {
    ScanReply::Error {
        error: e.to_string(),
    }
}

/// Serves one request.
fn handle(st: &mut State, req: ScanRequest) -> ScanReply {
    match req {
        ScanRequest::Index { text } => match ScaleIndex::parse(&text) {
            Ok(ix) => {
                let reply = ScanReply::IndexReady {
                    items: ix.items,
                    shards: ix.shards.len() as u32,
                    source: ix.source.clone(),
                };
                st.real_of = ix
                    .real
                    .iter()
                    .enumerate()
                    .map(|(a, &g)| (g, a as u32))
                    .collect();
                st.scanner = Some(Scanner::new(ix.dim as usize));
                st.index = Some(ix);
                reply
            }
            Err(e) => error(format!("index.json: {e}")),
        },
        ScanRequest::FoldIn { manifest, cf } => {
            let model = Manifest::parse(&manifest)
                .and_then(|m| m.verify("cf.bin", &cf))
                .and_then(|()| CfModel::decode(&cf));
            match (model, &st.index) {
                (Err(e), _) => error(e),
                (Ok(m), Some(ix)) if m.k() != ix.dim as usize || m.n_items() != ix.real.len() => {
                    error(format!(
                        "cf.bin has {} artists of {} factors; the catalogue index expects {} of {}",
                        m.n_items(),
                        m.k(),
                        ix.real.len(),
                        ix.dim
                    ))
                }
                (Ok(m), _) => {
                    st.cf = Some(m);
                    ScanReply::FoldInReady
                }
            }
        }
        ScanRequest::Shard { n, bytes, error } => {
            let (Some(ix), Some(sc)) = (&st.index, &mut st.scanner) else {
                return self::error("a shard arrived before the index");
            };
            let file = ix
                .shards
                .get(n as usize)
                .map_or_else(|| format!("shard {n}"), |s| s.file.clone());
            let added = match bytes {
                None => Err(error.unwrap_or_else(|| "not downloaded".into())),
                Some(b) => ix
                    .verify(n as usize, &b)
                    .and_then(|()| Shard::decode(&file, &b))
                    .and_then(|s| sc.add(s))
                    .map_err(|e| e.to_string()),
            };
            match added {
                Ok(()) => ScanReply::ShardReady {
                    n,
                    items_ready: sc.items() as u32,
                    shards_ready: sc.shards() as u32,
                },
                Err(error) => ScanReply::ShardError { n, file, error },
            }
        }
        ScanRequest::Query {
            id,
            likes,
            k,
            exact,
        } => {
            let Some(sc) = &st.scanner else {
                return error("no catalogue index yet");
            };
            let t0 = now_ms();
            let user = if likes.is_empty() {
                vec![0.0; sc.dim()]
            } else {
                let Some(cf) = &st.cf else {
                    return error("likes need the fold-in model (cf.bin), which has not arrived");
                };
                let likes: Vec<ArtistIdx> = likes.into_iter().map(ArtistIdx).collect();
                cf.fold_in(&likes, FoldIn::LeastSquares).factors
            };
            let t1 = now_ms();
            let hits = sc.top_k(&user, k as usize);
            let t2 = now_ms();
            let exact = exact.then(|| {
                let e = sc.exact_top_k(&user, k as usize);
                ExactCheck {
                    ms: now_ms() - t2,
                    recall: attune_engine::scale::scan::recall(&hits, &e),
                    hits: e,
                }
            });
            ScanReply::Top {
                id,
                real: hits
                    .iter()
                    .map(|h| st.real_of.get(&h.item).copied())
                    .collect(),
                hits,
                ms: t2 - t1,
                fold_ms: t1 - t0,
                exact,
                items: sc.items() as u32,
                shards: sc.shards() as u32,
            }
        }
    }
}

fn main() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let reply = match serde_wasm_bindgen::from_value::<ScanRequest>(ev.data()) {
            Ok(req) => STATE.with(|s| handle(&mut s.borrow_mut(), req)),
            Err(e) => error(format!("unreadable request: {e}")),
        };
        post(&reply);
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&ScanReply::Ready);
}
