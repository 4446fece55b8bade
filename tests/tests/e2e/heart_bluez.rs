//! Heart rate from a strap behind a fake BlueZ on a private D-Bus system bus, no hardware:
//! Chromium's real Linux Bluetooth stack (device/bluetooth/bluez) discovers the strap, connects,
//! resolves its GATT services and receives genuine notifications (`PropertiesChanged(Value)` on
//! 0x2A37, as bluetoothd sends them). The link drop is bluetoothd's `Connected = false`.
//!
//! Order matters: the bus and every BlueZ object exist before Chromium starts (it looks for
//! `org.bluez` once per process), and Chromium finds the bus through `DBUS_SYSTEM_BUS_ADDRESS`
//! in chromedriver's environment.
//!
//! The chooser: headless Chromium has no chooser UI and no flag that picks a device (Chromium 156
//! has `--use-fake-ui-for-media-stream`, `-fedcm` and `-digital-identity`, none for Web
//! Bluetooth). WebDriver BiDi's
//! `bluetooth.requestDevicePromptUpdated` / `handleRequestDevicePrompt` (the DevTools
//! `DeviceAccess` domain underneath) works with the real adapter as well: no `simulateAdapter`
//! here. The first prompt update lists no device; the next one lists the strap by its address
//! (and with its name, unlike the emulation).

use std::sync::{Arc, Mutex};

use anyhow::{ensure, Context, Result};
use attune_e2e::bidi::{accept_device_prompt, Bidi};
use attune_e2e::bluez::{FakeBluez, StrapSpec, SystemBus};
use attune_e2e::bt_emulation::CHROMIUM_FLAGS;
use attune_e2e::heart::LOCATION_CHEST;
use attune_e2e::heart_scenario::{self, StrapFacts};
use attune_e2e::{artifacts_dir, wait_for, BrowserExtras, Harness};
use serde_json::json;

const ADDRESS: &str = "C0:FF:EE:00:00:01";
const NAME: &str = "Polar H10 BlueZ";
const BATTERY: u8 = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bluez_strap_drives_the_heart_panel() -> Result<()> {
    let bus = SystemBus::start()?;
    let spec = StrapSpec {
        address: ADDRESS.into(),
        name: NAME.into(),
        body_location: LOCATION_CHEST,
        battery: BATTERY,
    };
    let bluez = FakeBluez::start(bus.address(), &spec).await?;
    let extras = BrowserExtras {
        args: CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect(),
        driver_env: vec![bus.env()],
        bidi: true,
        ..BrowserExtras::default()
    };
    let mut h = Harness::start_with("heart-bluez", extras).await?;
    // A returning user whose earlier mood statements followed their heart: the list must move.
    h.open_as_calibrated_wearer().await?;

    let url = h.browser.bidi_url.clone().context("no BiDi session")?;
    let bidi = Bidi::connect(&url)?;
    let tab = h.browser.tab.clone();
    let answered = Arc::new(Mutex::new(Vec::new()));
    let (ctx, seen) = (tab.clone(), answered.clone());
    bidi.set_hook(Box::new(move |ev| {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        accept_device_prompt(ev, &ctx, ADDRESS, &mut seen)
            .into_iter()
            .collect()
    }));
    bidi.call(
        "session.subscribe",
        json!({ "events": ["bluetooth"], "contexts": [tab] }),
    )
    .await?;

    let facts = StrapFacts {
        name: NAME.into(),
        location: "Chest".into(),
        battery: format!("{BATTERY}%"),
    };
    let result = heart_scenario::run(&mut h, &bluez, &facts).await;
    let transcript = artifacts_dir().join("heart-bluez-transcript.txt");
    let log = [bidi.transcript(), vec![String::new()], bluez.calls()].concat();
    std::fs::write(&transcript, log.join("\n") + "\n")?;
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let msg = format!("{e:#}\n{}\nlog: {}", bluez.summary(), transcript.display());
            return h.fail(&msg).await;
        }
    };

    // The route itself: Chromium discovered, connected twice, subscribed twice, and the user's
    // Disconnect reached bluetoothd as Device1.Disconnect.
    wait_for("Device1.Disconnect after the user's Disconnect", || {
        bluez
            .calls()
            .iter()
            .any(|c| c == "Device1.Disconnect")
            .then_some(())
    })
    .await
    .with_context(|| bluez.summary())?;
    let calls = bluez.calls();
    let count = |name: &str| calls.iter().filter(|c| c.starts_with(name)).count();
    ensure!(
        count("Adapter1.StartDiscovery") >= 1
            && count("Device1.Connect") >= 2
            && count("GattCharacteristic1.StartNotify 00002a37") >= 2,
        "expected discovery, two connections and two subscriptions: {}",
        bluez.summary()
    );
    ensure!(
        answered.lock().map(|a| a.len()).unwrap_or(0) == 1,
        "expected exactly one chooser prompt answered"
    );
    let errors = bidi.hook_errors();
    ensure!(
        errors.is_empty(),
        "BiDi refused the prompt answer: {errors:?}"
    );
    println!("bluez: {outcome}; {}", bluez.summary());
    drop(bidi);
    h.finish().await?;
    drop(bluez);
    drop(bus);
    Ok(())
}
