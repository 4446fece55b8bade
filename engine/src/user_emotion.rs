//! The user-emotion model's input: a user's recent events (stated moods, plays, likes, heart
//! readings) and the present moment, encoded as the fixed feature layout the self-attention model
//! was trained on. Training (`model-export user-emotion`, from SiTunes) and the browser (from the
//! on-device history) both call [`encode`]: one copy of the preprocessing.

use crate::emotion::Emotion;
use serde::{Deserialize, Serialize};

/// Most recent events the model reads.
pub const MAX_EVENTS: usize = 50;
/// Features per event (see [`EVENT_FEATURES`]).
pub const EVENT_DIM: usize = 12;
/// Features of the present moment (see [`CONTEXT_FEATURES`]).
pub const CONTEXT_DIM: usize = 9;
/// Ages are scaled by `ln(1 + hours) / ln(1 + AGE_HORIZON_HOURS)` and clipped to 1.
pub const AGE_HORIZON_HOURS: f64 = 24.0 * 14.0;

/// What each event feature means, in order (for reports and attention views).
pub const EVENT_FEATURES: [&str; EVENT_DIM] = [
    "mood valence",
    "mood arousal",
    "has mood",
    "song valence",
    "song arousal",
    "has song",
    "rating",
    "has rating",
    "heart arousal",
    "has heart",
    "age",
    "order",
];
/// What each context feature means, in order.
pub const CONTEXT_FEATURES: [&str; CONTEXT_DIM] = [
    "heart arousal now",
    "has heart now",
    "morning",
    "afternoon",
    "evening",
    "since last event",
    "mean stated valence",
    "mean stated arousal",
    "has stated mood",
];

/// Part of the day, as SiTunes records it (`env.json` `time`: 1, 2, 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DayPeriod {
    /// 8 a.m. to 12 p.m.
    Morning,
    /// 12 p.m. to 6 p.m.
    Afternoon,
    /// 6 p.m. to 2 a.m.
    Evening,
}

impl DayPeriod {
    /// The period of a local hour (0..24); `None` from 2 to 8 a.m. (no training data there).
    pub fn from_hour(hour: u32) -> Option<DayPeriod> {
        match hour {
            8..=11 => Some(DayPeriod::Morning),
            12..=17 => Some(DayPeriod::Afternoon),
            18..=23 | 0..=1 => Some(DayPeriod::Evening),
            _ => None,
        }
    }

    /// SiTunes' code (1, 2, 3).
    pub fn from_situnes(code: i64) -> Option<DayPeriod> {
        match code {
            1 => Some(DayPeriod::Morning),
            2 => Some(DayPeriod::Afternoon),
            3 => Some(DayPeriod::Evening),
            _ => None,
        }
    }
}

/// A rating on SiTunes' 5-point scale (1 = disliked, 5 = loved).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Rating(f32);

impl Rating {
    /// A rating in 1..=5 (clamped; NaN reads as the neutral 3).
    pub fn new(stars: f32) -> Rating {
        Rating(if stars.is_finite() {
            stars.clamp(1.0, 5.0)
        } else {
            3.0
        })
    }
    /// The stars, 1..=5.
    pub fn get(self) -> f32 {
        self.0
    }
    /// On [-1, 1]: `(stars - 3) / 2`.
    pub fn centred(self) -> f32 {
        (self.0 - 3.0) / 2.0
    }
}

/// One past event as the model sees it. Any field may be absent: a stated mood has no song, a
/// play often has no rating, most events have no heart reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// When, in ms since the epoch.
    pub at_ms: f64,
    /// The emotion the user stated at that moment.
    pub mood: Option<Emotion>,
    /// The emotion of the song involved (catalog label, the CNN's analysis, or SiTunes' audio
    /// features).
    pub song: Option<Emotion>,
    /// How the user rated the song.
    pub rating: Option<Rating>,
    /// Heart arousal in [-1, 1] relative to the user's own resting level, when a strap read well.
    pub heart: Option<f32>,
}

/// The present moment the estimate is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moment {
    /// Now, in ms since the epoch.
    pub now_ms: f64,
    /// The live heart arousal in [-1, 1], when a strap reads well.
    pub heart: Option<f32>,
    /// Part of the day.
    pub period: Option<DayPeriod>,
}

/// The encoded model input for one user: `[MAX_EVENTS, EVENT_DIM]` events, oldest first and
/// padded at the *front* (so the newest event is always last), a mask, and the context.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInput {
    /// `MAX_EVENTS * EVENT_DIM` values, row-major.
    pub events: Vec<f32>,
    /// `MAX_EVENTS` values: 1 for an event, 0 for padding.
    pub mask: Vec<f32>,
    /// `CONTEXT_DIM` values.
    pub context: Vec<f32>,
    /// How many real events (at most [`MAX_EVENTS`]); they occupy the last `len` rows.
    pub len: usize,
}

