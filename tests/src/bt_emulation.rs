//! A heart-rate strap emulated by Chromium's WebDriver BiDi `bluetooth` module (Chromium >= 140).
//!
//! What holds on Chromium 156 (see /work/shared/notes/STACK.md):
//! - `navigator.bluetooth` exists on Linux only with `--enable-experimental-web-platform-features`
//!   (or `--enable-features=WebBluetooth`): [`CHROMIUM_FLAGS`].
//! - Navigate first, then `simulateAdapter` (the emulation belongs to the page's context).
//! - The prompt event can first come with no devices; the device's id is its address.
//! - Without the CCCD descriptor 0x2902, `startNotifications()` fails ("GATT Error: Not supported").
//! - The emulation cannot push device-initiated notifications. A page-side `readValue()` answered
//!   with bytes fires `characteristicvaluechanged` on the page's object, which is how the app's
//!   2-second read poll receives packets here: the test answers the app's reads of 0x2A37.
//!
//! The hook on the BiDi socket thread answers at once: GATT connection attempts (unless held),
//! (un)subscriptions, reads of 0x2A38 / 0x2A19 and descriptor operations. Reads of 0x2A37 are
//! answered from a queue of packets the test fills; a read that finds the queue empty waits
//! until the test delivers the next packet.
//!
//! A simulated GATT disconnection empties Chromium's fake peripheral but not the BiDi mapper's
//! registry, so the reconnection is answered only after the GATT database is added again under a
//! new spelling of its UUIDs ([`regatt_commands`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use serde_json::{json, Value};

use crate::bidi::{accept_device_prompt, Bidi};
use crate::heart::{
    uuid, BATTERY_LEVEL, BATTERY_SERVICE, BODY_SENSOR_LOCATION, CCCD, HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
};

/// Chromium flags the emulation needs on Linux.
pub const CHROMIUM_FLAGS: &[&str] = &["--enable-experimental-web-platform-features"];

/// What to do with a GATT connection attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectPolicy {
    /// Answer success at once.
    Accept,
    /// Keep it pending until [`EmulatedStrap::accept_held_connects`].
    Hold,
}

#[derive(Debug)]
struct State {
    context: String,
    address: String,
    connect: ConnectPolicy,
    held_connects: usize,
    connect_attempts: usize,
    /// A simulated disconnection cleared the GATT database.
    gatt_lost: bool,
    /// How many times the GATT database was added (see [`regatt_commands`]).
    generation: u32,
    /// Reads of 0x2A37 not answered yet.
    pending_reads: usize,
    /// Packets for the next reads of 0x2A37.
    queue: VecDeque<Vec<u8>>,
    reads_answered: usize,
    subscriptions: usize,
    body_location: u8,
    battery: u8,
    /// Prompts answered with our device.
    prompts_accepted: Vec<String>,
}

