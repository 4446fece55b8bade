//! `index.json` of a sharded catalogue: what it holds and every shard's size and sha256.

use crate::error::AssetError;
use crate::manifest::FileEntry;
use serde::{Deserialize, Serialize};

/// File name of the index, beside the shards.
pub const INDEX_FILE: &str = "index.json";
/// Index format this build reads and writes.
pub const SCALE_FORMAT: u32 = 1;

/// One shard: a contiguous run of items, in fetch order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// File name, relative to the index.
    pub file: String,
    /// Global number of its first item.
    pub first: u32,
    /// Items in the shard.
    pub items: u32,
    /// Size and sha256 of the file.
    #[serde(flatten)]
    pub entry: FileEntry,
}

/// The parsed, checked index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleIndex {
    /// Must equal [`SCALE_FORMAT`].
    pub format: u32,
    /// How the catalogue was made (e.g. "synthetic: ..."); shown beside results.
    pub source: String,
    /// Items in all.
    pub items: u32,
    /// Factors per item (the user vector's length).
    pub dim: u32,
    /// Shards in fetch order; their runs of items tile `0..items` without gaps.
    pub shards: Vec<ShardEntry>,
    /// Global item number of each real catalogue artist (`real[artist] = item`), so real
    /// recommendations stay checkable inside a synthetic catalogue.
    pub real: Vec<u32>,
}

fn bad(reason: impl Into<String>) -> AssetError {
    AssetError::Malformed {
        file: INDEX_FILE.into(),
        reason: reason.into(),
    }
}

impl ScaleIndex {
    /// Parses and checks format, tiling and real item numbers.
    pub fn parse(text: &str) -> Result<ScaleIndex, AssetError> {
        let ix: ScaleIndex = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if ix.format != SCALE_FORMAT {
            return Err(AssetError::UnsupportedFormat {
                found: ix.format,
                expected: SCALE_FORMAT,
            });
        }
        if ix.dim == 0 || ix.dim > 1024 {
            return Err(bad(format!("dim {} out of range 1..=1024", ix.dim)));
        }
        let mut next = 0u32;
        for (n, s) in ix.shards.iter().enumerate() {
            if s.first != next || s.items == 0 {
                return Err(bad(format!(
                    "shard {n} ({}) starts at item {} with {} items; expected a non-empty run from {next}",
                    s.file, s.first, s.items
                )));
            }
            if s.file.contains('/') || s.file.contains("..") || s.file == INDEX_FILE {
                return Err(bad(format!(
                    "shard {n} has an unsafe file name {:?}",
                    s.file
                )));
            }
            next = next
                .checked_add(s.items)
                .ok_or_else(|| bad("item count overflows"))?;
        }
        if next != ix.items {
            return Err(bad(format!(
                "shards hold {next} items, the index says {}",
                ix.items
            )));
        }
        if let Some(r) = ix.real.iter().find(|&&r| r >= ix.items) {
            return Err(bad(format!("real item {r} is past the {} items", ix.items)));
        }
        Ok(ix)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("index serialises") + "\n"
    }

    /// Checks shard `n`'s downloaded bytes (size, then sha256).
    pub fn verify(&self, n: usize, bytes: &[u8]) -> Result<(), AssetError> {
        let s = self
            .shards
            .get(n)
            .ok_or_else(|| bad(format!("no shard {n}")))?;
        s.entry.check(&s.file, bytes)
    }
}
