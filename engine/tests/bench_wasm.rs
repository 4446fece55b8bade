//! Benchmark (run by `scripts/bench.sh`, not by the test suite): one full recommendation request
//! against a plain dot-product scan over the same catalog, in wasm32 in headless Chromium, timed
//! in the same run with `performance.now()`. Prints one `BENCH {json}` line.
#![cfg(target_arch = "wasm32")]

mod support;

use attune_engine::cf::FoldIn;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn bench_recommend_vs_dot_scan() {
    let rec = support::recommender();
    let likes = support::bench_likes();
    let user = rec.cf().fold_in(&likes, FoldIn::LeastSquares);
    let req = support::bench_request(&likes);
    let (rounds, reps) = (15, 20);
    let (mut full, mut scan) = (Vec::new(), Vec::new());
    let mut sink = 0.0f32;
    for _ in 0..rounds {
        let t0 = support::now_ms();
        for _ in 0..reps {
            sink += rec.recommend(&req)[0].score;
        }
        let t1 = support::now_ms();
        for _ in 0..reps {
            sink += rec.cf().scores(&user)[0];
        }
        let t2 = support::now_ms();
        full.push((t1 - t0) / reps as f64);
        scan.push((t2 - t1) / reps as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (f, s) = (median(&mut full), median(&mut scan));
    console_log!(
        "BENCH {{\"target\":\"wasm32 (headless Chromium)\",\"items\":{},\"k\":{},\"likes\":{},\"full_request_ms\":{:.4},\"dot_scan_ms\":{:.4},\"ratio\":{:.2},\"sink\":{}}}",
        rec.catalog().artists().len(),
        rec.cf().k(),
        likes.len(),
        f,
        s,
        f / s,
        sink.is_finite()
    );
}
