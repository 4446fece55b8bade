//! A first visit that is light (issue 17, item 1), against the test server acting as a static
//! host (gzip, `ETag`, `304`): the first top 10 needs only the page, the app and the catalogue,
//! under 1 MB on the wire, while the taste models are still on their way; then every file of
//! the build arrives once, the offline copy included (it revalidates what the page downloaded),
//! and free-shelf audio only when played, after which it is kept for offline use.
//!
//! With `ATTUNE_BENCH_FIRST_VISIT=<file>` (scripts/bench.sh) the measurements are written there
//! as JSON; the test asserts bytes and requests only, never times.

use std::collections::BTreeMap;

use anyhow::{ensure, Context, Result};
use attune_e2e::server::Request;
use attune_e2e::{Fault, Harness};
use serde_json::{json, Value};

/// The first list's budget on the wire (issue 17: "at most ~1 MB gzip").
const FIRST_LIST_BUDGET: usize = 1_000_000;

/// What may be downloaded before the first list: the page, its code and style, the catalogue.
fn first_list_file(path: &str) -> bool {
    path == "/"
        || path.ends_with(".svg")
        || path == "/manifest.webmanifest"
        || path.starts_with("/attune-app-")
        || path.starts_with("/style-")
        || matches!(
            path,
            "/public/boot.js"
                | "/public/manifest.json"
                | "/public/catalog.bin"
                | "/public/free/tracks.json"
                | "/public/taste.bin"
        )
}

fn on_wire(log: &[Request]) -> usize {
    log.iter().map(|r| r.bytes).sum()
}

fn per_file(log: &[Request]) -> Vec<Value> {
    log.iter()
        .map(|r| json!({"path": r.path, "status": r.status, "bytes": r.bytes}))
        .collect()
}

/// The first list, with the taste models held back (their download stalls): it comes from
/// the catalogue alone, within budget, and nothing of the background has been asked for.
async fn first_list_alone() -> Result<(usize, usize)> {
    let mut h = Harness::start("first-visit-list").await?;
    h.server.host_like(true);
    h.server.set_fault("taste.bin", Fault::Stall);
    h.open().await?;
    h.wait_js(
        "the first top 10 while taste.bin is held back",
        "document.querySelectorAll('#recommendations li.rec').length === 10 \
         && document.querySelector('#app')?.dataset.taste === 'loading'",
    )
    .await?;
    ensure!(
        h.js("!document.querySelector('#taste-loading')?.hidden")
            .await?
            == Value::Bool(true),
        "the list does not say that the taste models are still loading"
    );
    let log = h.server.requests();
    let early: Vec<&str> = log
        .iter()
        .map(|r| r.path.as_str())
        .filter(|p| !first_list_file(p))
        .collect();
    ensure!(
        early.is_empty(),
        "downloaded before the first list and its taste models: {early:?}"
    );
    // taste.bin is asked for after the list (its stalled half never completes).
    let before: Vec<Request> = log
        .into_iter()
        .filter(|r| r.path != "/public/taste.bin")
        .collect();
    let bytes = on_wire(&before);
    ensure!(
        bytes <= FIRST_LIST_BUDGET,
        "the first list took {bytes} bytes on the wire (budget {FIRST_LIST_BUDGET}): {:?}",
        per_file(&before)
    );
    h.screenshot("first-list").await?;
    h.finish().await?;
    Ok((bytes, before.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_list_is_light_and_no_file_is_downloaded_twice() -> Result<()> {
    let (first_bytes, first_requests) = first_list_alone().await?;

    let mut h = Harness::start("first-visit-whole").await?;
    h.server.host_like(true);
    h.open().await?;
    h.wait_ready().await?;
    h.wait_recs().await?;
    h.wait_js(
        "the page's downloads to settle (<html data-loaded>)",
        "document.documentElement.hasAttribute('data-loaded')",
    )
    .await?;
    let offline = h
        .wait_js(
            "the offline copy to install or fail",
            "['installed', 'failed'].includes(document.documentElement.dataset.offline) \
             && (document.documentElement.dataset.offline === 'installed' \
                 || document.querySelector('#offline-error')?.innerText || 'failed')",
        )
        .await?;
    ensure!(offline == json!(true), "the offline copy failed: {offline}");
    let first_list_ms = h
        .js("performance.getEntriesByName('attune-first-list')[0]?.startTime ?? null")
        .await?;
    let log = h.server.requests();
    let mut full: BTreeMap<&str, usize> = BTreeMap::new();
    for r in log.iter().filter(|r| r.status == 200) {
        *full.entry(r.path.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = full.iter().filter(|(_, &n)| n > 1).collect();
    ensure!(
        twice.is_empty(),
        "downloaded more than once: {twice:?} ({:?})",
        per_file(&log)
    );
    ensure!(
        !log.iter().any(|r| r.path.ends_with(".ogg")),
        "free-shelf audio was downloaded before anyone played it"
    );
    let total = on_wire(&log);

    // A played track is kept for offline use; the others are not fetched.
    let shelf: Value = serde_json::from_str(&std::fs::read_to_string(
        attune_e2e::dist_dir()?.join("public/free/tracks.json"),
    )?)?;
    let file = shelf["tracks"][0]["file"]
        .as_str()
        .context("tracks.json names no file")?
        .to_string();
    let file_js = serde_json::to_string(&file)?;
    h.wait_js(
        "the free shelf",
        "document.querySelector('#free-shelf')?.dataset.state === 'ready'",
    )
    .await?;
    h.js(&format!(
        "(() => {{ const more = document.querySelector('#free-more'); if (more) more.open = true; \
         document.querySelector('li.free-track[data-file=' + JSON.stringify({file_js}) + '] button.free-play').click(); \
         return true; }})()"
    ))
    .await?;
    let kept = h
        .wait_js(
            "the played track in the offline copy",
            &format!(
                "caches.keys().then(k => caches.open(k.find(n => n.startsWith('attune-')))) \
                 .then(c => Promise.all([c.match('/public/' + {file_js}), c.keys()])) \
                 .then(([hit, keys]) => !!hit && keys.filter(r => r.url.endsWith('.ogg')).length)"
            ),
        )
        .await?;
    ensure!(
        kept == json!(1),
        "the offline copy holds {kept} tracks after one was played"
    );
    let oggs = h
        .server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(".ogg"))
        .count();
    ensure!(oggs == 1, "{oggs} tracks were downloaded for one play");

    if let Ok(out) = std::env::var("ATTUNE_BENCH_FIRST_VISIT") {
        let bench = json!({
            "setting": "fresh Chromium profile, empty cache; the test server as a static host (gzip level 6, ETag, 304) on localhost",
            "before_first_list": {"bytes": first_bytes, "requests": first_requests, "budget_bytes": FIRST_LIST_BUDGET},
            "first_list_ms": first_list_ms,
            "first_visit": {"bytes": total, "requests": log.len(), "files": per_file(&log)},
            "free_audio_bytes_before_play": 0,
        });
        std::fs::write(&out, serde_json::to_string_pretty(&bench)? + "\n")
            .with_context(|| format!("writing {out}"))?;
    }
    h.finish().await
}
