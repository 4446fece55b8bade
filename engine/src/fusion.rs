//! The user's current emotional state: the stated mood fused with live signals by confidence, and
//! how much that state should weigh against taste.

use crate::emotion::Emotion;
use crate::rank::MoodStrength;
use serde::Serialize;

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
