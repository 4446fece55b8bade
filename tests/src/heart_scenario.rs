//! The heart-rate end-to-end scenario, the same for every way of faking a strap
//! ([`crate::bt_emulation`], [`crate::bluez`]): connect through the chooser, a resting phase of
//! 8-bit and 16-bit packets with RR intervals, malformed packets, the link dropping mid-stream
//! and coming back, an exercise phase, then what the page shows and what the list did. The wearer's
//! calibration gives the heart weight; a mood stated at rest becomes one more calibration pair, and
//! the list moves with the heart.
//!
//! Every wait is event-driven (page state or strap state) with [`crate::wait_cap`] as a cap.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};

use crate::app::{ids, Rec};
use crate::heart::{
    exercise_phase, malformed_packets, number, rest_phase, rest_rmssd_ms, CalibrationView,
    HeartView, Packet,
};
use crate::Harness;

/// One way of faking a heart-rate strap, as the scenario drives it.
#[allow(async_fn_in_trait)] // used by this crate's tests only, on one runtime
pub trait StrapDriver {
    /// Name of the route, for messages.
    fn route(&self) -> &'static str;
    /// The least time between two packets (the engine dates readings by arrival; a real strap
    /// sends one a second). Zero when the app's own polling paces delivery.
    fn period(&self) -> Duration;
    /// Hands one packet to the page.
    async fn send(&self, bytes: &[u8]) -> Result<()>;
    /// Returns once the page has been given every packet sent so far.
    async fn settle(&self) -> Result<()>;
    /// Waits until the app receives packets from its `n`-th connection (1 = the first).
    async fn wait_streaming(&self, n: usize) -> Result<()>;
    /// The link drops without the page asking; later connection attempts are held.
    async fn drop_link_and_hold(&self) -> Result<()>;
    /// Waits until a reconnection attempt is held.
    async fn wait_held_connect(&self) -> Result<()>;
    /// Lets held and later connection attempts succeed.
    async fn release_connects(&self) -> Result<()>;
    /// A line about the fake strap's state, for failures.
    fn summary(&self) -> String;
}

/// What the fake strap advertises, as the page should show it.
#[derive(Clone, Debug)]
pub struct StrapFacts {
    /// `#hr-device`.
    pub name: String,
    /// `#hr-location` (0x2A38 = 1).
    pub location: String,
    /// `#hr-battery`, e.g. "87%".
    pub battery: String,
}

/// What a run observed, for the test's own extra checks and its log.
#[derive(Debug)]
pub struct Outcome {
    /// Recommendations at rest, after the mood stated there.
    pub before: Vec<Rec>,
    /// Recommendations at the end of the exercise phase.
    pub after: Vec<Rec>,
    /// `#hr-rmssd` at the end of the resting phase.
    pub rmssd_rest: f64,
    /// `data-arousal` at the end of the resting phase.
    pub arousal_rest: f64,
    /// `data-arousal` after the exercise phase.
    pub arousal_exercise: f64,
    /// `data-confidence` after the exercise phase.
    pub confidence: f64,
    /// `#hr-effect` at the end.
    pub effect: String,
    /// Packets the page was sent (good and malformed).
    pub packets: usize,
    /// `#hr-calibration` at the end.
    pub calibration: CalibrationView,
}

/// One line for the test's log: packets, RMSSD, arousal and confidence, how the list moved, the
/// effect sentence and the calibration.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} packets; RMSSD {} ms; arousal {:.2} -> {:.2} (confidence {:.2}); \
             recommendations {:?} -> {:?}; effect: {}; calibration {:?}",
            self.packets,
            self.rmssd_rest,
            self.arousal_rest,
            self.arousal_exercise,
            self.confidence,
            ids(&self.before),
            ids(&self.after),
            self.effect,
            self.calibration
        )
    }
}

/// The arousal estimate must rise at least this much from rest to exercise.
pub const MIN_AROUSAL_RISE: f64 = 0.25;

/// Pairs in [`crate::heart::calibrated_profile_json`].
pub const SEEDED_PAIRS: u32 = 16;

