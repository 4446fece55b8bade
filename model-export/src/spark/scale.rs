//! `model-export spark scale`: how the in-process training of each taste family grows with the
//! catalogue, on **synthetic** logs (marked so in the report) shaped like HetRec: each synthetic
//! user has the entry count of a real training user, drawn by the real artists' popularity
//! curve stretched to `n` items; users grow with items at HetRec's ratio. Measured: wall time and
//! the peak resident memory of a process that does only that fit.

use crate::rng::Rng;
use crate::taste::ease::{Ease, EaseConfig};
use crate::taste::ials_cg::{IalsCg, IalsConfig};
use crate::taste::{Input, Rows};
use serde::Serialize;
use std::time::Instant;

/// One catalogue size.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Items.
    pub items: usize,
    /// Users.
    pub users: usize,
    /// Entries.
    pub entries: usize,
    /// EASE's closed form (Gram, Cholesky inverse, weights) in seconds; `None` where its dense
    /// matrices would not fit this machine's memory ([`EASE_BYTES_PER_CELL`]).
    pub ease_s: Option<f64>,
    /// Peak resident memory of the EASE fit, MB (its estimate where it was not run).
    pub ease_peak_mb: f64,
    /// One iALS alternation (k 256, CG) in seconds.
    pub ials_iteration_s: f64,
    /// Peak resident memory after iALS, MB.
    pub ials_peak_mb: f64,
}

/// Peak bytes of an EASE fit per item-item cell, measured here: the f64 Gram, the matrix faer
/// factors, its inverse and the f32 weights (8 + 8 + 8 + 4 = 28) plus working space.
pub const EASE_BYTES_PER_CELL: f64 = 35.0;

/// A `Key:  123 kB` line of a /proc file, in MB.
fn proc_mb(file: &str, key: &str) -> Option<f64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

/// This machine's memory, MB.
fn total_mb() -> f64 {
    proc_mb("/proc/meminfo", "MemTotal:").unwrap_or(f64::INFINITY)
}

/// The process's peak resident set (`VmHWM`), MB (0 where /proc is absent).
fn peak_mb() -> f64 {
    proc_mb("/proc/self/status", "VmHWM:").unwrap_or(0.0)
}

/// A synthetic log of `items` items from the real per-user entry counts and item popularity.
pub fn synthetic(real: &Rows, real_items: usize, items: usize, seed: u64) -> Rows {
    let mut pop = vec![0f64; real_items];
    for &(i, _) in real.iter().flatten() {
        pop[i as usize] += 1.0;
    }
    pop.sort_by(|a, b| b.total_cmp(a));
    // Popularity of synthetic rank r: the real curve at the same quantile.
    let weight: Vec<f64> = (0..items)
        .map(|r| pop[r * real_items / items].max(0.5))
        .collect();
    let mut cdf = Vec::with_capacity(items);
    let mut acc = 0.0;
    for w in &weight {
        acc += w;
        cdf.push(acc);
    }
    let users = real.len() * items / real_items;
    let mut rng = Rng::new(seed);
    (0..users)
        .map(|_| {
            let n = real[rng.below(real.len())].len().min(items);
            let mut row: Vec<u32> = Vec::with_capacity(n);
            while row.len() < n {
                let x = f64::from(rng.unit()) * acc;
                let i = cdf.partition_point(|&c| c < x).min(items - 1) as u32;
                if !row.contains(&i) {
                    row.push(i);
                }
            }
            row.sort_unstable();
            row.into_iter().map(|i| (i, 1.0)).collect()
        })
        .collect()
}

/// A taste family whose training is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Family {
    /// EASE's closed form.
    Ease,
    /// One iALS alternation (k 256, CG).
    Ials,
}

