//! Durability of the on-device history: 1,000 mood statements written from the keyboard while the
//! page is reloaded at random points (none lost, none duplicated, in order); a full storage quota
//! is shown to the user and loses nothing; a profile from the first schema migrates.

use anyhow::{ensure, Context, Result};
use attune_e2e::Harness;
use fantoccini::key::Key;

/// Events the test writes.
const EVENTS: usize = 1000;

/// The stored profile, parsed (`null` when absent).
const PROFILE: &str = "JSON.parse(localStorage.getItem('attune.profile'))";

/// A small deterministic generator for the batch sizes (the same run every time).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// The stored history's mood events as (seq, valence).
async fn stored_moods(h: &Harness) -> Result<Vec<(u64, f64)>> {
    let v = h
        .js(&format!(
            "(({PROFILE})?.history?.events ?? []).map(e => [e.seq, e.event.kind, e.event.emotion?.valence ?? null])"
        ))
        .await?;
    let rows = v.as_array().context("history events")?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        ensure!(r[1] == "mood", "an event that is not a stated mood: {r}");
        out.push((
            r[0].as_u64().context("seq")?,
            r[2].as_f64().context("valence")?,
        ));
    }
    Ok(out)
}

/// Checks that `moods` are exactly statements 1..=n of the alternating script.
fn check_script(moods: &[(u64, f64)], n: usize) -> Result<()> {
    ensure!(
        moods.len() == n,
        "{} events stored, {n} written",
        moods.len()
    );
    for (i, &(seq, v)) in moods.iter().enumerate() {
        ensure!(
            seq == i as u64 + 1,
            "event {} has seq {seq}: lost or duplicated",
            i + 1
        );
        // Statement k (1-based) is ArrowRight (valence 0.1) when k is odd, ArrowLeft (0) when even.
        let want = if i.is_multiple_of(2) { 0.1 } else { 0.0 };
        ensure!(
            (v - want).abs() < 1e-4,
            "event {seq} has valence {v}, the script wrote {want}"
        );
    }
    Ok(())
}

async fn focus_plane(h: &mut Harness) -> Result<()> {
    h.wait_ready().await?;
    h.js("document.querySelector('#mood-plane').focus()")
        .await?;
    let f = h.focused_id().await?;
    ensure!(f == "mood-plane", "#mood-plane cannot take focus ({f})");
    Ok(())
}

/// The key that writes statement `k` (0-based) of the script.
fn key(k: usize) -> Key {
    if k.is_multiple_of(2) {
        Key::Right
    } else {
        Key::Left
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_survive_random_reloads_and_a_full_quota() -> Result<()> {
    let mut h = Harness::start("durability").await?;
    h.open().await?;
    focus_plane(&mut h).await?;
    let mut rng = Lcg(0x5eed);
    let (mut written, mut reloads) = (0usize, 0usize);
    while written < EVENTS {
        let batch = (1 + rng.below(80) as usize).min(EVENTS - written);
        for _ in 0..batch {
            h.press(key(written)).await?;
            written += 1;
        }
        // Reload at once after the batch's last key (no waiting for anything to settle).
        h.reload().await?;
        reloads += 1;
        focus_plane(&mut h).await?;
        if reloads.is_multiple_of(5) {
            check_script(&stored_moods(&h).await?, written)?;
        }
    }
    check_script(&stored_moods(&h).await?, EVENTS)?;
    println!("{EVENTS} events written across {reloads} reloads: none lost, none duplicated");

    // Fill the origin's storage with another key until the browser refuses more.
    // Chromium lets an existing key grow past the quota by an allowance, so fill with new keys
    // first, then grow one of them as far as it goes.
    let filled = h
        .js("(() => { const chunk = 'x'.repeat(256 * 1024); let n = 0; \
             try { for (;;) { localStorage.setItem('filler.' + n, chunk); n++; } } catch (e) {} \
             let extra = ''; \
             for (let k = 256 * 1024; k >= 1; k = Math.floor(k / 2)) { \
               for (;;) { try { localStorage.setItem('filler.0', chunk + extra + 'x'.repeat(k)); \
                 extra += 'x'.repeat(k); } catch (e) { break; } } } \
             return [n, extra.length]; })()")
        .await?;
    println!("storage filled: {filled}");
    let before = h.js("localStorage.getItem('attune.profile')").await?;
    h.press(key(EVENTS)).await?;
    let shown = h
        .wait_js(
            "the storage error to be shown",
            "document.querySelector('#storage-error')?.innerText",
        )
        .await?;
    let shown = shown.as_str().unwrap_or_default().to_lowercase();
    ensure!(
        shown.contains("could not save") && shown.contains("quota"),
        "#storage-error says {shown:?}"
    );
    let after = h.js("localStorage.getItem('attune.profile')").await?;
    ensure!(
        after == before,
        "the refused write changed the stored profile"
    );

    // Space again: the next statement saves both, and the error goes away.
    h.js("Object.keys(localStorage).filter(k => k.startsWith('filler.')).forEach(k => localStorage.removeItem(k))")
        .await?;
    h.press(key(EVENTS + 1)).await?;
    h.wait_js(
        "the storage error to clear",
        "!document.querySelector('#storage-error')",
    )
    .await?;
    check_script(&stored_moods(&h).await?, EVENTS + 2)?;
    h.reload().await?;
    h.wait_ready().await?;
    check_script(&stored_moods(&h).await?, EVENTS + 2)?;

    // A profile stored by the first schema (a bare list of likes) migrates on load.
    let id = h
        .wait_js(
            "a recommendation",
            "document.querySelector('#recommendations li.rec')?.dataset.artistId",
        )
        .await?;
    let id: u32 = id.as_str().context("artist id")?.parse()?;
    h.js(&format!(
        "localStorage.setItem('attune.profile', JSON.stringify({{likes: [{id}]}}))"
    ))
    .await?;
    h.reload().await?;
    h.wait_ready().await?;
    h.wait_js(
        "the migrated like in #likes",
        &format!("[...document.querySelectorAll('#likes li')].some(li => li.dataset.artistId === '{id}')"),
    )
    .await?;
    h.finish().await
}
