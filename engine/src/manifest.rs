//! `manifest.json`: format version, size and sha256 of every shipped file.

use crate::error::AssetError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Manifest format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Size and digest of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Size in bytes.
    pub bytes: u64,
    /// Lower-case hex sha256 of the content.
    pub sha256: String,
}

impl FileEntry {
    /// Checks size, then sha256, of `file`'s downloaded bytes against this entry.
    pub fn check(&self, file: &str, bytes: &[u8]) -> Result<(), AssetError> {
        if self.bytes != bytes.len() as u64 {
            return Err(AssetError::SizeMismatch {
                file: file.to_string(),
                expected: self.bytes,
                actual: bytes.len() as u64,
            });
        }
        let actual = sha256_hex(bytes);
        if !actual.eq_ignore_ascii_case(&self.sha256) {
            return Err(AssetError::ChecksumMismatch {
                file: file.to_string(),
                expected: self.sha256.clone(),
                actual,
            });
        }
        Ok(())
    }
}

/// The parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Every shipped file, by path relative to the manifest.
    pub files: BTreeMap<String, FileEntry>,
}

impl Manifest {
    /// Parses and checks the version.
    pub fn parse(text: &str) -> Result<Manifest, AssetError> {
        let m: Manifest =
            serde_json::from_str(text).map_err(|e| AssetError::BadManifest(e.to_string()))?;
        if m.format_version != FORMAT_VERSION {
            return Err(AssetError::UnsupportedFormat {
                found: m.format_version,
                expected: FORMAT_VERSION,
            });
        }
        Ok(m)
    }

    /// A manifest entry describing `bytes`.
    pub fn entry_for(bytes: &[u8]) -> FileEntry {
        FileEntry {
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }

    /// The entry for a file the caller needs.
    pub fn entry(&self, file: &str) -> Result<&FileEntry, AssetError> {
        self.files
            .get(file)
            .ok_or_else(|| AssetError::NotInManifest(file.to_string()))
    }

    /// Checks size, then sha256, of downloaded bytes against the manifest.
    pub fn verify(&self, file: &str, bytes: &[u8]) -> Result<(), AssetError> {
        self.entry(file)?.check(file, bytes)
    }

    /// Pretty JSON, stable key order.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serialises") + "\n"
    }
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let mut files = BTreeMap::new();
        files.insert("a.bin".to_string(), Manifest::entry_for(b"hello"));
        Manifest {
            format_version: FORMAT_VERSION,
            files,
        }
    }

    #[test]
    fn verify_accepts_exact_and_rejects_truncated_or_corrupt() {
        let m = Manifest::parse(&manifest().to_json()).unwrap();
        m.verify("a.bin", b"hello").unwrap();
        assert!(matches!(
            m.verify("a.bin", b"hell"),
            Err(AssetError::SizeMismatch { .. })
        ));
        assert!(matches!(
            m.verify("a.bin", b"jello"),
            Err(AssetError::ChecksumMismatch { .. })
        ));
        assert!(matches!(
            m.verify("b.bin", b"x"),
            Err(AssetError::NotInManifest(_))
        ));
    }

    #[test]
    fn wrong_version_and_garbage_are_clear_errors() {
        let mut m = manifest();
        m.format_version = 99;
        assert!(matches!(
            Manifest::parse(&m.to_json()),
            Err(AssetError::UnsupportedFormat { found: 99, .. })
        ));
        assert!(matches!(
            Manifest::parse("{not json"),
            Err(AssetError::BadManifest(_))
        ));
    }
}
