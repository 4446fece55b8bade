//! The asset fault sweep (issue 18, item 7): every file `public/manifest.json` lists, under every
//! fault of [`Fault::SWEEP`] (missing, truncated, one flipped byte, wrong length, HTTP 500,
//! stalled), is named where the feature that needs it shows its error, Retry recovers it once the
//! server sends it whole, and the page never goes blank. The outcomes are written to
//! `public/report/faults.md`.
//!
//! One page load per fault covers every file that only one feature reads (all of them faulted at
//! once: each feature names its own file); the files the start or the shelf needs get a load each.

use anyhow::{Context, Result};
use attune_e2e::{dist_dir, workspace_root, BrowserExtras, Fault, Harness};
use attune_engine::assets::REQUIRED_FILES;
use attune_engine::free_tracks::INDEX_FILE;
use fantoccini::Locator;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The page's stall limit in these tests (`?stall-ms=`).
const QUERY: &str = "?stall-ms=1500";
const BOOT: &str = "boot.js";
const STATE_MODEL: &str = "models/user-emotion.onnx";
const NCF_MODEL: &str = "models/ncf.onnx";
const EMOTION_MODEL: &str = "models/emotion.onnx";
const DEMO: &str = "demo/rr-sample.txt";

/// Who reads a file, and so where its error shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reader {
    Start,
    Boot,
    Shelf,
    Track,
    Report,
    StateModel,
    NeuralModel,
    EmotionModel,
    Demo,
    OfflineOnly,
}

impl Reader {
    fn of(file: &str, reports: &[String]) -> Reader {
        match file {
            f if REQUIRED_FILES.contains(&f) => Reader::Start,
            BOOT => Reader::Boot,
            INDEX_FILE => Reader::Shelf,
            STATE_MODEL => Reader::StateModel,
            NCF_MODEL => Reader::NeuralModel,
            EMOTION_MODEL => Reader::EmotionModel,
            DEMO => Reader::Demo,
            f if f.starts_with("free/") && f.ends_with(".ogg") => Reader::Track,
            f if reports.iter().any(|r| r == f) => Reader::Report,
            _ => Reader::OfflineOnly,
        }
    }

    /// Where the error shows and what Retry does (the report's first table).
    fn how(self) -> (&'static str, &'static str) {
        match self {
            Reader::Start => (
                "the page's error panel (#asset-error), nothing else replaced",
                "Retry loads the app",
            ),
            Reader::Boot => (
                "a notice (#boot-error): no offline copy and no update bar until it loads",
                "Retry fetches, checks and runs it",
            ),
            Reader::Shelf => ("the free-music card (#free-error)", "Retry loads the shelf"),
            Reader::Track => (
                "the track's row (.free-error); not the offline notice (the offline copy keeps a track once played)",
                "Retry plays it",
            ),
            Reader::Report => ("its panel in About the models", "Retry draws the report"),
            Reader::StateModel => (
                "the state card (#state-error); the list follows the stated mood",
                "Retry loads the model",
            ),
            Reader::NeuralModel => (
                "the top-10 card (#neural-error); the taste ranks without it",
                "Retry loads the model",
            ),
            Reader::EmotionModel => (
                "each file picked in Analyse my music",
                "Retry analyses the file",
            ),
            Reader::Demo => (
                "the heart panel (#hr-message)",
                "Simulated strap again starts it",
            ),
            Reader::OfflineOnly => (
                "only the offline copy needs it: the offline notice (#offline-error)",
                "Retry installs the offline copy",
            ),
        }
    }
}

/// Each (file, fault): `Ok` or what went wrong.
type Outcomes = BTreeMap<(String, usize), std::result::Result<(), String>>;

/// Polls `expr` (truthy = done) for up to 30 s; `None` if it never was.
async fn poll(h: &Harness, expr: &str) -> Option<Value> {
    poll_for(h, expr, Duration::from_secs(20)).await
}

