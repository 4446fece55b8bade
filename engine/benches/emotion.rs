//! Native benchmark: analysing 30 s of audio (decode a 44.1 kHz stereo WAV, resample + log-mel,
//! CNN under tract) against the log-mel alone, in one criterion run.
//! `cargo bench -p attune-engine --features onnx --bench emotion`.

#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/support/mod.rs"]
mod support;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::support;
    use attune_engine::audio::{
        self,
        decode::{decode, MAX_DECODE_SECONDS},
    };
    use attune_engine::models::emotion::EmotionModel;
    use criterion::{criterion_group, Criterion};
    use std::hint::black_box;

    pub fn bench(c: &mut Criterion) {
        let wav = support::bench_wav();
        let model = EmotionModel::from_bytes(support::EMOTION_MODEL).expect("model");
        let decoded = decode(wav.clone(), Some("wav"), MAX_DECODE_SECONDS).expect("decode");
        let mel = audio::log_mel(&decoded.samples, decoded.sample_rate).expect("mel");
        let mut g = c.benchmark_group("emotion_30s");
        g.sample_size(20);
        g.bench_function("decode", |b| {
            b.iter(|| {
                black_box(decode(black_box(wav.clone()), Some("wav"), MAX_DECODE_SECONDS).unwrap())
            })
        });
        g.bench_function("log_mel", |b| {
            b.iter(|| {
                black_box(audio::log_mel(black_box(&decoded.samples), decoded.sample_rate).unwrap())
            })
        });
        g.bench_function("cnn", |b| {
            b.iter(|| black_box(model.predict_mel(black_box(&mel)).unwrap()))
        });
        g.bench_function("full", |b| {
            b.iter(|| {
                let d = decode(black_box(wav.clone()), Some("wav"), MAX_DECODE_SECONDS).unwrap();
                black_box(model.predict_samples(&d.samples, d.sample_rate).unwrap())
            })
        });
        g.finish();
    }

    criterion_group!(benches, bench);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
