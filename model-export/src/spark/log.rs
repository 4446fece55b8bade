//! The listening log Spark trains on: each kept user's catalogue artists with their play counts
//! (HetRec ids), the very entries `corpus::user_items` gives the in-process trainer.

use crate::hetrec::corpus::{split_of, Corpus, Split};
use anyhow::{Context, Result};
use attune_engine::Catalog;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;

/// Which users the log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Users {
    /// The training users (what the parity check compares on the validation users).
    Train,
    /// Training and validation users (what `taste-build` fits the shipped taste on).
    TrainValidation,
}

impl Users {
    /// Whether `user` is in.
    pub fn keep(self, user: u32) -> bool {
        match self {
            Users::Train => split_of(user) == Split::Train,
            Users::TrainValidation => split_of(user) != Split::Test,
        }
    }
}

/// `(user, artist id, plays)` rows sorted by user then artist, one per pair.
pub fn entries(corpus: &Corpus, catalog: &Catalog, users: Users) -> Vec<(u32, u32, u64)> {
    let known: HashSet<u32> = catalog.artists().iter().map(|a| a.id).collect();
    let mut by_pair: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    for p in &corpus.hetrec.plays {
        if users.keep(p.user) && known.contains(&p.artist) {
            // As `user_items`: a repeated pair keeps its smallest count.
            let n = by_pair.entry((p.user, p.artist)).or_insert(p.plays);
            *n = (*n).min(p.plays);
        }
    }
    by_pair.into_iter().map(|((u, a), n)| (u, a, n)).collect()
}

/// Writes the log as CSV (`user,item,count`) and returns its rows.
pub fn write(corpus: &Corpus, catalog: &Catalog, users: Users, path: &Path) -> Result<usize> {
    let rows = entries(corpus, catalog, users);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    writeln!(f, "user,item,count")?;
    for (u, a, n) in &rows {
        writeln!(f, "{u},{a},{n}")?;
    }
    f.flush()?;
    Ok(rows.len())
}
