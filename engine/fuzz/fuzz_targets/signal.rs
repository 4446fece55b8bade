//! Any byte string, read as a stream of (time step, packet) records, through the whole heart chain:
//! parse, `HeartSignal::push`, `estimate`. No panic, and every estimate is finite and in range.
//!
//! Record layout: 1 byte time-step code, 1 byte packet length `n`, then `n` packet bytes.
#![no_main]

use attune_engine::emotion::Emotion;
use attune_engine::fusion::fuse;
use attune_engine::heart::{parse_measurement, HeartBaseline, HeartSignal};
use attune_engine::MoodStrength;
use libfuzzer_sys::fuzz_target;

fn step(code: u8) -> f64 {
    match code {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => -1e9,
        3 => 0.0,
        4..=9 => 60_000.0 * f64::from(code),
        c => f64::from(c) * 8.0, // 80 .. 2040 ms
    }
}

fuzz_target!(|data: &[u8]| {
    let mut s = HeartSignal::default();
    let mut t = 0.0f64;
    let mut rest = data;
    while let [code, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (packet, after) = tail.split_at(n);
        rest = after;
        let dt = step(*code);
        t = if dt.is_finite() { t + dt } else { dt };
        if let Ok(m) = parse_measurement(packet) {
            s.push(t, &m);
        }
        for probe in [t, t + 7_000.0, t + 14_999.0, f64::NAN] {
            if let Some(e) = s.estimate(probe) {
                let a = e.arousal.get();
                assert!(a.is_finite() && (-1.0..=1.0).contains(&a), "{e:?}");
                assert!((0.0..=1.0).contains(&e.confidence(1.0)), "{e:?}");
                assert!((0.0..=1.0).contains(&e.quality), "{e:?}");
                assert!((30.0..=220.0).contains(&e.bpm), "{e:?}");
                assert!(
                    e.rmssd_ms.is_none_or(|r| r.is_finite() && r >= 0.0),
                    "{e:?}"
                );
                let fused = fuse(
                    Some(Emotion::va(0.2, 0.2)),
                    MoodStrength::DEFAULT,
                    Some(e.live(1.0)),
                );
                assert!(fused.emotion.is_some_and(|m| m.arousal.get().is_finite()));
            }
        }
    }
    let b = *s.baseline();
    assert_eq!(HeartBaseline::from_json(&b.to_json()), Ok(b));
});
