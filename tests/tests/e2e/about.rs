//! "About the models": each shipped report opens, is drawn with its tables, and shows the numbers
//! the evaluation wrote (compared with the report's JSON beside it).

use anyhow::{ensure, Context, Result};
use attune_e2e::{workspace_root, Fault, Harness};

/// JS returning the rows of the opened report's tables as text cells.
fn rows_js(file: &str) -> String {
    format!(
        "(() => {{ const d = document.querySelector('#about details[data-file=\"{file}\"]'); \
         if (d?.dataset.state === 'error') return {{error: d.innerText}}; \
         if (d?.dataset.state !== 'ready') return null; \
         return [...d.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(c => c.innerText.trim())); }})()"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_open_with_their_numbers() -> Result<()> {
    let mut h = Harness::start("about").await?;
    h.open().await?;
    h.wait_ready().await?;
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        workspace_root().join("public/report/user-emotion.json"),
    )?)?;
    let want = json["temporal"]["rows"][0]["test"]["rmse"]
        .as_f64()
        .context("rmse")?;
    for file in [
        "report/user-emotion.md",
        "report/evaluation.md",
        "report/taste-search.md",
        "report/ncf-training.md",
        "report/emotion.md",
        "report/heart.md",
        "report/situnes-setting3-stage2.md",
        "report/situnes-ranking.md",
        "report/sequential.md",
    ] {
        let summary = format!("#about details[data-file=\"{file}\"] > summary");
        // In the middle of the viewport, clear of anything fixed at its edges.
        h.js(&format!(
            "document.querySelector('{}').scrollIntoView({{block: 'center'}})",
            summary.replace('\'', "\\'")
        ))
        .await?;
        h.click(&summary).await?;
        let rows = h.wait_js(&format!("{file} drawn"), &rows_js(file)).await?;
        if let Some(e) = rows.get("error") {
            return h.fail(&format!("{file} failed: {e}")).await;
        }
        let rows = rows.as_array().context("rows")?;
        ensure!(!rows.is_empty(), "{file}: no table rows");
        if file == "report/user-emotion.md" {
            let ours = rows
                .iter()
                .find(|r| r[0] == "Attune self-attention")
                .context("no Attune row")?;
            let shown = ours[2].as_str().unwrap_or_default();
            ensure!(
                shown.starts_with(&format!("{want:.4}")),
                "RMSE shown {shown:?}, the evaluation wrote {want:.4}"
            );
        }
    }
    h.screenshot("about").await?;
    h.finish().await
}

/// A report the server fails to send (from the first visit on, so no offline copy holds it) is
/// named in its panel, and the panel's Retry loads it once the server sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_the_server_fails_is_named_and_retry_loads_it() -> Result<()> {
    let mut h = Harness::start("about-retry").await?;
    let file = "report/heart.md";
    h.server.set_fault(file, Fault::ServerError);
    h.open().await?;
    h.wait_ready().await?;
    let summary = format!("#about details[data-file=\"{file}\"] > summary");
    h.js(&format!(
        "document.querySelector('{}').scrollIntoView({{block: 'center'}})",
        summary.replace('\'', "\\'")
    ))
    .await?;
    h.click(&summary).await?;
    let rows = h.wait_js(&format!("{file} drawn"), &rows_js(file)).await?;
    let error = rows
        .get("error")
        .and_then(|e| e.as_str())
        .unwrap_or_default();
    ensure!(
        error.contains("heart.md") && error.contains("HTTP 500"),
        "{file} under HTTP 500 shows {rows}"
    );
    h.server.clear_faults();
    h.click(&format!(
        "#about details[data-file=\"{file}\"] .report-retry"
    ))
    .await?;
    let rows = h
        .wait_js(&format!("{file} after Retry"), &rows_js(file))
        .await?;
    ensure!(
        rows.as_array().is_some_and(|r| !r.is_empty()),
        "{file} after Retry: {rows}"
    );
    h.finish().await
}
