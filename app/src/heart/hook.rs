//! `use_heart_rate`: a reactive hook (in the style of leptos-use) over a Bluetooth heart-rate strap
//! or the simulated one.
//!
//! Every packet, whether notified, read or replayed, goes through the engine's
//! [`parse_measurement`] into one [`HeartSignal`]. The hook owns the connection: it polls with
//! `readValue()` when notifications stall, reconnects with backoff when the strap drops, keeps the
//! signal and the chart across reconnects, hands the learned baseline to its owner, and removes
//! every listener and timer on disconnect and unmount.

use super::ble::{self, Link, Listener, Step};
use crate::assets;
use attune_engine::heart::{
    parse_measurement, ArousalEstimate, HeartBaseline, HeartSignal, Replay, SensorContact,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;
use wasm_bindgen::JsCast;
use web_sys::{BluetoothDevice, BluetoothRemoteGattCharacteristic, Event};

/// Waits before each reconnection try (ms); the length is the number of tries.
pub const BACKOFF_MS: [u32; 5] = [1_000, 2_000, 4_000, 8_000, 8_000];
/// With no packet for this long, the measurement is read instead (ms).
pub const POLL_MS: f64 = 2_000.0;
/// How much history the chart keeps (ms).
pub const HISTORY_MS: f64 = 120_000.0;
/// How often a learned baseline is handed over while a strap is connected (ms).
const SAVE_EVERY_MS: f64 = 15_000.0;
/// Most samples kept (bounds memory whatever the packet rate).
const MAX_SAMPLES: usize = 600;

/// Where the connection stands (mirrored in `#hr-status[data-status]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// This browser has no Web Bluetooth.
    Unsupported,
    /// Nothing connected yet.
    Idle,
    /// Choosing or connecting to a strap, or loading the simulated one.
    Connecting,
    /// A strap is connected.
    Connected,
    /// The strap dropped; trying again.
    Reconnecting,
    /// Disconnected by the user, or reconnecting gave up.
    Disconnected,
    /// The simulated strap is playing.
    Simulated,
    /// Connecting failed.
    Error,
}

impl Status {
    /// The `data-status` value.
    pub fn name(self) -> &'static str {
        match self {
            Status::Unsupported => "unsupported",
            Status::Idle => "idle",
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting => "reconnecting",
            Status::Disconnected => "disconnected",
            Status::Simulated => "simulated",
            Status::Error => "error",
        }
    }

    /// A short label for people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Unsupported => "Bluetooth unavailable",
            Status::Idle => "Not connected",
            Status::Connecting => "Connecting\u{2026}",
            Status::Connected => "Connected",
            Status::Reconnecting => "Reconnecting\u{2026}",
            Status::Disconnected => "Disconnected",
            Status::Simulated => "Simulated strap",
            Status::Error => "Connection failed",
        }
    }

    /// Whether something is running that Disconnect would stop.
    pub fn active(self) -> bool {
        matches!(
            self,
            Status::Connecting | Status::Connected | Status::Reconnecting | Status::Simulated
        )
    }
}

/// One accepted reading on the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When it arrived (`performance.now()` ms).
    pub at_ms: f64,
    /// The packet's heart rate.
    pub bpm: f32,
    /// RMSSD at that moment.
    pub rmssd_ms: Option<f32>,
    /// The heart's arousal at that moment.
    pub arousal: Option<f32>,
}

