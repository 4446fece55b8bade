//! `model-export import-factors`: Spark's item factors into the shipped taste. The catalogue and
//! the current `taste.bin` are read and verified against the manifest; the factors are checked
//! against the catalogue ([`factors::align`]), rounded to int8 with a scale per row like the
//! shipped factors, and replace the taste's iALS part (its item-item part and blend stay). The
//! new `taste.bin` is written to a temporary file and renamed, then the manifest is refreshed:
//! on any error nothing in `out` changes.

use super::factors::{self, Missing};
use super::SparkRun;
use crate::manifest::verified;
use anyhow::{Context, Result};
use attune_engine::taste::{ImplicitFactors, TasteModel, TASTE_FILE};
use attune_engine::Catalog;
use std::path::Path;

/// The catalogue of an asset folder.
pub fn catalog(dir: &Path) -> Result<Catalog> {
    Ok(Catalog::decode(&verified(
        dir,
        attune_engine::assets::CATALOG_FILE,
    )?)?)
}

/// The browser's iALS part for factor rows trained by `run`.
pub fn implicit_factors(rows: &[Vec<f32>], run: &SparkRun) -> Result<ImplicitFactors> {
    Ok(ImplicitFactors::new(
        rows,
        run.fold_lambda() as f32,
        run.settings.alpha as f32,
    )?)
}

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// The run the factors came from.
    pub run: SparkRun,
    /// Catalogue artists given zero factors.
    pub missing: usize,
    /// Size of the new `taste.bin`.
    pub bytes: usize,
}

/// Imports the factors in `parquet` into `out/taste.bin` and refreshes `out/manifest.json`.
pub fn import(parquet: &Path, out: &Path, missing: Missing) -> Result<Imported> {
    let run = SparkRun::load(parquet)?;
    let catalog = catalog(out)?;
    let taste = TasteModel::decode(&verified(out, TASTE_FILE)?)?;
    let (rows, n_missing) = factors::align(
        &catalog,
        factors::read(parquet)?,
        run.settings.rank,
        missing,
    )?;
    let model = TasteModel::new(taste.item_item, implicit_factors(&rows, &run)?, taste.blend)?;
    let bytes = model.encode();
    let tmp = out.join(format!("{TASTE_FILE}.importing"));
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out.join(TASTE_FILE))?;
    crate::manifest::write_manifest(out)?;
    Ok(Imported {
        run,
        missing: n_missing,
        bytes: bytes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spark::factors::tests::{fixture, scratch};

    /// A folder with the shipped catalogue and taste and their manifest.
    fn site(name: &str) -> std::path::PathBuf {
        let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
        let d = scratch(name);
        for f in [attune_engine::assets::CATALOG_FILE, TASTE_FILE] {
            std::fs::copy(public.join(f), d.join(f)).unwrap();
        }
        crate::manifest::write_manifest(&d).unwrap();
        d
    }

    fn snapshot(d: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_refused_import_changes_nothing_and_a_good_one_replaces_only_the_ials_part() {
        let d = site("import");
        let before = snapshot(&d);
        let old = TasteModel::decode(&std::fs::read(d.join(TASTE_FILE)).unwrap()).unwrap();
        let err = import(&fixture(), &d, Missing::Error)
            .unwrap_err()
            .to_string();
        assert!(err.contains("have no factors"), "{err}");
        assert!(
            snapshot(&d) == before,
            "a refused import wrote to the folder"
        );

        let r = import(&fixture(), &d, Missing::Zero).unwrap();
        assert_eq!(r.run.settings.rank, 4);
        let new = TasteModel::decode(&verified(&d, TASTE_FILE).unwrap()).unwrap();
        assert_eq!((new.ials.k(), new.ials.n_items()), (4, old.ials.n_items()));
        assert_eq!(new.item_item, old.item_item);
        assert_eq!(new.blend, old.blend);
        assert!(!d.join(format!("{TASTE_FILE}.importing")).exists());
    }

    #[test]
    fn a_taste_bin_that_fails_its_checksum_is_not_imported_over() {
        let d = site("checksum");
        let mut bytes = std::fs::read(d.join(TASTE_FILE)).unwrap();
        bytes[100] ^= 1;
        std::fs::write(d.join(TASTE_FILE), &bytes).unwrap();
        let before = snapshot(&d);
        let err = format!("{:#}", import(&fixture(), &d, Missing::Zero).unwrap_err());
        assert!(err.contains("taste.bin"), "{err}");
        assert!(snapshot(&d) == before);
    }
}
