//! The real-audio development set (issue 16): freely licensed game and soundtrack recordings from
//! Debian packages, weakly labelled on valence and/or arousal from the scene or mood their names
//! give (`config/real-audio.tsv`, how and why in `config/real-audio.md`). The audio itself stays
//! out of git: `scripts/real_audio.sh` fetches it into `<cache>/real-audio/<package>/`.

use anyhow::{anyhow, bail, Context, Result};
use attune_engine::audio::decode::{decode, MAX_DECODE_SECONDS};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The set's part a package belongs to (whole packages only: one composer never sits on two sides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Split {
    /// May train the head.
    Train,
    /// Chooses the model and its settings.
    Val,
    /// Reported numbers only.
    Test,
}

/// One labelled recording.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The Debian package.
    pub package: String,
    /// Path inside the package.
    pub path: String,
    /// Its part.
    pub split: Split,
    /// High arousal?
    pub arousal: Option<bool>,
    /// Positive valence?
    pub valence: Option<bool>,
    /// SHA-256 of the audio file.
    pub sha256: String,
}

impl Recording {
    /// Where the fetched file lies.
    pub fn file(&self) -> PathBuf {
        cache_root().join(&self.package).join(&self.path)
    }

    /// Decodes the file (checked against its hash) to mono samples.
    pub fn samples(&self) -> Result<(Vec<f32>, u32)> {
        let path = self.file();
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "reading {} (scripts/real_audio.sh fetches the set)",
                path.display()
            )
        })?;
        let got = hex::encode(Sha256::digest(&bytes));
        if got != self.sha256 {
            bail!(
                "{}: sha256 {got}, the manifest says {}",
                path.display(),
                self.sha256
            );
        }
        let ext = Path::new(&self.path).extension().and_then(|e| e.to_str());
        let d = decode(bytes, ext, MAX_DECODE_SECONDS)
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        Ok((d.samples, d.sample_rate))
    }
}

/// `<cache>/real-audio`.
pub fn cache_root() -> PathBuf {
    super::dataset::cache_dir().join("real-audio")
}

/// The committed manifest.
pub fn manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/real-audio.tsv")
}

fn label(s: &str, yes: &str, no: &str) -> Result<Option<bool>> {
    match s {
        "-" => Ok(None),
        x if x == yes => Ok(Some(true)),
        x if x == no => Ok(Some(false)),
        x => bail!("label {x:?} (expected {yes}, {no} or -)"),
    }
}

/// Parses the manifest (columns by header: `package path split arousal valence sha256`, and
/// `version` and `rule` for people and the fetch script).
pub fn parse(text: &str) -> Result<Vec<Recording>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or_else(|| anyhow!("empty manifest"))?;
    let cols: Vec<&str> = header.split('\t').collect();
    let col = |name: &str| {
        cols.iter()
            .position(|c| *c == name)
            .ok_or_else(|| anyhow!("the manifest has no {name} column"))
    };
    let (pk, pa, sp, ar, va, sh) = (
        col("package")?,
        col("path")?,
        col("split")?,
        col("arousal")?,
        col("valence")?,
        col("sha256")?,
    );
    lines
        .enumerate()
        .map(|(i, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |k: usize| {
                f.get(k)
                    .copied()
                    .ok_or_else(|| anyhow!("line {}: too few fields", i + 2))
            };
            let split = match get(sp)? {
                "train" => Split::Train,
                "val" => Split::Val,
                "test" => Split::Test,
                x => bail!("line {}: split {x:?}", i + 2),
            };
            let r = Recording {
                package: get(pk)?.into(),
                path: get(pa)?.into(),
                split,
                arousal: label(get(ar)?, "high", "low")
                    .with_context(|| format!("line {}", i + 2))?,
                valence: label(get(va)?, "pos", "neg")
                    .with_context(|| format!("line {}", i + 2))?,
                sha256: get(sh)?.into(),
            };
            if r.arousal.is_none() && r.valence.is_none() {
                bail!("line {}: {} carries no label", i + 2, r.path);
            }
            Ok(r)
        })
        .collect()
}

/// The committed manifest, parsed; an error names the recordings not fetched yet.
pub fn load() -> Result<Vec<Recording>> {
    let path = manifest_path();
    let set = parse(
        &std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    )?;
    let missing = set.iter().filter(|r| !r.file().is_file()).count();
    if missing > 0 {
        bail!(
            "{missing} of {} real-audio recordings are not in {}: run scripts/real_audio.sh",
            set.len(),
            cache_root().display()
        );
    }
    Ok(set)
}

/// ROC-AUC of `scores` for the positives in `labels` (ties count half); `None` without both classes.
pub fn roc_auc(scores: &[f32], labels: &[bool]) -> Option<f32> {
    let pos: Vec<f32> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(s, _)| *s)
        .collect();
    let neg: Vec<f32> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| !**l)
        .map(|(s, _)| *s)
        .collect();
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    let mut wins = 0.0f64;
    for p in &pos {
        for n in &neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    Some((wins / (pos.len() * neg.len()) as f64) as f32)
}

/// A 95% percentile interval of the AUC from 2,000 resamples of the recordings.
pub fn auc_interval(scores: &[f32], labels: &[bool]) -> [f32; 2] {
    let mut rng = crate::rng::Rng::new(16);
    let n = scores.len();
    let mut aucs: Vec<f32> = (0..2000)
        .filter_map(|_| {
            let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            let s: Vec<f32> = idx.iter().map(|&i| scores[i]).collect();
            let l: Vec<bool> = idx.iter().map(|&i| labels[i]).collect();
            roc_auc(&s, &l)
        })
        .collect();
    if aucs.is_empty() {
        return [f32::NAN; 2];
    }
    aucs.sort_by(f32::total_cmp);
    let at = |q: f32| aucs[((aucs.len() - 1) as f32 * q).round() as usize];
    [at(0.025), at(0.975)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_pairs_and_ties() {
        assert_eq!(roc_auc(&[0.9, 0.1], &[true, false]), Some(1.0));
        assert_eq!(roc_auc(&[0.1, 0.9], &[true, false]), Some(0.0));
        assert_eq!(roc_auc(&[0.5, 0.5], &[true, false]), Some(0.5));
        assert_eq!(roc_auc(&[0.5, 0.7], &[true, true]), None);
        assert_eq!(roc_auc(&[0.2, 0.6, 0.4], &[false, true, true]), Some(1.0));
    }

    #[test]
    fn the_committed_manifest_parses_with_labels_on_every_split() {
        let set = parse(&std::fs::read_to_string(manifest_path()).unwrap()).unwrap();
        // The parts that score models hold both classes of both axes.
        for split in [Split::Val, Split::Test] {
            let part: Vec<&Recording> = set.iter().filter(|r| r.split == split).collect();
            for axis in [|r: &Recording| r.arousal, |r: &Recording| r.valence] {
                let labels: Vec<bool> = part.iter().filter_map(|r| axis(r)).collect();
                assert!(
                    labels.contains(&true) && labels.contains(&false),
                    "{split:?}"
                );
            }
        }
        // One package, one split.
        let mut seen = std::collections::HashMap::new();
        for r in &set {
            assert_eq!(
                *seen.entry(&r.package).or_insert(r.split),
                r.split,
                "{}",
                r.package
            );
            assert!(!r.package.starts_with("wesnoth"), "Wesnoth is reserved");
        }
        assert!(parse(
            "package\tpath\tsplit\tarousal\tvalence\trule\tsha256\np\tx.ogg\ttest\t-\t-\tr\th\n"
        )
        .is_err());
    }
}
