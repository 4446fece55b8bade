//! `use_heart_rate`: a reactive hook (in the style of leptos-use) over a Bluetooth heart-rate strap
//! or the simulated one.
//!
//! Every packet, whether notified, read or replayed, goes through the engine's parser into one
//! `HeartSignal` ([`super::core`]). The hook owns the connection: it reads 0x2A37 when notifications
//! stall, reconnects with backoff when the strap drops ([`super::strap`]), keeps the signal and the
//! chart across reconnects, hands the learned baseline to its owner, and removes every listener and
//! timer on disconnect and unmount ([`super::session`]).

use super::ble::{self, Listener};
use super::core::{now_ms, with_core, Core, Source};
use super::{session, strap};
use attune_engine::heart::{ArousalEstimate, HeartBaseline, HeartSignal};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// Waits before each reconnection try (ms); the length is the number of tries.
pub const BACKOFF_MS: [u32; 5] = [1_000, 2_000, 4_000, 8_000, 8_000];
/// With no packet for this long, the measurement is read instead (ms).
pub const POLL_MS: f64 = 2_000.0;
/// How much history the chart keeps (ms).
pub const HISTORY_MS: f64 = 120_000.0;

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
        strap::connect(&self.0);
    }

    /// Starts the simulated strap (stops a real one first).
    pub fn simulate(&self) {
        session::simulate(&self.0);
    }

    /// Disconnects by the user's choice: no automatic reconnection follows.
    pub fn disconnect(&self) {
        session::disconnect(&self.0);
    }

    /// Forgets the learned resting baseline (the user deleted their data): a connected strap
    /// learns it again from scratch instead of saving the old one back.
    pub fn forget_baseline(&self) {
        with_core(&self.0, |c| c.forget_baseline());
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
            session::shutdown(&core);
        }
    });
    (out, HeartControls(core))
}
