//! The simulated strap (a real recorded RR series replayed, no Bluetooth needed) for a new user:
//! readings appear live, the heart has the population weight (0) so the list stays as the stated
//! mood puts it, and moods stated while a stranger's heart plays never calibrate the user's own
//! weight, even once its readings are trustworthy.

use anyhow::{ensure, Result};
use attune_e2e::app::ids;
use attune_e2e::{with_ready_app, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_strap_shows_readings_and_never_calibrates() -> Result<()> {
    with_ready_app("heart-simulated", run).await
}

async fn run(h: &mut Harness) -> Result<()> {
    let cal = h.calibration().await?;
    ensure!(
        cal.source == "population" && cal.pairs == 0 && cal.weight == 0.0,
        "a new user's calibration: {cal:?}"
    );
    h.click_button("hr-simulate").await?;
    h.wait_heart_status("simulated").await?;
    h.wait_js(
        "simulated bpm readings",
        "+document.querySelector('#hr-bpm')?.dataset.bpm > 30",
    )
    .await?;
    let message = h.heart().await?.message;
    ensure!(message.contains("not your heart"), "#hr-message: {message}");
    // The replayed heart's baseline is learned from scratch: wait until its readings are good
    // enough to be paired (quality 0.5: a minute of clean data), in two steps under the wait cap.
    for q in [0.25, 0.5] {
        h.wait_js(
            &format!("the simulated reading's quality to reach {q}"),
            &format!("+document.querySelector('#hr-arousal')?.dataset.quality >= {q}"),
        )
        .await?;
    }
    h.click_mood(0.45, -0.4).await?;
    h.wait_js(
        "the stated mood",
        "(() => { const a = +document.querySelector('#mood-plane')?.dataset.arousal; \
         return a > -0.5 && a < 0; })()",
    )
    .await?;
    let recs = h.wait_recs().await?;
    let cal = h.calibration().await?;
    ensure!(
        cal.pairs == 0,
        "a mood set while the simulated strap played was paired: {cal:?}"
    );
    let view = h.heart().await?;
    let attrs = h
        .js("[document.querySelector('#hr-effect')?.dataset.changed, \
             document.querySelector('#hr-effect')?.dataset.shift]")
        .await?;
    ensure!(
        view.confidence == "0.00" && attrs[0] == "0" && attrs[1] == "0.00",
        "weight 0 must leave the list alone: confidence {}, #hr-effect {attrs}",
        view.confidence
    );
    h.click_button("hr-disconnect").await?;
    h.wait_heart_status("disconnected").await?;
    ensure!(
        ids(&h.wait_recs().await?) == ids(&recs),
        "disconnecting changed the list"
    );
    Ok(())
}
