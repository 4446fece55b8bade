//! The user's current emotional state: the stated mood fused with live signals by confidence, and
//! how much that state should weigh against taste.

use crate::emotion::Emotion;
use crate::rank::MoodStrength;
use crate::user_emotion::StateEstimate;
use serde::Serialize;

/// Standard deviation of a mood stated just now (per axis, on [-1, 1]).
pub const STATED_SD_NOW: f32 = 0.1;
/// Standard deviation a stated mood tends to as it ages: on SiTunes Stage 2 the mood reported
/// after one listen misses the one reported before the next, 1 to 12 hours later, by RMSE 0.446
/// (657 pairs; 0.405 within the hour, 0.512 after 12 hours).
pub const STATED_SD_OLD: f32 = 0.45;
/// Hours for a stated mood's uncertainty to cover 63% of the way from new to old.
pub const STATED_SD_HOURS: f64 = 1.0;

/// How uncertain a mood stated `age_ms` ago is about the present.
pub fn stated_sd(age_ms: f64) -> f32 {
    let t = (age_ms.max(0.0) / 3.6e6 / STATED_SD_HOURS) as f32;
    STATED_SD_OLD - (STATED_SD_OLD - STATED_SD_NOW) * (-t).exp()
}

/// The stated mood and the user-emotion model's estimate blended by precision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Blend {
    /// The blended state.
    pub emotion: Emotion,
    /// The model's share of it, valence and arousal, in [0, 1] (0 without an estimate).
    pub model_share: [f32; 2],
}

/// Blends the last stated mood (`age_ms` old) with the model's estimate, axis by axis, by
/// precision (`1/sd²`): a fresh statement dominates, an old one gives way to the model, which
/// has read everything since. Either may be absent.
pub fn blend_estimate(
    stated: Option<(Emotion, f64)>,
    estimate: Option<&StateEstimate>,
) -> Option<Blend> {
    let estimate = estimate.filter(|e| e.sd.iter().all(|s| s.is_finite() && *s > 0.0));
    match (stated, estimate) {
        (None, None) => None,
        (Some((s, _)), None) => Some(Blend {
            emotion: s,
            model_share: [0.0; 2],
        }),
        (None, Some(e)) => Some(Blend {
            emotion: e.emotion,
            model_share: [1.0; 2],
        }),
        (Some((s, age)), Some(e)) => {
            let ps = stated_sd(age).powi(-2);
            let share = e.sd.map(|sd| {
                let pm = sd.powi(-2);
                pm / (pm + ps)
            });
            let mix = |a: f32, b: f32, w: f32| (1.0 - w) * a + w * b;
            Some(Blend {
                emotion: Emotion::new(
                    mix(s.valence.get(), e.emotion.valence.get(), share[0]),
                    mix(s.arousal.get(), e.emotion.arousal.get(), share[1]),
                    s.dominance.get(),
                ),
                model_share: share,
            })
        }
    }
}

/// A live arousal reading (e.g. from a heart-rate strap), already weighted by its own evidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LiveArousal {
    /// Arousal in [-1, 1].
    pub arousal: f32,
    /// Confidence in [0, 1] (0 = ignore: stale, not yet calibrated, or untrusted).
    pub confidence: f32,
}

/// The fused state the ranking uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurrentState {
    /// Emotion to match, if any signal exists.
    pub emotion: Option<Emotion>,
    /// Mood strength after the live signal's shift.
    pub mood_strength: MoodStrength,
    /// How far the live signal moved arousal (fused minus stated; 0 without a live signal).
    pub arousal_shift: f32,
}

