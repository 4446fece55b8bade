//! From strap packets to an arousal estimate: artifact rejection, HRV, a resting baseline, staleness.
//!
//! Feed every decoded packet to [`HeartSignal::push`] with its arrival time, then ask
//! [`HeartSignal::estimate`] when ranking. The pieces:
//!
//! - **Artifact rejection.** A heart rate outside [`MIN_BPM`]..=[`MAX_BPM`], or more than
//!   [`MAX_JUMP`] away from the recent mean, is dropped; so is an RR interval outside
//!   [`MIN_RR_MS`]..=[`MAX_RR_MS`] or more than [`MAX_JUMP`] away from the last accepted RR
//!   (Malik's successive-difference rule, at 25%: ectopic beats, missed or extra detections). After [`RESYNC_AFTER`] rejections in a row the
//!   reference is dropped, so a real, sustained change is followed instead of rejected forever.
//!   Packets without skin contact are rejected whole. A heart rate of 0 is "no reading", not an
//!   artifact.
//! - **HRV.** RMSSD over the accepted beats of the last [`RMSSD_WINDOW_MS`], using only successive
//!   differences between beats that really were adjacent (no rejected beat or lost packet between).
//!   It needs [`MIN_RMSSD_PAIRS`] differences.
//! - **Resting baseline** ([`HeartBaseline`], kept by the app in local storage): the time-weighted mean
//!   heart rate and RMSSD over the first [`BASELINE_LEARN_MS`] of clean data, then a slow exponential
//!   average that follows *rest* quickly and exertion slowly (heart rate moves down with time
//!   constant [`ADAPT_TOWARD_REST_MS`], up with [`ADAPT_AWAY_FROM_REST_MS`]; RMSSD the other way).
//! - **Staleness.** Full confidence while the last accepted reading is at most [`FRESH_MS`] old,
//!   fading linearly to nothing at [`STALE_MS`]; after that [`HeartSignal::estimate`] is `None` and
//!   the heart plays no part in the ranking.
//!
//! **The mapping** (documented in `public/report/heart.md` too):
//!
//! ```text
//! hr  = (bpm - resting_bpm) / HR_SPAN_BPM                      // +HR_SPAN_BPM above rest -> +1
//! hrv = clamp(log2(resting_rmssd / rmssd), -1, 1)              // RMSSD halved -> +1
//! arousal = clamp(0.75 hr + 0.25 hrv, -1, 1)   (hr alone when RMSSD or its baseline is missing)
//! ```
//!
//! [`HR_SPAN_BPM`] is twice the median within-user standard deviation of wristband heart rate in
//! SiTunes Stage 2 (the project's "±2 SD -> ±1" convention). Higher heart rate and lower HRV both mean
//! sympathetic activation; the 0.75/0.25 split favours heart rate because HRV over one minute is noisy
//! and SiTunes has no RR data to check it against.
//!
//! **The weight.** [`ArousalEstimate::confidence`] = weight x signal quality; the app hands
//! [`ArousalEstimate::live`] to [`crate::fusion::fuse`], which blends by that confidence. The
//! weight follows a correlation `r` between heart and self-reported arousal as `clamp(r, 0, 1)`
//! (on standardised scales `r` is the least-squares slope, so it is how far a one-unit heart signal
//! should move arousal, and a correlation at or below zero gives the heart no say). For a new user
//! that is the within-user `r` measured on SiTunes ([`HEART_AROUSAL_R`], weight
//! [`HEART_AROUSAL_WEIGHT`]); once the user has paired enough stated moods with their own heart,
//! the lower confidence bound of their own `r` ([`crate::heart::calibration`]).
//! `model-export heart-rate evaluate` measures both and a test there fails when these constants
//! drift from the data.

use crate::emotion::Axis;
use crate::fusion::LiveArousal;
use crate::heart::measurement::{HeartRateMeasurement, SensorContact};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Within-user Pearson correlation between mean wristband heart rate during a play and the
/// self-reported arousal before it, SiTunes Stage 2 (n = 897 plays, 30 users); see
/// `public/report/heart.md`. Checked against the data by a test in `model-export`.
pub const HEART_AROUSAL_R: f32 = -0.055;

/// The weight of the heart-rate arousal estimate in the ranking: `clamp(r, 0, 1)`.
pub const fn weight_for_correlation(r: f32) -> f32 {
    // Written with comparisons so that NaN also gives 0.
    if r > 1.0 {
        1.0
    } else if r > 0.0 {
        r
    } else {
        0.0
    }
}

/// [`weight_for_correlation`] of [`HEART_AROUSAL_R`]: how much the heart moves the mood's arousal.
pub const HEART_AROUSAL_WEIGHT: f32 = weight_for_correlation(HEART_AROUSAL_R);

