//! The Bluetooth flows: choose and connect a strap, subscribe to 0x2A37 (with a read fallback when
//! notifications stall), read 0x2A38 and 0x2A19, and reconnect with backoff when the link drops.

use super::ble::{self, Listener, Step};
use super::core::{now_ms, stop_current, with_core, Core, Live, Source, Timer};
use super::hook::{Status, BACKOFF_MS, POLL_MS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use web_sys::{BluetoothDevice, BluetoothRemoteGattCharacteristic, Event};

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

pub(super) fn connect(rc: &Rc<RefCell<Core>>) {
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
    let Some(gen) = stop_current(rc, |c| {
        c.user_disconnect = false;
        c.gen
    }) else {
        return;
    };
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