/// One measurement: `(seconds, peak MB, users, entries)`. Meant to run alone in its own
/// process (`spark scale-one`), so that the peak is this fit's.
pub fn measure_one(
    real: &Rows,
    real_items: usize,
    family: Family,
    items: usize,
) -> (f64, f64, usize, usize) {
    let rows = synthetic(real, real_items, items, 11);
    let t = Instant::now();
    match family {
        Family::Ease => {
            let cfg = EaseConfig {
                lambda: 800.0,
                dropout: 0.25,
            };
            drop(Ease::fit(&rows, items, cfg));
        }
        Family::Ials => {
            let cfg = IalsConfig {
                k: 256,
                lambda: 30.0,
                alpha: 10.0,
                iterations: 1,
                input: Input::Binary,
            };
            drop(IalsCg::fit(&rows, items, cfg, 7));
        }
    }
    let s = t.elapsed().as_secs_f64();
    (s, peak_mb(), rows.len(), rows.iter().map(Vec::len).sum())
}

/// Measures every size, each family in a fresh child process of this binary.
pub fn measure(
    sizes: &[usize],
    data: &std::path::Path,
    out: &std::path::Path,
) -> anyhow::Result<Vec<Point>> {
    use anyhow::Context;
    let exe = std::env::current_exe()?;
    let run = |family: &str, items: usize| -> anyhow::Result<(f64, f64, usize, usize)> {
        let out = std::process::Command::new(&exe)
            .args(["spark", "scale-one", "--family", family, "--items"])
            .arg(items.to_string())
            .arg("--data")
            .arg(data)
            .arg("--out")
            .arg(out)
            .output()
            .context("re-running model-export")?;
        if !out.status.success() {
            anyhow::bail!(
                "{family} at {items} items: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    };
    sizes
        .iter()
        .map(|&items| {
            let need_mb = EASE_BYTES_PER_CELL * (items * items) as f64 / 1048576.0;
            let (ials_iteration_s, ials_peak_mb, users, entries) = run("ials", items)?;
            let (ease_s, ease_peak_mb) = if need_mb < 0.8 * total_mb() {
                let (s, peak, _, _) = run("ease", items)?;
                (Some(s), peak)
            } else {
                (None, need_mb)
            };
            let p = Point {
                items,
                users,
                entries,
                ease_s,
                ease_peak_mb,
                ials_iteration_s,
                ials_peak_mb,
            };
            eprintln!("[spark scale] {p:?}");
            Ok(p)
        })
        .collect()
}

/// The report (`scale-training.md`).
pub fn markdown(points: &[Point], threads: usize) -> String {
    let mut md = String::from(
        "# Training cost against catalogue size (synthetic logs)\n\n\
         Regenerate with `cargo run --release -p attune-model-export -- spark scale`.\n\n\
         **Synthetic data, for scale only**: each user has the entry count of a real HetRec \
         training user, drawn by the real artists' popularity curve stretched to the catalogue \
         size; users grow with items at HetRec's ratio. ",
    );
    md.push_str(&format!(
        "{threads} threads on this machine. EASE is the closed form the item-item part uses \
         (dense Gram, Cholesky inverse, f32 weights); iALS is one alternation of the in-process \
         conjugate-gradient trainer at k 256. Each fit runs alone in a fresh process; peak memory is that process's high-water mark (data included).\n\n\
         | items | users | entries | EASE s | EASE peak MB | iALS s / iteration | iALS peak MB |\n\
         |---|---|---|---|---|---|---|\n"
    ));
    for p in points {
        let (ease_s, ease_mb) = match p.ease_s {
            Some(s) => (format!("{s:.1}"), format!("{:.0}", p.ease_peak_mb)),
            None => (
                "does not fit".to_string(),
                format!("~{:.0} (estimate)", p.ease_peak_mb),
            ),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {ease_s} | {ease_mb} | {:.2} | {:.0} |\n",
            p.items, p.users, p.entries, p.ials_iteration_s, p.ials_peak_mb
        ));
    }
    md.push_str(&format!(
        "\nEASE's peak is about {EASE_BYTES_PER_CELL} bytes per item pair (n² growth; its time grows \
         as n³), so on this {:.0} GB machine it stops at about {:.0}k items and at 100k items would \
         need about {:.0} GB. iALS grows linearly in entries and items per alternation.\n",
        total_mb() / 1024.0,
        (0.8 * total_mb() * 1048576.0 / EASE_BYTES_PER_CELL).sqrt() / 1000.0,
        EASE_BYTES_PER_CELL * 1e10 / 1e9
    ));
    md
}
