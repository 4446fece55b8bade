//! The emotion space: valence, arousal and dominance, each on one scale, [-1, 1].
//!
//! Every source (tag lexicons, Deezer's track labels, the mood a user places on the plane) is mapped
//! onto this scale before it reaches the engine, so the engine never sees a raw 1..9 or 0..1 value.

use serde::{Deserialize, Serialize};

/// One emotion axis value, always finite and within [-1, 1].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(try_from = "f32", into = "f32")]
pub struct Axis(f32);

impl Axis {
    /// Neutral point of the axis.
    pub const ZERO: Axis = Axis(0.0);

    /// Clamps `x` into [-1, 1]; non-finite input becomes 0 (neutral).
    pub fn clamped(x: f32) -> Axis {
        if x.is_finite() {
            Axis(x.clamp(-1.0, 1.0))
        } else {
            Axis(0.0)
        }
    }

    /// The value, in [-1, 1].
    pub fn get(self) -> f32 {
        self.0
    }

    /// Quantises to a signed byte (x * 127, rounded), the on-disk form.
    pub fn to_i8(self) -> i8 {
        (self.0 * 127.0).round() as i8
    }

    /// Inverse of [`Axis::to_i8`]; -128 maps to -1.
    pub fn from_i8(q: i8) -> Axis {
        Axis::clamped(f32::from(q) / 127.0)
    }
}

impl TryFrom<f32> for Axis {
    type Error = String;
    fn try_from(x: f32) -> Result<Self, Self::Error> {
        if x.is_finite() && (-1.0..=1.0).contains(&x) {
            Ok(Axis(x))
        } else {
            Err(format!("emotion axis value {x} is outside [-1, 1]"))
        }
    }
}

impl From<Axis> for f32 {
    fn from(a: Axis) -> f32 {
        a.0
    }
}

/// A point in valence-arousal-dominance space.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Emotion {
    /// Unpleasant (-1) to pleasant (+1).
    pub valence: Axis,
    /// Calm (-1) to excited (+1).
    pub arousal: Axis,
    /// Submissive (-1) to in control (+1); 0 where unknown.
    pub dominance: Axis,
}

impl Emotion {
    /// The neutral centre of the space.
    pub const NEUTRAL: Emotion = Emotion {
        valence: Axis::ZERO,
        arousal: Axis::ZERO,
        dominance: Axis::ZERO,
    };

    /// Builds an emotion from raw values, clamping each into [-1, 1].
    pub fn new(valence: f32, arousal: f32, dominance: f32) -> Emotion {
        Emotion {
            valence: Axis::clamped(valence),
            arousal: Axis::clamped(arousal),
            dominance: Axis::clamped(dominance),
        }
    }

    /// A valence-arousal point with neutral dominance.
    pub fn va(valence: f32, arousal: f32) -> Emotion {
        Emotion::new(valence, arousal, 0.0)
    }

    /// Euclidean distance in the valence-arousal plane (dominance is too noisy to match on).
    pub fn va_distance(&self, other: &Emotion) -> f32 {
        let dv = self.valence.get() - other.valence.get();
        let da = self.arousal.get() - other.arousal.get();
        (dv * dv + da * da).sqrt()
    }

    /// Emotional fit in [0, 1]: a Gaussian kernel on the valence-arousal distance
    /// (1 = same point, ~0.14 at distance 1, ~0 at opposite corners).
    pub fn fit(&self, other: &Emotion) -> f32 {
        let d = self.va_distance(other);
        (-d * d / (2.0 * FIT_SIGMA * FIT_SIGMA)).exp()
    }

    /// The quadrant of the valence-arousal plane this point lies in.
    pub fn quadrant(&self) -> Quadrant {
        match (self.valence.get() >= 0.0, self.arousal.get() >= 0.0) {
            (true, true) => Quadrant::Q1,
            (false, true) => Quadrant::Q2,
            (false, false) => Quadrant::Q3,
            (true, false) => Quadrant::Q4,
        }
    }

    /// A short plain-words description such as "calm and positive" or "neutral".
    pub fn describe(&self) -> String {
        let v = self.valence.get();
        let a = self.arousal.get();
        let energy = if a > DESCRIBE_DEADBAND {
            Some("energetic")
        } else if a < -DESCRIBE_DEADBAND {
            Some("calm")
        } else {
            None
        };
        let mood = if v > DESCRIBE_DEADBAND {
            Some("positive")
        } else if v < -DESCRIBE_DEADBAND {
            Some("dark")
        } else {
            None
        };
        match (energy, mood) {
            (Some(e), Some(m)) => format!("{e} and {m}"),
            (Some(e), None) => e.to_string(),
            (None, Some(m)) => m.to_string(),
            (None, None) => "neutral".to_string(),
        }
    }

