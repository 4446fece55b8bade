//! The scan worker's messages (`app/scan`): typed requests and replies, carried as plain
//! JavaScript objects (`serde-wasm-bindgen`), byte payloads as `Uint8Array`.
//!
//! The page sends the index, then every shard in the index's order, and queries at any time; a
//! query ranks the shards that have verified so far and says how many those are.

use super::scan::Hit;
use serde::{Deserialize, Serialize};

/// What the page asks of the scan worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ScanRequest {
    /// The catalogue's `index.json` text.
    Index {
        /// The file's text.
        text: String,
    },
    /// The fold-in model: the site's `manifest.json` text and its `cf.bin`, which the worker
    /// verifies against it.
    FoldIn {
        /// `manifest.json`'s text.
        manifest: String,
        /// `cf.bin`'s bytes.
        #[serde(with = "serde_bytes")]
        cf: Vec<u8>,
    },
    /// Shard `n` of the index (its bytes, unverified), or `None` when its download failed.
    Shard {
        /// Position in the index.
        n: u32,
        /// The downloaded bytes, or `None` with `error` when there are none.
        #[serde(with = "serde_bytes")]
        bytes: Option<Vec<u8>>,
        /// Why there are no bytes (e.g. "HTTP 404").
        error: Option<String>,
    },
    /// The top `k` for a user who likes these real catalogue artists (indices into
    /// `catalog.bin`); with `exact`, the exact f32 scan runs too, for recall and timing.
    Query {
        /// Echoed in the reply.
        id: u32,
        /// Liked artists.
        likes: Vec<u32>,
        /// List length.
        k: u32,
        /// Also run the exact scan.
        exact: bool,
    },
}

/// What the scan worker answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ScanReply {
    /// Started; nothing is sent before this.
    Ready,
    /// The index parsed.
    IndexReady {
        /// Items in the catalogue.
        items: u32,
        /// Shards in the index.
        shards: u32,
        /// How the catalogue was made.
        source: String,
    },
    /// The fold-in model verified.
    FoldInReady,
    /// A shard verified and is ranked from now on.
    ShardReady {
        /// Position in the index.
        n: u32,
        /// Items ranked now.
        items_ready: u32,
        /// Shards ranked now.
        shards_ready: u32,
    },
    /// A shard failed (download, size, checksum or format); the others still rank.
    ShardError {
        /// Position in the index.
        n: u32,
        /// File name.
        file: String,
        /// What went wrong.
        error: String,
    },
    /// A query's answer.
    Top {
        /// The query's id.
        id: u32,
        /// Best first.
        hits: Vec<Hit>,
        /// For each hit, the real artist it is (index into `catalog.bin`), if it is one.
        real: Vec<Option<u32>>,
        /// Milliseconds the ranking took in the worker (fold-in excluded).
        ms: f64,
        /// Milliseconds of the fold-in.
        fold_ms: f64,
        /// The exact scan's milliseconds and recall@k of `hits` against it, when asked.
        exact: Option<ExactCheck>,
        /// Items ranked.
        items: u32,
        /// Shards ranked.
        shards: u32,
    },
    /// A request that could not be served (no index yet, a malformed index or model...).
    Error {
        /// What went wrong.
        error: String,
    },
}

/// The exact scan's result beside the fast one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactCheck {
    /// Milliseconds of the exact scan.
    pub ms: f64,
    /// recall@k of the fast list against it (of this worker's shards).
    pub recall: f64,
    /// Its list (a page with several workers merges these and measures recall itself).
    pub hits: Vec<Hit>,
}
