//! The listening log Spark trains on: each kept user's catalogue artists with their play counts
//! (HetRec ids), the very entries `corpus::user_items` gives the in-process trainer.

use crate::hetrec::corpus::{index_of, split_of, user_items_by_id, Corpus, Split};
use anyhow::{Context, Result};
use attune_engine::Catalog;
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

/// `(user, artist id, plays)` rows sorted by user then artist id: `corpus::user_items`' entries.
pub fn entries(corpus: &Corpus, catalog: &Catalog, users: Users) -> Vec<(u32, u32, u64)> {
    let by_user = user_items_by_id(corpus, |u| users.keep(u), &index_of(catalog));
    let mut rows = Vec::new();
    for (user, items) in by_user {
        let start = rows.len();
        rows.extend(
            items
                .iter()
                .map(|&(i, plays)| (user, catalog.artists()[i as usize].id, plays)),
        );
        rows[start..].sort_unstable_by_key(|r| r.1);
    }
    rows
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
