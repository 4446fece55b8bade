//! The SiTunes commands' shared options and the heart-rate check.

use crate::{manifest, situnes};
use anyhow::Result;
use clap::Subcommand;
use std::path::{Path, PathBuf};

/// A SiTunes train/test pair and where the results go.
#[derive(clap::Args)]
pub struct SitunesFolders {
    /// Training folder (interactions.csv, optional wrist.npy and env.json).
    #[arg(long)]
    pub train: PathBuf,
    /// Test folder (the same folder: split in time per user).
    #[arg(long)]
    pub test: PathBuf,
    /// The songs' metadata (music_info.csv).
    #[arg(long)]
    pub items: PathBuf,
    /// Where the JSON results go.
    #[arg(long)]
    pub json: PathBuf,
}

#[derive(Subcommand)]
pub enum HeartCmd {
    /// Correlate wristband heart rate with self-reported arousal (SiTunes Stage 2); writes
    /// `<out>/report/heart.md` and the JSON, and refreshes the manifest.
    Evaluate {
        /// The shared data root (holds situnes/).
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// Where the JSON results go (default `<out>/report/heart.json`).
        #[arg(long)]
        json: Option<PathBuf>,
        /// The site's asset folder.
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// The demo RR series to replay through the engine for the report.
        #[arg(long, default_value = "public/demo/rr-sample.txt")]
        demo: PathBuf,
    },
}

pub fn heart_cmd(data: &Path, json: Option<&Path>, out: &Path, demo: &Path) -> Result<()> {
    let report = situnes::heart_check::evaluate(data, Some(demo))?;
    let json = json.map_or_else(|| out.join("report/heart.json"), Path::to_path_buf);
    if let Some(dir) = json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&json, serde_json::to_string_pretty(&report)? + "\n")?;
    std::fs::create_dir_all(out.join("report"))?;
    std::fs::write(
        out.join("report/heart.md"),
        situnes::heart_check::markdown(&report),
    )?;
    manifest::write_manifest(out)?;
    for c in std::iter::once(&report.primary).chain(&report.secondary) {
        println!(
            "r {:+.3} [{:+.3}, {:+.3}] rho {:+.3} n {:>3}  {}",
            c.r, c.ci_bootstrap_users[0], c.ci_bootstrap_users[1], c.spearman, c.n, c.what
        );
    }
    let w = &report.weight;
    println!(
        "weight = clamp(r, 0, 1) = {:.3} (engine: r {:+.3}, weight {:.3}); HR span {} bpm (engine {})",
        w.weight, w.engine_r, w.engine_weight, report.hr_scale.span_bpm, w.engine_hr_span_bpm
    );
    Ok(())
}
