//! The GATT Heart Rate Measurement characteristic (UUID 0x2A37), as a strap notifies it.
//!
//! Layout (little-endian), from the Heart Rate Service specification:
//!
//! | bytes | field | present when |
//! |---|---|---|
//! | 1 | flags | always |
//! | 1 or 2 | heart rate, bpm (`u8`, or `u16` when flag bit 0 is set) | always |
//! | 2 | energy expended, kJ (`u16`) | flag bit 3 |
//! | 2 each | RR intervals, 1/1024 s (`u16`), oldest first, one or more | flag bit 4 |
//!
//! Flag bits 1-2 are the sensor-contact status (0b0x: not supported, 0b10: supported but not in
//! contact, 0b11: in contact).
//!
//! Decisions where the specification leaves room (each one is tested):
//! - **Reserved flag bits 5-7 are ignored**, as the Bluetooth Core specification asks of receivers
//!   for every "reserved for future use" field; they are not an error.
//! - **A heart rate of 0 parses.** The value is well-formed on the wire and some straps send 0 while
//!   they have no reading; [`HeartRateMeasurement::bpm`] returns `None` for it and the signal chain
//!   treats it as "no reading", never as a beat.
//! - **The RR flag with no RR bytes is an error** ([`PacketError::RrFlagWithoutIntervals`]). The
//!   Heart Rate Service specification defines bit 4 as "one or more RR-Interval values are
//!   present", so a packet that sets it and carries none is not what its flags say; Nordic's
//!   Android BLE library rejects it too. (Cross-checked against other parsers' published test
//!   vectors in `engine/tests/heart_vectors.rs`.) [`HeartRateMeasurement::encode`] never writes
//!   such a packet: with no RR intervals it leaves the flag clear.
//! - **Bytes after the last announced field are an error** ([`PacketError::TrailingBytes`]), and an
//!   odd number of RR bytes is an error ([`PacketError::OddRrBytes`]): the packet is not what its flags
//!   say, so none of it is trusted.
//! - **No cap on the number of RR values.** Nine fit in the 20-byte payload of the default
//!   ATT MTU, but the characteristic's format sets no count and a larger MTU carries more.
//! - RR values are not range-checked here (0 is a well-formed `u16`); plausibility is the signal
//!   chain's job ([`crate::heart::signal`]).

use serde::{Deserialize, Serialize};
use thiserror::Error;

const FLAG_U16: u8 = 0x01;
const FLAG_CONTACT_DETECTED: u8 = 0x02;
const FLAG_CONTACT_SUPPORTED: u8 = 0x04;
const FLAG_ENERGY: u8 = 0x08;
const FLAG_RR: u8 = 0x10;

/// Whether the strap reports skin contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SensorContact {
    /// The strap does not report contact (flag bits 1-2 = 0b00 or 0b01).
    NotSupported,
    /// Contact is reported and absent (0b10): readings are not to be trusted.
    NotDetected,
    /// Contact is reported and present (0b11).
    Detected,
}

/// The heart-rate value together with its wire width, so that encoding reproduces the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HeartRateValue {
    /// An 8-bit value (flag bit 0 clear).
    U8(u8),
    /// A 16-bit value (flag bit 0 set).
    U16(u16),
}

impl HeartRateValue {
    /// The value in beats per minute (0 means "no reading" on many straps).
    pub fn raw_bpm(self) -> u16 {
        match self {
            HeartRateValue::U8(b) => u16::from(b),
            HeartRateValue::U16(b) => b,
        }
    }
}

/// One RR interval (the time between two successive R waves) in units of 1/1024 s, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RrInterval(pub u16);

impl RrInterval {
    /// Ticks per second on the wire.
    pub const TICKS_PER_SECOND: f64 = 1024.0;

    /// The interval in milliseconds.
    pub fn millis(self) -> f64 {
        f64::from(self.0) * 1000.0 / Self::TICKS_PER_SECOND
    }

    /// The nearest wire value for a duration in milliseconds; `None` if it does not fit in a `u16`
    /// (64 s) or is negative or not finite.
    pub fn from_millis(ms: f64) -> Option<RrInterval> {
        let ticks = (ms * Self::TICKS_PER_SECOND / 1000.0).round();
        (ticks.is_finite() && (0.0..=f64::from(u16::MAX)).contains(&ticks))
            .then_some(RrInterval(ticks as u16))
    }
}

/// One decoded Heart Rate Measurement notification.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HeartRateMeasurement {
    /// The heart rate and its wire width.
    pub value: HeartRateValue,
    /// Skin-contact status.
    pub contact: SensorContact,
    /// Cumulative energy expended in kJ, when the strap sends it.
    pub energy_expended_kj: Option<u16>,
    /// RR intervals in this notification, oldest first (possibly none: then the RR flag is clear
    /// on the wire).
    pub rr_intervals: Vec<RrInterval>,
}

impl HeartRateMeasurement {
    /// The heart rate in bpm, or `None` when the strap sent 0 ("no reading").
    pub fn bpm(&self) -> Option<u16> {
        Some(self.value.raw_bpm()).filter(|&b| b > 0)
    }

