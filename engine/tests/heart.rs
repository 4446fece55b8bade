//! Heart-rate chain: property tests (parser totality, round trips, signal bounds) and the recorded
//! demo series replayed end to end. Native only (proptest and the file read).
#![cfg(not(target_arch = "wasm32"))]

use attune_engine::emotion::Axis;
use attune_engine::emotion::Emotion;
use attune_engine::fusion::fuse;
use attune_engine::heart::{
    parse_measurement, parse_rr_text, ArousalEstimate, HeartBaseline, HeartCalibration,
    HeartRateMeasurement, HeartRateValue, HeartSignal, Replay, RrInterval, SensorContact,
};
use attune_engine::MoodStrength;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = HeartRateValue> {
    prop_oneof![
        any::<u8>().prop_map(HeartRateValue::U8),
        any::<u16>().prop_map(HeartRateValue::U16),
    ]
}

fn contact() -> impl Strategy<Value = SensorContact> {
    prop_oneof![
        Just(SensorContact::NotSupported),
        Just(SensorContact::NotDetected),
        Just(SensorContact::Detected),
    ]
}

fn measurement() -> impl Strategy<Value = HeartRateMeasurement> {
    (
        value(),
        contact(),
        proptest::option::of(any::<u16>()),
        proptest::collection::vec(any::<u16>().prop_map(RrInterval), 0..12),
    )
        .prop_map(
            |(value, contact, energy_expended_kj, rr_intervals)| HeartRateMeasurement {
                value,
                contact,
                energy_expended_kj,
                rr_intervals,
            },
        )
}

/// Mostly plausible packets (so the signal chain gets past its filters), with some garbage.
fn realistic_measurement() -> impl Strategy<Value = HeartRateMeasurement> {
    prop_oneof![
        4 => (40u8..=180, proptest::collection::vec(350u16..1500, 0..4), contact()).prop_map(
            |(bpm, rrs, contact)| HeartRateMeasurement {
                value: HeartRateValue::U8(bpm),
                contact,
                energy_expended_kj: None,
                rr_intervals: rrs
                    .into_iter()
                    .filter_map(|ms| RrInterval::from_millis(f64::from(ms)))
                    .collect(),
            }
        ),
        // Identical RRs (RMSSD 0): the case the fuzzer found first.
        1 => (40u8..=180).prop_map(|bpm| HeartRateMeasurement {
            value: HeartRateValue::U8(bpm),
            contact: SensorContact::Detected,
            energy_expended_kj: None,
            rr_intervals: vec![RrInterval(1000)],
        }),
        1 => measurement(),
    ]
}

/// Arrival times: mostly about a second apart, sometimes equal, backwards, huge or not finite.
fn step() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => 500.0..1500.0f64,
        1 => Just(0.0),
        1 => -5_000.0..0.0f64,
        1 => 10_000.0..200_000.0f64,
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(1e300)],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Any bytes: Ok or Err, never a panic; what parses re-encodes to something that parses the same.
    #[test]
    fn parser_is_total(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(m) = parse_measurement(&bytes) {
            let again = m.encode();
            prop_assert!(again.len() <= bytes.len());
            prop_assert_eq!(parse_measurement(&again), Ok(m));
        }
    }

    /// Valid measurements survive encode -> parse unchanged.
    #[test]
    fn encode_parse_round_trip(m in measurement()) {
        prop_assert_eq!(parse_measurement(&m.encode()), Ok(m));
    }

    /// Cutting a packet short (unless the cut lands on an RR boundary after at least one RR value)
    /// is always an error.
    #[test]
    fn truncation_is_detected(m in measurement(), cut in 1usize..40) {
        let bytes = m.encode();
        let keep = bytes.len().saturating_sub(cut);
        let head = 1 + if matches!(m.value, HeartRateValue::U16(_)) { 2 } else { 1 }
            + if m.energy_expended_kj.is_some() { 2 } else { 0 };
        let result = parse_measurement(&bytes[..keep]);
        // Cut to the head alone, a packet whose flags announce RR intervals carries none.
        let rr_flag_alone = keep == head && !m.rr_intervals.is_empty();
        if keep < head || (keep - head) % 2 == 1 || rr_flag_alone {
            prop_assert!(result.is_err(), "{:?} -> {:?}", &bytes[..keep], result);
        }
    }

    /// Whatever packets arrive, whenever: the estimate is None or finite and in range.
    #[test]
    fn signal_stays_in_range(
        steps in proptest::collection::vec((step(), realistic_measurement()), 0..400),
        probes in proptest::collection::vec(-20_000.0..40_000.0f64, 1..5),
    ) {
        let mut s = HeartSignal::default();
        let mut t = 0.0f64;
        for (dt, m) in &steps {
            t = if dt.is_finite() && t.is_finite() { t + dt } else { *dt };
            s.push(t, m);
            let last = s.last_reading_ms().unwrap_or(0.0);
            for p in &probes {
                if let Some(e) = s.estimate(last + p) {
                    let a = e.arousal.get();
                    prop_assert!(a.is_finite() && (-1.0..=1.0).contains(&a), "{e:?}");
                    prop_assert!((0.0..=1.0).contains(&e.confidence(1.0)), "{e:?}");
                    prop_assert!((0.0..=1.0).contains(&e.quality), "{e:?}");
                    prop_assert!((0.0..=1.0).contains(&e.freshness), "{e:?}");
                    prop_assert!((0.0..=1.0).contains(&e.baseline_progress), "{e:?}");
                    prop_assert!((30.0..=220.0).contains(&e.bpm), "{e:?}");
                    prop_assert!(e.resting_bpm.is_finite() && e.resting_bpm > 0.0, "{e:?}");
                    if let Some(r) = e.rmssd_ms {
                        prop_assert!(r.is_finite() && r >= 0.0, "{e:?}");
                    }
                    let fused = fuse(Some(Emotion::va(0.3, -0.4)), MoodStrength::DEFAULT, Some(e.live(1.0)));
                    prop_assert!(fused.emotion.unwrap().arousal.get().is_finite());
                }
            }
            prop_assert!(s.estimate(f64::NAN).is_none());
        }
        // The learned baseline always survives storage.
        let b = *s.baseline();
        prop_assert_eq!(HeartBaseline::from_json(&b.to_json()), Ok(b));
    }

    /// A one-shot replay emits every beat exactly once, in order, within rounding of 1/1024 s.
    #[test]
    fn calibration_weight_is_bounded_and_survives_storage(
        records in proptest::collection::vec(
            (-1e6f64..1e8, prop_oneof![Just(f32::NAN), -2.0f32..2.0], -2.0f32..2.0, 0.0f32..=1.0),
            0..300,
        )
    ) {
        let mut c = HeartCalibration::default();
        let mut t = 0.0f64;
        for (dt, heart, stated, quality) in records {
            t += dt;
            let reading = ArousalEstimate::steady(heart, quality);
            c.record(t, Some(&reading), Axis::clamped(stated));
            let w = c.weight();
            prop_assert!((0.0..=1.0).contains(&w.weight), "{w:?}");
            prop_assert!(w.r.is_finite() && (-1.0..=1.0).contains(&w.r), "{w:?}");
            prop_assert!(w.lower.is_none_or(|l| l <= w.r + 1e-6), "{w:?}");
        }
        let back = HeartCalibration::from_json(&serde_json::to_string(&c).unwrap());
        prop_assert_eq!(back, Ok(c));
    }

    #[test]
    fn replay_emits_every_beat_once(rr in proptest::collection::vec(1u16..=3000, 1..200)) {
        let mut got = Vec::new();
        let mut last_at = 0.0;
        for p in Replay::new(rr.clone(), 0.0) {
            prop_assert!(p.at_ms > last_at);
            last_at = p.at_ms;
            let m = parse_measurement(&p.bytes).unwrap();
            prop_assert_eq!(m.contact, SensorContact::Detected);
            prop_assert!(m.bpm().is_some());
            got.extend(m.rr_intervals.iter().map(|r| r.millis()));
        }
        prop_assert_eq!(got.len(), rr.len());
        for (g, want) in got.iter().zip(&rr) {
            prop_assert!((g - f64::from(*want)).abs() <= 0.5, "{g} vs {want}");
        }
    }
}

