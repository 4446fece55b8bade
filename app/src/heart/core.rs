//! The hook's mutable state, outside the reactive graph (it holds JavaScript objects), and the one
//! packet path: every packet, whether notified, read or replayed, is parsed by the engine's
//! [`parse_measurement`] and fed to one [`HeartSignal`].

use super::ble::{self, Link, Listener};
use super::hook::{HeartRate, Sample, Status, HISTORY_MS, POLL_MS};
use attune_engine::heart::{parse_measurement, HeartBaseline, HeartSignal, Replay, SensorContact};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;
use web_sys::BluetoothDevice;

/// How often a learned baseline is handed over while a strap is connected (ms).
const SAVE_EVERY_MS: f64 = 15_000.0;
/// Most samples kept (bounds memory whatever the packet rate).
const MAX_SAMPLES: usize = 600;

/// Where packets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    None,
    Strap,
    Demo,
}

/// A repeating timer, cleared when dropped.
pub(super) struct Timer(IntervalHandle);

impl Timer {
    pub(super) fn every(ms: u64, core: &Rc<RefCell<Core>>, f: fn(&mut Core)) -> Option<Timer> {
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
pub(super) struct Live {
    pub(super) link: Link,
    /// Kept for its `Drop`, which removes the 0x2A37 listener.
    pub(super) _measurement: Listener,
    pub(super) battery: Option<Listener>,
}

/// The hook's mutable state, outside the reactive graph (it holds JavaScript objects).
pub(super) struct Core {
    pub(super) me: Weak<RefCell<Core>>,
    pub(super) out: HeartRate,
    pub(super) on_baseline: Rc<dyn Fn(HeartBaseline)>,
    /// The baseline last handed to `on_baseline` (a new strap signal starts from it).
    pub(super) saved: HeartBaseline,
    /// Bumped whenever a flow starts or stops; async work that finds it changed gives up.
    pub(super) gen: u32,
    pub(super) alive: bool,
    pub(super) user_disconnect: bool,
    pub(super) source: Source,
    pub(super) signal: HeartSignal,
    pub(super) device: Option<BluetoothDevice>,
    pub(super) device_listener: Option<Listener>,
    pub(super) live: Option<Live>,
    pub(super) poll: Option<Timer>,
    pub(super) ticker: Option<Timer>,
    pub(super) replay: Option<(Replay, Timer)>,
    pub(super) last_packet_ms: f64,
    pub(super) read_in_flight: bool,
    pub(super) last_saved_ms: f64,
    pub(super) pagehide: Option<Listener>,
}

impl Core {
    /// Whether async work started at `gen` may still act.
    pub(super) fn current(&self, gen: u32) -> bool {
        self.alive && self.gen == gen
    }

    pub(super) fn say(&self, status: Status, message: impl Into<String>) {
        self.out.status.try_set(status);
        self.out.message.try_set(message.into());
    }

    pub(super) fn device_name(&self) -> String {
        self.device
            .as_ref()
            .map(ble::device_name)
            .unwrap_or_else(|| "your strap".into())
    }

    /// One packet from any source: parse, feed the signal, update the outputs.
    pub(super) fn packet(&mut self, bytes: &[u8], at_ms: f64) {
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
    pub(super) fn tick(&mut self) {
        let now = now_ms();
        self.out.now_ms.try_set(now);
        self.out.estimate.try_set(self.signal.estimate(now));
        self.save_baseline(false);
    }

    /// With no packet for [`POLL_MS`], reads the measurement; the read fires
    /// `characteristicvaluechanged`, so the packet is handled by the listener only.
    pub(super) fn poll(&mut self) {
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
    pub(super) fn replay(&mut self) {
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
    /// Drops the learned and the saved baseline.
    pub(super) fn forget_baseline(&mut self) {
        self.saved = HeartBaseline::EMPTY;
        if self.source == Source::Strap {
            self.signal.reset_baseline();
        }
    }

    pub(super) fn save_baseline(&mut self, force: bool) {
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
    pub(super) fn stop(&mut self) -> Option<web_sys::BluetoothRemoteGattServer> {
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
    pub(super) fn reset_for(&mut self, source: Source) {
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
pub(super) fn with_core<R>(rc: &Rc<RefCell<Core>>, f: impl FnOnce(&mut Core) -> R) -> Option<R> {
    let mut c = rc.try_borrow_mut().ok()?;
    Some(f(&mut c))
}

/// Stops whatever runs and clears "reconnectable", runs `then` with the core still borrowed, and
/// disconnects the old GATT server once the borrow is released (disconnecting fires
/// `gattserverdisconnected` at once). `None` (and nothing done) if the core is busy.
pub(super) fn stop_current<R>(
    rc: &Rc<RefCell<Core>>,
    then: impl FnOnce(&mut Core) -> R,
) -> Option<R> {
    let (server, r) = with_core(rc, |c| {
        let server = c.stop();
        c.out.reconnectable.try_set(false);
        (server, then(c))
    })?;
    if let Some(s) = server {
        s.disconnect();
    }
    Some(r)
}

pub(super) fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}
