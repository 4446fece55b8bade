//! EMOPIA clips: quadrant labels from the file names, a split by song (never by clip), and the
//! log-mel of each clip's fluidsynth render, cached outside git.

use super::render::{render_midi, RenderError};
use anyhow::{bail, Context, Result};
use attune_engine::audio::{self, LogMel};
pub use attune_engine::Quadrant;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// One labelled clip.
#[derive(Debug, Clone)]
pub struct Clip {
    /// The MIDI file.
    pub path: PathBuf,
    /// Its label.
    pub quadrant: Quadrant,
    /// The song it was cut from (EMOPIA's YouTube id): the unit of the split.
    pub song: String,
}

/// Which part of the data a song belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Fits the models.
    Train,
    /// Early stopping and hyper-parameters.
    Validation,
    /// Held out: reported numbers only.
    Test,
}

/// The part of a song, from a hash of its id: stable whatever other songs exist.
/// 70% train, 10% validation, 20% test.
pub fn part_of(song: &str) -> Part {
    let h = Sha256::digest(format!("attune-emopia-split-v1:{song}").as_bytes());
    match u16::from_le_bytes([h[0], h[1]]) % 100 {
        0..=19 => Part::Test,
        20..=29 => Part::Validation,
        _ => Part::Train,
    }
}

/// Parses `<Q>_<youtube id>_<segment>.mid`. Youtube ids may contain `_`, so the quadrant is the
/// first field and the segment the last.
pub fn parse_name(name: &str) -> Option<(Quadrant, String)> {
    let stem = name
        .strip_suffix(".mid")
        .or_else(|| name.strip_suffix(".midi"))?;
    let (q, rest) = stem.split_once('_')?;
    let (song, segment) = rest.rsplit_once('_')?;
    segment.parse::<u32>().ok()?;
    let quadrant = match q {
        "Q1" => Quadrant::Q1,
        "Q2" => Quadrant::Q2,
        "Q3" => Quadrant::Q3,
        "Q4" => Quadrant::Q4,
        _ => return None,
    };
    (!song.is_empty()).then(|| (quadrant, song.to_string()))
}

/// Every labelled clip in an EMOPIA-layout folder (`<dir>/midis/*.mid` or `<dir>/*.mid`), sorted
/// by file name. Files whose names carry no label are an error: a folder of unlabeled MIDI is not
/// an evaluation set.
pub fn list_clips(dir: &Path) -> Result<Vec<Clip>> {
    let midis = if dir.join("midis").is_dir() {
        dir.join("midis")
    } else {
        dir.to_path_buf()
    };
    let mut clips = Vec::new();
    for entry in
        std::fs::read_dir(&midis).with_context(|| format!("reading {}", midis.display()))?
    {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !(name.ends_with(".mid") || name.ends_with(".midi")) {
            continue;
        }
        let Some((quadrant, song)) = parse_name(&name) else {
            bail!("{name}: not an EMOPIA clip name (<Q1-4>_<song>_<segment>.mid)");
        };
        clips.push(Clip {
            path,
            quadrant,
            song,
        });
    }
    if clips.is_empty() {
        bail!("no EMOPIA clips (*.mid) in {}", midis.display());
    }
    clips.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(clips)
}

/// Where renders and spectrograms are cached: `$ATTUNE_CACHE` or `~/.cache/attune`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("ATTUNE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/attune")))
        .unwrap_or_else(|| std::env::temp_dir().join("attune-cache"))
}

/// Bumped whenever rendering or the front end changes, so stale cache entries are never read.
const MEL_CACHE_VERSION: &str = "mel-v1";

/// The log-mel of a MIDI file's render (cached by the file's content hash).
pub fn midi_log_mel(midi: &Path) -> Result<LogMel, RenderError> {
    let bytes = std::fs::read(midi).map_err(|e| RenderError::Read(e.to_string()))?;
    let key = hex::encode(Sha256::digest(
        [MEL_CACHE_VERSION.as_bytes(), &bytes].concat(),
    ));
    let cached = cache_dir().join("mel").join(format!("{key}.f32"));
    if let Some(mel) = read_mel(&cached) {
        return Ok(mel);
    }
    let samples = render_midi(midi)?;
    let mel = audio::log_mel(&samples, super::render::RENDER_RATE)
        .map_err(|e| RenderError::Audio(e.to_string()))?;
    write_mel(&cached, &mel);
    Ok(mel)
}

fn read_mel(path: &Path) -> Option<LogMel> {
    let bytes = std::fs::read(path).ok()?;
    let (head, body) = bytes.split_at_checked(8)?;
    let bands = u32::from_le_bytes(head[..4].try_into().ok()?) as usize;
    let frames = u32::from_le_bytes(head[4..].try_into().ok()?) as usize;
    if body.len() != bands * frames * 4 {
        return None;
    }
    let data = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    LogMel::from_parts(bands, frames, data)
}

fn write_mel(path: &Path, mel: &LogMel) {
    let mut out = Vec::with_capacity(8 + mel.data().len() * 4);
    out.extend_from_slice(&(mel.n_mels() as u32).to_le_bytes());
    out.extend_from_slice(&(mel.frames() as u32).to_le_bytes());
    for x in mel.data() {
        out.extend_from_slice(&x.to_le_bytes());
    }
    // A cache is best effort: write beside, then rename, so readers never see half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::create_dir_all(path.parent().unwrap()).is_ok() && std::fs::write(&tmp, out).is_ok()
    {
        let _ = std::fs::rename(&tmp, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_even_with_underscores_in_the_song_id() {
        assert_eq!(
            parse_name("Q3_a_b_c_12.mid"),
            Some((Quadrant::Q3, "a_b_c".into()))
        );
        assert_eq!(
            parse_name("Q1_0vLPYiPN7qY_0.mid"),
            Some((Quadrant::Q1, "0vLPYiPN7qY".into()))
        );
        assert_eq!(parse_name("Q5_x_1.mid"), None);
        assert_eq!(parse_name("Q1_x_one.mid"), None);
        assert_eq!(parse_name("song.mid"), None);
    }

    #[test]
    fn the_real_split_holds_out_about_a_fifth_of_the_songs() {
        let clips = list_clips(&crate::emotion::tests_data_dir()).unwrap();
        assert!(clips.len() > 800, "{}", clips.len());
        let mut songs: Vec<&str> = clips.iter().map(|c| c.song.as_str()).collect();
        songs.sort();
        songs.dedup();
        let test = songs.iter().filter(|s| part_of(s) == Part::Test).count() as f64;
        let share = test / songs.len() as f64;
        assert!((0.13..0.27).contains(&share), "test share {share}");
    }
}