/// Heart rate (bpm) above rest that maps to arousal +1: twice the median within-user SD of heart rate
/// in SiTunes Stage 2 (checked by a test in `model-export`).
pub const HR_SPAN_BPM: f32 = 30.0;
/// Lowest plausible heart rate.
pub const MIN_BPM: u16 = 30;
/// Highest plausible heart rate.
pub const MAX_BPM: u16 = 220;
/// Shortest plausible RR interval (200 bpm).
pub const MIN_RR_MS: f64 = 300.0;
/// Longest plausible RR interval (30 bpm).
pub const MAX_RR_MS: f64 = 2000.0;
/// Largest relative jump from the recent reference that is accepted (25%).
pub const MAX_JUMP: f64 = 0.25;
/// Consecutive rejections after which the jump reference is dropped.
pub const RESYNC_AFTER: u32 = 5;
/// Window of the current heart rate (before the last accepted reading).
pub const BPM_WINDOW_MS: f64 = 10_000.0;
/// Window of RMSSD (before the last accepted beat).
pub const RMSSD_WINDOW_MS: f64 = 60_000.0;
/// Successive differences RMSSD needs (about 20 s of clean beats).
pub const MIN_RMSSD_PAIRS: usize = 20;
/// Window over which the share of rejected readings and beats lowers the quality.
pub const QUALITY_WINDOW_MS: f64 = 30_000.0;
/// Full confidence up to this age of the last accepted reading.
pub const FRESH_MS: f64 = 5_000.0;
/// No estimate from this age on (confidence fades linearly from [`FRESH_MS`]).
pub const STALE_MS: f64 = 15_000.0;
/// Clean data the resting baseline learns from before it is trusted (2 minutes).
pub const BASELINE_LEARN_MS: f64 = 120_000.0;
/// Time constant of the learned baseline moving toward rest (lower bpm, higher RMSSD).
pub const ADAPT_TOWARD_REST_MS: f64 = 10.0 * 60_000.0;
/// Time constant of the learned baseline moving away from rest.
pub const ADAPT_AWAY_FROM_REST_MS: f64 = 60.0 * 60_000.0;
/// Population resting heart rate used while nothing is learned yet (quality is 0 then anyway).
pub const DEFAULT_RESTING_BPM: f32 = 70.0;
/// A reading counts for at most this long in the time-weighted baseline (gaps do not count).
const MAX_READING_WEIGHT_MS: f64 = 2_000.0;
/// A packet arriving this much later than its RRs explain means beats were lost in between.
const GAP_SLACK_MS: f64 = 2_000.0;
/// Most entries kept per window (bounds memory whatever the packet rate).
const MAX_WINDOW_ENTRIES: usize = 1024;
/// RMSSD values are floored at this in the mapping (so a ratio never divides by zero).
const RMSSD_FLOOR_MS: f32 = 1.0;
/// Weight of heart rate against HRV in the mapping.
const HR_SHARE: f32 = 0.75;

/// Schema version of [`HeartBaseline`] written by this build.
pub const BASELINE_SCHEMA: u32 = 1;

/// The user's resting heart rate and RMSSD, learned on the device and kept in local storage.
/// Deserialising validates every field, so a tampered or corrupted copy is an error, never NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BaselineRepr", into = "BaselineRepr")]
pub struct HeartBaseline {
    bpm: f32,
    bpm_learned_ms: u64,
    rmssd_ms: f32,
    rmssd_learned_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct BaselineRepr {
    schema: u32,
    bpm: f32,
    bpm_learned_ms: u64,
    rmssd_ms: f32,
    rmssd_learned_ms: u64,
}

impl From<HeartBaseline> for BaselineRepr {
    fn from(b: HeartBaseline) -> Self {
        BaselineRepr {
            schema: BASELINE_SCHEMA,
            bpm: b.bpm,
            bpm_learned_ms: b.bpm_learned_ms,
            rmssd_ms: b.rmssd_ms,
            rmssd_learned_ms: b.rmssd_learned_ms,
        }
    }
}

impl TryFrom<BaselineRepr> for HeartBaseline {
    type Error = String;
    fn try_from(r: BaselineRepr) -> Result<Self, String> {
        if r.schema != BASELINE_SCHEMA {
            return Err(format!(
                "heart baseline schema {} is not supported (this build reads {BASELINE_SCHEMA})",
                r.schema
            ));
        }
        if !r.bpm.is_finite() || !r.rmssd_ms.is_finite() {
            return Err("heart baseline value is not finite".into());
        }
        let bpm_ok =
            r.bpm_learned_ms == 0 || (f32::from(MIN_BPM)..=f32::from(MAX_BPM)).contains(&r.bpm);
        if !bpm_ok {
            return Err(format!("resting heart rate {} bpm is implausible", r.bpm));
        }
        let rmssd_ok =
            r.rmssd_learned_ms == 0 || (r.rmssd_ms >= 0.0 && f64::from(r.rmssd_ms) <= MAX_RR_MS);
        if !rmssd_ok {
            return Err(format!("resting RMSSD {} ms is implausible", r.rmssd_ms));
        }
        Ok(HeartBaseline {
            bpm: r.bpm,
            bpm_learned_ms: r.bpm_learned_ms,
            rmssd_ms: r.rmssd_ms,
            rmssd_learned_ms: r.rmssd_learned_ms,
        })
    }
}

impl Default for HeartBaseline {
    fn default() -> Self {
        HeartBaseline::EMPTY
    }
}

impl HeartBaseline {
    /// Nothing learned yet.
    pub const EMPTY: HeartBaseline = HeartBaseline {
        bpm: 0.0,
        bpm_learned_ms: 0,
        rmssd_ms: 0.0,
        rmssd_learned_ms: 0,
    };