/// What the hook reports; every field is a copyable reactive signal.
#[derive(Debug, Clone, Copy)]
pub struct HeartRate {
    /// Connection state.
    pub status: RwSignal<Status>,
    /// A sentence about the last thing that happened (empty when there is nothing to say).
    pub message: RwSignal<String>,
    /// The connected device's name (empty with none).
    pub device: RwSignal<String>,
    /// Body sensor location (0x2A38), when read.
    pub location: RwSignal<Option<String>>,
    /// Battery level in percent (0x2A19), when read.
    pub battery: RwSignal<Option<u8>>,
    /// Heart rate of the last packet that parsed and carried a reading.
    pub bpm: RwSignal<Option<u16>>,
    /// The engine's current estimate (`None` before enough data and when stale).
    pub estimate: RwSignal<Option<ArousalEstimate>>,
    /// Why the last rejected packet was rejected.
    pub packet_error: RwSignal<Option<String>>,
    /// Whether the last packet reported no skin contact.
    pub no_contact: RwSignal<bool>,
    /// Accepted readings of the last [`HISTORY_MS`].
    pub history: RwSignal<VecDeque<Sample>>,
    /// The clock the chart is drawn against (`performance.now()` ms, ticks every second).
    pub now_ms: RwSignal<f64>,
    /// Whether Connect would reconnect the last strap instead of opening the chooser.
    pub reconnectable: RwSignal<bool>,
}

/// Actions on the hook's connection. Cheap to clone; call them from event handlers.
#[derive(Clone)]
pub struct HeartControls(Rc<RefCell<Core>>);

impl HeartControls {
    /// Connect button: opens the chooser (user gesture), or reconnects the last strap.
    pub fn connect(&self) {
        connect(&self.0);
    }

    /// Starts the simulated strap (stops a real one first).
    pub fn simulate(&self) {
        simulate(&self.0);
    }

    /// Disconnects by the user's choice: no automatic reconnection follows.
    pub fn disconnect(&self) {
        disconnect(&self.0);
    }
}

/// Options of [`use_heart_rate`].
pub struct UseHeartRateOptions {
    /// The resting baseline learned earlier on this device.
    pub baseline: Option<HeartBaseline>,
    /// Receives the learned baseline now and then and on every disconnect (real straps only: the
    /// simulated strap's heart is not the user's).
    pub on_baseline: Rc<dyn Fn(HeartBaseline)>,
}

/// The hook: reactive outputs plus the controls. Cleans up when its owner is disposed.
pub fn use_heart_rate(options: UseHeartRateOptions) -> (HeartRate, HeartControls) {
    let supported = ble::bluetooth().is_some();
    let out = HeartRate {
        status: RwSignal::new(if supported {
            Status::Idle
        } else {
            Status::Unsupported
        }),
        message: RwSignal::new(if supported {
            String::new()
        } else {
            ble::unsupported_message()
        }),
        device: RwSignal::new(String::new()),
        location: RwSignal::new(None),
        battery: RwSignal::new(None),
        bpm: RwSignal::new(None),
        estimate: RwSignal::new(None),
        packet_error: RwSignal::new(None),
        no_contact: RwSignal::new(false),
        history: RwSignal::new(VecDeque::new()),
        now_ms: RwSignal::new(now_ms()),
        reconnectable: RwSignal::new(false),
    };
    let stored = options.baseline.unwrap_or(HeartBaseline::EMPTY);
    let core = Rc::new_cyclic(|me| {
        RefCell::new(Core {
            me: me.clone(),
            out,
            on_baseline: options.on_baseline,
            saved: stored,
            gen: 0,
            alive: true,
            user_disconnect: false,
            source: Source::None,
            signal: HeartSignal::new(stored),
            device: None,
            device_listener: None,
            live: None,
            poll: None,
            ticker: None,
            replay: None,
            last_packet_ms: 0.0,
            read_in_flight: false,
            last_saved_ms: now_ms(),
            pagehide: None,
        })
    });
    // A closing tab saves what was learned since the last save.
    let weak = Rc::downgrade(&core);
    let pagehide = web_sys::window().and_then(|w| {
        Listener::add(w.as_ref(), "pagehide", move |_| {
            if let Some(rc) = weak.upgrade() {
                with_core(&rc, |c| c.save_baseline(true));
            }
        })
        .ok()
    });
    core.borrow_mut().pagehide = pagehide;
    let owner_core = StoredValue::new_local(core.clone());
    on_cleanup(move || {
        if let Some(core) = owner_core.try_get_value() {
            shutdown(&core);
        }
    });
    (out, HeartControls(core))
}

