//! The profile on this device: an append-only journal in IndexedDB ([`idb`]), shared by every
//! tab ([`tabs`]), with a write-ahead copy in `localStorage` so that a change survives a reload
//! or a killed tab in the instant before IndexedDB commits it.
//!
//! The engine owns the entries, the merge and the compaction ([`attune_engine::journal`]); this
//! module only moves their JSON. How a change is kept:
//! 1. [`Store::record`] stamps it (this tab's writer id, next sequence number, Lamport clock) and
//!    writes every entry not yet confirmed to `attune.wal.<writer>` (synchronous).
//! 2. [`flush`] writes those entries to IndexedDB in one transaction; once it commits they leave
//!    the write-ahead copy and the other tabs are told to read the store again.
//! 3. A start-up replays the write-ahead copies of tabs that are gone (no Web Lock held), and a
//!    store of more than [`COMPACT_AFTER`] entries is folded into its snapshot in one transaction.
//!
//! Without IndexedDB (some private modes) the journal lives in memory, with a notice.

mod idb;
pub mod legacy;
mod tabs;

use attune_engine::journal::{
    Change, Entry, Journal, RecordError, Snapshot, Writer, WriterId, COMPACT_AFTER,
};
use attune_engine::Profile;
use idb::{IdbError, Plan, Stored};
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::IdbDatabase;

pub use idb::DB_NAME;
pub use tabs::Message;

/// Prefix of the write-ahead copies in `localStorage` (one per writer).
pub const WAL_PREFIX: &str = "attune.wal.";
/// Prefix of every `localStorage` key Attune writes.
pub const KEY_PREFIX: &str = "attune.";

/// Where the journal is kept.
#[derive(Debug, Clone)]
pub enum Backend {
    /// IndexedDB (the normal case).
    Indexed(IdbDatabase),
    /// This tab's memory only (the notice says why).
    Memory,
}

/// What is stored, for the "Your data" card.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Whether the journal is in IndexedDB (false: memory only).
    pub indexed: bool,
    /// Characters of the stored snapshot.
    pub snapshot_chars: usize,
    /// Journal entries not yet folded into it.
    pub entries: usize,
    /// Records set aside as unusable.
    pub aside: u32,
    /// Migrated legacy profiles kept in the store.
    pub legacy: usize,
    /// Changes not yet confirmed by IndexedDB.
    pub unsaved: usize,
}

/// The tab's store: the journal as this tab knows it, its writer, and what is not yet saved.
pub struct Store {
    backend: Backend,
    journal: Journal,
    writer: Writer,
    /// Entries not yet confirmed by IndexedDB, oldest first (mirrored in the write-ahead copy).
    unconfirmed: Vec<Entry>,
    channel: Option<tabs::Channel>,
    summary: Summary,
}

/// A shared handle (the store outlives every await of a flush).
pub type Shared = Rc<RefCell<Store>>;

