//! The profile as an append-only journal of changes, shared by every tab of the browser.
//!
//! Each tab writes under its own random [`WriterId`] with consecutive sequence numbers, and stamps
//! each entry with a Lamport clock (one more than the largest clock it has seen). The profile is
//! the [`Snapshot`] with every entry not yet in it applied in `(clock, writer, seq)` order: a total
//! order that does not depend on the order in which entries reached the store, so any interleaving
//! of two tabs' (or two devices') entries merges to the same profile. Compaction folds the entries
//! into the snapshot and remembers, per writer, the last sequence number folded, so an entry that
//! arrives again (a replayed write-ahead copy) is never applied twice.
//!
//! Platform-free: the browser's store (IndexedDB + a write-ahead copy in `localStorage`) lives in
//! the app and only moves the JSON this module reads and writes.

use crate::emotion::Emotion;
use crate::heart::HeartBaseline;
use crate::history::{Event, Item};
use crate::profile::{LibraryTrack, Profile};
use crate::rank::MoodStrength;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Schema of the stored snapshot and entries written by this build.
pub const JOURNAL_SCHEMA: u32 = 1;
/// Entries beyond which a writer folds the journal into the snapshot.
pub const COMPACT_AFTER: usize = 200;

/// Who wrote an entry: random per page load, so two tabs (or a tab and its duplicate) never share
/// sequence numbers. Stored as 16 hex digits (exact in JavaScript, unlike a 64-bit number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WriterId(u64);

impl WriterId {
    /// A writer id from 64 random bits.
    pub fn new(bits: u64) -> WriterId {
        WriterId(bits)
    }

    /// The 16-hex-digit form used in storage keys and JSON.
    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }

    /// Parses [`WriterId::hex`].
    pub fn parse(text: &str) -> Result<WriterId, String> {
        if text.len() != 16 {
            return Err(format!("writer id {text:?} is not 16 hex digits"));
        }
        u64::from_str_radix(text, 16)
            .map(WriterId)
            .map_err(|_| format!("writer id {text:?} is not 16 hex digits"))
    }
}

