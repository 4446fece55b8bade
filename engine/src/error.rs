//! Errors raised while loading or validating shipped assets.

use thiserror::Error;

/// Why an asset could not be used. Every variant names the file, so the app can say which one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssetError {
    /// The manifest itself could not be parsed.
    #[error("manifest.json is not valid: {0}")]
    BadManifest(String),
    /// The manifest was written for a format this build cannot read.
    #[error("asset format {found} is not supported (this build reads format {expected})")]
    UnsupportedFormat {
        /// Format in the manifest.
        found: u32,
        /// Format this build reads.
        expected: u32,
    },
    /// The manifest does not list a file the app needs.
    #[error("{0} is not listed in manifest.json")]
    NotInManifest(String),
    /// The file's size differs from the manifest (e.g. a truncated download).
    #[error(
        "{file} has {actual} bytes, the manifest says {expected} (truncated or stale download?)"
    )]
    SizeMismatch {
        /// File name.
        file: String,
        /// Size in the manifest.
        expected: u64,
        /// Size received.
        actual: u64,
    },
    /// The file's sha256 differs from the manifest (corruption or tampering).
    #[error("{file} is corrupted: sha256 {actual} does not match the manifest's {expected}")]
    ChecksumMismatch {
        /// File name.
        file: String,
        /// Digest in the manifest.
        expected: String,
        /// Digest of the received bytes.
        actual: String,
    },
    /// The bytes passed the checksum but do not decode as the expected format.
    #[error("{file} is malformed: {reason}")]
    Malformed {
        /// File name.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// Two assets that must agree do not (e.g. model and catalog item counts).
    #[error("assets do not match each other: {0}")]
    Mismatch(String),
}