/// An emulated strap in one browsing context. Dropping it leaves the emulation in place.
pub struct EmulatedStrap {
    bidi: Arc<Bidi>,
    state: Arc<Mutex<State>>,
    /// The device's address (also its id in the chooser).
    pub address: String,
    /// The advertised name.
    pub name: String,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl EmulatedStrap {
    /// Subscribes to `bluetooth` events, powers a simulated adapter on in `context`, and adds a
    /// preconnected strap with Heart Rate (0x2A37 read+notify with its CCCD, 0x2A38 read) and
    /// Battery (0x2A19 read) services. Call after navigating.
    pub async fn install(
        bidi: Arc<Bidi>,
        context: &str,
        address: &str,
        name: &str,
        body_location: u8,
        battery: u8,
    ) -> Result<Self> {
        let state = Arc::new(Mutex::new(State {
            context: context.to_string(),
            address: address.to_string(),
            connect: ConnectPolicy::Accept,
            held_connects: 0,
            connect_attempts: 0,
            gatt_lost: false,
            generation: 0,
            pending_reads: 0,
            queue: VecDeque::new(),
            reads_answered: 0,
            subscriptions: 0,
            body_location,
            battery,
            prompts_accepted: vec![],
        }));
        let st = state.clone();
        bidi.set_hook(Box::new(move |ev| answer(&mut lock(&st), ev)));
        bidi.call(
            "session.subscribe",
            json!({ "events": ["bluetooth"], "contexts": [context] }),
        )
        .await?;
        let ctx = context;
        bidi.call(
            "bluetooth.simulateAdapter",
            json!({ "context": ctx, "state": "powered-on" }),
        )
        .await?;
        bidi.call(
            "bluetooth.simulatePreconnectedPeripheral",
            json!({
                "context": ctx, "address": address, "name": name, "manufacturerData": [],
                "knownServiceUuids": [uuid(HEART_RATE_SERVICE), uuid(BATTERY_SERVICE)],
            }),
        )
        .await?;
        for (method, params) in gatt_commands(context, address, 0) {
            bidi.call(&method, params).await?;
        }
        Ok(Self {
            bidi,
            state,
            address: address.to_string(),
            name: name.to_string(),
        })
    }

    /// Sets what happens to the next GATT connection attempts.
    pub fn set_connect_policy(&self, p: ConnectPolicy) {
        lock(&self.state).connect = p;
    }

    /// Connection attempts seen so far.
    pub fn connect_attempts(&self) -> usize {
        lock(&self.state).connect_attempts
    }

    /// Subscriptions to 0x2A37 notifications seen so far.
    pub fn subscriptions(&self) -> usize {
        lock(&self.state).subscriptions
    }

    /// Reads of 0x2A37 answered with a packet so far.
    pub fn reads_answered(&self) -> usize {
        lock(&self.state).reads_answered
    }

    /// Waits until a connection attempt is held (policy [`ConnectPolicy::Hold`]).
    pub async fn wait_held_connect(&self) -> Result<()> {
        crate::wait_for("a held GATT connection attempt", || {
            (lock(&self.state).held_connects > 0).then_some(())
        })
        .await
    }

    /// Answers every held connection attempt with success and accepts later ones at once.
    pub async fn accept_held_connects(&self) -> Result<()> {
        let (n, ctx, address, restore) = {
            let mut s = lock(&self.state);
            s.connect = ConnectPolicy::Accept;
            let n = std::mem::take(&mut s.held_connects);
            let restore = match n > 0 && std::mem::take(&mut s.gatt_lost) {
                true => regatt_commands(&mut s),
                false => vec![],
            };
            (n, s.context.clone(), s.address.clone(), restore)
        };
        for (method, params) in restore {
            self.bidi.call(&method, params).await?;
        }
        for _ in 0..n {
            self.bidi
                .call(
                    "bluetooth.simulateGattConnectionResponse",
                    json!({ "context": ctx, "address": address, "code": 0 }),
                )
                .await?;
        }
        Ok(())
    }

    /// Hands `bytes` to the app as the value of its next read of 0x2A37 (at once if a read is
    /// already waiting). The page sees it as `characteristicvaluechanged`.
    pub async fn deliver(&self, bytes: &[u8]) -> Result<()> {
        let answer_now = {
            let mut s = lock(&self.state);
            if s.pending_reads > 0 && s.queue.is_empty() {
                s.pending_reads -= 1;
                s.reads_answered += 1;
                Some(read_response(&s, HEART_RATE_MEASUREMENT, bytes))
            } else {
                s.queue.push_back(bytes.to_vec());
                None
            }
        };
        if let Some((method, params)) = answer_now {
            self.bidi.call(&method, params).await?;
        }
        Ok(())
    }

    /// Waits until every delivered packet has been read by the page.
    pub async fn wait_delivered(&self) -> Result<()> {
        crate::wait_for("the app to read every queued 0x2A37 packet", || {
            lock(&self.state).queue.is_empty().then_some(())
        })
        .await
    }

    /// Drops the GATT connection as if the strap went out of range. Pending reads fail in the
    /// page; queued packets stay for the reads after the reconnect.
    pub async fn disconnect(&self) -> Result<()> {
        let (ctx, address) = {
            let mut s = lock(&self.state);
            s.pending_reads = 0;
            s.gatt_lost = true;
            (s.context.clone(), s.address.clone())
        };
        self.bidi
            .call(
                "bluetooth.simulateGattDisconnection",
                json!({ "context": ctx, "address": address }),
            )
            .await?;
        Ok(())
    }

    /// A short account of the emulation for failure messages.
    pub fn summary(&self) -> String {
        let s = lock(&self.state);
        format!(
            "connect attempts {}, held {}, subscriptions {}, reads answered {}, reads pending {}, \
             queued packets {}, prompts accepted {}",
            s.connect_attempts,
            s.held_connects,
            s.subscriptions,
            s.reads_answered,
            s.pending_reads,
            s.queue.len(),
            s.prompts_accepted.len()
        )
    }
}

/// The UUID of `short` as the emulation knows it in GATT `generation` (see [`regatt_commands`]):
/// generation 0 is the plain lower-case form; later ones upper-case a different set of its hex
/// letters. Chromium canonicalises UUIDs, the BiDi mapper keys its registry by the string.
pub fn spelled(short: u16, generation: u32) -> String {
    let mut letter = 0;
    uuid(short)
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                letter += 1;
                if generation & (1 << (letter - 1)) != 0 {
                    return c.to_ascii_uppercase();
                }
            }
            c
        })
        .collect()
}

