//! `manifest.json` for an asset folder: the size and sha256 of every file in it, which the
//! browser checks each download against.

use anyhow::{Context, Result};
use attune_engine::manifest::{Manifest, FORMAT_VERSION};
use std::collections::BTreeMap;
use std::path::Path;

/// Writes `dir/name.md` and `dir/name.json` (pretty, newline-terminated) and prints the markdown.
pub fn write_report(dir: &Path, name: &str, md: &str, json: &impl serde::Serialize) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(format!("{name}.md")), md)?;
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(json)? + "\n",
    )?;
    print!("{md}");
    Ok(())
}

/// Rewrites `manifest.json` with the size and sha256 of every file under `out` (except itself).
pub fn write_manifest(out: &Path) -> Result<()> {
    let mut files = BTreeMap::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(out)?.to_string_lossy().replace('\\', "/");
            if rel == "manifest.json" {
                continue;
            }
            files.insert(rel, Manifest::entry_for(&std::fs::read(&path)?));
        }
    }
    let m = Manifest {
        format_version: FORMAT_VERSION,
        files,
    };
    std::fs::write(out.join("manifest.json"), m.to_json())?;
    Ok(())
}

/// Reads `file` from `dir`, verified against `dir/manifest.json`.
pub fn verified(dir: &Path, file: &str) -> Result<Vec<u8>> {
    let manifest = Manifest::parse(
        &std::fs::read_to_string(dir.join("manifest.json"))
            .with_context(|| format!("reading {}/manifest.json", dir.display()))?,
    )?;
    let bytes = std::fs::read(dir.join(file))
        .with_context(|| format!("reading {}/{file}", dir.display()))?;
    manifest
        .verify(file, &bytes)
        .with_context(|| format!("{}/{file}", dir.display()))?;
    Ok(bytes)
}
