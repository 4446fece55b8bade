//! Readers for the real datasets in `../shared/data`, each checked for the columns it needs.

pub mod deezer;
pub mod hetrec;
pub mod lexicon;
pub mod npy;
pub mod situnes;

use anyhow::{Context, Result};
use std::path::Path;

/// Reads a whole text file, dropping a UTF-8 byte-order mark; invalid UTF-8 is replaced.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}

/// Splits a tab-separated file with a header line into rows of fields; checks the field count.
pub fn tsv_rows(path: &Path, min_fields: usize) -> Result<Vec<Vec<String>>> {
    let text = read_text(path)?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
        anyhow::ensure!(
            fields.len() >= min_fields,
            "{}:{}: expected at least {min_fields} tab-separated fields, found {}",
            path.display(),
            n + 1,
            fields.len()
        );
        rows.push(fields);
    }
    Ok(rows)
}

/// Parses a field, naming the file and line on failure.
pub fn parse<T: std::str::FromStr>(path: &Path, what: &str, s: &str) -> Result<T> {
    s.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{}: bad {what} {s:?}", path.display()))
}

/// The real data for tests: `ATTUNE_DATA`, else `../shared/data` beside the checkout.
#[cfg(test)]
pub fn test_data_root() -> std::path::PathBuf {
    std::env::var_os("ATTUNE_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}
