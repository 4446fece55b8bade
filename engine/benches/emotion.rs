//! Native benchmark: analysing 30 s of audio (decode a 44.1 kHz stereo WAV, resample + log-mel,
//! CNN under tract) against the log-mel alone, and the user-emotion model on a 50-event history
//! (encode + self-attention under tract), and a recommendation with the neural CF model against
//! one with SVD++ alone, in one criterion run.
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
    use attune_engine::models::user_emotion::UserEmotionModel;
    use attune_engine::user_emotion::encode;
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

    pub fn bench_user(c: &mut Criterion) {
        let model = UserEmotionModel::from_bytes(support::USER_EMOTION_MODEL).expect("model");
        let (history, moment) = support::bench_history();
        let input = encode(&history, &moment).expect("input");
        let mut g = c.benchmark_group("user_emotion_50");
        g.bench_function("encode", |b| {
            b.iter(|| black_box(encode(black_box(&history), &moment).unwrap()))
        });
        g.bench_function("estimate", |b| {
            b.iter(|| black_box(model.estimate(black_box(&input)).unwrap()))
        });
        g.finish();
    }

    pub fn bench_ncf(c: &mut Criterion) {
        let rec = support::recommender();
        let model = attune_engine::models::ncf::NcfModel::from_bytes(
            support::NCF_MODEL,
            rec.catalog().artists().len(),
        )
        .expect("model");
        let likes = support::bench_likes();
        let plain = support::bench_request(&likes);
        let mut g = c.benchmark_group("ncf");
        g.bench_function("svd_request", |b| {
            b.iter(|| black_box(rec.recommend(&plain)))
        });
        g.bench_function("ncf_scores", |b| {
            b.iter(|| black_box(model.scores(black_box(&likes)).unwrap()))
        });
        g.bench_function("ncf_request", |b| {
            b.iter(|| {
                let scores = model.scores(black_box(&likes)).unwrap();
                let req = attune_engine::Request {
                    neural: Some(&scores),
                    ..plain
                };
                black_box(rec.recommend(&req))
            })
        });
        g.finish();
    }

    criterion_group!(benches, bench, bench_user, bench_ncf);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
