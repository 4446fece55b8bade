//! Word-level valence/arousal/dominance lexicons, mapped onto [-1, 1].

use super::{parse, read_text};
use anyhow::Result;
use attune_engine::Emotion;
use std::collections::HashMap;
use std::path::Path;

/// Word -> emotion on the engine's [-1, 1] scale.
pub type Lexicon = HashMap<String, Emotion>;

/// NRC-VAD v1 (`Word\tValence\tArousal\tDominance`, each in [0, 1]) mapped by `2x - 1`.
pub fn load_nrc_vad(path: &Path) -> Result<Lexicon> {
    let text = read_text(path)?;
    let mut lex = Lexicon::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            continue;
        }
        let v: f32 = parse(path, "valence", f[1])?;
        let a: f32 = parse(path, "arousal", f[2])?;
        let d: f32 = parse(path, "dominance", f[3])?;
        lex.insert(
            f[0].trim().to_lowercase(),
            Emotion::new(2.0 * v - 1.0, 2.0 * a - 1.0, 2.0 * d - 1.0),
        );
    }
    anyhow::ensure!(
        lex.len() > 1000,
        "{}: only {} entries",
        path.display(),
        lex.len()
    );
    Ok(lex)
}

/// Warriner et al. 2013 (CSV, `V.Mean.Sum`, `A.Mean.Sum`, `D.Mean.Sum` on 1..9) mapped by `(x - 5) / 4`.
pub fn load_warriner(path: &Path) -> Result<Lexicon> {
    let mut rdr = csv::Reader::from_path(path)?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow::anyhow!("{}: no column {name}", path.display()))
    };
    let (w, v, a, d) = (
        col("Word")?,
        col("V.Mean.Sum")?,
        col("A.Mean.Sum")?,
        col("D.Mean.Sum")?,
    );
    let mut lex = Lexicon::new();
    for rec in rdr.records() {
        let rec = rec?;
        let num = |i: usize| -> Result<f32> { parse(path, "rating", &rec[i]) };
        let s = |x: f32| (x - 5.0) / 4.0;
        lex.insert(
            rec[w].trim().to_lowercase(),
            Emotion::new(s(num(v)?), s(num(a)?), s(num(d)?)),
        );
    }
    anyhow::ensure!(
        lex.len() > 1000,
        "{}: only {} entries",
        path.display(),
        lex.len()
    );
    Ok(lex)
}
