//! `model-export scale`: a catalogue of a million items in static shards, for the scale
//! benchmark and tests (issue 17). **Synthetic, and marked so in its index**: the real HetRec
//! artists' SVD++ rows (`cf.bin`: factors and bias) are embedded as they are, so real
//! recommendations stay checkable, and the rest are drawn from a Gaussian fitted to those rows
//! (mean and full covariance of factors and bias together) with valence/arousal from a Gaussian
//! fitted to the catalogue's artists. Items are numbered by bias, the model's popularity term, so
//! the first shard holds the most popular. The shards never ship with the site.
//!
//! Besides the shards it writes `users.json` (the likes of HetRec test users, for the browser
//! benchmark) and `native.json`: per-request time of the int8 scan and of the exact f32 scan,
//! recall@10 of the first against the second and against the generator's own f32 rows.

use crate::hetrec::corpus::{Corpus, Split};
use crate::hetrec::evaluate::users_of;
use crate::rng::Rng;
use anyhow::{ensure, Context, Result};
use attune_engine::manifest::Manifest;
use attune_engine::scale::index::SCALE_FORMAT;
use attune_engine::scale::scan::recall;
use attune_engine::scale::{Hit, ScaleIndex, Scanner, Shard, ShardEntry, INDEX_FILE};
use attune_engine::{ArtistIdx, FoldIn, Recommender};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `model-export scale` options.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Items in the catalogue (real ones included).
    #[arg(long, default_value_t = 1_000_000)]
    pub items: usize,
    /// Items per shard.
    #[arg(long, default_value_t = 8192)]
    pub shard_items: usize,
    /// Where the shards, `index.json`, `users.json` and `native.json` go.
    #[arg(long, default_value = "target/scale")]
    pub dir: PathBuf,
    /// Seed of the synthetic draws.
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
    /// HetRec test users in `users.json` and the native benchmark.
    #[arg(long, default_value_t = 200)]
    pub users: usize,
}

/// The native benchmark (`native.json`).
#[derive(Debug, Serialize)]
pub struct Native {
    /// Items in the catalogue.
    pub items: usize,
    /// Shard files.
    pub shards: usize,
    /// Bytes of all shards.
    pub bytes: u64,
    /// Milliseconds to verify and decode every shard.
    pub load_ms: f64,
    /// Requests measured (one per test user).
    pub requests: usize,
    /// int8 pass + f32 rescoring: p50 and p95 milliseconds per request.
    pub fast_ms: Percentiles,
    /// The exact f32 scan of every item, same requests.
    pub exact_ms: Percentiles,
    /// Mean recall@10 of the fast list against the exact scan of the stored factors.
    pub recall_vs_exact: f64,
    /// Lowest recall@10 of any request.
    pub recall_min: f64,
    /// Mean recall@10 against an exact scan of the generator's f32 rows (before int8).
    pub recall_vs_unquantised: f64,
}

/// p50 and p95 of a sample.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// Nearest-rank percentiles.
pub fn percentiles(xs: &[f64]) -> Percentiles {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    Percentiles {
        p50: at(0.5),
        p95: at(0.95),
    }
}

