//! The music catalog: artists (the collaborative-filtering items) and their tracks.

use crate::binfmt::{Reader, Writer};
use crate::emotion::{Axis, Emotion};
use crate::error::AssetError;
use serde::Serialize;

const MAGIC: &[u8; 4] = b"ATNC";

/// Index of an artist in the catalog (and row of the CF model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ArtistIdx(pub u32);

/// Index of a track in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TrackIdx(pub u32);

/// Where an item's emotion came from (bit flags, so both can be set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EmotionSources(u8);

impl EmotionSources {
    /// From Last.fm tags through the NRC-VAD lexicon.
    pub const TAGS: EmotionSources = EmotionSources(1);
    /// From Deezer's track-level valence/arousal labels.
    pub const DEEZER: EmotionSources = EmotionSources(2);
    /// From the audio CNN.
    pub const AUDIO: EmotionSources = EmotionSources(4);

    /// The raw bits.
    pub fn bits(self) -> u8 {
        self.0
    }
    /// Whether all of `other`'s flags are set.
    pub fn contains(self, other: EmotionSources) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    /// Union of two sets.
    pub fn with(self, other: EmotionSources) -> EmotionSources {
        EmotionSources(self.0 | other.0)
    }
}

/// An emotion estimate with how much evidence stands behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmotionEstimate {
    /// The point in emotion space.
    pub emotion: Emotion,
    /// Confidence in [0, 1] (quantised to 1/255 on disk).
    pub confidence: f32,
    /// Which sources contributed.
    pub sources: EmotionSources,
}

/// A catalog artist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Artist {
    /// Stable id (HetRec artist id), used for likes stored on the device.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Number of training listeners (popularity).
    pub listeners: u32,
    /// Emotion, if any source covered this artist.
    pub emotion: Option<EmotionEstimate>,
    /// Most-used tags, best first (at most 3).
    pub tags: Vec<String>,
}

/// A catalog track.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    /// The performing artist.
    pub artist: ArtistIdx,
    /// Title.
    pub title: String,
    /// Track-level emotion.
    pub emotion: EmotionEstimate,
}

/// The whole catalog, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    artists: Vec<Artist>,
    tracks: Vec<Track>,
    /// For each artist, its tracks (indices into `tracks`).
    #[serde(skip)]
    tracks_by_artist: Vec<Vec<TrackIdx>>,
}

/// A search result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SearchHit {
    /// An artist matched by name or tag.
    Artist(ArtistIdx),
    /// A track matched by title.
    Track(TrackIdx),
}

