//! The real data, loaded once, with the user split and the catalog built from it.

use crate::hetrec::labels::{artist_tag_emotions, pearson, vad, RawTagEmotion, Standardiser};
use crate::hetrec::svdpp::UserItems;
use crate::ingest::{deezer, deezer::DeezerTrack, hetrec::HetRec, lexicon};
use crate::rng::hash_id;
use anyhow::Result;
use attune_engine::catalog::{Artist, EmotionEstimate, EmotionSources, Track};
use attune_engine::{ArtistIdx, Catalog};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// Which part of the data a HetRec user belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Trains the shipped model.
    Train,
    /// Tunes hyper-parameters (trains the shipped model too, once tuning is done).
    Validation,
    /// Never trains anything; evaluated as new browser users.
    Test,
}

/// Share of users held out for testing, and of the rest for validation.
pub const TEST_SHARE: f64 = 0.10;
/// See [`TEST_SHARE`].
pub const VALIDATION_SHARE: f64 = 0.10;

/// Deterministic split of a user id.
pub fn split_of(user: u32) -> Split {
    let h = |salt| hash_id(user, salt) as f64 / u64::MAX as f64;
    if h(0xA77) < TEST_SHARE {
        Split::Test
    } else if h(0xB0B) < VALIDATION_SHARE {
        Split::Validation
    } else {
        Split::Train
    }
}

/// Everything read from `../shared/data`.
pub struct Corpus {
    /// HetRec Last.fm 2K.
    pub hetrec: HetRec,
    /// Deezer mood tracks.
    pub deezer: Vec<DeezerTrack>,
    /// NRC-VAD lexicon.
    pub nrc: lexicon::Lexicon,
    /// Warriner lexicon.
    pub warriner: lexicon::Lexicon,
}

impl Corpus {
    /// Loads every dataset from the data root.
    pub fn load(data: &Path) -> Result<Corpus> {
        Ok(Corpus {
            hetrec: HetRec::load(&data.join("hetrec2011_lastfm_2k"))?,
            deezer: deezer::load(&data.join("deezer_mood_msd"))?,
            nrc: lexicon::load_nrc_vad(&data.join("lexicons/NRC-VAD-Lexicon-v1.txt"))?,
            warriner: lexicon::load_warriner(&data.join("lexicons/Warriner_2013_BRM-emot.csv"))?,
        })
    }
}

/// Facts about the catalog and its emotion labels, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogStats {
    /// Users whose plays built the catalog.
    pub users: usize,
    /// Artists any of them played.
    pub artists_played: usize,
    /// Catalog artists (at least `min_listeners`).
    pub artists: usize,
    /// The listener threshold.
    pub min_listeners: u32,
    /// Share of all training plays that go to catalog artists.
    pub play_share_in_catalog: f64,
    /// Catalog tracks (Deezer tracks of catalog artists).
    pub tracks: usize,
    /// Catalog artists with at least one Deezer track.
    pub artists_with_tracks: usize,
    /// Catalog artists with tag emotion from NRC-VAD.
    pub nrc_coverage: usize,
    /// Catalog artists with tag emotion from Warriner.
    pub warriner_coverage: usize,
    /// Catalog artists with any emotion.
    pub emotion_coverage: usize,
    /// Pearson r between NRC- and Warriner-based artist valence, arousal, dominance.
    pub nrc_vs_warriner: [Option<f64>; 3],
    /// Pearson r between NRC tag emotion and the mean Deezer track label (valence, arousal).
    pub nrc_vs_deezer: [Option<f64>; 2],
    /// Artists in both NRC and Deezer sources.
    pub nrc_deezer_overlap: usize,
}

/// The catalog plus the id maps training and evaluation need.
pub struct CatalogBuild {
    /// The validated catalog.
    pub catalog: Catalog,
    /// HetRec artist id -> catalog index.
    pub index_of: HashMap<u32, ArtistIdx>,
    /// Report facts.
    pub stats: CatalogStats,
}

