//! Heart rate from a strap emulated by WebDriver BiDi's `bluetooth` module (Chromium >= 140),
//! no hardware: the chooser, GATT connection, 0x2A37/0x2A38/0x2A19 and the CCCD are simulated
//! in the page's own browsing context (the harness's proxied browser context).
//!
//! The emulation cannot push notifications, so this route proves the app's read fallback: with
//! no packet for 2 s the app reads 0x2A37 and the test answers the read with the packet, which
//! fires `characteristicvaluechanged` on the app's characteristic. See `bt_emulation` for what
//! Chromium needs here.
//!
//! The wearer is a returning user whose calibration gives the heart weight, so the list must move.

use std::sync::Arc;

use anyhow::{ensure, Context, Result};
use attune_e2e::bidi::Bidi;
use attune_e2e::bt_emulation::{EmulatedStrap, CHROMIUM_FLAGS};
use attune_e2e::heart::LOCATION_CHEST;
use attune_e2e::heart_scenario::{self, StrapFacts};
use attune_e2e::{artifacts_dir, BrowserExtras, Harness};

const ADDRESS: &str = "09:09:09:09:09:09";
const NAME: &str = "Polar H10 E2E";
const BATTERY: u8 = 87;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bidi_emulated_strap_drives_the_heart_panel() -> Result<()> {
    let extras = BrowserExtras {
        args: CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect(),
        bidi: true,
        ..Default::default()
    };
    let mut h = Harness::start_with("heart-bidi", extras).await?;
    // A returning user whose earlier mood statements followed their heart (stored profile).
    // simulateAdapter after the (re)load: the emulation belongs to the loaded page.
    h.open_as_calibrated_wearer().await?;
    let url = h.browser.bidi_url.clone().context("no BiDi session")?;
    let bidi = Arc::new(Bidi::connect(&url)?);
    let strap = EmulatedStrap::install(
        bidi.clone(),
        &h.browser.tab,
        ADDRESS,
        NAME,
        LOCATION_CHEST,
        BATTERY,
    )
    .await?;
    let facts = StrapFacts {
        name: NAME.into(),
        location: "Chest".into(),
        battery: format!("{BATTERY}%"),
    };
    let result = heart_scenario::run(&mut h, &strap, &facts).await;
    let transcript = artifacts_dir().join("heart-bidi-transcript.txt");
    std::fs::write(&transcript, bidi.transcript().join("\n") + "\n")?;
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let msg = format!(
                "{e:#}\n{}\nBiDi log: {}",
                strap.summary(),
                transcript.display()
            );
            return h.fail(&msg).await;
        }
    };

    // The route itself: one prompt, a connection and a subscription before and after the drop,
    // every packet through an answered read, and no command of the hook refused.
    ensure!(
        strap.connect_attempts() >= 2 && strap.subscriptions() >= 2,
        "expected a connection and a subscription before and after the drop: {}",
        strap.summary()
    );
    ensure!(
        strap.reads_answered() == outcome.packets,
        "{} packets sent, {} reads answered: {}",
        outcome.packets,
        strap.reads_answered(),
        strap.summary()
    );
    let errors = bidi.hook_errors();
    ensure!(
        errors.is_empty(),
        "BiDi refused the hook's answers: {errors:?}"
    );
    println!("bidi: {outcome}; {}", strap.summary());
    drop(strap);
    drop(bidi);
    h.finish().await
}