impl ModelInput {
    /// Row `i` (0-based over all `MAX_EVENTS` rows).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.events[i * EVENT_DIM..(i + 1) * EVENT_DIM]
    }
    /// The index into the encoded rows of the `k`-th of the `len` real events (oldest = 0).
    pub fn row_of_event(&self, k: usize) -> usize {
        MAX_EVENTS - self.len + k
    }
}

fn clamp1(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// `ln(1 + hours) / ln(1 + AGE_HORIZON_HOURS)`, in [0, 1] (future times count as now).
pub fn scaled_age(ms: f64) -> f32 {
    let hours = (ms / 3.6e6).max(0.0);
    ((1.0 + hours).ln() / (1.0 + AGE_HORIZON_HOURS).ln()).min(1.0) as f32
}

/// Encodes the events strictly before `moment.now_ms` (the last [`MAX_EVENTS`] of them, in time
/// order; `history` may be in any order) and the moment itself. `None` when there is no such
/// event: the model needs at least one.
pub fn encode(history: &[Observation], moment: &Moment) -> Option<ModelInput> {
    let mut past: Vec<&Observation> = history
        .iter()
        .filter(|o| o.at_ms.is_finite() && o.at_ms < moment.now_ms)
        .collect();
    past.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    if past.is_empty() {
        return None;
    }
    let past = &past[past.len().saturating_sub(MAX_EVENTS)..];
    let len = past.len();
    let mut events = vec![0.0f32; MAX_EVENTS * EVENT_DIM];
    let mut mask = vec![0.0f32; MAX_EVENTS];
    for (k, o) in past.iter().enumerate() {
        let row = MAX_EVENTS - len + k;
        mask[row] = 1.0;
        let f = &mut events[row * EVENT_DIM..(row + 1) * EVENT_DIM];
        if let Some(m) = o.mood {
            f[0] = m.valence.get();
            f[1] = m.arousal.get();
            f[2] = 1.0;
        }
        if let Some(s) = o.song {
            f[3] = s.valence.get();
            f[4] = s.arousal.get();
            f[5] = 1.0;
        }
        if let Some(r) = o.rating {
            f[6] = r.centred();
            f[7] = 1.0;
        }
        if let Some(h) = o.heart.filter(|h| h.is_finite()) {
            f[8] = clamp1(h);
            f[9] = 1.0;
        }
        f[10] = scaled_age(moment.now_ms - o.at_ms);
        // 1 for the newest event, falling to 1/MAX_EVENTS for the oldest one the model can see.
        f[11] = (MAX_EVENTS - (len - 1 - k)) as f32 / MAX_EVENTS as f32;
    }
    let mut context = vec![0.0f32; CONTEXT_DIM];
    if let Some(h) = moment.heart.filter(|h| h.is_finite()) {
        context[0] = clamp1(h);
        context[1] = 1.0;
    }
    match moment.period {
        Some(DayPeriod::Morning) => context[2] = 1.0,
        Some(DayPeriod::Afternoon) => context[3] = 1.0,
        Some(DayPeriod::Evening) => context[4] = 1.0,
        None => {}
    }
    context[5] = scaled_age(moment.now_ms - past[len - 1].at_ms);
    // The user's mean stated mood over the window: on SiTunes a strong prior (moods revert).
    let moods: Vec<&Emotion> = past.iter().filter_map(|o| o.mood.as_ref()).collect();
    if !moods.is_empty() {
        let n = moods.len() as f32;
        context[6] = moods.iter().map(|m| m.valence.get()).sum::<f32>() / n;
        context[7] = moods.iter().map(|m| m.arousal.get()).sum::<f32>() / n;
        context[8] = 1.0;
    }
    Some(ModelInput {
        events,
        mask,
        context,
        len,
    })
}

/// What the model says about the user's state now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateEstimate {
    /// Estimated valence and arousal in [-1, 1].
    pub emotion: Emotion,
    /// The model's standard deviation for valence and arousal (from its predicted log-variance).
    pub sd: [f32; 2],
    /// Attention over the real events, oldest first (sums to 1).
    pub attention: Vec<f32>,
}