    /// Encodes the measurement as the characteristic's bytes (reserved flag bits clear).
    /// `parse_measurement(&m.encode()) == Ok(m)` for every `m`.
    pub fn encode(&self) -> Vec<u8> {
        let mut flags = 0u8;
        if matches!(self.value, HeartRateValue::U16(_)) {
            flags |= FLAG_U16;
        }
        flags |= match self.contact {
            SensorContact::NotSupported => 0,
            SensorContact::NotDetected => FLAG_CONTACT_SUPPORTED,
            SensorContact::Detected => FLAG_CONTACT_SUPPORTED | FLAG_CONTACT_DETECTED,
        };
        if self.energy_expended_kj.is_some() {
            flags |= FLAG_ENERGY;
        }
        // The flag means "one or more RR values follow": never set it for an empty list.
        if !self.rr_intervals.is_empty() {
            flags |= FLAG_RR;
        }
        let mut out = Vec::with_capacity(5 + 2 * self.rr_intervals.len());
        out.push(flags);
        match self.value {
            HeartRateValue::U8(b) => out.push(b),
            HeartRateValue::U16(b) => out.extend_from_slice(&b.to_le_bytes()),
        }
        if let Some(e) = self.energy_expended_kj {
            out.extend_from_slice(&e.to_le_bytes());
        }
        for rr in &self.rr_intervals {
            out.extend_from_slice(&rr.0.to_le_bytes());
        }
        out
    }
}

/// Why a packet is not a valid Heart Rate Measurement. Parsing never panics on any input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    /// No bytes at all (not even the flags).
    #[error("empty heart-rate packet: not even the flags byte")]
    Empty,
    /// The heart-rate value is cut short.
    #[error("heart-rate value truncated: the flags announce a {needed}-byte value, {got} byte(s) follow")]
    TruncatedValue {
        /// Bytes the flags announce (1 or 2).
        needed: usize,
        /// Bytes present after the flags.
        got: usize,
    },
    /// The energy-expended field is cut short.
    #[error("energy-expended field truncated: the flags announce 2 bytes, {got} follow")]
    TruncatedEnergy {
        /// Bytes present where the field should be (0 or 1).
        got: usize,
    },
    /// The flags announce RR intervals (bit 4) but no bytes follow: the Heart Rate Service
    /// specification defines the flag as "one or more RR-Interval values are present".
    #[error(
        "the flags announce RR intervals (bit 4) but none follow; the Heart Rate Service \
         requires one or more when the flag is set"
    )]
    RrFlagWithoutIntervals,
    /// The RR-interval field is not a whole number of 2-byte values.
    #[error("RR-interval field has {len} bytes, not a multiple of 2")]
    OddRrBytes {
        /// Length of the RR field in bytes.
        len: usize,
    },
    /// Bytes follow the last field the flags announce.
    #[error(
        "{count} unexpected byte(s) after the last field (the flags announce no RR intervals)"
    )]
    TrailingBytes {
        /// How many bytes are left over.
        count: usize,
    },
}

