//! `compact`: smaller shipped assets at equal quality (issue 17, item 2). Each change is measured
//! on the held-out test users before anything is written: bytes (raw and gzip), the largest shift
//! of the model's scores, and the shipped ranking's NDCG@10 before and after with a paired 95%
//! bootstrap interval. A change whose scores move by 0.01 or more is refused.

use crate::hetrec::corpus::{self, Corpus, Split};
use crate::hetrec::evaluate;
use crate::ncf;
use crate::onnx;
use crate::taste::tune::{self, Cut, Paired};
use anyhow::{Context, Result};
use attune_engine::cf::{FactorFormat, FoldIn};
use attune_engine::models::ncf::NcfModel;
use attune_engine::CfModel;
use attune_engine::{ArtistIdx, MoodStrength, Recommender};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Float initializers smaller than this stay float32 (biases: a few bytes, no gain).
pub const HALVE_MIN_ELEMENTS: usize = 1024;
/// The largest score shift a change may cause (the bound).
pub const MAX_SCORE_SHIFT: f32 = 0.01;

/// NDCG@10 of one ranking before and after a change, on the same users.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NdcgChange {
    /// Which ranking and cut.
    pub ranking: String,
    /// Mean NDCG@10 before.
    pub before: f64,
    /// Mean NDCG@10 after.
    pub after: f64,
    /// after - before, paired over users.
    pub diff: Paired,
}

/// One measured change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    /// The file under the site's asset folder.
    pub file: String,
    /// What was done.
    pub what: String,
    /// Raw bytes before and after.
    pub bytes: (usize, usize),
    /// gzip (level 6, as static hosts serve) bytes before and after.
    pub gzip: (usize, usize),
    /// Largest absolute score difference over every test user's every artist.
    pub max_score_shift: f32,
    /// Rankings before and after.
    pub ndcg: Vec<NdcgChange>,
}

/// What `compact` did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Test users with at least 2 artists.
    pub test_users: usize,
    /// Every change, in order.
    pub changes: Vec<Change>,
}

/// gzip size at level 6.
pub fn gzip_len(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory").len()
}

/// Scores for some likes.
type Scorer<'a> = &'a dyn Fn(&[ArtistIdx]) -> Vec<f32>;

/// The shipped ranking (taste blend with these neural scores, mood strength as shipped).
fn shipped<'a>(r: &'a Recommender, neural: Scorer<'a>) -> impl Fn(&[ArtistIdx]) -> Vec<f32> + 'a {
    move |l: &[ArtistIdx]| {
        let t = r.taste(l, Some(&neural(l)));
        r.hybrid_scores(&t, r.taste_emotion(l), MoodStrength::DEFAULT)
    }
}

/// On the test users at the evaluation's cuts (80% and 3 likes): the largest difference between
/// the scores of `shift`'s two models, and NDCG@10 before and after for each named ranking.
fn measure(
    rec: &Recommender,
    corpus: &Corpus,
    shift: (Scorer, Scorer),
    rankings: &[(&str, Scorer, Scorer)],
) -> (f32, Vec<NdcgChange>) {
    let users = evaluate::users_of(corpus, Split::Test);
    let index_of = corpus::index_of(rec.catalog());
    let (mut largest, mut ndcg) = (0f32, Vec::new());
    for cut in [Cut::Share(evaluate::FOLD_IN_SHARE), Cut::Likes(3)] {
        let cases = tune::cases(&users, &index_of, cut, 7);
        for c in &cases {
            for (p, q) in shift.0(&c.likes).iter().zip(&shift.1(&c.likes)) {
                largest = largest.max((p - q).abs());
            }
        }
        for (name, before, after) in rankings {
            let x = tune::per_user(rec.catalog(), &cases, &mut |l: &[ArtistIdx]| before(l));
            let y = tune::per_user(rec.catalog(), &cases, &mut |l: &[ArtistIdx]| after(l));
            ndcg.push(NdcgChange {
                ranking: format!("{name}, {}", cut.label()),
                before: tune::mean(&x, true),
                after: tune::mean(&y, true),
                diff: tune::paired(&y, &x, 17),
            });
        }
    }
    (largest, ndcg)
}

