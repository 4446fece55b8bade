//! The heart-rate strap as the tests see it: GATT numbers, 0x2A37 packets built byte by byte
//! (an oracle independent of the engine's parser), and helpers for the page's `#heart` section.
//!
//! Heart Rate Measurement (0x2A37), Bluetooth GATT Specification Supplement 3.113:
//! `flags: u8` (bit 0: value is u16, bits 1-2: sensor contact, bit 3: energy expended present,
//! bit 4: RR intervals present), the value (u8 or u16 LE), energy expended (u16 LE, kJ),
//! then RR intervals (u16 LE each, in 1/1024 s) to the end of the packet.

use anyhow::{ensure, Context, Result};
use serde_json::Value;

use crate::Harness;

/// The full 128-bit form of a 16-bit Bluetooth SIG UUID, lower case.
pub fn uuid(short: u16) -> String {
    format!("0000{short:04x}-0000-1000-8000-00805f9b34fb")
}

/// Heart Rate service.
pub const HEART_RATE_SERVICE: u16 = 0x180D;
/// Heart Rate Measurement characteristic (notify).
pub const HEART_RATE_MEASUREMENT: u16 = 0x2A37;
/// Body Sensor Location characteristic (read).
pub const BODY_SENSOR_LOCATION: u16 = 0x2A38;
/// Battery service.
pub const BATTERY_SERVICE: u16 = 0x180F;
/// Battery Level characteristic (read).
pub const BATTERY_LEVEL: u16 = 0x2A19;
/// Client Characteristic Configuration descriptor.
pub const CCCD: u16 = 0x2902;

/// Body Sensor Location 1 = chest, as the spec names it.
pub const LOCATION_CHEST: u8 = 1;

/// The sensor-contact bits (flags bits 1-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    /// 0b00: the feature is not supported.
    Unsupported,
    /// 0b10: supported, no contact.
    NotDetected,
    /// 0b11: supported and in contact.
    Detected,
}

/// One Heart Rate Measurement packet, before encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Heart rate in bpm.
    pub bpm: u16,
    /// Send the value as u16 (flags bit 0) even if it fits a byte.
    pub wide: bool,
    /// Sensor contact bits.
    pub contact: Contact,
    /// Energy expended in kJ (flags bit 3).
    pub energy_kj: Option<u16>,
    /// RR intervals in 1/1024 s (flags bit 4 when non-empty).
    pub rr: Vec<u16>,
}

impl Packet {
    /// An 8-bit heart rate with skin contact.
    pub fn bpm8(bpm: u8) -> Self {
        Self {
            bpm: bpm.into(),
            wide: false,
            contact: Contact::Detected,
            energy_kj: None,
            rr: vec![],
        }
    }

    /// A 16-bit heart rate with skin contact.
    pub fn bpm16(bpm: u16) -> Self {
        Self {
            wide: true,
            ..Self::bpm8(0)
        }
        .with_bpm(bpm)
    }

    fn with_bpm(mut self, bpm: u16) -> Self {
        self.bpm = bpm;
        self
    }

    /// Adds RR intervals given in milliseconds (rounded to 1/1024 s).
    pub fn with_rr_ms(mut self, rr_ms: &[f64]) -> Self {
        self.rr.extend(rr_ms.iter().map(|&ms| rr_units(ms)));
        self
    }

    /// Adds an energy-expended field.
    pub fn with_energy(mut self, kj: u16) -> Self {
        self.energy_kj = Some(kj);
        self
    }

    /// The flags byte.
    pub fn flags(&self) -> u8 {
        let mut f = 0u8;
        if self.wide || self.bpm > 0xFF {
            f |= 0x01;
        }
        f |= match self.contact {
            Contact::Unsupported => 0b000,
            Contact::NotDetected => 0b100,
            Contact::Detected => 0b110,
        };
        if self.energy_kj.is_some() {
            f |= 0x08;
        }
        if !self.rr.is_empty() {
            f |= 0x10;
        }
        f
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let flags = self.flags();
        let mut b = vec![flags];
        if flags & 0x01 != 0 {
            b.extend_from_slice(&self.bpm.to_le_bytes());
        } else {
            b.push(self.bpm as u8);
        }
        if let Some(e) = self.energy_kj {
            b.extend_from_slice(&e.to_le_bytes());
        }
        for rr in &self.rr {
            b.extend_from_slice(&rr.to_le_bytes());
        }
        b
    }