/// Parses one Heart Rate Measurement notification. Total: returns `Ok` or a reason for any input.
pub fn parse_measurement(bytes: &[u8]) -> Result<HeartRateMeasurement, PacketError> {
    let (&flags, rest) = bytes.split_first().ok_or(PacketError::Empty)?;
    let (value, rest) = if flags & FLAG_U16 != 0 {
        match rest {
            [a, b, tail @ ..] => (HeartRateValue::U16(u16::from_le_bytes([*a, *b])), tail),
            _ => {
                return Err(PacketError::TruncatedValue {
                    needed: 2,
                    got: rest.len(),
                })
            }
        }
    } else {
        match rest {
            [a, tail @ ..] => (HeartRateValue::U8(*a), tail),
            [] => return Err(PacketError::TruncatedValue { needed: 1, got: 0 }),
        }
    };
    let contact = match (
        flags & FLAG_CONTACT_SUPPORTED != 0,
        flags & FLAG_CONTACT_DETECTED != 0,
    ) {
        (false, _) => SensorContact::NotSupported,
        (true, false) => SensorContact::NotDetected,
        (true, true) => SensorContact::Detected,
    };
    let (energy_expended_kj, rest) = if flags & FLAG_ENERGY != 0 {
        match rest {
            [a, b, tail @ ..] => (Some(u16::from_le_bytes([*a, *b])), tail),
            _ => return Err(PacketError::TruncatedEnergy { got: rest.len() }),
        }
    } else {
        (None, rest)
    };
    let rr_intervals = if flags & FLAG_RR != 0 {
        if rest.is_empty() {
            return Err(PacketError::RrFlagWithoutIntervals);
        }
        if rest.len() % 2 != 0 {
            return Err(PacketError::OddRrBytes { len: rest.len() });
        }
        rest.chunks_exact(2)
            .map(|c| RrInterval(u16::from_le_bytes([c[0], c[1]])))
            .collect()
    } else if !rest.is_empty() {
        return Err(PacketError::TrailingBytes { count: rest.len() });
    } else {
        Vec::new()
    };
    Ok(HeartRateMeasurement {
        value,
        contact,
        energy_expended_kj,
        rr_intervals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_polar_style_packet() {
        // flags 0x16: u8 value, contact detected, RR present; 72 bpm; RR 0x0340 (832/1024 s) and 0x0320.
        let m = parse_measurement(&[0x16, 72, 0x40, 0x03, 0x20, 0x03]).unwrap();
        assert_eq!(m.value, HeartRateValue::U8(72));
        assert_eq!(m.bpm(), Some(72));
        assert_eq!(m.contact, SensorContact::Detected);
        assert_eq!(m.energy_expended_kj, None);
        assert_eq!(m.rr_intervals, vec![RrInterval(832), RrInterval(800)]);
        assert!((m.rr_intervals[0].millis() - 812.5).abs() < 1e-9);
    }

    #[test]
    fn parses_u16_value_energy_and_contact_states() {
        let m = parse_measurement(&[0x0D, 0x2C, 0x01, 0x34, 0x12]).unwrap();
        assert_eq!(m.value, HeartRateValue::U16(300));
        assert_eq!(m.contact, SensorContact::NotDetected);
        assert_eq!(m.energy_expended_kj, Some(0x1234));
        assert!(m.rr_intervals.is_empty());
        // 0b01 in bits 1-2 is "not supported" too.
        assert_eq!(
            parse_measurement(&[0x02, 60]).unwrap().contact,
            SensorContact::NotSupported
        );
        assert_eq!(
            parse_measurement(&[0x00, 60]).unwrap().contact,
            SensorContact::NotSupported
        );
    }

    #[test]
    fn documented_decisions_hold() {
        // Reserved bits 5-7 are ignored.
        assert_eq!(
            parse_measurement(&[0xE0, 60]).unwrap(),
            parse_measurement(&[0x00, 60]).unwrap()
        );
        // bpm 0 parses but is "no reading".
        assert_eq!(parse_measurement(&[0x00, 0]).unwrap().bpm(), None);
        // RR flag with no RR bytes: rejected ("one or more RR-Interval values are present").
        assert_eq!(
            parse_measurement(&[0x10, 60]),
            Err(PacketError::RrFlagWithoutIntervals)
        );
        // The same after a 16-bit value and an energy field.
        assert_eq!(
            parse_measurement(&[0x19, 0x2C, 0x01, 0x34, 0x12]),
            Err(PacketError::RrFlagWithoutIntervals)
        );
        // And encoding an empty list leaves the flag clear, so it always parses back.
        let m = HeartRateMeasurement {
            value: HeartRateValue::U8(60),
            contact: SensorContact::Detected,
            energy_expended_kj: Some(7),
            rr_intervals: Vec::new(),
        };
        let bytes = m.encode();
        assert_eq!(bytes[0] & FLAG_RR, 0);
        assert_eq!(parse_measurement(&bytes), Ok(m));
    }

    #[test]
    fn malformed_packets_are_rejected_with_a_reason() {
        use PacketError::*;
        let cases: &[(&[u8], PacketError)] = &[
            (&[], Empty),
            (&[0x00], TruncatedValue { needed: 1, got: 0 }),
            (&[0x01, 0x48], TruncatedValue { needed: 2, got: 1 }),
            (&[0x08, 60, 0x01], TruncatedEnergy { got: 1 }),
            (&[0x08, 60], TruncatedEnergy { got: 0 }),
            (&[0x10, 60], RrFlagWithoutIntervals),
            (&[0x18, 60, 1, 2], RrFlagWithoutIntervals),
            (&[0x10, 60, 0x40], OddRrBytes { len: 1 }),
            (&[0x10, 60, 0x40, 0x03, 0x20], OddRrBytes { len: 3 }),
            (&[0x00, 60, 0x40], TrailingBytes { count: 1 }),
            (&[0x08, 60, 1, 2, 3, 4], TrailingBytes { count: 2 }),
        ];
        for (bytes, want) in cases {
            assert_eq!(parse_measurement(bytes).as_ref(), Err(want), "{bytes:?}");
            assert!(!want.to_string().is_empty());
        }
    }

    #[test]
    fn encode_reproduces_canonical_packets() {
        for bytes in [
            &[0x16u8, 72, 0x40, 0x03, 0x20, 0x03][..],
            &[0x0D, 0x2C, 0x01, 0x34, 0x12],
            &[0x1F, 0x2C, 0x01, 0x00, 0x00, 0xFF, 0xFF],
            &[0x00, 0],
        ] {
            assert_eq!(parse_measurement(bytes).unwrap().encode(), bytes);
        }
    }

    #[test]
    fn rr_millis_conversion_round_trips() {
        for ms in [300.0, 812.5, 1000.0, 1999.0] {
            let rr = RrInterval::from_millis(ms).unwrap();
            assert!((rr.millis() - ms).abs() <= 0.5, "{ms} -> {}", rr.millis());
        }
        assert_eq!(RrInterval::from_millis(1000.0), Some(RrInterval(1024)));
        assert_eq!(RrInterval::from_millis(-5.0), None);
        assert_eq!(RrInterval::from_millis(f64::NAN), None);
        assert_eq!(RrInterval::from_millis(70_000.0), None);
    }
}
