//! IndexedDB through web-sys, each request and transaction as a future.
//!
//! Why not `rexie`, `idb` or `indexed_db_futures`: the store needs five operations (open, read,
//! append, one read-modify-write transaction, delete the database) over string values, and the
//! read-modify-write must run inside a single transaction across awaits, which these crates
//! either do not expose or wrap in far more API than the app uses. The wrappers below are the
//! whole of it: a request becomes a promise that its `success`/`error` event settles.

use std::fmt;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

/// The database's name (one per origin).
pub const DB_NAME: &str = "attune";
/// Its schema version (object stores below).
pub const DB_VERSION: u32 = 1;
/// The snapshot (`snapshot`) and migrated legacy profiles (`legacy:...`).
pub const META: &str = "meta";
/// Journal entries, keyed by [`attune_engine::journal::EntryId::key`].
pub const LOG: &str = "log";
/// Records that could not be used, kept untouched with the reason.
pub const ASIDE: &str = "aside";
/// The key of the snapshot in [`META`].
pub const SNAPSHOT_KEY: &str = "snapshot";

/// Why IndexedDB refused: the DOMException's name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdbError {
    /// e.g. `QuotaExceededError`, `AbortError`, `InvalidStateError`.
    pub name: String,
    /// The browser's message.
    pub message: String,
}

impl IdbError {
    fn new(name: &str, message: impl Into<String>) -> IdbError {
        IdbError {
            name: name.to_string(),
            message: message.into(),
        }
    }

    fn from_js(v: &JsValue) -> IdbError {
        match v.dyn_ref::<web_sys::DomException>() {
            Some(e) => IdbError::new(&e.name(), e.message()),
            None => IdbError::new("Error", crate::assets::js_error_text(v)),
        }
    }

    /// Whether the browser refused because the origin's storage quota is used up.
    pub fn is_quota(&self) -> bool {
        self.name == "QuotaExceededError"
    }
}

impl fmt::Display for IdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_quota() {
            write!(f, "storage is full (quota exceeded)")
        } else if self.message.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}: {}", self.name, self.message)
        }
    }
}

fn js(e: JsValue) -> IdbError {
    IdbError::from_js(&e)
}

