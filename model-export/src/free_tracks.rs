//! `model-export free-tracks`: turns freely licensed music files into the site's free shelf
//! (`public/free/`). Each file is decoded by the engine, its middle 30 s (the emotion model's own
//! excerpt) is written as mono Ogg Vorbis with `oggenc` (fixed stream serial, so reruns give the
//! same bytes), and the emotion CNN reads the *shipped* excerpt, decoded again, so anyone can
//! check each number against the file (a test does).

use anyhow::{bail, ensure, Context, Result};
use attune_engine::audio::decode::{decode, MAX_DECODE_SECONDS};
use attune_engine::audio::excerpt;
use attune_engine::free_tracks::{FreeShelf, FreeTrack, INDEX_FILE};
use attune_engine::models::emotion::{EmotionModel, EXCERPT_SECONDS};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the credits go, under `public/`.
pub const CREDITS_FILE: &str = "free/CREDITS.md";

/// One folder of music and under which terms it is shared.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The folder (searched recursively, files in path order).
    pub dir: PathBuf,
    /// Composer or performer of every file.
    pub artist: String,
    /// Licence of every file.
    pub licence: String,
    /// Where the works come from.
    pub origin: String,
    /// Titles are `<prefix> <n>` (1-based, path order) when the file names are not titles.
    pub title_prefix: Option<String>,
}

impl std::str::FromStr for Source {
    type Err = String;
    /// `dir|artist|licence|origin[|title prefix]`.
    fn from_str(s: &str) -> Result<Source, String> {
        let p: Vec<&str> = s.split('|').map(str::trim).collect();
        if p.len() < 4 || p.len() > 5 || p[..4].iter().any(|x| x.is_empty()) {
            return Err(format!(
                "expected dir|artist|licence|origin[|title prefix], got {s:?}"
            ));
        }
        Ok(Source {
            dir: PathBuf::from(p[0]),
            artist: p[1].into(),
            licence: p[2].into(),
            origin: p[3].into(),
            title_prefix: p.get(4).map(|x| x.to_string()),
        })
    }
}

/// A file name made of lowercase letters, digits and dashes.
pub fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

