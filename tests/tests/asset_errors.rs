//! A broken asset shows the error state, and Retry recovers once the asset is fixed.

use anyhow::{ensure, Result};
use attune_e2e::{Fault, Harness};

/// Serves `file` with `fault`, expects the error state (naming `expect` if given), then
/// clears the fault, clicks Retry and expects ten recommendations.
async fn error_then_retry(
    name: &str,
    file: &str,
    fault: Fault,
    expect: Option<&str>,
) -> Result<()> {
    let mut h = Harness::start(name).await?;
    h.server.set_fault(file, fault);
    h.open().await?;
    let message = h.wait_error().await?;
    h.screenshot("error").await?;
    if let Some(expect) = expect {
        ensure!(
            message.contains(expect),
            "#asset-error should name {expect}: {message:?}"
        );
    }
    ensure!(
        h.retry_visible().await?,
        "#retry is not visible in the error state"
    );
    let served = h
        .server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("/{file}")))
        .count();
    ensure!(served > 0, "the page never requested {file}");

    h.server.clear_faults();
    h.click_retry().await?;
    h.wait_js(
        "Retry to leave the error state",
        "document.querySelector('#app')?.dataset.state !== 'error'",
    )
    .await?;
    h.wait_ready().await?;
    h.wait_recs().await?;
    h.screenshot("recovered").await?;
    h.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_catalog_shows_error_and_retry_recovers() -> Result<()> {
    error_then_retry(
        "corrupt-catalog",
        "catalog.bin",
        Fault::Corrupt,
        Some("catalog.bin"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_cf_shows_error_and_retry_recovers() -> Result<()> {
    error_then_retry("truncated-cf", "cf.bin", Fault::Truncate, Some("cf.bin")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_manifest_shows_error_and_retry_recovers() -> Result<()> {
    error_then_retry("missing-manifest", "manifest.json", Fault::NotFound, None).await
}