/// Where packets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    None,
    Strap,
    Demo,
}

/// A repeating timer, cleared when dropped.
struct Timer(IntervalHandle);

impl Timer {
    fn every(ms: u64, core: &Rc<RefCell<Core>>, f: fn(&mut Core)) -> Option<Timer> {
        let weak = Rc::downgrade(core);
        set_interval_with_handle(
            move || {
                if let Some(rc) = weak.upgrade() {
                    if let Ok(mut c) = rc.try_borrow_mut() {
                        f(&mut c);
                    }
                }
            },
            Duration::from_millis(ms),
        )
        .ok()
        .map(Timer)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.0.clear();
    }
}

/// A connected strap with its listeners (removed when dropped).
struct Live {
    link: Link,
    _measurement: Listener,
    battery: Option<Listener>,
}

/// The hook's mutable state, outside the reactive graph (it holds JavaScript objects).
struct Core {
    me: Weak<RefCell<Core>>,
    out: HeartRate,
    on_baseline: Rc<dyn Fn(HeartBaseline)>,
    /// The baseline last handed to `on_baseline` (a new strap signal starts from it).
    saved: HeartBaseline,
    /// Bumped whenever a flow starts or stops; async work that finds it changed gives up.
    gen: u32,
    alive: bool,
    user_disconnect: bool,
    source: Source,
    signal: HeartSignal,
    device: Option<BluetoothDevice>,
    device_listener: Option<Listener>,
    live: Option<Live>,
    poll: Option<Timer>,
    ticker: Option<Timer>,
    replay: Option<(Replay, Timer)>,
    last_packet_ms: f64,
    read_in_flight: bool,
    last_saved_ms: f64,
    pagehide: Option<Listener>,
}

impl Core {
    /// Whether async work started at `gen` may still act.
    fn current(&self, gen: u32) -> bool {
        self.alive && self.gen == gen
    }

    fn say(&self, status: Status, message: impl Into<String>) {
        self.out.status.try_set(status);
        self.out.message.try_set(message.into());
    }

    fn device_name(&self) -> String {
        self.device
            .as_ref()
            .map(ble::device_name)
            .unwrap_or_else(|| "your strap".into())
    }