/// Fuses the stated mood with a live arousal reading.
///
/// Arousal becomes the confidence-weighted blend `(1-c)·stated + c·live` (with no stated mood, the
/// live arousal at neutral valence). A confident live signal also raises the mood strength
/// toward 1 by up to half the remaining distance (`β + (1-β)·c/2`): the body's state is evidence
/// about the moment, so the moment should count more.
pub fn fuse(
    stated: Option<Emotion>,
    strength: MoodStrength,
    live: Option<LiveArousal>,
) -> CurrentState {
    let live =
        live.filter(|l| l.confidence.is_finite() && l.confidence > 0.0 && l.arousal.is_finite());
    match (stated, live) {
        (s, None) => CurrentState {
            emotion: s,
            mood_strength: strength,
            arousal_shift: 0.0,
        },
        (s, Some(l)) => {
            let c = l.confidence.clamp(0.0, 1.0);
            let base = s.unwrap_or(Emotion::NEUTRAL);
            let stated_a = base.arousal.get();
            let fused_a = (1.0 - c) * stated_a + c * l.arousal.clamp(-1.0, 1.0);
            let beta = strength.get();
            CurrentState {
                emotion: Some(Emotion::new(
                    base.valence.get(),
                    fused_a,
                    base.dominance.get(),
                )),
                mood_strength: MoodStrength::new(beta + (1.0 - beta) * c / 2.0),
                arousal_shift: fused_a - stated_a,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(v: f32, a: f32, sd: f32) -> StateEstimate {
        StateEstimate {
            emotion: Emotion::va(v, a),
            sd: [sd, sd],
            attention: vec![1.0],
        }
    }

    #[test]
    fn a_fresh_statement_dominates_and_an_old_one_gives_way() {
        let stated = Emotion::va(0.8, 0.8);
        let e = estimate(-0.4, -0.4, 0.3);
        let fresh = blend_estimate(Some((stated, 0.0)), Some(&e)).unwrap();
        assert!(fresh.model_share[0] < 0.15, "{:?}", fresh.model_share);
        assert!(fresh.emotion.valence.get() > 0.6);
        let old = blend_estimate(Some((stated, 6.0 * 3.6e6)), Some(&e)).unwrap();
        assert!(old.model_share[0] > 0.6, "{:?}", old.model_share);
        assert!(old.emotion.valence.get() < 0.0);
        let alone = blend_estimate(None, Some(&e)).unwrap();
        assert_eq!(alone.emotion, e.emotion);
        assert_eq!(
            blend_estimate(Some((stated, 0.0)), None).unwrap().emotion,
            stated
        );
        assert!(blend_estimate(None, None).is_none());
        let nan = estimate(0.0, 0.0, f32::NAN);
        assert_eq!(blend_estimate(None, Some(&nan)), None);
        assert!((stated_sd(0.0) - STATED_SD_NOW).abs() < 1e-6 && stated_sd(1e12) > 0.449);
    }

    #[test]
    fn no_live_signal_changes_nothing() {
        let m = Some(Emotion::va(0.3, -0.2));
        let s = fuse(m, MoodStrength::new(0.4), None);
        assert_eq!(s.emotion, m);
        assert_eq!(s.mood_strength.get(), 0.4);
        let z = fuse(
            m,
            MoodStrength::new(0.4),
            Some(LiveArousal {
                arousal: 0.9,
                confidence: 0.0,
            }),
        );
        assert_eq!(z.emotion, m);
    }

    #[test]
    fn confident_live_arousal_pulls_arousal_and_strength() {
        let m = Some(Emotion::va(0.3, -0.6));
        let s = fuse(
            m,
            MoodStrength::new(0.2),
            Some(LiveArousal {
                arousal: 0.8,
                confidence: 0.5,
            }),
        );
        let e = s.emotion.unwrap();
        assert!((e.arousal.get() - 0.1).abs() < 1e-6);
        assert!((e.valence.get() - 0.3).abs() < 1e-6, "valence is untouched");
        assert!((s.mood_strength.get() - 0.4).abs() < 1e-6);
        assert!((s.arousal_shift - 0.7).abs() < 1e-6);
    }

    #[test]
    fn live_signal_alone_gives_a_state_and_nan_is_ignored() {
        let s = fuse(
            None,
            MoodStrength::DEFAULT,
            Some(LiveArousal {
                arousal: -0.5,
                confidence: 1.0,
            }),
        );
        assert_eq!(s.emotion.unwrap().arousal.get(), -0.5);
        let n = fuse(
            None,
            MoodStrength::DEFAULT,
            Some(LiveArousal {
                arousal: f32::NAN,
                confidence: 1.0,
            }),
        );
        assert_eq!(n.emotion, None);
    }
}