    /// Reads a stored baseline (JSON written by [`HeartBaseline::to_json`]).
    pub fn from_json(text: &str) -> Result<HeartBaseline, String> {
        serde_json::from_str(text).map_err(|e| format!("stored heart baseline is not valid: {e}"))
    }

    /// The JSON the app keeps in local storage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Resting heart rate in bpm, once anything is learned.
    pub fn resting_bpm(&self) -> Option<f32> {
        (self.bpm_learned_ms > 0).then_some(self.bpm)
    }

    /// Resting RMSSD in ms, once anything is learned.
    pub fn resting_rmssd_ms(&self) -> Option<f32> {
        (self.rmssd_learned_ms > 0).then_some(self.rmssd_ms)
    }

    /// Share of the heart-rate learning period done, in [0, 1] (1 = trusted).
    pub fn progress(&self) -> f32 {
        (self.bpm_learned_ms as f64 / BASELINE_LEARN_MS).clamp(0.0, 1.0) as f32
    }

    /// Whether the resting RMSSD has had its full learning period.
    pub fn rmssd_ready(&self) -> bool {
        self.rmssd_learned_ms as f64 >= BASELINE_LEARN_MS
    }

    fn update_bpm(&mut self, bpm: f32, w_ms: u64) {
        learn(&mut self.bpm, &mut self.bpm_learned_ms, bpm, w_ms, false);
    }

    fn update_rmssd(&mut self, rmssd: f32, w_ms: u64) {
        learn(
            &mut self.rmssd_ms,
            &mut self.rmssd_learned_ms,
            rmssd,
            w_ms,
            true,
        );
    }
}

/// Cumulative time-weighted mean while learning, then an asymmetric exponential average.
/// `rest_is_high`: for RMSSD, rest is the higher value; for heart rate, the lower.
/// Weights are whole milliseconds (so the stored learning time is an exact integer).
fn learn(value: &mut f32, learned_ms: &mut u64, x: f32, w_ms: u64, rest_is_high: bool) {
    if w_ms == 0 || !x.is_finite() {
        return;
    }
    let (x, v, w) = (f64::from(x), f64::from(*value), w_ms as f64);
    let next = if (*learned_ms as f64) < BASELINE_LEARN_MS {
        v + (x - v) * w / (*learned_ms as f64 + w)
    } else {
        let toward_rest = if rest_is_high { x > v } else { x < v };
        let tau = if toward_rest {
            ADAPT_TOWARD_REST_MS
        } else {
            ADAPT_AWAY_FROM_REST_MS
        };
        v + (x - v) * (1.0 - (-w / tau).exp())
    };
    *value = next as f32;
    *learned_ms = learned_ms.saturating_add(w_ms);
}

/// Counters for the UI and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SignalStats {
    /// Packets pushed (including rejected ones).
    pub packets: u64,
    /// Heart-rate readings accepted.
    pub readings_accepted: u64,
    /// Heart-rate readings rejected (implausible, jump, no contact, bad time).
    pub readings_rejected: u64,
    /// RR intervals accepted.
    pub beats_accepted: u64,
    /// RR intervals rejected as artifacts.
    pub beats_rejected: u64,
}

/// What the heart says about arousal right now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ArousalEstimate {
    /// The arousal the heart suggests (calm -1 .. excited +1).
    pub arousal: Axis,
    /// Signal quality in [0, 1]: freshness x share of clean data x baseline progress.
    pub quality: f32,
    /// Freshness in [0, 1] (1 up to [`FRESH_MS`], 0 at [`STALE_MS`]).
    pub freshness: f32,
    /// Current heart rate: mean of the accepted readings of the last [`BPM_WINDOW_MS`].
    pub bpm: f32,
    /// RMSSD over the last [`RMSSD_WINDOW_MS`], when there are enough clean beats.
    pub rmssd_ms: Option<f32>,
    /// The resting heart rate it is compared with.
    pub resting_bpm: f32,
    /// Share of the baseline learning period done, in [0, 1].
    pub baseline_progress: f32,
}