    /// One packet from any source: parse, feed the signal, update the outputs.
    fn packet(&mut self, bytes: &[u8], at_ms: f64) {
        self.last_packet_ms = now_ms();
        let m = match parse_measurement(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.out
                    .packet_error
                    .try_set(Some(format!("rejected packet: {e}")));
                return;
            }
        };
        self.signal.push(at_ms, &m);
        self.out
            .no_contact
            .try_set(m.contact == SensorContact::NotDetected);
        let estimate = self.signal.estimate(at_ms);
        self.out.estimate.try_set(estimate);
        if let Some(bpm) = m.bpm() {
            self.out.bpm.try_set(Some(bpm));
            let sample = Sample {
                at_ms,
                bpm: f32::from(bpm),
                rmssd_ms: estimate.and_then(|e| e.rmssd_ms),
                arousal: estimate.map(|e| e.arousal.get()),
            };
            self.out.history.try_update(|h| {
                h.push_back(sample);
                while h.len() > MAX_SAMPLES
                    || h.front().is_some_and(|s| s.at_ms < at_ms - HISTORY_MS)
                {
                    h.pop_front();
                }
            });
        }
        self.save_baseline(false);
    }

    /// Once a second: the estimate fades as readings age, and the chart scrolls.
    fn tick(&mut self) {
        let now = now_ms();
        self.out.now_ms.try_set(now);
        self.out.estimate.try_set(self.signal.estimate(now));
        self.save_baseline(false);
    }

    /// With no packet for [`POLL_MS`], reads the measurement; the read fires
    /// `characteristicvaluechanged`, so the packet is handled by the listener only.
    fn poll(&mut self) {
        let Some(live) = &self.live else { return };
        // A little slack for timer jitter: the timer itself runs every POLL_MS.
        if self.read_in_flight || now_ms() - self.last_packet_ms < POLL_MS - 100.0 {
            return;
        }
        self.read_in_flight = true;
        let c = live.link.measurement.clone();
        let weak = self.me.clone();
        spawn_local(async move {
            // Real straps usually refuse reads of 0x2A37: that is expected, not worth a message.
            let _ = c.read_value().await;
            if let Some(rc) = weak.upgrade() {
                with_core(&rc, |core| core.read_in_flight = false);
            }
        });
    }

    /// Replays the packets that are due.
    fn replay(&mut self) {
        let now = now_ms();
        let due = match &mut self.replay {
            Some((r, _)) => r.due(now),
            None => return,
        };
        for p in due {
            self.packet(&p.bytes, p.at_ms);
        }
    }

    /// Hands the learned baseline over (real straps only; at most every [`SAVE_EVERY_MS`] unless
    /// `now`).
    fn save_baseline(&mut self, force: bool) {
        if self.source != Source::Strap {
            return;
        }
        let b = *self.signal.baseline();
        let t = now_ms();
        if b == self.saved || b.resting_bpm().is_none() {
            return;
        }
        if !force && t - self.last_saved_ms < SAVE_EVERY_MS {
            return;
        }
        self.saved = b;
        self.last_saved_ms = t;
        (self.on_baseline)(b);
    }

    /// Stops everything that runs, without touching the status. Returns the GATT server to
    /// disconnect once the borrow is released (disconnecting fires `gattserverdisconnected` at once).
    fn stop(&mut self) -> Option<web_sys::BluetoothRemoteGattServer> {
        self.gen = self.gen.wrapping_add(1);
        self.user_disconnect = true;
        self.save_baseline(true);
        self.device_listener = None;
        self.live = None;
        self.poll = None;
        self.replay = None;
        self.ticker = None;
        self.read_in_flight = false;
        self.out.estimate.try_set(None);
        self.device
            .as_ref()
            .and_then(|d| d.gatt())
            .filter(|g| g.connected())
    }

    /// Starts a fresh signal for a new source (the chart starts over too).
    fn reset_for(&mut self, source: Source) {
        self.source = source;
        self.signal = HeartSignal::new(match source {
            Source::Strap => self.saved,
            Source::Demo | Source::None => HeartBaseline::EMPTY,
        });
        self.out.history.try_set(VecDeque::new());
        self.out.bpm.try_set(None);
        self.out.estimate.try_set(None);
        self.out.packet_error.try_set(None);
        self.out.no_contact.try_set(false);
        self.out.location.try_set(None);
        self.out.battery.try_set(None);
    }
}

/// Runs `f` with the core borrowed; `None` (and nothing done) if it is already borrowed, which only
/// happens when a browser event fires synchronously inside another handler.
fn with_core<R>(rc: &Rc<RefCell<Core>>, f: impl FnOnce(&mut Core) -> R) -> Option<R> {
    let mut c = rc.try_borrow_mut().ok()?;
    Some(f(&mut c))
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(i32::MAX as u32) as i32,
            );
        }
    });
    let _ = promise.await;
}

