//! A catalogue too large to load as one array (issue 17): static shards, fetched whole and in one
//! fixed order, ranked on the device.
//!
//! - [`index`]: `index.json`, the shard list with sizes and sha256, and the fetch order. The order
//!   is the index's, the same for every visitor: which bytes the browser asks for never depends on
//!   the user's taste (fetching "the shards near me" would tell the host what the user likes).
//! - [`shard`]: one shard's items (int8 factors with a scale per row, an f32 bias, the
//!   valence/arousal). Items are numbered by popularity, so the first shard holds the most
//!   popular ones and a visitor without likes gets the exact top 10 from it alone.
//! - [`scan`]: top-k for a folded-in user over the shards that have arrived: an int8 pass keeps a
//!   short list, which is rescored in f32 (what [`scan::Scanner::exact_top_k`] computes for every
//!   item, the baseline the benchmark compares against).
//! - [`protocol`]: the scan worker's typed requests and replies.

pub mod index;
pub mod protocol;
pub mod scan;
pub mod shard;

pub use index::{ScaleIndex, ShardEntry, INDEX_FILE};
pub use scan::{Hit, Scanner};
pub use shard::Shard;