impl ArousalEstimate {
    /// A steady, fully fresh reading known only by its arousal and quality (recorded data replayed
    /// through the engine, and tests); the heart rate is what the mapping implies at the default
    /// resting rate.
    pub fn steady(arousal: f32, quality: f32) -> ArousalEstimate {
        let arousal = Axis::clamped(arousal);
        ArousalEstimate {
            arousal,
            quality: if quality > 0.0 { quality.min(1.0) } else { 0.0 },
            freshness: 1.0,
            bpm: DEFAULT_RESTING_BPM + arousal.get() * HR_SPAN_BPM,
            rmssd_ms: None,
            resting_bpm: DEFAULT_RESTING_BPM,
            baseline_progress: 1.0,
        }
    }

    /// How much the ranking should trust it, in [0, 1]: the heart's `weight` (from
    /// [`crate::heart::HeartCalibration::weight`]) times [`ArousalEstimate::quality`].
    pub fn confidence(&self, weight: f32) -> f32 {
        let c = weight * self.quality;
        if c > 0.0 {
            c.min(1.0)
        } else {
            0.0
        }
    }

    /// The estimate as the live signal [`crate::fusion::fuse`] blends into the stated mood, at the
    /// heart's `weight` (with confidence 0 the mood is left as it is).
    pub fn live(&self, weight: f32) -> LiveArousal {
        LiveArousal {
            arousal: self.arousal.get(),
            confidence: self.confidence(weight),
        }
    }
}

/// The heart-signal state machine. Feed it packets in arrival order; ask it for an estimate.
#[derive(Debug, Clone)]
pub struct HeartSignal {
    baseline: HeartBaseline,
    stats: SignalStats,
    last_at: Option<f64>,
    /// Accepted readings (at, bpm).
    readings: VecDeque<(f64, f32)>,
    last_reading_at: Option<f64>,
    bpm_rejects_in_row: u32,
    /// Accepted beats' squared successive differences (at, d^2) for RMSSD.
    diffs: VecDeque<(f64, f64)>,
    last_beat_at: Option<f64>,
    /// The last accepted RR (the jump reference), unless dropped by a resync or a long gap.
    rr_ref: Option<f64>,
    /// The previous beat, when it was accepted and adjacent to the next one.
    prev_rr: Option<f64>,
    rr_rejects_in_row: u32,
    /// Accept/reject events for the quality share (at, accepted).
    events: VecDeque<(f64, bool)>,
}

impl Default for HeartSignal {
    fn default() -> Self {
        HeartSignal::new(HeartBaseline::EMPTY)
    }
}

impl HeartSignal {
    /// A signal that starts from a stored baseline ([`HeartBaseline::EMPTY`] for a new user).
    pub fn new(baseline: HeartBaseline) -> HeartSignal {
        HeartSignal {
            baseline,
            stats: SignalStats::default(),
            last_at: None,
            readings: VecDeque::new(),
            last_reading_at: None,
            bpm_rejects_in_row: 0,
            diffs: VecDeque::new(),
            last_beat_at: None,
            rr_ref: None,
            prev_rr: None,
            rr_rejects_in_row: 0,
            events: VecDeque::new(),
        }
    }

    /// The baseline as learned so far (save it with [`HeartBaseline::to_json`]).
    pub fn baseline(&self) -> &HeartBaseline {
        &self.baseline
    }

    /// Forgets the learned baseline (it is learned again from the next clean data).
    pub fn reset_baseline(&mut self) {
        self.baseline = HeartBaseline::EMPTY;
    }

    /// Counters so far.
    pub fn stats(&self) -> SignalStats {
        self.stats
    }

    /// When the last reading was accepted (`None` before any).
    pub fn last_reading_ms(&self) -> Option<f64> {
        self.last_reading_at
    }

    /// Feeds one decoded packet that arrived at `at_ms`. Time that runs backwards is held at the
    /// latest time seen; a packet with a non-finite time is counted and ignored.
    pub fn push(&mut self, at_ms: f64, m: &HeartRateMeasurement) {
        self.stats.packets += 1;
        if !at_ms.is_finite() {
            self.stats.readings_rejected += u64::from(m.bpm().is_some());
            self.stats.beats_rejected += m.rr_intervals.len() as u64;
            return;
        }
        let prev_packet_at = self.last_at;
        let at = self.last_at.map_or(at_ms, |t| t.max(at_ms));
        self.last_at = Some(at);

        if m.contact == SensorContact::NotDetected {
            // No skin contact: nothing in the packet is trusted, and beat adjacency is broken.
            if m.bpm().is_some() {
                self.stats.readings_rejected += 1;
                self.event(at, false);
            }
            self.stats.beats_rejected += m.rr_intervals.len() as u64;
            self.prev_rr = None;
            return;
        }
        self.push_beats(at, prev_packet_at, m);
        if let Some(bpm) = m.bpm() {
            self.push_reading(at, f32::from(bpm));
        }
    }

