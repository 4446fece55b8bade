//! Privacy by construction: the built page carries a Content-Security-Policy that allows only its
//! origin (and the browser enforces it), and the "Your data" card lists what is stored, exports it
//! as JSON, rejects bad import files with a reason without overwriting anything, imports a good
//! one, and deletes everything. The harness checks at the end that every request of the session
//! was a same-origin GET of a static file.

use anyhow::{ensure, Context, Result};
use attune_e2e::{wait_for, with_ready_app, Harness};
use fantoccini::Locator;
use serde_json::Value;

/// What `localStorage` holds under Attune's keys, as a JSON object.
const LOCAL_JS: &str = "Object.fromEntries(Object.keys(localStorage) \
    .filter(k => k.startsWith('attune.')).map(k => [k, localStorage.getItem(k)]))";

/// Everything Attune keeps in this browser: `localStorage`, the IndexedDB store (its records and
/// the profile they fold to) and the offline copy's caches.
async fn stored(h: &Harness) -> Result<Value> {
    let local = h.js(LOCAL_JS).await?;
    let caches = h
        .js("caches.keys().then(k => k.filter(n => n.startsWith('attune')))")
        .await?;
    let store = h.stored().await?;
    Ok(serde_json::json!({
        "local": local,
        "records": store.as_ref().map_or(0, |s| s.log.len() + s.meta.len() + s.aside as usize
            + usize::from(!s.journal.snapshot().profile.eq(&Default::default()))),
        "profile": serde_json::to_value(store.map(|s| s.journal.profile()).unwrap_or_default())?,
        "caches": caches,
    }))
}

/// `stored` once the Attune data is gone: nothing in `localStorage`, no record in the store, no
/// cache, and the empty profile.
fn nothing_stored() -> Result<Value> {
    Ok(serde_json::json!({
        "local": {},
        "records": 0,
        "profile": serde_json::to_value(attune_engine::Profile::default())?,
        "caches": [],
    }))
}

async fn inventory(h: &Harness, key: &str) -> Result<String> {
    let v = h
        .js(&format!(
            "document.querySelector('#data-inventory li[data-key={key}]')?.textContent ?? ''"
        ))
        .await?;
    Ok(v.as_str().unwrap_or_default().trim().to_string())
}

/// Picks `path` in the import file input and waits for the message of the outcome `kind`.
async fn import(h: &mut Harness, path: &std::path::Path, kind: &str) -> Result<String> {
    let before = h
        .js("document.querySelector('#data-message')?.textContent ?? ''")
        .await?;
    h.client()
        .find(Locator::Id("data-import"))
        .await
        .context("no #data-import")?
        .send_keys(&path.display().to_string())
        .await
        .context("choosing the import file")?;
    let msg = h
        .wait_js(
            &format!("#data-message[data-kind={kind}] after importing {}", path.display()),
            &format!(
                "(() => {{ const m = document.querySelector('#data-message'); \
                 return m?.dataset.kind === '{kind}' && m.textContent !== {before} && m.textContent; }})()"
            ),
        )
        .await?;
    Ok(msg.as_str().unwrap_or_default().to_string())
}