/// [`poll`] for up to `cap`.
async fn poll_for(h: &Harness, expr: &str, cap: Duration) -> Option<Value> {
    let start = Instant::now();
    while start.elapsed() < cap {
        match h.js(expr).await {
            Ok(Value::Null | Value::Bool(false)) | Err(_) => {}
            Ok(v) => return Some(v),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// The page still shows Attune (its header), whatever failed.
async fn not_blank(h: &Harness) -> std::result::Result<(), String> {
    match h
        .js("!!document.querySelector('header.top h1') && document.body.innerText.length > 200")
        .await
    {
        Ok(Value::Bool(true)) => Ok(()),
        other => Err(format!("the page went blank ({other:?})")),
    }
}

/// The files the offline notice names (`#offline-error li[data-file]`), once it shows (the
/// offline copy downloads three files at a time, each stalled one for the stall limit).
async fn offline_named(h: &Harness) -> Vec<String> {
    let v = poll_for(
        h,
        "(() => { const l = [...document.querySelectorAll('#offline-error li')]; \
         return l.length ? l.map(li => li.dataset.file) : null; })()",
        Duration::from_secs(90),
    )
    .await;
    v.and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Text of `css` once it contains `file`, or what it said instead.
async fn named_in(h: &Harness, css: &str, file: &str) -> std::result::Result<(), String> {
    let css_js = serde_json::to_string(css).unwrap_or_default();
    let file_js = serde_json::to_string(file).unwrap_or_default();
    let found = poll(
        h,
        &format!(
            "(() => {{ const e = document.querySelector({css_js}); \
             return !!e && e.innerText.includes({file_js}); }})()"
        ),
    )
    .await;
    if found.is_some() {
        return Ok(());
    }
    let shown = h
        .js(&format!(
            "document.querySelector({css_js})?.innerText ?? null"
        ))
        .await
        .unwrap_or(Value::Null);
    Err(format!("{css} did not name it (shows {shown})"))
}

fn record(out: &mut Outcomes, file: &str, fault: usize, r: std::result::Result<(), String>) {
    let e = out.entry((file.to_string(), fault)).or_insert(Ok(()));
    if let (Ok(()), Err(why)) = (&*e, r) {
        *e = Err(why);
    }
}

/// A file the start needs: the error panel names it (and so does the offline notice); Retry
/// loads the app.
async fn start_file(file: &str, fault: Fault) -> Result<std::result::Result<(), String>> {
    let h = Harness::start(&format!("faults-{}", file.replace('/', "-"))).await?;
    h.server.set_fault(file, fault);
    h.open_with(QUERY).await?;
    let mut r = named_in(&h, "#asset-error", file).await;
    if r.is_ok() && !h.retry_visible().await? {
        r = Err("no Retry".into());
    }
    if r.is_ok() && !offline_named(&h).await.iter().any(|f| f == file) {
        r = Err("the offline notice did not name it".into());
    }
    h.server.clear_faults();
    if r.is_ok() {
        h.click_retry().await?;
        if poll(
            &h,
            "document.querySelectorAll('#recommendations li.rec').length === 10",
        )
        .await
        .is_none()
        {
            r = Err("Retry did not load the app".into());
        }
    }
    let r = r.and(not_blank(&h).await);
    h.finish().await?;
    Ok(r)
}

/// A file one card reads at start (`#free-error`, `#boot-error`): named there; its Retry
/// brings it back (`recovered` holds once it has).
async fn card_file(
    file: &str,
    fault: Fault,
    css: &str,
    retry: &str,
    recovered: &str,
) -> Result<std::result::Result<(), String>> {
    // A stalled boot.js holds the load event back for ever (the page works meanwhile).
    let extras = BrowserExtras {
        eager: true,
        ..BrowserExtras::default()
    };
    let name = format!("faults-{}", file.replace('/', "-"));
    let mut h = Harness::start_with(&name, extras).await?;
    h.server.set_fault(file, fault);
    h.open_with(QUERY).await?;
    h.wait_ready().await?;
    let mut r = named_in(&h, css, file).await;
    h.server.clear_faults();
    if r.is_ok() {
        h.click(retry).await?;
        if poll(&h, recovered).await.is_none() {
            r = Err(format!("{retry} did not recover it"));
        }
    }
    let r = r.and(not_blank(&h).await);
    h.finish().await?;
    Ok(r)
}

/// Every file only one feature (or only the offline copy) reads, all faulted at once.
async fn feature_files(
    files: &[(String, Reader)],
    fault: Fault,
    fi: usize,
    out: &mut Outcomes,
    spurious: &mut Vec<String>,
) -> Result<()> {
    let mut h = Harness::start(&format!("faults-features-{fi}")).await?;
    for (f, _) in files {
        h.server.set_fault(f, fault);
    }
    h.open_with(QUERY).await?;
    h.wait_ready().await?;
    let tracks = files.iter().filter(|(_, r)| *r == Reader::Track).count();
    h.wait_js(
        "the free shelf with every track",
        &format!("document.querySelectorAll('#free-shelf button.free-play').length === {tracks}"),
    )
    .await?;
    // Every reader asks for its file.
    h.js(
        "(() => { document.querySelectorAll('#about details.report').forEach(d => d.open = true); \
         const more = document.querySelector('#free-more'); if (more) more.open = true; \
         document.querySelectorAll('#free-shelf button.free-play').forEach(b => b.click()); \
         document.querySelector('#hr-simulate')?.click(); return true; })()",
    )
    .await?;
    let song = dist_dir()?
        .join("public")
        .join(
            files
                .iter()
                .find(|(_, r)| *r == Reader::Track)
                .map(|(f, _)| f.as_str())
                .context("no free track")?,
        )
        .canonicalize()?
        .display()
        .to_string();
    h.client()
        .find(Locator::Id("analyse-input"))
        .await
        .context("no #analyse-input")?
        .send_keys(&song)
        .await
        .context("choosing a file to analyse")?;

    let named = offline_named(&h).await;
    let others: Vec<&String> = named
        .iter()
        .filter(|n| files.iter().all(|(f, _)| f != *n))
        .collect();
    for o in &others {
        let why = h
            .js(&format!(
                "document.querySelector('#offline-error li[data-file={}]')?.textContent",
                serde_json::to_string(o)?
            ))
            .await?;
        let log: Vec<u16> = h
            .server
            .requests()
            .iter()
            .filter(|r| r.path == format!("/public/{o}"))
            .map(|r| r.status)
            .collect();
        eprintln!("faults: offline notice: {why}; the server answered {log:?}");
        spurious.push(format!(
            "- {}: {}",
            fault.label(),
            why.as_str().unwrap_or_default()
        ));
    }
    eprintln!(
        "faults: {} ({fi}): the offline notice names {} files, of them not faulted: {others:?}",
        fault.label(),
        named.len()
    );
    for (f, reader) in files {
        let file_js = serde_json::to_string(f)?;
        let r = match reader {
            Reader::Report => {
                named_in(
                    &h,
                    &format!("#about details[data-file={file_js}] .error"),
                    f,
                )
                .await
            }
            Reader::Track => {
                named_in(
                    &h,
                    &format!("li.free-track[data-file={file_js}] .free-error"),
                    f,
                )
                .await
            }
            Reader::StateModel => named_in(&h, "#state-error", f).await,
            Reader::NeuralModel => named_in(&h, "#neural-error", f).await,
            Reader::EmotionModel => named_in(&h, "#analyse-results li[data-state=error]", f).await,
            Reader::Demo => named_in(&h, "#hr-message", f).await,
            _ => Ok(()),
        };
        if let Err(why) = &r {
            eprintln!("faults: {f}, {}: {why}", fault.label());
        }
        record(out, f, fi, r);
        // The offline copy keeps a track only once it has played, so a broken one is not its
        // concern; every other file is.
        let track = *reader == Reader::Track;
        if named.contains(f) == track {
            eprintln!(
                "faults: {f}, {}: {}in the offline notice",
                fault.label(),
                if track { "" } else { "not " }
            );
            let why = if track {
                "the offline notice named a track nobody had played whole"
            } else {
                "the offline notice did not name it"
            };
            record(out, f, fi, Err(why.into()));
        }
    }

    // Whole again: every Retry.
    h.server.clear_faults();
    h.js(
        "(() => { document.querySelectorAll('.report-retry, .free-retry, #state-retry, \
         #neural-retry, .analyse-retry').forEach(b => b.click()); \
         document.querySelector('#hr-simulate')?.click(); return true; })()",
    )
    .await?;
    for (f, reader) in files {
        let file_js = serde_json::to_string(f)?;
        let (what, expr) = match reader {
            Reader::Report => (
                "Retry did not draw it",
                format!("document.querySelector('#about details[data-file={file_js}]')?.dataset.state === 'ready'"),
            ),
            Reader::Track => (
                "Retry did not play it",
                format!("!!document.querySelector('li.free-track[data-file={file_js}] audio.free-audio')"),
            ),
            Reader::StateModel => (
                "Retry did not load it",
                "['empty', 'ready', 'pending'].includes(document.querySelector('#state')?.dataset.state)".to_string(),
            ),
            Reader::NeuralModel => (
                "Retry did not load it",
                "document.querySelector('#recommendations')?.dataset.neuralStatus === 'ready'".to_string(),
            ),
            Reader::EmotionModel => (
                "Retry did not analyse the file",
                "document.querySelector('#analyse-results li')?.dataset.state === 'done'".to_string(),
            ),
            Reader::Demo => (
                "Simulated strap did not start it",
                "document.querySelector('#hr-status')?.dataset.status === 'simulated'".to_string(),
            ),
            _ => continue,
        };
        if poll(&h, &expr).await.is_none() {
            record(out, f, fi, Err(what.into()));
        }
    }
    h.click("#offline-retry").await?;
    let installed = poll_for(
        &h,
        "document.documentElement.dataset.offline === 'installed'",
        Duration::from_secs(90),
    )
    .await
    .is_some();
    let blank = not_blank(&h).await;
    for (f, _) in files {
        if !installed {
            record(out, f, fi, Err("the offline Retry did not install".into()));
        }
        record(out, f, fi, blank.clone());
    }
    h.finish().await
}

fn report(files: &[(String, Reader)], out: &Outcomes, spurious: &[String]) -> String {
    let mut md = String::from(
        "# Asset faults\n\n\
         Every file `public/manifest.json` lists, served broken by the end-to-end test server, \
         in headless Chromium. A cell is ✓ when the error named the file where the feature that \
         needs it shows its errors, the offline notice named it too (a broken file keeps Attune \
         from being saved for offline use; free-shelf tracks excepted, which the offline copy \
         keeps only once played), Retry recovered it once the server sent it whole, and \
         the page stayed up. Regenerated by `cargo test -p attune-e2e --test e2e -- faults::` (part \
         of `scripts/test.sh`).\n\n\
         Faults: missing (HTTP 404); truncated (the first half, with a matching length); one \
         flipped byte; wrong length (one byte more announced than sent); HTTP 500; stalled (half \
         the body, then nothing: given up after the page's stall limit, 20 s, 1.5 s in the test).\n\n\
         | file read by | where the error shows | recovery |\n|---|---|---|\n",
    );
    let mut readers: Vec<Reader> = files.iter().map(|(_, r)| *r).collect();
    readers.sort();
    readers.dedup();
    for r in &readers {
        let (shows, retry) = r.how();
        md += &format!("| {r:?} | {shows} | {retry} |\n");
    }
    md += "\n| file | read by |";
    for f in Fault::SWEEP {
        md += &format!(" {} |", f.label());
    }
    md += "\n|---|---|";
    md += &"---|".repeat(Fault::SWEEP.len());
    md += "\n";
    let mut failures = Vec::new();
    for (file, reader) in files {
        md += &format!("| `{file}` | {reader:?} |");
        for (fi, fault) in Fault::SWEEP.iter().enumerate() {
            match out.get(&(file.clone(), fi)) {
                Some(Ok(())) => md += " ✓ |",
                Some(Err(why)) => {
                    md += " ✗ |";
                    failures.push(format!("- `{file}`, {}: {why}", fault.label()));
                }
                None => md += " not run |",
            }
        }
        md += "\n";
    }
    let cases = files.len() * Fault::SWEEP.len();
    md += &format!(
        "\n{} of {cases} cases pass.\n",
        cases - failures.len() - (cases - out.len())
    );
    if !spurious.is_empty() {
        md += "\n## Files named that were not broken\n\n\
               Reported, not failed: the offline copy's request for a file the page was \
               downloading at the same moment never reached the server within the test's \
               shortened limit (4.5 s for the first answer; 60 s on the site). The file is \
               named in the offline notice only, and its Retry installs the copy. Not yet \
               understood.\n\n";
        md += &spurious.join("\n");
        md += "\n";
    }
    if !failures.is_empty() {
        md += "\n## Failures\n\n";
        md += &failures.join("\n");
        md += "\n";
    }
    md
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_manifest_file_under_every_fault_is_named_and_recovers() -> Result<()> {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(
        dist_dir()?.join("public/manifest.json"),
    )?)?;
    let names: Vec<String> = manifest["files"]
        .as_object()
        .context("manifest files")?
        .keys()
        .cloned()
        .collect();
    // The reports About shows (as the app lists them).
    let about = std::fs::read_to_string(workspace_root().join("app/src/components/about.rs"))?;
    let reports: Vec<String> = names
        .iter()
        .filter(|n| about.contains(&format!("\"{n}\"")))
        .cloned()
        .collect();
    let files: Vec<(String, Reader)> = names
        .iter()
        .map(|n| (n.clone(), Reader::of(n, &reports)))
        .collect();
    let mut out = Outcomes::new();
    let mut spurious = Vec::new();
    // ATTUNE_FAULTS=<index into Fault::SWEEP> runs one fault only (when debugging).
    let only: Option<usize> = std::env::var("ATTUNE_FAULTS")
        .ok()
        .and_then(|v| v.parse().ok());
    for (fi, &fault) in Fault::SWEEP.iter().enumerate() {
        if only.is_some_and(|o| o != fi) {
            continue;
        }
        eprintln!("faults: {}", fault.label());
        for (f, reader) in &files {
            let r = match reader {
                Reader::Start => start_file(f, fault).await?,
                Reader::Shelf => {
                    card_file(
                        f,
                        fault,
                        "#free-error",
                        "#free-retry",
                        "document.querySelector('#free-shelf')?.dataset.state === 'ready'",
                    )
                    .await?
                }
                Reader::Boot => {
                    card_file(
                        f,
                        fault,
                        "#boot-error",
                        "#boot-retry",
                        "window.attuneBoot === true && !document.querySelector('#boot-error') \
                         && !!document.documentElement.dataset.offline",
                    )
                    .await?
                }
                _ => continue,
            };
            if let Err(why) = &r {
                eprintln!("faults: {f}, {}: {why}", fault.label());
            }
            record(&mut out, f, fi, r);
        }
        let rest: Vec<(String, Reader)> = files
            .iter()
            .filter(|(_, r)| !matches!(r, Reader::Start | Reader::Shelf | Reader::Boot))
            .cloned()
            .collect();
        feature_files(&rest, fault, fi, &mut out, &mut spurious).await?;
    }
    let md = report(&files, &out, &spurious);
    std::fs::write(workspace_root().join("public/report/faults.md"), &md)?;
    let failed: Vec<String> = out
        .iter()
        .filter_map(|((f, fi), r)| {
            r.as_ref()
                .err()
                .map(|why| format!("{f}, {}: {why}", Fault::SWEEP[*fi].label()))
        })
        .collect();
    anyhow::ensure!(
        failed.is_empty(),
        "{} of {} cases failed (public/report/faults.md):\n{}",
        failed.len(),
        files.len() * Fault::SWEEP.len(),
        failed.join("\n")
    );
    Ok(())
}