fn wav_mono16(samples: &[f32], rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend(b"RIFF");
    w.extend((36 + data_len).to_le_bytes());
    w.extend(b"WAVEfmt ");
    w.extend(16u32.to_le_bytes());
    w.extend(1u16.to_le_bytes()); // PCM
    w.extend(1u16.to_le_bytes()); // mono
    w.extend(rate.to_le_bytes());
    w.extend((rate * 2).to_le_bytes());
    w.extend(2u16.to_le_bytes());
    w.extend(16u16.to_le_bytes());
    w.extend(b"data");
    w.extend(data_len.to_le_bytes());
    for &x in samples {
        w.extend(((x.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    w
}

fn music_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                ["ogg", "mp3", "flac", "wav"].contains(&x.to_ascii_lowercase().as_str())
            }) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The CNN's reading of one shipped excerpt (decoded from its bytes, as the browser would).
pub fn analyse_excerpt(model: &EmotionModel, bytes: &[u8]) -> Result<FreeTrackEmotion> {
    let d = decode(bytes.to_vec(), Some("ogg"), MAX_DECODE_SECONDS)?;
    let p = model.predict_samples(&d.samples, d.sample_rate)?;
    Ok(FreeTrackEmotion {
        valence: p.valence,
        arousal: p.arousal,
        probabilities: p.probabilities,
        seconds: d.seconds(),
    })
}

/// What [`analyse_excerpt`] finds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreeTrackEmotion {
    /// Valence.
    pub valence: f32,
    /// Arousal.
    pub arousal: f32,
    /// Quadrant probabilities.
    pub probabilities: [f32; 4],
    /// Seconds decoded.
    pub seconds: f32,
}

/// Builds `<out>/free/`: one excerpt per music file of each source, the index and the credits.
pub fn build(sources: &[Source], model: &Path, out: &Path) -> Result<FreeShelf> {
    let model = EmotionModel::from_bytes(
        &std::fs::read(model).with_context(|| format!("reading {}", model.display()))?,
    )?;
    let dir = out.join("free");
    std::fs::create_dir_all(&dir)?;
    let mut tracks = Vec::new();
    for source in sources {
        let files = music_files(&source.dir)?;
        ensure!(
            !files.is_empty(),
            "no music files under {}",
            source.dir.display()
        );
        for (n, f) in files.iter().enumerate() {
            tracks.push(one_track(&model, source, n, f, out)?);
        }
    }
    let shelf = FreeShelf { tracks };
    let json = serde_json::to_string_pretty(&shelf)? + "\n";
    FreeShelf::parse(&json)?;
    std::fs::write(out.join(INDEX_FILE), json)?;
    let mut credits = String::from("# Free tracks\n\n30-second mono excerpts (the middle of each work), shared under each work's own licence.\n\n| title | by | licence | source | file | valence | arousal |\n|---|---|---|---|---|---|---|\n");
    for t in &shelf.tracks {
        credits.push_str(&format!(
            "| {} | {} | {} | {} | `{}` | {:+.2} | {:+.2} |\n",
            t.title, t.artist, t.licence, t.source, t.file, t.valence, t.arousal
        ));
    }
    std::fs::write(out.join(CREDITS_FILE), credits)?;
    Ok(shelf)
}

fn one_track(
    model: &EmotionModel,
    source: &Source,
    n: usize,
    f: &Path,
    out: &Path,
) -> Result<FreeTrack> {
    {
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .context("file name")?;
        let title = match &source.title_prefix {
            Some(p) => format!("{p} {}", n + 1),
            None => stem.to_string(),
        };
        let ext = f
            .extension()
            .and_then(|x| x.to_str())
            .map(str::to_ascii_lowercase);
        let d = decode(std::fs::read(f)?, ext.as_deref(), MAX_DECODE_SECONDS)
            .with_context(|| format!("decoding {}", f.display()))?;
        let cut = excerpt(&d.samples, d.sample_rate, EXCERPT_SECONDS);
        let wav = std::env::temp_dir().join(format!("attune-free-{}.wav", std::process::id()));
        std::fs::write(&wav, wav_mono16(cut, d.sample_rate))?;
        let name = format!("free/{}.ogg", slug(&title));
        let status = Command::new("oggenc")
            .args(["-Q", "-q", "0", "-s", "1", "--discard-comments"])
            .arg("-t")
            .arg(&title)
            .arg("-a")
            .arg(&source.artist)
            .arg("-c")
            .arg(format!("LICENSE={}", source.licence))
            .arg("-o")
            .arg(out.join(&name))
            .arg(&wav)
            .status()
            .context("running oggenc (scripts/setup.sh installs vorbis-tools)")?;
        let _ = std::fs::remove_file(&wav);
        if !status.success() {
            bail!("oggenc failed on {}", f.display());
        }
        let e = analyse_excerpt(model, &std::fs::read(out.join(&name))?)?;
        eprintln!(
            "  {title}: valence {:+.2} arousal {:+.2} ({:.1} s)",
            e.valence, e.arousal, e.seconds
        );
        Ok(FreeTrack {
            title,
            artist: source.artist.clone(),
            file: name,
            licence: source.licence.clone(),
            source: source.origin.clone(),
            seconds: e.seconds,
            valence: e.valence,
            arousal: e.arousal,
            probabilities: e.probabilities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain() {
        assert_eq!(slug("Advanced Simulacra"), "advanced-simulacra");
        assert_eq!(slug("By-Product"), "by-product");
        assert_eq!(slug("  Chimes, They Fade!"), "chimes-they-fade");
    }

    /// The shipped index says what the CNN hears in each shipped excerpt (decoded again here,
    /// natively, by the same engine code the browser runs).
    #[test]
    fn shipped_free_tracks_carry_the_cnn_reading_of_their_own_excerpt() {
        let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
        let shelf =
            FreeShelf::parse(&std::fs::read_to_string(public.join(INDEX_FILE)).unwrap()).unwrap();
        assert!(shelf.tracks.len() >= 8, "{} tracks", shelf.tracks.len());
        let model =
            EmotionModel::from_bytes(&std::fs::read(public.join("models/emotion.onnx")).unwrap())
                .unwrap();
        for t in &shelf.tracks {
            let e = analyse_excerpt(&model, &std::fs::read(public.join(&t.file)).unwrap()).unwrap();
            assert!((e.valence - t.valence).abs() < 1e-4, "{}: valence", t.title);
            assert!((e.arousal - t.arousal).abs() < 1e-4, "{}: arousal", t.title);
            assert!((e.seconds - t.seconds).abs() < 0.05, "{}: seconds", t.title);
            assert!(
                e.seconds > 25.0 && e.seconds <= 30.5,
                "{}: {} s",
                t.title,
                e.seconds
            );
        }
    }
}
