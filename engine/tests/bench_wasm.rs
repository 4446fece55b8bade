//! Benchmark (run by `scripts/bench.sh`, not by the test suite): one full recommendation request
//! (the shipped taste blend without the worker's NCF, fused with a mood) against a plain
//! dot-product scan over the same catalog, median per batch and p50/p95 per request, in wasm32 in headless Chromium, timed
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
    let user = rec
        .cf()
        .expect("cf.bin loaded")
        .fold_in(&likes, FoldIn::LeastSquares);
    let req = support::bench_request(&likes);
    let (rounds, reps) = (15, 20);
    let (mut full, mut scan) = (Vec::new(), Vec::new());
    // Each request timed on its own too, for the tail (p95).
    let (mut each_full, mut each_scan) = (Vec::new(), Vec::new());
    let mut sink = 0.0f32;
    for _ in 0..rounds {
        let t0 = support::now_ms();
        for _ in 0..reps {
            sink += rec.recommend(&req)[0].score;
        }
        let t1 = support::now_ms();
        for _ in 0..reps {
            sink += rec.cf().expect("cf.bin loaded").scores(&user)[0];
        }
        let t2 = support::now_ms();
        full.push((t1 - t0) / reps as f64);
        scan.push((t2 - t1) / reps as f64);
        for _ in 0..reps {
            let a = support::now_ms();
            sink += rec.recommend(&req)[0].score;
            let b = support::now_ms();
            sink += rec.cf().expect("cf.bin loaded").scores(&user)[0];
            let c = support::now_ms();
            each_full.push(b - a);
            each_scan.push(c - b);
        }
    }
    let quantile = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
    let (f, s) = (quantile(&mut full, 0.5), quantile(&mut scan, 0.5));
    let taste_k = rec.taste_model().map_or(0, |t| t.ials.k());
    console_log!(
        "BENCH {{\"target\":\"wasm32 (headless Chromium)\",\"items\":{},\"k\":{},\"taste_ials_k\":{},\"likes\":{},\"full_request_ms\":{:.4},\"dot_scan_ms\":{:.4},\"ratio\":{:.2},\"full_request_p50_ms\":{:.4},\"full_request_p95_ms\":{:.4},\"dot_scan_p50_ms\":{:.4},\"dot_scan_p95_ms\":{:.4},\"sink\":{}}}",
        rec.catalog().artists().len(),
        rec.cf().expect("cf.bin loaded").k(),
        taste_k,
        likes.len(),
        f,
        s,
        f / s,
        quantile(&mut each_full, 0.5),
        quantile(&mut each_full, 0.95),
        quantile(&mut each_scan, 0.5),
        quantile(&mut each_scan, 0.95),
        sink.is_finite()
    );
}
