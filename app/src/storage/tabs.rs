//! The other tabs: a `BroadcastChannel` that says "the store changed", and Web Locks that tell
//! which writers are still alive (a tab holds `attune.writer.<id>` for as long as it lives).
//!
//! Both are reached through `js_sys::Reflect` where web-sys gates them behind unstable APIs.

use attune_engine::journal::WriterId;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The channel every tab of the origin listens on.
pub const CHANNEL: &str = "attune.profile";
/// Prefix of the lock each live writer holds.
pub const LOCK_PREFIX: &str = "attune.writer.";

/// What a tab tells the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// New entries or a new snapshot are in the store: read it again.
    Changed,
    /// Everything was deleted: start fresh.
    Deleted,
}

impl Message {
    fn text(self) -> &'static str {
        match self {
            Message::Changed => "changed",
            Message::Deleted => "deleted",
        }
    }
}

/// This tab's end of the channel.
pub struct Channel(web_sys::BroadcastChannel);

impl Channel {
    /// Joins the channel; `on_message` runs for every other tab's message. `None` where the
    /// browser has no BroadcastChannel (the tab then sees other tabs' changes on reload only).
    pub fn join(on_message: impl Fn(Message) + 'static) -> Option<Channel> {
        let channel = web_sys::BroadcastChannel::new(CHANNEL).ok()?;
        let handler =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| match e
                .data()
                .as_string()
                .as_deref()
            {
                Some("changed") => on_message(Message::Changed),
                Some("deleted") => on_message(Message::Deleted),
                _ => {}
            });
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        handler.forget();
        Some(Channel(channel))
    }

    /// Tells the other tabs.
    pub fn post(&self, message: Message) {
        let _ = self.0.post_message(&JsValue::from_str(message.text()));
    }
}

fn locks() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    js_sys::Reflect::get(&navigator, &"locks".into())
        .ok()
        .filter(|l| !l.is_undefined() && !l.is_null())
}

/// Holds this writer's lock until the page goes away (the lock is released with the page).
pub fn hold_writer_lock(writer: WriterId) {
    let Some(locks) = locks() else {
        return;
    };
    let Ok(request) = js_sys::Reflect::get(&locks, &"request".into()) else {
        return;
    };
    let Ok(request) = request.dyn_into::<js_sys::Function>() else {
        return;
    };
    // The callback's promise never settles: the lock is held for the page's life.
    let forever = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(|_| {
        js_sys::Promise::new(&mut |_, _| {})
    });
    let name = JsValue::from_str(&format!("{LOCK_PREFIX}{}", writer.hex()));
    let _ = request.call2(&locks, &name, forever.as_ref().unchecked_ref());
    forever.forget();
}

/// The writers whose tabs are alive now, or `None` where the browser cannot tell.
pub async fn live_writers() -> Option<Vec<WriterId>> {
    let locks = locks()?;
    let query = js_sys::Reflect::get(&locks, &"query".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let promise = query
        .call0(&locks)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    let snapshot = JsFuture::from(promise).await.ok()?;
    let held = js_sys::Reflect::get(&snapshot, &"held".into()).ok()?;
    let held = js_sys::Array::from(&held);
    Some(
        held.iter()
            .filter_map(|l| js_sys::Reflect::get(&l, &"name".into()).ok()?.as_string())
            .filter_map(|n| WriterId::parse(n.strip_prefix(LOCK_PREFIX)?).ok())
            .collect(),
    )
}