    fn push_reading(&mut self, at: f64, bpm: f32) {
        let plausible = (f32::from(MIN_BPM)..=f32::from(MAX_BPM)).contains(&bpm);
        // The reference is the recent mean, unless it is old or was dropped after a resync.
        let recent = self
            .last_reading_at
            .is_some_and(|t| at - t <= BPM_WINDOW_MS);
        let jump = match self.current_bpm() {
            Some(reference) if recent => {
                f64::from((bpm - reference).abs()) > MAX_JUMP * f64::from(reference)
            }
            _ => false,
        };
        if !plausible || jump {
            self.stats.readings_rejected += 1;
            self.bpm_rejects_in_row += 1;
            if self.bpm_rejects_in_row >= RESYNC_AFTER {
                self.readings.clear();
            }
            self.event(at, false);
            return;
        }
        self.stats.readings_accepted += 1;
        self.bpm_rejects_in_row = 0;
        self.event(at, true);
        let w = self
            .last_reading_at
            .map_or(1_000.0, |t| (at - t).clamp(0.0, MAX_READING_WEIGHT_MS))
            .round() as u64;
        self.last_reading_at = Some(at);
        push_bounded(&mut self.readings, (at, bpm));
        trim(&mut self.readings, at - BPM_WINDOW_MS);
        self.baseline.update_bpm(bpm, w);
        if let Some(rmssd) = self.rmssd() {
            self.baseline.update_rmssd(rmssd, w);
        }
    }

    fn push_beats(&mut self, at: f64, prev_packet_at: Option<f64>, m: &HeartRateMeasurement) {
        if m.rr_intervals.is_empty() {
            return;
        }
        let rrs: Vec<f64> = m.rr_intervals.iter().map(|r| r.millis()).collect();
        let span: f64 = rrs.iter().sum();
        if let Some(p) = prev_packet_at {
            if at - p > span + GAP_SLACK_MS {
                // Beats were lost between the packets: the first RR here does not follow the last,
                // and after a long silence the jump reference is out of date too.
                self.prev_rr = None;
                if at - p > BPM_WINDOW_MS {
                    self.rr_ref = None;
                }
            }
        }
        // The last beat of the packet is at `at`; earlier ones are back-dated by the RRs after them.
        let mut beat_at = at - span;
        for rr in rrs {
            beat_at += rr;
            self.push_beat(beat_at, rr);
        }
    }

    fn push_beat(&mut self, at: f64, rr: f64) {
        let plausible = (MIN_RR_MS..=MAX_RR_MS).contains(&rr);
        let jump = self.rr_ref.is_some_and(|r| (rr - r).abs() > MAX_JUMP * r);
        if !plausible || jump {
            self.stats.beats_rejected += 1;
            self.rr_rejects_in_row += 1;
            if self.rr_rejects_in_row >= RESYNC_AFTER {
                self.rr_ref = None;
            }
            self.prev_rr = None;
            self.event(at, false);
            return;
        }
        self.stats.beats_accepted += 1;
        self.rr_rejects_in_row = 0;
        self.event(at, true);
        self.rr_ref = Some(rr);
        if let Some(prev) = self.prev_rr {
            push_bounded(&mut self.diffs, (at, (rr - prev) * (rr - prev)));
        }
        self.prev_rr = Some(rr);
        let latest = self.last_beat_at.map_or(at, |t| t.max(at));
        self.last_beat_at = Some(latest);
        trim(&mut self.diffs, latest - RMSSD_WINDOW_MS);
    }

    fn event(&mut self, at: f64, accepted: bool) {
        push_bounded(&mut self.events, (at, accepted));
        trim(&mut self.events, at - QUALITY_WINDOW_MS);
    }

    /// Mean accepted heart rate over the [`BPM_WINDOW_MS`] before the last accepted reading.
    fn current_bpm(&self) -> Option<f32> {
        let last = self.last_reading_at?;
        let (sum, n) = self
            .readings
            .iter()
            .filter(|(t, _)| *t >= last - BPM_WINDOW_MS)
            .fold((0.0f64, 0usize), |(s, n), (_, b)| {
                (s + f64::from(*b), n + 1)
            });
        (n > 0).then(|| (sum / n as f64) as f32)
    }

    /// RMSSD over the [`RMSSD_WINDOW_MS`] before the last accepted beat, with enough pairs;
    /// `None` once the beats are [`STALE_MS`] older than the last reading (the strap stopped
    /// sending RR intervals).
    pub fn rmssd(&self) -> Option<f32> {
        let last = self.last_beat_at?;
        if self.last_reading_at.is_some_and(|r| r - last >= STALE_MS) {
            return None;
        }
        let (sum, n) = self
            .diffs
            .iter()
            .filter(|(t, _)| *t >= last - RMSSD_WINDOW_MS)
            .fold((0.0f64, 0usize), |(s, n), (_, d)| (s + d, n + 1));
        (n >= MIN_RMSSD_PAIRS).then(|| (sum / n as f64).sqrt() as f32)
    }

