//! Spark's `itemFactors` (Parquet: `id` int32, `features` `list<float>`) read with the `parquet`
//! crate's row API, and lined up with the catalogue: one row per catalogue artist, in catalogue
//! order. Every problem is reported before anything is used.

use anyhow::{bail, Context, Result};
use attune_engine::Catalog;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, ListAccessor};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// What to do with a catalogue artist that has no factor row (nobody in the log listened to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Missing {
    /// Refuse the import.
    Error,
    /// Give it zero factors: what the in-process trainer converges to for an item with no entries.
    Zero,
}

/// The part files of a Spark Parquet output folder, in name order.
fn part_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no .parquet part files", dir.display());
    }
    Ok(files)
}

/// Every `(id, features)` row of the folder.
pub fn read(dir: &Path) -> Result<Vec<(i64, Vec<f32>)>> {
    let mut out = Vec::new();
    for path in part_files(dir)? {
        let name = path.display().to_string();
        let file = std::fs::File::open(&path).with_context(|| format!("opening {name}"))?;
        let reader =
            SerializedFileReader::new(file).with_context(|| format!("{name}: not Parquet"))?;
        for (n, row) in reader
            .get_row_iter(None)
            .with_context(|| format!("{name}: unreadable rows"))?
            .enumerate()
        {
            let row = row.with_context(|| format!("{name}: row {n} unreadable"))?;
            let (mut id, mut features) = (None, None);
            for (col, field) in row.get_column_iter() {
                match (col.as_str(), field) {
                    ("id", Field::Int(v)) => id = Some(i64::from(*v)),
                    ("id", Field::Long(v)) => id = Some(*v),
                    ("features", Field::ListInternal(list)) => {
                        let v = (0..list.len())
                            .map(|i| list.get_float(i))
                            .collect::<Result<Vec<f32>, _>>()
                            .with_context(|| format!("{name}: row {n}: features not floats"))?;
                        features = Some(v);
                    }
                    _ => {}
                }
            }
            match (id, features) {
                (Some(id), Some(f)) => out.push((id, f)),
                _ => bail!("{name}: row {n} lacks an int `id` or a float-list `features`"),
            }
        }
    }
    Ok(out)
}

/// One factor row per catalogue artist (catalogue order) and how many were missing.
pub fn align(
    catalog: &Catalog,
    rows: Vec<(i64, Vec<f32>)>,
    rank: usize,
    missing: Missing,
) -> Result<(Vec<Vec<f32>>, usize)> {
    let index: HashMap<i64, usize> = catalog
        .artists()
        .iter()
        .enumerate()
        .map(|(i, a)| (i64::from(a.id), i))
        .collect();
    let mut out: Vec<Option<Vec<f32>>> = vec![None; index.len()];
    let (mut unknown, mut problems) = (Vec::new(), Vec::new());
    for (id, f) in rows {
        if f.len() != rank {
            problems.push(format!("id {id} has {} factors, not {rank}", f.len()));
        } else if f.iter().any(|x| !x.is_finite()) {
            problems.push(format!("id {id} has a non-finite factor"));
        }
        match index.get(&id) {
            None => unknown.push(id),
            Some(&i) if out[i].is_some() => problems.push(format!("id {id} appears twice")),
            Some(&i) => out[i] = Some(f),
        }
    }
    if !unknown.is_empty() {
        unknown.sort_unstable();
        problems.push(format!(
            "{} ids are not catalogue artists (first: {:?}); train on `model-export spark log` output",
            unknown.len(),
            &unknown[..unknown.len().min(5)]
        ));
    }
    let absent: BTreeMap<u32, &str> = out
        .iter()
        .zip(catalog.artists())
        .filter(|(f, _)| f.is_none())
        .map(|(_, a)| (a.id, a.name.as_str()))
        .collect();
    if !absent.is_empty() && missing == Missing::Error {
        let first: Vec<String> = absent
            .iter()
            .take(3)
            .map(|(id, name)| format!("{id} ({name})"))
            .collect();
        problems.push(format!(
            "{} catalogue artists have no factors (first: {}); pass --missing zero to give them zeros",
            absent.len(),
            first.join(", ")
        ));
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(10);
        let mut msg = problems
            .into_iter()
            .take(10)
            .collect::<Vec<_>>()
            .join("\n  ");
        if more > 0 {
            msg.push_str(&format!("\n  ... and {more} more"));
        }
        bail!("the factors do not fit the catalogue:\n  {msg}");
    }
    let n_missing = absent.len();
    Ok((
        out.into_iter()
            .map(|f| f.unwrap_or_else(|| vec![0.0; rank]))
            .collect(),
        n_missing,
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    //! On a real Spark output (`tests/fixtures/spark`: rank 4, 2 iterations, the first three
    //! training users' 125 artists, written by `scripts/spark_als.py`) and the shipped catalogue.
    use super::*;

    pub(crate) fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spark")
    }

    pub(crate) fn catalog() -> Catalog {
        let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
        crate::spark::import::catalog(&public).unwrap()
    }

    /// A fresh empty folder under the system's temporary directory.
    pub(crate) fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("attune-spark-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_sparks_item_factors() {
        let rows = read(&fixture()).unwrap();
        assert_eq!(rows.len(), 125);
        assert!(rows.iter().all(|(_, f)| f.len() == 4));
        assert!(rows.iter().any(|(_, f)| f.iter().any(|&x| x != 0.0)));
    }

    #[test]
    fn missing_artists_are_refused_by_name_or_given_zeros() {
        let c = catalog();
        let n = c.artists().len();
        let err = align(&c, read(&fixture()).unwrap(), 4, Missing::Error)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("{} catalogue artists have no factors", n - 125)),
            "{err}"
        );
        let (rows, missing) = align(&c, read(&fixture()).unwrap(), 4, Missing::Zero).unwrap();
        assert_eq!((rows.len(), missing), (n, n - 125));
        assert_eq!(
            rows.iter().filter(|r| r.iter().all(|&x| x == 0.0)).count(),
            n - 125
        );
    }

    #[test]
    fn unknown_ids_wrong_widths_repeats_and_nans_are_each_reported() {
        let c = catalog();
        let mut rows = read(&fixture()).unwrap();
        let first = rows[0].clone();
        rows.push((999_999_999, vec![0.1; 4]));
        rows.push(first.clone());
        rows[1].1.pop();
        rows[2].1[0] = f32::NAN;
        let err = align(&c, rows, 4, Missing::Zero).unwrap_err().to_string();
        for part in [
            "1 ids are not catalogue artists (first: [999999999])",
            &format!("id {} appears twice", first.0),
            "has 3 factors, not 4",
            "has a non-finite factor",
        ] {
            assert!(err.contains(part), "{part:?} not in {err}");
        }
    }

    #[test]
    fn truncated_or_absent_parquet_gets_a_clear_error() {
        let d = scratch("truncated");
        let err = read(&d).unwrap_err().to_string();
        assert!(err.contains("no .parquet part files"), "{err}");
        let bytes = std::fs::read(fixture().join("part-00000.snappy.parquet")).unwrap();
        std::fs::write(d.join("part-00000.parquet"), &bytes[..bytes.len() / 2]).unwrap();
        let err = format!("{:#}", read(&d).unwrap_err());
        assert!(err.contains("part-00000.parquet: not Parquet"), "{err}");
    }
}