impl StateEstimate {
    /// Builds an estimate from raw model outputs for an input of `len` events; checks them.
    pub fn from_outputs(
        state: [f32; 2],
        log_var: [f32; 2],
        attention_rows: &[f32],
        len: usize,
    ) -> Result<StateEstimate, String> {
        if attention_rows.len() != MAX_EVENTS || len == 0 || len > MAX_EVENTS {
            return Err(format!(
                "attention has {} rows for {len} events",
                attention_rows.len()
            ));
        }
        if state
            .iter()
            .chain(&log_var)
            .chain(attention_rows)
            .any(|x| !x.is_finite())
        {
            return Err("the model returned a non-finite value".into());
        }
        let attention: Vec<f32> = attention_rows[MAX_EVENTS - len..].to_vec();
        let total: f32 = attention.iter().sum();
        let attention = if total > 0.0 {
            attention.iter().map(|a| a / total).collect()
        } else {
            vec![1.0 / len as f32; len]
        };
        let sd = log_var.map(|lv| (0.5 * lv.clamp(-12.0, 6.0)).exp());
        Ok(StateEstimate {
            emotion: Emotion::va(state[0], state[1]),
            sd,
            attention,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(at_ms: f64, mood: Option<(f32, f32)>, song: Option<(f32, f32)>) -> Observation {
        Observation {
            at_ms,
            mood: mood.map(|(v, a)| Emotion::va(v, a)),
            song: song.map(|(v, a)| Emotion::va(v, a)),
            rating: None,
            heart: None,
        }
    }

    const HOUR: f64 = 3.6e6;

    #[test]
    fn encodes_in_time_order_padded_at_the_front() {
        let h = [
            obs(2.0 * HOUR, None, Some((0.5, -0.5))),
            obs(1.0 * HOUR, Some((0.2, 0.4)), None),
            obs(9.0 * HOUR, Some((0.9, 0.9)), None), // the future: not seen
        ];
        let m = Moment {
            now_ms: 3.0 * HOUR,
            heart: Some(0.3),
            period: Some(DayPeriod::Evening),
        };
        let x = encode(&h, &m).unwrap();
        assert_eq!(x.len, 2);
        assert_eq!(x.mask.iter().sum::<f32>(), 2.0);
        assert_eq!(x.mask[MAX_EVENTS - 3], 0.0);
        let old = x.row(x.row_of_event(0));
        assert_eq!(&old[..3], &[0.2, 0.4, 1.0]);
        assert_eq!(old[5], 0.0);
        let new = x.row(MAX_EVENTS - 1);
        assert_eq!(&new[3..6], &[0.5, -0.5, 1.0]);
        assert_eq!(new[11], 1.0);
        assert!(old[10] > new[10], "older events are older");
        assert_eq!(&x.context[..5], &[0.3, 1.0, 0.0, 0.0, 1.0]);
        assert!((x.context[5] - scaled_age(HOUR)).abs() < 1e-7);
        assert_eq!(&x.context[6..], &[0.2, 0.4, 1.0]);
    }

    #[test]
    fn keeps_the_newest_events_and_needs_one() {
        let m = Moment {
            now_ms: 1e9,
            heart: None,
            period: None,
        };
        assert!(encode(&[], &m).is_none());
        let h: Vec<_> = (0..80)
            .map(|i| obs(i as f64, Some((i as f32 / 100.0, 0.0)), None))
            .collect();
        let x = encode(&h, &m).unwrap();
        assert_eq!(x.len, MAX_EVENTS);
        assert_eq!(x.row(0)[0], 0.30, "the oldest kept is event 30");
        assert_eq!(x.row(MAX_EVENTS - 1)[0], 0.79);
        assert!(x.events.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn hostile_values_stay_in_range() {
        let h = [Observation {
            at_ms: 0.0,
            mood: None,
            song: None,
            rating: Some(Rating::new(f32::NAN)),
            heart: Some(f32::INFINITY),
        }];
        let m = Moment {
            now_ms: f64::MAX,
            heart: Some(-7.0),
            period: None,
        };
        let x = encode(&h, &m).unwrap();
        assert!(x.events.iter().chain(&x.context).all(|v| v.is_finite()));
        assert_eq!(
            x.row(MAX_EVENTS - 1)[9],
            0.0,
            "an infinite heart is no reading"
        );
        assert_eq!(x.context[0], -1.0);
        assert_eq!(x.row(MAX_EVENTS - 1)[10], 1.0);
    }

    #[test]
    fn estimates_normalise_attention_and_reject_nan() {
        let mut rows = vec![0.0; MAX_EVENTS];
        rows[MAX_EVENTS - 2] = 0.25;
        rows[MAX_EVENTS - 1] = 0.5;
        let e = StateEstimate::from_outputs([0.1, -0.2], [0.0, -2.0], &rows, 2).unwrap();
        assert!((e.attention[0] - 1.0 / 3.0).abs() < 1e-6);
        assert!((e.sd[1] - (-1.0f32).exp()).abs() < 1e-6);
        assert!(StateEstimate::from_outputs([f32::NAN, 0.0], [0.0; 2], &rows, 2).is_err());
        assert!(StateEstimate::from_outputs([0.0; 2], [0.0; 2], &rows[1..], 2).is_err());
    }

    #[test]
    fn day_periods_follow_situnes() {
        assert_eq!(DayPeriod::from_hour(9), Some(DayPeriod::Morning));
        assert_eq!(DayPeriod::from_hour(13), Some(DayPeriod::Afternoon));
        assert_eq!(DayPeriod::from_hour(1), Some(DayPeriod::Evening));
        assert_eq!(DayPeriod::from_hour(5), None);
        assert_eq!(DayPeriod::from_situnes(2), Some(DayPeriod::Afternoon));
    }
}
