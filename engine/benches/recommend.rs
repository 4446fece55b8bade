//! Native benchmark: one full recommendation request vs a plain dot-product scan over the same
//! catalog (the lower bound of any CF ranking), in one criterion run. `cargo bench -p attune-engine`.

#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/support/mod.rs"]
mod support;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::support;
    use attune_engine::cf::FoldIn;
    use criterion::{criterion_group, Criterion};
    use std::hint::black_box;

    pub fn bench(c: &mut Criterion) {
        let rec = support::recommender();
        let likes = support::bench_likes();
        let user = rec
            .cf()
            .expect("cf.bin loaded")
            .fold_in(&likes, FoldIn::LeastSquares);
        let req = support::bench_request(&likes);
        let mut g = c.benchmark_group("recommend");
        g.bench_function("full_request", |b| {
            b.iter(|| black_box(rec.recommend(black_box(&req))))
        });
        g.bench_function("dot_scan_baseline", |b| {
            b.iter(|| black_box(rec.cf().expect("cf.bin loaded").scores(black_box(&user))))
        });
        g.finish();
    }

    criterion_group!(benches, bench);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

/// The benchmark is native only; wasm32 has its own in `tests/bench_wasm.rs`.
#[cfg(target_arch = "wasm32")]
fn main() {}