/// Stores `models/ncf.onnx`'s weight matrices as float16 (tract casts them back to float32 when
/// it loads the model) if the scores move by less than [`MAX_SCORE_SHIFT`], and writes it; `None`
/// if it already is.
pub fn halve_ncf(rec: &Recommender, corpus: &Corpus, out: &Path) -> Result<Option<Change>> {
    let path = out.join(ncf::MODEL_FILE);
    let full = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let (half, n) = onnx::weights_to_f16(&full, HALVE_MIN_ELEMENTS)?;
    if n == 0 {
        return Ok(None);
    }
    let items = rec.catalog().artists().len();
    let (a, b) = (
        NcfModel::from_bytes(&full, items)?,
        NcfModel::from_bytes(&half, items)?,
    );
    let ncf_a = |l: &[ArtistIdx]| a.scores(l).expect("NCF scores");
    let ncf_b = |l: &[ArtistIdx]| b.scores(l).expect("NCF scores");
    let (shift, ndcg) = measure(
        rec,
        corpus,
        (&ncf_a, &ncf_b),
        &[
            (
                "Attune (shipped)",
                &shipped(rec, &ncf_a),
                &shipped(rec, &ncf_b),
            ),
            ("NCF alone", &ncf_a, &ncf_b),
        ],
    );
    anyhow::ensure!(
        shift < MAX_SCORE_SHIFT,
        "float16 weights move NCF scores by {shift} (bound {MAX_SCORE_SHIFT}); nothing written"
    );
    std::fs::write(&path, &half)?;
    Ok(Some(Change {
        file: ncf::MODEL_FILE.into(),
        what: format!("{n} weight matrices (of at least {HALVE_MIN_ELEMENTS} values) as float16, cast to float32 on load"),
        bytes: (full.len(), half.len()),
        gzip: (gzip_len(&full), gzip_len(&half)),
        max_score_shift: shift,
        ndcg,
    }))
}

/// Stores `cf.bin`'s factor matrices as int8 with a scale per row (half of float16) unless the
/// shipped ranking or SVD++ alone loses NDCG@10 (the paired interval entirely below zero), and
/// writes it; `None` if it already is int8.
pub fn int8_cf(rec: &Recommender, corpus: &Corpus, out: &Path) -> Result<Option<Change>> {
    let path = out.join(attune_engine::assets::CF_FILE);
    let full = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    if FactorFormat::of(&full) == Some(FactorFormat::Int8) {
        return Ok(None);
    }
    let a = rec.cf().context("the assets have no cf.bin")?;
    let small = a.encode_as(FactorFormat::Int8);
    let b = CfModel::decode(&small)?;
    let taste = rec
        .taste_model()
        .context("the assets have no taste.bin")?
        .clone();
    let rec_b = Recommender::cold(rec.catalog().clone())
        .with_cf(b.clone())?
        .with_taste(taste)?;
    let items = rec.catalog().artists().len();
    let ncf_model = NcfModel::from_bytes(&std::fs::read(out.join(ncf::MODEL_FILE))?, items)?;
    let neural = |l: &[ArtistIdx]| ncf_model.scores(l).expect("NCF scores");
    let svd = |m: &CfModel, l: &[ArtistIdx]| m.scores(&m.fold_in(l, FoldIn::LeastSquares));
    let (shift, ndcg) = measure(
        rec,
        corpus,
        (&|l| svd(a, l), &|l| svd(&b, l)),
        &[
            (
                "Attune (shipped)",
                &shipped(rec, &neural),
                &shipped(&rec_b, &neural),
            ),
            ("SVD++ alone", &|l| rec.svd_scores(l), &|l| {
                rec_b.svd_scores(l)
            }),
        ],
    );
    if let Some(worse) = ndcg.iter().find(|n| n.diff.hi < 0.0) {
        anyhow::bail!(
            "int8 factors cost NDCG@10 on {} ({:+.4} [{:+.4}, {:+.4}]); cf.bin stays float16",
            worse.ranking,
            worse.diff.diff,
            worse.diff.lo,
            worse.diff.hi
        );
    }
    std::fs::write(&path, &small)?;
    Ok(Some(Change {
        file: attune_engine::assets::CF_FILE.into(),
        what: "SVD++ factor matrices (q, y) as int8 with a scale per row, from float16".into(),
        bytes: (full.len(), small.len()),
        gzip: (gzip_len(&full), gzip_len(&small)),
        max_score_shift: shift,
        ndcg,
    }))
}

