//! The "simulated strap": a recorded RR series replayed as Heart Rate Measurement packets.
//!
//! The series is a text file of RR intervals in whole milliseconds (`public/demo/rr-sample.txt`:
//! `#` comment lines, then integers separated by white space). [`Replay`] turns it into one packet
//! per second of replay time, each carrying the RR intervals of the beats that fell in that second
//! (as a real strap does) and an 8-bit heart rate computed from them. It is deterministic: the same
//! series and start time give the same packets, byte for byte.

use crate::heart::measurement::{HeartRateMeasurement, HeartRateValue, RrInterval, SensorContact};
use thiserror::Error;

/// Replay time between packets.
pub const PACKET_PERIOD_MS: u64 = 1000;
/// Most packets [`Replay::due`] returns per call (a long-suspended tab catches up over several calls).
pub const MAX_DUE: usize = 120;

/// Why an RR text file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RrSeriesError {
    /// A token is not a whole number of milliseconds that fits in 16 bits.
    #[error("line {line}: {token:?} is not an RR interval in whole milliseconds (1..=65535)")]
    BadValue {
        /// 1-based line number.
        line: usize,
        /// The offending token.
        token: String,
    },
    /// The file holds no intervals.
    #[error("the RR series is empty")]
    Empty,
}

/// Parses an RR series: `#` starts a comment line; other lines hold integers in ms (1..=65535).
pub fn parse_rr_text(text: &str) -> Result<Vec<u16>, RrSeriesError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        for token in line.split_whitespace() {
            match token.parse::<u16>() {
                Ok(v) if v > 0 => out.push(v),
                _ => {
                    return Err(RrSeriesError::BadValue {
                        line: i + 1,
                        token: token.to_string(),
                    })
                }
            }
        }
    }
    if out.is_empty() {
        return Err(RrSeriesError::Empty);
    }
    Ok(out)
}

/// One replayed notification.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayPacket {
    /// When it is due, on the caller's clock (start time + k seconds).
    pub at_ms: f64,
    /// The 0x2A37 bytes, exactly as a strap would notify them.
    pub bytes: Vec<u8>,
}

/// Replays an RR series as packets, one per [`PACKET_PERIOD_MS`]. As an iterator it yields every
/// packet in order (forever when looping); [`Replay::due`] paces it against a clock.
#[derive(Debug, Clone)]
pub struct Replay {
    rr_ms: Vec<u16>,
    start_ms: f64,
    looping: bool,
    /// Index of the next beat to emit.
    pos: usize,
    /// Replay time of the last emitted beat, ms.
    clock_ms: u64,
    /// Packets emitted so far.
    tick: u64,
    last_rr: Option<u16>,
}

impl Replay {
    /// A replay of `rr_ms` whose first packet is due at `start_ms + 1000`. Plays once.
    pub fn new(rr_ms: Vec<u16>, start_ms: f64) -> Replay {
        Replay {
            rr_ms,
            start_ms,
            looping: false,
            pos: 0,
            clock_ms: 0,
            tick: 0,
            last_rr: None,
        }
    }

    /// Starts over from the beginning of the series when it ends (endless demo).
    pub fn looping(mut self) -> Replay {
        self.looping = true;
        self
    }

    /// Length of one pass through the series, in ms.
    pub fn duration_ms(&self) -> u64 {
        self.rr_ms.iter().map(|&r| u64::from(r)).sum()
    }

    /// When the next packet is due (`None` when a one-shot replay is over).
    pub fn next_due_ms(&self) -> Option<f64> {
        (!self.finished()).then(|| self.start_ms + ((self.tick + 1) * PACKET_PERIOD_MS) as f64)
    }

    /// The packets due by `now_ms`, oldest first (at most [`MAX_DUE`]).
    pub fn due(&mut self, now_ms: f64) -> Vec<ReplayPacket> {
        let mut out = Vec::new();
        while out.len() < MAX_DUE && self.next_due_ms().is_some_and(|t| t <= now_ms) {
            match self.next() {
                Some(p) => out.push(p),
                None => break,
            }
        }
        out
    }

    fn finished(&self) -> bool {
        self.rr_ms.is_empty() || (!self.looping && self.pos >= self.rr_ms.len())
    }
}

impl Iterator for Replay {
    type Item = ReplayPacket;