fn connect(rc: &Rc<RefCell<Core>>) {
    let Some(bt) = ble::bluetooth() else {
        with_core(rc, |c| {
            c.say(Status::Unsupported, ble::unsupported_message())
        });
        return;
    };
    // Reconnecting the last strap needs no chooser when the browser remembers the permission.
    let known = with_core(rc, |c| {
        c.out
            .reconnectable
            .get_untracked()
            .then(|| c.device.clone())
            .flatten()
    })
    .flatten();
    let reuse = known.filter(|_| ble::has_get_devices(&bt));
    // The chooser must open now, inside the click.
    let chooser = reuse.is_none().then(|| ble::request_strap(&bt));
    let Some((gen, server)) = with_core(rc, |c| {
        let server = c.stop();
        c.user_disconnect = false;
        c.out.reconnectable.try_set(false);
        (c.gen, server)
    }) else {
        return;
    };
    if let Some(s) = server {
        s.disconnect();
    }
    let weak = Rc::downgrade(rc);
    match (reuse, chooser) {
        (Some(device), _) => {
            with_core(rc, |c| {
                c.say(
                    Status::Connecting,
                    format!("Reconnecting to {}\u{2026}", ble::device_name(&device)),
                )
            });
            spawn_local(async move {
                let device = ble::permitted(&bt, &device.id()).await.unwrap_or(device);
                establish(weak, gen, device).await;
            });
        }
        (None, Some(chooser)) => {
            with_core(rc, |c| {
                c.say(
                    Status::Connecting,
                    "Choose your heart-rate strap in the browser's list.",
                )
            });
            spawn_local(async move {
                match chooser.await {
                    Ok(device) => establish(weak, gen, device).await,
                    Err(e) => {
                        let Some(rc) = weak.upgrade() else { return };
                        with_core(&rc, |c| {
                            if !c.current(gen) {
                                return;
                            }
                            let status = if ble::is_cancel(&e) {
                                if c.device.is_some() {
                                    Status::Disconnected
                                } else {
                                    Status::Idle
                                }
                            } else {
                                Status::Error
                            };
                            c.say(status, ble::explain(Step::Choose, &e));
                        });
                    }
                }
            });
        }
        (None, None) => {}
    }
}

/// Takes over a chosen device: listens for its disconnection, then connects.
async fn establish(weak: Weak<RefCell<Core>>, gen: u32, device: BluetoothDevice) {
    let Some(rc) = weak.upgrade() else { return };
    let ok = with_core(&rc, |c| {
        if !c.current(gen) {
            return false;
        }
        let same =
            c.source == Source::Strap && c.device.as_ref().is_some_and(|d| d.id() == device.id());
        if !same {
            c.reset_for(Source::Strap);
        }
        let target: &web_sys::EventTarget = device.unchecked_ref();
        c.device_listener =
            Listener::add(target, "gattserverdisconnected", on_gatt_disconnected(&rc)).ok();
        c.device = Some(device.clone());
        c.out.device.try_set(ble::device_name(&device));
        c.say(
            Status::Connecting,
            format!("Connecting to {}\u{2026}", ble::device_name(&device)),
        );
        true
    })
    .unwrap_or(false);
    if !ok {
        return;
    }
    if let Err(why) = attach(&rc, gen, &device, false).await {
        with_core(&rc, |c| {
            if c.current(gen) {
                c.say(Status::Error, why);
            }
        });
    }
}