impl Serialize for WriterId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for WriterId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<WriterId, D::Error> {
        WriterId::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An entry's identity: its writer and that writer's sequence number (from 1, no gaps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryId {
    /// Who wrote it.
    pub writer: WriterId,
    /// The writer's sequence number, from 1.
    pub seq: u64,
}

impl EntryId {
    /// The storage key: sorts by writer, then sequence number.
    pub fn key(&self) -> String {
        format!("{}-{:016x}", self.writer.hex(), self.seq)
    }
}

/// One thing the user did to the profile. Applying it is deterministic: what an action means
/// ("already liked", "this reading calibrates") is decided when it is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// Liked an artist (logged in the history when it was not liked yet).
    Like {
        /// Stable artist id.
        artist_id: u32,
        /// The own heart's trustworthy arousal then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heart: Option<f32>,
    },
    /// Took a like back.
    Unlike {
        /// Stable artist id.
        artist_id: u32,
    },
    /// "Not for me" (logged in the history when it was not excluded yet).
    NotForMe {
        /// Stable artist id.
        artist_id: u32,
        /// The own heart's trustworthy arousal then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heart: Option<f32>,
    },
    /// Let an excluded artist back.
    Include {
        /// Stable artist id.
        artist_id: u32,
    },
    /// Played something.
    Play {
        /// What.
        item: Item,
        /// The own heart's trustworthy arousal then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heart: Option<f32>,
    },
    /// Stated a mood; with the own heart's trustworthy reading it is also a calibration pair.
    Mood {
        /// The mood.
        emotion: Emotion,
        /// The own heart's trustworthy arousal then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heart: Option<f32>,
    },
    /// Analysed a file into "My library".
    AddToLibrary {
        /// The file and its reading.
        track: LibraryTrack,
    },
    /// Removed a file from "My library".
    RemoveFromLibrary {
        /// The file's name.
        name: String,
        /// Its size.
        bytes: u64,
    },
    /// Moved the taste-versus-mood balance.
    MoodStrength {
        /// The new balance.
        value: f32,
    },
    /// Learned the resting heart baseline.
    HeartBaseline {
        /// The baseline.
        baseline: HeartBaseline,
    },
    /// Forgot the calibration pairs.
    ForgetCalibration,
    /// Replaced the whole profile (an import).
    Replace {
        /// The imported profile, read like a stored one (migrated, validated).
        #[serde(with = "profile_json")]
        profile: Box<Profile>,
    },
}

/// A profile inside a record, read like a stored one (migrated, validated), for both `Profile`
/// and `Box<Profile>` fields.
mod profile_json {
    use crate::profile::Profile;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::borrow::Borrow;
    pub fn serialize<S: Serializer, P: Borrow<Profile>>(p: &P, s: S) -> Result<S::Ok, S::Error> {
        p.borrow().serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>, P: From<Profile>>(d: D) -> Result<P, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Profile::from_json(&v.to_string())
            .map(P::from)
            .map_err(serde::de::Error::custom)
    }
}

impl Profile {
    /// Applies one change made at `at_ms`; whether the profile changed.
    pub fn apply(&mut self, at_ms: f64, change: &Change) -> bool {
        let artist = |artist_id| Item::Artist { artist_id };
        match change {
            Change::Like { artist_id, heart } => {
                let changed = self.like(*artist_id);
                if changed {
                    let item = artist(*artist_id);
                    self.log(at_ms, Event::Like { item }, *heart);
                }
                changed
            }
            Change::Unlike { artist_id } => self.unlike(*artist_id),
            Change::NotForMe { artist_id, heart } => {
                let changed = self.exclude(*artist_id);
                if changed {
                    let item = artist(*artist_id);
                    self.log(at_ms, Event::NotForMe { item }, *heart);
                }
                changed
            }
            Change::Include { artist_id } => self.include(*artist_id),
            Change::Play { item, heart } => {
                self.log(at_ms, Event::Play { item: item.clone() }, *heart);
                true
            }
            Change::Mood { emotion, heart } => {
                self.state_mood(*emotion, at_ms, *heart);
                if let Some(h) = heart.filter(|h| h.is_finite()) {
                    self.heart_calibration.record_pair(
                        at_ms,
                        crate::emotion::Axis::clamped(h),
                        emotion.arousal,
                    );
                }
                true
            }
            Change::AddToLibrary { track } => {
                self.add_to_library(track.clone());
                true
            }
            Change::RemoveFromLibrary { name, bytes } => self.remove_from_library(name, *bytes),
            Change::MoodStrength { value } => {
                let strength = MoodStrength::new(*value);
                let changed = self.mood_strength != strength;
                self.mood_strength = strength;
                changed
            }
            Change::HeartBaseline { baseline } => {
                let changed = self.heart_baseline != Some(*baseline);
                self.heart_baseline = Some(*baseline);
                changed
            }
            Change::ForgetCalibration => {
                let changed = !self.heart_calibration.is_empty();
                self.heart_calibration = Default::default();
                changed
            }
            Change::Replace { profile } => {
                let changed = **profile != *self;
                *self = (**profile).clone();
                changed
            }
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Schema of this entry ([`JOURNAL_SCHEMA`]).
    pub schema: u32,
    /// Writer and sequence number.
    pub id: EntryId,
    /// Lamport clock: larger than every clock its writer had seen.
    pub clock: u64,
    /// When, in ms since the epoch.
    pub at_ms: f64,
    /// What changed.
    pub change: Change,
}

/// Refuses a record written by a newer build (before its shape is read).
fn check_schema(text: &str) -> Result<(), RecordError> {
    let schema = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| RecordError::Unreadable(e.to_string()))?
        .get("schema")
        .and_then(|s| s.as_u64())
        .unwrap_or(0);
    if schema > u64::from(JOURNAL_SCHEMA) {
        return Err(RecordError::TooNew(schema as u32));
    }
    Ok(())
}

/// Why a stored record cannot be used (it is set aside, never applied).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not JSON of the expected shape.
    #[error("unreadable record: {0}")]
    Unreadable(String),
    /// Written by a newer build.
    #[error("record of schema {0}, newer than this build's {JOURNAL_SCHEMA}")]
    TooNew(u32),
    /// Stored under a key that is not its own id.
    #[error("record stored under {key:?} says it is {id:?}")]
    WrongKey {
        /// The key it was stored under.
        key: String,
        /// The key its id gives.
        id: String,
    },
}

impl Entry {
    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("entry serialises")
    }