fn demo_series() -> Vec<u16> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../public/demo/rr-sample.txt");
    let text = std::fs::read_to_string(path).expect("public/demo/rr-sample.txt");
    parse_rr_text(&text).expect("the committed RR series parses")
}

fn rmssd(rr: &[u16]) -> f64 {
    let d: Vec<f64> = rr
        .windows(2)
        .map(|w| f64::from(w[1]) - f64::from(w[0]))
        .collect();
    (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt()
}

#[test]
fn demo_series_replays_through_the_signal_chain() {
    let rr = demo_series();
    assert_eq!(rr.len(), 4684);
    let mean_rr = rr.iter().map(|&r| f64::from(r)).sum::<f64>() / rr.len() as f64;
    let mut s = HeartSignal::default();
    let mut t = 0.0;
    let mut estimates = 0;
    let mut max_bpm = 0.0f64;
    for p in Replay::new(rr.clone(), 0.0) {
        t = p.at_ms;
        s.push(t, &parse_measurement(&p.bytes).unwrap());
        if let Some(e) = s.estimate(t) {
            estimates += 1;
            max_bpm = max_bpm.max(f64::from(e.bpm));
        }
    }
    let st = s.stats();
    assert_eq!(st.packets as f64, (t / 1000.0).round());
    assert_eq!(st.beats_accepted + st.beats_rejected, rr.len() as u64);
    // A clean ECG series: the artifact filter must keep nearly all of it.
    let rejected = st.beats_rejected as f64 / rr.len() as f64;
    assert!(rejected < 0.03, "{st:?}");
    assert!(st.readings_rejected < st.readings_accepted / 50, "{st:?}");
    assert!(
        estimates as u64 >= st.packets - 5,
        "{estimates} of {}",
        st.packets
    );
    let b = s.baseline();
    let resting = f64::from(b.resting_bpm().unwrap());
    assert!(
        (resting - 60_000.0 / mean_rr).abs() < 8.0,
        "{resting} vs mean {}",
        60_000.0 / mean_rr
    );
    assert!(max_bpm < 120.0);
    // Windowed RMSSD after filtering is of the order of the whole series' (artifacts inflate the latter).
    let whole = rmssd(&rr);
    let learned = f64::from(b.resting_rmssd_ms().unwrap());
    assert!(
        learned > 0.3 * whole && learned < 1.5 * whole,
        "{learned} vs {whole}"
    );
    let e = s.estimate(t).unwrap();
    assert_eq!(e.baseline_progress, 1.0);
    assert!(e.quality > 0.5, "{e:?}");
    // Staleness: gone 15 s after the last packet.
    assert!(s.estimate(t + 15_000.0).is_none());
}