/// Connects GATT, subscribes to the measurement, starts polling, then reads the optional
/// characteristics. `Err` is a sentence for the user.
async fn attach(
    rc: &Rc<RefCell<Core>>,
    gen: u32,
    device: &BluetoothDevice,
    again: bool,
) -> Result<(), String> {
    let link = ble::open(device).await?;
    if !with_core(rc, |c| c.current(gen)).unwrap_or(false) {
        link.server.disconnect();
        return Ok(());
    }
    let weak = Rc::downgrade(rc);
    let measurement = Listener::add(
        link.measurement.unchecked_ref(),
        "characteristicvaluechanged",
        move |ev: Event| {
            let Some(rc) = weak.upgrade() else { return };
            let view = ev
                .target()
                .and_then(|t| t.dyn_into::<BluetoothRemoteGattCharacteristic>().ok())
                .and_then(|c| c.value());
            let bytes = view.map(|v| ble::bytes(&v)).unwrap_or_default();
            with_core(&rc, |c| c.packet(&bytes, now_ms()));
        },
    )?;
    let notify = link.measurement.start_notifications().await;
    let name = ble::device_name(device);
    let attached = with_core(rc, |c| {
        if !c.current(gen) {
            return false;
        }
        let note = match &notify {
            Ok(_) => String::new(),
            Err(e) => format!(
                " {} Attune reads it every 2 s instead.",
                ble::explain(Step::Notify, e)
            ),
        };
        let verb = if again {
            "Reconnected to"
        } else {
            "Connected to"
        };
        c.say(
            Status::Connected,
            format!("{verb} {name}. Readings arrive about once a second.{note}"),
        );
        c.live = Some(Live {
            link: link.clone(),
            _measurement: measurement,
            battery: None,
        });
        c.last_packet_ms = now_ms();
        c.poll = Timer::every(POLL_MS as u64, rc, Core::poll);
        if c.ticker.is_none() {
            c.ticker = Timer::every(1_000, rc, Core::tick);
        }
        true
    })
    .unwrap_or(false);
    if !attached {
        link.server.disconnect();
        return Ok(());
    }
    // Optional extras, one at a time; none of them is worth an error message.
    let location = ble::body_location(&link.service).await;
    with_core(rc, |c| {
        if c.current(gen) {
            c.out
                .location
                .try_set(Some(location.unwrap_or("unknown").to_string()));
        }
    });
    if let Some(level) = ble::battery_level(&link.server).await {
        let battery = battery_listener(rc, &level);
        let _ = level.start_notifications().await;
        let first = level.read_value().await.ok().map(|v| ble::bytes(&v));
        with_core(rc, |c| {
            if c.current(gen) {
                if let Some(p) = first.as_deref().and_then(ble::battery_percent) {
                    c.out.battery.try_set(Some(p));
                }
                if let Some(live) = &mut c.live {
                    live.battery = battery;
                }
            }
        });
    }
    Ok(())
}

/// Listens for battery-level notifications.
fn battery_listener(
    rc: &Rc<RefCell<Core>>,
    level: &BluetoothRemoteGattCharacteristic,
) -> Option<Listener> {
    let weak = Rc::downgrade(rc);
    let target = level.clone();
    Listener::add(
        level.unchecked_ref(),
        "characteristicvaluechanged",
        move |_| {
            let Some(rc) = weak.upgrade() else { return };
            let p = target
                .value()
                .and_then(|v| ble::battery_percent(&ble::bytes(&v)));
            with_core(&rc, |c| {
                if p.is_some() {
                    c.out.battery.try_set(p);
                }
            });
        },
    )
    .ok()
}

/// `gattserverdisconnected`: unless the user asked for it, reconnect with backoff.
fn on_gatt_disconnected(rc: &Rc<RefCell<Core>>) -> impl FnMut(Event) + 'static {
    let weak = Rc::downgrade(rc);
    move |_| {
        let Some(rc) = weak.upgrade() else { return };
        let gen = with_core(&rc, |c| {
            // Only a strap that was streaming is reconnected (not a half-open attempt).
            if c.user_disconnect || !c.alive || c.source != Source::Strap || c.live.is_none() {
                return None;
            }
            c.save_baseline(true);
            c.live = None;
            c.poll = None;
            c.read_in_flight = false;
            c.gen = c.gen.wrapping_add(1);
            Some(c.gen)
        })
        .flatten();
        if let Some(gen) = gen {
            spawn_local(reconnect(Rc::downgrade(&rc), gen));
        }
    }
}

