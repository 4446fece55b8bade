//! The large catalogue's scan (`engine::scale`) ranks the same in wasm32 (its SIMD kernel) as
//! natively: on a fixed catalogue, the int8 scan's top 10 is the exact f32 scan's, for a width
//! the SIMD kernel takes (64) and one it leaves to the portable path (20), and one hand-checked
//! score. Run natively by `cargo test` and in headless Chromium by the test command.

use attune_engine::scale::scan::recall;
use attune_engine::scale::{Scanner, Shard};

fn catalogue(n: usize, dim: usize) -> Scanner {
    let mut x = 987_654_321u64;
    let mut next = move || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((x >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
    };
    let mut sc = Scanner::new(dim);
    for start in (0..n).step_by(1000) {
        let m = 1000.min(n - start);
        let rows: Vec<f32> = (0..m * dim).map(|_| next() * 0.5).collect();
        let bias: Vec<f32> = (0..m).map(|i| -((start + i) as f32 / n as f32)).collect();
        sc.add(Shard::quantise(
            start as u32,
            dim,
            &rows,
            &bias,
            &vec![(0.0, 0.0); m],
        ))
        .unwrap();
    }
    sc
}

fn check(dim: usize) {
    let sc = catalogue(10_003, dim);
    for seed in 0..8u32 {
        let u: Vec<f32> = (0..dim)
            .map(|f| (((f as u32 * 13 + seed * 7) % 17) as f32 / 8.0 - 1.0) * 0.9)
            .collect();
        let fast = sc.top_k(&u, 10);
        let exact = sc.exact_top_k(&u, 10);
        assert_eq!(recall(&fast, &exact), 1.0, "dim {dim}, user {seed}");
        for (a, b) in fast.iter().zip(&exact) {
            assert_eq!(a.item, b.item);
            assert!((a.score - b.score).abs() < 1e-5, "{a:?} {b:?}");
        }
    }
}

fn all() {
    check(64);
    check(20);
    // One score by hand: item 0 of a one-item shard.
    let mut sc = Scanner::new(16);
    let row: Vec<f32> = (0..16).map(|f| f as f32 / 15.0 - 0.5).collect();
    sc.add(Shard::quantise(0, 16, &row, &[0.25], &[(0.0, 0.0)]))
        .unwrap();
    let u = vec![1.0f32; 16];
    let hit = sc.top_k(&u, 1)[0];
    let want: f32 = row.iter().sum::<f32>() + 0.25;
    assert!((hit.score - want).abs() < 0.01, "{} vs {want}", hit.score);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn scan_is_exact_natively() {
    all();
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use wasm_bindgen_test::*;
    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn scan_is_exact_in_wasm() {
        super::all();
    }
}
