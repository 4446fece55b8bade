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
    error_then_retry_at(name, "", file, fault, &[expect.unwrap_or("")]).await
}

/// [`error_then_retry`] with the page opened at `query`, the message holding every `expect`.
async fn error_then_retry_at(
    name: &str,
    query: &str,
    file: &str,
    fault: Fault,
    expect: &[&str],
) -> Result<()> {
    let mut h = Harness::start(name).await?;
    h.server.set_fault(file, fault);
    h.open_with(query).await?;
    let message = h.wait_error().await?;
    h.screenshot("error").await?;
    for expect in expect {
        ensure!(
            message.contains(expect),
            "#asset-error should say {expect:?}: {message:?}"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_on_the_taste_is_named_and_retry_recovers() -> Result<()> {
    let expect = ["taste.bin", "HTTP 500"];
    error_then_retry_at(
        "error-500-taste",
        "",
        "taste.bin",
        Fault::ServerError,
        &expect,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_shorter_than_announced_is_named_and_retry_recovers() -> Result<()> {
    error_then_retry_at(
        "wrong-length-cf",
        "",
        "cf.bin",
        Fault::WrongLength,
        &["cf.bin"],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_flipped_byte_is_named_and_retry_recovers() -> Result<()> {
    error_then_retry_at(
        "flip-taste",
        "",
        "taste.bin",
        Fault::FlipByte,
        &["taste.bin"],
    )
    .await
}

/// A download that stops halfway is given up after the stall limit (shortened here through the
/// page's `?stall-ms=`), named, and Retry fetches it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_download_is_given_up_named_and_retry_recovers() -> Result<()> {
    let expect = ["catalog.bin", "stopped sending"];
    error_then_retry_at(
        "stall-catalog",
        "?stall-ms=1500",
        "catalog.bin",
        Fault::Stall,
        &expect,
    )
    .await
}