/// Lower-triangular Cholesky factor of a symmetric positive definite `n × n` matrix.
fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = a[i * n + i] - s;
                ensure!(d > 0.0, "covariance is not positive definite at {i}");
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// Mean and Cholesky factor of the covariance of `rows` (each `d` long).
fn fit_gaussian(rows: &[Vec<f64>], d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = rows.len() as f64;
    let mut mean = vec![0.0; d];
    for r in rows {
        for f in 0..d {
            mean[f] += r[f] / n;
        }
    }
    let mut cov = vec![0.0; d * d];
    for r in rows {
        for i in 0..d {
            let xi = r[i] - mean[i];
            for j in 0..=i {
                cov[i * d + j] += xi * (r[j] - mean[j]) / (n - 1.0);
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            cov[j * d + i] = cov[i * d + j];
        }
        cov[i * d + i] += 1e-9;
    }
    Ok((mean, cholesky(&cov, d)?))
}

/// One draw of the fitted Gaussian.
fn draw(mean: &[f64], l: &[f64], rng: &mut Rng) -> Vec<f64> {
    let d = mean.len();
    let z: Vec<f64> = (0..d).map(|_| f64::from(rng.normal(1.0))).collect();
    (0..d)
        .map(|i| mean[i] + (0..=i).map(|j| l[i * d + j] * z[j]).sum::<f64>())
        .collect()
}

/// One item before numbering.
struct Item {
    factors: Vec<f32>,
    bias: f32,
    emotion: (f32, f32),
    real: Option<u32>,
}

/// Writes the catalogue and runs the native benchmark.
pub fn run(args: &Args, rec: &Recommender, corpus: &Corpus) -> Result<Native> {
    let cf = rec.cf().context("the site's assets have no cf.bin")?;
    let catalog = rec.catalog();
    let (k, n_real) = (cf.k(), cf.n_items());
    ensure!(
        args.items >= n_real,
        "--items {} is below the {n_real} real artists",
        args.items
    );
    ensure!(args.shard_items > 0, "--shard-items must be positive");
    let mut rng = Rng::new(args.seed);

    // The real rows, then the fitted draws.
    let real_rows: Vec<Vec<f64>> = (0..n_real)
        .map(|i| {
            let a = ArtistIdx(i as u32);
            let mut r: Vec<f64> = cf.q(a).iter().map(|&x| f64::from(x)).collect();
            r.push(f64::from(cf.item_bias(a)));
            r
        })
        .collect();
    let (mean, l) = fit_gaussian(&real_rows, k + 1)?;
    let emotions: Vec<Option<(f32, f32)>> = catalog
        .artists()
        .iter()
        .map(|a| {
            a.emotion
                .map(|e| (e.emotion.valence.get(), e.emotion.arousal.get()))
        })
        .collect();
    let known: Vec<Vec<f64>> = emotions
        .iter()
        .flatten()
        .map(|&(v, a)| vec![f64::from(v), f64::from(a)])
        .collect();
    let (emo_mean, emo_l) = fit_gaussian(&known, 2)?;
    let mut items: Vec<Item> = real_rows
        .iter()
        .enumerate()
        .map(|(i, r)| Item {
            factors: r[..k].iter().map(|&x| x as f32).collect(),
            bias: r[k] as f32,
            emotion: emotions[i].unwrap_or((0.0, 0.0)),
            real: Some(i as u32),
        })
        .collect();
    for _ in n_real..args.items {
        let r = draw(&mean, &l, &mut rng);
        let e = draw(&emo_mean, &emo_l, &mut rng);
        items.push(Item {
            factors: r[..k].iter().map(|&x| x as f32).collect(),
            bias: r[k] as f32,
            emotion: (e[0].clamp(-1.0, 1.0) as f32, e[1].clamp(-1.0, 1.0) as f32),
            real: None,
        });
    }
    // Popular (highest bias) first; ties keep real before synthetic.
    items.sort_by(|a, b| b.bias.total_cmp(&a.bias));

    std::fs::create_dir_all(&args.dir)?;
    for entry in std::fs::read_dir(&args.dir)? {
        let p = entry?.path();
        if p.extension().is_some_and(|e| e == "bin") {
            std::fs::remove_file(p)?;
        }
    }
    let mut real = vec![0u32; n_real];
    for (g, it) in items.iter().enumerate() {
        if let Some(r) = it.real {
            real[r as usize] = g as u32;
        }
    }
    let mut shards = Vec::new();
    for (n, chunk) in items.chunks(args.shard_items).enumerate() {
        let first = (n * args.shard_items) as u32;
        let rows: Vec<f32> = chunk.iter().flat_map(|i| i.factors.clone()).collect();
        let bias: Vec<f32> = chunk.iter().map(|i| i.bias).collect();
        let emo: Vec<(f32, f32)> = chunk.iter().map(|i| i.emotion).collect();
        let shard = Shard::quantise(first, k, &rows, &bias, &emo);
        let bytes = shard.encode();
        let file = format!("shard-{n:04}.bin");
        std::fs::write(args.dir.join(&file), &bytes)?;
        shards.push(ShardEntry {
            file,
            first,
            items: chunk.len() as u32,
            entry: Manifest::entry_for(&bytes),
        });
    }
    let index = ScaleIndex {
        format: SCALE_FORMAT,
        source: format!(
            "synthetic, for scale tests: {} items, of which the {n_real} real HetRec artists \
             keep their SVD++ rows (cf.bin); the other {} are drawn from a Gaussian fitted to \
             those rows (factors and bias) and to the catalogue's valence/arousal. Not music.",
            args.items,
            args.items - n_real
        ),
        items: args.items as u32,
        dim: k as u32,
        shards,
        real,
    };
    std::fs::write(args.dir.join(INDEX_FILE), index.to_json())?;

    // Test users, for both benchmarks.
    let users: Vec<Vec<u32>> = users_of(corpus, Split::Test)
        .iter()
        .map(|u| {
            u.artists
                .iter()
                .filter_map(|&(id, _)| catalog.artist_by_id(id).map(|a| a.0))
                .collect::<Vec<u32>>()
        })
        .filter(|l| l.len() >= 3)
        .take(args.users)
        .collect();
    std::fs::write(
        args.dir.join("users.json"),
        serde_json::to_string(&users)? + "\n",
    )?;
    let native = bench(&args.dir, &index, &items, &users, rec)?;
    std::fs::write(
        args.dir.join("native.json"),
        serde_json::to_string_pretty(&native)? + "\n",
    )?;
    Ok(native)
}

/// Loads the written shards as the browser does (verify, decode) and times the requests.
fn bench(
    dir: &Path,
    index: &ScaleIndex,
    items: &[Item],
    users: &[Vec<u32>],
    rec: &Recommender,
) -> Result<Native> {
    let cf = rec.cf().context("no cf.bin")?;
    let t = Instant::now();
    let mut scanner = Scanner::new(index.dim as usize);
    let mut bytes = 0u64;
    for (n, s) in index.shards.iter().enumerate() {
        let b = std::fs::read(dir.join(&s.file))?;
        index.verify(n, &b)?;
        bytes += b.len() as u64;
        scanner.add(Shard::decode(&s.file, &b)?)?;
    }
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let (mut fast, mut exact, mut rec_exact, mut rec_source) = (vec![], vec![], vec![], vec![]);
    for likes in users {
        let likes: Vec<ArtistIdx> = likes.iter().map(|&a| ArtistIdx(a)).collect();
        let u = cf.fold_in(&likes, FoldIn::LeastSquares).factors;
        let t = Instant::now();
        let f = scanner.top_k(&u, 10);
        fast.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let e = scanner.exact_top_k(&u, 10);
        exact.push(t.elapsed().as_secs_f64() * 1e3);
        rec_exact.push(recall(&f, &e));
        rec_source.push(recall(&f, &source_top(items, &u, 10)));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    Ok(Native {
        items: scanner.items(),
        shards: scanner.shards(),
        bytes,
        load_ms,
        requests: users.len(),
        fast_ms: percentiles(&fast),
        exact_ms: percentiles(&exact),
        recall_vs_exact: mean(&rec_exact),
        recall_min: rec_exact.iter().copied().fold(1.0, f64::min),
        recall_vs_unquantised: mean(&rec_source),
    })
}

/// The exact top `k` over the generator's f32 rows (numbered as the shards number them).
fn source_top(items: &[Item], u: &[f32], k: usize) -> Vec<Hit> {
    let mut s: Vec<Hit> = items
        .iter()
        .enumerate()
        .map(|(g, it)| Hit {
            item: g as u32,
            score: it.factors.iter().zip(u).map(|(a, b)| a * b).sum::<f32>() + it.bias,
        })
        .collect();
    s.select_nth_unstable_by(k, |a, b| b.score.total_cmp(&a.score));
    s.truncate(k);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_draws_match_the_mean_and_covariance() {
        let rows: Vec<Vec<f64>> = (0..2000)
            .map(|i| {
                let x = (i as f64 * 0.37).sin();
                vec![1.0 + x, 0.5 * x + 0.1 * (i as f64 * 1.3).cos()]
            })
            .collect();
        let (mean, l) = fit_gaussian(&rows, 2).unwrap();
        let mut rng = Rng::new(3);
        let draws: Vec<Vec<f64>> = (0..20_000).map(|_| draw(&mean, &l, &mut rng)).collect();
        let (m2, l2) = fit_gaussian(&draws, 2).unwrap();
        for f in 0..2 {
            assert!((mean[f] - m2[f]).abs() < 0.02, "{mean:?} {m2:?}");
        }
        for (a, b) in l.iter().zip(&l2) {
            assert!((a - b).abs() < 0.02, "{l:?} {l2:?}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = percentiles(&xs);
        assert_eq!((p.p50, p.p95), (50.0, 95.0));
    }
}