async fn reconnect(weak: Weak<RefCell<Core>>, gen: u32) {
    let mut last = String::new();
    for (i, wait) in BACKOFF_MS.iter().enumerate() {
        let Some(rc) = weak.upgrade() else { return };
        let device = with_core(&rc, |c| {
            if !c.current(gen) {
                return None;
            }
            c.say(
                Status::Reconnecting,
                format!(
                    "Lost the connection to {}. Trying again in {} s (try {} of {}).",
                    c.device_name(),
                    wait / 1000,
                    i + 1,
                    BACKOFF_MS.len()
                ),
            );
            c.device.clone()
        })
        .flatten();
        let Some(device) = device else { return };
        drop(rc);
        sleep(*wait).await;
        let Some(rc) = weak.upgrade() else { return };
        if !with_core(&rc, |c| c.current(gen)).unwrap_or(false) {
            return;
        }
        match attach(&rc, gen, &device, true).await {
            Ok(()) => return,
            Err(e) => last = e,
        }
    }
    let Some(rc) = weak.upgrade() else { return };
    with_core(&rc, |c| {
        if c.current(gen) {
            c.out.reconnectable.try_set(true);
            c.say(
                Status::Disconnected,
                format!(
                    "Lost {} and could not reconnect after {} tries. {last} Check that the strap \
                     is worn and in range, then press Reconnect. Nothing recorded so far is lost.",
                    c.device_name(),
                    BACKOFF_MS.len()
                ),
            );
        }
    });
}

fn disconnect(rc: &Rc<RefCell<Core>>) {
    let Some((server, source, name)) = with_core(rc, |c| {
        let server = c.stop();
        c.out.reconnectable.try_set(false);
        (server, c.source, c.device_name())
    }) else {
        return;
    };
    if let Some(s) = server {
        s.disconnect();
    }
    with_core(rc, |c| {
        let message = match source {
            Source::Strap => format!(
                "Disconnected from {name}. What it measured stays on this device; your resting \
                 heart rate is saved for next time."
            ),
            Source::Demo => "The simulated strap stopped.".to_string(),
            Source::None => "Nothing is connected.".to_string(),
        };
        let before = c.out.status.get_untracked();
        let status = if source == Source::None && !before.active() {
            before
        } else {
            Status::Disconnected
        };
        c.say(status, message);
    });
}

fn simulate(rc: &Rc<RefCell<Core>>) {
    let Some((gen, server)) = with_core(rc, |c| {
        let server = c.stop();
        c.out.reconnectable.try_set(false);
        c.say(
            Status::Connecting,
            "Loading the recorded heartbeat for the simulated strap\u{2026}",
        );
        (c.gen, server)
    }) else {
        return;
    };
    if let Some(s) = server {
        s.disconnect();
    }
    let weak = Rc::downgrade(rc);
    spawn_local(async move {
        let series = assets::load_demo_rr().await;
        let Some(rc) = weak.upgrade() else { return };
        with_core(&rc, |c| {
            if !c.current(gen) {
                return;
            }
            let rr = match series {
                Ok(rr) => rr,
                Err(e) => {
                    c.say(
                        Status::Error,
                        format!("The simulated strap could not start: {e}"),
                    );
                    return;
                }
            };
            c.reset_for(Source::Demo);
            c.device = None;
            c.device_listener = None;
            c.out.device.try_set("Simulated strap".to_string());
            c.out.location.try_set(Some("Chest".to_string()));
            c.replay = Timer::every(250, &rc, Core::replay)
                .map(|t| (Replay::new(rr, now_ms()).looping(), t));
            c.ticker = Timer::every(1_000, &rc, Core::tick);
            c.say(
                Status::Simulated,
                "Simulated strap: replaying a real recorded heartbeat (an adult at rest, from the \
                 MIT-BIH Normal Sinus Rhythm Database), one reading a second. It is not your \
                 heart, so nothing is saved.",
            );
        });
    });
}

/// Unmount: stop everything, hand over the baseline, disconnect.
fn shutdown(rc: &Rc<RefCell<Core>>) {
    let server = with_core(rc, |c| {
        let server = c.stop();
        c.alive = false;
        c.pagehide = None;
        server
    })
    .flatten();
    if let Some(s) = server {
        s.disconnect();
    }
}