impl Catalog {
    /// Builds a catalog, checking that every track's artist exists and ids are unique.
    pub fn new(artists: Vec<Artist>, tracks: Vec<Track>) -> Result<Catalog, AssetError> {
        let bad = |reason: String| AssetError::Malformed {
            file: "catalog.bin".into(),
            reason,
        };
        let mut ids: Vec<u32> = artists.iter().map(|a| a.id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad("duplicate artist id".into()));
        }
        let mut tracks_by_artist = vec![Vec::new(); artists.len()];
        for (i, t) in tracks.iter().enumerate() {
            let slot = tracks_by_artist
                .get_mut(t.artist.0 as usize)
                .ok_or_else(|| {
                    bad(format!(
                        "track {i} names artist {} of {}",
                        t.artist.0,
                        artists.len()
                    ))
                })?;
            slot.push(TrackIdx(i as u32));
        }
        Ok(Catalog {
            artists,
            tracks,
            tracks_by_artist,
        })
    }

    /// All artists; an artist's position is its [`ArtistIdx`].
    pub fn artists(&self) -> &[Artist] {
        &self.artists
    }
    /// All tracks.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }
    /// One artist.
    pub fn artist(&self, i: ArtistIdx) -> &Artist {
        &self.artists[i.0 as usize]
    }
    /// One track.
    pub fn track(&self, i: TrackIdx) -> &Track {
        &self.tracks[i.0 as usize]
    }
    /// The tracks of an artist.
    pub fn tracks_of(&self, i: ArtistIdx) -> &[TrackIdx] {
        &self.tracks_by_artist[i.0 as usize]
    }
    /// Finds an artist by its stable id.
    pub fn artist_by_id(&self, id: u32) -> Option<ArtistIdx> {
        self.artists
            .iter()
            .position(|a| a.id == id)
            .map(|p| ArtistIdx(p as u32))
    }

    /// Case-insensitive search over artist names, tags and track titles. Prefix matches of names
    /// rank first, then popularity; at most `limit` hits.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        // (rank class, -listeners, hit): lower sorts first.
        let mut hits: Vec<(u8, i64, SearchHit)> = Vec::new();
        for (i, a) in self.artists.iter().enumerate() {
            let name = a.name.to_lowercase();
            let class = if name.starts_with(&q) {
                0
            } else if name.contains(&q) {
                1
            } else if a.tags.iter().any(|t| t.to_lowercase() == q) {
                3
            } else {
                continue;
            };
            hits.push((
                class,
                -i64::from(a.listeners),
                SearchHit::Artist(ArtistIdx(i as u32)),
            ));
        }
        for (i, t) in self.tracks.iter().enumerate() {
            let title = t.title.to_lowercase();
            let class = if title.starts_with(&q) {
                2
            } else if title.contains(&q) {
                4
            } else {
                continue;
            };
            let pop = self.artist(t.artist).listeners;
            hits.push((class, -i64::from(pop), SearchHit::Track(TrackIdx(i as u32))));
        }
        hits.sort_by_key(|h| (h.0, h.1));
        hits.into_iter().take(limit).map(|h| h.2).collect()
    }

    /// Serialises to the `catalog.bin` format.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(MAGIC);
        w.u32(self.artists.len() as u32);
        for a in &self.artists {
            w.u32(a.id);
            w.u32(a.listeners);
            write_estimate(&mut w, a.emotion.as_ref());
            w.str(&a.name);
            w.u8(a.tags.len().min(255) as u8);
            for t in a.tags.iter().take(255) {
                w.str(t);
            }
        }
        w.u32(self.tracks.len() as u32);
        for t in &self.tracks {
            w.u32(t.artist.0);
            write_estimate(&mut w, Some(&t.emotion));
            w.str(&t.title);
        }
        w.finish()
    }

    /// Parses and validates `catalog.bin`.
    pub fn decode(bytes: &[u8]) -> Result<Catalog, AssetError> {
        let mut r = Reader::open("catalog.bin", bytes, MAGIC)?;
        let n = r.count(15)?;
        let mut artists = Vec::with_capacity(n);
        for _ in 0..n {
            let id = r.u32()?;
            let listeners = r.u32()?;
            let emotion = read_estimate(&mut r)?;
            let name = r.str()?;
            let n_tags = r.u8()? as usize;
            let tags = (0..n_tags).map(|_| r.str()).collect::<Result<_, _>>()?;
            artists.push(Artist {
                id,
                name,
                listeners,
                emotion,
                tags,
            });
        }
        let m = r.count(11)?;
        let mut tracks = Vec::with_capacity(m);
        for i in 0..m {
            let artist = ArtistIdx(r.u32()?);
            let emotion =
                read_estimate(&mut r)?.ok_or_else(|| r.err(format!("track {i} has no emotion")))?;
            let title = r.str()?;
            tracks.push(Track {
                artist,
                title,
                emotion,
            });
        }
        r.end()?;
        Catalog::new(artists, tracks)
    }
}

fn write_estimate(w: &mut Writer, e: Option<&EmotionEstimate>) {
    match e {
        None => {
            w.u8(0);
            w.u8(0);
            w.i8(0);
            w.i8(0);
            w.i8(0);
        }
        Some(e) => {
            w.u8(e.sources.bits());
            w.u8((e.confidence.clamp(0.0, 1.0) * 255.0).round() as u8);
            w.i8(e.emotion.valence.to_i8());
            w.i8(e.emotion.arousal.to_i8());
            w.i8(e.emotion.dominance.to_i8());
        }
    }
}