    /// Reads a stored entry, checking it was stored under its own key (when one is given).
    pub fn from_json(text: &str, key: Option<&str>) -> Result<Entry, RecordError> {
        check_schema(text)?;
        let e: Entry =
            serde_json::from_str(text).map_err(|e| RecordError::Unreadable(e.to_string()))?;
        if e.id.seq == 0 || !e.at_ms.is_finite() {
            return Err(RecordError::Unreadable(
                "sequence number 0 or no valid time".into(),
            ));
        }
        if let Some(key) = key {
            if key != e.id.key() {
                return Err(RecordError::WrongKey {
                    key: key.to_string(),
                    id: e.id.key(),
                });
            }
        }
        Ok(e)
    }

    fn order(&self) -> (u64, WriterId, u64) {
        (self.clock, self.id.writer, self.id.seq)
    }
}

/// The compacted profile and what it already holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Schema ([`JOURNAL_SCHEMA`]).
    pub schema: u32,
    /// The profile with every folded entry applied.
    #[serde(with = "profile_json")]
    pub profile: Profile,
    /// The largest clock folded in.
    pub clock: u64,
    /// Per writer, the last sequence number folded in (entries up to it are never applied again).
    pub folded: BTreeMap<WriterId, u64>,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot::of(Profile::default())
    }
}

impl Snapshot {
    /// A snapshot holding `profile` and no entries (a migrated or imported profile).
    pub fn of(profile: Profile) -> Snapshot {
        Snapshot {
            schema: JOURNAL_SCHEMA,
            profile,
            clock: 0,
            folded: BTreeMap::new(),
        }
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("snapshot serialises")
    }

    /// Reads a stored snapshot (its profile migrated like any stored profile).
    pub fn from_json(text: &str) -> Result<Snapshot, RecordError> {
        check_schema(text)?;
        serde_json::from_str(text).map_err(|e| RecordError::Unreadable(e.to_string()))
    }

    fn holds(&self, id: &EntryId) -> bool {
        self.folded.get(&id.writer).is_some_and(|&s| id.seq <= s)
    }
}

/// What [`Journal::insert`] did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// A new entry.
    New,
    /// Already in the journal or in the snapshot: nothing changed.
    Known,
}

/// The snapshot and the entries not yet folded into it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Journal {
    snapshot: Snapshot,
    /// Pending entries by `(clock, writer, seq)`.
    entries: BTreeMap<(u64, WriterId, u64), Entry>,
    ids: BTreeSet<EntryId>,
}

impl Journal {
    /// A journal over a stored snapshot.
    pub fn new(snapshot: Snapshot) -> Journal {
        Journal {
            snapshot,
            ..Journal::default()
        }
    }

