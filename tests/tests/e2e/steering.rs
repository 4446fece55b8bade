//! Explanations and steering: every recommendation says which signals drove it (shares that add
//! up), offers an outbound "Listen" link that fetches nothing until clicked, and can be excluded
//! ("Not for me"), which survives a reload and can be taken back.

use anyhow::{ensure, Context, Result};
use attune_e2e::app::ids;
use attune_e2e::{with_ready_app, Harness};

/// The first recommendation's id, its "Why?" lines (signal, text) and its listen link.
const FIRST_JS: &str = "(() => { const li = document.querySelector('#recommendations li.rec'); \
    const a = li.querySelector('a.rec-listen'); \
    return { id: li.dataset.artistId, \
      why: [...li.querySelectorAll('.rec-why li')].map(x => [x.dataset.signal, x.textContent]), \
      href: a.href, target: a.target, rel: a.rel, open: li.querySelector('.rec-why').open }; })()";

/// The percentage in "(NN% of the score)".
fn share(text: &str) -> Option<f64> {
    let start = text.find('(')? + 1;
    let end = text[start..].find('%')? + start;
    text[start..end].parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn why_listen_and_not_for_me() -> Result<()> {
    with_ready_app("steering", run).await
}

async fn run(h: &mut Harness) -> Result<()> {
    h.like_artist("Radiohead").await?;
    h.like_artist("Portishead").await?;
    h.click_mood(-0.3, -0.5).await?;
    h.wait_recs().await?;

    // "Why?": taste (naming a liked artist) and mood, whose shares add up to 100%.
    h.click("#recommendations li.rec .rec-why summary").await?;
    let first = h.js(FIRST_JS).await?;
    ensure!(first["open"] == true, "Why? did not open: {first}");
    let why = first["why"].as_array().context("no why lines")?;
    let line = |signal: &str| {
        why.iter()
            .find(|l| l[0] == signal)
            .and_then(|l| l[1].as_str())
            .map(str::to_string)
    };
    let taste = line("taste").with_context(|| format!("no taste line: {first}"))?;
    let mood = line("mood").with_context(|| format!("no mood line: {first}"))?;
    ensure!(
        taste.contains("Radiohead") || taste.contains("Portishead"),
        "the taste line names no liked artist: {taste}"
    );
    ensure!(mood.contains("emotional fit"), "mood line: {mood}");
    let (t, m) = (share(&taste), share(&mood));
    ensure!(
        matches!((t, m), (Some(t), Some(m)) if (t + m - 100.0).abs() <= 1.0),
        "shares {t:?} + {m:?} should make 100%: {taste} / {mood}"
    );

    // "Listen": an outbound link that only a click would follow (the harness checks no request
    // left the origin).
    let href = first["href"].as_str().unwrap_or_default();
    ensure!(
        href.starts_with("https://www.last.fm/music/")
            && first["target"] == "_blank"
            && first["rel"]
                .as_str()
                .is_some_and(|r| r.contains("noopener")),
        "listen link: {first}"
    );

    // "Not for me": gone from the list, listed as excluded, still so after a reload.
    let id = first["id"].as_str().context("no id")?.to_string();
    let before = h.wait_recs().await?;
    h.click("#recommendations li.rec:first-child button.rec-exclude")
        .await?;
    let after = h
        .wait_recs_change("excluding the first pick", &before)
        .await?;
    ensure!(
        !ids(&after).contains(&id.as_str()) && after.len() == before.len(),
        "after excluding {id}: {:?}",
        ids(&after)
    );
    let excluded_js =
        "[...document.querySelectorAll('#excluded li')].map(li => li.dataset.artistId)";
    ensure!(
        h.js(excluded_js).await? == serde_json::json!([id]),
        "#excluded: {}",
        h.js(excluded_js).await?
    );
    h.reload().await?;
    h.wait_ready().await?;
    let reloaded = h.wait_recs().await?;
    ensure!(
        ids(&reloaded) == ids(&after),
        "after reload {:?}, expected {:?}",
        ids(&reloaded),
        ids(&after)
    );

    // Taken back: the pick returns to its place.
    h.click("#excluded li button.include").await?;
    let back = h
        .wait_recs_change("taking the exclusion back", &reloaded)
        .await?;
    ensure!(
        ids(&back) == ids(&before),
        "after taking it back {:?}, expected {:?}",
        ids(&back),
        ids(&before)
    );
    ensure!(
        h.js(excluded_js).await? == serde_json::json!([]),
        "#excluded should be gone"
    );
    Ok(())
}