    /// RR intervals in milliseconds, as a receiver decodes them.
    pub fn rr_ms(&self) -> Vec<f64> {
        self.rr
            .iter()
            .map(|&r| f64::from(r) * 1000.0 / 1024.0)
            .collect()
    }
}

/// Milliseconds to 1/1024 s units, rounded.
pub fn rr_units(ms: f64) -> u16 {
    (ms * 1024.0 / 1000.0).round() as u16
}

/// Packets no receiver can decode: `(label, bytes)`. Each says "RR present" or "16-bit" and
/// then ends early, or is empty.
pub fn malformed_packets() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        // 16-bit value announced, one byte follows.
        ("16-bit value cut short", vec![0x07, 0x50]),
        // RR present with an odd number of bytes after the value.
        ("odd RR bytes", vec![0x16, 0x48, 0x00, 0x03, 0x01]),
        ("empty", vec![]),
    ]
}

/// RR jitter of the feeds, in 1/1024 s: each packet holds `beat + J, beat - J`, so every
/// successive difference is `2 J` whichever pairs a receiver keeps.
pub const RR_JITTER_UNITS: u16 = 20;

/// The beat length for `bpm` in 1/1024 s.
pub fn beat_units(bpm: u16) -> u16 {
    (60.0 * 1024.0 / f64::from(bpm)).round() as u16
}

/// A packet of `bpm` (8-bit unless `wide`) with two RR intervals around the beat length.
pub fn beat_packet(bpm: u16, wide: bool) -> Packet {
    let p = if wide {
        Packet::bpm16(bpm)
    } else {
        Packet::bpm8(bpm as u8)
    };
    let beat = beat_units(bpm);
    Packet {
        rr: vec![beat + RR_JITTER_UNITS, beat - RR_JITTER_UNITS],
        ..p
    }
}

/// Resting phase: 12 packets alternating 60 and 61 bpm (consecutive values differ, so each can
/// be awaited on the page), RR at 60 bpm; packets 4, 8 and 11 are 16-bit, and packet 8 also
/// carries energy expended before its RR intervals. 23 successive RR differences, enough for
/// the engine's RMSSD (20 pairs).
pub fn rest_phase() -> Vec<Packet> {
    (0..12)
        .map(|i| {
            let bpm = 60 + (i % 2) as u16;
            let wide = matches!(i, 3 | 7 | 10);
            let mut p = beat_packet(60, wide);
            p.bpm = bpm;
            if i == 7 {
                p.energy_kj = Some(0x0123);
            }
            p
        })
        .collect()
}

/// RMSSD (ms) of [`rest_phase`]'s RR intervals: `2 J` in ms (39.06 ms).
pub fn rest_rmssd_ms() -> f64 {
    rmssd_ms(&rest_phase()).expect("the rest phase has RR intervals")
}

/// Exercise phase: 8-bit packets ramping from 63 to 90 bpm by at most 5% a packet (the engine
/// drops a reading more than 25% off its 10-s mean as an artifact), then 91, 90, 91, 90; RR
/// follow the heart rate.
pub fn exercise_phase() -> Vec<Packet> {
    [63, 66, 68, 71, 74, 77, 80, 83, 86, 90, 91, 90, 91, 90]
        .into_iter()
        .map(|bpm| beat_packet(bpm, false))
        .collect()
}

/// RMSSD (ms) of the successive differences of all RR intervals in `packets`, in order.
pub fn rmssd_ms(packets: &[Packet]) -> Option<f64> {
    let rr: Vec<f64> = packets.iter().flat_map(Packet::rr_ms).collect();
    let d: Vec<f64> = rr.windows(2).map(|w| (w[1] - w[0]).powi(2)).collect();
    (!d.is_empty()).then(|| (d.iter().sum::<f64>() / d.len() as f64).sqrt())
}

/// What `#heart` shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeartView {
    /// `#hr-status[data-status]`.
    pub status: String,
    /// `#hr-message` text.
    pub message: String,
    /// `#hr-device` text.
    pub device: String,
    /// `#hr-location` text.
    pub location: String,
    /// `#hr-battery` text.
    pub battery: String,
    /// `#hr-bpm[data-bpm]`.
    pub bpm: String,
    /// `#hr-rmssd` text.
    pub rmssd: String,
    /// `#hr-arousal[data-arousal]`.
    pub arousal: String,
    /// `#hr-arousal[data-confidence]`.
    pub confidence: String,
    /// `#hr-packet-error` text.
    pub packet_error: String,
    /// `#hr-effect` text.
    pub effect: String,
}

