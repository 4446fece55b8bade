//! Per-user calibration of the heart's weight: does *this* wearer's heart follow the moods they
//! state?
//!
//! The population check (SiTunes, [`HEART_AROUSAL_R`]) found no link between heart rate and
//! reported arousal, so a new user's heart has no say ([`HEART_AROUSAL_WEIGHT`]). The same data
//! shows no sign that users differ (Cochran's Q below its degrees of freedom; see
//! `public/report/heart.md`), so nothing entitles a single user to more weight except their own
//! evidence, from their own strap. Each time the user states a mood on the plane while the strap
//! gives a trustworthy reading, the pair (heart arousal, stated arousal) is kept
//! ([`HeartCalibration::record`]). With at least [`MIN_PAIRS`] pairs the weight becomes the
//! user's own correlation at its one-sided 90% lower confidence bound (Fisher z):
//!
//! ```text
//! weight = clamp(tanh(atanh(r) - 1.2816 / sqrt(n - 3)), 0, 1)
//! ```
//!
//! so a heart that merely seems to agree with a few statements gets little or nothing, and one that
//! keeps agreeing earns weight as evidence accumulates. Statements less than [`MIN_PAIR_GAP_MS`]
//! apart replace each other (one adjustment, one pair), which keeps the pairs closer to the
//! independence the bound assumes. `model-export heart-rate evaluate` runs this rule on SiTunes users.

use crate::emotion::Axis;
use crate::heart::signal::{ArousalEstimate, HEART_AROUSAL_R, HEART_AROUSAL_WEIGHT};
use serde::{Deserialize, Serialize};

/// Pairs needed before the user's own correlation replaces the population weight.
pub const MIN_PAIRS: usize = 6;
/// Most pairs kept (oldest dropped first): about the last few weeks of a daily user.
pub const MAX_PAIRS: usize = 200;
/// Statements closer than this to the previous pair replace it.
pub const MIN_PAIR_GAP_MS: f64 = 60_000.0;
/// A reading must be at least this good ([`ArousalEstimate::quality`]) to be paired.
pub const MIN_PAIR_QUALITY: f32 = 0.5;
/// One-sided 90% normal quantile used for the lower confidence bound.
pub const LOWER_BOUND_Z: f64 = 1.281_551_6;
/// Schema of the stored calibration.
pub const CALIBRATION_SCHEMA: u32 = 1;

/// One stated mood and what the heart said at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPair {
    /// When the mood was stated (whole ms since the epoch).
    pub at_ms: f64,
    /// The heart's arousal reading, in [-1, 1].
    pub heart: f32,
    /// The stated arousal, in [-1, 1].
    pub stated: f32,
}

/// The user's pairs, oldest first. Deserialising validates every pair, so a tampered copy is an
/// error, never NaN.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "CalibrationRepr", into = "CalibrationRepr")]
pub struct HeartCalibration {
    pairs: Vec<CalibrationPair>,
}

#[derive(Serialize, Deserialize)]
struct CalibrationRepr {
    schema: u32,
    pairs: Vec<CalibrationPair>,
}

impl From<HeartCalibration> for CalibrationRepr {
    fn from(c: HeartCalibration) -> Self {
        CalibrationRepr {
            schema: CALIBRATION_SCHEMA,
            pairs: c.pairs,
        }
    }
}

impl TryFrom<CalibrationRepr> for HeartCalibration {
    type Error = String;
    fn try_from(r: CalibrationRepr) -> Result<Self, String> {
        if r.schema != CALIBRATION_SCHEMA {
            return Err(format!(
                "heart calibration schema {} is not supported (this build reads {CALIBRATION_SCHEMA})",
                r.schema
            ));
        }
        if r.pairs.len() > MAX_PAIRS {
            return Err(format!(
                "heart calibration has {} pairs, more than {MAX_PAIRS}",
                r.pairs.len()
            ));
        }
        let in_range = |x: f32| (-1.0..=1.0).contains(&x);
        for (i, p) in r.pairs.iter().enumerate() {
            if !p.at_ms.is_finite() || !in_range(p.heart) || !in_range(p.stated) {
                return Err(format!("heart calibration pair {i} is out of range: {p:?}"));
            }
        }
        if r.pairs.windows(2).any(|w| w[1].at_ms < w[0].at_ms) {
            return Err("heart calibration pairs are not in time order".into());
        }
        Ok(HeartCalibration { pairs: r.pairs })
    }
}

/// Where the heart's weight comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WeightSource {
    /// Fewer than [`MIN_PAIRS`] pairs: the population figure ([`HEART_AROUSAL_WEIGHT`]).
    Population,
    /// The user's own pairs.
    Personal,
}

