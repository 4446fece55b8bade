//! Starting and stopping: the simulated strap (the engine's replay of the verified demo series),
//! the user's disconnect, and the clean-up on unmount.

use super::core::{now_ms, stop_current, with_core, Core, Source, Timer};
use super::hook::Status;
use crate::assets;
use attune_engine::heart::Replay;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::rc::Rc;

pub(super) fn disconnect(rc: &Rc<RefCell<Core>>) {
    let Some((source, name)) = stop_current(rc, |c| (c.source, c.device_name())) else {
        return;
    };
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

pub(super) fn simulate(rc: &Rc<RefCell<Core>>) {
    let Some(gen) = stop_current(rc, |c| {
        c.say(
            Status::Connecting,
            "Loading the recorded heartbeat for the simulated strap\u{2026}",
        );
        c.gen
    }) else {
        return;
    };
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
pub(super) fn shutdown(rc: &Rc<RefCell<Core>>) {
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
