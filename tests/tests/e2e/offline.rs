//! An installable app that works offline after the first visit, and whose updates replace it only
//! whole: the service worker (app/pwa/sw.js) caches one build completely, the page reloads and runs
//! with the server gone, a new build with a corrupt asset is refused while the working one stays,
//! and a sound new build waits until the user takes it, then replaces the old cache.

use anyhow::{ensure, Context, Result};
use attune_e2e::{with_ready_app, Fault, Harness};
use serde_json::Value;

/// Attune's caches, sorted.
const CACHES_JS: &str = "caches.keys().then(k => k.filter(n => n.startsWith('attune-')).sort())";

/// Asks the registration for an update and resolves with how the new worker ended:
/// `installed`, `redundant` (its install failed) or `none` (no new worker).
const UPDATE_JS: &str =
    "navigator.serviceWorker.getRegistration().then(r => r.update().then(() => \
    new Promise(done => { const w = r.installing; if (!w) return done('none'); \
      const end = () => { if (w.state === 'installed' || w.state === 'redundant' \
        || w.state === 'activated') done(w.state); }; \
      w.addEventListener('statechange', end); end(); })))";

async fn caches(h: &Harness) -> Result<Vec<String>> {
    let v = h.js(CACHES_JS).await?;
    Ok(v.as_array()
        .context("caches.keys() gave no list")?
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect())
}

/// Reloads with the server unreachable and checks the app comes up with the like.
async fn offline_reload(h: &mut Harness, liked: &str, what: &str) -> Result<()> {
    h.server.set_offline(true);
    let served_before = h.server.requests().len();
    h.reload().await?;
    h.wait_ready()
        .await
        .with_context(|| format!("offline reload ({what})"))?;
    h.wait_recs().await?;
    ensure!(
        h.likes().await? == vec![liked.to_string()],
        "offline ({what}): likes {:?}",
        h.likes().await?
    );
    let answered = h.server.requests()[served_before..]
        .iter()
        .filter(|r| r.status != 0)
        .count();
    ensure!(answered == 0, "the server answered while offline");
    h.server.set_offline(false);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_offline_and_updates_only_whole() -> Result<()> {
    with_ready_app("offline", run).await
}

async fn run(h: &mut Harness) -> Result<()> {
    // Installable: a web manifest with a name, a start URL and icons.
    let manifest: Value = h
        .js("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
        .await?;
    ensure!(
        manifest["short_name"] == "Attune"
            && manifest["start_url"] == "/"
            && manifest["display"] == "standalone"
            && manifest["icons"].as_array().is_some_and(|i| i.len() >= 2),
        "web manifest: {manifest}"
    );

    // First visit: the worker caches the build and takes control.
    h.wait_js(
        "the service worker to control the page",
        "!!navigator.serviceWorker.controller",
    )
    .await?;
    let first = caches(h).await?;
    ensure!(first.len() == 1, "caches after the first visit: {first:?}");
    let cached: Value = h
        .js(&format!(
            "caches.open({}).then(c => c.keys()).then(k => k.map(r => new URL(r.url).pathname))",
            serde_json::to_string(&first[0])?
        ))
        .await?;
    for path in [
        "/",
        "/public/manifest.json",
        "/public/catalog.bin",
        "/sw.js",
    ] {
        let want = path != "/sw.js";
        ensure!(
            cached
                .as_array()
                .is_some_and(|a| a.iter().any(|p| p == path) == want),
            "{path} should {}be cached: {cached}",
            if want { "" } else { "not " }
        );
    }
    let liked = h.like_artist("Portishead").await?;
    offline_reload(h, &liked, "first build").await?;

    // A new build whose catalog arrives corrupt: refused, and the working build stays.
    h.server.set_fault("sw.js", Fault::NewBuild);
    h.server.set_fault("catalog.bin", Fault::Corrupt);
    let end = h.js(UPDATE_JS).await?;
    ensure!(
        end == "redundant",
        "a new build with a corrupt catalog ended {end}"
    );
    ensure!(
        caches(h).await? == first,
        "the failed update left caches {:?}",
        caches(h).await?
    );
    offline_reload(h, &liked, "after the refused update").await?;

    // A sound new build: installed beside the old one, waiting until the user takes it.
    h.server.clear_faults();
    h.server.set_fault("sw.js", Fault::NewBuild);
    let end = h.js(UPDATE_JS).await?;
    ensure!(end == "installed", "a sound new build ended {end}");
    let both = caches(h).await?;
    ensure!(
        both.len() == 2 && both.contains(&first[0]),
        "caches while the update waits: {both:?}"
    );
    h.wait_js(
        "the new-version bar",
        "!!document.querySelector('#update-bar #update-reload')",
    )
    .await?;
    h.js("(window.__oldPage = true)").await?;
    h.click_button("update-reload").await?;
    // The page reloads into the new build, and the old cache is gone.
    h.wait_js(
        "only the new build's cache",
        &format!(
            "{CACHES_JS}.then(k => k.length === 1 && k[0] !== {} && k[0])",
            serde_json::to_string(&first[0])?
        ),
    )
    .await?;
    h.wait_js(
        "the page reloaded into the new build",
        "!window.__oldPage && document.querySelector('#app')?.dataset.state === 'ready'",
    )
    .await?;
    h.wait_recs().await?;
    ensure!(
        h.likes().await? == vec![liked.clone()],
        "likes after the update"
    );
    h.server.clear_faults();
    offline_reload(h, &liked, "new build").await
}