/// The heart's weight in the ranking and the evidence behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeartWeight {
    /// In [0, 1]: how far a fully trustworthy reading moves the stated arousal.
    pub weight: f32,
    /// Population or personal.
    pub source: WeightSource,
    /// Pairs collected.
    pub pairs: usize,
    /// The correlation the weight follows: the user's own once personal, else SiTunes'.
    pub r: f32,
    /// The one-sided 90% lower bound of the user's r (personal only).
    pub lower: Option<f32>,
}

/// Why a statement did or did not become a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new pair.
    Added,
    /// It replaced the previous pair (less than [`MIN_PAIR_GAP_MS`] before).
    Replaced,
    /// No trustworthy reading right now (none, stale, noisy, or the baseline still learning).
    NoReading,
}

impl HeartCalibration {
    /// Reads a stored calibration.
    pub fn from_json(text: &str) -> Result<HeartCalibration, String> {
        serde_json::from_str(text)
            .map_err(|e| format!("stored heart calibration is not valid: {e}"))
    }

    /// The pairs, oldest first.
    pub fn pairs(&self) -> &[CalibrationPair] {
        &self.pairs
    }

    /// Whether nothing has been collected.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Pairs a stated arousal with the heart's current reading, if it is trustworthy.
    pub fn record(
        &mut self,
        at_ms: f64,
        reading: Option<&ArousalEstimate>,
        stated: Axis,
    ) -> Recorded {
        let Some(est) = reading.filter(|e| e.quality >= MIN_PAIR_QUALITY) else {
            return Recorded::NoReading;
        };
        self.record_pair(at_ms, est.arousal, stated)
    }

    /// Pairs a stated arousal with a heart reading already judged trustworthy (as a journal
    /// entry records it).
    pub fn record_pair(&mut self, at_ms: f64, heart: Axis, stated: Axis) -> Recorded {
        if !at_ms.is_finite() {
            return Recorded::NoReading;
        }
        // Whole milliseconds: what clocks give, and exact through JSON.
        let at_ms = at_ms.round();
        let pair = CalibrationPair {
            at_ms,
            heart: heart.get(),
            stated: stated.get(),
        };
        match self.pairs.last_mut() {
            Some(last) if at_ms >= last.at_ms && at_ms - last.at_ms < MIN_PAIR_GAP_MS => {
                *last = pair;
                Recorded::Replaced
            }
            Some(last) if at_ms < last.at_ms => Recorded::NoReading,
            _ => {
                self.pairs.push(pair);
                if self.pairs.len() > MAX_PAIRS {
                    self.pairs.remove(0);
                }
                Recorded::Added
            }
        }
    }

    /// The user's own Pearson r, when there are at least 3 pairs with variance on both sides.
    pub fn correlation(&self) -> Option<f32> {
        let n = self.pairs.len();
        if n < 3 {
            return None;
        }
        let mx = self.pairs.iter().map(|p| f64::from(p.heart)).sum::<f64>() / n as f64;
        let my = self.pairs.iter().map(|p| f64::from(p.stated)).sum::<f64>() / n as f64;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for p in &self.pairs {
            let (dx, dy) = (f64::from(p.heart) - mx, f64::from(p.stated) - my);
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        (sxx > 1e-12 && syy > 1e-12).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0) as f32)
    }

    /// The heart's weight: the population's until [`MIN_PAIRS`] pairs, then the lower bound of the
    /// user's own correlation (see the module docs).
    pub fn weight(&self) -> HeartWeight {
        let n = self.pairs.len();
        match self.correlation().filter(|_| n >= MIN_PAIRS) {
            Some(r) => {
                let lower = personal_lower_bound(r, n);
                HeartWeight {
                    weight: lower.clamp(0.0, 1.0),
                    source: WeightSource::Personal,
                    pairs: n,
                    r,
                    lower: Some(lower),
                }
            }
            None => HeartWeight {
                weight: HEART_AROUSAL_WEIGHT,
                source: WeightSource::Population,
                pairs: n,
                r: HEART_AROUSAL_R,
                lower: None,
            },
        }
    }
}

