//! Accessibility: axe-core (installed by `scripts/setup.sh`, injected by this test, never shipped)
//! audits the ready page, with a like, a mood and the delete confirmation open, at desktop and at
//! phone width. Serious and critical violations fail the test; the others are printed.

use anyhow::{bail, ensure, Context, Result};
use attune_e2e::{with_ready_app, workspace_root, Harness};
use serde_json::Value;

/// Runs axe on the document and returns its violations in brief.
const RUN_AXE: &str = "const done = arguments[arguments.length - 1]; \
    axe.run(document, { resultTypes: ['violations'] }) \
      .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, \
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) })))) \
      .catch(e => done({ error: String(e) }));";

async fn audit(h: &Harness, label: &str) -> Result<()> {
    let v = h
        .client()
        .execute_async(RUN_AXE, vec![])
        .await
        .context("running axe")?;
    if let Some(e) = v.get("error") {
        bail!("axe failed ({label}): {e}");
    }
    let violations = v.as_array().context("axe returned no list")?;
    let serious: Vec<&Value> = violations
        .iter()
        .filter(|x| matches!(x["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    for x in violations {
        println!(
            "axe {label}: {} ({}): {} {}",
            x["id"], x["impact"], x["help"], x["nodes"]
        );
    }
    ensure!(
        serious.is_empty(),
        "{label}: {} serious or critical accessibility violation(s): {}",
        serious.len(),
        serde_json::to_string_pretty(&serious)?
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_serious_violations() -> Result<()> {
    let axe_path = workspace_root().join(".tools/node_modules/axe-core/axe.min.js");
    let axe = std::fs::read_to_string(&axe_path).with_context(|| {
        format!(
            "reading {} (scripts/setup.sh installs axe-core)",
            axe_path.display()
        )
    })?;
    with_ready_app("accessibility", async |h: &mut Harness| {
        h.like_artist("Massive Attack").await?;
        h.click_mood(-0.4, 0.3).await?;
        h.wait_recs().await?;
        h.click_button("data-delete").await?;
        h.wait_js(
            "the delete confirmation",
            "!!document.querySelector('#data-delete-confirm')",
        )
        .await?;
        // WebDriver scripts run outside the page's Content-Security-Policy.
        h.client()
            .execute(&format!("{axe}\nreturn typeof axe;"), vec![])
            .await
            .context("injecting axe-core")?;
        audit(h, "desktop").await?;
        h.emulate_viewport((390, 844), true).await?;
        audit(h, "phone").await
    })
    .await
}
