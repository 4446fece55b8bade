//! The listening history the device keeps: what the user did and when (plays, likes, "not for me",
//! stated moods), each with the heart's reading at that moment when a strap read well. It is the
//! user-emotion model's input ([`crate::user_emotion`]); nothing of it leaves the device.

use crate::emotion::Emotion;
use crate::user_emotion::{Observation, Rating};
use serde::{Deserialize, Serialize};

/// Most events kept (oldest dropped first).
pub const MAX_HISTORY: usize = 5000;

/// What the user listened to or judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    /// A catalog artist, by stable id.
    Artist {
        /// Stable artist id.
        artist_id: u32,
    },
    /// A file of "My library", by name and size.
    File {
        /// The file's name.
        name: String,
        /// Its size in bytes.
        bytes: u64,
    },
}

/// One thing the user did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Placed their mood on the plane.
    Mood {
        /// The stated mood.
        emotion: Emotion,
    },
    /// Played something (a library file, or "Listen" on a pick).
    Play {
        /// What.
        item: Item,
    },
    /// Liked an artist (reads as a 5-star rating).
    Like {
        /// What.
        item: Item,
    },
    /// "Not for me" (reads as a 1-star rating).
    NotForMe {
        /// What.
        item: Item,
    },
}

impl Event {
    /// The item the event is about, if any.
    pub fn item(&self) -> Option<&Item> {
        match self {
            Event::Mood { .. } => None,
            Event::Play { item } | Event::Like { item } | Event::NotForMe { item } => Some(item),
        }
    }

    /// A short label ("Mood", "Played", "Liked", "Not for me").
    pub fn label(&self) -> &'static str {
        match self {
            Event::Mood { .. } => "Mood",
            Event::Play { .. } => "Played",
            Event::Like { .. } => "Liked",
            Event::NotForMe { .. } => "Not for me",
        }
    }
}

/// An event with its time, sequence number and the heart's reading then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Strictly increasing within a profile: a write that is replayed cannot duplicate an event.
    pub seq: u64,
    /// When, in ms since the epoch.
    pub at_ms: f64,
    /// What happened.
    pub event: Event,
    /// Heart arousal in [-1, 1] from the user's strap at that moment, if it read well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heart: Option<f32>,
}

/// The history: events in the order they happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    events: Vec<HistoryEvent>,
}

impl History {
    /// The events, oldest first.
    pub fn events(&self) -> &[HistoryEvent] {
        &self.events
    }

    /// How many events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The sequence number the next event gets.
    pub fn next_seq(&self) -> u64 {
        self.events.last().map_or(1, |e| e.seq + 1)
    }

    /// Appends an event (times that go backwards are raised to the last event's) and drops the
    /// oldest beyond [`MAX_HISTORY`]. Returns its sequence number.
    pub fn push(&mut self, at_ms: f64, event: Event, heart: Option<f32>) -> u64 {
        let last = self.events.last().map_or(f64::MIN, |e| e.at_ms);
        let at_ms = if at_ms.is_finite() {
            at_ms.max(last)
        } else {
            last.max(0.0)
        };
        let seq = self.next_seq();
        let heart = heart.filter(|h| h.is_finite()).map(|h| h.clamp(-1.0, 1.0));
        self.events.push(HistoryEvent {
            seq,
            at_ms,
            event,
            heart,
        });
        if self.events.len() > MAX_HISTORY {
            let extra = self.events.len() - MAX_HISTORY;
            self.events.drain(..extra);
        }
        seq
    }

    /// The events as the model reads them; `song` gives the emotion of an item (catalog label or
    /// the music-emotion model's analysis), if known.
    pub fn observations(&self, song: impl Fn(&Item) -> Option<Emotion>) -> Vec<Observation> {
        self.events
            .iter()
            .map(|e| {
                let (mood, rating) = match &e.event {
                    Event::Mood { emotion } => (Some(*emotion), None),
                    Event::Play { .. } => (None, None),
                    Event::Like { .. } => (None, Some(Rating::new(5.0))),
                    Event::NotForMe { .. } => (None, Some(Rating::new(1.0))),
                };
                Observation {
                    at_ms: e.at_ms,
                    mood,
                    song: e.event.item().and_then(&song),
                    rating,
                    heart: e.heart,
                }
            })
            .collect()
    }

    /// Checks what a stored history must hold: increasing sequence numbers, finite
    /// non-decreasing times, heart readings in range.
    pub fn validate(&self) -> Result<(), String> {
        for w in self.events.windows(2) {
            if w[1].seq <= w[0].seq {
                return Err(format!("event {} repeats or reorders", w[1].seq));
            }
            if w[1].at_ms < w[0].at_ms {
                return Err(format!("event {} goes back in time", w[1].seq));
            }
        }
        for e in &self.events {
            if !e.at_ms.is_finite() {
                return Err(format!("event {} has no valid time", e.seq));
            }
            if e.heart.is_some_and(|h| !(-1.0..=1.0).contains(&h)) {
                return Err(format!("event {} has a heart reading out of range", e.seq));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artist(id: u32) -> Item {
        Item::Artist { artist_id: id }
    }

    #[test]
    fn pushes_in_order_with_sequence_numbers_and_bounds() {
        let mut h = History::default();
        assert_eq!(h.push(10.0, Event::Play { item: artist(1) }, Some(3.0)), 1);
        assert_eq!(h.push(5.0, Event::Like { item: artist(1) }, None), 2);
        assert_eq!(h.events()[1].at_ms, 10.0, "time never goes back");
        assert_eq!(h.events()[0].heart, Some(1.0));
        for i in 0..MAX_HISTORY {
            h.push(20.0 + i as f64, Event::Play { item: artist(2) }, None);
        }
        assert_eq!(h.len(), MAX_HISTORY);
        assert_eq!(h.events()[0].seq, 3);
        assert!(h.validate().is_ok());
    }

    #[test]
    fn observations_read_likes_as_ratings_and_look_songs_up() {
        let mut h = History::default();
        h.push(
            1.0,
            Event::Mood {
                emotion: Emotion::va(0.5, 0.5),
            },
            None,
        );
        h.push(2.0, Event::Like { item: artist(7) }, None);
        h.push(3.0, Event::NotForMe { item: artist(8) }, Some(0.2));
        let o = h.observations(|i| (i == &artist(7)).then(|| Emotion::va(-0.4, 0.1)));
        assert_eq!(o[0].mood, Some(Emotion::va(0.5, 0.5)));
        assert_eq!(o[1].rating.unwrap().get(), 5.0);
        assert_eq!(o[1].song, Some(Emotion::va(-0.4, 0.1)));
        assert_eq!(o[2].rating.unwrap().get(), 1.0);
        assert_eq!(o[2].song, None);
        assert_eq!(o[2].heart, Some(0.2));
    }

    #[test]
    fn round_trips_and_rejects_reordered_events() {
        let mut h = History::default();
        h.push(
            1.0,
            Event::Play {
                item: Item::File {
                    name: "a.ogg".into(),
                    bytes: 3,
                },
            },
            None,
        );
        h.push(2.0, Event::NotForMe { item: artist(1) }, None);
        let text = serde_json::to_string(&h).unwrap();
        let back: History = serde_json::from_str(&text).unwrap();
        assert_eq!(back, h);
        let bad = text.replace("\"seq\":2", "\"seq\":1");
        let bad: History = serde_json::from_str(&bad).unwrap();
        assert!(bad.validate().is_err());
    }
}