/// Runs the scenario on an open, ready page with the fake strap in place, worn by the returning
/// user of [`crate::heart::calibrated_profile_json`] (whose heart has weight).
pub async fn run(h: &mut Harness, strap: &impl StrapDriver, facts: &StrapFacts) -> Result<Outcome> {
    let route = strap.route();
    let start = h.heart().await?;
    let cal = h.calibration().await?;
    ensure!(
        cal.source == "personal" && cal.pairs == SEEDED_PAIRS && cal.weight > 0.0,
        "[{route}] the calibrated wearer's #hr-calibration is {cal:?}"
    );
    ensure!(
        start.status == "idle",
        "[{route}] #hr-status should be idle with Web Bluetooth available, is {:?} ({})",
        start.status,
        start.message
    );

    // A stated mood first: calm and positive, as a user at rest would set it.
    h.click_mood(0.5, -0.6).await?;
    h.wait_js(
        "a calm mood (arousal < 0)",
        "+document.querySelector('#mood-plane')?.dataset.arousal < 0",
    )
    .await?;
    h.wait_recs().await?;

    // Connect: the click opens the chooser, the test's BiDi hook picks the strap.
    h.click_button("hr-connect").await?;
    h.wait_heart_status("connected").await?;
    strap
        .wait_streaming(1)
        .await
        .with_context(|| strap.summary())?;
    let facts_js = format!(
        "(() => {{ const t = s => (document.querySelector(s)?.textContent ?? '').trim(); \
         return t('#hr-device') === {} && t('#hr-location') === {} && t('#hr-battery') === {}; }})()",
        serde_json::to_string(&facts.name)?,
        serde_json::to_string(&facts.location)?,
        serde_json::to_string(&facts.battery)?
    );
    h.wait_js(
        &format!("device {facts:?} on the page (0x2A38, 0x2A19 read)"),
        &facts_js,
    )
    .await?;
    h.screenshot("connected").await?;

    // Resting phase: every bpm shown is the packet's; RMSSD is the oracle's.
    let mut sent = 0;
    let mut last = None;
    let mut last_bpm = 0;
    for p in rest_phase() {
        send(h, strap, &p, &mut last).await?;
        sent += 1;
        last_bpm = p.bpm;
    }
    let want = rest_rmssd_ms();
    let rmssd_rest = h
        .wait_js(
            &format!("#hr-rmssd to show {want:.0} ms (RMSSD of the RR intervals sent)"),
            &format!(
                "(() => {{ const v = parseFloat(document.querySelector('#hr-rmssd')?.textContent); \
                 return Math.abs(v - {want}) <= 1 && v; }})()"
            ),
        )
        .await?
        .as_f64()
        .unwrap_or_default();
    let rest = h.heart().await?;
    let arousal_rest = number("data-arousal after the resting phase", &rest.arousal)?;

    // A mood stated now pairs with the heart's reading (trustworthy: fresh, clean, baseline learned).
    h.click_mood(0.45, -0.4).await?;
    h.wait_js(
        "the mood stated at rest (arousal > -0.5)",
        "(() => { const a = +document.querySelector('#mood-plane')?.dataset.arousal; \
         return a > -0.5 && a < 0; })()",
    )
    .await?;
    let pairs = SEEDED_PAIRS + 1;
    h.wait_js(
        &format!("#hr-calibration[data-pairs={pairs}] after the mood stated at rest"),
        &format!("document.querySelector('#hr-calibration')?.dataset.pairs === '{pairs}'"),
    )
    .await?;
    let before = h.wait_recs().await?;
    h.screenshot("resting").await?;

    // Malformed packets: each is rejected with a reason, the last good bpm stays.
    let mut error = rest.packet_error.clone();
    for (label, bytes) in malformed_packets() {
        strap_pace(strap, &mut last).await;
        strap.send(&bytes).await?;
        strap.settle().await?;
        sent += 1;
        error = h
            .wait_packet_error_change(&error)
            .await
            .with_context(|| format!("[{route}] malformed packet ({label}) {bytes:02x?}"))?;
        let v = h.heart().await?;
        ensure!(
            v.bpm == last_bpm.to_string(),
            "[{route}] after the malformed packet ({label}) #hr-bpm is {:?}, expected the last \
             good {last_bpm}",
            v.bpm
        );
    }
    h.screenshot("malformed").await?;

    // The link drops mid-stream: the page reconnects by itself.
    strap.drop_link_and_hold().await?;
    h.wait_heart_status("reconnecting").await?;
    strap
        .wait_held_connect()
        .await
        .with_context(|| strap.summary())?;
    h.screenshot("reconnecting").await?;
    strap.release_connects().await?;
    h.wait_heart_status("connected").await?;
    strap
        .wait_streaming(2)
        .await
        .with_context(|| strap.summary())?;
    let back = h.heart().await?;
    ensure!(
        back.bpm == last_bpm.to_string(),
        "[{route}] after reconnecting #hr-bpm is {:?}, expected {last_bpm} kept",
        back.bpm
    );

    // Exercise phase: the arousal estimate rises.
    for p in exercise_phase() {
        send(h, strap, &p, &mut last).await?;
        sent += 1;
    }
    let rise = arousal_rest + MIN_AROUSAL_RISE;
    h.wait_js(
        &format!("data-arousal above {rise:.2} (resting {arousal_rest:.2})"),
        &format!("+document.querySelector('#hr-arousal')?.dataset.arousal >= {rise}"),
    )
    .await?;
    let ex = h.heart().await?;
    let arousal_exercise = number("data-arousal after exercise", &ex.arousal)?;
    let confidence = number("data-confidence after exercise", &ex.confidence)?;
    ensure!(
        (0.0..=1.0).contains(&confidence),
        "[{route}] data-confidence {confidence} is outside [0, 1]"
    );

    // The list: the heart has weight, so the fused state moves it.
    let cal = h.calibration().await?;
    ensure!(
        confidence > 0.0 && cal.pairs == pairs,
        "[{route}] after exercise: data-confidence {confidence}, {cal:?}"
    );
    let after = h
        .wait_recs_change("the heart's arousal rose with weight", &before)
        .await?;
    let changed = h
        .js("document.querySelector('#hr-effect')?.dataset.changed ?? ''")
        .await?;
    ensure!(
        changed.as_str().and_then(|c| c.parse::<u32>().ok()) > Some(0),
        "[{route}] #hr-effect[data-changed] is {changed} after the list moved"
    );
    let effect = h.heart().await?.effect;
    ensure!(!effect.is_empty(), "[{route}] #hr-effect is empty");
    h.screenshot("exercise").await?;

    // The user deletes their data while the strap is still connected, then disconnects (no
    // reconnection follows): the learned resting baseline must not be saved back.
    h.click_button("data-delete").await?;
    h.click_button("data-delete-yes").await?;
    h.wait_js(
        "everything deleted",
        "document.querySelector('#data-message')?.dataset.kind === 'done'",
    )
    .await?;
    h.click_button("hr-disconnect").await?;
    h.wait_heart_status("disconnected").await?;
    let stored = h.stored_profile().await?;
    ensure!(
        stored.heart_baseline.is_none() && stored.heart_calibration.is_empty(),
        "[{route}] heart data came back after deleting everything: {}",
        stored.to_json()
    );
    Ok(Outcome {
        before,
        after,
        rmssd_rest,
        arousal_rest,
        arousal_exercise,
        confidence,
        effect,
        packets: sent,
        calibration: cal,
    })
}

/// Keeps packets at least [`StrapDriver::period`] apart (pacing, not an assertion).
async fn strap_pace(strap: &impl StrapDriver, last: &mut Option<Instant>) {
    if let Some(t) = *last {
        tokio::time::sleep(strap.period().saturating_sub(t.elapsed())).await;
    }
    *last = Some(Instant::now());
}

/// Sends one good packet and waits for the page to show its bpm.
async fn send(
    h: &mut Harness,
    strap: &impl StrapDriver,
    p: &Packet,
    last: &mut Option<Instant>,
) -> Result<HeartView> {
    strap_pace(strap, last).await;
    let bytes = p.encode();
    strap.send(&bytes).await?;
    strap.settle().await?;
    h.wait_bpm(p.bpm)
        .await
        .with_context(|| format!("[{}] packet {bytes:02x?} ({p:?})", strap.route()))
        .with_context(|| strap.summary())
}