    /// Weighted mean of emotions; `None` when the weights sum to zero.
    pub fn weighted_mean<I>(items: I) -> Option<Emotion>
    where
        I: IntoIterator<Item = (Emotion, f32)>,
    {
        let (mut v, mut a, mut d, mut w) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for (e, wi) in items {
            if wi > 0.0 && wi.is_finite() {
                v += e.valence.get() * wi;
                a += e.arousal.get() * wi;
                d += e.dominance.get() * wi;
                w += wi;
            }
        }
        (w > 0.0).then(|| Emotion::new(v / w, a / w, d / w))
    }
}

/// Width of the emotional-fit kernel on the valence-arousal plane.
pub const FIT_SIGMA: f32 = 0.5;
const DESCRIBE_DEADBAND: f32 = 0.15;

/// The four quadrants of the valence-arousal plane (EMOPIA's labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Quadrant {
    /// Positive valence, high arousal (happy, excited).
    Q1,
    /// Negative valence, high arousal (angry, tense).
    Q2,
    /// Negative valence, low arousal (sad, tired).
    Q3,
    /// Positive valence, low arousal (calm, content).
    Q4,
}

impl Quadrant {
    /// All four, in the order models output them.
    pub const ALL: [Quadrant; 4] = [Quadrant::Q1, Quadrant::Q2, Quadrant::Q3, Quadrant::Q4];

    /// 0..4, in [`Quadrant::ALL`] order.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether valence is positive (Q1, Q4).
    pub fn positive_valence(self) -> bool {
        matches!(self, Quadrant::Q1 | Quadrant::Q4)
    }

    /// Whether arousal is high (Q1, Q2).
    pub fn high_arousal(self) -> bool {
        matches!(self, Quadrant::Q1 | Quadrant::Q2)
    }

    /// "Q1".."Q4".
    pub fn name(self) -> &'static str {
        ["Q1", "Q2", "Q3", "Q4"][self.index()]
    }

    /// The most probable quadrant of probabilities in [`Quadrant::ALL`] order.
    pub fn argmax(p: &[f32; 4]) -> Quadrant {
        let mut best = 0;
        for q in 1..4 {
            if p[q] > p[best] {
                best = q;
            }
        }
        Quadrant::ALL[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_clamps_and_rejects_nan() {
        assert_eq!(Axis::clamped(3.0).get(), 1.0);
        assert_eq!(Axis::clamped(-3.0).get(), -1.0);
        assert_eq!(Axis::clamped(f32::NAN).get(), 0.0);
        assert!(Axis::try_from(1.5).is_err());
    }

    #[test]
    fn i8_round_trip_is_within_half_a_step() {
        for i in -100..=100 {
            let x = i as f32 / 100.0;
            let back = Axis::from_i8(Axis::clamped(x).to_i8()).get();
            assert!((back - x).abs() <= 0.5 / 127.0 + 1e-6, "{x} -> {back}");
        }
        assert_eq!(Axis::from_i8(i8::MIN).get(), -1.0);
    }

    #[test]
    fn fit_is_one_at_same_point_and_falls_with_distance() {
        let a = Emotion::va(0.5, -0.5);
        assert!((a.fit(&a) - 1.0).abs() < 1e-6);
        let near = Emotion::va(0.4, -0.4);
        let far = Emotion::va(-0.8, 0.9);
        assert!(a.fit(&near) > a.fit(&far));
        assert!(a.fit(&far) < 0.01);
    }

    #[test]
    fn quadrants_and_words() {
        assert_eq!(Emotion::va(0.5, 0.5).quadrant(), Quadrant::Q1);
        assert_eq!(Emotion::va(-0.5, 0.5).quadrant(), Quadrant::Q2);
        assert_eq!(Emotion::va(-0.5, -0.5).quadrant(), Quadrant::Q3);
        assert_eq!(Emotion::va(0.5, -0.5).quadrant(), Quadrant::Q4);
        assert_eq!(Emotion::va(0.6, -0.6).describe(), "calm and positive");
        assert_eq!(Emotion::va(0.0, 0.0).describe(), "neutral");
        assert_eq!(Emotion::va(-0.5, 0.05).describe(), "dark");
    }

    #[test]
    fn weighted_mean_ignores_zero_weights() {
        assert!(Emotion::weighted_mean([(Emotion::va(1.0, 1.0), 0.0)]).is_none());
        let m =
            Emotion::weighted_mean([(Emotion::va(1.0, 0.0), 3.0), (Emotion::va(-1.0, 0.0), 1.0)])
                .unwrap();
        assert!((m.valence.get() - 0.5).abs() < 1e-6);
    }
}
