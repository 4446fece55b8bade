//! Heart Rate Measurement (0x2A37) packets from other open-source parsers' published unit tests,
//! copied byte for byte with the values those tests expect, run through `parse_measurement`.
//!
//! Each block names the repository and file the vectors come from. Their parsers report things
//! in their own terms; the mapping to ours is stated where it is not the identity:
//! - contact: "not supported" / `null` -> `NotSupported`, supported but not in contact / `false` ->
//!   `NotDetected`, in contact / `true` -> `Detected`;
//! - RR intervals: ours are the raw wire values in 1/1024 s. Where a source reports milliseconds
//!   it is `RR_ms = raw * 1000 / 1024` (blevalueparser truncates to an integer, so we compare
//!   with `RrInterval::millis().floor()`); where it reports seconds it is `raw / 1024`;
//! - energy expended: kJ in every source, as in ours.
//!
//! Where a source and this parser disagree on whether a packet is valid, the test asserts our
//! behaviour and says why.
#![cfg(not(target_arch = "wasm32"))]

use attune_engine::heart::{
    parse_measurement, HeartRateMeasurement, PacketError, RrInterval, SensorContact,
};

/// What a source's test expects of a packet it accepts.
struct Expect {
    bpm: u16,
    contact: SensorContact,
    energy_kj: Option<u16>,
    /// RR intervals, raw wire values (1/1024 s).
    rr: &'static [u16],
}

/// Parses `bytes`, asserts every field against `want`, and returns the measurement.
fn accepts(case: &str, bytes: &[u8], want: &Expect) -> HeartRateMeasurement {
    let m =
        parse_measurement(bytes).unwrap_or_else(|e| panic!("{case}: {bytes:02x?} rejected: {e}"));
    assert_eq!(m.value.raw_bpm(), want.bpm, "{case}: bpm");
    assert_eq!(m.contact, want.contact, "{case}: contact");
    assert_eq!(m.energy_expended_kj, want.energy_kj, "{case}: energy");
    let rr: Vec<u16> = m.rr_intervals.iter().map(|r| r.0).collect();
    assert_eq!(rr, want.rr, "{case}: RR");
    // The RR flag is set exactly when RR values are present, so the packet is canonical.
    assert_eq!(
        bytes[0] & 0x10 != 0,
        !want.rr.is_empty(),
        "{case}: flag bit 4"
    );
    m
}

fn rejects(case: &str, bytes: &[u8], want: PacketError) {
    assert_eq!(parse_measurement(bytes), Err(want), "{case}: {bytes:02x?}");
}