fn read_estimate(r: &mut Reader<'_>) -> Result<Option<EmotionEstimate>, AssetError> {
    let sources = r.u8()?;
    let conf = r.u8()?;
    let v = r.i8()?;
    let a = r.i8()?;
    let d = r.i8()?;
    if sources & !0b111 != 0 {
        return Err(r.err(format!("unknown emotion source bits {sources:#b}")));
    }
    if sources == 0 {
        return Ok(None);
    }
    Ok(Some(EmotionEstimate {
        emotion: Emotion {
            valence: Axis::from_i8(v),
            arousal: Axis::from_i8(a),
            dominance: Axis::from_i8(d),
        },
        confidence: f32::from(conf) / 255.0,
        sources: EmotionSources(sources),
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn small() -> Catalog {
        let est = |v, a| EmotionEstimate {
            emotion: Emotion::va(v, a),
            confidence: 1.0,
            sources: EmotionSources::TAGS,
        };
        let artists = vec![
            Artist {
                id: 10,
                name: "Radiohead".into(),
                listeners: 50,
                emotion: Some(est(-0.4, -0.2)),
                tags: vec!["alternative".into()],
            },
            Artist {
                id: 11,
                name: "Rammstein".into(),
                listeners: 20,
                emotion: Some(est(-0.3, 0.8)),
                tags: vec!["metal".into()],
            },
            Artist {
                id: 12,
                name: "Norah Jones".into(),
                listeners: 30,
                emotion: Some(est(0.5, -0.7)),
                tags: vec!["jazz".into()],
            },
            Artist {
                id: 13,
                name: "Daft Punk".into(),
                listeners: 40,
                emotion: None,
                tags: vec![],
            },
        ];
        let tracks = vec![
            Track {
                artist: ArtistIdx(0),
                title: "Karma Police".into(),
                emotion: est(-0.5, -0.1),
            },
            Track {
                artist: ArtistIdx(2),
                title: "Come Away With Me".into(),
                emotion: est(0.4, -0.8),
            },
            Track {
                artist: ArtistIdx(3),
                title: "Around the World".into(),
                emotion: est(0.7, 0.7),
            },
        ];
        Catalog::new(artists, tracks).unwrap()
    }

    #[test]
    fn encode_decode_round_trip() {
        let c = small();
        let back = Catalog::decode(&c.encode()).unwrap();
        assert_eq!(back.artists().len(), 4);
        assert_eq!(back.artist(ArtistIdx(3)).emotion, None);
        assert_eq!(back.tracks_of(ArtistIdx(0)), &[TrackIdx(0)]);
        let e = back.artist(ArtistIdx(2)).emotion.unwrap().emotion;
        assert!((e.valence.get() - 0.5).abs() < 0.01);
    }

    #[test]
    fn every_truncation_and_single_byte_flip_is_an_error_or_valid() {
        let bytes = small().encode();
        for cut in 0..bytes.len() {
            assert!(Catalog::decode(&bytes[..cut]).is_err());
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Catalog::decode(&extra).is_err());
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0xA5;
            let _ = Catalog::decode(&b); // must not panic
        }
    }

    #[test]
    fn track_with_unknown_artist_is_rejected() {
        let mut c = small();
        c.tracks[0].artist = ArtistIdx(99);
        assert!(Catalog::decode(&c.encode()).is_err());
    }

    #[test]
    fn search_ranks_prefix_then_popularity() {
        let c = small();
        assert_eq!(c.search("ra", 10)[0], SearchHit::Artist(ArtistIdx(0)));
        assert_eq!(c.search("ra", 10)[1], SearchHit::Artist(ArtistIdx(1)));
        assert!(c
            .search("karma", 5)
            .contains(&SearchHit::Track(TrackIdx(0))));
        assert!(c.search("  ", 5).is_empty());
        assert_eq!(c.search("jazz", 5), vec![SearchHit::Artist(ArtistIdx(2))]);
    }
}
