//! Durability of the profile in IndexedDB:
//! - 1,000 mood statements from the keyboard with the page reloaded at random points: none lost,
//!   none duplicated, in order; a full storage quota is shown and loses nothing;
//! - three tabs writing 1,000 events each in random interleavings, with reloads and one tab
//!   killed mid-write: every event of every page load is stored exactly once, and every tab shows
//!   the same profile as the store;
//! - a like in one tab reaches the other and re-ranks its list;
//! - the `localStorage` profile of every earlier schema moves into the store, byte for byte;
//! - a corrupt or foreign record is set aside; a browser without IndexedDB keeps the profile in
//!   memory and says so.

use anyhow::{ensure, Context, Result};
use attune_e2e::app::StoredJournal;
use attune_e2e::Harness;
use attune_engine::journal::{fingerprint, WriterId};
use attune_engine::Profile;
use fantoccini::key::Key;
use std::collections::BTreeMap;
use std::time::Duration;

/// Events the single-tab test writes, and each tab of the three-tab test.
const EVENTS: usize = 1000;

/// A small deterministic generator (the same run every time).
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

/// The stored history's mood events as (seq, valence), from IndexedDB folded by the engine.
async fn stored_moods(h: &Harness) -> Result<Vec<(u64, f64)>> {
    let p = h.stored_profile().await?;
    p.history
        .events()
        .iter()
        .map(|e| match &e.event {
            attune_engine::history::Event::Mood { emotion } => {
                Ok((e.seq, f64::from(emotion.valence.get())))
            }
            other => anyhow::bail!("an event that is not a stated mood: {other:?}"),
        })
        .collect()
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

/// Waits until the store holds `n` stated moods (a reload's write-ahead copy is replayed by the
/// next page), then checks the script.
async fn wait_script(h: &mut Harness, n: usize) -> Result<()> {
    let start = std::time::Instant::now();
    loop {
        let moods = stored_moods(h).await?;
        if moods.len() >= n || start.elapsed() > attune_e2e::wait_cap() {
            return check_script(&moods, n);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

/// Runs `f(n)` until it gives `Some`, or fails with `what` after the harness's cap.
async fn poll<T, F, Fut>(what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        ensure!(
            start.elapsed() < attune_e2e::wait_cap(),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Deletes the IndexedDB database `name` (resolves even while a page still holds it open: the
/// app closes its connection when asked).
async fn delete_database(h: &Harness, name: &str) -> Result<()> {
    h.js(&format!(
        "new Promise(ok => {{ const r = indexedDB.deleteDatabase({}); \
          r.onsuccess = r.onerror = r.onblocked = () => ok(true); }})",
        serde_json::to_string(name)?
    ))
    .await?;
    Ok(())
}

/// The stored log's entry count (0 without a database).
async fn log_len(h: &Harness) -> Result<usize> {
    Ok(h.stored().await?.map_or(0, |s| s.log.len()))
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
        burst(&h, batch, written).await?;
        written += batch;
        // Reload at once after the batch's last key (no waiting for anything to settle).
        h.reload().await?;
        reloads += 1;
        focus_plane(&mut h).await?;
        if reloads.is_multiple_of(5) {
            wait_script(&mut h, written).await?;
        }
    }
    wait_script(&mut h, EVENTS).await?;
    println!("{EVENTS} events written across {reloads} reloads: none lost, none duplicated");

    // A quota just above what the origin uses now, then another database fills it (halving its
    // record on every refusal, down to 8 bytes, so that no room is left).
    let origin = h.server.origin();
    let usage = h
        .js("navigator.storage.estimate().then(e => e.usage)")
        .await?
        .as_f64()
        .context("storage usage")?;
    h.browser
        .cdp(
            "Storage.overrideQuotaForOrigin",
            serde_json::json!({ "origin": origin, "quotaSize": usage + 512.0 * 1024.0 }),
        )
        .await?;
    let filled = h
        .js("(async () => { const db = await new Promise((ok, bad) => { \
               const r = indexedDB.open('filler', 1); \
               r.onupgradeneeded = () => r.result.createObjectStore('x'); \
               r.onsuccess = () => ok(r.result); r.onerror = () => bad(r.error); }); \
             let n = 0, size = 32 * 1024, last = 'never full'; \
             while (size >= 8 && n < 100000) { try { await new Promise((ok, bad) => { \
               const tx = db.transaction('x', 'readwrite'); \
               tx.objectStore('x').put('x'.repeat(size) + n, n); \
               tx.oncomplete = ok; tx.onabort = () => bad(tx.error); tx.onerror = () => bad(tx.error); }); \
               n++; } catch (e) { last = String(e && e.name); size = size / 2; } } \
             db.close(); return [n, last]; })()")
        .await?;
    println!("storage filled: {filled}");
    ensure!(
        filled[1] == "QuotaExceededError",
        "the filler never hit the quota: {filled}"
    );
    let before = h.stored().await?.context("no store")?;
    h.press(key(EVENTS)).await?;
    let shown = h
        .wait_text("the storage error to be shown", "#storage-error")
        .await?
        .to_lowercase();
    ensure!(
        shown.contains("could not save") && shown.contains("quota"),
        "#storage-error says {shown:?}"
    );
    let after = h.stored().await?.context("no store")?;
    ensure!(
        after.log == before.log && after.journal.profile() == before.journal.profile(),
        "the refused write changed the store"
    );

    // Space again: the next statement saves both, and the error goes away.
    delete_database(&h, "filler").await?;
    h.press(key(EVENTS + 1)).await?;
    h.wait_js(
        "the storage error to clear",
        "!document.querySelector('#storage-error')",
    )
    .await?;
    wait_script(&mut h, EVENTS + 2).await?;
    h.reload().await?;
    h.wait_ready().await?;
    wait_script(&mut h, EVENTS + 2).await?;
    h.finish().await
}

/// What one page load wrote: its writer id and last sequence number.
type Written = BTreeMap<String, u64>;

/// Records what the current tab's page load has written so far.
async fn note_written(h: &Harness, written: &mut Written) -> Result<()> {
    let (_, writer, seq) = h.journal_view().await?;
    if seq > 0 {
        let e = written.entry(writer).or_insert(0);
        *e = (*e).max(seq);
    }
    Ok(())
}

/// Dispatches `n` arrow keys on the mood plane in one script (each may state a mood).
async fn burst(h: &Harness, n: usize, first: usize) -> Result<()> {
    h.js(&format!(
        "(() => {{ const el = document.querySelector('#mood-plane'); \
           for (let i = {first}; i < {first} + {n}; i++) \
             el.dispatchEvent(new KeyboardEvent('keydown', {{ key: i % 2 ? 'ArrowLeft' : 'ArrowRight', bubbles: true }})); \
           return true; }})()"
    ))
    .await?;
    Ok(())
}

/// Checks the store against what every page load wrote: for each writer exactly 1..=last (a
/// killed tab's may hold more than was noted before it died), and one stated mood per entry.
fn check_store(store: &StoredJournal, written: &Written, killed: &Written) -> Result<usize> {
    let j = &store.journal;
    let mut total = 0u64;
    for (writer, &last) in written.iter().chain(killed.iter()) {
        let w = WriterId::parse(writer).map_err(anyhow::Error::msg)?;
        let folded = j.snapshot().folded.get(&w).copied().unwrap_or(0);
        let seqs: Vec<u64> = j
            .entries()
            .filter(|e| e.id.writer == w)
            .map(|e| e.id.seq)
            .collect();
        let stored_last = seqs.last().copied().unwrap_or(folded);
        for (i, s) in seqs.iter().enumerate() {
            ensure!(
                *s == folded + 1 + i as u64,
                "writer {writer}: entry {s} after {} folded and {i} pending: a gap or a duplicate",
                folded
            );
        }
        if killed.contains_key(writer) {
            ensure!(
                stored_last >= last,
                "killed writer {writer} had written {last}, the store holds {stored_last}"
            );
            total += stored_last;
        } else {
            ensure!(
                stored_last == last,
                "writer {writer} wrote {last} entries, the store holds {stored_last}"
            );
            total += last;
        }
    }
    let moods = j
        .profile()
        .history
        .events()
        .iter()
        .filter(|e| e.event.label() == "Mood")
        .count();
    ensure!(
        moods as u64 == total,
        "{moods} stated moods in the profile, {total} entries written: lost or duplicated"
    );
    Ok(moods)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tabs_with_reloads_and_a_killed_tab_lose_and_duplicate_nothing() -> Result<()> {
    let mut h = Harness::start("durability-tabs").await?;
    h.open().await?;
    h.wait_ready().await?;
    let url = format!("{}/", h.server.origin());
    let mut tabs = vec![h.browser.tab.clone()];
    for _ in 0..2 {
        tabs.push(h.browser.open_tab(&url).await?);
    }
    for t in &tabs {
        h.browser.switch_to(t).await?;
        h.wait_ready().await?;
    }
    let mut rng = Lcg(0x7ab5);
    let mut written = Written::new();
    let mut killed = Written::new();
    let mut left = [EVENTS; 3];
    let mut reloads = 0;
    let mut killed_one = false;
    while left.iter().any(|&n| n > 0) {
        let t = rng.below(3) as usize;
        if left[t] == 0 {
            continue;
        }
        h.browser.switch_to(&tabs[t]).await?;
        let n = (1 + rng.below(60) as usize).min(left[t]);
        burst(&h, n, EVENTS - left[t]).await?;
        left[t] -= n;
        note_written(&h, &mut written).await?;
        if !killed_one && t == 2 && left[2] < EVENTS / 2 {
            // Kill the third tab in the middle of a burst that writes from timers.
            h.js(
                "(() => { const el = document.querySelector('#mood-plane'); let i = 0; \
                  const step = () => { el.dispatchEvent(new KeyboardEvent('keydown', \
                    { key: i % 2 ? 'ArrowLeft' : 'ArrowRight', bubbles: true })); \
                    if (++i < 400) setTimeout(step, 0); }; step(); return true; })()",
            )
            .await?;
            tokio::time::sleep(Duration::from_millis(30)).await;
            let (_, writer, seq) = h.journal_view().await?;
            written.remove(&writer);
            killed.insert(writer, seq);
            h.browser.kill_tab(&tabs[2])?;
            killed_one = true;
            tabs[2] = h.browser.open_tab(&url).await?;
            h.browser.switch_to(&tabs[2]).await?;
            h.wait_ready().await?;
            continue;
        }
        if rng.below(3) == 0 {
            h.reload().await?;
            reloads += 1;
            h.wait_ready().await?;
        }
    }
    ensure!(killed_one, "the script never killed a tab");
    // Every tab shows the store's profile.
    let result = poll("every tab to show the stored profile", || {
        let (h, tabs, written, killed) = (&h, &tabs, &written, &killed);
        async move {
            let store = h.stored().await?.context("no store")?;
            let want = fingerprint(&store.journal.profile());
            for t in tabs {
                h.browser.switch_to(t).await?;
                if h.journal_view().await?.0 != want {
                    return Ok(None);
                }
            }
            Ok(check_store(&store, written, killed).ok())
        }
    })
    .await;
    let moods = match result {
        Ok(moods) => moods,
        Err(e) => {
            // Say exactly what differs.
            let store = h.stored().await?.context("no store")?;
            check_store(&store, &written, &killed)?;
            return Err(e);
        }
    };
    println!(
        "3 tabs x {EVENTS} events, {reloads} reloads, {} page loads, one tab killed: {moods} \
         stated moods stored, none lost, none duplicated, the same profile in every tab",
        written.len() + killed.len()
    );
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_like_in_one_tab_re_ranks_the_other() -> Result<()> {
    let mut h = Harness::start("durability-two-tabs").await?;
    h.open().await?;
    h.wait_ready().await?;
    let a = h.browser.tab.clone();
    let b = h
        .browser
        .open_tab(&format!("{}/", h.server.origin()))
        .await?;
    h.browser.switch_to(&b).await?;
    h.wait_ready().await?;
    let before = h.wait_recs().await?;
    h.browser.switch_to(&a).await?;
    let started = std::time::Instant::now();
    let id = h.like_artist("Radiohead").await?;
    h.browser.switch_to(&b).await?;
    h.wait_js(
        "the other tab's like in #likes",
        &format!("!!document.querySelector('#likes li[data-artist-id=\"{id}\"]')"),
    )
    .await?;
    println!(
        "the like reached the other tab after {:?}",
        started.elapsed()
    );
    h.wait_recs_change("the other tab's list to re-rank", &before)
        .await?;
    h.finish().await
}

/// Profiles as every earlier build wrote them to `localStorage`.
fn old_profiles(id: u32) -> Vec<(&'static str, String)> {
    let mut full = Profile::default();
    full.like(id);
    full.set_mood(attune_engine::Emotion::va(0.4, -0.2), 1_700_000_000_000.0);
    full.exclude(id + 1);
    vec![
        (
            "schema 0 (a bare list of likes)",
            format!("{{\"likes\":[{id}]}}"),
        ),
        (
            "schema 1, first fields only",
            format!("{{\"schema\":1,\"likes\":[{id}],\"moods\":[],\"mood_strength\":0.35}}"),
        ),
        ("schema 1, every field", full.to_json()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_old_profile_moves_into_the_store_byte_for_byte() -> Result<()> {
    let mut h = Harness::start("durability-migration").await?;
    h.open().await?;
    h.wait_ready().await?;
    let id: u32 = h
        .wait_js(
            "a recommendation",
            "document.querySelector('#recommendations li.rec')?.dataset.artistId",
        )
        .await?
        .as_str()
        .context("artist id")?
        .parse()?;
    for (what, text) in old_profiles(id) {
        // A fresh browser as far as Attune is concerned, with only the old profile.
        delete_database(&h, "attune").await?;
        let value = serde_json::to_string(&text)?;
        h.js(&format!(
            "(localStorage.clear(), localStorage.setItem('attune.profile', {value}), true)"
        ))
        .await?;
        h.reload().await?;
        h.wait_ready().await?;
        h.wait_js(
            &format!("the migrated like in #likes ({what})"),
            &format!("[...document.querySelectorAll('#likes li')].some(li => li.dataset.artistId === '{id}')"),
        )
        .await?;
        h.wait_js(
            &format!("the old key to be removed ({what})"),
            "localStorage.getItem('attune.profile') === null",
        )
        .await?;
        let stored = h.stored().await?.context("no store after migration")?;
        ensure!(
            stored.meta.iter().any(|(_, v)| *v == text),
            "{what}: the original text is not kept byte for byte: {:?}",
            stored.meta
        );
        let want = Profile::from_json(&text).map_err(anyhow::Error::msg)?;
        ensure!(
            stored.journal.profile() == want,
            "{what}: the store's profile differs from the old one"
        );
    }

    // An unreadable old profile is set aside in the store, and the app starts fresh.
    delete_database(&h, "attune").await?;
    h.js("(localStorage.clear(), localStorage.setItem('attune.profile', '{not json'), true)")
        .await?;
    reload_to_notice(&mut h, "set aside", 1).await?;
    h.finish().await
}

/// Reloads, expects a start-up notice containing `says` and `aside` records set aside; returns
/// the store.
async fn reload_to_notice(h: &mut Harness, says: &str, aside: u64) -> Result<StoredJournal> {
    h.reload().await?;
    h.wait_ready().await?;
    let notice = h
        .wait_text(&format!("a notice saying {says:?}"), "#profile-notice")
        .await?;
    ensure!(notice.contains(says), "#profile-notice says {notice:?}");
    let stored = h.stored().await?.context("no store")?;
    ensure!(
        stored.aside == aside,
        "{} records set aside, want {aside}",
        stored.aside
    );
    Ok(stored)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_records_are_set_aside_and_no_indexeddb_means_memory_with_a_notice() -> Result<()> {
    let mut h = Harness::start("durability-faults").await?;
    h.open().await?;
    focus_plane(&mut h).await?;
    h.press(Key::Right).await?;
    poll("the stated mood in the store", || async {
        Ok((log_len(&h).await? > 0).then_some(()))
    })
    .await?;
    // A record of another program and one that is not even text, next to the real one.
    h.js(
        "new Promise((ok, bad) => { const r = indexedDB.open('attune'); r.onsuccess = () => { \
          const db = r.result; const tx = db.transaction('log', 'readwrite'); \
          tx.objectStore('log').put('{\"foreign\": true}', 'zz-foreign'); \
          tx.objectStore('log').put({ not: 'text' }, 'zz-object'); \
          tx.oncomplete = () => { db.close(); ok(true); }; tx.onerror = () => bad(tx.error); }; })",
    )
    .await?;
    let stored = reload_to_notice(&mut h, "2 stored records", 2).await?;
    ensure!(
        stored.journal.profile().history.len() == 1,
        "the real mood statement did not survive"
    );

    // No IndexedDB at all (as in some private modes): memory, with a visible notice.
    h.browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            serde_json::json!({ "source": "Object.defineProperty(window, 'indexedDB', { value: undefined });" }),
        )
        .await?;
    h.reload().await?;
    focus_plane(&mut h).await?;
    let notice = h
        .wait_text("the memory-only notice", "#profile-notice")
        .await?;
    ensure!(
        notice.contains("this tab only"),
        "#profile-notice says {notice:?}"
    );
    h.press(Key::Up).await?;
    h.wait_js(
        "the mood to move in memory",
        "document.querySelector('#data-inventory li[data-key=moods]')?.innerText.startsWith('1 ')",
    )
    .await?;
    h.finish().await
}
