//! "Free music for this mood": the shipped free tracks are ranked by the emotion CNN's reading
//! of each excerpt against the current state, exactly as the engine ranks them natively; a track
//! plays from a checked object URL (its 30 s decode in Chromium), and a corrupt file gets its own
//! clear message while the others still play.

use anyhow::{ensure, Context, Result};
use attune_e2e::{dist_dir, Fault, Harness};
use attune_engine::free_tracks::{FreeShelf, INDEX_FILE};
use attune_engine::Emotion;
use serde_json::Value;

const SHELF_JS: &str = "(() => { const s = document.querySelector('#free-shelf'); \
    const l = document.querySelector('#free-tracks'); \
    if (!s || s.dataset.state !== 'ready' || !l || !l.dataset.valence) return null; \
    return { valence: +l.dataset.valence, arousal: +l.dataset.arousal, \
      files: [...l.querySelectorAll('li.free-track')].map(li => li.dataset.file) }; })()";

fn shelf() -> Result<FreeShelf> {
    let text = std::fs::read_to_string(dist_dir()?.join("public").join(INDEX_FILE))?;
    Ok(FreeShelf::parse(&text)?)
}

async fn shown(h: &mut Harness) -> Result<(Emotion, Vec<String>)> {
    let v = h.wait_js("the free shelf for a mood", SHELF_JS).await?;
    let f = |x: &Value| x.as_f64().map(|x| x as f32).context("a number");
    let files = v["files"]
        .as_array()
        .context("files")?
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_string())
        .collect();
    Ok((Emotion::va(f(&v["valence"])?, f(&v["arousal"])?), files))
}

fn play_js(file: &str) -> String {
    format!(
        "document.querySelector('li.free-track[data-file=\"{file}\"] button.free-play').click(), true"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_tracks_follow_the_mood_play_here_and_a_corrupt_one_says_so() -> Result<()> {
    let shelf = shelf()?;
    // What the shelf will show for a calm, positive mood (the plane is checked below).
    let calm = shelf.for_mood(&Emotion::va(0.6, -0.6), 3);
    ensure!(calm.len() == 3, "fewer than 3 free tracks");
    let broken = calm[1].file.clone();
    let name = broken.rsplit('/').next().unwrap_or_default().to_string();
    let mut h = Harness::start("free-shelf").await?;
    h.server.set_fault(&name, Fault::Corrupt);
    h.open().await?;
    h.wait_ready().await?;
    let run = async {
        for (fx, fy) in [(0.6, -0.6), (-0.7, 0.7)] {
            h.click_mood(fx, fy).await?;
            h.wait_recs().await?;
            let (target, files) = shown(&mut h).await?;
            ensure!(
                target.valence.get().signum() == fx.signum() as f32
                    && target.arousal.get().signum() == fy.signum() as f32,
                "the shelf's target {target:?} is not the mood set ({fx}, {fy})"
            );
            let want: Vec<String> = shelf
                .for_mood(&target, 3)
                .into_iter()
                .map(|t| t.file.clone())
                .collect();
            ensure!(
                files == want,
                "shelf shows {files:?}, the engine ranks {want:?}"
            );
        }
        // Back to calm: play the first, then the corrupt one.
        h.click_mood(0.6, -0.6).await?;
        h.wait_recs().await?;
        let (_, files) = shown(&mut h).await?;
        ensure!(files.contains(&broken), "{broken} not shown: {files:?}");
        let good = files
            .iter()
            .find(|f| **f != broken)
            .context("a good track")?
            .clone();
        h.js(&play_js(&good)).await?;
        let d = h
            .wait_js(
                "the track's audio to load",
                &format!(
                    "(() => {{ const a = document.querySelector('li.free-track[data-file=\"{good}\"] audio'); \
                     return a && a.src.startsWith('blob:') && a.readyState >= 1 ? a.duration : null; }})()"
                ),
            )
            .await?;
        let d = d.as_f64().context("duration")?;
        ensure!((d - 30.0).abs() < 1.0, "the excerpt lasts {d} s, not 30");
        h.js(&play_js(&broken)).await?;
        let msg = h
            .wait_js(
                "the corrupt track's message",
                &format!(
                    "document.querySelector('li.free-track[data-file=\"{broken}\"] .free-error')?.innerText"
                ),
            )
            .await?;
        let msg = msg.as_str().unwrap_or_default();
        ensure!(
            msg.contains(&name) && msg.contains("could not be played"),
            "unclear message for a corrupt track: {msg:?}"
        );
        let still = h
            .js(&format!(
                "!!document.querySelector('li.free-track[data-file=\"{good}\"] audio')"
            ))
            .await?;
        ensure!(
            still == Value::Bool(true),
            "the good track's player went away"
        );
        // Sent whole again, the track plays after its Retry.
        h.server.clear_faults();
        h.click(&format!(
            "li.free-track[data-file=\"{broken}\"] button.free-retry"
        ))
        .await?;
        h.wait_js(
            "the retried track's audio",
            &format!(
                "(() => {{ const a = document.querySelector('li.free-track[data-file=\"{broken}\"] audio'); \
                 return !!a && a.src.startsWith('blob:') && a.readyState >= 1; }})()"
            ),
        )
        .await?;
        h.screenshot("free-shelf").await?;
        anyhow::Ok(())
    };
    if let Err(e) = run.await {
        return h.fail(&format!("{e:#}")).await;
    }
    h.finish().await
}

/// The shelf's index under HTTP 500 (from the first visit on): the card names it, the rest of the
/// page works, and its Retry brings the shelf once the server sends the index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_shelf_index_is_named_and_retry_brings_the_shelf() -> Result<()> {
    let mut h = Harness::start("free-shelf-retry").await?;
    h.server.set_fault(INDEX_FILE, Fault::ServerError);
    h.open().await?;
    h.wait_ready().await?;
    h.wait_recs().await?;
    let msg = h.wait_text("the shelf's error", "#free-error").await?;
    let name = INDEX_FILE.rsplit('/').next().unwrap_or_default();
    ensure!(
        msg.contains(name) && msg.contains("HTTP 500"),
        "unclear message for a failed shelf index: {msg:?}"
    );
    h.server.clear_faults();
    h.click("#free-retry").await?;
    h.wait_js(
        "the shelf after Retry",
        "document.querySelector('#free-shelf')?.dataset.state === 'ready' \
         && document.querySelectorAll('li.free-track').length > 0",
    )
    .await?;
    h.finish().await
}