/// JS returning the [`HeartView`] fields.
pub const HEART_JS: &str = "(() => { const q = s => document.querySelector(s); \
    const t = s => (q(s)?.textContent ?? '').trim(); \
    return { status: q('#hr-status')?.dataset.status ?? '', message: t('#hr-message'), \
      device: t('#hr-device'), location: t('#hr-location'), battery: t('#hr-battery'), \
      bpm: q('#hr-bpm')?.dataset.bpm ?? '', rmssd: t('#hr-rmssd'), \
      arousal: q('#hr-arousal')?.dataset.arousal ?? '', \
      confidence: q('#hr-arousal')?.dataset.confidence ?? '', \
      packet_error: t('#hr-packet-error'), effect: t('#hr-effect') }; })()";

impl Harness {
    /// The `#heart` section's state.
    pub async fn heart(&self) -> Result<HeartView> {
        let v = self.js(HEART_JS).await?;
        let f = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Ok(HeartView {
            status: f("status"),
            message: f("message"),
            device: f("device"),
            location: f("location"),
            battery: f("battery"),
            bpm: f("bpm"),
            rmssd: f("rmssd"),
            arousal: f("arousal"),
            confidence: f("confidence"),
            packet_error: f("packet_error"),
            effect: f("effect"),
        })
    }

    /// Waits for `#hr-status[data-status=<status>]`; fails at once on `error` unless that is
    /// what is awaited.
    pub async fn wait_heart_status(&mut self, status: &str) -> Result<()> {
        let want = serde_json::to_string(status)?;
        let v = self
            .wait_js(
                &format!("#hr-status[data-status={status}]"),
                &format!(
                    "(() => {{ const s = document.querySelector('#hr-status')?.dataset.status; \
                     if (s === 'error' && {want} !== 'error') \
                       return {{error: document.querySelector('#hr-message')?.textContent ?? ''}}; \
                     return s === {want}; }})()"
                ),
            )
            .await?;
        if let Some(err) = v.get("error") {
            return self
                .fail(&format!(
                    "#hr-status went to error while waiting for {status}: {err}"
                ))
                .await;
        }
        Ok(())
    }

    /// Waits until `#hr-bpm[data-bpm]` is `bpm` and returns the view.
    pub async fn wait_bpm(&mut self, bpm: u16) -> Result<HeartView> {
        self.wait_js(
            &format!("#hr-bpm[data-bpm={bpm}]"),
            &format!("document.querySelector('#hr-bpm')?.dataset.bpm === '{bpm}'"),
        )
        .await?;
        self.heart().await
    }

    /// Waits until `#hr-packet-error` differs from `before` and is not empty; returns it.
    pub async fn wait_packet_error_change(&mut self, before: &str) -> Result<String> {
        let before = serde_json::to_string(before)?;
        let v = self
            .wait_js(
                "a new #hr-packet-error",
                &format!(
                    "(() => {{ const t = (document.querySelector('#hr-packet-error')?.textContent \
                     ?? '').trim(); return t !== '' && t !== {before} && t; }})()"
                ),
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }
}

/// A number parsed from the start of `text` ("87%" -> 87, "42.5 ms" -> 42.5).
pub fn leading_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().ok()
}

/// Checks a field of [`HeartView`] parses as a finite number.
pub fn number(label: &str, v: &str) -> Result<f64> {
    let x: f64 = v
        .trim()
        .parse()
        .with_context(|| format!("{label} {v:?} is not a number"))?;
    ensure!(x.is_finite(), "{label} is not finite: {v:?}");
    Ok(x)
}