/// The strap's GATT database: Heart Rate (0x2A37 read+notify with its CCCD 0x2902, 0x2A38 read)
/// and Battery (0x2A19 read).
fn gatt_commands(ctx: &str, address: &str, generation: u32) -> Vec<(String, Value)> {
    let uuid = |short| spelled(short, generation);
    let mut out = vec![];
    for service in [HEART_RATE_SERVICE, BATTERY_SERVICE] {
        out.push((
            "bluetooth.simulateService".to_string(),
            json!({ "context": ctx, "address": address, "uuid": uuid(service), "type": "add" }),
        ));
    }
    let chars = [
        (
            HEART_RATE_SERVICE,
            HEART_RATE_MEASUREMENT,
            json!({ "read": true, "notify": true }),
        ),
        (
            HEART_RATE_SERVICE,
            BODY_SENSOR_LOCATION,
            json!({ "read": true }),
        ),
        (BATTERY_SERVICE, BATTERY_LEVEL, json!({ "read": true })),
    ];
    for (service, ch, props) in chars {
        out.push((
            "bluetooth.simulateCharacteristic".to_string(),
            json!({
                "context": ctx, "address": address, "serviceUuid": uuid(service),
                "characteristicUuid": uuid(ch), "characteristicProperties": props, "type": "add",
            }),
        ));
    }
    out.push((
        "bluetooth.simulateDescriptor".to_string(),
        json!({
            "context": ctx, "address": address, "serviceUuid": uuid(HEART_RATE_SERVICE),
            "characteristicUuid": uuid(HEART_RATE_MEASUREMENT), "descriptorUuid": uuid(CCCD),
            "type": "add",
        }),
    ));
    out
}

/// The GATT database again, for the reconnection after a simulated GATT disconnection, which
/// clears the services of Chromium's fake peripheral (`FakePeripheral::SimulateGATTDisconnection`:
/// a reconnected page finds "No Services matching UUID") but not the BiDi mapper's registry: the
/// mapper refuses to add a service UUID it knows ("already exists") and cannot remove one Chromium
/// lost. The mapper compares UUID strings as given, so the database is added again under a new
/// spelling of the same UUIDs (generation `g`); later answers and events use that spelling.
fn regatt_commands(s: &mut State) -> Vec<(String, Value)> {
    s.generation += 1;
    gatt_commands(&s.context, &s.address, s.generation)
}

fn read_response(s: &State, ch: u16, bytes: &[u8]) -> (String, Value) {
    let service = if ch == BATTERY_LEVEL {
        BATTERY_SERVICE
    } else {
        HEART_RATE_SERVICE
    };
    (
        "bluetooth.simulateCharacteristicResponse".into(),
        json!({
            "context": s.context, "address": s.address,
            "serviceUuid": spelled(service, s.generation),
            "characteristicUuid": spelled(ch, s.generation), "type": "read", "code": 0,
            "data": bytes,
        }),
    )
}