    /// The heart's arousal estimate at `now_ms`; `None` before any accepted reading and once the
    /// last one is [`STALE_MS`] old.
    pub fn estimate(&self, now_ms: f64) -> Option<ArousalEstimate> {
        let last = self.last_reading_at?;
        let age = if now_ms.is_finite() {
            (now_ms - last).max(0.0)
        } else {
            f64::INFINITY
        };
        if age >= STALE_MS {
            return None;
        }
        let freshness = (1.0 - (age - FRESH_MS).max(0.0) / (STALE_MS - FRESH_MS)).clamp(0.0, 1.0);
        let bpm = self.current_bpm()?;
        let rmssd = self.rmssd();
        let resting_bpm = self.baseline.resting_bpm().unwrap_or(DEFAULT_RESTING_BPM);
        let hr = (bpm - resting_bpm) / HR_SPAN_BPM;
        let hrv = match (rmssd, self.baseline.resting_rmssd_ms()) {
            (Some(now), Some(rest)) if self.baseline.rmssd_ready() => {
                // Floored: identical RRs give an RMSSD of 0 (a pacemaker, or a strap repeating itself).
                let (now, rest) = (now.max(RMSSD_FLOOR_MS), rest.max(RMSSD_FLOOR_MS));
                Some((rest / now).log2().clamp(-1.0, 1.0))
            }
            _ => None,
        };
        let raw = match hrv {
            Some(h) => HR_SHARE * hr + (1.0 - HR_SHARE) * h,
            None => hr,
        };
        let recent: Vec<bool> = self
            .events
            .iter()
            .filter(|(t, _)| *t >= last - QUALITY_WINDOW_MS)
            .map(|&(_, ok)| ok)
            .collect();
        let clean = if recent.is_empty() {
            1.0
        } else {
            recent.iter().filter(|&&ok| ok).count() as f32 / recent.len() as f32
        };
        let baseline_progress = self.baseline.progress();
        let quality = (freshness as f32 * clean * baseline_progress).clamp(0.0, 1.0);
        Some(ArousalEstimate {
            arousal: Axis::clamped(raw),
            quality,
            freshness: freshness as f32,
            bpm,
            rmssd_ms: rmssd,
            resting_bpm,
            baseline_progress,
        })
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, x: T) {
    if q.len() >= MAX_WINDOW_ENTRIES {
        q.pop_front();
    }
    q.push_back(x);
}

/// Drops entries older than `from` from the front (entries are pushed in time order).
fn trim<T>(q: &mut VecDeque<(f64, T)>, from: f64) {
    while q.front().is_some_and(|(t, _)| *t < from) {
        q.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emotion::Emotion;
    use crate::heart::measurement::{HeartRateValue, RrInterval};

    fn packet(bpm: u8, rrs_ms: &[f64]) -> HeartRateMeasurement {
        HeartRateMeasurement {
            value: HeartRateValue::U8(bpm),
            contact: SensorContact::Detected,
            energy_expended_kj: None,
            rr_intervals: rrs_ms
                .iter()
                .map(|&ms| RrInterval::from_millis(ms).unwrap())
                .collect(),
        }
    }

    /// One packet a second for `secs` seconds after `t0`, each carrying the beats (at `bpm`, RRs
    /// alternating ±`swing` ms) that fell in its second. Returns the time of the last packet.
    fn feed(s: &mut HeartSignal, t0: f64, secs: usize, bpm: u8, swing: f64) -> f64 {
        let rr = 60_000.0 / f64::from(bpm);
        let mut next_beat = t0;
        let mut k = 0usize;
        let mut t = t0;
        for _ in 0..secs {
            t += 1000.0;
            let mut rrs = Vec::new();
            loop {
                let this = rr + if k.is_multiple_of(2) { swing } else { -swing };
                if next_beat + this > t {
                    break;
                }
                next_beat += this;
                k += 1;
                rrs.push(this);
            }
            s.push(t, &packet(bpm, &rrs));
        }
        t
    }

    #[test]
    fn weight_follows_the_correlation() {
        assert_eq!(weight_for_correlation(-0.3), 0.0);
        assert_eq!(weight_for_correlation(0.0), 0.0);
        assert_eq!(weight_for_correlation(0.4), 0.4);
        assert_eq!(weight_for_correlation(1.5), 1.0);
        assert_eq!(weight_for_correlation(f32::NAN), 0.0);
        assert_eq!(
            HEART_AROUSAL_WEIGHT,
            weight_for_correlation(HEART_AROUSAL_R)
        );
    }

    #[test]
    fn baseline_is_learned_over_two_minutes_then_adapts_slowly() {
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 60, 60, 20.0);
        assert!(
            (s.baseline().progress() - 0.5).abs() < 0.02,
            "{:?}",
            s.baseline()
        );
        let t = feed(&mut s, t, 70, 60, 20.0);
        assert_eq!(s.baseline().progress(), 1.0);
        assert!((s.baseline().resting_bpm().unwrap() - 60.0).abs() < 0.01);
        // Exercise for a minute: heart rate 90 barely moves the resting value (tau 60 min)...
        let t = feed(&mut s, t, 1, 75, 0.0);
        let t = feed(&mut s, t, 1, 90, 0.0);
        let t = feed(&mut s, t, 60, 90, 0.0);
        let up = s.baseline().resting_bpm().unwrap();
        assert!(up > 60.0 && up < 61.0, "{up}");
        // ...and the estimate says "aroused".
        let e = s.estimate(t).unwrap();
        assert!((e.bpm - 90.0).abs() < 0.5, "{e:?}");
        assert!(e.arousal.get() > 0.8, "{e:?}");
        assert_eq!(e.quality, 1.0);
        assert_eq!(e.confidence(HEART_AROUSAL_WEIGHT), HEART_AROUSAL_WEIGHT);
        assert_eq!(e.confidence(0.4), 0.4);
    }

    #[test]
    fn resting_heart_maps_to_neutral_and_low_heart_to_calm() {
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 180, 70, 30.0);
        let e = s.estimate(t).unwrap();
        assert!(e.arousal.get().abs() < 0.05, "{e:?}");
        let rmssd = e.rmssd_ms.unwrap();
        assert!(
            (rmssd - 60.0).abs() < 3.0,
            "alternating ±30 ms gives RMSSD ~60: {rmssd}"
        );
        let t = feed(&mut s, t, 1, 60, 30.0);
        let t = feed(&mut s, t, 1, 55, 30.0);
        let t = feed(&mut s, t, 20, 55, 30.0);
        let e = s.estimate(t).unwrap();
        assert!(e.arousal.get() < -0.3, "{e:?}");
    }

