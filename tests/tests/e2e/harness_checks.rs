//! The privacy checks themselves can fail: a page that reaches out, or asks for a file
//! that is not in dist/, must make `Harness::finish` report it.

use anyhow::{ensure, Result};
use attune_e2e::{wait_for, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_to_another_host_is_caught() -> Result<()> {
    let mut h = Harness::start("check-foreign").await?;
    // A document of the site without the app's Content-Security-Policy, which would block these
    // fetches before they leave (tests/your_data.rs checks that): here the harness must catch them.
    let url = format!("{}/public/demo/rr-sample.txt", h.server.origin());
    h.client().goto(&url).await?;
    h.wait_js("the page to load", "document.readyState === 'complete'")
        .await?;
    h.js("(fetch('http://example.com/leak?x=1').catch(() => 0), \
          fetch('https://example.org/leak').catch(() => 0), true)")
        .await?;
    let seen = wait_for("the proxy to record both requests", || {
        let seen = h.proxy.seen();
        (seen.len() >= 2).then_some(seen)
    })
    .await?;
    ensure!(
        seen.iter()
            .any(|l| l.starts_with("GET http://example.com/leak")),
        "{seen:?}"
    );
    ensure!(
        seen.iter()
            .any(|l| l.starts_with("CONNECT example.org:443")),
        "{seen:?}"
    );
    let err = h.finish().await.err().map(|e| format!("{e:#}"));
    ensure!(
        err.as_deref().is_some_and(|e| e.contains("example.")),
        "finish() should fail on foreign requests, got {err:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_a_missing_file_is_caught() -> Result<()> {
    let mut h = Harness::start("check-missing").await?;
    h.open().await?;
    h.wait_js("the page to load", "document.readyState === 'complete'")
        .await?;
    h.js("(fetch('/not-in-dist.js').catch(() => 0), true)")
        .await?;
    wait_for("the server to see /not-in-dist.js", || {
        h.server
            .requests()
            .iter()
            .any(|r| r.path == "/not-in-dist.js")
            .then_some(())
    })
    .await?;
    let err = h.finish().await.err().map(|e| format!("{e:#}"));
    ensure!(
        err.as_deref()
            .is_some_and(|e| e.contains("/not-in-dist.js")),
        "finish() should fail on a request outside dist/, got {err:?}"
    );
    Ok(())
}