/// The hook: answers one event (runs on the BiDi socket thread).
fn answer(s: &mut State, ev: &Value) -> Vec<(String, Value)> {
    let p = &ev["params"];
    let method = ev["method"].as_str().unwrap_or_default();
    if p["context"] != s.context.as_str() {
        return vec![];
    }
    match method {
        "bluetooth.requestDevicePromptUpdated" => {
            let (ctx, address) = (s.context.clone(), s.address.clone());
            accept_device_prompt(ev, &ctx, &address, &mut s.prompts_accepted)
                .into_iter()
                .collect()
        }
        "bluetooth.gattConnectionAttempted" if p["address"] == s.address.as_str() => {
            s.connect_attempts += 1;
            match s.connect {
                ConnectPolicy::Accept => {
                    let mut out = match std::mem::take(&mut s.gatt_lost) {
                        true => regatt_commands(s),
                        false => vec![],
                    };
                    out.push((
                        "bluetooth.simulateGattConnectionResponse".into(),
                        json!({ "context": s.context, "address": s.address, "code": 0 }),
                    ));
                    out
                }
                ConnectPolicy::Hold => {
                    s.held_connects += 1;
                    vec![]
                }
            }
        }
        "bluetooth.characteristicEventGenerated" => {
            let ch = p["characteristicUuid"].as_str().unwrap_or_default();
            let short = |u: u16| ch.eq_ignore_ascii_case(&uuid(u));
            let kind = p["type"].as_str().unwrap_or_default();
            let mut response = json!({
                "context": s.context, "address": s.address, "serviceUuid": p["serviceUuid"],
                "characteristicUuid": ch, "type": kind, "code": 0,
            });
            match kind {
                "read" if short(HEART_RATE_MEASUREMENT) => match s.queue.pop_front() {
                    Some(bytes) => {
                        s.reads_answered += 1;
                        return vec![read_response(s, HEART_RATE_MEASUREMENT, &bytes)];
                    }
                    None => {
                        s.pending_reads += 1;
                        return vec![];
                    }
                },
                "read" if short(BODY_SENSOR_LOCATION) => {
                    response["data"] = json!([s.body_location]);
                }
                "read" if short(BATTERY_LEVEL) => response["data"] = json!([s.battery]),
                "read" => response["data"] = json!([]),
                "subscribe-to-notifications" if short(HEART_RATE_MEASUREMENT) => {
                    s.subscriptions += 1;
                }
                "write-with-response" => response["type"] = json!("write"),
                // No response is expected for these.
                "write-without-response" => return vec![],
                _ => {}
            }
            vec![("bluetooth.simulateCharacteristicResponse".into(), response)]
        }
        "bluetooth.descriptorEventGenerated" => {
            let kind = p["type"].as_str().unwrap_or_default();
            let mut response = json!({
                "context": s.context, "address": s.address, "serviceUuid": p["serviceUuid"],
                "characteristicUuid": p["characteristicUuid"],
                "descriptorUuid": p["descriptorUuid"], "type": kind, "code": 0,
            });
            if kind == "read" {
                response["data"] = json!([0, 0]);
            }
            vec![("bluetooth.simulateDescriptorResponse".into(), response)]
        }
        _ => vec![],
    }
}

impl crate::heart_scenario::StrapDriver for EmulatedStrap {
    fn route(&self) -> &'static str {
        "bidi"
    }
    fn period(&self) -> std::time::Duration {
        // The app reads every 2 s when no notification comes: that paces this route.
        std::time::Duration::ZERO
    }
    async fn send(&self, bytes: &[u8]) -> Result<()> {
        self.deliver(bytes).await
    }
    async fn settle(&self) -> Result<()> {
        self.wait_delivered().await
    }
    async fn wait_streaming(&self, n: usize) -> Result<()> {
        crate::wait_for(&format!("subscription {n} to 0x2A37 notifications"), || {
            (self.subscriptions() >= n).then_some(())
        })
        .await
    }
    async fn drop_link_and_hold(&self) -> Result<()> {
        self.set_connect_policy(ConnectPolicy::Hold);
        self.disconnect().await
    }
    async fn wait_held_connect(&self) -> Result<()> {
        EmulatedStrap::wait_held_connect(self).await
    }
    async fn release_connects(&self) -> Result<()> {
        self.accept_held_connects().await
    }
    fn summary(&self) -> String {
        EmulatedStrap::summary(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_differ_and_name_the_same_uuid() {
        let all: Vec<String> = (0..4).map(|g| spelled(0x180D, g)).collect();
        assert_eq!(all[0], "0000180d-0000-1000-8000-00805f9b34fb");
        assert_eq!(all[1], "0000180D-0000-1000-8000-00805f9b34fb");
        for (i, a) in all.iter().enumerate() {
            assert!(a.eq_ignore_ascii_case(&all[0]));
            assert!(all[..i].iter().all(|b| b != a), "{all:?}");
        }
    }
}