    #[test]
    fn lower_hrv_at_the_same_heart_rate_raises_arousal() {
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 200, 70, 40.0);
        let calm = s.estimate(t).unwrap();
        let t = feed(&mut s, t, 61, 70, 10.0);
        let tense = s.estimate(t).unwrap();
        assert!(tense.rmssd_ms.unwrap() < calm.rmssd_ms.unwrap() / 2.0);
        assert!(
            tense.arousal.get() > calm.arousal.get() + 0.2,
            "{calm:?} {tense:?}"
        );
    }

    #[test]
    fn staleness_fades_then_drops_the_estimate() {
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 150, 65, 20.0);
        assert_eq!(s.estimate(t + FRESH_MS).unwrap().freshness, 1.0);
        let mid = s.estimate(t + 10_000.0).unwrap();
        assert!((mid.freshness - 0.5).abs() < 1e-6 && (mid.quality - 0.5).abs() < 1e-6);
        assert!(s.estimate(t + STALE_MS).is_none());
        assert!(s.estimate(f64::NAN).is_none());
        // A new packet brings it back.
        let t = feed(&mut s, t + 60_000.0, 1, 65, 20.0);
        assert_eq!(s.estimate(t).unwrap().freshness, 1.0);
    }

    #[test]
    fn artifacts_are_rejected_and_lower_quality() {
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 130, 60, 15.0);
        let before = s.stats();
        // Implausible heart rates, a sudden jump, an ectopic beat and a missed beat.
        s.push(t + 1000.0, &packet(250, &[]));
        s.push(t + 2000.0, &packet(20, &[]));
        s.push(t + 3000.0, &packet(100, &[1000.0]));
        s.push(t + 4000.0, &packet(60, &[600.0, 1400.0]));
        s.push(t + 5000.0, &packet(60, &[2500.0, 200.0]));
        let st = s.stats();
        assert_eq!(st.readings_rejected - before.readings_rejected, 3);
        assert_eq!(st.beats_rejected - before.beats_rejected, 4);
        assert_eq!(st.beats_accepted - before.beats_accepted, 1);
        let e = s.estimate(t + 5000.0).unwrap();
        assert!((e.bpm - 60.0).abs() < 0.01, "{e:?}");
        assert!(e.quality < 1.0 && e.quality > 0.5, "{e:?}");
    }

    #[test]
    fn a_sustained_change_is_followed_after_resync() {
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 130, 60, 10.0);
        let t = feed(&mut s, t, 30, 100, 10.0);
        let e = s.estimate(t).unwrap();
        assert!((e.bpm - 100.0).abs() < 0.5, "{e:?}");
        assert!(e.rmssd_ms.is_some());
    }

    #[test]
    fn no_contact_and_zero_bpm_are_not_readings() {
        let mut s = HeartSignal::default();
        let mut p = packet(70, &[850.0]);
        p.contact = SensorContact::NotDetected;
        s.push(0.0, &p);
        s.push(1000.0, &packet(0, &[]));
        assert!(s.estimate(1000.0).is_none());
        assert_eq!(s.stats().readings_accepted, 0);
        assert_eq!(s.stats().beats_rejected, 1);
    }

    #[test]
    fn rmssd_goes_when_the_rr_intervals_stop() {
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 60, 60, 20.0);
        assert!(s.rmssd().is_some());
        let mut t = t;
        for _ in 0..14 {
            t += 1000.0;
            s.push(t, &packet(60, &[]));
        }
        assert!(s.rmssd().is_some(), "14 s without RR: still current");
        s.push(t + 1000.0, &packet(60, &[]));
        assert!(s.rmssd().is_none());
        assert!(s.estimate(t + 1000.0).unwrap().rmssd_ms.is_none());
    }

    #[test]
    fn lost_packets_break_rr_adjacency() {
        let mut s = HeartSignal::default();
        s.push(1000.0, &packet(60, &[1000.0]));
        s.push(2000.0, &packet(60, &[1000.0]));
        s.push(60_000.0, &packet(60, &[1000.0]));
        assert_eq!(s.diffs.len(), 1);
    }

    #[test]
    fn baseline_json_round_trips_and_rejects_nonsense() {
        let mut s = HeartSignal::default();
        feed(&mut s, 0.0, 150, 62, 25.0);
        let b = *s.baseline();
        assert!(b.rmssd_ready() || b.resting_rmssd_ms().is_some());
        let json = b.to_json();
        assert_eq!(HeartBaseline::from_json(&json).unwrap(), b);
        assert_eq!(
            HeartBaseline::from_json(&HeartBaseline::EMPTY.to_json()).unwrap(),
            HeartBaseline::EMPTY
        );
        for bad in [
            r#"{"schema":1,"bpm":500.0,"bpm_learned_ms":1000,"rmssd_ms":40.0,"rmssd_learned_ms":0}"#,
            r#"{"schema":1,"bpm":60.0,"bpm_learned_ms":-1,"rmssd_ms":40.0,"rmssd_learned_ms":0}"#,
            r#"{"schema":1,"bpm":60.0,"bpm_learned_ms":1.5,"rmssd_ms":40.0,"rmssd_learned_ms":0}"#,
            r#"{"schema":1,"bpm":60.0,"bpm_learned_ms":1,"rmssd_ms":-4.0,"rmssd_learned_ms":10}"#,
            r#"{"schema":9,"bpm":60.0,"bpm_learned_ms":1,"rmssd_ms":40.0,"rmssd_learned_ms":0}"#,
            r#"{"bpm":60.0}"#,
            "null",
        ] {
            assert!(HeartBaseline::from_json(bad).is_err(), "{bad}");
        }
        // A signal restarted from the stored baseline is trusted at once.
        let mut again = HeartSignal::new(b);
        feed(&mut again, 0.0, 3, 62, 25.0);
        assert_eq!(again.estimate(3000.0).unwrap().baseline_progress, 1.0);
    }

    #[test]
    fn identical_rrs_give_a_zero_rmssd_that_is_stored_and_mapped() {
        // Found by the `signal` fuzz target: a baseline RMSSD of 0 failed validation on reload.
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 150, 60, 0.0);
        let b = *s.baseline();
        assert_eq!(b.resting_rmssd_ms(), Some(0.0));
        assert_eq!(HeartBaseline::from_json(&b.to_json()), Ok(b));
        let e = s.estimate(t).unwrap();
        assert_eq!(e.rmssd_ms, Some(0.0));
        assert!(e.arousal.get().abs() < 0.01, "{e:?}");
    }

    #[test]
    fn live_carries_arousal_and_confidence_into_fusion() {
        let mut s = HeartSignal::default();
        let t = feed(&mut s, 0.0, 130, 60, 20.0);
        let t = feed(&mut s, t, 1, 72, 20.0);
        let t = feed(&mut s, t, 30, 80, 20.0);
        let e = s.estimate(t).unwrap();
        let live = e.live(0.6);
        assert_eq!(live.arousal, e.arousal.get());
        assert_eq!(live.confidence, e.confidence(0.6));
        assert!(live.confidence > 0.0);
        assert_eq!(e.live(0.0).confidence, 0.0);
        assert_eq!(e.live(f32::NAN).confidence, 0.0);
        let mood = Emotion::new(0.5, -0.2, 0.1);
        let fused = crate::fusion::fuse(Some(mood), crate::MoodStrength::DEFAULT, Some(live));
        let want = (1.0 - live.confidence) * -0.2 + live.confidence * e.arousal.get();
        let got = fused.emotion.unwrap();
        assert!((got.arousal.get() - want).abs() < 1e-6, "{fused:?}");
        assert_eq!(got.valence, mood.valence);
    }
}