/// Milliseconds as blevalueparser reports them: `raw * 1000 / 1024`, truncated.
fn floor_ms(m: &HeartRateMeasurement) -> Vec<u32> {
    m.rr_intervals
        .iter()
        .map(|r| r.millis().floor() as u32)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// NordicSemiconductor/Android-BLE-Common-Library,
// ble-common/src/test/java/no/nordicsemi/android/ble/common/callback/hr/HeartRateMeasurementDataCallbackTest.java
// (the parser: ble-common/src/main/java/no/nordicsemi/android/ble/common/callback/hr/HeartRateMeasurementDataCallback.java).
// Nordic reports RR in raw 1/1024 s units, energy in kJ, contact as a nullable Boolean.
// ---------------------------------------------------------------------------------------------

#[test]
fn nordic_android_ble_common_library() {
    // onHeartRateMeasurementReceived_simple: { 0, 85 }
    accepts(
        "nordic simple",
        &[0, 85],
        &Expect {
            bpm: 85,
            contact: SensorContact::NotSupported,
            energy_kj: None,
            rr: &[],
        },
    );
    // onHeartRateMeasurementReceived_noContact: { 0x4, (byte) 0xFF }
    accepts(
        "nordic noContact",
        &[0x4, 0xFF],
        &Expect {
            bpm: 255,
            contact: SensorContact::NotDetected,
            energy_kj: None,
            rr: &[],
        },
    );
    // onHeartRateMeasurementReceived_uint8: { 0b11110, 85, 50, 0, 33, 0 }
    accepts(
        "nordic uint8",
        &[0b11110, 85, 50, 0, 33, 0],
        &Expect {
            bpm: 85,
            contact: SensorContact::Detected,
            energy_kj: Some(50),
            rr: &[33],
        },
    );
    // onHeartRateMeasurementReceived_uint16:
    // { 0b11111, 1, 1, 50, 1, 1, 0, 2, 1, (byte) 0xFF, (byte) 0xFF }
    accepts(
        "nordic uint16",
        &[0b11111, 1, 1, 50, 1, 1, 0, 2, 1, 0xFF, 0xFF],
        &Expect {
            bpm: 257,
            contact: SensorContact::Detected,
            energy_kj: Some(306),
            rr: &[1, 258, 65535],
        },
    );
    // onInvalidDataReceived: { 0b10111, 1, 1 }: a 16-bit value (257) with the RR flag set and no
    // RR bytes. Nordic requires at least 2 RR bytes when bit 4 is set and calls this invalid; so
    // do we, with the reason.
    rejects(
        "nordic invalid",
        &[0b10111, 1, 1],
        PacketError::RrFlagWithoutIntervals,
    );
}

// ---------------------------------------------------------------------------------------------
// movisens/SmartGattLib, src/test/java/HeartRateMeasurementTest.java
// (the parser: src/main/java/com/movisens/smartgattlib/characteristics/HeartRateMeasurement.java,
// which reports RR in seconds as raw / 1024F and energy as -1 when absent).
// ---------------------------------------------------------------------------------------------

#[test]
fn movisens_smartgattlib() {
    // testHR: hexStringToByteArray("16485401EC02")
    let m = accepts(
        "smartgattlib testHR",
        &[0x16, 0x48, 0x54, 0x01, 0xEC, 0x02],
        &Expect {
            bpm: 72,
            // SensorWorn.WORN
            contact: SensorContact::Detected,
            // getEe() == -1: not available
            energy_kj: None,
            rr: &[0x0154, 0x02EC],
        },
    );
    // getRrInterval() == [0.33203125, 0.73046875] seconds; both are exact in binary, so the
    // comparison in milliseconds is exact too.
    let ms: Vec<f64> = m.rr_intervals.iter().map(|r| r.millis()).collect();
    assert_eq!(ms, vec![0.332_031_25 * 1000.0, 0.730_468_75 * 1000.0]);
}

// ---------------------------------------------------------------------------------------------
// OpenTracksApp/OpenTracks,
// src/androidTest/java/de/dennisguse/opentracks/sensors/BluetoothConnectionManagerHeartRateTest.java
// (heart rate only; that test checks nothing else).
// ---------------------------------------------------------------------------------------------

#[test]
fn opentracks() {
    // parseHeartRate_uint8: { 0x02, 0x3C } -> HeartRate.of(60). Flags 0x02 is the contact-status
    // bit without the contact-supported bit: "not supported" here (bits 1-2 = 0b01).
    accepts(
        "opentracks uint8",
        &[0x02, 0x3C],
        &Expect {
            bpm: 60,
            contact: SensorContact::NotSupported,
            energy_kj: None,
            rr: &[],
        },
    );
    // parseHeartRate_uint16: { 0x01, 0x01, 0x01 } -> HeartRate.of(257)
    accepts(
        "opentracks uint16",
        &[0x01, 0x01, 0x01],
        &Expect {
            bpm: 257,
            contact: SensorContact::NotSupported,
            energy_kj: None,
            rr: &[],
        },
    );
}

// ---------------------------------------------------------------------------------------------
// eisaev/blevalueparser, tests/heartratemeasurementtest.cpp (the version with both
// `rrIntervals()` in ms and `getBtSpecObject().rrIntervals` raw; the parser:
// include/blevalueparser/heartratemeasurement.h, ms = raw * 1000 / 1024 in integer arithmetic).
// Test names are theirs. Some of their "N+1th RR-Interval should be ignored" cases carry the
// same bytes as the case before them in that file; they are copied as they are.
// ---------------------------------------------------------------------------------------------

/// 0x01A1, 0x01A2, ... as raw RR values, the runs blevalueparser's tests use.
const A1_RUN: [u16; 9] = [
    0x01A1, 0x01A2, 0x01A3, 0x01A4, 0x01A5, 0x01A6, 0x01A7, 0x01A8, 0x01A9,
];
/// Their expected milliseconds for `A1_RUN`.
const A1_RUN_MS: [u32; 9] = [407, 408, 409, 410, 411, 412, 413, 414, 415];

#[test]
fn blevalueparser_without_rr() {
    let cases: &[(&str, &[u8], Expect)] = &[
        (
            "ContactsSupportedNotConnected",
            &[0b00000100, 0xAA],
            Expect {
                bpm: 0xAA,
                contact: SensorContact::NotDetected,
                energy_kj: None,
                rr: &[],
            },
        ),
        (
            "ContactsSupportedConnected",
            &[0b00000110, 0xAA],
            Expect {
                bpm: 0xAA,
                contact: SensorContact::Detected,
                energy_kj: None,
                rr: &[],
            },
        ),
        (
            "HR8",
            &[0b00000000, 0xAA],
            Expect {
                bpm: 0xAA,
                contact: SensorContact::NotSupported,
                energy_kj: None,
                rr: &[],
            },
        ),
        (
            "HR16",
            &[0b00000001, 0xAA, 0x01],
            Expect {
                bpm: 0x01AA,
                contact: SensorContact::NotSupported,
                energy_kj: None,
                rr: &[],
            },
        ),
        (
            "HR8_EE",
            &[0b00001000, 0xAA, 0xBB, 0x01],
            Expect {
                bpm: 0xAA,
                contact: SensorContact::NotSupported,
                energy_kj: Some(0x01BB),
                rr: &[],
            },
        ),
        (
            "HR16_EE",
            &[0b00001001, 0xAA, 0x01, 0xBB, 0x01],
            Expect {
                bpm: 0x01AA,
                contact: SensorContact::NotSupported,
                energy_kj: Some(0x01BB),
                rr: &[],
            },
        ),
    ];
    // Their toString for these reads 170 bpm, 426 bpm and 443 kJ: 0xAA, 0x01AA, 0x01BB.
    for (name, bytes, want) in cases {
        accepts(&format!("blevalueparser {name}"), bytes, want);
    }
}

#[test]
fn blevalueparser_with_rr() {
    // (name, bytes, bpm, energy, raw RR, their RR in ms)
    type Case = (
        &'static str,
        &'static [u8],
        u16,
        Option<u16>,
        &'static [u16],
        &'static [u32],
    );
    let cases: &[Case] = &[
        (
            "HR8_EE_RR1",
            &[0b00011000, 0xAA, 0xBB, 0x01, 0xCC, 0x01],
            0xAA,
            Some(0x01BB),
            &[0x01CC],
            &[449],
        ),
        (
            "HR8_RR9",
            &[
                0b00010000, 0xAA, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0xF3, 0x03, 0xFC,
                0xFF, 0xFD, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF,
            ],
            0xAA,
            None,
            &[
                0x0000, 0x0001, 0x0002, 0x0003, 0x03F3, 0xFFFC, 0xFFFD, 0xFFFE, 0xFFFF,
            ],
            &[0, 0, 1, 2, 987, 63996, 63997, 63998, 63999],
        ),
        (
            "HR8_RR10",
            &[
                0b00010000, 0xAA, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01, 0xA5, 0x01, 0xA6,
                0x01, 0xA7, 0x01, 0xA8, 0x01, 0xA9, 0x01,
            ],
            0xAA,
            None,
            &A1_RUN,
            &A1_RUN_MS,
        ),
        (
            "HR8_EE_RR8",
            &[
                0b00011000, 0xAA, 0xBB, 0x01, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01, 0xA5,
                0x01, 0xA6, 0x01, 0xA7, 0x01, 0xA8, 0x01,
            ],
            0xAA,
            Some(0x01BB),
            &A1_RUN[..8],
            &A1_RUN_MS[..8],
        ),
        (
            "HR8_EE_RR9",
            &[
                0b00011000, 0xAA, 0xBB, 0x01, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01, 0xA5,
                0x01, 0xA6, 0x01, 0xA7, 0x01, 0xA8, 0x01,
            ],
            0xAA,
            Some(0x01BB),
            &A1_RUN[..8],
            &A1_RUN_MS[..8],
        ),
        (
            "HR16_RR8",
            &[
                0b00010001, 0xAA, 0x01, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01, 0xA5, 0x01,
                0xA6, 0x01, 0xA7, 0x01, 0xA8, 0x01,
            ],
            0x01AA,
            None,
            &A1_RUN[..8],
            &A1_RUN_MS[..8],
        ),
        (
            "HR16_RR9",
            &[
                0b00010001, 0xAA, 0x01, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01, 0xA5, 0x01,
                0xA6, 0x01, 0xA7, 0x01, 0xA8, 0x01,
            ],
            0x01AA,
            None,
            &A1_RUN[..8],
            &A1_RUN_MS[..8],
        ),
        (
            "HR16_EE_RR7",
            &[
                0b00011001, 0xAA, 0x01, 0xBB, 0x01, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01,
                0xA5, 0x01, 0xA6, 0x01, 0xA7, 0x01,
            ],
            0x01AA,
            Some(0x01BB),
            &A1_RUN[..7],
            &A1_RUN_MS[..7],
        ),
        (
            "HR16_EE_RR8",
            &[
                0b00011001, 0xAA, 0x01, 0xBB, 0x01, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01,
                0xA5, 0x01, 0xA6, 0x01, 0xA7, 0x01,
            ],
            0x01AA,
            Some(0x01BB),
            &A1_RUN[..7],
            &A1_RUN_MS[..7],
        ),
        (
            "ToString",
            &[
                0b00011001, 0xAA, 0x01, 0xBB, 0x01, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01,
                0xA5, 0x01, 0xA6, 0x01, 0xA7, 0x01,
            ],
            0x01AA,
            Some(0x01BB),
            &A1_RUN[..7],
            &A1_RUN_MS[..7],
        ),
    ];
    for &(name, bytes, bpm, energy_kj, rr, ms) in cases {
        let case = format!("blevalueparser {name}");
        let m = accepts(
            &case,
            bytes,
            &Expect {
                bpm,
                contact: SensorContact::NotSupported,
                energy_kj,
                rr,
            },
        );
        assert_eq!(floor_ms(&m), ms, "{case}: RR in ms");
    }
}

#[test]
fn blevalueparser_rejections_and_the_one_disagreement() {
    // TooShort: { flags = 0b00000000 } -- no heart-rate value.
    rejects(
        "blevalueparser TooShort",
        &[0b00000000],
        PacketError::TruncatedValue { needed: 1, got: 0 },
    );
    // BrokenPacket: { flags = 0b00000001, 0xAA } -- a 16-bit value cut to one byte.
    rejects(
        "blevalueparser BrokenPacket",
        &[0b00000001, 0xAA],
        PacketError::TruncatedValue { needed: 2, got: 1 },
    );
    // TooLong: 16-bit value, energy, 8 RR values = 21 bytes. blevalueparser rejects every packet
    // over 20 bytes (`checkSize`: size < 21), the payload of one notification at the default
    // ATT MTU of 23. The characteristic's format sets no count on RR values and a strap that
    // negotiated a larger MTU can send more, so this parser accepts it (a documented decision
    // in `heart::measurement`): every field is where the flags say and nothing is left over.
    let too_long = [
        0b00011001, 0xAA, 0x01, 0xBB, 0x01, 0xA1, 0x01, 0xA2, 0x01, 0xA3, 0x01, 0xA4, 0x01, 0xA5,
        0x01, 0xA6, 0x01, 0xA7, 0x01, 0xA8, 0x01,
    ];
    assert_eq!(too_long.len(), 21);
    let m = accepts(
        "blevalueparser TooLong",
        &too_long,
        &Expect {
            bpm: 0x01AA,
            contact: SensorContact::NotSupported,
            energy_kj: Some(0x01BB),
            rr: &A1_RUN[..8],
        },
    );
    assert_eq!(m.encode(), too_long);
}

/// The spec-strict rule itself: bit 4 means "one or more RR-Interval values are present". No
/// source above publishes a vector that it accepts and we reject; these are the shapes such a
/// packet takes (after an 8-bit value, a 16-bit value, an energy field), all rejected with the
/// reason, while the same packets with the flag clear parse.
#[test]
fn rr_flag_without_intervals_is_rejected() {
    for bytes in [
        &[0x10u8, 72][..],
        &[0x16, 72],
        &[0x11, 0x2C, 0x01],
        &[0x18, 72, 0x32, 0x00],
        &[0x1F, 0x2C, 0x01, 0x32, 0x00],
    ] {
        rejects(
            &format!("{bytes:02x?}"),
            bytes,
            PacketError::RrFlagWithoutIntervals,
        );
        let mut clear = bytes.to_vec();
        clear[0] &= !0x10;
        let m = parse_measurement(&clear).expect("the same packet without the RR flag");
        assert!(m.rr_intervals.is_empty());
        assert_eq!(m.encode(), clear);
    }
    assert!(PacketError::RrFlagWithoutIntervals
        .to_string()
        .contains("one or more"));
    // One RR value is enough.
    assert_eq!(
        parse_measurement(&[0x10, 72, 0x00, 0x04])
            .unwrap()
            .rr_intervals,
        vec![RrInterval(1024)]
    );
}
