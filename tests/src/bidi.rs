//! A small WebDriver BiDi client over chromedriver's WebSocket (`webSocketUrl: true`).
//!
//! One thread owns the socket: it sends queued commands, files replies by id and keeps
//! events in order. A test can install an event hook that runs on that thread and answers
//! events at once with more commands (the emulated Bluetooth peripheral does that), so
//! the browser never waits on whatever the test is busy with.

use std::collections::{HashMap, VecDeque};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Called on the socket thread for every event; returns commands to send right away
/// (`(method, params)`, their replies are logged, not returned).
pub type EventHook = Box<dyn FnMut(&Value) -> Vec<(String, Value)> + Send>;

#[derive(Default)]
struct Shared {
    replies: Mutex<HashMap<u64, Value>>,
    events: Mutex<VecDeque<Value>>,
    /// Every message in both directions, for the failure log.
    log: Mutex<Vec<String>>,
    hook: Mutex<Option<EventHook>>,
    /// Error replies to commands the hook sent.
    hook_errors: Mutex<Vec<String>>,
    closed: AtomicBool,
}

/// A BiDi session's WebSocket.
pub struct Bidi {
    out: Sender<String>,
    shared: Arc<Shared>,
    next_id: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

/// Ids of commands sent by the hook start here, apart from the test's own.
const HOOK_IDS: u64 = 1 << 40;

impl Bidi {
    /// Connects to `ws_url` (from the session's `webSocketUrl` capability).
    pub fn connect(ws_url: &str) -> Result<Self> {
        let (socket, _) =
            tungstenite::connect(ws_url).with_context(|| format!("connecting to {ws_url}"))?;
        if let MaybeTlsStream::Plain(s) = socket.get_ref() {
            s.set_read_timeout(Some(Duration::from_millis(5)))?;
        }
        let shared = Arc::new(Shared::default());
        let (out, rx) = mpsc::channel();
        let sh = shared.clone();
        let thread = std::thread::spawn(move || pump(socket, &rx, &sh));
        Ok(Self {
            out,
            shared,
            next_id: Arc::new(AtomicU64::new(1)),
            thread: Some(thread),
        })
    }

    /// Installs (or replaces) the hook that answers events on the socket thread.
    pub fn set_hook(&self, hook: EventHook) {
        *lock(&self.shared.hook) = Some(hook);
    }

    /// Sends `method` and waits (up to [`crate::wait_cap`]) for its result.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.out
            .send(msg)
            .map_err(|_| anyhow::anyhow!("the BiDi socket is closed"))?;
        let start = Instant::now();
        loop {
            if let Some(reply) = lock(&self.shared.replies).remove(&id) {
                if reply["type"] == "error" {
                    bail!(
                        "BiDi {method} failed: {} {}",
                        reply["error"].as_str().unwrap_or("?"),
                        reply["message"].as_str().unwrap_or("")
                    );
                }
                return Ok(reply["result"].clone());
            }
            if self.shared.closed.load(Ordering::SeqCst) {
                bail!("the BiDi socket closed while waiting for {method}");
            }
            if start.elapsed() > crate::wait_cap() {
                bail!("BiDi {method}: no reply after {:?}", crate::wait_cap());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Removes and returns the first queued event that `pred` accepts, waiting for one
    /// (up to [`crate::wait_cap`]; `what` names it in the error).
    pub async fn wait_event(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Result<Value> {
        let start = Instant::now();
        loop {
            {
                let mut events = lock(&self.shared.events);
                if let Some(i) = events.iter().position(&pred) {
                    return Ok(events.remove(i).expect("index from position"));
                }
            }
            if self.shared.closed.load(Ordering::SeqCst) {
                bail!("the BiDi socket closed while waiting for {what}");
            }
            if start.elapsed() > crate::wait_cap() {
                bail!(
                    "timed out after {:?} waiting for the BiDi event {what}",
                    crate::wait_cap()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Error replies to the hook's commands so far.
    pub fn hook_errors(&self) -> Vec<String> {
        lock(&self.shared.hook_errors).clone()
    }

    /// Every message so far, oldest first (`>` sent, `<` received).
    pub fn transcript(&self) -> Vec<String> {
        lock(&self.shared.log).clone()
    }
}

impl Drop for Bidi {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn pump(mut socket: WebSocket<MaybeTlsStream<TcpStream>>, rx: &Receiver<String>, sh: &Shared) {
    let mut hook_id = HOOK_IDS;
    let send = |socket: &mut WebSocket<_>, msg: String| {
        lock(&sh.log).push(format!("> {msg}"));
        socket.send(Message::text(msg)).is_ok()
    };
    loop {
        if sh.closed.load(Ordering::SeqCst) {
            let _ = socket.close(None);
            return;
        }
        while let Ok(msg) = rx.try_recv() {
            if !send(&mut socket, msg) {
                sh.closed.store(true, Ordering::SeqCst);
                return;
            }
        }
        let text = match socket.read() {
            Ok(Message::Text(t)) => t.to_string(),
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => {
                sh.closed.store(true, Ordering::SeqCst);
                return;
            }
        };
        lock(&sh.log).push(format!("< {text}"));
        let Ok(msg) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Some(id) = msg["id"].as_u64() {
            if id < HOOK_IDS {
                lock(&sh.replies).insert(id, msg);
            } else if msg["type"] == "error" {
                lock(&sh.hook_errors).push(text);
            }
            continue;
        }
        if msg["type"] != "event" {
            continue;
        }
        let answers = match lock(&sh.hook).as_mut() {
            Some(hook) => hook(&msg),
            None => vec![],
        };
        lock(&sh.events).push_back(msg);
        for (method, params) in answers {
            hook_id += 1;
            let cmd = json!({ "id": hook_id, "method": method, "params": params }).to_string();
            if !send(&mut socket, cmd) {
                sh.closed.store(true, Ordering::SeqCst);
                return;
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The hook's answer to a `bluetooth.requestDevicePromptUpdated` event of `context` that lists
/// `device_id`: accept it (once per prompt; Chromium may update a prompt after it was answered).
/// Updates that list no device yet, or other devices only, get no answer.
pub fn accept_device_prompt(
    ev: &Value,
    context: &str,
    device_id: &str,
    answered: &mut Vec<String>,
) -> Option<(String, Value)> {
    let p = &ev["params"];
    let listed = p["devices"]
        .as_array()
        .is_some_and(|d| d.iter().any(|d| d["id"] == device_id));
    let prompt = p["prompt"].as_str()?;
    if ev["method"] != "bluetooth.requestDevicePromptUpdated"
        || p["context"] != context
        || !listed
        || answered.iter().any(|a| a == prompt)
    {
        return None;
    }
    answered.push(prompt.to_string());
    Some((
        "bluetooth.handleRequestDevicePrompt".into(),
        json!({ "context": context, "prompt": prompt, "accept": true, "device": device_id }),
    ))
}
