//! Training past one machine: the taste's iALS item factors from Spark MLlib's ALS
//! (`scripts/spark_als.py`, `implicitPrefs=true`), imported into `taste.bin` and folded in by the
//! browser's unchanged code.
//!
//! - [`log`]: the listening log Spark trains on: exactly the entries the in-process trainer sees.
//! - [`factors`]: reads Spark's `itemFactors` Parquet and lines it up with the catalogue.
//! - [`import`]: `import-factors`: checked factors into `taste.bin` (all or nothing) + manifest.
//! - [`parity`]: Spark's factors against the in-process iALS with the same objective and settings,
//!   scored on the validation users with the browser's fold-in.
//! - [`tune`]: the penalty of Spark's objective, chosen on the validation users.
//! - [`scale`]: training time and memory of the taste families against catalogue size.
//!
//! Spark's objective differs from the shipped iALS in one term: its L2 penalty is `reg · n` for a
//! row with `n` entries (ALS-WR), so the in-process side trains that objective too
//! ([`Penalty::PerEntry`](crate::taste::ials_cg::Penalty)). The browser folds a visitor in with
//! one constant `λ`; for Spark's factors that is the average training user's penalty,
//! `reg · entries / users` ([`SparkRun::fold_lambda`]).

pub mod cli;
pub mod factors;
pub mod import;
pub mod log;
pub mod parity;
pub mod scale;
pub mod tune;

use crate::taste::Input;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The committed Spark settings (`model-export/config/spark-als.json`, written by `spark tune`).
pub const SETTINGS: &str = "model-export/config/spark-als.json";
/// What `scripts/spark_als.py` writes next to the Parquet part files.
pub const RUN_FILE: &str = "attune-als.json";

/// How a play count becomes an ALS rating (the script's `--values`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Values {
    /// 1 for every pair.
    Binary,
    /// `ln(1 + count)`.
    Log,
}

impl From<Values> for Input {
    fn from(v: Values) -> Input {
        match v {
            Values::Binary => Input::Binary,
            Values::Log => Input::LogCounts,
        }
    }
}

/// Hyper-parameters of one ALS run (Spark's names).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlsSettings {
    /// Factors.
    pub rank: usize,
    /// `regParam`: the penalty per observed entry.
    pub reg: f64,
    /// Extra confidence per unit of rating.
    pub alpha: f64,
    /// Alternations (`maxIter`).
    pub iterations: usize,
    /// Ratings from counts.
    pub values: Values,
    /// Initialisation seed.
    pub seed: u64,
}

impl AlsSettings {
    /// Reads the committed settings.
    pub fn load(path: &Path) -> Result<AlsSettings> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("reading {} (run `model-export spark tune`)", path.display())
        })?;
        Ok(serde_json::from_str::<Tuned>(&text)?.settings)
    }

    /// The in-process trainer's configuration for the same objective.
    pub fn ials(&self) -> crate::taste::ials_cg::IalsConfig {
        crate::taste::ials_cg::IalsConfig {
            k: self.rank,
            lambda: self.reg,
            alpha: self.alpha,
            iterations: self.iterations,
            input: self.values.into(),
        }
    }
}

/// The settings file: the chosen settings and the validation grid they won.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tuned {
    /// Chosen.
    pub settings: AlsSettings,
    /// `(reg, validation NDCG@10 at 80%)` for every `reg` tried.
    pub grid: Vec<(f64, f64)>,
}

/// What one run of `scripts/spark_als.py` recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SparkRun {
    /// Spark's version.
    pub spark: String,
    /// Its settings.
    #[serde(flatten)]
    pub settings: AlsSettings,
    /// Observed (user, item) entries in the log.
    pub entries: u64,
    /// Distinct users in the log.
    pub users: u64,
    /// Distinct items in the log.
    pub items: u64,
    /// `--master`.
    pub master: String,
    /// Training time in seconds (fit and write).
    pub seconds: f64,
}

impl SparkRun {
    /// Reads `dir/attune-als.json`.
    pub fn load(dir: &Path) -> Result<SparkRun> {
        let path = dir.join(RUN_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (written by scripts/spark_als.py next to the factors)",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// The browser's constant fold-in penalty: the average training user's `reg · n`.
    pub fn fold_lambda(&self) -> f64 {
        fold_lambda(self.settings.reg, self.entries, self.users)
    }
}

/// `reg · entries / users`: Spark's penalty for a user with the mean number of entries.
pub fn fold_lambda(reg: f64, entries: u64, users: u64) -> f64 {
    reg * entries as f64 / users.max(1) as f64
}