/// One-sided 90% lower confidence bound of a correlation `r` over `n > 3` pairs (Fisher z).
pub fn personal_lower_bound(r: f32, n: usize) -> f32 {
    if n <= 3 {
        return -1.0;
    }
    let z = f64::from(r).clamp(-0.999_999, 0.999_999).atanh();
    (z - LOWER_BOUND_Z / ((n - 3) as f64).sqrt()).tanh() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(arousal: f32, quality: f32) -> ArousalEstimate {
        ArousalEstimate::steady(arousal, quality)
    }

    fn calibrated(pairs: &[(f32, f32)]) -> HeartCalibration {
        let mut c = HeartCalibration::default();
        for (i, &(h, s)) in pairs.iter().enumerate() {
            let at = i as f64 * MIN_PAIR_GAP_MS;
            assert_eq!(
                c.record(at, Some(&reading(h, 1.0)), Axis::clamped(s)),
                Recorded::Added
            );
        }
        c
    }

    #[test]
    fn a_new_user_gets_the_population_weight() {
        let w = HeartCalibration::default().weight();
        assert_eq!(w.source, WeightSource::Population);
        assert_eq!(w.weight, HEART_AROUSAL_WEIGHT);
        assert_eq!(w.r, HEART_AROUSAL_R);
        // Five agreeing pairs are still not enough to leave the population figure.
        let c = calibrated(&[
            (-0.5, -0.6),
            (0.0, 0.1),
            (0.5, 0.6),
            (0.2, 0.3),
            (-0.2, -0.1),
        ]);
        assert_eq!(c.weight().source, WeightSource::Population);
    }

    #[test]
    fn a_heart_that_keeps_agreeing_earns_weight_and_one_that_does_not_gets_none() {
        let agree: Vec<(f32, f32)> = (0..20)
            .map(|i| {
                let h = ((i * 7) % 11) as f32 / 5.0 - 1.0;
                (
                    h,
                    (0.8 * h + if i % 2 == 0 { 0.1 } else { -0.1 }).clamp(-1.0, 1.0),
                )
            })
            .collect();
        let w = calibrated(&agree[..6]).weight();
        let w20 = calibrated(&agree).weight();
        assert_eq!(w20.source, WeightSource::Personal);
        assert!(w20.r > 0.9, "{w20:?}");
        assert!(w20.weight > 0.8 && w20.weight < w20.r, "{w20:?}");
        assert!(
            w.weight < w20.weight,
            "more evidence, more weight: {w:?} {w20:?}"
        );
        let against: Vec<(f32, f32)> = agree.iter().map(|&(h, s)| (h, -s)).collect();
        let n = calibrated(&against).weight();
        assert_eq!((n.source, n.weight), (WeightSource::Personal, 0.0), "{n:?}");
        let flat = calibrated(&[(0.1, 0.5); 8]).weight();
        assert_eq!(
            flat.source,
            WeightSource::Population,
            "no variance: {flat:?}"
        );
    }

    #[test]
    fn lower_bound_matches_fisher() {
        // r = 0.8, n = 20: atanh 1.0986 - 1.2816 / sqrt(17) = 0.7878 -> tanh 0.657.
        assert!((personal_lower_bound(0.8, 20) - 0.657).abs() < 1e-3);
        assert_eq!(personal_lower_bound(0.9, 3), -1.0);
        assert!(personal_lower_bound(1.0, 50).is_finite());
    }

    #[test]
    fn statements_within_a_minute_replace_each_other_and_bad_readings_are_not_paired() {
        let mut c = HeartCalibration::default();
        let s = Axis::clamped(0.4);
        assert_eq!(c.record(0.0, None, s), Recorded::NoReading);
        assert_eq!(
            c.record(0.0, Some(&reading(0.3, 0.2)), s),
            Recorded::NoReading
        );
        assert_eq!(c.record(0.0, Some(&reading(0.3, 0.9)), s), Recorded::Added);
        assert_eq!(
            c.record(30_000.0, Some(&reading(0.5, 0.9)), s),
            Recorded::Replaced
        );
        assert_eq!(c.pairs().len(), 1);
        assert_eq!(c.pairs()[0].heart, 0.5);
        assert_eq!(
            c.record(-5.0, Some(&reading(0.5, 0.9)), s),
            Recorded::NoReading,
            "a clock that went back adds nothing"
        );
        assert_eq!(
            c.record(f64::NAN, Some(&reading(0.5, 0.9)), s),
            Recorded::NoReading
        );
        assert_eq!(
            c.record(MIN_PAIR_GAP_MS + 30_000.0, Some(&reading(0.1, 0.9)), s),
            Recorded::Added
        );
        assert_eq!(c.pairs().len(), 2);
    }

    #[test]
    fn is_bounded_round_trips_and_rejects_tampering() {
        let mut c = HeartCalibration::default();
        for i in 0..(MAX_PAIRS + 5) {
            c.record(
                i as f64 * MIN_PAIR_GAP_MS,
                Some(&reading(0.1, 1.0)),
                Axis::clamped(0.2),
            );
        }
        assert_eq!(c.pairs().len(), MAX_PAIRS);
        assert_eq!(c.pairs()[0].at_ms, 5.0 * MIN_PAIR_GAP_MS);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(HeartCalibration::from_json(&json).unwrap(), c);
        for bad in [
            r#"{"schema":2,"pairs":[]}"#,
            r#"{"schema":1,"pairs":[{"at_ms":0,"heart":1.5,"stated":0}]}"#,
            r#"{"schema":1,"pairs":[{"at_ms":5,"heart":0,"stated":0},{"at_ms":1,"heart":0,"stated":0}]}"#,
            r#"{"schema":1}"#,
        ] {
            assert!(HeartCalibration::from_json(bad).is_err(), "{bad}");
        }
    }
}