/// Builds the catalog from the plays and tags of the users `keep` accepts.
pub fn build_catalog(
    corpus: &Corpus,
    keep: impl Fn(u32) -> bool,
    min_listeners: u32,
) -> Result<CatalogBuild> {
    let h = &corpus.hetrec;
    let mut listeners: HashMap<u32, u32> = HashMap::new();
    let mut users = HashSet::new();
    let mut total_plays = 0u64;
    for p in h.plays.iter().filter(|p| keep(p.user)) {
        *listeners.entry(p.artist).or_default() += 1;
        users.insert(p.user);
        total_plays += p.plays;
    }
    // Catalog order: by listeners (desc), then id, so indices are stable and popular items first.
    let mut ids: Vec<u32> = listeners
        .iter()
        .filter(|(id, &n)| n >= min_listeners && h.artists.contains_key(id))
        .map(|(&id, _)| id)
        .collect();
    ids.sort_by_key(|id| (std::cmp::Reverse(listeners[id]), *id));
    let index_of: HashMap<u32, ArtistIdx> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, ArtistIdx(i as u32)))
        .collect();
    let catalog_plays: u64 = h
        .plays
        .iter()
        .filter(|p| keep(p.user) && index_of.contains_key(&p.artist))
        .map(|p| p.plays)
        .sum();

    let assignments: Vec<_> = h
        .tag_assignments
        .iter()
        .copied()
        .filter(|a| keep(a.user))
        .collect();
    let nrc = artist_tag_emotions(&assignments, &h.tags, &corpus.nrc);
    let warriner = artist_tag_emotions(&assignments, &h.tags, &corpus.warriner);
    let in_catalog = |m: &HashMap<u32, RawTagEmotion>| -> Vec<[f32; 3]> {
        ids.iter()
            .filter_map(|id| m.get(id))
            .map(|r| vad(&r.emotion))
            .collect()
    };
    let nrc_scale = Standardiser::fit(&in_catalog(&nrc));

    // Deezer tracks of catalog artists, matched by lower-cased name; de-duplicated by title.
    let by_name: HashMap<String, ArtistIdx> = ids
        .iter()
        .map(|id| (h.artists[id].to_lowercase(), index_of[id]))
        .collect();
    let deezer_scale = Standardiser::fit(
        &corpus
            .deezer
            .iter()
            .map(|t| [t.valence, t.arousal, 0.0])
            .collect::<Vec<_>>(),
    );
    let mut seen = HashSet::new();
    let mut track_rows: Vec<(ArtistIdx, String, attune_engine::Emotion)> = Vec::new();
    for t in &corpus.deezer {
        if let Some(&a) = by_name.get(&t.artist_name.to_lowercase()) {
            if seen.insert((a, t.track_name.to_lowercase())) {
                track_rows.push((
                    a,
                    t.track_name.clone(),
                    deezer_scale.apply([t.valence, t.arousal, 0.0]),
                ));
            }
        }
    }
    let mut deezer_by_artist: BTreeMap<ArtistIdx, Vec<attune_engine::Emotion>> = BTreeMap::new();
    for (a, _, e) in &track_rows {
        deezer_by_artist.entry(*a).or_default().push(*e);
    }

    // Top tags per artist (by assignment count), for display and search.
    let mut tag_counts: HashMap<u32, HashMap<u32, u32>> = HashMap::new();
    for a in &assignments {
        *tag_counts
            .entry(a.artist)
            .or_default()
            .entry(a.tag)
            .or_default() += 1;
    }

    let mut artists = Vec::with_capacity(ids.len());
    let (mut nrc_w, mut nrc_d) = (Vec::new(), Vec::new());
    for &id in &ids {
        let idx = index_of[&id];
        let tag_part = nrc.get(&id).map(|r| {
            let e = nrc_scale.apply(vad(&r.emotion));
            (e, r.evidence as f32 / (r.evidence as f32 + 3.0))
        });
        let deezer_part = deezer_by_artist.get(&idx).map(|es| {
            let mean = attune_engine::Emotion::weighted_mean(es.iter().map(|e| (*e, 1.0)))
                .expect("non-empty");
            (mean, es.len() as f32 / (es.len() as f32 + 1.0))
        });
        if let (Some(r), Some(wr)) = (nrc.get(&id), warriner.get(&id)) {
            nrc_w.push((vad(&r.emotion), vad(&wr.emotion)));
        }
        if let (Some(r), Some((d, _))) = (nrc.get(&id), deezer_part) {
            nrc_d.push((vad(&r.emotion), vad(&d)));
        }
        let emotion = combine(tag_part, deezer_part);
        let mut tags: Vec<(u32, u32)> = tag_counts
            .get(&id)
            .map(|m| m.iter().map(|(&t, &n)| (t, n)).collect())
            .unwrap_or_default();
        tags.sort_by_key(|&(t, n)| (std::cmp::Reverse(n), t));
        artists.push(Artist {
            id,
            name: h.artists[&id].clone(),
            listeners: listeners[&id],
            emotion,
            tags: tags
                .iter()
                .take(3)
                .filter_map(|(t, _)| h.tags.get(t).cloned())
                .collect(),
        });
    }
    let tracks: Vec<Track> = track_rows
        .into_iter()
        .map(|(artist, title, e)| {
            let dominance = artists[artist.0 as usize]
                .emotion
                .map(|x| x.emotion.dominance.get())
                .unwrap_or(0.0);
            Track {
                artist,
                title,
                emotion: EmotionEstimate {
                    emotion: attune_engine::Emotion::new(
                        e.valence.get(),
                        e.arousal.get(),
                        dominance,
                    ),
                    confidence: 0.8,
                    sources: EmotionSources::DEEZER,
                },
            }
        })
        .collect();
    let corr = |pairs: &[([f32; 3], [f32; 3])], ax: usize| {
        pearson(
            &pairs
                .iter()
                .map(|(a, b)| (a[ax], b[ax]))
                .collect::<Vec<_>>(),
        )
    };
    let stats = CatalogStats {
        users: users.len(),
        artists_played: listeners.len(),
        artists: artists.len(),
        min_listeners,
        play_share_in_catalog: catalog_plays as f64 / total_plays.max(1) as f64,
        tracks: tracks.len(),
        artists_with_tracks: deezer_by_artist.len(),
        nrc_coverage: ids.iter().filter(|id| nrc.contains_key(id)).count(),
        warriner_coverage: ids.iter().filter(|id| warriner.contains_key(id)).count(),
        emotion_coverage: artists.iter().filter(|a| a.emotion.is_some()).count(),
        nrc_vs_warriner: [corr(&nrc_w, 0), corr(&nrc_w, 1), corr(&nrc_w, 2)],
        nrc_vs_deezer: [corr(&nrc_d, 0), corr(&nrc_d, 1)],
        nrc_deezer_overlap: nrc_d.len(),
    };
    Ok(CatalogBuild {
        catalog: Catalog::new(artists, tracks)?,
        index_of,
        stats,
    })
}

