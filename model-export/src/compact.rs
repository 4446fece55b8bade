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
use attune_engine::models::ncf::NcfModel;
use attune_engine::{ArtistIdx, MoodStrength, Recommender};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// Float initializers smaller than this stay float32 (biases: a few bytes, no gain).
pub const HALVE_MIN_ELEMENTS: usize = 1024;
/// The largest score shift a change may cause (the bound).
pub const MAX_SCORE_SHIFT: f32 = 0.01;

/// NDCG@10 of one ranking before and after a change, on the same users.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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

/// Stores `models/ncf.onnx`'s weight matrices as float16 (tract casts them back to float32 when
/// it loads the model) if the scores move by less than [`MAX_SCORE_SHIFT`], and writes it.
pub fn halve_ncf(rec: &Recommender, corpus: &Corpus, out: &Path) -> Result<Change> {
    let path = out.join(ncf::MODEL_FILE);
    let full = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let (half, n) = onnx::weights_to_f16(&full, HALVE_MIN_ELEMENTS)?;
    anyhow::ensure!(
        n > 0,
        "{} has no float32 weights left to halve: it is already compact (`ncf` writes it in \
         float32 again)",
        ncf::MODEL_FILE
    );
    let items = rec.catalog().artists().len();
    let (a, b) = (
        NcfModel::from_bytes(&full, items)?,
        NcfModel::from_bytes(&half, items)?,
    );
    let users = evaluate::users_of(corpus, Split::Test);
    let index_of = corpus::index_of(rec.catalog());
    let cuts = [Cut::Share(evaluate::FOLD_IN_SHARE), Cut::Likes(3)];
    let mut shift = 0f32;
    for cut in cuts {
        for c in tune::cases(&users, &index_of, cut, 7) {
            let (x, y) = (a.scores(&c.likes)?, b.scores(&c.likes)?);
            for (p, q) in x.iter().zip(&y) {
                shift = shift.max((p - q).abs());
            }
        }
    }
    anyhow::ensure!(
        shift < MAX_SCORE_SHIFT,
        "float16 weights move NCF scores by {shift} (bound {MAX_SCORE_SHIFT}); nothing written"
    );
    let mut ndcg = Vec::new();
    for cut in cuts {
        let cases = tune::cases(&users, &index_of, cut, 7);
        let shipped = |m: &NcfModel| {
            tune::per_user(rec.catalog(), &cases, &mut |l: &[ArtistIdx]| {
                let n = m.scores(l).expect("NCF scores");
                let t = rec.taste(l, Some(&n));
                rec.hybrid_scores(&t, rec.taste_emotion(l), MoodStrength::DEFAULT)
            })
        };
        let alone = |m: &NcfModel| {
            tune::per_user(rec.catalog(), &cases, &mut |l: &[ArtistIdx]| {
                m.scores(l).expect("NCF scores")
            })
        };
        for (name, (x, y)) in [
            ("Attune (shipped)", (shipped(&a), shipped(&b))),
            ("NCF alone", (alone(&a), alone(&b))),
        ] {
            ndcg.push(NdcgChange {
                ranking: format!("{name}, {}", cut.label()),
                before: tune::mean(&x, true),
                after: tune::mean(&y, true),
                diff: tune::paired(&y, &x, 17),
            });
        }
    }
    std::fs::write(&path, &half)?;
    Ok(Change {
        file: ncf::MODEL_FILE.into(),
        what: format!("{n} weight matrices (of at least {HALVE_MIN_ELEMENTS} values) as float16, cast to float32 on load"),
        bytes: (full.len(), half.len()),
        gzip: (gzip_len(&full), gzip_len(&half)),
        max_score_shift: shift,
        ndcg,
    })
}

/// Runs every change on the assets in `out`.
pub fn run(rec: &Recommender, corpus: &Corpus, out: &Path) -> Result<Report> {
    let test_users = evaluate::users_of(corpus, Split::Test)
        .iter()
        .filter(|u| u.artists.len() >= 2)
        .count();
    Ok(Report {
        test_users,
        changes: vec![halve_ncf(rec, corpus, out)?],
    })
}

/// The report as markdown.
pub fn markdown(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::from("# Compact assets\n\nRegenerate with `cargo run --release -p attune-model-export -- compact` after the commands that write the assets in full (`ncf` writes `models/ncf.onnx` in float32). Each change is measured before it is written, on the held-out test users (");
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
    fn the_shipped_ncf_model_is_compact_and_its_report_says_so() {
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
    }
}