/// The value of a JSON string field, or "".
pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert_eq!(uuid(0x180D), "0000180d-0000-1000-8000-00805f9b34fb");
        assert_eq!(uuid(0x2A37), "00002a37-0000-1000-8000-00805f9b34fb");
    }

    #[test]
    fn packets_by_hand() {
        // 8-bit, contact detected: flags 0b110.
        assert_eq!(Packet::bpm8(72).encode(), vec![0x06, 72]);
        // 16-bit little-endian.
        assert_eq!(Packet::bpm16(0x0123).encode(), vec![0x07, 0x23, 0x01]);
        // Energy then RR: 1024/1024 s = 1000 ms.
        let p = Packet::bpm8(60).with_energy(0x0102).with_rr_ms(&[1000.0]);
        assert_eq!(p.encode(), vec![0x1E, 60, 0x02, 0x01, 0x00, 0x04]);
        assert_eq!(p.rr_ms(), vec![1000.0]);
        let mut none = Packet::bpm8(60);
        none.contact = Contact::Unsupported;
        assert_eq!(none.encode(), vec![0x00, 60]);
    }

    #[test]
    fn feeds() {
        let rest = rest_phase();
        let r = rmssd_ms(&rest).unwrap();
        assert!((r - 2.0 * 20.0 * 1000.0 / 1024.0).abs() < 1e-9, "{r}");
        assert_eq!(rest[7].encode()[..5], [0x1F, 61, 0x00, 0x23, 0x01]);
        assert_eq!(rest[0].encode(), vec![0x16, 60, 0x14, 0x04, 0xEC, 0x03]);
        for feed in [rest, exercise_phase()] {
            for w in feed.windows(2) {
                assert_ne!(w[0].bpm, w[1].bpm, "consecutive packets must differ");
                let ratio = f64::from(w[1].bpm) / f64::from(w[0].bpm);
                assert!(ratio < 1.05, "{ratio}");
            }
        }
        assert_eq!(leading_number("87%"), Some(87.0));
        assert_eq!(leading_number(" 42.5 ms"), Some(42.5));
        assert_eq!(leading_number("n/a"), None);
    }
}

/// `#hr-calibration`: how much the heart weighs for this user, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationView {
    /// `data-pairs`: stated moods paired with a heart reading.
    pub pairs: u32,
    /// `data-weight`: the heart's weight, two decimals.
    pub weight: f64,
    /// `data-source`: `population` or `personal`.
    pub source: String,
}

/// A returning user's stored profile: a learned resting baseline (60 bpm, RMSSD 39 ms, as in
/// [`rest_phase`]) and 16 earlier mood statements whose stated arousal followed the heart's reading
/// (r about 0.97), made two minutes apart a day ago, in the app's storage format.
pub fn calibrated_profile_json(now_ms: f64) -> Result<String> {
    use attune_engine::emotion::Axis;
    use attune_engine::heart::{ArousalEstimate, HeartBaseline, HeartCalibration, Recorded};
    let baseline = HeartBaseline::from_json(
        r#"{"schema":1,"bpm":60.5,"bpm_learned_ms":120000,"rmssd_ms":39.0,"rmssd_learned_ms":120000}"#,
    )
    .map_err(anyhow::Error::msg)?;
    let mut calibration = HeartCalibration::default();
    for i in 0..16 {
        let heart = -0.6 + 1.2 * i as f32 / 15.0;
        let stated = 0.9 * heart + if i % 2 == 0 { 0.08 } else { -0.08 };
        let reading = ArousalEstimate::steady(heart, 1.0);
        let at = now_ms - 86_400_000.0 + f64::from(i) * 120_000.0;
        let r = calibration.record(at, Some(&reading), Axis::clamped(stated));
        ensure!(r == Recorded::Added, "seed pair {i}: {r:?}");
    }
    let profile = attune_engine::Profile {
        heart_baseline: Some(baseline),
        heart_calibration: calibration,
        ..Default::default()
    };
    Ok(profile.to_json())
}

impl Harness {
    /// The `#hr-calibration` line.
    pub async fn calibration(&self) -> Result<CalibrationView> {
        let v = self
            .js(
                "(() => { const d = document.querySelector('#hr-calibration')?.dataset ?? {}; \
                 return [d.pairs ?? '', d.weight ?? '', d.source ?? '']; })()",
            )
            .await?;
        let f = |i: usize| v[i].as_str().unwrap_or_default().to_string();
        Ok(CalibrationView {
            pairs: f(0)
                .parse()
                .with_context(|| format!("#hr-calibration[data-pairs] = {v}"))?,
            weight: f(1)
                .parse()
                .with_context(|| format!("#hr-calibration[data-weight] = {v}"))?,
            source: f(2),
        })
    }

    /// Opens the app as the returning user of [`calibrated_profile_json`].
    pub async fn open_as_calibrated_wearer(&mut self) -> Result<()> {
        self.open().await?;
        self.wait_ready().await?;
        let now = self
            .js("Date.now()")
            .await?
            .as_f64()
            .context("Date.now()")?;
        self.seed_profile(&calibrated_profile_json(now)?).await
    }

    /// Stores `profile` as the app's saved profile and reloads, as a returning user would arrive.
    pub async fn seed_profile(&mut self, profile: &str) -> Result<()> {
        let key = serde_json::to_string("attune.profile")?;
        let value = serde_json::to_string(profile)?;
        self.js(&format!("(localStorage.setItem({key}, {value}), true)"))
            .await?;
        self.reload().await?;
        self.wait_ready().await
    }
}
