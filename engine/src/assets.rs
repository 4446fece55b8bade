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
/// What the first list needs: a visitor without likes is ranked from the catalogue alone.
pub const FIRST_FILES: [&str; 1] = [CATALOG_FILE];
/// What likes need, loaded after the first list.
pub const TASTE_FILES: [&str; 2] = [TASTE_FILE, CF_FILE];

/// Returns `name`'s bytes from `fetch`, verified against the manifest.
fn verified<'a>(
    manifest: &Manifest,
    fetch: &mut impl FnMut(&str) -> Option<&'a [u8]>,
    name: &str,
) -> Result<&'a [u8], AssetError> {
    let bytes = fetch(name).ok_or_else(|| AssetError::Malformed {
        file: name.to_string(),
        reason: "missing".into(),
    })?;
    manifest.verify(name, bytes)?;
    Ok(bytes)
}

/// Verifies each file against the manifest, decodes it, and pairs catalog with model.
/// `fetch` returns the bytes of a file by name.
pub fn load_recommender<'a>(
    manifest: &Manifest,
    mut fetch: impl FnMut(&str) -> Option<&'a [u8]>,
) -> Result<Recommender, AssetError> {
    let cold = load_cold(manifest, &mut fetch)?;
    add_taste(cold, manifest, fetch)
}

/// The first list's recommender ([`FIRST_FILES`]): the catalogue alone, verified.
pub fn load_cold<'a>(
    manifest: &Manifest,
    mut fetch: impl FnMut(&str) -> Option<&'a [u8]>,
) -> Result<Recommender, AssetError> {
    let catalog = Catalog::decode(verified(manifest, &mut fetch, CATALOG_FILE)?)?;
    Ok(Recommender::cold(catalog))
}

/// Adds the taste models ([`TASTE_FILES`]), verified, to a recommender from [`load_cold`].
pub fn add_taste<'a>(
    cold: Recommender,
    manifest: &Manifest,
    mut fetch: impl FnMut(&str) -> Option<&'a [u8]>,
) -> Result<Recommender, AssetError> {
    let taste = TasteModel::decode(verified(manifest, &mut fetch, TASTE_FILE)?)?;
    let cf = CfModel::decode(verified(manifest, &mut fetch, CF_FILE)?)?;
    cold.with_cf(cf)?.with_taste(taste)
}