/// Waits until the store's profile is `want` (an import is saved in the background); returns it.
async fn wait_for_store(h: &Harness, want: &Value) -> Result<Value> {
    let start = std::time::Instant::now();
    loop {
        // Through the profile's own text: `to_value` would widen its f32s (0.6 -> 0.6000000238…).
        let got: Value = serde_json::from_str(&h.stored_profile().await?.to_json())?;
        if got == *want || start.elapsed() > attune_e2e::wait_cap() {
            return Ok(got);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csp_and_your_data_export_import_delete() -> Result<()> {
    with_ready_app("your-data", run).await
}

async fn run(h: &mut Harness) -> Result<()> {
    // The policy: only 'self' (plus the loader's hash and wasm compilation), and it is enforced.
    let csp = h
        .js("document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')?.content ?? ''")
        .await?;
    let csp = csp.as_str().unwrap_or_default().to_string();
    ensure!(
        csp.starts_with("default-src 'self';") && csp.contains("connect-src 'self'"),
        "Content-Security-Policy is {csp:?}"
    );
    let sources: Vec<&str> = csp
        .split(';')
        .flat_map(|d| d.split_whitespace().skip(1))
        .collect();
    let allowed = |s: &&str| {
        matches!(
            *s,
            "'self'" | "'none'" | "'wasm-unsafe-eval'" | "data:" | "blob:"
        ) || (s.starts_with("'sha256-") && s.ends_with('\''))
    };
    ensure!(
        sources.iter().all(allowed),
        "the policy allows a source other than the origin: {:?}",
        sources.iter().filter(|s| !allowed(s)).collect::<Vec<_>>()
    );
    h.js("(window.__violations = [], \
          document.addEventListener('securitypolicyviolation', \
            e => window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI)), \
          fetch('http://127.0.0.1:9/beacon').catch(() => {}), true)")
        .await?;
    let violation = h
        .wait_js(
            "a CSP violation for a cross-origin fetch",
            "window.__violations.find(v => v.startsWith('connect-src')) ?? null",
        )
        .await?;
    ensure!(
        violation
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1:9"),
        "violation {violation}"
    );

    // Some data: a like and a mood.
    let liked = h.like_artist("Radiohead").await?;
    h.click_mood(0.6, 0.5).await?;
    h.wait_js(
        "the mood in the inventory",
        "document.querySelector('#data-inventory li[data-key=moods]')?.textContent.startsWith('1 ')",
    )
    .await?;
    ensure!(
        inventory(h, "likes").await? == "1 liked artist",
        "inventory: {:?}",
        inventory(h, "likes").await?
    );
    let stored_text = h
        .js("document.querySelector('#data-stored')?.textContent ?? ''")
        .await?;
    ensure!(
        stored_text
            .as_str()
            .is_some_and(|t| t.contains("IndexedDB \"attune\"")),
        "#data-stored does not list the stored profile: {stored_text}"
    );

    // Export: the browser saves a JSON file holding the profile.
    let downloads = tempfile::tempdir()?;
    h.browser
        .cdp(
            "Page.setDownloadBehavior",
            serde_json::json!({"behavior": "allow", "downloadPath": downloads.path()}),
        )
        .await?;
    h.click_button("data-export").await?;
    let file = wait_for("the exported file in the download folder", || {
        std::fs::read_dir(downloads.path())
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "json"))
    })
    .await?;
    // The file appears under its final name once complete; give the write a moment to finish.
    let text = wait_for("a complete export", || {
        let t = std::fs::read_to_string(&file).ok()?;
        serde_json::from_str::<Value>(&t).ok().map(|_| t)
    })
    .await?;
    let export: Value = serde_json::from_str(&text)?;
    ensure!(
        export["kind"] == "attune-profile-export"
            && export["profile"]["likes"].as_array().is_some_and(|l| l
                .iter()
                .any(|id| id.as_u64().map(|n| n.to_string()) == Some(liked.clone()))),
        "the export lacks the like {liked}: {text}"
    );
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    ensure!(
        name.starts_with("attune-profile-"),
        "export file name {name}"
    );

    // Bad files: each rejected with its reason, and storage is untouched.
    let before = stored(h).await?;
    let dir = tempfile::tempdir()?;
    let cases = [
        ("garbage.json", b"\x89PNG not json".to_vec(), "not JSON"),
        (
            "other.json",
            br#"{"likes":[1,2,3]}"#.to_vec(),
            "not an Attune export",
        ),
        (
            "future.json",
            br#"{"kind":"attune-profile-export","format":99,"profile":{}}"#.to_vec(),
            "newer version",
        ),
        (
            "broken.json",
            text.replace("\"mood_strength\"", "\"mood_strength\": \"x\", \"_\"")
                .into_bytes(),
            "invalid",
        ),
    ];
    for (file_name, bytes, reason) in cases {
        let path = dir.path().join(file_name);
        std::fs::write(&path, bytes)?;
        let msg = import(h, &path, "error").await?;
        ensure!(
            msg.contains(reason) && msg.contains("Nothing was changed"),
            "{file_name}: message {msg:?} should give the reason {reason:?}"
        );
        ensure!(
            stored(h).await? == before,
            "{file_name} changed storage: {before} -> {}",
            stored(h).await?
        );
        ensure!(
            h.likes().await? == vec![liked.clone()],
            "{file_name} changed the likes"
        );
    }

    // Delete everything: asks first, then nothing of Attune's is left, even after a reload.
    h.click_button("data-delete").await?;
    h.wait_js(
        "the delete confirmation",
        "!!document.querySelector('#data-delete-confirm')",
    )
    .await?;
    ensure!(stored(h).await? == before, "asking deleted something");
    h.click_button("data-delete-yes").await?;
    h.wait_js(
        "#data-message[data-kind=done] after deleting",
        "document.querySelector('#data-message')?.dataset.kind === 'done'",
    )
    .await?;
    ensure!(
        stored(h).await? == nothing_stored()?,
        "after delete, storage holds {}",
        stored(h).await?
    );
    ensure!(h.likes().await?.is_empty(), "likes survived the delete");
    h.reload().await?;
    h.wait_ready().await?;
    ensure!(h.likes().await?.is_empty(), "likes came back after reload");
    ensure!(
        inventory(h, "moods").await? == "0 moods you set",
        "moods: {:?}",
        inventory(h, "moods").await?
    );

    // Import the export: everything is back, stored exactly as exported.
    let path = dir.path().join(&*name);
    std::fs::write(&path, &text)?;
    let msg = import(h, &path, "done").await?;
    ensure!(msg.contains("Imported"), "{msg}");
    ensure!(
        h.likes().await? == vec![liked.clone()],
        "after import the likes are {:?}",
        h.likes().await?
    );
    let stored_profile = wait_for_store(h, &export["profile"]).await?;
    ensure!(
        stored_profile == export["profile"],
        "stored {stored_profile} != exported {}",
        export["profile"]
    );
    Ok(())
}