/// Confidence-weighted blend of tag and Deezer emotion (valence/arousal); dominance from tags.
fn combine(
    tags: Option<(attune_engine::Emotion, f32)>,
    deezer: Option<(attune_engine::Emotion, f32)>,
) -> Option<EmotionEstimate> {
    let (t, d) = (
        tags.map(|x| x.1).unwrap_or(0.0),
        deezer.map(|x| x.1).unwrap_or(0.0),
    );
    if t + d <= 0.0 {
        return None;
    }
    let get = |p: Option<(attune_engine::Emotion, f32)>, f: fn(&attune_engine::Emotion) -> f32| {
        p.map(|x| f(&x.0)).unwrap_or(0.0)
    };
    let v = (get(tags, |e| e.valence.get()) * t + get(deezer, |e| e.valence.get()) * d) / (t + d);
    let a = (get(tags, |e| e.arousal.get()) * t + get(deezer, |e| e.arousal.get()) * d) / (t + d);
    let dom = get(tags, |e| e.dominance.get());
    let mut sources = EmotionSources::default();
    if tags.is_some() {
        sources = sources.with(EmotionSources::TAGS);
    }
    if deezer.is_some() {
        sources = sources.with(EmotionSources::DEEZER);
    }
    Some(EmotionEstimate {
        emotion: attune_engine::Emotion::new(v, a, dom),
        confidence: 1.0 - (1.0 - t) * (1.0 - d),
        sources,
    })
}

/// Stable artist id -> catalog index, for every artist of `catalog`.
pub fn index_of(catalog: &attune_engine::Catalog) -> HashMap<u32, ArtistIdx> {
    catalog
        .artists()
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id, ArtistIdx(i as u32)))
        .collect()
}

/// Training rows: for each accepted user, their catalog items with play counts (sorted, unique).
pub fn user_items(
    corpus: &Corpus,
    keep: impl Fn(u32) -> bool,
    index_of: &HashMap<u32, ArtistIdx>,
) -> Vec<UserItems> {
    user_items_by_id(corpus, keep, index_of)
        .into_values()
        .collect()
}

/// [`user_items`] keyed by user id (ascending).
pub fn user_items_by_id(
    corpus: &Corpus,
    keep: impl Fn(u32) -> bool,
    index_of: &HashMap<u32, ArtistIdx>,
) -> BTreeMap<u32, UserItems> {
    let mut by_user: BTreeMap<u32, Vec<(u32, u64)>> = BTreeMap::new();
    for p in corpus.hetrec.plays.iter().filter(|p| keep(p.user)) {
        if let Some(i) = index_of.get(&p.artist) {
            by_user.entry(p.user).or_default().push((i.0, p.plays));
        }
    }
    for v in by_user.values_mut() {
        v.sort_unstable();
        v.dedup_by_key(|x| x.0);
    }
    by_user
}
