//! `model-export spark tune`: `regParam` for Spark's per-entry objective, chosen on the
//! validation users by NDCG@10 at 80% folded in (the in-process trainer stands in for Spark: the
//! parity check shows the two agree). Rank, alpha, iterations and values are the shipped iALS's.

use super::{fold_lambda, AlsSettings, Tuned, Values};
use crate::taste::ials_cg::{IalsCg, Penalty};
use crate::taste::search::Data;
use crate::taste::{rows, Input};
use anyhow::{bail, Result};
use attune_engine::taste::ImplicitFactors;

/// The `regParam` grid (Spark's default is 0.1).
pub const GRID: [f64; 6] = [0.03, 0.1, 0.3, 1.0, 3.0, 10.0];

/// In-process per-entry factors for `s`, as the browser folds them in.
pub fn fit(d: &Data<'_>, s: &AlsSettings) -> Result<(ImplicitFactors, u64, u64)> {
    let r = rows(&d.train, s.values.into());
    let (entries, users) = (r.iter().map(Vec::len).sum::<usize>() as u64, r.len() as u64);
    let m = IalsCg::fit_with(
        &r,
        d.catalog.artists().len(),
        s.ials(),
        Penalty::PerEntry,
        s.seed,
    );
    let f = ImplicitFactors::new(
        &m.item_factors(),
        fold_lambda(s.reg, entries, users) as f32,
        s.alpha as f32,
    )?;
    Ok((f, entries, users))
}

/// Runs the grid from the shipped iALS's other settings and returns the choice.
pub fn tune(d: &Data<'_>, shipped: &crate::taste::ials_cg::IalsConfig) -> Result<Tuned> {
    let values = match shipped.input {
        Input::Binary => Values::Binary,
        Input::LogCounts => Values::Log,
    };
    let mut grid = Vec::new();
    let mut best: Option<(f64, AlsSettings)> = None;
    for reg in GRID {
        let s = AlsSettings {
            rank: shipped.k,
            reg,
            alpha: shipped.alpha,
            iterations: shipped.iterations,
            values,
            seed: 7,
        };
        let (f, _, _) = fit(d, &s)?;
        let ndcg = d.score(|likes| f.scores(likes));
        eprintln!("[spark tune] reg {reg}: validation NDCG@10 {ndcg:.4}");
        grid.push((reg, ndcg));
        if best.is_none_or(|b| ndcg > b.0) {
            best = Some((ndcg, s));
        }
    }
    let Some((_, settings)) = best else {
        bail!("empty grid")
    };
    Ok(Tuned { settings, grid })
}