/// What opening the store found.
pub struct Opened {
    /// The store.
    pub store: Shared,
    /// Messages for the user (migration, set-aside records, no IndexedDB).
    pub notices: Vec<String>,
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn random_writer() -> WriterId {
    let bits = |_| (js_sys::Math::random() * 4_294_967_296.0) as u64 & 0xffff_ffff;
    WriterId::new((bits(0) << 32) | bits(1))
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn aside_record(origin: &str, reason: &str, text: &str) -> String {
    serde_json::json!({ "from": origin, "reason": reason, "text": text, "at_ms": now() })
        .to_string()
}

/// Turns what is stored into a journal; plans to set aside whatever cannot be read.
fn plan_load(stored: &Stored) -> (Journal, Plan, Vec<String>) {
    let mut plan = Plan::default();
    let mut notices = Vec::new();
    let snapshot = match &stored.snapshot {
        None => Snapshot::default(),
        Some(text) => match text.clone().map_err(RecordError::Unreadable).and_then(|t| {
            Snapshot::from_json(&t)
                .map_err(|e| (e, t))
                .map_err(|(e, t)| RecordError::Unreadable(format!("{e} ({} characters)", t.len())))
        }) {
            Ok(s) => s,
            Err(why) => {
                let raw = text.clone().unwrap_or_else(|e| e);
                plan.aside.push((
                    format!("snapshot:{}", now()),
                    aside_record("snapshot", &why.to_string(), &raw),
                ));
                notices.push(format!(
                    "Your saved profile's summary could not be read ({why}). It was set aside \
                     unchanged, and Attune rebuilt what it could from the recorded changes."
                ));
                Snapshot::default()
            }
        },
    };
    let mut journal = Journal::new(snapshot);
    let mut bad = 0;
    for (key, text) in &stored.log {
        let entry = text
            .clone()
            .map_err(RecordError::Unreadable)
            .and_then(|t| Entry::from_json(&t, Some(key)));
        match entry {
            Ok(e) => {
                journal.insert(e);
            }
            Err(why) => {
                bad += 1;
                let raw = text.clone().unwrap_or_else(|e| e);
                plan.aside.push((
                    format!("log:{key}"),
                    aside_record("log", &why.to_string(), &raw),
                ));
                plan.delete_log.push(key.clone());
            }
        }
    }
    if bad > 0 {
        notices.push(format!(
            "{bad} stored record{} could not be read and {} set aside unchanged (Attune \
             ignores {}); everything else is here.",
            if bad == 1 { "" } else { "s" },
            if bad == 1 { "was" } else { "were" },
            if bad == 1 { "it" } else { "them" },
        ));
    }
    (journal, plan, notices)
}

/// Opens the store: IndexedDB (migrating the old `localStorage` profile, replaying the write-ahead
/// copies of closed tabs) or, where there is none, memory.
pub async fn open() -> Opened {
    let writer = Writer::new(random_writer());
    tabs::hold_writer_lock(writer.id());
    let mut notices = Vec::new();
    let (backend, journal, summary) = match idb::open().await {
        Ok(db) => match start(&db, writer.id(), &mut notices).await {
            Ok((journal, summary)) => (Backend::Indexed(db), journal, summary),
            Err(e) => memory(
                &mut notices,
                format!("its database could not be read ({e})"),
            ),
        },
        Err(e) => memory(&mut notices, e.to_string()),
    };
    let store = Rc::new(RefCell::new(Store {
        backend,
        journal,
        writer,
        unconfirmed: Vec::new(),
        channel: None,
        summary,
    }));
    Opened { store, notices }
}

/// The memory fallback, starting from the legacy profile if one is readable (it is left where
/// it is: nothing is moved out of `localStorage` into memory).
fn memory(notices: &mut Vec<String>, why: String) -> (Backend, Journal, Summary) {
    notices.push(format!(
        "This browser does not let Attune keep data here ({why}; private browsing can do this). \
         Your likes and moods live in this tab only and will be gone when it closes."
    ));
    let profile = legacy::read()
        .and_then(|(text, _)| Profile::from_json(&text).ok())
        .unwrap_or_default();
    (
        Backend::Memory,
        Journal::new(Snapshot::of(profile)),
        Summary::default(),
    )
}

async fn start(
    db: &IdbDatabase,
    me: WriterId,
    notices: &mut Vec<String>,
) -> Result<(Journal, Summary), IdbError> {
    if let Some(n) = legacy::migrate(db).await? {
        notices.push(n);
    }
    replay_closed_tabs(db, me).await;
    let pending = pending_elsewhere(me);
    let (mut journal, found) = idb::update(db, |stored| {
        let (journal, plan, found) = plan_load(stored);
        (plan, (journal, found))
    })
    .await?;
    notices.extend(found);
    for e in pending {
        journal.insert(e);
    }
    let stored = idb::read(db).await?;
    Ok((journal, summarise(&stored, 0)))
}

fn summarise(stored: &Stored, unsaved: usize) -> Summary {
    Summary {
        indexed: true,
        snapshot_chars: stored
            .snapshot
            .as_ref()
            .map_or(0, |s| s.as_ref().map_or(0, |t| t.chars().count())),
        entries: stored.log.len(),
        aside: stored.aside,
        legacy: stored.meta.len(),
        unsaved,
    }
}

/// The write-ahead copies in `localStorage` other than `me`'s.
fn other_copies(ls: &web_sys::Storage, me: WriterId) -> Vec<String> {
    let n = ls.length().unwrap_or(0);
    let mine = format!("{WAL_PREFIX}{}", me.hex());
    (0..n)
        .filter_map(|i| ls.key(i).ok().flatten())
        .filter(|k| k.starts_with(WAL_PREFIX) && *k != mine)
        .collect()
}

/// The entries in the other tabs' write-ahead copies, live tabs' included: a page that starts
/// while the page it replaces is still saving sees that page's last changes (and stamps its own
/// after them). Read *before* IndexedDB, so an entry that moves from the copy to the store in
/// between is seen in one or the other. Unreadable copies are left to [`replay_closed_tabs`].
fn pending_elsewhere(me: WriterId) -> Vec<Entry> {
    let Some(ls) = local_storage() else {
        return Vec::new();
    };
    other_copies(&ls, me)
        .iter()
        .filter_map(|key| ls.get_item(key).ok().flatten())
        .filter_map(|text| serde_json::from_str::<Vec<serde_json::Value>>(&text).ok())
        .flatten()
        .filter_map(|v| Entry::from_json(&v.to_string(), None).ok())
        .collect()
}

/// Writes the write-ahead copies of tabs that are gone into the store, then removes them;
/// returns how many were replayed.
async fn replay_closed_tabs(db: &IdbDatabase, me: WriterId) -> usize {
    let Some(ls) = local_storage() else {
        return 0;
    };
    let keys = other_copies(&ls, me);
    if keys.is_empty() {
        return 0;
    }
    let live = tabs::live_writers().await;
    let mut replayed = 0;
    for key in keys {
        let Ok(writer) = WriterId::parse(&key[WAL_PREFIX.len()..]) else {
            continue;
        };
        if writer == me || live.as_ref().is_some_and(|l| l.contains(&writer)) {
            continue;
        }
        let Ok(Some(text)) = ls.get_item(&key) else {
            continue;
        };
        let plan = match serde_json::from_str::<Vec<serde_json::Value>>(&text) {
            Ok(values) => {
                let mut plan = Plan::default();
                for v in values {
                    let t = v.to_string();
                    match Entry::from_json(&t, None) {
                        Ok(e) => plan.put_log.push((e.id.key(), e.to_json())),
                        Err(why) => plan.aside.push((
                            format!("wal:{key}:{}", now()),
                            aside_record("wal", &why.to_string(), &t),
                        )),
                    }
                }
                plan
            }
            Err(why) => Plan {
                aside: vec![(
                    format!("wal:{key}"),
                    aside_record("wal", &why.to_string(), &text),
                )],
                ..Plan::default()
            },
        };
        if idb::update(db, |_| (plan, ())).await.is_ok() {
            replayed += 1;
            // Only what was replayed is removed (a copy rewritten meanwhile stays for next time).
            if ls.get_item(&key).ok().flatten().as_deref() == Some(text.as_str()) {
                let _ = ls.remove_item(&key);
            }
        }
    }
    replayed
}

/// The store's database and this tab's writer, unless the journal is in memory.
fn indexed(store: &Shared) -> Option<(IdbDatabase, WriterId)> {
    let s = store.borrow();
    match &s.backend {
        Backend::Indexed(db) => Some((db.clone(), s.writer.id())),
        Backend::Memory => None,
    }
}

/// Replays the write-ahead copies of tabs closed since (a tab killed mid-write, a reload whose
/// lock outlived the new page's start); returns the profile if that changed it. The other tabs
/// are told.
pub async fn replay_closed(store: &Shared) -> Option<Profile> {
    let (db, me) = indexed(store)?;
    if replay_closed_tabs(&db, me).await == 0 {
        return None;
    }
    if let Some(c) = &store.borrow().channel {
        c.post(Message::Changed);
    }
    reload(store).await.ok().flatten()
}

impl Store {
    /// The profile as this tab knows it.
    pub fn profile(&self) -> Profile {
        self.journal.profile()
    }

    /// What is stored (for "Your data").
    pub fn summary(&self) -> Summary {
        self.summary.clone()
    }

    /// This tab's writer id and the last sequence number it wrote.
    pub fn writer(&self) -> (WriterId, u64) {
        (self.writer.id(), self.writer.last_seq())
    }

    /// Whether the journal is only in memory.
    pub fn in_memory(&self) -> bool {
        matches!(self.backend, Backend::Memory)
    }

    /// Records a change made at `at_ms` and keeps it in the write-ahead copy at once; [`flush`]
    /// then saves it.
    pub fn record(&mut self, at_ms: f64, change: Change) {
        let entry = self.writer.record(&self.journal, at_ms, change);
        self.journal.insert(entry.clone());
        if let Backend::Indexed(_) = self.backend {
            self.unconfirmed.push(entry);
            self.write_ahead();
        }
    }

    fn wal_key(&self) -> String {
        format!("{WAL_PREFIX}{}", self.writer.id().hex())
    }

    /// Mirrors the unconfirmed entries in `localStorage` (best effort: IndexedDB is the store).
    fn write_ahead(&self) {
        let Some(ls) = local_storage() else {
            return;
        };
        if self.unconfirmed.is_empty() {
            let _ = ls.remove_item(&self.wal_key());
        } else {
            let list: Vec<&Entry> = self.unconfirmed.iter().collect();
            let text = serde_json::to_string(&list).expect("entries serialise");
            let _ = ls.set_item(&self.wal_key(), &text);
        }
    }

    /// Replaces the journal with the store's, keeping this tab's unconfirmed entries and the
    /// other tabs' `pending` ones.
    fn adopt(&mut self, mut journal: Journal, stored: &Stored, pending: Vec<Entry>) {
        for e in self.unconfirmed.iter().cloned().chain(pending) {
            journal.insert(e);
        }
        self.journal = journal;
        self.summary = summarise(stored, self.unconfirmed.len());
    }
}

/// Joins the other tabs: `on_message` runs when one of them changed or deleted the store.
pub fn join_tabs(store: &Shared, on_message: impl Fn(Message) + 'static) {
    let channel = tabs::Channel::join(on_message);
    store.borrow_mut().channel = channel;
}

/// Saves every unconfirmed entry in one transaction; compacts a long journal. The error says
/// why nothing was saved (the entries stay in the write-ahead copy and the next flush retries).
pub async fn flush(store: &Shared) -> Result<(), String> {
    let (db, batch) = {
        let s = store.borrow();
        let Backend::Indexed(db) = &s.backend else {
            return Ok(());
        };
        if s.unconfirmed.is_empty() {
            return Ok(());
        }
        let batch: Vec<(String, String)> = s
            .unconfirmed
            .iter()
            .map(|e| (e.id.key(), e.to_json()))
            .collect();
        (db.clone(), batch)
    };
    let last = store.borrow().unconfirmed.last().map(|e| e.id.seq);
    let result = idb::append(&db, &batch).await;
    if let Err(e) = result {
        let mut s = store.borrow_mut();
        s.summary.unsaved = s.unconfirmed.len();
        let n = s.unconfirmed.len();
        return Err(format!(
            "Could not save your profile on this device: {e}. {n} change{} {} kept in this tab \
             and in a local copy, and will be saved once there is room.",
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" },
        ));
    }
    {
        let mut s = store.borrow_mut();
        let last = last.unwrap_or(0);
        s.unconfirmed.retain(|e| e.id.seq > last);
        s.write_ahead();
        s.summary.entries += batch.len();
        s.summary.unsaved = s.unconfirmed.len();
    }
    if store.borrow().journal.len() > COMPACT_AFTER {
        compact(store)
            .await
            .map_err(|e| format!("Could not tidy your saved profile: {e}. Nothing was lost."))?;
    }
    if let Some(c) = &store.borrow().channel {
        c.post(Message::Changed);
    }
    Ok(())
}

/// Folds the store's journal into its snapshot, in one transaction.
async fn compact(store: &Shared) -> Result<(), IdbError> {
    let Some((db, me)) = indexed(store) else {
        return Ok(());
    };
    let pending = pending_elsewhere(me);
    let journal = idb::update(&db, |stored| {
        let (mut journal, mut plan, _) = plan_load(stored);
        let folded = journal.compact();
        plan.snapshot = Some(journal.snapshot().to_json());
        plan.delete_log.extend(folded.iter().map(|id| id.key()));
        (plan, journal)
    })
    .await?;
    let stored = idb::read(&db).await?;
    store.borrow_mut().adopt(journal, &stored, pending);
    Ok(())
}

/// Reads the store again (another tab changed it); returns the profile if it changed.
pub async fn reload(store: &Shared) -> Result<Option<Profile>, String> {
    let Some((db, me)) = indexed(store) else {
        return Ok(None);
    };
    let pending = pending_elsewhere(me);
    let stored = idb::read(&db).await.map_err(|e| e.to_string())?;
    let (journal, _, _) = plan_load(&stored);
    let before = store.borrow().profile();
    store.borrow_mut().adopt(journal, &stored, pending);
    let after = store.borrow().profile();
    Ok((after != before).then_some(after))
}

/// Deletes everything Attune stored in this browser (IndexedDB, `localStorage`, the offline
/// copy's caches), tells the other tabs, and starts an empty store. Returns what was removed.
pub async fn delete_everything(store: &Shared) -> Result<Vec<String>, String> {
    let mut removed = Vec::new();
    if let Backend::Indexed(db) = store.borrow().backend.clone() {
        db.close();
    }
    idb::delete_database()
        .await
        .map_err(|e| format!("the database could not be deleted ({e})"))?;
    removed.push(format!("the IndexedDB database \"{}\"", idb::DB_NAME));
    if let Some(ls) = local_storage() {
        let n = ls.length().unwrap_or(0);
        let keys: Vec<String> = (0..n)
            .filter_map(|i| ls.key(i).ok().flatten())
            .filter(|k| k.starts_with(KEY_PREFIX))
            .collect();
        for k in keys {
            ls.remove_item(&k).map_err(|e| {
                format!("could not delete {k}: {}", crate::assets::js_error_text(&e))
            })?;
            removed.push(k);
        }
    }
    removed.extend(delete_caches().await?);
    start_empty(store).await;
    if let Some(c) = &store.borrow().channel {
        c.post(Message::Deleted);
    }
    Ok(removed)
}

/// Another tab deleted everything: forget what this tab held and reopen an empty store.
pub async fn deleted_elsewhere(store: &Shared) {
    start_empty(store).await;
}

/// Reopens the (deleted) store empty and forgets everything this tab held.
async fn start_empty(store: &Shared) {
    let backend = match idb::open().await {
        Ok(db) => Backend::Indexed(db),
        Err(_) => Backend::Memory,
    };
    let mut s = store.borrow_mut();
    s.backend = backend;
    s.journal = Journal::default();
    s.unconfirmed.clear();
    s.write_ahead();
    s.summary = Summary {
        indexed: !s.in_memory(),
        ..Summary::default()
    };
}

async fn delete_caches() -> Result<Vec<String>, String> {
    use wasm_bindgen_futures::JsFuture;
    let Some(window) = web_sys::window() else {
        return Ok(Vec::new());
    };
    let Ok(caches) = window.caches() else {
        return Ok(Vec::new());
    };
    let keys = JsFuture::from(caches.keys())
        .await
        .map_err(|e| crate::assets::js_error_text(&e))?;
    let mut removed = Vec::new();
    for key in js_sys::Array::from(&keys).iter() {
        let Some(name) = key.as_string().filter(|k| k.starts_with("attune")) else {
            continue;
        };
        let done = JsFuture::from(caches.delete(&name))
            .await
            .map_err(|e| crate::assets::js_error_text(&e))?;
        if done.as_bool() == Some(true) {
            removed.push(format!("the offline copy ({name})"));
        }
    }
    Ok(removed)
}

/// Attune's items in `localStorage` (write-ahead copies, an old profile not yet moved): (key,
/// size in UTF-16 code units as the browser counts them).
pub fn local_items() -> Result<Vec<(String, usize)>, String> {
    let js = |e: wasm_bindgen::JsValue| crate::assets::js_error_text(&e);
    let ls = local_storage().ok_or("this browser offers no local storage")?;
    let n = ls.length().map_err(js)?;
    let mut items = Vec::new();
    for i in 0..n {
        let Some(key) = ls.key(i).map_err(js)? else {
            continue;
        };
        if !key.starts_with(KEY_PREFIX) {
            continue;
        }
        let len = ls
            .get_item(&key)
            .map_err(js)?
            .map_or(0, |v| v.encode_utf16().count());
        items.push((key, len));
    }
    items.sort();
    Ok(items)
}

/// The fingerprint of a profile that the tests compare across tabs (`#data-stored`).
pub fn fingerprint(profile: &Profile) -> String {
    attune_engine::journal::fingerprint(profile)
}