    /// Adds an entry unless it is already known (by id): replays never duplicate. Each writer's
    /// entries must arrive in sequence order (the store keeps them so), since the snapshot
    /// remembers only the last sequence number it folded per writer.
    pub fn insert(&mut self, entry: Entry) -> Inserted {
        if self.snapshot.holds(&entry.id) || !self.ids.insert(entry.id) {
            return Inserted::Known;
        }
        self.entries.insert(entry.order(), entry);
        Inserted::New
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Pending entries in the order they apply.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// How many entries are pending.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entries are pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The largest clock seen (snapshot or entries).
    pub fn clock(&self) -> u64 {
        self.entries
            .keys()
            .next_back()
            .map_or(0, |k| k.0)
            .max(self.snapshot.clock)
    }

    /// The last sequence number of `writer` that is known, if any.
    pub fn last_seq(&self, writer: WriterId) -> Option<u64> {
        let pending = self
            .ids
            .range(
                EntryId { writer, seq: 0 }..=EntryId {
                    writer,
                    seq: u64::MAX,
                },
            )
            .next_back()
            .map(|id| id.seq);
        pending.max(self.snapshot.folded.get(&writer).copied())
    }

    /// The profile: the snapshot with every pending entry applied in order.
    pub fn profile(&self) -> Profile {
        let mut p = self.snapshot.profile.clone();
        for e in self.entries.values() {
            p.apply(e.at_ms, &e.change);
        }
        p
    }

    /// Folds every pending entry into the snapshot; returns the ids folded (to delete from the
    /// store in the same transaction that writes the new snapshot).
    pub fn compact(&mut self) -> Vec<EntryId> {
        let profile = self.profile();
        let clock = self.clock();
        let folded: Vec<EntryId> = self.entries.values().map(|e| e.id).collect();
        for id in &folded {
            let last = self.snapshot.folded.entry(id.writer).or_insert(0);
            *last = (*last).max(id.seq);
        }
        self.snapshot.profile = profile;
        self.snapshot.clock = clock;
        self.entries.clear();
        self.ids.clear();
        folded
    }
}

/// One page load's writer: its id and next sequence number.
#[derive(Debug, Clone)]
pub struct Writer {
    id: WriterId,
    next_seq: u64,
}

impl Writer {
    /// A writer that has written nothing yet.
    pub fn new(id: WriterId) -> Writer {
        Writer { id, next_seq: 1 }
    }

    /// Its id.
    pub fn id(&self) -> WriterId {
        self.id
    }

