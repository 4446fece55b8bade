//! The genre-emotion map of the catalog (the paper's figure): where each genre sits on the
//! valence-arousal plane, computed on the device from the shipped catalog.
//!
//! An artist's genre is the first of its top Last.fm tags that names a genre in [`GENRES`]
//! (synonyms such as "hip hop" and "rap" count as one). A genre's point is the mean over its
//! artists of each artist's mean *track* emotion (the Deezer mood labels), so the tags decide only
//! the grouping, never the position, and prolific artists do not outweigh the rest.

use crate::catalog::{ArtistIdx, Catalog};

/// Genre names with the tags that count as each (lower case, as Last.fm tags are stored).
pub const GENRES: &[(&str, &[&str])] = &[
    ("rock", &["rock", "classic rock"]),
    ("pop", &["pop"]),
    ("electronic", &["electronic", "electronica", "electro"]),
    ("hip-hop", &["hip-hop", "hip hop", "rap"]),
    (
        "metal",
        &[
            "metal",
            "heavy metal",
            "death metal",
            "black metal",
            "thrash metal",
        ],
    ),
    ("jazz", &["jazz"]),
    ("classical", &["classical"]),
    ("folk", &["folk"]),
    ("indie", &["indie", "indie rock", "indie pop"]),
    ("punk", &["punk", "punk rock", "pop punk"]),
    ("soul", &["soul"]),
    ("r&b", &["rnb", "r&b"]),
    ("country", &["country"]),
    ("blues", &["blues"]),
    ("reggae", &["reggae"]),
    ("ambient", &["ambient"]),
    ("dance", &["dance"]),
    ("alternative", &["alternative", "alternative rock"]),
    ("hard rock", &["hard rock"]),
    ("post-rock", &["post-rock"]),
    ("trip-hop", &["trip-hop", "trip hop"]),
    ("house", &["house"]),
    ("techno", &["techno"]),
    ("emo", &["emo"]),
    ("hardcore", &["hardcore"]),
    ("grunge", &["grunge"]),
    ("new wave", &["new wave"]),
    ("synthpop", &["synthpop", "synth pop"]),
    ("disco", &["disco"]),
    ("funk", &["funk"]),
    ("singer-songwriter", &["singer-songwriter"]),
    ("soundtrack", &["soundtrack"]),
    ("gothic", &["gothic", "gothic rock"]),
    ("industrial", &["industrial"]),
];

/// One genre on the plane.
#[derive(Debug, Clone, PartialEq)]
pub struct GenrePoint {
    /// Genre name (from [`GENRES`]).
    pub genre: &'static str,
    /// Artists of this genre with at least one labelled track.
    pub artists: usize,
    /// Their tracks.
    pub tracks: usize,
    /// Mean valence over the artists, in [-1, 1].
    pub valence: f32,
    /// Mean arousal over the artists, in [-1, 1].
    pub arousal: f32,
    /// Standard deviation of the artists' valence and arousal.
    pub spread: [f32; 2],
}

/// The genre an artist's top tags name first, if any.
pub fn genre_of(tags: &[String]) -> Option<&'static str> {
    tags.iter().find_map(|t| {
        let t = t.trim().to_lowercase();
        GENRES
            .iter()
            .find(|(_, names)| names.contains(&t.as_str()))
            .map(|(g, _)| *g)
    })
}

/// Genres with at least `min_artists` artists that have labelled tracks, by number of artists
/// (then name).
pub fn genre_map(catalog: &Catalog, min_artists: usize) -> Vec<GenrePoint> {
    let mut groups: Vec<(&'static str, Vec<[f32; 2]>, usize)> = Vec::new();
    for (i, artist) in catalog.artists().iter().enumerate() {
        let tracks = catalog.tracks_of(ArtistIdx(i as u32));
        let Some(genre) = genre_of(&artist.tags).filter(|_| !tracks.is_empty()) else {
            continue;
        };
        let n = tracks.len() as f32;
        let (v, a) = tracks.iter().fold((0.0, 0.0), |(v, a), &t| {
            let e = catalog.track(t).emotion.emotion;
            (v + e.valence.get() / n, a + e.arousal.get() / n)
        });
        match groups.iter_mut().find(|(g, _, _)| *g == genre) {
            Some((_, points, count)) => {
                points.push([v, a]);
                *count += tracks.len();
            }
            None => groups.push((genre, vec![[v, a]], tracks.len())),
        }
    }
    let mut out: Vec<GenrePoint> = groups
        .into_iter()
        .filter(|(_, points, _)| points.len() >= min_artists.max(1))
        .map(|(genre, points, tracks)| {
            let n = points.len() as f32;
            let mean = |k: usize| points.iter().map(|p| p[k]).sum::<f32>() / n;
            let (v, a) = (mean(0), mean(1));
            let sd = |k: usize, m: f32| {
                (points.iter().map(|p| (p[k] - m) * (p[k] - m)).sum::<f32>() / n).sqrt()
            };
            GenrePoint {
                genre,
                artists: points.len(),
                tracks,
                valence: v,
                arousal: a,
                spread: [sd(0, v), sd(1, a)],
            }
        })
        .collect();
    out.sort_by(|a, b| b.artists.cmp(&a.artists).then(a.genre.cmp(b.genre)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_map_to_one_genre_and_the_first_genre_tag_wins() {
        let t = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            genre_of(&t(&["seen live", "Hip Hop", "rock"])),
            Some("hip-hop")
        );
        assert_eq!(genre_of(&t(&["rap"])), Some("hip-hop"));
        assert_eq!(genre_of(&t(&["female vocalists", "80s"])), None);
        let names: std::collections::HashSet<&str> =
            GENRES.iter().flat_map(|(_, n)| n.iter().copied()).collect();
        let total: usize = GENRES.iter().map(|(_, n)| n.len()).sum();
        assert_eq!(names.len(), total, "a tag belongs to one genre only");
    }
}
