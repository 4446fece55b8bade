//! The set of files the app loads, and how they become a [`Recommender`].

use crate::catalog::Catalog;
use crate::cf::CfModel;
use crate::error::AssetError;
use crate::manifest::Manifest;
use crate::rank::Recommender;
use crate::taste::{TasteModel, TASTE_FILE};

/// File name of the catalog.
pub const CATALOG_FILE: &str = "catalog.bin";
/// File name of the SVD++ model.
pub const CF_FILE: &str = "cf.bin";
/// Every binary file the recommender needs, in load order.
pub const REQUIRED_FILES: [&str; 3] = [CATALOG_FILE, CF_FILE, TASTE_FILE];

/// Verifies each file against the manifest, decodes it, and pairs catalog with model.
/// `fetch` returns the bytes of a file by name.
pub fn load_recommender<'a>(
    manifest: &Manifest,
    mut fetch: impl FnMut(&str) -> Option<&'a [u8]>,
) -> Result<Recommender, AssetError> {
    let mut get = |name: &str| -> Result<&'a [u8], AssetError> {
        let bytes = fetch(name).ok_or_else(|| AssetError::Malformed {
            file: name.to_string(),
            reason: "missing".into(),
        })?;
        manifest.verify(name, bytes)?;
        Ok(bytes)
    };
    let catalog = Catalog::decode(get(CATALOG_FILE)?)?;
    let cf = CfModel::decode(get(CF_FILE)?)?;
    let taste = TasteModel::decode(get(TASTE_FILE)?)?;
    Recommender::new(catalog, cf)?.with_taste(taste)
}
