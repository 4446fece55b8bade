//! The user-emotion model's input from what the device keeps: the profile's history, with each
//! item's emotion looked up once here (a catalog artist's label, a "My library" file's analysis),
//! so the browser and the tests that check it build the same observations.

use crate::catalog::Catalog;
use crate::emotion::Emotion;
use crate::history::Item;
use crate::profile::Profile;
use crate::user_emotion::{encode, ModelInput, Moment, Observation};

/// The emotion of an item the user acted on: the catalog artist's emotion, or the analysed
/// emotion of a "My library" file (by name and size); `None` when unknown.
pub fn item_emotion(profile: &Profile, catalog: &Catalog, item: &Item) -> Option<Emotion> {
    match item {
        Item::Artist { artist_id } => catalog
            .artist_by_id(*artist_id)
            .and_then(|a| catalog.artist(a).emotion.map(|e| e.emotion)),
        Item::File { name, bytes } => profile
            .library
            .iter()
            .find(|t| t.name == *name && t.bytes == *bytes)
            .map(|t| t.emotion),
    }
}

/// The profile's history as the model reads it (oldest first).
pub fn observations(profile: &Profile, catalog: &Catalog) -> Vec<Observation> {
    profile
        .history
        .observations(|item| item_emotion(profile, catalog, item))
}

/// What the model reads at a moment, and which history events its rows are.
#[derive(Debug, Clone, PartialEq)]
pub struct StateInput {
    /// The encoded input ([`encode`]).
    pub input: ModelInput,
    /// The sequence numbers of the `input.len` events it holds, oldest first (the order of the
    /// estimate's attention).
    pub seqs: Vec<u64>,
}

/// Encodes the profile's history for `moment`; `None` when no event happened before it.
pub fn state_input(profile: &Profile, catalog: &Catalog, moment: &Moment) -> Option<StateInput> {
    let input = encode(&observations(profile, catalog), moment)?;
    // The history is in time order (`History::push`), so the events `encode` keeps (those
    // before the moment, the newest of them) are the last `len` of those before the moment.
    let before: Vec<u64> = profile
        .history
        .events()
        .iter()
        .filter(|e| e.at_ms.is_finite() && e.at_ms < moment.now_ms)
        .map(|e| e.seq)
        .collect();
    let seqs = before[before.len().saturating_sub(input.len)..].to_vec();
    (seqs.len() == input.len).then_some(StateInput { input, seqs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Artist, EmotionEstimate, EmotionSources};
    use crate::history::Event;
    use crate::profile::LibraryTrack;
    use crate::user_emotion::MAX_EVENTS;

    fn catalog() -> Catalog {
        let artist = |id: u32, emotion: Option<Emotion>| Artist {
            id,
            name: format!("artist {id}"),
            listeners: 3,
            emotion: emotion.map(|emotion| EmotionEstimate {
                emotion,
                confidence: 1.0,
                sources: EmotionSources::TAGS,
            }),
            tags: Vec::new(),
        };
        Catalog::new(
            vec![artist(10, Some(Emotion::va(0.5, -0.5))), artist(11, None)],
            Vec::new(),
        )
        .unwrap()
    }

    #[test]
    fn looks_up_artists_and_library_files_and_names_the_rows() {
        let catalog = catalog();
        let mut p = Profile::default();
        p.add_to_library(LibraryTrack {
            name: "a.ogg".into(),
            bytes: 7,
            emotion: Emotion::va(-0.3, 0.2),
            probabilities: [0.25; 4],
            seconds: 30.0,
            added_ms: 0.0,
        });
        let file = |bytes| Item::File {
            name: "a.ogg".into(),
            bytes,
        };
        let artist = |artist_id| Item::Artist { artist_id };
        p.log(1.0, Event::Like { item: artist(10) }, None);
        p.log(2.0, Event::Play { item: artist(11) }, None);
        p.log(3.0, Event::Play { item: file(7) }, None);
        p.log(4.0, Event::Play { item: file(8) }, None);
        p.log(9.0, Event::NotForMe { item: artist(99) }, None);
        let o = observations(&p, &catalog);
        assert_eq!(o[0].song, Some(Emotion::va(0.5, -0.5)));
        assert_eq!(o[1].song, None, "an artist without an emotion");
        assert_eq!(o[2].song, Some(Emotion::va(-0.3, 0.2)));
        assert_eq!(o[3].song, None, "another file of the same name");
        let moment = Moment {
            now_ms: 5.0,
            heart: None,
            period: None,
        };
        let s = state_input(&p, &catalog, &moment).unwrap();
        assert_eq!(s.input.len, 4);
        assert_eq!(s.seqs, vec![1, 2, 3, 4], "the future event is not read");
        for i in 0..MAX_EVENTS + 5 {
            p.log(10.0 + i as f64, Event::Play { item: artist(10) }, None);
        }
        let later = Moment {
            now_ms: 1e6,
            ..moment
        };
        let s = state_input(&p, &catalog, &later).unwrap();
        assert_eq!(s.seqs.len(), MAX_EVENTS);
        assert_eq!(s.seqs.last(), Some(&p.history.events().last().unwrap().seq));
        assert!(state_input(&Profile::default(), &catalog, &later).is_none());
    }
}
