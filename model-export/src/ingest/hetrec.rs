//! HetRec 2011 Last.fm: artists, user-artist play counts, tags and tag assignments.

use super::{parse, tsv_rows};
use anyhow::Result;
use std::collections::HashMap;
use std::path::Path;

/// One user-artist play count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Play {
    /// HetRec user id.
    pub user: u32,
    /// HetRec artist id.
    pub artist: u32,
    /// Play count.
    pub plays: u64,
}

/// One tag assignment of a user to an artist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagAssignment {
    /// HetRec user id.
    pub user: u32,
    /// HetRec artist id.
    pub artist: u32,
    /// Tag id.
    pub tag: u32,
    /// When the tag was put on, as `yyyymmdd` (HetRec's day, month, year columns; 0 when a file
    /// has only the first three columns). HetRec's day is almost always 1: months, in effect.
    pub date: u32,
}

/// The parts of HetRec Attune uses.
#[derive(Debug, Clone, Default)]
pub struct HetRec {
    /// Artist id -> name.
    pub artists: HashMap<u32, String>,
    /// Tag id -> tag text.
    pub tags: HashMap<u32, String>,
    /// All play counts.
    pub plays: Vec<Play>,
    /// All tag assignments.
    pub tag_assignments: Vec<TagAssignment>,
}

impl HetRec {
    /// Loads a HetRec folder (`artists.dat`, `tags.dat`, `user_artists.dat`, `user_taggedartists.dat`).
    pub fn load(dir: &Path) -> Result<HetRec> {
        let p = dir.join("artists.dat");
        let artists = tsv_rows(&p, 2)?
            .into_iter()
            .map(|r| Ok((parse(&p, "artist id", &r[0])?, r[1].trim().to_string())))
            .collect::<Result<_>>()?;
        let p = dir.join("tags.dat");
        let tags = tsv_rows(&p, 2)?
            .into_iter()
            .map(|r| Ok((parse(&p, "tag id", &r[0])?, r[1].trim().to_lowercase())))
            .collect::<Result<_>>()?;
        let plays = load_plays(&dir.join("user_artists.dat"))?;
        let p = dir.join("user_taggedartists.dat");
        let tag_assignments = tsv_rows(&p, 3)?
            .into_iter()
            .map(|r| {
                Ok(TagAssignment {
                    user: parse(&p, "user id", &r[0])?,
                    artist: parse(&p, "artist id", &r[1])?,
                    tag: parse(&p, "tag id", &r[2])?,
                    date: if r.len() >= 6 {
                        let n = |i: usize, what| parse::<u32>(&p, what, &r[i]);
                        n(5, "year")? * 10_000 + n(4, "month")? * 100 + n(3, "day")?
                    } else {
                        0
                    },
                })
            })
            .collect::<Result<_>>()?;
        Ok(HetRec {
            artists,
            tags,
            plays,
            tag_assignments,
        })
    }
}

/// Reads a `user_artists.dat` file (userID, artistID, weight).
pub fn load_plays(path: &Path) -> Result<Vec<Play>> {
    tsv_rows(path, 3)?
        .into_iter()
        .map(|r| {
            Ok(Play {
                user: parse(path, "user id", &r[0])?,
                artist: parse(path, "artist id", &r[1])?,
                plays: parse(path, "weight", &r[2])?,
            })
        })
        .collect()
}