    fn next(&mut self) -> Option<ReplayPacket> {
        if self.finished() {
            return None;
        }
        self.tick += 1;
        let end = self.tick * PACKET_PERIOD_MS;
        let mut rrs = Vec::new();
        loop {
            if self.pos >= self.rr_ms.len() {
                if !self.looping {
                    break;
                }
                self.pos = 0;
            }
            let rr = self.rr_ms[self.pos];
            if self.clock_ms + u64::from(rr) > end {
                break;
            }
            self.clock_ms += u64::from(rr);
            self.pos += 1;
            rrs.push(rr);
        }
        if let Some(&last) = rrs.last() {
            self.last_rr = Some(last);
        }
        // Heart rate from this packet's beats; with none (a slow heart), from the latest beat.
        let mean_rr = if rrs.is_empty() {
            f64::from(
                self.last_rr
                    .or_else(|| self.rr_ms.get(self.pos).copied())
                    .unwrap_or(1000),
            )
        } else {
            rrs.iter().map(|&r| f64::from(r)).sum::<f64>() / rrs.len() as f64
        };
        let bpm = (60_000.0 / mean_rr).round().clamp(1.0, 255.0) as u8;
        let m = HeartRateMeasurement {
            value: HeartRateValue::U8(bpm),
            contact: SensorContact::Detected,
            energy_expended_kj: None,
            rr_intervals: rrs
                .iter()
                .filter_map(|&r| RrInterval::from_millis(f64::from(r)))
                .collect(),
        };
        Some(ReplayPacket {
            at_ms: self.start_ms + end as f64,
            bytes: m.encode(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heart::measurement::parse_measurement;

    #[test]
    fn parses_text_with_comments_and_rejects_junk() {
        let rr = parse_rr_text("# source: test\n# units: ms\n800 810\n 790\n\n").unwrap();
        assert_eq!(rr, vec![800, 810, 790]);
        assert_eq!(
            parse_rr_text("800\n8x0\n"),
            Err(RrSeriesError::BadValue {
                line: 2,
                token: "8x0".into()
            })
        );
        assert!(parse_rr_text("0").is_err());
        assert!(parse_rr_text("70000").is_err());
        assert!(parse_rr_text("-5").is_err());
        assert_eq!(parse_rr_text("# nothing\n"), Err(RrSeriesError::Empty));
    }

    #[test]
    fn packets_carry_the_beats_of_their_second() {
        let rr = vec![600, 600, 600, 1500, 700];
        let packets: Vec<_> = Replay::new(rr, 10_000.0).collect();
        let decoded: Vec<_> = packets
            .iter()
            .map(|p| parse_measurement(&p.bytes).unwrap())
            .collect();
        let ms = |i: usize| -> Vec<u16> {
            decoded[i]
                .rr_intervals
                .iter()
                .map(|r| r.millis().round() as u16)
                .collect()
        };
        // Beats at 600, 1200, 1800, 3300, 4000 ms.
        assert_eq!(packets.len(), 4);
        assert_eq!(packets[0].at_ms, 11_000.0);
        assert_eq!(ms(0), vec![600]);
        assert_eq!(ms(1), vec![600, 600]);
        assert_eq!(ms(2), Vec::<u16>::new());
        assert_eq!(ms(3), vec![1500, 700]);
        assert_eq!(decoded[1].bpm(), Some(100));
        assert_eq!(decoded[2].bpm(), Some(100), "no beat: the latest RR");
        assert_eq!(decoded[3].bpm(), Some(55));
        assert!(decoded.iter().all(|m| m.contact == SensorContact::Detected));
    }

    #[test]
    fn replay_is_deterministic_loops_and_paces() {
        let rr = vec![800, 820, 790, 810];
        let a: Vec<_> = Replay::new(rr.clone(), 0.0).looping().take(50).collect();
        let b: Vec<_> = Replay::new(rr.clone(), 0.0).looping().take(50).collect();
        assert_eq!(a, b);
        let beats: usize = a
            .iter()
            .map(|p| parse_measurement(&p.bytes).unwrap().rr_intervals.len())
            .sum();
        // 50 s at ~805 ms per beat.
        assert!((61..=63).contains(&beats), "{beats}");
        let mut r = Replay::new(rr, 0.0).looping();
        assert!(r.due(999.0).is_empty());
        assert_eq!(r.due(3000.0).len(), 3);
        assert_eq!(r.next_due_ms(), Some(4000.0));
        assert_eq!(r.due(1e12).len(), MAX_DUE);
        assert!(r.due(f64::NAN).is_empty());
        assert_eq!(Replay::new(Vec::new(), 0.0).looping().next(), None);
    }
}
