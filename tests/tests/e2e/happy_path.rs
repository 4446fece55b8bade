//! Set a mood, like three artists, get ten recommendations, reload and keep it all.

use anyhow::{ensure, Result};
use attune_e2e::app::ids;
use attune_e2e::{Harness, DESKTOP, PHONE};
use fantoccini::key::Key;

const ARTISTS: [&str; 3] = ["Radiohead", "Coldplay", "Daft Punk"];

/// JS reading the mood plane as `[valence, arousal]` numbers.
const MOOD: &str = "[+document.querySelector('#mood-plane').dataset.valence, \
                     +document.querySelector('#mood-plane').dataset.arousal]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mood_likes_recommendations_survive_reload() -> Result<()> {
    let mut h = Harness::start("happy-path").await?;
    h.open().await?;
    h.wait_ready().await?;
    h.screenshot("ready").await?;

    // Lower right of the plane: calm and positive.
    h.click_mood(0.6, -0.6).await?;
    h.wait_js(
        "a calm, positive mood (valence > 0, arousal < 0)",
        &format!("(([v, a]) => v > 0 && a < 0)({MOOD})"),
    )
    .await?;
    let (v, a) = h.mood().await?;
    let calm_label = h.mood_label().await?;
    ensure!(!calm_label.is_empty(), "#mood-label is empty");

    // Arrow keys move the focused plane by 0.1.
    h.js("document.querySelector('#mood-plane').focus()")
        .await?;
    let focused = h.focused_id().await?;
    ensure!(
        focused == "mood-plane",
        "#mood-plane cannot take focus (focused: {focused})"
    );
    h.press(Key::Left).await?;
    h.wait_js(
        &format!("ArrowLeft to move valence from {v} to {:.2}", v - 0.1),
        &format!("(([nv, na]) => Math.abs(nv - ({v} - 0.1)) < 0.011 && Math.abs(na - {a}) < 0.011)({MOOD})"),
    )
    .await?;

    let mut liked = Vec::new();
    for name in ARTISTS {
        liked.push(h.like_artist(name).await?);
    }
    let likes = h.likes().await?;
    ensure!(
        likes.len() == 3,
        "#likes should hold 3 artists, has {likes:?}"
    );
    ensure!(
        liked.iter().all(|id| likes.contains(id)),
        "#likes {likes:?} lacks one of {liked:?}"
    );

    let calm = h.wait_recs().await?;
    h.screenshot("calm-positive-with-likes").await?;
    h.clear_search().await?;
    h.docs_screenshot("screenshot.png", DESKTOP, false).await?;

    // Opposite corner, top left: energetic and dark.
    h.click_mood(-0.6, 0.6).await?;
    h.wait_js(
        "an energetic, dark mood (valence < 0, arousal > 0)",
        &format!("(([v, a]) => v < 0 && a > 0)({MOOD})"),
    )
    .await?;
    let dark_label = h.mood_label().await?;
    ensure!(
        dark_label != calm_label,
        "#mood-label stayed {calm_label:?} in the opposite corner"
    );
    let dark = h
        .wait_recs_change("moving the mood to energetic and dark", &calm)
        .await?;
    h.screenshot("energetic-dark").await?;

    // The picks are drawn on the plane, numbered in list order, and follow the list.
    let marks = h
        .wait_js(
            "the picks on the plane to follow the list",
            &format!(
                "(() => {{ const m = [...document.querySelectorAll('#mood-plane .rec-mark')] \
                 .map(g => g.dataset.artistId); \
                 const r = {}; \
                 return m.length >= 5 && m.every(id => r.includes(id)) \
                   && m.join() === r.filter(id => m.includes(id)).join() && m; }})()",
                serde_json::to_string(&ids(&dark))?
            ),
        )
        .await?;
    ensure!(
        marks.as_array().is_some_and(|m| m.len() <= 10),
        "marks {marks}"
    );

    // Mood strength to the far end: the blend of taste and mood changes.
    let s0 = h.strength().await?;
    let target = if s0 >= 50.0 { 0 } else { 100 };
    h.set_strength(target).await?;
    let blended = h
        .wait_recs_change(&format!("mood strength {s0} -> {target}"), &dark)
        .await?;
    ensure!(
        h.strength().await? == f64::from(target),
        "#mood-strength did not keep {target}"
    );
    h.screenshot("strength").await?;

    // Reload in the same session: likes and mood are kept.
    let mood_before = h.mood().await?;
    h.reload().await?;
    h.wait_ready().await?;
    let mut after = h.likes().await?;
    after.sort();
    liked.sort();
    ensure!(
        after == liked,
        "likes after reload {after:?}, before {liked:?}"
    );
    let mood_after = h.mood().await?;
    ensure!(
        mood_after == mood_before,
        "mood after reload {mood_after:?}, before {mood_before:?}"
    );
    let reloaded = h.wait_recs().await?;
    h.screenshot("reloaded").await?;
    println!(
        "recommendations: calm {:?}\n dark {:?}\n strength {target} {:?}\n reloaded {:?}",
        ids(&calm),
        ids(&dark),
        ids(&blended),
        ids(&reloaded)
    );

    h.emulate_viewport(PHONE, true).await?;
    h.wait_js(
        "the phone viewport",
        &format!("screen.width === {}", PHONE.0),
    )
    .await?;
    let phone = h.screenshot("phone").await?;
    let size = attune_e2e::png_size(&std::fs::read(&phone)?);
    ensure!(
        size == Some(PHONE),
        "phone screenshot is {size:?}, expected {PHONE:?}"
    );
    h.docs_screenshot("screenshot-phone.png", PHONE, true)
        .await?;

    h.finish().await
}
