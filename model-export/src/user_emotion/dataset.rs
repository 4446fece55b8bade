//! SiTunes plays -> the model's examples: for each play, the user's mood *before* it is the
//! target, and every event before that moment (earlier plays, ratings, moods stated before and
//! after them, wrist heart rate) is the history, encoded by the engine's `user_emotion::encode`
//! exactly as the browser encodes its own history.

use crate::ingest::situnes::Play;
use attune_engine::heart::signal::HR_SPAN_BPM;
use attune_engine::user_emotion::{
    encode, DayPeriod, ModelInput, Moment, Observation, Rating, CONTEXT_DIM, EVENT_DIM,
};
use attune_engine::Emotion;
use std::collections::{BTreeMap, HashMap};

/// Seconds assumed for a play whose duration was not recorded.
pub const DEFAULT_LISTEN_S: f64 = 180.0;

/// One prediction task.
#[derive(Debug, Clone)]
pub struct Example {
    /// `user_id`.
    pub user: u32,
    /// The encoded history and moment.
    pub input: ModelInput,
    /// Valence and arousal reported before this play.
    pub target: [f32; 2],
    /// Every observation before the moment, oldest first (for the baselines).
    pub past: Vec<Observation>,
    /// The moment.
    pub moment: Moment,
}

/// The heart arousal of a play: the engine's heart-rate term, mean centred bpm / `HR_SPAN_BPM`.
pub fn heart_of(p: &Play) -> Option<f32> {
    p.at.heart_bpm()
        .map(|b| (b as f32 / HR_SPAN_BPM).clamp(-1.0, 1.0))
}

/// A play as the events a user of the app would have produced: the mood stated before it, the
/// play itself with its rating and the wrist reading, and the mood stated after it.
fn observations(p: &Play, end_s: f64, items: &HashMap<u32, Emotion>) -> [Observation; 3] {
    let heart = heart_of(p);
    let mood = |va: [f32; 2]| Some(Emotion::va(va[0], va[1]));
    [
        Observation {
            at_ms: p.at.timestamp * 1e3,
            mood: mood(p.pre),
            song: None,
            rating: None,
            heart: None,
        },
        Observation {
            at_ms: end_s * 1e3,
            mood: None,
            song: items.get(&p.at.item).copied(),
            rating: Some(Rating::new(p.at.rating)),
            heart,
        },
        Observation {
            at_ms: end_s * 1e3 + 1.0,
            mood: mood(p.post),
            song: None,
            rating: None,
            heart: None,
        },
    ]
}

/// Each user's examples in time order (a user's first play has no history and is no target).
pub fn examples(plays: &[Play], items: &HashMap<u32, Emotion>) -> BTreeMap<u32, Vec<Example>> {
    let mut by_user: BTreeMap<u32, Vec<&Play>> = BTreeMap::new();
    for p in plays {
        by_user.entry(p.at.user).or_default().push(p);
    }
    let mut out = BTreeMap::new();
    for (user, mut ps) in by_user {
        ps.sort_by(|a, b| a.at.timestamp.total_cmp(&b.at.timestamp));
        let mut obs = Vec::with_capacity(ps.len() * 3);
        for (i, p) in ps.iter().enumerate() {
            let next = ps.get(i + 1).map_or(f64::INFINITY, |n| n.at.timestamp);
            let end = (p.at.timestamp + p.at.duration.unwrap_or(DEFAULT_LISTEN_S)).min(next - 1.0);
            obs.extend(observations(p, end.max(p.at.timestamp), items));
        }
        let mut list = Vec::new();
        for p in &ps {
            let moment = Moment {
                now_ms: p.at.timestamp * 1e3,
                heart: heart_of(p),
                period: p.at.period().and_then(DayPeriod::from_situnes),
            };
            let past: Vec<Observation> = obs
                .iter()
                .filter(|o| o.at_ms < moment.now_ms)
                .copied()
                .collect();
            if let Some(input) = encode(&past, &moment) {
                list.push(Example {
                    user,
                    input,
                    target: p.pre,
                    past,
                    moment,
                });
            }
        }
        out.insert(user, list);
    }
    out
}

/// Train / validation / test examples.
#[derive(Debug, Clone, Default)]
pub struct Split {
    /// Fitted on.
    pub train: Vec<Example>,
    /// Chooses epochs and hyper-parameters.
    pub valid: Vec<Example>,
    /// Reported.
    pub test: Vec<Example>,
}

/// The last `share` of each list (at least one when the list has four or more).
fn cut(n: usize, share: f64) -> usize {
    let k = (n as f64 * share).round() as usize;
    if n >= 4 {
        k.max(1)
    } else {
        k
    }
}

/// Splits each user's examples in time: the first part trains (its last `valid_share` validates),
/// the last `test_share` is tested. Nothing is shuffled across the split.
pub fn temporal_split(
    by_user: BTreeMap<u32, Vec<Example>>,
    test_share: f64,
    valid_share: f64,
) -> Split {
    let mut s = Split::default();
    for (_, mut list) in by_user {
        let test = list.split_off(list.len() - cut(list.len(), test_share));
        let valid = list.split_off(list.len() - cut(list.len(), valid_share));
        s.train.extend(list);
        s.valid.extend(valid);
        s.test.extend(test);
    }
    s
}

/// Zeroes input features for an ablation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Keep everything.
    Nothing,
    /// No heart rate, in the history or now.
    Heart,
    /// No song emotion.
    Song,
}

impl Drop {
    /// The example's input with the features removed.
    pub fn apply(self, x: &ModelInput) -> ModelInput {
        let mut x = x.clone();
        let (event_cols, context_cols): (&[usize], &[usize]) = match self {
            Drop::Nothing => (&[], &[]),
            Drop::Heart => (&[8, 9], &[0, 1]),
            Drop::Song => (&[3, 4, 5], &[]),
        };
        for row in x.events.chunks_exact_mut(EVENT_DIM) {
            for &c in event_cols {
                row[c] = 0.0;
            }
        }
        debug_assert_eq!(x.context.len(), CONTEXT_DIM);
        for &c in context_cols {
            x.context[c] = 0.0;
        }
        x
    }
}