/// Waits for a request's result.
async fn request(req: &IdbRequest) -> Result<JsValue, IdbError> {
    let r = req.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = r.clone();
        let on_ok = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let bad = r.clone();
        let on_err = Closure::once_into_js(move |_: web_sys::Event| {
            let error = bad
                .error()
                .ok()
                .flatten()
                .map_or(JsValue::NULL, JsValue::from);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        r.set_onsuccess(Some(on_ok.unchecked_ref()));
        r.set_onerror(Some(on_err.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(js)
}

/// Waits for a transaction to commit; an abort (quota, a failed request) is the error.
async fn committed(tx: &IdbTransaction) -> Result<(), IdbError> {
    let t = tx.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let on_ok = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let failed = t.clone();
        let reject2 = reject.clone();
        let on_abort = Closure::once_into_js(move |_: web_sys::Event| {
            let error = failed.error().map_or_else(
                || JsValue::from_str("the transaction was aborted"),
                JsValue::from,
            );
            let _ = reject2.call1(&JsValue::NULL, &error);
        });
        let failed = t.clone();
        let on_err = Closure::once_into_js(move |_: web_sys::Event| {
            let error = failed.error().map_or_else(
                || JsValue::from_str("the transaction failed"),
                JsValue::from,
            );
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        t.set_oncomplete(Some(on_ok.unchecked_ref()));
        t.set_onabort(Some(on_abort.unchecked_ref()));
        t.set_onerror(Some(on_err.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ()).map_err(js)
}

/// Opens (creating or upgrading) the database. The connection closes itself when another tab
/// deletes the database ("Delete everything"), so that deletion is never blocked.
pub async fn open() -> Result<IdbDatabase, IdbError> {
    let window = web_sys::window().ok_or_else(|| IdbError::new("Unavailable", "no window"))?;
    let factory = window
        .indexed_db()
        .map_err(js)?
        .ok_or_else(|| IdbError::new("Unavailable", "this browser offers no IndexedDB here"))?;
    let req = factory.open_with_u32(DB_NAME, DB_VERSION).map_err(js)?;
    let upgrading = req.clone();
    let on_upgrade = Closure::once_into_js(move |_: web_sys::Event| {
        let Ok(db) = upgrading.result().and_then(|d| d.dyn_into::<IdbDatabase>()) else {
            return;
        };
        let names = db.object_store_names();
        for store in [META, LOG, ASIDE] {
            if !names.contains(store) {
                let _ = db.create_object_store(store);
            }
        }
    });
    req.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    let db: IdbDatabase = request(&req)
        .await?
        .dyn_into()
        .map_err(|_| IdbError::new("Error", "the database did not open"))?;
    let closing = db.clone();
    let on_version = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| closing.close());
    db.set_onversionchange(Some(on_version.as_ref().unchecked_ref()));
    on_version.forget();
    Ok(db)
}

/// Deletes the whole database.
pub async fn delete_database() -> Result<(), IdbError> {
    let window = web_sys::window().ok_or_else(|| IdbError::new("Unavailable", "no window"))?;
    let Some(factory) = window.indexed_db().map_err(js)? else {
        return Ok(());
    };
    let req = factory.delete_database(DB_NAME).map_err(js)?;
    request(&req).await.map(|_| ())
}

/// Everything stored, as text: the snapshot, the journal's records and the set-aside ones.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// The snapshot's text, if there is one (a value that is not text reads as `Err`).
    pub snapshot: Option<Result<String, String>>,
    /// The journal's records as (key, text), in key order; a value that is not text is `Err`.
    pub log: Vec<(String, Result<String, String>)>,
    /// How many records are set aside.
    pub aside: u32,
    /// Records in [`META`] other than the snapshot (migrated legacy profiles), as (key, text).
    pub meta: Vec<(String, String)>,
}

fn text_of(v: JsValue) -> Result<String, String> {
    v.as_string().ok_or_else(|| {
        let shown = js_sys::JSON::stringify(&v)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "a value that is not text".into());
        format!("not text: {}", shown.chars().take(200).collect::<String>())
    })
}

fn stores(tx: &IdbTransaction) -> Result<[IdbObjectStore; 3], IdbError> {
    Ok([
        tx.object_store(META).map_err(js)?,
        tx.object_store(LOG).map_err(js)?,
        tx.object_store(ASIDE).map_err(js)?,
    ])
}

fn transaction(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<IdbTransaction, IdbError> {
    let names = js_sys::Array::of3(&META.into(), &LOG.into(), &ASIDE.into());
    db.transaction_with_str_sequence_and_mode(&names, mode)
        .map_err(js)
}

async fn read_in(tx: &IdbTransaction) -> Result<Stored, IdbError> {
    let [meta, log, aside] = stores(tx)?;
    let snapshot = meta.get(&SNAPSHOT_KEY.into()).map_err(js)?;
    let meta_keys = meta.get_all_keys().map_err(js)?;
    let meta_values = meta.get_all().map_err(js)?;
    let keys = log.get_all_keys().map_err(js)?;
    let values = log.get_all().map_err(js)?;
    let aside = aside.count().map_err(js)?;
    let snapshot = request(&snapshot).await?;
    let meta_keys = js_sys::Array::from(&request(&meta_keys).await?);
    let meta_values = js_sys::Array::from(&request(&meta_values).await?);
    let keys = js_sys::Array::from(&request(&keys).await?);
    let values = js_sys::Array::from(&request(&values).await?);
    let aside = request(&aside).await?.as_f64().unwrap_or(0.0) as u32;
    let log = keys
        .iter()
        .zip(values.iter())
        .map(|(k, v)| {
            let key = k.as_string().unwrap_or_else(|| format!("{k:?}"));
            (key, text_of(v))
        })
        .collect();
    Ok(Stored {
        snapshot: (!snapshot.is_undefined()).then(|| text_of(snapshot)),
        log,
        aside,
        meta: meta_keys
            .iter()
            .zip(meta_values.iter())
            .filter_map(|(k, v)| Some((k.as_string()?, v.as_string().unwrap_or_default())))
            .filter(|(k, _)| k != SNAPSHOT_KEY)
            .collect(),
    })
}

/// Reads everything in one read-only transaction (a consistent view).
pub async fn read(db: &IdbDatabase) -> Result<Stored, IdbError> {
    let tx = transaction(db, IdbTransactionMode::Readonly)?;
    read_in(&tx).await
}

/// What a read-modify-write transaction writes.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// New snapshot text.
    pub snapshot: Option<String>,
    /// Journal records to write, as (key, text), in order.
    pub put_log: Vec<(String, String)>,
    /// Journal records to delete.
    pub delete_log: Vec<String>,
    /// Records to set aside, as (key, text): kept untouched, never applied.
    pub aside: Vec<(String, String)>,
    /// Other [`META`] records to write (legacy profiles), as (key, text).
    pub meta: Vec<(String, String)>,
}

impl Plan {
    fn is_empty(&self) -> bool {
        self.snapshot.is_none()
            && self.put_log.is_empty()
            && self.delete_log.is_empty()
            && self.aside.is_empty()
            && self.meta.is_empty()
    }
}

fn write_in(tx: &IdbTransaction, plan: &Plan) -> Result<(), IdbError> {
    let [meta, log, aside] = stores(tx)?;
    if let Some(s) = &plan.snapshot {
        meta.put_with_key(&s.into(), &SNAPSHOT_KEY.into())
            .map_err(js)?;
    }
    for (k, v) in &plan.meta {
        meta.put_with_key(&v.into(), &k.into()).map_err(js)?;
    }
    for (k, v) in &plan.put_log {
        log.put_with_key(&v.into(), &k.into()).map_err(js)?;
    }
    for k in &plan.delete_log {
        log.delete(&k.into()).map_err(js)?;
    }
    for (k, v) in &plan.aside {
        aside.put_with_key(&v.into(), &k.into()).map_err(js)?;
    }
    Ok(())
}

/// Writes journal records in one transaction and waits for it to commit (all or none).
pub async fn append(db: &IdbDatabase, records: &[(String, String)]) -> Result<(), IdbError> {
    let tx = transaction(db, IdbTransactionMode::Readwrite)?;
    write_in(
        &tx,
        &Plan {
            put_log: records.to_vec(),
            ..Plan::default()
        },
    )?;
    committed(&tx).await
}

/// Reads everything and writes what `decide` plans from it, in one read-write transaction: no
/// other tab's write lands between the read and the write. Returns what `decide` returned.
pub async fn update<T>(
    db: &IdbDatabase,
    decide: impl FnOnce(&Stored) -> (Plan, T),
) -> Result<T, IdbError> {
    let tx = transaction(db, IdbTransactionMode::Readwrite)?;
    let stored = read_in(&tx).await?;
    let (plan, out) = decide(&stored);
    if !plan.is_empty() {
        write_in(&tx, &plan)?;
    }
    committed(&tx).await?;
    Ok(out)
}