    /// The last sequence number written (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Stamps `change` as this writer's next entry, after everything `journal` holds.
    pub fn record(&mut self, journal: &Journal, at_ms: f64, change: Change) -> Entry {
        let seq = self.next_seq;
        self.next_seq += 1;
        Entry {
            schema: JOURNAL_SCHEMA,
            id: EntryId {
                writer: self.id,
                seq,
            },
            clock: journal.clock() + 1,
            at_ms: if at_ms.is_finite() { at_ms } else { 0.0 },
            change,
        }
    }
}

/// A short fingerprint of a profile (sha256 of its stored JSON, 16 hex digits): two tabs that
/// show the same fingerprint hold the same profile.
pub fn fingerprint(profile: &Profile) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(profile.to_json().as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mood(v: f32) -> Change {
        Change::Mood {
            emotion: Emotion::va(v, 0.0),
            heart: None,
        }
    }

    /// A writer's script: each op in 0..6 is a change on a small set of artists.
    fn change(op: u8, n: u32) -> Change {
        match op % 6 {
            0 => Change::Like {
                artist_id: n % 5,
                heart: None,
            },
            1 => Change::Unlike { artist_id: n % 5 },
            2 => Change::NotForMe {
                artist_id: n % 5,
                heart: Some(0.3),
            },
            3 => Change::Include { artist_id: n % 5 },
            4 => mood((n % 10) as f32 / 10.0),
            _ => Change::MoodStrength {
                value: (n % 10) as f32 / 10.0,
            },
        }
    }

    /// Writes two writers' scripts into journals as they would be in two tabs: each tab sees the
    /// other's entries after `sync` steps, and stamps its own after what it has seen.
    fn two_tabs(a: &[(u8, u32)], b: &[(u8, u32)], order: &[bool]) -> Vec<Entry> {
        let mut tabs = [
            (Writer::new(WriterId::new(1)), Journal::default()),
            (Writer::new(WriterId::new(2)), Journal::default()),
        ];
        let scripts = [a, b];
        let mut next = [0usize, 0usize];
        let mut all = Vec::new();
        for (step, &pick_b) in order.iter().enumerate() {
            let t = usize::from(pick_b);
            let Some(&(op, n)) = scripts[t].get(next[t]) else {
                continue;
            };
            next[t] += 1;
            let (writer, journal) = &mut tabs[t];
            let e = writer.record(journal, step as f64, change(op, n));
            journal.insert(e.clone());
            all.push(e.clone());
            // The other tab hears of it (a broadcast) on every other step.
            if step % 2 == 0 {
                tabs[1 - t].1.insert(e);
            }
        }
        all
    }

    #[test]
    fn replays_never_duplicate_even_after_compaction() {
        let mut w = Writer::new(WriterId::new(7));
        let mut j = Journal::default();
        let e1 = w.record(&j, 1.0, mood(0.1));
        assert_eq!(j.insert(e1.clone()), Inserted::New);
        assert_eq!(j.insert(e1.clone()), Inserted::Known);
        let e2 = w.record(&j, 2.0, mood(0.2));
        j.insert(e2.clone());
        assert_eq!(e2.clock, 2);
        assert_eq!(j.profile().history.len(), 2);
        assert_eq!(j.compact(), vec![e1.id, e2.id]);
        assert_eq!(j.insert(e1), Inserted::Known, "a folded entry replayed");
        assert_eq!(j.profile().history.len(), 2);
        assert_eq!(j.last_seq(w.id()), Some(2));
        assert_eq!(j.clock(), 2);
    }

    #[test]
    fn changes_apply_as_the_app_made_them() {
        let mut p = Profile::default();
        assert!(p.apply(
            1.0,
            &Change::Like {
                artist_id: 3,
                heart: Some(0.5)
            }
        ));
        assert!(!p.apply(
            2.0,
            &Change::Like {
                artist_id: 3,
                heart: None
            }
        ));
        assert_eq!(p.history.len(), 1, "a repeated like is not logged");
        assert!(p.apply(
            3.0,
            &Change::NotForMe {
                artist_id: 3,
                heart: None
            }
        ));
        assert!(p.likes.is_empty() && p.excluded == vec![3]);
        assert!(p.apply(
            4.0,
            &Change::Mood {
                emotion: Emotion::va(0.2, 0.6),
                heart: Some(0.4)
            }
        ));
        assert_eq!(p.heart_calibration.pairs().len(), 1);
        assert!(p.apply(5.0, &Change::ForgetCalibration));
        assert!(p.heart_calibration.is_empty());
        let imported = Profile {
            likes: vec![9],
            ..Profile::default()
        };
        assert!(p.apply(
            6.0,
            &Change::Replace {
                profile: Box::new(imported.clone())
            }
        ));
        assert_eq!(p, imported);
    }

    #[test]
    fn entries_and_snapshots_round_trip_and_bad_records_are_named() {
        let mut w = Writer::new(WriterId::new(u64::MAX - 3));
        let j = Journal::default();
        let e = w.record(
            &j,
            5.0,
            Change::Replace {
                profile: Box::new(Profile {
                    likes: vec![1, 2],
                    ..Profile::default()
                }),
            },
        );
        let key = e.id.key();
        assert_eq!(Entry::from_json(&e.to_json(), Some(&key)).unwrap(), e);
        assert!(matches!(
            Entry::from_json(&e.to_json(), Some("0000000000000001-0000000000000001")),
            Err(RecordError::WrongKey { .. })
        ));
        assert!(matches!(
            Entry::from_json("{\"x\":", None),
            Err(RecordError::Unreadable(_))
        ));
        assert!(matches!(
            Entry::from_json(&e.to_json().replace("\"schema\":1", "\"schema\":9"), None),
            Err(RecordError::TooNew(9))
        ));
        assert!(matches!(
            Entry::from_json(
                r#"{"schema":1,"id":{"writer":"zz","seq":1},"clock":1,"at_ms":0,"change":{"op":"forget_calibration"}}"#,
                None
            ),
            Err(RecordError::Unreadable(_))
        ));
        let mut journal = Journal::default();
        journal.insert(e);
        journal.compact();
        let s = journal.snapshot().clone();
        assert_eq!(Snapshot::from_json(&s.to_json()).unwrap(), s);
        // A snapshot holding a first-schema profile migrates it.
        let old = r#"{"schema":1,"profile":{"likes":[4,4,5]},"clock":0,"folded":{}}"#;
        assert_eq!(Snapshot::from_json(old).unwrap().profile.likes, vec![4, 5]);
    }

    proptest! {
        /// Any interleaving of two tabs' entries, delivered in any order, compacted at any point,
        /// gives the same profile.
        #[test]
        fn any_interleaving_merges_to_the_same_profile(
            a in prop::collection::vec((0u8..6, 0u32..20), 0..40),
            b in prop::collection::vec((0u8..6, 0u32..20), 0..40),
            order in prop::collection::vec(any::<bool>(), 0..100),
            delivery in prop::collection::vec(any::<u32>(), 1..100),
            compact_at in 0usize..100,
        ) {
            let all = two_tabs(&a, &b, &order);
            let mut reference = Journal::default();
            for e in &all {
                reference.insert(e.clone());
            }
            let want = reference.profile();
            // Deliver in another interleaving (each writer's entries in its own order, as the
            // store keeps them), with duplicates, compacting once along the way.
            let mut queues = [
                all.iter().filter(|e| e.id.writer == WriterId::new(1)).cloned().collect::<Vec<_>>(),
                all.iter().filter(|e| e.id.writer == WriterId::new(2)).cloned().collect::<Vec<_>>(),
            ];
            queues.iter_mut().for_each(|q| q.reverse());
            let mut shuffled: Vec<((), Entry)> = Vec::new();
            let mut pick = delivery.iter().cycle();
            while let Some(t) = match (queues[0].is_empty(), queues[1].is_empty()) {
                (true, true) => None,
                (false, true) => Some(0),
                (true, false) => Some(1),
                _ => Some(pick.next().map_or(0, |d| (d % 2) as usize)),
            } {
                shuffled.push(((), queues[t].pop().expect("non-empty")));
            }
            let mut merged = Journal::default();
            for (i, (_, e)) in shuffled.iter().enumerate() {
                merged.insert(e.clone());
                merged.insert(e.clone());
                if i == compact_at {
                    // Entries that arrive after a compaction folded later ones apply after the
                    // snapshot, still exactly once.
                    merged.compact();
                }
            }
            // Every entry applied exactly once: each stated mood is one history event whatever
            // the order (likes are logged only when they change something, so they may differ).
            let moods = |p: &Profile| p.history.events().iter().filter(|e| e.event.label() == "Mood").count();
            let got = merged.profile();
            prop_assert_eq!(moods(&got), moods(&want));
            // Delivered in the journal's own order, compaction at any point changes nothing.
            let mut sorted = all.clone();
            sorted.sort_by_key(|e| e.order());
            let mut in_order = Journal::default();
            for (i, e) in sorted.iter().enumerate() {
                in_order.insert(e.clone());
                if i == compact_at {
                    in_order.compact();
                }
            }
            prop_assert_eq!(in_order.profile(), want.clone());
            // Without compaction, any delivery order with duplicates gives the same profile.
            let mut unordered = Journal::default();
            for (_, e) in &shuffled {
                unordered.insert(e.clone());
                unordered.insert(e.clone());
            }
            prop_assert_eq!(unordered.profile(), want);
        }

        /// Two journals that saw the same entries in different orders agree exactly.
        #[test]
        fn delivery_order_does_not_matter(
            a in prop::collection::vec((0u8..6, 0u32..20), 0..30),
            b in prop::collection::vec((0u8..6, 0u32..20), 0..30),
            order in prop::collection::vec(any::<bool>(), 0..60),
        ) {
            let all = two_tabs(&a, &b, &order);
            let mut forward = Journal::default();
            let mut backward = Journal::default();
            for e in &all {
                forward.insert(e.clone());
            }
            for e in all.iter().rev() {
                backward.insert(e.clone());
            }
            prop_assert_eq!(forward.profile(), backward.profile());
            // Each writer's entries apply in its own order.
            let seqs: Vec<(WriterId, u64)> = forward.entries().map(|e| (e.id.writer, e.id.seq)).collect();
            for w in [WriterId::new(1), WriterId::new(2)] {
                let mine: Vec<u64> = seqs.iter().filter(|s| s.0 == w).map(|s| s.1).collect();
                prop_assert!(mine.windows(2).all(|p| p[0] < p[1]));
            }
        }
    }
}