/// Runs every change on the assets in `out`. A change already made (its file is compact) keeps
/// the row it was measured with in the previous `report/compact.json`.
pub fn run(rec: &Recommender, corpus: &Corpus, out: &Path) -> Result<Report> {
    let test_users = evaluate::users_of(corpus, Split::Test)
        .iter()
        .filter(|u| u.artists.len() >= 2)
        .count();
    let previous: Option<Report> = std::fs::read(out.join("report/compact.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let kept = |file: &str| -> Result<Change> {
        previous
            .as_ref()
            .and_then(|p| p.changes.iter().find(|c| c.file == file).cloned())
            .with_context(|| {
                format!("{file} is already compact but report/compact.json has no row for it; regenerate it in full first")
            })
    };
    let mut changes = Vec::new();
    match halve_ncf(rec, corpus, out)? {
        Some(c) => changes.push(c),
        None => changes.push(kept(ncf::MODEL_FILE)?),
    }
    match int8_cf(rec, corpus, out)? {
        Some(c) => changes.push(c),
        None => changes.push(kept(attune_engine::assets::CF_FILE)?),
    }
    Ok(Report {
        test_users,
        changes,
    })
}

/// The report as markdown.
pub fn markdown(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::from("# Compact assets\n\nRegenerate with `cargo run --release -p attune-model-export -- compact` after the commands that write the assets in full (`ncf` writes `models/ncf.onnx` in float32, `build` writes `cf.bin` in float16; a file already compact keeps the row it was measured with). Each change is measured before it is written, on the held-out test users (");
    let _ = write!(
        s,
        "{}, the evaluation's cut): bytes, the largest score shift over every user's every artist (a change that moves scores by {MAX_SCORE_SHIFT} or more is refused), and NDCG@10 before and after, with the paired 95% bootstrap interval of the difference (after minus before).\n\n",
        r.test_users
    );
    s.push_str("| file | change | bytes before | bytes after | gzip before | gzip after | max score shift |\n|---|---|---|---|---|---|---|\n");
    for c in &r.changes {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} | {:.1e} |",
            c.file, c.what, c.bytes.0, c.bytes.1, c.gzip.0, c.gzip.1, c.max_score_shift
        );
    }
    for c in &r.changes {
        let _ = writeln!(
            s,
            "\n`{}`:\n\n| ranking | NDCG@10 before | NDCG@10 after | after - before [95%] |\n|---|---|---|---|",
            c.file
        );
        for n in &c.ndcg {
            let _ = writeln!(
                s,
                "| {} | {:.4} | {:.4} | {:+.4} [{:+.4}, {:+.4}] |",
                n.ranking, n.before, n.after, n.diff.diff, n.diff.lo, n.diff.hi
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_ncf_model_and_cf_bin_are_compact_and_the_report_says_so() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
        let shipped = std::fs::read(root.join(ncf::MODEL_FILE)).unwrap();
        let (_, left) = onnx::weights_to_f16(&shipped, HALVE_MIN_ELEMENTS).unwrap();
        assert_eq!(left, 0, "ncf.onnx ships float32 weights: run `compact`");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join("report/compact.json")).unwrap())
                .unwrap();
        let ncf_row = report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["file"] == ncf::MODEL_FILE)
            .expect("compact.json measures ncf.onnx");
        assert_eq!(ncf_row["bytes"][1].as_u64(), Some(shipped.len() as u64));
        assert!(ncf_row["max_score_shift"].as_f64().unwrap() < f64::from(MAX_SCORE_SHIFT));
        let cf = std::fs::read(root.join(attune_engine::assets::CF_FILE)).unwrap();
        assert_eq!(
            FactorFormat::of(&cf),
            Some(FactorFormat::Int8),
            "cf.bin ships float16 factors: run `compact`"
        );
        let cf_row = report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["file"] == attune_engine::assets::CF_FILE)
            .expect("compact.json measures cf.bin");
        assert_eq!(cf_row["bytes"][1].as_u64(), Some(cf.len() as u64));
    }
}
