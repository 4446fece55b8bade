//! Benchmark (run by `scripts/bench.sh`, not by the test suite): analysing 30 s of audio (decode a
//! 44.1 kHz stereo WAV, resample + log-mel, CNN under tract) in wasm32 in headless Chromium, each
//! stage timed with `performance.now()` in one run; and the user-emotion model on a 50-event
//! history; and a recommendation with the neural CF model (tract scores + blend + ranking) against
//! one with SVD++ alone. Prints one `BENCH {json}`, one `BENCH_USER {json}` and one
//! `BENCH_NCF {json}` line.
#![cfg(target_arch = "wasm32")]

mod support;

use attune_engine::audio::{
    self,
    decode::{decode, MAX_DECODE_SECONDS},
};
use attune_engine::models::emotion::EmotionModel;
use attune_engine::models::ncf::NcfModel;
use attune_engine::models::user_emotion::UserEmotionModel;
use attune_engine::user_emotion::encode;
use attune_engine::Request;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[wasm_bindgen_test]
fn bench_emotion_30s() {
    let wav = support::bench_wav();
    let t = support::now_ms();
    let model = EmotionModel::from_bytes(support::EMOTION_MODEL).expect("model");
    let load_ms = support::now_ms() - t;
    let (mut dec, mut mel, mut cnn, mut full) = (vec![], vec![], vec![], vec![]);
    let mut sink = 0.0f32;
    for _ in 0..9 {
        let t0 = support::now_ms();
        let d = decode(wav.clone(), Some("wav"), MAX_DECODE_SECONDS).expect("decode");
        let t1 = support::now_ms();
        let m = audio::log_mel(&d.samples, d.sample_rate).expect("mel");
        let t2 = support::now_ms();
        sink += model.predict_mel(&m).expect("cnn").valence;
        let t3 = support::now_ms();
        let d = decode(wav.clone(), Some("wav"), MAX_DECODE_SECONDS).expect("decode");
        sink += model
            .predict_samples(&d.samples, d.sample_rate)
            .expect("full")
            .arousal;
        let t4 = support::now_ms();
        dec.push(t1 - t0);
        mel.push(t2 - t1);
        cnn.push(t3 - t2);
        full.push(t4 - t3);
    }
    console_log!(
        "BENCH {{\"target\":\"wasm32 (headless Chromium)\",\"model_load_ms\":{:.2},\"decode_ms\":{:.2},\"log_mel_ms\":{:.2},\"cnn_ms\":{:.2},\"full_ms\":{:.2},\"sink\":{}}}",
        load_ms,
        median(dec),
        median(mel),
        median(cnn),
        median(full),
        sink.is_finite()
    );
}

#[wasm_bindgen_test]
fn bench_user_emotion_50() {
    let model = UserEmotionModel::from_bytes(support::USER_EMOTION_MODEL).expect("model");
    let (history, moment) = support::bench_history();
    let input = encode(&history, &moment).expect("input");
    let (mut enc, mut est) = (vec![], vec![]);
    let mut sink = 0.0f32;
    for _ in 0..15 {
        let t0 = support::now_ms();
        for _ in 0..100 {
            sink += encode(&history, &moment).expect("encode").context[0];
        }
        let t1 = support::now_ms();
        for _ in 0..20 {
            sink += model
                .estimate(&input)
                .expect("estimate")
                .emotion
                .valence
                .get();
        }
        let t2 = support::now_ms();
        enc.push((t1 - t0) / 100.0);
        est.push((t2 - t1) / 20.0);
    }
    console_log!(
        "BENCH_USER {{\"target\":\"wasm32 (headless Chromium)\",\"encode_ms\":{:.4},\"estimate_ms\":{:.4},\"sink\":{}}}",
        median(enc),
        median(est),
        sink.is_finite()
    );
}

#[wasm_bindgen_test]
fn bench_ncf_recommend() {
    let rec = support::recommender();
    let t = support::now_ms();
    let model =
        NcfModel::from_bytes(support::NCF_MODEL, rec.catalog().artists().len()).expect("model");
    let load_ms = support::now_ms() - t;
    let likes = support::bench_likes();
    let plain = support::bench_request(&likes);
    let (mut svd, mut ncf, mut full) = (vec![], vec![], vec![]);
    let mut sink = 0.0f32;
    for _ in 0..15 {
        let t0 = support::now_ms();
        for _ in 0..10 {
            sink += rec.recommend(&plain)[0].score;
        }
        let t1 = support::now_ms();
        for _ in 0..10 {
            sink += model.scores(&likes).expect("scores")[0];
        }
        let t2 = support::now_ms();
        for _ in 0..10 {
            let scores = model.scores(&likes).expect("scores");
            let req = Request {
                neural: Some(&scores),
                ..plain
            };
            sink += rec.recommend(&req)[0].score;
        }
        let t3 = support::now_ms();
        svd.push((t1 - t0) / 10.0);
        ncf.push((t2 - t1) / 10.0);
        full.push((t3 - t2) / 10.0);
    }
    let (s, n, f) = (median(svd), median(ncf), median(full));
    console_log!(
        "BENCH_NCF {{\"target\":\"wasm32 (headless Chromium)\",\"likes\":{},\"model_load_ms\":{:.2},\"svd_request_ms\":{:.4},\"ncf_scores_ms\":{:.4},\"ncf_request_ms\":{:.4},\"ratio\":{:.2},\"sink\":{}}}",
        likes.len(),
        load_ms,
        s,
        n,
        f,
        f / s,
        sink.is_finite()
    );
}
