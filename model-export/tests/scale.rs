//! `model-export scale` writes a sharded catalogue that the engine reads back: every shard
//! verifies against the index, the real artists are all in it, and the int8 scan finds what the
//! exact f32 scan finds (native). The 200,000-item catalogue it leaves in `target/scale-200000` is
//! the one the browser test (`tests/tests/e2e/scale.rs`) serves.

use attune_engine::scale::{ScaleIndex, Shard};
use std::path::Path;
use std::process::Command;

#[test]
fn writes_a_sharded_catalogue_that_verifies_and_ranks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("target/scale-200000");
    let out = Command::new(env!("CARGO_BIN_EXE_model-export"))
        .args(["scale", "--items", "200000", "--users", "40", "--dir"])
        .arg(&dir)
        .current_dir(&root)
        .output()
        .expect("model-export runs");
    assert!(
        out.status.success(),
        "model-export scale failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let index =
        ScaleIndex::parse(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index.items, 200_000);
    assert!(index.source.starts_with("synthetic"), "{}", index.source);
    let mut items = 0;
    for (n, s) in index.shards.iter().enumerate() {
        let bytes = std::fs::read(dir.join(&s.file)).unwrap();
        index.verify(n, &bytes).unwrap();
        items += Shard::decode(&s.file, &bytes).unwrap().len();
    }
    assert_eq!(items, 200_000);
    let mut real = index.real.clone();
    real.sort_unstable();
    real.dedup();
    assert_eq!(real.len(), index.real.len(), "each real artist is one item");
    let native: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("native.json")).unwrap()).unwrap();
    let recall = native["recall_vs_exact"].as_f64().unwrap();
    assert!(recall >= 0.99, "recall@10 against the exact scan: {recall}");
    assert_eq!(native["requests"], 40);
}
