//! `model-export spark check`: the factors Spark trained on the training users' log against the
//! in-process iALS with the same objective and settings, both folded in by the browser's code
//! (`engine::taste::ImplicitFactors`, int8) for the validation users. The goal: NDCG@10 at 80%
//! within [`TOLERANCE`] of the in-process model. A second in-process seed shows how far two
//! runs of one trainer already differ.

use super::{tune, AlsSettings, SparkRun};
use crate::taste::search::Data;
use crate::taste::tune::{mean, paired, per_user, Paired};
use anyhow::{bail, Result};
use attune_engine::taste::ImplicitFactors;
use serde::Serialize;

/// Largest accepted gap in validation NDCG@10 at 80%.
pub const TOLERANCE: f64 = 0.005;

/// One model's validation scores.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What it is.
    pub model: String,
    /// NDCG@10 at 80% folded in.
    pub ndcg80: f64,
    /// Recall@10 at 80%.
    pub recall80: f64,
    /// NDCG@10 at 3 likes.
    pub ndcg3: f64,
}

/// The check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Parity {
    /// Spark's run.
    pub run: SparkRun,
    /// Spark, in-process, in-process with another seed.
    pub rows: Vec<Row>,
    /// Spark minus in-process at 80%, paired over users.
    pub spark_minus_in_process: Paired,
    /// In-process seed 2 minus seed 1 at 80%.
    pub seed_minus_seed: Paired,
    /// Catalogue artists no training user listened to (zero factors on both sides).
    pub missing: usize,
    /// Validation users at 80% / at 3 likes.
    pub users: (usize, usize),
    /// Whether the gap is within [`TOLERANCE`].
    pub pass: bool,
}

/// Per-user (NDCG@10, recall@10).
type PerUser = Vec<(f64, f64)>;

/// Per-user scores at 80% and at 3 likes.
fn scored(d: &Data<'_>, f: &ImplicitFactors) -> (PerUser, PerUser) {
    (
        per_user(d.catalog, &d.val, &mut |l| f.scores(l)),
        per_user(d.catalog, &d.val3, &mut |l| f.scores(l)),
    )
}

/// Runs the check on Spark's imported factors (`spark`, trained by `run` on
/// `model-export spark log --users train`).
pub fn check(d: &Data<'_>, run: SparkRun, spark: &ImplicitFactors) -> Result<Parity> {
    let s: AlsSettings = run.settings;
    if spark.k() != s.rank || spark.n_items() != d.catalog.artists().len() {
        bail!(
            "the imported factors are {} x {}, Spark's run says rank {} over {} catalogue artists",
            spark.n_items(),
            spark.k(),
            s.rank,
            d.catalog.artists().len()
        );
    }
    let mut played = vec![false; d.catalog.artists().len()];
    for &(i, _) in d.train.iter().flatten() {
        played[i as usize] = true;
    }
    let missing = played.iter().filter(|p| !**p).count();
    let (ours, entries, users) = tune::fit(d, &s)?;
    if (entries, users) != (run.entries, run.users) {
        bail!(
            "Spark trained on {} entries of {} users, the training users have {entries} of {users}: \
             train on `model-export spark log --users train`",
            run.entries,
            run.users
        );
    }
    let (other, _, _) = tune::fit(
        d,
        &AlsSettings {
            seed: s.seed + 1,
            ..s
        },
    )?;
    let parts = [
        (format!("Spark MLlib {} ALS", run.spark), scored(d, spark)),
        (
            "in-process iALS, same objective".to_string(),
            scored(d, &ours),
        ),
        (
            format!("in-process, seed {}", s.seed + 1),
            scored(d, &other),
        ),
    ];
    let rows = parts
        .iter()
        .map(|(name, (a, b))| Row {
            model: name.clone(),
            ndcg80: mean(a, true),
            recall80: mean(a, false),
            ndcg3: mean(b, true),
        })
        .collect::<Vec<_>>();
    let gap = paired(&parts[0].1 .0, &parts[1].1 .0, 19);
    Ok(Parity {
        pass: gap.diff.abs() <= TOLERANCE,
        spark_minus_in_process: gap,
        seed_minus_seed: paired(&parts[2].1 .0, &parts[1].1 .0, 19),
        run,
        rows,
        missing,
        users: (d.val.len(), d.val3.len()),
    })
}

/// The report (`spark-als.md`).
pub fn markdown(p: &Parity) -> String {
    let s = &p.run.settings;
    let mut md = String::from(
        "# Spark MLlib ALS: the taste's factors trained past one machine\n\n\
         Regenerate with `scripts/spark_als.sh` (set-up, log, Spark, import, this check).\n\n",
    );
    md.push_str(&format!(
        "Spark {} (`--master {}`) trained implicit ALS (`implicitPrefs=true`) on the training users' \
         log ({} entries, {} users, {} artists): rank {}, regParam {} (per entry), alpha {}, {} \
         iterations, {} ratings, seed {}, in **{:.0} s** on this machine. `model-export import-factors` \
         read its Parquet `itemFactors`, rounded them to int8 with a scale per row (as shipped) and the \
         browser's fold-in (`engine::taste::ImplicitFactors`, one k x k Cholesky, constant \
         lambda {:.2} = regParam x mean entries per user) scored {} validation users at 80% folded \
         in and {} at 3 likes. {} catalogue artists no training user played get zero factors on \
         both sides.\n\n",
        p.run.spark,
        p.run.master,
        p.run.entries,
        p.run.users,
        p.run.items,
        s.rank,
        s.reg,
        s.alpha,
        s.iterations,
        match s.values {
            super::Values::Binary => "binary",
            super::Values::Log => "ln(1 + count)",
        },
        s.seed,
        p.run.seconds,
        p.run.fold_lambda(),
        p.users.0,
        p.users.1,
        p.missing,
    ));
    md.push_str(
        "| model | NDCG@10 (80%) | recall@10 (80%) | NDCG@10 (3 likes) |\n|---|---|---|---|\n",
    );
    for r in &p.rows {
        md.push_str(&format!(
            "| {} | {:.4} | {:.4} | {:.4} |\n",
            r.model, r.ndcg80, r.recall80, r.ndcg3
        ));
    }
    let g = &p.spark_minus_in_process;
    let e = &p.seed_minus_seed;
    md.push_str(&format!(
        "\nSpark minus in-process at 80%: {:+.4} (paired 95% bootstrap interval [{:+.4}, {:+.4}]); \
         goal |gap| <= {TOLERANCE}: **{}**. Two in-process seeds differ by {:+.4} [{:+.4}, {:+.4}].\n",
        g.diff,
        g.lo,
        g.hi,
        if p.pass { "met" } else { "not met" },
        e.diff,
        e.lo,
        e.hi
    ));
    md
}
